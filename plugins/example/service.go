package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/sportello/sportello/plugins/sdk"
)

// service handles the actions of manifest.yaml. It holds no state: one
// process serves every town, and what must last is kept by the host.
type service struct{}

var _ sdk.Service = (*service)(nil)

// request is the form "request".
type request struct {
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// config is a town's configuration of the service.
type config struct {
	OfficeEmail      string `json:"office_email"`
	MaxMessageLength int    `json:"max_message_length"`
}

var msg = sdk.Messages{
	"blank": {
		"it": "Scrivi la tua domanda.",
		"de": "Schreiben Sie Ihre Frage.",
		"en": "Write your question.",
	},
	"too_long": {
		"it": "La domanda è troppo lunga: il Comune accetta al massimo %d caratteri.",
		"de": "Die Frage ist zu lang: Die Gemeinde nimmt höchstens %d Zeichen an.",
		"en": "Your question is too long: the town accepts at most %d characters.",
	},
	"title": {
		"it": "Richiesta di informazioni: %s",
		"de": "Auskunftsanfrage: %s",
		"en": "Information request: %s",
	},
	"done": {
		"it": "Abbiamo ricevuto la tua richiesta, pratica n. %s. Ti risponderemo per e-mail.",
		"de": "Wir haben Ihre Anfrage erhalten, Vorgang Nr. %s. Wir antworten Ihnen per E-Mail.",
		"en": "We have received your request, case no. %s. We will answer you by e-mail.",
	},
	"mail_subject": {
		"it": "Richiesta di informazioni n. %s",
		"de": "Auskunftsanfrage Nr. %s",
		"en": "Information request no. %s",
	},
	"mail_body": {
		"it": "Abbiamo ricevuto la tua richiesta n. %s sull'argomento «%s». Ti risponderemo al più presto; puoi seguirla nella tua area personale.",
		"de": "Wir haben Ihre Anfrage Nr. %s zum Thema «%s» erhalten. Wir antworten so bald wie möglich; Sie können sie in Ihrem persönlichen Bereich verfolgen.",
		"en": "We have received your request no. %s about “%s”. We will answer as soon as we can; you can follow it in your personal area.",
	},
	"office_body": {
		"it": "Nuova richiesta di informazioni n. %s (%s):\n\n%s",
		"de": "Neue Auskunftsanfrage Nr. %s (%s):\n\n%s",
		"en": "New information request no. %s (%s):\n\n%s",
	},
}

// subjects are the titles of the form's subject choices, as in the manifest.
var subjects = sdk.Messages{
	"registry": {"it": "Anagrafe e certificati", "de": "Einwohnerkontrolle und Bescheinigungen", "en": "Registry and certificates"},
	"taxes":    {"it": "Tributi", "de": "Steuern und Abgaben", "en": "Local taxes"},
	"waste":    {"it": "Rifiuti", "de": "Abfall", "en": "Waste"},
	"schools":  {"it": "Scuole e servizi educativi", "de": "Schulen und Betreuung", "en": "Schools and childcare"},
	"other":    {"it": "Altro", "de": "Anderes", "en": "Other"},
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	if req.Action != "submit" {
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	var v request
	if err := req.Decode(&v); err != nil {
		return nil, err
	}
	cfg := config{MaxMessageLength: 2000}
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, err
	}

	// The schema has checked the form; what it cannot know is each town's
	// own limit, and that a message of spaces says nothing.
	text := strings.TrimSpace(v.Message)
	if text == "" {
		return sdk.Invalid("/message", msg.Get(req.Lang, "blank")), nil
	}
	if utf8.RuneCountInString(text) > cfg.MaxMessageLength {
		return sdk.Invalid("/message", msg.Get(req.Lang, "too_long", cfg.MaxMessageLength)), nil
	}

	// Titled in the citizen's language: it is the line they find in their
	// personal area, and the office answers in that language anyway.
	subject := subjects.Get(req.Lang, v.Subject)
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{
		Title: msg.Get(req.Lang, "title", subject),
		Data:  map[string]any{"subject": v.Subject, "message": text, "lang": req.Lang},
	})
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	if err := req.Host.Audit(ctx, "example.submit", "dossier:"+d.GetNumber(), map[string]any{"subject": v.Subject}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	// The dossier exists and the page shows its number: a lost e-mail must
	// not turn into an error that makes the citizen send the request twice.
	notify := func(n sdk.Notification) {
		if _, err := req.Host.Notify(ctx, n); err != nil {
			slog.Warn("notification not queued", "request_id", req.RequestID, "dossier", d.GetNumber(), "err", err)
		}
	}
	notify(sdk.Notification{Channel: "email",
		Subject: msg.Get(req.Lang, "mail_subject", d.GetNumber()),
		Body:    msg.Get(req.Lang, "mail_body", d.GetNumber(), subject)})
	if cfg.OfficeEmail != "" {
		notify(sdk.Notification{Channel: "email", To: cfg.OfficeEmail,
			Subject: msg.Get(req.Lang, "mail_subject", d.GetNumber()),
			Body:    msg.Get(req.Lang, "office_body", d.GetNumber(), subject, text)})
	}

	return &sdk.Response{
		Outcome:       sdk.OutcomeOK,
		Message:       msg.Get(req.Lang, "done", d.GetNumber()),
		DossierID:     d.GetId(),
		DossierNumber: d.GetNumber(),
	}, nil
}
