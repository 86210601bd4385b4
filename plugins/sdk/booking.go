package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// NewBooking asks the booking engine for Slots consecutive slots of one of
// the service's resources, from Start.
type NewBooking struct {
	Resource string    // the slug the service declared
	Start    time.Time // the first slot's start
	Slots    int       // 0 is 1
	// HoldMinutes 1 to 1440 keeps the booking that long (while the person
	// pays, say); a payment for it (NewPayment.BookingID) confirms it.
	// 0 books it: confirmed, or pending where the resource needs approval.
	HoldMinutes int
	// DossierID is the dossier the booking belongs to: staff booking for a
	// citizen's request book in that citizen's name.
	DossierID int64
	// Contact is who books when staff book for a person with no account
	// (on the phone): a name, and an e-mail address or a phone number.
	ContactName, ContactEmail, ContactPhone string
}

// dateOnly writes t's civil date in Zone as the Host API reads it.
func dateOnly(t time.Time) string { return t.In(Zone).Format(time.DateOnly) }

func (h *hostClient) DefineResources(ctx context.Context, resources []*pb.BookingResource) ([]*pb.BookingResource, error) {
	out, err := h.api.DefineResources(h.ctx(ctx), &pb.DefineResourcesRequest{Resources: resources})
	if err != nil {
		return nil, hostErr(err)
	}
	return out.GetResources(), nil
}

func (h *hostClient) BookingDays(ctx context.Context, resource string, from, to time.Time) ([]time.Time, error) {
	out, err := h.api.BookingDays(h.ctx(ctx), &pb.BookingDaysRequest{Resource: resource, From: dateOnly(from), To: dateOnly(to)})
	if err != nil {
		return nil, hostErr(err)
	}
	days := make([]time.Time, 0, len(out.GetDays()))
	for _, d := range out.GetDays() {
		t, err := time.ParseInLocation(time.DateOnly, d, Zone)
		if err != nil {
			return nil, fmt.Errorf("host sent day %q: %w", d, err)
		}
		days = append(days, t)
	}
	return days, nil
}

func (h *hostClient) BookingSlots(ctx context.Context, resource string, day time.Time) ([]*pb.BookingSlot, error) {
	out, err := h.api.BookingSlots(h.ctx(ctx), &pb.BookingSlotsRequest{Resource: resource, Day: dateOnly(day)})
	if err != nil {
		return nil, hostErr(err)
	}
	return out.GetSlots(), nil
}

func (h *hostClient) Book(ctx context.Context, b NewBooking) (*pb.Booking, error) {
	out, err := h.api.Book(h.ctx(ctx), &pb.BookRequest{Resource: b.Resource, StartUnix: b.Start.Unix(), Slots: int32(b.Slots),
		HoldMinutes: int32(b.HoldMinutes), DossierId: b.DossierID, ContactName: b.ContactName, ContactEmail: b.ContactEmail,
		ContactPhone: b.ContactPhone})
	return out, hostErr(err)
}

func (h *hostClient) GetBooking(ctx context.Context, code string) (*pb.Booking, error) {
	out, err := h.api.GetBooking(h.ctx(ctx), &pb.GetBookingRequest{Code: code})
	return out, hostErr(err)
}

func (h *hostClient) ApproveBooking(ctx context.Context, code string) (*pb.Booking, error) {
	out, err := h.api.ApproveBooking(h.ctx(ctx), &pb.DecideBookingRequest{Code: code})
	return out, hostErr(err)
}

func (h *hostClient) DeclineBooking(ctx context.Context, code, reason string) (*pb.Booking, error) {
	out, err := h.api.DeclineBooking(h.ctx(ctx), &pb.DecideBookingRequest{Code: code, Reason: reason})
	return out, hostErr(err)
}

func (h *hostClient) CancelBooking(ctx context.Context, code, reason string) (*pb.Booking, error) {
	out, err := h.api.CancelBooking(h.ctx(ctx), &pb.CancelBookingRequest{Code: code, Reason: reason})
	return out, hostErr(err)
}

// Rules of a BookingRefusal.
const (
	RefusalPast        = "past"
	RefusalNotice      = "notice"
	RefusalHorizon     = "horizon"
	RefusalClosed      = "closed"
	RefusalInactive    = "inactive"
	RefusalHours       = "hours"
	RefusalGrid        = "grid"
	RefusalTaken       = "taken"
	RefusalDeadline    = "deadline"
	RefusalHoldExpired = "hold_expired"
	RefusalState       = "state"
)

// BookingRefusalOf is the booking engine's reason for refusing err's call,
// or nil when err is no such refusal.
func BookingRefusalOf(err error) *pb.BookingRefusal {
	var he *HostError
	if errors.As(err, &he) {
		return he.Refusal
	}
	return nil
}

// BookingRefusalText words the booking engine's refusal in err for a
// person in lang, naming what they need to choose again (the first time
// one may book, the closing day's reason, the cancellation deadline).
// ok is false when err is no refusal of the engine.
func BookingRefusalText(lang string, err error) (text string, ok bool) {
	r := BookingRefusalOf(err)
	if r == nil {
		return "", false
	}
	start := time.Unix(r.GetStartUnix(), 0)
	limit := time.Unix(r.GetLimitUnix(), 0)
	switch r.GetRule() {
	case RefusalPast:
		return refusals.Get(lang, "past", DateTime(lang, start), DateTime(lang, limit)), true
	case RefusalNotice:
		return refusals.Get(lang, "notice", DateTime(lang, start), DateTime(lang, limit)), true
	case RefusalHorizon:
		return refusals.Get(lang, "horizon", Date(lang, limit)), true
	case RefusalClosed:
		if r.GetReason() == "" {
			return refusals.Get(lang, "closed", Date(lang, start)), true
		}
		return refusals.Get(lang, "closed_because", Date(lang, start), r.GetReason()), true
	case RefusalInactive:
		return refusals.Get(lang, "inactive"), true
	case RefusalHours:
		return refusals.Get(lang, "hours", DateTime(lang, start)), true
	case RefusalGrid:
		return refusals.Get(lang, "grid", DateTime(lang, start)), true
	case RefusalTaken:
		return refusals.Get(lang, "taken"), true
	case RefusalDeadline:
		return refusals.Get(lang, "deadline", DateTime(lang, limit)), true
	case RefusalHoldExpired:
		return refusals.Get(lang, "hold_expired"), true
	}
	return refusals.Get(lang, "state"), true
}

// DateTime writes t in Zone as a date and a time of day: "12 marzo 2026,
// 18:00".
func DateTime(lang string, t time.Time) string {
	return Date(lang, t) + ", " + t.In(Zone).Format("15:04")
}

// BookingRefusalMessages are the texts of BookingRefusalText, for a
// plugin's own message checks.
var BookingRefusalMessages = refusals

var refusals = Messages{
	"past": {
		"it": "Il %s è già passato: il primo orario prenotabile è il %s.",
		"de": "Der %s ist vorbei: Der früheste buchbare Zeitpunkt ist der %s.",
		"en": "%s has passed: the first time you can book is %s.",
	},
	"notice": {
		"it": "Il %s è troppo vicino: serve più preavviso, il primo orario prenotabile è il %s.",
		"de": "Der %s ist zu kurzfristig: Der früheste buchbare Zeitpunkt ist der %s.",
		"en": "%s is too soon: more notice is needed, the first time you can book is %s.",
	},
	"horizon": {
		"it": "Si può prenotare al massimo fino al %s.",
		"de": "Buchungen sind höchstens bis zum %s möglich.",
		"en": "You can book up to %s at the latest.",
	},
	"closed": {
		"it": "Il %s è un giorno di chiusura: scegli un altro giorno.",
		"de": "Am %s ist geschlossen: Wählen Sie einen anderen Tag.",
		"en": "%s is a closing day: choose another day.",
	},
	"closed_because": {
		"it": "Il %s è un giorno di chiusura (%s): scegli un altro giorno.",
		"de": "Am %s ist geschlossen (%s): Wählen Sie einen anderen Tag.",
		"en": "%s is a closing day (%s): choose another day.",
	},
	"inactive": {
		"it": "Al momento non si accettano prenotazioni.",
		"de": "Zurzeit werden keine Buchungen angenommen.",
		"en": "No bookings are being taken at the moment.",
	},
	"hours": {
		"it": "Il %s è fuori dall'orario di apertura: scegli un orario tra quelli proposti.",
		"de": "Der %s liegt ausserhalb der Öffnungszeiten: Wählen Sie eine der angebotenen Zeiten.",
		"en": "%s is outside opening hours: choose one of the times offered.",
	},
	"grid": {
		"it": "Il %s non è l'inizio di una fascia oraria: scegli un orario tra quelli proposti.",
		"de": "Um %s beginnt kein Zeitfenster: Wählen Sie eine der angebotenen Zeiten.",
		"en": "%s is not the start of a time slot: choose one of the times offered.",
	},
	"taken": {
		"it": "Questo orario è già occupato: scegline un altro.",
		"de": "Diese Zeit ist schon belegt: Wählen Sie eine andere.",
		"en": "This time is already taken: choose another one.",
	},
	"deadline": {
		"it": "Non è più possibile annullare: il termine era il %s. Rivolgiti all'ufficio.",
		"de": "Eine Stornierung ist nicht mehr möglich: Die Frist war der %s. Wenden Sie sich an das Amt.",
		"en": "It can no longer be cancelled: the deadline was %s. Please contact the office.",
	},
	"hold_expired": {
		"it": "Il tempo per completare la prenotazione è scaduto e l'orario è stato liberato: prenota di nuovo.",
		"de": "Die Zeit zum Abschliessen der Buchung ist abgelaufen und die Zeit wurde freigegeben: Buchen Sie erneut.",
		"en": "The time to complete the booking ran out and the slot was released: please book again.",
	},
	"state": {
		"it": "Nello stato in cui si trova, la prenotazione non lo consente.",
		"de": "Im aktuellen Zustand lässt die Buchung das nicht zu.",
		"en": "The booking does not allow this in its current state.",
	},
}
