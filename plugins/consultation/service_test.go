package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "consultation" || m.GetCategory() != "anagrafe-e-stato-civile" {
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

func TestJoin(t *testing.T) {
	// The configuration's example: video and chat, Monday, Wednesday and
	// Friday, 09:00 to 12:30. 2 March 2026 is a Monday.
	tests := []struct {
		name    string
		mode    string
		now     string
		lang    string
		outcome string
		text    string
	}{
		{name: "video on a Monday morning", mode: "video", now: "2026-03-02 09:00", outcome: sdk.OutcomeOK, text: "Sei in coda"},
		{name: "chat just before closing", mode: "chat", now: "2026-03-02 12:29", outcome: sdk.OutcomeOK},
		{name: "voice not offered", mode: "voice", now: "2026-03-02 10:00", outcome: sdk.OutcomeInvalid, text: "video e chat"},
		{name: "at closing time", mode: "video", now: "2026-03-02 12:30", lang: "en", outcome: sdk.OutcomeRefused,
			text: "open on Monday, Wednesday and Friday from 09:00 to 12:30"},
		{name: "on a Tuesday", mode: "video", now: "2026-03-03 10:00", lang: "de", outcome: sdk.OutcomeRefused, text: "Montag, Mittwoch und Freitag"},
		{name: "before opening", mode: "video", now: "2026-03-04 08:59", outcome: sdk.OutcomeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			h.Now = at(tc.now)
			values := h.Example("join")
			values["mode"] = tc.mode
			res, err := h.Handle(context.Background(), &service{now: h.Now},
				sdktest.Call{Action: "join", Lang: tc.lang, Values: values, Config: h.ConfigExample()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			text := res.Message
			if tc.outcome == sdk.OutcomeInvalid {
				text = res.Errors[0].Message
				if res.Errors[0].Field != "/mode" {
					t.Errorf("error on %s", res.Errors[0].Field)
				}
			}
			if !strings.Contains(text, tc.text) {
				t.Errorf("%q, want %q in it", text, tc.text)
			}
			got := h.Tenant(1)
			if tc.outcome != sdk.OutcomeOK {
				if len(got.Dossiers) != 0 {
					t.Errorf("dossier left behind")
				}
				return
			}
			d := got.Dossier(res.DossierNumber)
			if d == nil || d.GetStatus() != "queued" || d.GetChannel() != "consultation" || d.GetCitizenId() != 1 {
				t.Fatalf("dossier %v", d)
			}
		})
	}
}

// One wait at a time per citizen; yesterday's forgotten wait does not
// count, nor another citizen's.
func TestOneWaitAtATime(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	clock := at("2026-03-02 10:00")()
	h.Now = func() time.Time { return clock }
	svc := &service{now: h.Now}
	join := func(citizen int64) *sdk.Response {
		t.Helper()
		res, err := h.Handle(ctx, svc, sdktest.Call{Actor: sdktest.Citizen(citizen), Action: "join",
			Values: h.Example("join"), Config: h.ConfigExample()})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := join(1)
	if first.Outcome != sdk.OutcomeOK {
		t.Fatalf("first: %+v", first)
	}
	if res := join(1); res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, first.DossierNumber) {
		t.Fatalf("second of the same citizen: %+v", res)
	}
	if res := join(2); res.Outcome != sdk.OutcomeOK {
		t.Fatalf("another citizen: %+v", res)
	}
	// Wednesday: Monday's dossier still reads queued, but the host's queue
	// is the authority. Its refusal leaves no second dossier queued.
	clock = at("2026-03-04 10:00")()
	if res := join(1); res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("two days later, the first wait still in the host's queue: %+v", res)
	}
	queued := 0
	for _, d := range h.Tenant(1).Dossiers {
		if d.GetCitizenId() == 1 && d.GetStatus() == "queued" {
			queued++
		}
	}
	if queued != 1 {
		t.Fatalf("citizen 1 has %d queued dossiers, want 1", queued)
	}
	if q := h.Tenant(1).Queue; len(q) != 2 || q[0].Desk != "urp" || q[0].Mode != "video" {
		t.Fatalf("queue: %+v", q)
	}
}

func TestStaffCannotJoin(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.Now = at("2026-03-02 10:00")
	res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Actor: sdktest.Staff(3), Action: "join",
		Values: h.Example("join"), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestPaymentDuringACall(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.Now = at("2026-03-02 10:00")
	ctx := context.Background()
	svc := &service{now: h.Now}
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: sdktest.Citizen(1), Action: "join", Values: h.Example("join"),
		Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("join: %+v, %v", res, err)
	}
	cfg := map[string]any{"currency": "CHF"}
	cases := []struct {
		name  string
		actor sdk.Actor
		want  string
	}{
		{"the operator asks", sdktest.Staff(3), sdk.OutcomeOK},
		{"the citizen cannot", sdktest.Citizen(1), sdk.OutcomeRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := h.Handle(ctx, svc, sdktest.Call{Actor: c.actor, Action: "payment", DossierID: res.DossierID,
				Values: map[string]any{"amount": 16.5, "reason": "Diritti di segreteria"}, Config: cfg})
			if err != nil || res.Outcome != c.want {
				t.Fatalf("%+v, %v", res, err)
			}
		})
	}
	pays := h.Tenant(1).Payments
	if len(pays) != 1 || pays[0].GetAmountCents() != 1650 || pays[0].GetCurrency() != "CHF" || pays[0].GetDossierId() != res.DossierID {
		t.Fatalf("payments: %v", pays)
	}
}

func TestFirstOpenDesk(t *testing.T) {
	cfg := map[string]any{"modes": []string{"video", "chat"}, "days": []string{"mon", "tue", "wed", "thu", "fri"},
		"opens": "09:00", "closes": "12:30",
		"desks": "urp: URP | | mon 14:00-16:00\nanagrafe: Anagrafe | anna@comune.example.it\ntributi: Tributi"}
	cases := []struct {
		name, at, desk string
	}{
		{"the URP's afternoon", "2026-03-02 15:00", "urp"}, // a Monday
		{"the morning: the first desk open is the registry", "2026-03-02 10:00", "anagrafe"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			h.Now = at(c.at)
			res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Actor: sdktest.Citizen(1), Action: "join",
				Values: h.Example("join"), Config: cfg})
			if err != nil || res.Outcome != sdk.OutcomeOK {
				t.Fatalf("%+v, %v", res, err)
			}
			if q := h.Tenant(1).Queue; len(q) != 1 || q[0].Desk != c.desk {
				t.Fatalf("queued at %+v, want %s", q, c.desk)
			}
		})
	}
	// Every desk closed: the first one's hours are the answer.
	h := sdktest.New(t, manifest)
	h.Now = at("2026-03-02 13:00")
	res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Actor: sdktest.Citizen(1), Action: "join",
		Values: h.Example("join"), Config: cfg})
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "14:00") {
		t.Fatalf("%+v, %v", res, err)
	}
}
