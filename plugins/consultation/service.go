package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

type service struct {
	now func() time.Time // nil: the real clock; tests set it
}

var _ sdk.Service = (*service)(nil)

type join struct {
	Mode  string `json:"mode"`
	Topic string `json:"topic"`
}

type config struct {
	Modes  []string `json:"modes"`
	Days   []string `json:"days"`
	Opens  string   `json:"opens"`
	Closes string   `json:"closes"`
}

// queued is the status of a dossier waiting for an operator; the host's
// queue takes it from there.
const queued = "queued"

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // time.Weekday order

var msg = sdk.Messages{
	"mode.video": {"it": "video", "de": "Video", "en": "video"},
	"mode.voice": {"it": "voce", "de": "Sprache", "en": "voice"},
	"mode.chat":  {"it": "chat", "de": "Chat", "en": "chat"},
	"day.mon":    {"it": "lunedì", "de": "Montag", "en": "Monday"},
	"day.tue":    {"it": "martedì", "de": "Dienstag", "en": "Tuesday"},
	"day.wed":    {"it": "mercoledì", "de": "Mittwoch", "en": "Wednesday"},
	"day.thu":    {"it": "giovedì", "de": "Donnerstag", "en": "Thursday"},
	"day.fri":    {"it": "venerdì", "de": "Freitag", "en": "Friday"},
	"day.sat":    {"it": "sabato", "de": "Samstag", "en": "Saturday"},
	"day.sun":    {"it": "domenica", "de": "Sonntag", "en": "Sunday"},
	"and":        {"it": "e", "de": "und", "en": "and"},
	"mode_not_offered": {
		"it": "Il Comune offre lo sportello online solo in questi modi: %s.",
		"de": "Die Gemeinde bietet den Online-Schalter nur so an: %s.",
		"en": "The town offers the online front desk only this way: %s.",
	},
	"closed": {
		"it": "Lo sportello online è chiuso. È aperto %s dalle %s alle %s.",
		"de": "Der Online-Schalter ist geschlossen. Er ist geöffnet am %s von %s bis %s Uhr.",
		"en": "The online front desk is closed. It is open on %s from %s to %s.",
	},
	"citizens_only": {
		"it": "Per entrare in coda accedi con SPID o CIE.",
		"de": "Melden Sie sich mit SPID oder CIE an, um sich anzustellen.",
		"en": "Log in with SPID or CIE to join the queue.",
	},
	"already": {
		"it": "Sei già in coda (pratica n. %s): resta su questa pagina, ti chiamiamo appena un operatore è libero.",
		"de": "Sie warten bereits (Vorgang Nr. %s): Bleiben Sie auf dieser Seite, wir melden uns, sobald jemand frei ist.",
		"en": "You are already in the queue (case no. %s): stay on this page, we will call you as soon as someone is free.",
	},
	"title": {
		"it": "Sportello online (%s): %s",
		"de": "Online-Schalter (%s): %s",
		"en": "Online front desk (%s): %s",
	},
	"done": {
		"it": "Sei in coda, pratica n. %s. Resta su questa pagina: quando tocca a te la conversazione si apre qui.",
		"de": "Sie stehen in der Warteschlange, Vorgang Nr. %s. Bleiben Sie auf dieser Seite: Wenn Sie an der Reihe sind, öffnet sich hier das Gespräch.",
		"en": "You are in the queue, case no. %s. Stay on this page: when it is your turn, the conversation opens here.",
	},
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	if req.Action != "join" {
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	var j join
	if err := req.Decode(&j); err != nil {
		return nil, err
	}
	cfg := config{Modes: []string{"video", "voice", "chat"}, Days: []string{"mon", "tue", "wed", "thu", "fri"},
		Opens: "09:00", Closes: "12:30"}
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	lang := req.Lang
	if req.Actor.Kind != "citizen" {
		return sdk.Refused(msg.Get(lang, "citizens_only")), nil
	}
	if !slices.Contains(cfg.Modes, j.Mode) {
		return sdk.Invalid("/mode", msg.Get(lang, "mode_not_offered", list(lang, "mode.", cfg.Modes))), nil
	}
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	t := now().In(sdk.Zone)
	// "HH:MM" strings compare in clock order; the schema's format has made
	// sure of the shape, seconds or not.
	hhmm := t.Format("15:04")
	if !slices.Contains(cfg.Days, weekdays[t.Weekday()]) || hhmm < cfg.Opens[:5] || hhmm >= cfg.Closes[:5] {
		return sdk.Refused(msg.Get(lang, "closed", list(lang, "day.", ordered(cfg.Days)), cfg.Opens[:5], cfg.Closes[:5])), nil
	}

	// A citizen waits in one queue at a time. A dossier still queued from
	// an earlier day is one nobody closed, not a wait in progress.
	mine, err := req.Host.ListDossiers(ctx, sdk.DossierQuery{Status: queued, Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("list queued dossiers: %w", err)
	}
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, sdk.Zone).Unix()
	for _, d := range mine {
		if d.GetCreatedUnix() >= today {
			return sdk.Refused(msg.Get(lang, "already", d.GetNumber())), nil
		}
	}

	topic := strings.TrimSpace(j.Topic)
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{
		Title:   msg.Get(lang, "title", msg.Get(lang, "mode."+j.Mode), topic),
		Status:  queued,
		Channel: "consultation",
		Data:    map[string]any{"mode": j.Mode, "topic": topic, "lang": lang},
	})
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	if err := req.Host.Audit(ctx, "consultation.join", "dossier:"+d.GetNumber(), map[string]any{"mode": j.Mode}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: msg.Get(lang, "done", d.GetNumber()),
		DossierID: d.GetId(), DossierNumber: d.GetNumber(), Data: map[string]any{"mode": j.Mode}}, nil
}

// ordered puts days in the week's order, Monday first, however the
// configuration lists them.
func ordered(days []string) []string {
	var out []string
	for _, d := range slices.Concat(weekdays[1:], weekdays[:1]) {
		if slices.Contains(days, d) {
			out = append(out, d)
		}
	}
	return out
}

// list joins the names of keys as a sentence does: "video e chat".
func list(lang, prefix string, keys []string) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = msg.Get(lang, prefix+k)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + msg.Get(lang, "and") + " " + names[len(names)-1]
}
