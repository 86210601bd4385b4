package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

type service struct {
	now func() time.Time // nil: the real clock; tests set it
}

var _ sdk.Service = (*service)(nil)

type booking struct {
	Room         string `json:"room"`
	Date         string `json:"date"`
	Start        string `json:"start"`
	End          string `json:"end"`
	Attendees    int    `json:"attendees"`
	Purpose      string `json:"purpose"`
	Organisation string `json:"organisation"`
}

type config struct {
	Rooms      string `json:"rooms"` // "name; capacity; hourly rate" per line
	Opens      string `json:"opens"`
	Closes     string `json:"closes"`
	NoticeDays int    `json:"notice_days"`
	MaxHours   int    `json:"max_hours"`
	PayMinutes int    `json:"pay_minutes"`
	Currency   string `json:"currency"`
}

type room struct {
	Name       string
	Capacity   int
	RateCents  int64 // per hour
	resourceID string
}

var msg = sdk.Messages{
	"not_configured": {
		"it": "Il Comune non ha ancora messo online le sue sale. Rivolgiti all'ufficio che le gestisce.",
		"de": "Die Gemeinde hat ihre Räume noch nicht online gestellt. Wenden Sie sich an das zuständige Amt.",
		"en": "The town has not put its rooms online yet. Please contact the office that manages them.",
	},
	"which_room": {
		"it": "Scegli una delle sale del Comune: %s.",
		"de": "Wählen Sie einen Raum der Gemeinde: %s.",
		"en": "Choose one of the town's rooms: %s.",
	},
	"end_first": {
		"it": "L'ora di fine deve venire dopo l'ora di inizio.",
		"de": "Das Ende muss nach dem Beginn liegen.",
		"en": "The end must come after the start.",
	},
	"too_long": {
		"it": "Puoi prenotare una sala per al massimo %d ore di seguito.",
		"de": "Ein Raum kann höchstens %d Stunden am Stück reserviert werden.",
		"en": "You can book a room for at most %d hours in a row.",
	},
	"hours": {
		"it": "Le sale sono aperte dalle %s alle %s.",
		"de": "Die Räume sind von %s bis %s Uhr geöffnet.",
		"en": "Rooms are open from %s to %s.",
	},
	"notice": {
		"it": "Prenota almeno %d giorni prima: il primo giorno possibile è il %s.",
		"de": "Reservieren Sie mindestens %d Tage im Voraus: Der früheste mögliche Tag ist der %s.",
		"en": "Book at least %d days ahead: the first day you can book is %s.",
	},
	"past": {
		"it": "Questo orario è già passato.",
		"de": "Dieser Zeitpunkt liegt in der Vergangenheit.",
		"en": "This time has already passed.",
	},
	"too_far": {
		"it": "Puoi prenotare al massimo un anno prima.",
		"de": "Sie können höchstens ein Jahr im Voraus reservieren.",
		"en": "You can book at most one year ahead.",
	},
	"capacity": {
		"it": "La sala «%s» accoglie al massimo %d persone.",
		"de": "Der Raum «%s» fasst höchstens %d Personen.",
		"en": "The room “%s” holds at most %d people.",
	},
	"taken": {
		"it": "In questo orario la sala è già occupata: scegli un altro orario o un'altra sala.",
		"de": "Der Raum ist zu dieser Zeit schon belegt: Wählen Sie eine andere Zeit oder einen anderen Raum.",
		"en": "The room is already taken at that time: choose another time or another room.",
	},
	"title": {
		"it": "Prenotazione %s, %s %s–%s",
		"de": "Reservation %s, %s %s–%s",
		"en": "Booking of %s, %s %s–%s",
	},
	"reason": {
		"it": "Uso sala %s il %s, pratica %s",
		"de": "Raumbenutzung %s am %s, Vorgang %s",
		"en": "Use of %s on %s, case %s",
	},
	"booked": {
		"it": "La sala «%s» è prenotata per te il %s dalle %s alle %s. Codice di prenotazione %s, pratica n. %s.",
		"de": "Der Raum «%s» ist für Sie reserviert am %s von %s bis %s Uhr. Reservationscode %s, Vorgang Nr. %s.",
		"en": "The room “%s” is booked for you on %s from %s to %s. Booking code %s, case no. %s.",
	},
	"pay": {
		"it": "Per confermarla paga %s entro %d minuti con l'avviso pagoPA n. %s: dopo, la sala torna libera.",
		"de": "Zur Bestätigung bezahlen Sie %s innerhalb von %d Minuten mit der pagoPA-Zahlungsaufforderung Nr. %s; danach wird der Raum wieder frei.",
		"en": "To confirm it, pay %s within %d minutes with pagoPA payment notice no. %s; after that the room is free again.",
	},
	"free": {
		"it": "La sala è gratuita: non devi pagare nulla.",
		"de": "Der Raum ist kostenlos: Sie müssen nichts bezahlen.",
		"en": "The room is free of charge: there is nothing to pay.",
	},
	"mail_subject": {
		"it": "Prenotazione sala, pratica n. %s",
		"de": "Raumreservation, Vorgang Nr. %s",
		"en": "Room booking, case no. %s",
	},
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	if req.Action != "book" {
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	var b booking
	if err := req.Decode(&b); err != nil {
		return nil, err
	}
	cfg := config{Opens: "08:00", Closes: "23:00", NoticeDays: 2, MaxHours: 8, PayMinutes: 30, Currency: "EUR"}
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	lang := req.Lang
	now := time.Now
	if s.now != nil {
		now = s.now
	}

	rooms, err := parseRooms(cfg.Rooms)
	if err != nil {
		return nil, fmt.Errorf("rooms: %w", err)
	}
	if len(rooms) == 0 {
		return sdk.Refused(msg.Get(lang, "not_configured")), nil
	}
	r, ok := findRoom(rooms, b.Room)
	if !ok {
		names := make([]string, len(rooms))
		for i, r := range rooms {
			names[i] = r.Name
		}
		return sdk.Invalid("/room", msg.Get(lang, "which_room", strings.Join(names, "; "))), nil
	}

	// Dates and times are the town's wall clock, as the citizen typed them.
	day, err := time.ParseInLocation(time.DateOnly, b.Date, sdk.Zone)
	if err != nil {
		return nil, fmt.Errorf("date %q: %w", b.Date, err)
	}
	start, err1 := clock(day, b.Start)
	end, err2 := clock(day, b.End)
	opens, err3 := clock(day, cfg.Opens)
	closes, err4 := clock(day, cfg.Closes)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	today := midnight(now())
	first := today.AddDate(0, 0, cfg.NoticeDays)
	switch {
	case !end.After(start):
		return sdk.Invalid("/end", msg.Get(lang, "end_first")), nil
	case end.Sub(start) > time.Duration(cfg.MaxHours)*time.Hour:
		return sdk.Invalid("/end", msg.Get(lang, "too_long", cfg.MaxHours)), nil
	case start.Before(opens) || end.After(closes):
		return sdk.Invalid("/start", msg.Get(lang, "hours", cfg.Opens, cfg.Closes)), nil
	case !start.After(now()):
		return sdk.Invalid("/start", msg.Get(lang, "past")), nil
	case day.Before(first):
		return sdk.Invalid("/date", msg.Get(lang, "notice", cfg.NoticeDays, sdk.Date(lang, first))), nil
	case day.After(today.AddDate(1, 0, -1)):
		return sdk.Invalid("/date", msg.Get(lang, "too_far")), nil
	case b.Attendees > r.Capacity:
		return sdk.Invalid("/attendees", msg.Get(lang, "capacity", r.Name, r.Capacity)), nil
	}

	// A paid room is held while the citizen pays, then released by the
	// host if they do not; a free one is booked outright, and the office
	// may still cancel it. The slot is taken before anything else is
	// written, so that a room already taken leaves nothing behind.
	fee := int64(math.Round(float64(r.RateCents) * end.Sub(start).Hours()))
	hold := 0
	if fee > 0 {
		hold = cfg.PayMinutes
	}
	res, err := req.Host.Reserve(ctx, sdk.NewReservation{Resource: r.resourceID, Start: start, End: end, HoldMinutes: hold})
	if errors.Is(err, sdk.ErrConflict) {
		return sdk.Invalid("/start", msg.Get(lang, "taken")), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reserve %s: %w", r.resourceID, err)
	}
	status := "submitted"
	if fee > 0 {
		status = "awaiting_payment"
	}
	from, to := start.Format("15:04"), end.Format("15:04")
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{
		Title:  msg.Get(lang, "title", r.Name, sdk.Date(lang, day), from, to),
		Status: status,
		Data: map[string]any{"room": r.Name, "date": b.Date, "start": from, "end": to, "attendees": b.Attendees,
			"purpose": strings.TrimSpace(b.Purpose), "organisation": strings.TrimSpace(b.Organisation),
			"reservation_id": res.GetId(), "reservation_code": res.GetCode(), "fee_cents": fee, "currency": cfg.Currency},
	})
	if err != nil {
		s.release(ctx, req, res.GetId())
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	booked := msg.Get(lang, "booked", r.Name, sdk.Date(lang, day), from, to, res.GetCode(), d.GetNumber())
	text := booked + " " + msg.Get(lang, "free")
	if fee > 0 {
		p, err := req.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: fee, Currency: cfg.Currency, DossierID: d.GetId(),
			Reason: msg.Get(lang, "reason", r.Name, b.Date, d.GetNumber())})
		if err != nil {
			s.release(ctx, req, res.GetId())
			return nil, fmt.Errorf("create payment for %s: %w", d.GetNumber(), err)
		}
		text = booked + " " + msg.Get(lang, "pay", sdk.Money(lang, fee, cfg.Currency), hold, p.GetNoticeCode())
	}
	if err := req.Host.Audit(ctx, "roombooking.book", "dossier:"+d.GetNumber(),
		map[string]any{"room": r.Name, "reservation": res.GetCode(), "fee_cents": fee}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if _, err := req.Host.Notify(ctx, sdk.Notification{Channel: "email", Subject: msg.Get(lang, "mail_subject", d.GetNumber()),
		Body: text}); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: text, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Data: map[string]any{"reservation_code": res.GetCode(), "fee_cents": fee}}, nil
}

// release gives a slot back when the booking could not be completed, so
// that a failure does not block the room until someone notices.
func (s *service) release(ctx context.Context, req *sdk.Request, id int64) {
	if _, err := req.Host.CancelReservation(ctx, id); err != nil {
		slog.Error("reservation not released", "request_id", req.RequestID, "reservation", id, "err", err)
	}
}

// parseRooms reads the configuration's room list: "name; capacity; rate".
func parseRooms(s string) ([]room, error) {
	var out []room
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, ";")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%q: want name; capacity; hourly rate", line)
		}
		name := strings.TrimSpace(parts[0])
		capacity, err1 := strconv.Atoi(strings.TrimSpace(parts[1]))
		rate, err2 := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(parts[2]), ",", "."), 64)
		if name == "" || err1 != nil || err2 != nil || capacity < 1 || rate < 0 {
			return nil, fmt.Errorf("%q: want name; capacity; hourly rate", line)
		}
		out = append(out, room{Name: name, Capacity: capacity, RateCents: int64(math.Round(rate * 100)),
			resourceID: resourceID(name)})
	}
	return out, nil
}

func findRoom(rooms []room, typed string) (room, bool) {
	for _, r := range rooms {
		if strings.EqualFold(r.Name, strings.TrimSpace(typed)) {
			return r, true
		}
	}
	return room{}, false
}

// resourceID names a room for the host's calendar. It follows the room's
// name, so renaming a room in the configuration starts a new calendar:
// bookings made under the old name no longer block the new one.
func resourceID(name string) string {
	var b strings.Builder
	b.WriteString("room:")
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.TrimRight(b.String(), "-")
	if len(id) > 128 {
		id = id[:128]
	}
	return id
}

// clock is the moment hh:mm[:ss] of day, in the town. A time with an
// offset (the form's format allows one) counts by its wall clock too: the
// room opens at 18:00 in the town whatever zone a client wrote.
func clock(day time.Time, hhmm string) (time.Time, error) {
	for _, layout := range []string{"15:04", "15:04:05", "15:04:05Z07:00"} {
		if t, err := time.Parse(layout, hhmm); err == nil {
			return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), t.Second(), 0, sdk.Zone), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want hh:mm", hhmm)
}

func midnight(t time.Time) time.Time {
	t = t.In(sdk.Zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, sdk.Zone)
}
