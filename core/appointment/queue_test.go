package appointment_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/booking"
)

func TestTheQueueGoesForwardInOrder(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	anagrafe, urp := e.office(tid, "anagrafe"), e.office(tid, "urp")
	anna := e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 16, 9, 0), "anna")
	bruno := e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 16, 9, 30), "bruno")
	carla := e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 17, 9, 0), "carla")
	dario := e.book(tid, "informazioni", "urp", at(2026, 3, 16, 9, 0), "dario")

	today, err := e.svc.Today(e.ctx, tid, anagrafe)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range today {
		names = append(names, a.Contact.Name)
	}
	if !slices.Equal(names, []string{"anna", "bruno"}) {
		t.Errorf("today at the registry: %v", names)
	}
	if _, err := e.svc.Cancel(e.ctx, tid, bruno.Code, appointment.Access{Staff: true}, "", notice); err != nil {
		t.Fatal(err)
	}

	checkIn := func(code string) func() (*appointment.Appointment, error) {
		return func() (*appointment.Appointment, error) { return e.svc.CheckIn(e.ctx, tid, anagrafe, code) }
	}
	call := func(code, counter string) func() (*appointment.Appointment, error) {
		return func() (*appointment.Appointment, error) { return e.svc.Call(e.ctx, tid, anagrafe, code, counter) }
	}
	serve := func(code string) func() (*appointment.Appointment, error) {
		return func() (*appointment.Appointment, error) { return e.svc.Serve(e.ctx, tid, anagrafe, code) }
	}
	// In order: each step sees the state the steps above left.
	for _, tc := range []struct {
		name   string
		step   func() (*appointment.Appointment, error)
		refuse string // "" for success
		state  appointment.State
		calls  int
	}{
		{"serve before a call", serve(anna.Code), appointment.RefuseNotCalled, "", 0},
		{"call before checking in", call(anna.Code, "1"), appointment.RefuseNotCheckedIn, "", 0},
		{"check in", checkIn(anna.Code), "", appointment.CheckedIn, 0},
		{"check in again", checkIn(strings.ToLower(anna.Code)), "", appointment.CheckedIn, 0},
		{"serve before a call, checked in", serve(anna.Code), appointment.RefuseNotCalled, "", 0},
		{"call to desk 3", call(anna.Code, "3"), "", appointment.Called, 1},
		{"call again, to desk 4", call(anna.Code, "4"), "", appointment.Called, 2},
		{"check in after the call", checkIn(anna.Code), appointment.RefuseCalled, "", 0},
		{"serve", serve(anna.Code), "", appointment.Served, 2},
		{"serve again", serve(anna.Code), "", appointment.Served, 2},
		{"call after serving", call(anna.Code, "1"), appointment.RefuseServed, "", 0},
		{"tomorrow's appointment", checkIn(carla.Code), appointment.RefuseNotToday, "", 0},
		{"a cancelled appointment", checkIn(bruno.Code), appointment.RefuseCancelled, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tc.step()
			if tc.refuse != "" {
				var se *appointment.StateError
				if !errors.As(err, &se) || se.Refuse != tc.refuse || !errors.Is(err, appointment.ErrState) {
					t.Fatalf("got %v, want the refusal %s", err, tc.refuse)
				}
				if msg := e.msg.T("it", se.MessageID(), se.MessageData("it")); msg == se.MessageID() || !strings.Contains(msg, se.Code) {
					t.Errorf("refusal message %q", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.State != tc.state || a.Calls != tc.calls {
				t.Errorf("state %s with %d calls, want %s with %d", a.State, a.Calls, tc.state, tc.calls)
			}
		})
	}
	got, err := e.svc.Get(e.ctx, tid, anna.Code, appointment.Access{Staff: true})
	if err != nil || got.Counter != "4" || got.CheckedInAt.IsZero() || got.CalledAt.IsZero() || got.ServedAt.IsZero() {
		t.Errorf("anna at the end: %+v %v", got, err)
	}
	if _, err := e.svc.CheckIn(e.ctx, tid, anagrafe, dario.Code); !errors.Is(err, appointment.ErrNotFound) {
		t.Errorf("an appointment of another office: %v", err)
	}
	if _, err := e.svc.CheckIn(e.ctx, tid, urp, dario.Code); err != nil {
		t.Errorf("at its own office: %v", err)
	}
	// Once at the office, it is neither moved nor cancelled.
	if _, err := e.svc.Cancel(e.ctx, tid, dario.Code, appointment.Access{Staff: true}, "", notice); !errors.Is(err, appointment.ErrState) {
		t.Errorf("cancel after check-in: %v", err)
	}
	if _, err := e.svc.Call(e.ctx, tid, urp, dario.Code, strings.Repeat("x", 41)); !errors.Is(err, appointment.ErrInvalid) {
		t.Errorf("a counter name of 41 characters: %v", err)
	}
	if _, err := e.svc.CheckIn(e.ctx, tid, anagrafe, "NOTACODE"); !errors.Is(err, booking.ErrInvalid) && !errors.Is(err, booking.ErrNotFound) {
		t.Errorf("a bad code: %v", err)
	}
}

func TestCounterKeys(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	other := e.town("altra", true)
	key, id, err := e.svc.IssueKey(e.ctx, tid, "anagrafe", "Totem ingresso")
	if err != nil || !strings.HasPrefix(key, "spq_") || id == 0 {
		t.Fatalf("issue: %q %d %v", key, id, err)
	}
	if n := e.count("SELECT count(*) FROM appointment_api_keys WHERE position(convert_to(?, 'UTF8') in key_hash) > 0 OR label = ?", key, key); n != 0 {
		t.Error("the key is stored as it is")
	}
	if o, err := e.svc.KeyOffice(e.ctx, tid, key); err != nil || o.Slug != "anagrafe" {
		t.Fatalf("the key's office: %v %v", o, err)
	}
	for _, tc := range []struct {
		name   string
		tenant int64
		key    string
	}{
		{"another town's key", other, key},
		{"no key", tid, ""},
		{"an unknown key", tid, "spq_" + strings.Repeat("A", 43)},
		{"not a key", tid, "Bearer xyz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.KeyOffice(e.ctx, tc.tenant, tc.key); !errors.Is(err, appointment.ErrKey) {
				t.Errorf("got %v, want ErrKey", err)
			}
		})
	}
	if _, _, err := e.svc.IssueKey(e.ctx, tid, "nowhere", ""); !errors.Is(err, appointment.ErrNotFound) {
		t.Errorf("a key for an office without appointments: %v", err)
	}
	if err := e.svc.RevokeKey(e.ctx, tid, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.KeyOffice(e.ctx, tid, key); !errors.Is(err, appointment.ErrKey) {
		t.Errorf("a revoked key: %v", err)
	}
	if err := e.svc.RevokeKey(e.ctx, other, id); !errors.Is(err, appointment.ErrNotFound) {
		t.Errorf("revoking another town's key: %v", err)
	}
}
