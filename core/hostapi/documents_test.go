package hostapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pdfsign/verify"
	"github.com/go-pdf/fpdf"
	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// newDocEnv is newEnv with documents: an attachment folder and the
// tenants' signer.
func newDocEnv(t *testing.T) (*env, *dossier.Files) {
	t.Helper()
	db := pg.NewDB(t)
	files, err := dossier.NewFiles(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := hostapi.New(db.App, slog.New(slog.NewTextHandler(t.Output(), nil)),
		hostapi.WithDocuments(files, docsign.New(db.App, nil)))
	return &env{t: t, db: db, srv: srv, clients: map[string]pb.HostAPIClient{}}, files
}

func concessionPDF(t *testing.T) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFont("Helvetica", "B", 16)
	p.Cell(0, 10, p.UnicodeTranslatorFromDescriptor("")("Atto di concessione cimiteriale"))
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A plugin, for a member of staff, issues a signed document on its
// dossier: the citizen can download it, pdfsig (a reader) finds the
// signature valid over the whole file, and the audit log keeps who issued
// which bytes.
func TestIssueDocument(t *testing.T) {
	e, files := newDocEnv(t)
	tid := e.tenant("lugano")
	cit := e.citizen(tid, "anna", "anna@example.org")
	op := e.user(tid, "op@lugano.example")
	cctx, capi := e.as("cemetery", tid, citizen(cit))
	d := must(capi.CreateDossier(cctx, &pb.CreateDossierRequest{Title: "Concessione loculo, 30 anni"}))(t)
	sctx, sapi := e.as("cemetery", tid, staff(op))
	doc := concessionPDF(t)

	signed := must(sapi.IssueDocument(sctx, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "concessione-" + d.Number + ".pdf", Pdf: doc, Sign: true}))(t)
	plain := must(sapi.IssueDocument(sctx, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "promemoria.pdf", Pdf: doc}))(t)
	if signed.ContentType != "application/pdf" || signed.Name != "concessione-"+d.Number+".pdf" || signed.Size <= int64(len(doc)) ||
		plain.Size != int64(len(doc)) || len(signed.Sha256) != 64 {
		t.Fatalf("attachments %+v %+v", signed, plain)
	}

	// What the citizen downloads.
	store := dossier.New(e.db.App, files, time.Now)
	list, err := store.Attachments(context.Background(), tid, d.Id, true)
	if err != nil || len(list) != 2 {
		t.Fatalf("public attachments %+v, %v", list, err)
	}
	_, rc, err := store.OpenAttachment(context.Background(), tid, d.Id, signed.Id, true)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.HasPrefix(got, doc) {
		t.Error("the signed document does not start with the plugin's bytes")
	}
	report := pdfsig(t, got)
	for _, want := range []string{"Signature Type: ETSI.CAdES.detached", "Signature Validation: Signature is Valid.",
		"Total document signed", "Signer Certificate Common Name: lugano"} {
		if !strings.Contains(report, want) {
			t.Errorf("pdfsig report lacks %q:\n%s", want, report)
		}
	}
	opts := verify.DefaultVerifyOptions()
	opts.AllowUntrustedRoots = true
	res, err := verify.VerifyWithOptions(bytes.NewReader(got), int64(len(got)), opts)
	if err != nil || len(res.Signers) != 1 || !res.Signers[0].ValidSignature || !strings.Contains(res.Signers[0].Reason, d.Number) {
		t.Errorf("library verifier: %+v, %v; want a valid signature giving the dossier %s as reason", res, err, d.Number)
	}
	if report := pdfsig(t, doc); strings.Contains(report, "Signature #1") {
		t.Errorf("the unsigned document has a signature: %s", report)
	}

	var n int
	if err := e.db.Owner.NewRaw(`SELECT count(*) FROM audit_log WHERE tenant_id = ? AND action = 'document.issue'
		AND actor = ? AND object = ? AND details->>'signed' = 'true' AND length(details->>'certificate_sha256') = 64`,
		tid, "plugin:cemetery/staff:"+strconv.FormatInt(op, 10), "dossier:"+d.Number).Scan(context.Background(), &n); err != nil || n != 1 {
		t.Errorf("audit entries of the signed document: %d, %v", n, err)
	}
}

// What a plugin may not issue, or not there, is refused and leaves
// nothing behind.
func TestIssueDocumentRefused(t *testing.T) {
	e, _ := newDocEnv(t)
	tid := e.tenant("lugano")
	other := e.tenant("venezia")
	cit := e.citizen(tid, "anna", "anna@example.org")
	op := e.user(tid, "op@lugano.example")
	otherOp := e.user(other, "op@venezia.example")
	cctx, capi := e.as("cemetery", tid, citizen(cit))
	d := must(capi.CreateDossier(cctx, &pb.CreateDossierRequest{Title: "Concessione"}))(t)
	hctx, hapi := e.as("helpdesk", tid, staff(op))
	foreign := must(hapi.CreateDossier(hctx, &pb.CreateDossierRequest{Title: "Segnalazione"}))(t)
	doc := concessionPDF(t)

	tests := []struct {
		name  string
		actor hostapi.Actor
		tid   int64
		req   *pb.IssueDocumentRequest
		want  codes.Code
	}{
		{"for the citizen", citizen(cit), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "a.pdf", Pdf: doc, Sign: true}, codes.PermissionDenied},
		{"for a visitor", anonymous(), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "a.pdf", Pdf: doc}, codes.PermissionDenied},
		{"another service's dossier", staff(op), tid, &pb.IssueDocumentRequest{DossierId: foreign.Id, Name: "a.pdf", Pdf: doc, Sign: true}, codes.NotFound},
		{"another tenant's dossier", staff(otherOp), other, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "a.pdf", Pdf: doc, Sign: true}, codes.NotFound},
		{"no dossier", staff(op), tid, &pb.IssueDocumentRequest{Name: "a.pdf", Pdf: doc}, codes.InvalidArgument},
		{"no name", staff(op), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Pdf: doc}, codes.InvalidArgument},
		{"not named .pdf", staff(op), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "atto.exe", Pdf: doc}, codes.InvalidArgument},
		{"a path for a name", staff(op), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "../../atto.pdf", Pdf: doc}, codes.InvalidArgument},
		{"no content", staff(op), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "a.pdf"}, codes.InvalidArgument},
		{"not a PDF", staff(op), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "a.pdf", Pdf: []byte("<html></html>")}, codes.InvalidArgument},
		{"a PDF header on garbage, to sign", staff(op), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "a.pdf",
			Pdf: []byte("%PDF-1.7\nnothing here\n"), Sign: true}, codes.InvalidArgument},
		{"too large", staff(op), tid, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "a.pdf",
			Pdf: append([]byte("%PDF-1.7\n"), make([]byte, 4<<20-4<<10)...)}, codes.InvalidArgument},
	}
	before := e.rows()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, api := e.as("cemetery", tc.tid, tc.actor)
			_, err := api.IssueDocument(ctx, tc.req)
			wantCode(t, tc.name, err, tc.want)
		})
	}
	e.sameRows(before)

	// A host with no attachment folder issues nothing.
	bare := newEnv(t)
	btid := bare.tenant("lugano")
	bop := bare.user(btid, "op@lugano.example")
	ctx, api := bare.as("cemetery", btid, staff(bop))
	_, err := api.IssueDocument(ctx, &pb.IssueDocumentRequest{DossierId: 1, Name: "a.pdf", Pdf: doc})
	wantCode(t, "no documents", err, codes.Unavailable)
}

// pdfsig is poppler's verifier's report on doc.
func pdfsig(t *testing.T, doc []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdfsig")
	if err != nil {
		t.Fatal("pdfsig not found: install poppler-utils (.ci/run does)")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, "-nocert", path).CombinedOutput()
	return string(out)
}
