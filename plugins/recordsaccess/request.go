package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sportello/sportello/plugins/sdk"
)

// application is the request form.
type application struct {
	Type             string `json:"type"`
	Subject          string `json:"subject"`
	Records          string `json:"records"`
	Office           string `json:"office"`
	Motivation       string `json:"motivation"`
	IdentityDocument string `json:"identity_document"`
	Delivery         string `json:"delivery"`
	Email            string `json:"email"`
}

// What the identity document may be, as the form's file field says; the
// host checks it before the plugin sees the file, and the plugin again,
// because it is what the law asks for.
var identityTypes = []string{"application/pdf", "image/jpeg", "image/png"}

const identityMaxBytes = 5 << 20

func (s *service) request(ctx context.Context, req *sdk.Request, cfg config) (*sdk.Response, error) {
	lang := req.Lang
	var a application
	if err := req.Decode(&a); err != nil {
		return nil, fmt.Errorf("decode request: %w", err)
	}
	if req.Actor.Kind != "citizen" {
		return sdk.Refused(msg.Get(lang, "citizens_only")), nil
	}
	offices, err := parseOffices(cfg.Offices)
	if err != nil || len(offices) == 0 {
		slog.Error("recordsaccess: the town's offices do not parse", "tenant", req.TenantSlug,
			"request_id", req.RequestID, "err", err)
		return sdk.Refused(msg.Get(lang, "not_configured")), nil
	}
	k, ok := kinds[a.Type]
	if !ok { // the form's enum lets only the three through
		return sdk.Invalid("/type", msg.Get(lang, "which_type")), nil
	}

	// Every problem at once, each beside its field.
	var errs []sdk.FieldError
	holder, found := findOffice(offices, a.Office)
	if strings.TrimSpace(a.Office) != "" && !found {
		names := make([]string, len(offices))
		for i, o := range offices {
			names[i] = o.Name
		}
		errs = append(errs, sdk.FieldError{Field: "/office", Message: msg.Get(lang, "which_office", strings.Join(names, "; "))})
	}
	if k.motivation && strings.TrimSpace(a.Motivation) == "" {
		errs = append(errs, sdk.FieldError{Field: "/motivation", Message: msg.Get(lang, "need.motivation")})
	}
	var identity *sdk.File
	if k.identity {
		var m string
		identity, m = identityFile(req, a.IdentityDocument)
		if m != "" {
			errs = append(errs, sdk.FieldError{Field: "/identity_document", Message: m})
		}
	}
	if len(errs) > 0 {
		return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}, nil
	}

	// The office that holds the records handles the request; the law sends
	// civic access to the transparency officer (D.Lgs. 33/2013 art. 5 c. 3
	// d); a request that names no office goes to the one that assigns them.
	assigned := cfg.DefaultOffice
	if assigned == "" {
		assigned = offices[0].Slug
	}
	if found {
		assigned = holder.Slug
	}
	if a.Type == "civic" && cfg.TransparencyOffice != "" {
		assigned = cfg.TransparencyOffice
	}
	now := s.clock()
	due := deadline(now, k)
	rd := requestData{Type: a.Type, Subject: strings.TrimSpace(a.Subject), Records: strings.TrimSpace(a.Records),
		Holder: holder.Slug, Office: assigned, OfficeName: officeName(offices, assigned), Delivery: a.Delivery,
		Email: a.Email, Applicant: req.Actor.Name, Due: due.Unix(), Lang: lang}
	nd := sdk.NewDossier{Title: msg.Get(lang, "title", msg.Get(lang, "kind."+a.Type), rd.Subject), Office: assigned, Due: due}
	// Reasons are kept when given, even where the law asks for none: they
	// can help the office weigh the interests at stake. An identity
	// document is kept only where the law asks for one.
	rd.Motivation = strings.TrimSpace(a.Motivation)
	if identity != nil {
		rd.IdentityID = identity.AttachmentID
		nd.AttachmentIDs = []int64{identity.AttachmentID}
	}
	nd.Data = rd
	d, err := req.Host.CreateDossier(ctx, nd)
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	if err := req.Host.Audit(ctx, "recordsaccess.request", "dossier:"+d.GetNumber(),
		map[string]any{"type": a.Type, "office": assigned}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	done := msg.Get(lang, "done", msg.Get(lang, "kind."+a.Type), d.GetNumber(), on(lang, now), rd.OfficeName, on(lang, due))
	// The request is on record whatever happens to the e-mails, and the
	// page already shows the confirmation.
	_, err = req.Host.Notify(ctx, sdk.Notification{Channel: "email", To: a.Email,
		Subject: msg.Get(lang, "mail_subject", d.GetNumber()), Body: done})
	logNotified(req, err)
	if cfg.OfficeEmail != "" {
		// The office's notice carries no applicant's data: it is an e-mail
		// box, possibly shared; the dossier has the rest.
		_, err = req.Host.Notify(ctx, sdk.Notification{Channel: "email", To: cfg.OfficeEmail,
			Subject: msg.Get(lang, "office_subject", d.GetNumber()),
			Body: msg.Get(lang, "office_body", msg.Get(lang, "kind."+a.Type), d.GetNumber(), rd.Subject, rd.OfficeName,
				sdk.Date(lang, due))})
		logNotified(req, err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
}

// identityFile is the identity document uploaded with the request, or the
// reason, for the applicant, why there is none fit to keep.
func identityFile(req *sdk.Request, value string) (*sdk.File, string) {
	lang := req.Lang
	if strings.TrimSpace(value) == "" {
		return nil, msg.Get(lang, "need.identity")
	}
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return nil, msg.Get(lang, "identity.again")
	}
	for i := range req.Files {
		f := &req.Files[i]
		if f.Field != "/identity_document" || f.AttachmentID != id {
			continue
		}
		if !acceptable(f.ContentType) {
			return nil, msg.Get(lang, "identity.type")
		}
		if f.Size > identityMaxBytes {
			return nil, msg.Get(lang, "identity.size", identityMaxBytes>>20)
		}
		return f, ""
	}
	// An id with no file of this request behind it: never keep it, it
	// could name someone else's attachment.
	return nil, msg.Get(lang, "identity.again")
}

func acceptable(contentType string) bool {
	t, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	for _, a := range identityTypes {
		if strings.TrimSpace(t) == a {
			return true
		}
	}
	return false
}
