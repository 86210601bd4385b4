package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// daysAhead is how far the next free days are looked for.
const daysAhead = 42

type roomsForm struct {
	Room string `json:"room"`
	Date string `json:"date"`
}

// rooms describes the town's rooms (capacity, equipment, hours, price,
// photos) and, for one room, its free times on a day or the next days with
// free times: what a person needs to fill in the booking forms.
func (s *service) rooms(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	var v roomsForm
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	set, refused := settingsOf(req)
	if refused != nil {
		return refused, nil
	}
	if strings.TrimSpace(v.Room) == "" {
		var parts []string
		for _, r := range set.rooms {
			parts = append(parts, describe(lang, set, r))
		}
		return &sdk.Response{Outcome: sdk.OutcomeOK, Message: strings.Join(parts, " "), Data: roomsData(set)}, nil
	}
	r := set.find(v.Room)
	if r == nil {
		names := set.roomNames(lang, false)
		if w := set.roomNames(lang, true); w != "" {
			names = strings.Trim(names+"; "+w, "; ")
		}
		return sdk.Invalid("/room", msg.Get(lang, "which_room", names)), nil
	}
	if res, err := ensureDeclared(ctx, req, set, false); res != nil || err != nil {
		return res, err
	}
	text := describe(lang, set, r)
	today := midnight(s.clock())
	if v.Date != "" {
		day, err := time.ParseInLocation(time.DateOnly, v.Date, sdk.Zone)
		if err != nil {
			return nil, fmt.Errorf("date %q: %w", v.Date, err)
		}
		slots, err := req.Host.BookingSlots(ctx, r.Slug, day)
		if res := refusal(lang, err, r, attempt{start: day, fields: fields{date: "/date", start: "/date", slots: "/date"}}); res != nil {
			return res, nil
		}
		if err != nil {
			return nil, fmt.Errorf("free slots of %s on %s: %w", r.Slug, v.Date, err)
		}
		if len(slots) > 0 {
			return &sdk.Response{Outcome: sdk.OutcomeOK, Data: roomsData(set),
				Message: text + " " + msg.Get(lang, "free_times", r.name(lang), sdk.Date(lang, day), spans(slots), r.SlotMinutes)}, nil
		}
		text += " " + msg.Get(lang, "no_free_times", r.name(lang), sdk.Date(lang, day))
		if day.After(today) {
			today = day
		}
	}
	days, err := req.Host.BookingDays(ctx, r.Slug, today, today.AddDate(0, 0, daysAhead))
	if err != nil {
		return nil, fmt.Errorf("free days of %s: %w", r.Slug, err)
	}
	if len(days) == 0 {
		text += " " + msg.Get(lang, "no_next_days")
	} else {
		var list []string
		for _, d := range days[:min(len(days), 7)] {
			list = append(list, sdk.Date(lang, d))
		}
		text += " " + msg.Get(lang, "next_days", strings.Join(list, ", "))
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: text, Data: roomsData(set)}, nil
}

// describe is one room in a sentence.
func describe(lang string, set *settings, r *room) string {
	parts := []string{msg.Get(lang, "room_line", r.name(lang), r.Slug, r.Capacity)}
	if len(r.Equipment) > 0 {
		parts = append(parts, msg.Get(lang, "equipment", strings.Join(r.Equipment, ", ")))
	}
	parts = append(parts, msg.Get(lang, "opening", strings.Join(r.HoursText, ", ")))
	if r.PriceCents > 0 {
		parts = append(parts, msg.Get(lang, "slot_price", r.SlotMinutes, sdk.Money(lang, r.PriceCents, set.currency)))
	} else {
		parts = append(parts, msg.Get(lang, "slot_free", r.SlotMinutes))
	}
	if r.Approval {
		parts = append(parts, msg.Get(lang, "needs_approval"))
	}
	if r.Wedding {
		parts = append(parts, msg.Get(lang, "for_weddings"))
	}
	if len(r.Photos) > 0 {
		parts = append(parts, msg.Get(lang, "photos", strings.Join(r.Photos, " ")))
	}
	return strings.Join(parts, "; ") + "."
}

// roomsData is the rooms as data, for a page or a client that draws them.
func roomsData(set *settings) map[string]any {
	var list []map[string]any
	for _, r := range set.rooms {
		list = append(list, map[string]any{"slug": r.Slug, "name": r.Names, "capacity": r.Capacity, "equipment": r.Equipment,
			"photos": r.Photos, "hours": r.HoursText, "slot_minutes": r.SlotMinutes, "price_cents": r.PriceCents,
			"currency": set.currency, "approval": r.Approval, "wedding": r.Wedding})
	}
	return map[string]any{"rooms": list}
}

// spans merges consecutive free slots: "09:00–12:00, 18:00–23:00".
func spans(slots []*pb.BookingSlot) string {
	var out []string
	from, to := int64(-1), int64(-1)
	flush := func() {
		if from >= 0 {
			out = append(out, time.Unix(from, 0).In(sdk.Zone).Format("15:04")+"–"+time.Unix(to, 0).In(sdk.Zone).Format("15:04"))
		}
	}
	for _, sl := range slots {
		if sl.GetStartUnix() != to {
			flush()
			from = sl.GetStartUnix()
		}
		to = sl.GetEndUnix()
	}
	flush()
	return strings.Join(out, ", ")
}

func midnight(t time.Time) time.Time {
	y, m, d := t.In(sdk.Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, sdk.Zone)
}

type cancelForm struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// cancel frees a booking by its code: a citizen their own until the
// cancellation deadline (the engine enforces it and names it), staff any.
func (s *service) cancel(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind == "anonymous" {
		return sdk.Refused(msg.Get(lang, "login")), nil
	}
	var v cancelForm
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	code := strings.ToUpper(strings.TrimSpace(v.Code))
	b, err := req.Host.GetBooking(ctx, code)
	if errors.Is(err, sdk.ErrNotFound) || errors.Is(err, sdk.ErrInvalid) {
		return sdk.Invalid("/code", msg.Get(lang, "no_booking", code)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read booking %s: %w", code, err)
	}
	if b.GetStatus() == bookingCancelled || b.GetStatus() == bookingExpired {
		return sdk.Refused(msg.Get(lang, "already_cancelled", b.GetCode())), nil
	}
	why := strings.TrimSpace(v.Reason)
	b, err = req.Host.CancelBooking(ctx, b.GetCode(), why)
	if text, ok := sdk.BookingRefusalText(lang, err); ok {
		return sdk.Refused(text), nil
	}
	if err != nil {
		return nil, fmt.Errorf("cancel booking %s: %w", code, err)
	}
	name := b.GetResource()
	if set, err := loadSettings(req.Config); err == nil {
		if r := set.find(b.GetResource()); r != nil {
			name = r.name(lang)
		}
	}
	start := time.Unix(b.GetStartUnix(), 0)
	text := msg.Get(lang, "cancelled", b.GetCode(), name, sdk.DateTime(lang, start))
	if b.GetPriceCents() > 0 {
		text += " " + msg.Get(lang, "refund")
	}
	s.noteCancellation(ctx, req, b, why)
	if err := req.Host.Audit(ctx, "roombooking.cancel", "booking:"+b.GetCode(), map[string]any{"room": b.GetResource()}); err != nil {
		slog.Error("audit not written", "request_id", req.RequestID, "booking", b.GetCode(), "err", err)
	}
	if req.Actor.Kind == "citizen" {
		if _, err := req.Host.Notify(ctx, sdk.Notification{Channel: "email", Subject: msg.Get(lang, "cancel_subject", b.GetCode()),
			Body: text}); err != nil {
			slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
		}
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: text, Data: map[string]any{"booking_code": b.GetCode(), "status": b.GetStatus()}}, nil
}

// noteCancellation tells the booking's dossier: staff move it to
// cancelled; a citizen, who cannot, leaves a follow-up the office reads.
// The booking is cancelled already: a failure here only logs.
func (s *service) noteCancellation(ctx context.Context, req *sdk.Request, b *pb.Booking, why string) {
	var id int64
	found, err := req.Host.GetSetting(ctx, bookingKey(b.GetCode()), &id)
	if err != nil || !found || id == 0 {
		if err != nil {
			slog.Warn("dossier of a cancelled booking not found", "request_id", req.RequestID, "booking", b.GetCode(), "err", err)
		}
		return
	}
	if req.Actor.Kind == "staff" {
		note := msg.Get(req.Lang, "status_note", b.GetCode(), msg.Get(req.Lang, "state.cancelled"))
		if why != "" {
			note += " " + why
		}
		_, err = req.Host.SetDossierStatus(ctx, id, statusCancelled, note)
	} else {
		_, err = req.Host.AddDossierMessage(ctx, id, strings.TrimSpace(msg.Get(req.Lang, "cancel_followup", b.GetCode(), why)), false)
	}
	if err != nil {
		slog.Warn("cancellation not noted on the dossier", "request_id", req.RequestID, "booking", b.GetCode(), "err", err)
	}
}
