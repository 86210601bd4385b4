package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "roombooking" || m.GetCategory() != "spazi-pubblici" {
		t.Errorf("manifest %s/%s", m.GetId(), m.GetCategory())
	}
	sdktest.CheckMessages(t, msg)
}

// at is a moment in the town's time.
func at(s string) func() time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sdk.Zone)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

func TestBook(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]any // over the form's example: Sala consiliare, 12 March 2026, 18:00-20:00, 40 people
		now     string
		outcome string
		field   string
		text    string
		fee     int64
	}{
		{name: "paid room is held", now: "2026-03-02 10:00", outcome: sdk.OutcomeOK, fee: 5000, text: "paga € 50,00 entro 30 minuti"},
		{name: "half hours count", change: map[string]any{"end": "19:30"}, now: "2026-03-02 10:00", outcome: sdk.OutcomeOK, fee: 3750},
		{name: "free room is booked", change: map[string]any{"room": "sala civica don milani", "attendees": 30},
			now: "2026-03-02 10:00", outcome: sdk.OutcomeOK, text: "gratuita"},
		{name: "unknown room", change: map[string]any{"room": "Palestra"}, now: "2026-03-02 10:00", outcome: sdk.OutcomeInvalid,
			field: "/room", text: "Sala consiliare; Sala civica Don Milani"},
		{name: "end before start", change: map[string]any{"end": "17:00"}, now: "2026-03-02 10:00", outcome: sdk.OutcomeInvalid, field: "/end"},
		{name: "too long", change: map[string]any{"start": "09:00", "end": "18:00"}, now: "2026-03-02 10:00",
			outcome: sdk.OutcomeInvalid, field: "/end", text: "8 ore"},
		{name: "after closing", change: map[string]any{"start": "22:00", "end": "23:30"}, now: "2026-03-02 10:00",
			outcome: sdk.OutcomeInvalid, field: "/start", text: "dalle 08:00 alle 23:00"},
		{name: "too short notice", now: "2026-03-11 09:00", outcome: sdk.OutcomeInvalid, field: "/date", text: "13 marzo 2026"},
		{name: "already past", now: "2026-03-12 19:00", outcome: sdk.OutcomeInvalid, field: "/start"},
		{name: "over a year ahead", change: map[string]any{"date": "2027-03-02"}, now: "2026-03-02 10:00", outcome: sdk.OutcomeInvalid, field: "/date"},
		{name: "too many people", change: map[string]any{"attendees": 81}, now: "2026-03-02 10:00", outcome: sdk.OutcomeInvalid,
			field: "/attendees", text: "80 persone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			h.Now = at(tc.now)
			values := h.Example("booking")
			for k, v := range tc.change {
				values[k] = v
			}
			res, err := h.Handle(context.Background(), &service{now: h.Now},
				sdktest.Call{Action: "book", Values: values, Config: h.ConfigExample()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			got := h.Tenant(1)
			if tc.outcome == sdk.OutcomeInvalid {
				if res.Errors[0].Field != tc.field || !strings.Contains(res.Errors[0].Message, tc.text) {
					t.Errorf("errors %+v, want %s with %q", res.Errors, tc.field, tc.text)
				}
				if len(got.Reservations)+len(got.Dossiers) != 0 {
					t.Errorf("state left behind: %+v", got)
				}
				return
			}
			if !strings.Contains(res.Message, tc.text) {
				t.Errorf("message %q, want %q in it", res.Message, tc.text)
			}
			if len(got.Reservations) != 1 || !strings.Contains(res.Message, got.Reservations[0].GetCode()) {
				t.Fatalf("reservations %v, message %q", got.Reservations, res.Message)
			}
			r := got.Reservations[0]
			wantStatus := "confirmed"
			if tc.fee > 0 {
				wantStatus = "held"
				if len(got.Payments) != 1 || got.Payments[0].GetAmountCents() != tc.fee {
					t.Errorf("payments %v, want %d cents", got.Payments, tc.fee)
				}
			}
			if r.GetStatus() != wantStatus {
				t.Errorf("reservation %s, want %s", r.GetStatus(), wantStatus)
			}
			if start := time.Unix(r.GetStartUnix(), 0).In(sdk.Zone).Format("2006-01-02 15:04"); start != "2026-03-12 18:00" {
				t.Errorf("reservation starts %s", start)
			}
		})
	}
}

// A slot taken is refused until its hold expires; another room, another
// time or another town is not affected.
func TestOverlaps(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	clock := at("2026-03-02 10:00")()
	h.Now = func() time.Time { return clock }
	svc := &service{now: h.Now}
	book := func(tenant, citizen int64, change map[string]any) *sdk.Response {
		t.Helper()
		v := h.Example("booking")
		for k, x := range change {
			v[k] = x
		}
		res, err := h.Handle(ctx, svc, sdktest.Call{Tenant: tenant, Actor: sdktest.Citizen(citizen), Action: "book",
			Values: v, Config: h.ConfigExample()})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := book(1, 1, nil); res.Outcome != sdk.OutcomeOK {
		t.Fatalf("first booking: %+v", res)
	}
	if res := book(1, 2, map[string]any{"start": "19:00", "end": "21:00"}); res.Outcome != sdk.OutcomeInvalid || res.Errors[0].Field != "/start" {
		t.Fatalf("overlapping booking: %+v", res)
	}
	if res := book(1, 2, map[string]any{"start": "20:00", "end": "22:00"}); res.Outcome != sdk.OutcomeOK {
		t.Fatalf("booking right after: %+v", res)
	}
	if res := book(2, 2, nil); res.Outcome != sdk.OutcomeOK {
		t.Fatalf("same slot in another town: %+v", res)
	}
	clock = clock.Add(31 * time.Minute) // the first hold, unpaid, has expired
	if res := book(1, 3, map[string]any{"start": "18:30", "end": "19:30"}); res.Outcome != sdk.OutcomeOK {
		t.Fatalf("booking after the hold expired: %+v", res)
	}
}

// A dossier the host refuses gives the slot back.
func TestReleaseOnFailure(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.Now = at("2026-03-02 10:00")
	h.FailOn("CreateDossier", errors.New("database gone"))
	_, err := h.Handle(context.Background(), &service{now: h.Now},
		sdktest.Call{Action: "book", Values: h.Example("booking"), Config: h.ConfigExample()})
	if err == nil {
		t.Fatal("no error")
	}
	if rs := h.Tenant(1).Reservations; len(rs) != 1 || rs[0].GetStatus() != "cancelled" {
		t.Fatalf("reservations %v: want the one made, cancelled", rs)
	}
}

func TestResourceID(t *testing.T) {
	for name, want := range map[string]string{
		"Sala consiliare":          "room:sala-consiliare",
		"  Sala  civica (piano 1)": "room:sala-civica-piano-1",
		"Aula 3":                   "room:aula-3",
	} {
		if got := resourceID(strings.TrimSpace(name)); got != want {
			t.Errorf("%q: %q, want %q", name, got, want)
		}
	}
}

// A town that enabled the service without configuring it refuses politely.
func TestNotConfigured(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.Now = at("2026-03-02 10:00")
	res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Action: "book", Values: h.Example("booking")})
	if err != nil || res.Outcome != sdk.OutcomeRefused || len(h.Tenant(1).Reservations) != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
}
