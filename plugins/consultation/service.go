package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/consultation/relay"
	"github.com/sportello/sportello/plugins/sdk"
)

type service struct {
	now   func() time.Time // nil: the real clock; tests set it
	relay *relay.Hub       // the calls' media
}

var _ sdk.Service = (*service)(nil)

type join struct {
	Mode        string `json:"mode"`
	Topic       string `json:"topic"`
	Appointment string `json:"appointment"`
}

type config struct {
	Modes  []string `json:"modes"`
	Days   []string `json:"days"`
	Opens  string   `json:"opens"`
	Closes string   `json:"closes"`
	// Desks are lines "code: name | operators"; the host runs their
	// queues, citizens join the first.
	Desks    string `json:"desks"`
	Currency string `json:"currency"`
}

// queued is the status of the dossier of a wait at a desk; the host's
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
	"already_live": {
		"it": "Sei già in coda o in conversazione con lo sportello online (pratica n. %s): trovi il collegamento in \"Le mie richieste\".",
		"de": "Sie warten bereits oder sind im Gespräch mit dem Online-Schalter (Vorgang Nr. %s): Den Link finden Sie unter \"Meine Anfragen\".",
		"en": "You are already waiting or talking at the online front desk (case no. %s): you find the link in \"My requests\".",
	},
	"staff_only": {
		"it": "Solo il personale del Comune può chiedere un pagamento.",
		"de": "Nur die Mitarbeitenden der Gemeinde können eine Zahlung anfordern.",
		"en": "Only the town's staff can ask for a payment.",
	},
	"payment_asked": {
		"it": "Richiesta di pagamento inviata.",
		"de": "Zahlungsaufforderung gesendet.",
		"en": "Payment request sent.",
	},
	"no_appointment": {
		"it": "Non troviamo un tuo appuntamento con questo codice.",
		"de": "Wir finden keinen Termin von Ihnen mit diesem Code.",
		"en": "We cannot find an appointment of yours with this code.",
	},
	"not_now": {
		"it": "L'appuntamento non è adesso: puoi entrare da 15 minuti prima a 30 minuti dopo l'ora prenotata.",
		"de": "Der Termin ist nicht jetzt: Sie können von 15 Minuten vorher bis 30 Minuten nach der gebuchten Zeit eintreten.",
		"en": "The appointment is not now: you can join from 15 minutes before to 30 minutes after the booked time.",
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
	switch req.Action {
	case "join":
		return s.join(ctx, req)
	case "payment":
		return s.payment(ctx, req)
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

type paymentForm struct {
	Amount float64 `json:"amount"`
	Reason string  `json:"reason"`
}

// payment asks the citizen of a call's dossier to pay (a fee the
// operator finds due while talking): the host shows them the link.
func (s *service) payment(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	if req.Actor.Kind != sdk.ActorStaff {
		return sdk.Refused(msg.Get(req.Lang, "staff_only")), nil
	}
	var f paymentForm
	if err := req.Decode(&f); err != nil {
		return nil, err
	}
	cfg := config{Currency: "EUR"}
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	p, err := req.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: int64(math.Round(f.Amount * 100)), Currency: cfg.Currency,
		Reason: strings.TrimSpace(f.Reason), DossierID: req.DossierID})
	if err != nil {
		return nil, fmt.Errorf("payment for dossier %d: %w", req.DossierID, err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: msg.Get(req.Lang, "payment_asked"),
		Data: map[string]any{"payment": p.GetId()}}, nil
}

func (s *service) join(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
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
	// Citizens join the first desk open now, by its hours or the
	// service's; operators pass them on.
	desks := sdk.ParseDesks(cfg.Desks)
	if len(desks) == 0 {
		desks = []sdk.Desk{{ID: "urp"}}
	}
	desk := ""
	for _, d := range desks {
		if d.OpenAt(t, cfg.Days, cfg.Opens, cfg.Closes) {
			desk = d.ID
			break
		}
	}
	if desk == "" {
		days, opens, closes := desks[0].Hours(cfg.Days, cfg.Opens, cfg.Closes)
		return sdk.Refused(msg.Get(lang, "closed", list(lang, "day.", ordered(days)), opens[:5], closes[:5])), nil
	}

	// A citizen waits in one queue at a time: the host refuses a second
	// wait, but by then the dossier would be open, so look first.
	mine, err := req.Host.ListDossiers(ctx, sdk.DossierQuery{Status: queued, Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("list queued dossiers: %w", err)
	}
	// One still queued from an earlier day is a wait nobody closed (the
	// host's queue ended it), not one in progress.
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, sdk.Zone).Unix()
	for _, d := range mine {
		if d.GetCreatedUnix() >= today {
			return sdk.Refused(msg.Get(lang, "already_live", d.GetNumber())), nil
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
	entry, err := req.Host.Enqueue(ctx, sdk.Enqueue{DossierID: d.GetId(), Desk: desk, Mode: j.Mode, Topic: topic,
		AppointmentCode: strings.ToUpper(j.Appointment), Lang: lang})
	switch {
	case errors.Is(err, sdk.ErrConflict):
		// The host's queue holds a wait of theirs that this service no
		// longer shows as queued; the host has closed the new dossier.
		return sdk.Refused(msg.Get(lang, "already_live", d.GetNumber())), nil
	case errors.Is(err, sdk.ErrNotFound) && j.Appointment != "":
		return sdk.Invalid("/appointment", msg.Get(lang, "no_appointment")), nil
	case errors.Is(err, sdk.ErrPrecondition) && j.Appointment != "":
		return sdk.Invalid("/appointment", msg.Get(lang, "not_now")), nil
	case err != nil:
		return nil, fmt.Errorf("enqueue dossier %s: %w", d.GetNumber(), err)
	}
	if err := req.Host.Audit(ctx, "consultation.join", "dossier:"+d.GetNumber(), map[string]any{"mode": j.Mode, "desk": desk}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: msg.Get(lang, "done", d.GetNumber()),
		DossierID: d.GetId(), DossierNumber: d.GetNumber(), Next: entry.GetUrl(),
		Data: map[string]any{"mode": j.Mode, "entry": entry.GetId(), "position": entry.GetPosition(), "url": entry.GetUrl()}}, nil
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
