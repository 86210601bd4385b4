package hostapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// maxDocument bounds a document a plugin issues. It arrives in one gRPC
// message, which the Host API's server takes up to 4 MiB.
const maxDocument = 4<<20 - 4<<10

// Option configures a Server beyond its database.
type Option func(*Server)

// WithDocuments lets plugins issue documents on their dossiers
// (IssueDocument): files keeps them, signer signs those the plugin asks
// to be signed. Without it, IssueDocument answers Unavailable.
func WithDocuments(files *dossier.Files, signer *docsign.Signer) Option {
	return func(s *Server) {
		if files != nil {
			s.docs = &documents{files: dossier.New(s.db, files, time.Now), signer: signer}
		}
	}
}

// documents is what IssueDocument needs: a dossier store with a file
// folder (the Server's own has none), and the tenant's signer.
type documents struct {
	files  *dossier.Store
	signer *docsign.Signer
}

func (v *view) IssueDocument(ctx context.Context, r *pb.IssueDocumentRequest) (*pb.Attachment, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.issueDocument)
}

// issueDocument attaches a PDF to one of the service's dossiers, public to
// its citizen, signed first with the tenant's certificate if asked. A
// document in the town's name is an act of its staff: a plugin issues
// one only in a staff member's request, or on an event of the host's
// (what the town's staff set the service up to do once, say, it is paid).
func (s *Server) issueDocument(ctx context.Context, c Call, r *pb.IssueDocumentRequest) (*pb.Attachment, error) {
	if s.docs == nil {
		return nil, status.Error(codes.Unavailable, "this host keeps no documents (no attachment folder configured)")
	}
	if !c.Actor.privileged() {
		return nil, denied("documents are issued on a staff member's request only")
	}
	name := strings.TrimSpace(r.GetName())
	if err := checkText("name", name, true, 255); err != nil {
		return nil, err
	}
	if !strings.EqualFold(filepath.Ext(name), ".pdf") || strings.ContainsAny(name, `/\`) {
		return nil, invalid("name %q: a file name ending in .pdf", name)
	}
	doc := r.GetPdf()
	switch {
	case len(doc) == 0:
		return nil, invalid("pdf is required")
	case len(doc) > maxDocument:
		return nil, invalid("pdf: %d bytes, at most %d", len(doc), maxDocument)
	case !bytes.HasPrefix(doc, []byte("%PDF-")):
		return nil, invalid("pdf: not a PDF document (it must start with %%PDF-)")
	}
	if r.GetSign() && s.docs.signer == nil {
		return nil, status.Error(codes.Unavailable, "this host signs no documents")
	}
	d, err := s.visible(ctx, c, r.GetDossierId())
	if err != nil {
		return nil, err
	}
	var fingerprint string
	if r.GetSign() {
		cert, err := s.docs.signer.EnsureCertificate(ctx, c.TenantID)
		if err != nil {
			return nil, fmt.Errorf("certificate of tenant %d: %w", c.TenantID, err)
		}
		fingerprint = cert.SHA256
		doc, err = s.docs.signer.Sign(ctx, c.TenantID, doc, docsign.Meta{Reason: signReason(d)})
		switch {
		case errors.Is(err, docsign.ErrNotPDF), errors.Is(err, docsign.ErrTooLarge):
			return nil, invalid("pdf: %v", err)
		case err != nil:
			return nil, fmt.Errorf("sign %q for dossier %s: %w", name, d.Number, err)
		}
	}
	a, err := s.docs.files.Attach(ctx, c.TenantID, d.ID, dossier.AnyVersion, c.dossierActor(),
		dossier.NewFile{Name: name, Content: bytes.NewReader(doc)})
	if err != nil {
		return nil, dossierErr(err)
	}
	// The audit log says who issued which bytes, and with which
	// certificate: the document may leave the town, the record stays.
	sum := sha256.Sum256(doc)
	details, _ := json.Marshal(map[string]any{"attachment_id": a.ID, "name": a.Name, "sha256": hex.EncodeToString(sum[:]),
		"signed": r.GetSign(), "certificate_sha256": fingerprint})
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO audit_log (tenant_id, actor, action, object, details) VALUES (?, ?, ?, ?, ?::jsonb)",
			c.TenantID, c.String(), "document.issue", "dossier:"+d.Number, string(details))
		return err
	})
	if err != nil {
		// The document is on the dossier, and its history says so: failing
		// now would have the plugin issue it twice.
		s.log.Error("document issued but not audited", "tenant_id", c.TenantID, "plugin", c.PluginID,
			"request_id", c.RequestID, "dossier", d.Number, "attachment_id", a.ID, "err", err)
	}
	return &pb.Attachment{Id: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size, Sha256: a.SHA256}, nil
}

// signReason is the reason a reader shows beside the signature: the
// dossier it was issued on.
func signReason(d *dossier.Dossier) string {
	reason := d.Number + " – " + d.Title
	if utf8.RuneCountInString(reason) > 200 {
		reason = string([]rune(reason)[:199]) + "…"
	}
	return reason
}
