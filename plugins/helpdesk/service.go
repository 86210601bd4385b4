package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/sportello/sportello/plugins/sdk"
)

type service struct{}

var _ sdk.Service = (*service)(nil)

type report struct {
	Kind        string `json:"kind"`
	Topic       string `json:"topic"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
	Location    struct {
		Address  string `json:"address"`
		Landmark string `json:"landmark"`
	} `json:"location"`
	Phone string `json:"phone"`
}

type config struct {
	ReplyDays    int      `json:"reply_days"`
	UrgentTopics []string `json:"urgent_topics"`
}

var msg = sdk.Messages{
	"where": {
		"it": "Indica dove si trova il problema: un indirizzo o un luogo.",
		"de": "Geben Sie an, wo sich das Problem befindet: eine Adresse oder einen Ort.",
		"en": "Say where the problem is: an address or a place.",
	},
	"title.problem":  {"it": "Segnalazione: %s", "de": "Meldung: %s", "en": "Report: %s"},
	"title.question": {"it": "Richiesta: %s", "de": "Anfrage: %s", "en": "Question: %s"},
	"done": {
		"it": "Abbiamo ricevuto la tua %s, pratica n. %s. L'ufficio ti risponde entro %d giorni; puoi seguirla nella tua area personale.",
		"de": "Wir haben Ihre %s erhalten, Vorgang Nr. %s. Das Amt antwortet innerhalb von %d Tagen; Sie können sie in Ihrem persönlichen Bereich verfolgen.",
		"en": "We have received your %s, case no. %s. The office will answer within %d days; you can follow it in your personal area.",
	},
	"kind.problem":  {"it": "segnalazione", "de": "Meldung", "en": "report"},
	"kind.question": {"it": "richiesta", "de": "Anfrage", "en": "question"},
	"mail_subject": {
		"it": "%s, pratica n. %s",
		"de": "%s, Vorgang Nr. %s",
		"en": "%s, case no. %s",
	},
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	if req.Action != "submit" {
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	var r report
	if err := req.Decode(&r); err != nil {
		return nil, err
	}
	cfg := config{ReplyDays: 30}
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	lang := req.Lang
	address := strings.TrimSpace(r.Location.Address)
	// The form keeps the place optional, since a question has none; a
	// problem without one cannot be found, let alone fixed.
	if r.Kind == "problem" && address == "" {
		return sdk.Invalid("/location/address", msg.Get(lang, "where")), nil
	}

	priority := "normal"
	if slices.Contains(cfg.UrgentTopics, r.Topic) {
		priority = "high"
	}
	data := map[string]any{"kind": r.Kind, "topic": r.Topic, "subject": strings.TrimSpace(r.Subject),
		"description": strings.TrimSpace(r.Description), "priority": priority, "lang": lang}
	if address != "" {
		data["location"] = map[string]string{"address": address, "landmark": strings.TrimSpace(r.Location.Landmark)}
	}
	if r.Phone != "" {
		data["phone"] = r.Phone
	}
	title := msg.Get(lang, "title."+r.Kind, strings.TrimSpace(r.Subject))
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{Title: title, Data: data})
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	if err := req.Host.Audit(ctx, "helpdesk.submit", "dossier:"+d.GetNumber(),
		map[string]any{"kind": r.Kind, "topic": r.Topic, "priority": priority}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	done := msg.Get(lang, "done", msg.Get(lang, "kind."+r.Kind), d.GetNumber(), cfg.ReplyDays)
	if _, err := req.Host.Notify(ctx, sdk.Notification{Channel: "email",
		Subject: msg.Get(lang, "mail_subject", title, d.GetNumber()), Body: done}); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
}
