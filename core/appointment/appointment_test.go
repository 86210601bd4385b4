package appointment_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/booking"
)

func TestApplyDefinesDesksTopicsAndIsIdempotent(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	cfg, err := e.svc.Config(e.ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Anonymous || cfg.Zone.String() != "Europe/Rome" {
		t.Errorf("settings: anonymous %v, zone %s", cfg.Anonymous, cfg.Zone)
	}
	var topics []string
	for _, tp := range cfg.Topics {
		topics = append(topics, tp.Slug)
	}
	if !slices.Equal(topics, []string{"carta-identita", "cambio-residenza", "informazioni"}) {
		t.Errorf("topics %v", topics)
	}
	anagrafe, urp := e.office(tid, "anagrafe"), e.office(tid, "urp")
	if anagrafe.Desks != 2 || urp.Desks != 1 || !slices.Equal(anagrafe.Topics, []string{"carta-identita", "cambio-residenza"}) ||
		anagrafe.Address != "Via Roma 5, piano terra" {
		t.Errorf("offices: %+v / %+v", anagrafe, urp)
	}
	if got := cfg.OfficesFor("informazioni"); len(got) != 1 || got[0].Slug != "urp" {
		t.Errorf("offices for informazioni: %v", got)
	}
	// The office's own hours, or the section's for the office.
	for _, tc := range []struct {
		office appointment.Office
		want   string
	}{{anagrafe, "09:00-12:00 [Monday Tuesday Wednesday Thursday Friday]"}, {urp, "09:00-10:00 [Monday]"}} {
		hours, err := e.eng.Hours(e.ctx, tid, tc.office.ResourceID)
		if err != nil || len(hours) != 1 {
			t.Fatalf("hours of %s: %v %v", tc.office.Slug, hours, err)
		}
		got := fmt.Sprintf("%s-%s %v", hours[0].Opens, hours[0].Closes, hours[0].Weekdays)
		if got != tc.want {
			t.Errorf("hours of %s: %s, want %s", tc.office.Slug, got, tc.want)
		}
	}

	var stamp time.Time
	settings := func() time.Time {
		var at time.Time
		if err := e.db.Owner.NewRaw("SELECT updated_at FROM appointment_settings WHERE tenant_id = ?", tid).Scan(e.ctx, &at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	stamp = settings()
	e.town("prova", true)
	if settings() != stamp || e.count("SELECT count(*) FROM booking_closures") != 1 || e.count("SELECT count(*) FROM booking_resources") != 2 {
		t.Errorf("applying the same manifest again wrote something: %d closures, %d resources",
			e.count("SELECT count(*) FROM booking_closures"), e.count("SELECT count(*) FROM booking_resources"))
	}

	// A section without a topic and an office: both are offered no more,
	// and nothing is deleted.
	m := manifest(t, strings.NewReplacer("    - {id: cambio-residenza, name: {it: Cambio di residenza, en: Change of residence}}\n", "",
		"[carta-identita, cambio-residenza]", "[carta-identita]",
		"    - office: urp\n      topics: [informazioni]\n      hours:\n        - {days: [mon], open: \"09:00\", close: \"10:00\"}\n", "",
		"    - {id: informazioni, name: {it: Informazioni}}\n", "").Replace(fmt.Sprintf(townYAML, "prova", true)))
	e.apply(m)
	cfg, err = e.svc.Config(e.ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Topics) != 1 || len(cfg.Offices) != 1 || !slices.Equal(cfg.Offices[0].Topics, []string{"carta-identita"}) {
		t.Errorf("after the change: topics %v, offices %v", cfg.Topics, cfg.Offices)
	}
	if n := e.count("SELECT count(*) FROM appointment_topics WHERE tenant_id = ?", tid); n != 3 {
		t.Errorf("%d topics kept, want 3", n)
	}
}

func TestOnlyDaysWithFreeSlotsAreOffered(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	anagrafe, urp := e.office(tid, "anagrafe"), e.office(tid, "urp")
	days := func(o appointment.Office, from, to time.Time) []int {
		t.Helper()
		list, err := e.svc.Days(e.ctx, tid, o, from, to)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, d := range list {
			out = append(out, d.Day())
		}
		return out
	}
	// 19 March is a closing day, 21 and 22 a weekend.
	if got := days(anagrafe, at(2026, 3, 16, 0, 0), at(2026, 3, 22, 0, 0)); !slices.Equal(got, []int{16, 17, 18, 20}) {
		t.Errorf("registry days %v", got)
	}
	if got := days(urp, at(2026, 3, 16, 0, 0), at(2026, 3, 23, 0, 0)); !slices.Equal(got, []int{16, 23}) {
		t.Errorf("URP days %v", got)
	}
	// The URP's two slots of Monday taken: the day is offered no more.
	e.book(tid, "informazioni", "urp", at(2026, 3, 16, 9, 0), "anna")
	e.book(tid, "informazioni", "urp", at(2026, 3, 16, 9, 30), "bruno")
	if got := days(urp, at(2026, 3, 16, 0, 0), at(2026, 3, 23, 0, 0)); !slices.Equal(got, []int{23}) {
		t.Errorf("URP days with Monday full %v", got)
	}
	if slots, err := e.svc.Slots(e.ctx, tid, urp, at(2026, 3, 16, 0, 0)); err != nil || len(slots) != 0 {
		t.Errorf("free times of a full day: %v %v", slots, err)
	}
	// Two desks: one booking leaves a free desk at 09:00.
	e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 17, 9, 0), "carla")
	slots, err := e.svc.Slots(e.ctx, tid, anagrafe, at(2026, 3, 17, 0, 0))
	if err != nil || len(slots) != 6 || slots[0].Free != 1 || slots[1].Free != 2 {
		t.Errorf("registry times of the 17th: %+v %v", slots, err)
	}
	// Late on Monday morning, the rest of Monday is gone.
	e.clock.Set(at(2026, 3, 16, 11, 45))
	if got := days(anagrafe, at(2026, 3, 16, 0, 0), at(2026, 3, 17, 0, 0)); !slices.Equal(got, []int{17}) {
		t.Errorf("registry days at 11:45: %v", got)
	}
}

func TestBookingRefusesWhatTheCalendarDoesNotOffer(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	closed := e.town("chiuso", false)
	e.book(tid, "informazioni", "urp", at(2026, 3, 16, 9, 0), "anna")
	cases := []struct {
		name   string
		tenant int64
		req    appointment.Request
		want   error
		rule   string
	}{
		{"outside opening hours", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 17, 7, 0)}, booking.ErrOutsideHours, booking.RuleHours},
		{"between two slots", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 17, 9, 10)}, booking.ErrOutsideHours, booking.RuleGrid},
		{"in the past", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 13, 9, 0)}, booking.ErrPast, booking.RulePast},
		{"beyond the horizon", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 4, 20, 9, 0)}, booking.ErrBeyondHorizon, booking.RuleHorizon},
		{"on a closing day", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 19, 9, 0)}, booking.ErrClosed, booking.RuleClosed},
		{"already taken", tid, appointment.Request{Topic: "informazioni", Office: "urp", Start: at(2026, 3, 16, 9, 0)}, booking.ErrSlotTaken, ""},
		{"a topic the office does not take", tid, appointment.Request{Topic: "informazioni", Office: "anagrafe", Start: at(2026, 3, 17, 9, 0)}, appointment.ErrInvalid, ""},
		{"an unknown topic", tid, appointment.Request{Topic: "pasta", Office: "anagrafe", Start: at(2026, 3, 17, 9, 0)}, appointment.ErrInvalid, ""},
		{"an unknown office", tid, appointment.Request{Topic: "carta-identita", Office: "bar", Start: at(2026, 3, 17, 9, 0)}, appointment.ErrInvalid, ""},
		{"no e-mail address on the web", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 17, 9, 0),
			Contact: booking.Contact{Name: "Anna"}}, appointment.ErrInvalid, ""},
		{"a bad e-mail address", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 17, 9, 0),
			Contact: booking.Contact{Name: "Anna", Email: "anna@"}}, booking.ErrInvalid, ""},
		{"a visitor where one must log in", closed, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 17, 9, 0)}, appointment.ErrLoginRequired, ""},
		{"an unknown channel", tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 17, 9, 0), Channel: "fax"}, appointment.ErrInvalid, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.Contact == (booking.Contact{}) {
				tc.req.Contact = guest("zeno")
			}
			_, err := e.svc.Book(e.ctx, tc.tenant, tc.req, notice)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var re *booking.RuleError
			if tc.rule != "" && (!errors.As(err, &re) || re.Rule != tc.rule) {
				t.Errorf("rule %v, want %s", err, tc.rule)
			}
		})
	}
	// Nothing of the refused bookings stays: no hold, no appointment, no e-mail.
	if n := e.count("SELECT count(*) FROM bookings WHERE status IN ('held', 'confirmed')"); n != 1 {
		t.Errorf("%d live bookings, want the one made first", n)
	}
	if n := e.count("SELECT count(*) FROM notifications"); n != 1 {
		t.Errorf("%d e-mails queued, want 1", n)
	}
	if n := e.count("SELECT count(*) FROM appointments"); n != 1 {
		t.Errorf("%d appointments, want 1", n)
	}
}

// mailOf is the e-mail queued about code, its body and its calendar.
func (e *env) mails(code string) (subjects, bodies []string, cals []*ics.Calendar) {
	e.t.Helper()
	rows, err := e.db.Owner.QueryContext(e.ctx, `SELECT n.subject, n.body, a.content FROM notifications n
		JOIN notification_attachments a ON a.tenant_id = n.tenant_id AND a.notification_id = n.id
		WHERE n.subject LIKE ? ORDER BY n.id`, "%"+code+"%")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, b string
		var content []byte
		if err := rows.Scan(&s, &b, &content); err != nil {
			e.t.Fatal(err)
		}
		cal, err := ics.ParseCalendar(bytes.NewReader(content))
		if err != nil {
			e.t.Fatalf("the calendar entry does not parse: %v\n%s", err, content)
		}
		subjects, bodies, cals = append(subjects, s), append(bodies, b), append(cals, cal)
	}
	return subjects, bodies, cals
}

func prop(t *testing.T, cal *ics.Calendar, p ics.ComponentProperty) string {
	t.Helper()
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	if v := events[0].GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func TestEveryChangeSendsTheCalendarEntry(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	a := e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 17, 10, 0), "anna")
	token := e.svc.Token(tid, a.Code)
	if _, err := e.svc.Move(e.ctx, tid, a.Code, at(2026, 3, 18, 11, 0), appointment.Access{Token: token}, notice); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(e.ctx, tid, a.Code, appointment.Access{Token: token}, "", notice); err != nil {
		t.Fatal(err)
	}
	subjects, bodies, cals := e.mails(a.Code)
	if len(cals) != 3 {
		t.Fatalf("%d e-mails about %s, want 3 (booked, moved, cancelled)", len(cals), a.Code)
	}
	links := e.svc.Links(tid, a.Code, notice.BaseURL)
	for _, want := range []string{a.Code, "Carta d'identità elettronica", "17\u00a0marzo 2026, 10:00", "Via Roma 5, piano terra",
		links.Move, links.Cancel, "16\u00a0marzo 2026, 10:00"} {
		if !strings.Contains(bodies[0], want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, bodies[0])
		}
	}
	if !strings.Contains(links.Cancel, "token="+token) {
		t.Errorf("cancel link %s carries no token", links.Cancel)
	}
	if !strings.Contains(subjects[1], "18\u00a0marzo 2026, 11:00") || !strings.Contains(subjects[2], a.Code) {
		t.Errorf("subjects %q", subjects)
	}
	for i, want := range []struct{ start, end, seq, status string }{
		{"20260317T090000Z", "20260317T093000Z", "0", "CONFIRMED"},
		{"20260318T100000Z", "20260318T103000Z", "1", "CONFIRMED"},
		{"20260318T100000Z", "20260318T103000Z", "2", "CANCELLED"},
	} {
		cal := cals[i]
		if got := prop(t, cal, ics.ComponentPropertyUniqueId); got != a.Code+"@prova.sportello.test" {
			t.Errorf("version %d: UID %q", i, got)
		}
		if got := prop(t, cal, ics.ComponentPropertyDtStart); got != want.start {
			t.Errorf("version %d: DTSTART %q, want %s (UTC)", i, got, want.start)
		}
		if got := prop(t, cal, ics.ComponentPropertyDtEnd); got != want.end {
			t.Errorf("version %d: DTEND %q, want %s", i, got, want.end)
		}
		if got := prop(t, cal, ics.ComponentPropertySequence); got != want.seq {
			t.Errorf("version %d: SEQUENCE %q, want %s", i, got, want.seq)
		}
		if got := prop(t, cal, ics.ComponentPropertyStatus); got != want.status {
			t.Errorf("version %d: STATUS %q, want %s", i, got, want.status)
		}
		if got := prop(t, cal, ics.ComponentPropertyLocation); got != "Servizi demografici, Via Roma 5, piano terra" {
			t.Errorf("version %d: LOCATION %q", i, got)
		}
		start, err := cal.Events()[0].GetStartAt()
		if err != nil || !start.Equal(at(2026, 3, 17+min(i, 1), 10+min(i, 1), 0)) {
			t.Errorf("version %d: start %v %v", i, start, err)
		}
	}
}

func TestTokensCodesAndTheDeadline(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	other := e.town("altra", true)
	a := e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 17, 11, 0), "anna")
	b := e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 17, 11, 30), "bruno")
	token := e.svc.Token(tid, a.Code)
	for _, tc := range []struct {
		name   string
		tenant int64
		acc    appointment.Access
		ok     bool
	}{
		{"the code alone", tid, appointment.Access{}, false},
		{"a wrong token", tid, appointment.Access{Token: "x" + token[1:]}, false},
		{"another appointment's token", tid, appointment.Access{Token: e.svc.Token(tid, b.Code)}, false},
		{"the same token in another town", other, appointment.Access{Token: token}, false},
		{"staff of another town", other, appointment.Access{Staff: true}, false},
		{"another citizen", tid, appointment.Access{Citizen: 99}, false},
		{"the token", tid, appointment.Access{Token: token}, true},
		{"staff", tid, appointment.Access{Staff: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.Get(e.ctx, tc.tenant, a.Code, tc.acc)
			if tc.ok && (err != nil || got.Code != a.Code) {
				t.Fatalf("got %v, %v", got, err)
			}
			if !tc.ok && !errors.Is(err, appointment.ErrNotFound) && !errors.Is(err, booking.ErrNotFound) {
				t.Fatalf("got %v, want not found", err)
			}
			if !tc.ok {
				if _, err := e.svc.Cancel(e.ctx, tc.tenant, a.Code, tc.acc, "", notice); err == nil {
					t.Fatal("cancelled without the right to")
				}
			}
		})
	}
	// The deadline of a (17 March 11:00) is 16 March 11:00.
	e.clock.Set(at(2026, 3, 16, 11, 30))
	_, err := e.svc.Cancel(e.ctx, tid, a.Code, appointment.Access{Token: token}, "", notice)
	var de *booking.DeadlineError
	if !errors.As(err, &de) || !de.Deadline.Equal(at(2026, 3, 16, 11, 0)) {
		t.Fatalf("cancel after the deadline: %v", err)
	}
	if msg := e.msg.T("it", "booking.error.cancel_deadline", de.MessageData("it")); !strings.Contains(msg, "16\u00a0marzo 2026, 11:00") {
		t.Errorf("the refusal does not name the deadline: %q", msg)
	}
	if _, err := e.svc.Move(e.ctx, tid, a.Code, at(2026, 3, 18, 9, 0), appointment.Access{Token: token}, notice); !errors.Is(err, booking.ErrCancelDeadline) {
		t.Errorf("move after the deadline: %v", err)
	}
	got, err := e.svc.Get(e.ctx, tid, a.Code, appointment.Access{Token: token})
	if err != nil || e.svc.Changeable(got) || got.Status != booking.Confirmed {
		t.Errorf("after the refusals: %+v %v", got, err)
	}
	// The office may always call it off.
	if got, err := e.svc.Cancel(e.ctx, tid, a.Code, appointment.Access{Staff: true}, "ufficio chiuso", notice); err != nil || got.Status != booking.Cancelled {
		t.Fatalf("staff cancel: %v", err)
	}
	if _, err := e.svc.Cancel(e.ctx, tid, a.Code, appointment.Access{Staff: true}, "", notice); err != nil {
		t.Errorf("cancelling twice: %v", err)
	}
	if _, err := e.svc.Move(e.ctx, tid, a.Code, at(2026, 3, 18, 9, 0), appointment.Access{Staff: true}, notice); !errors.Is(err, appointment.ErrState) {
		t.Errorf("moving a cancelled appointment: %v", err)
	}
}

func TestCitizensSeeTheirOwnAppointments(t *testing.T) {
	e := newEnv(t)
	tid := e.town("chiuso", false)
	var mario, giulia int64
	err := e.db.App.InTenant(e.ctx, tid, func(ctx context.Context, tx bun.Tx) error {
		for _, c := range []struct {
			id   *int64
			name string
		}{{&mario, "mario"}, {&giulia, "giulia"}} {
			if err := tx.QueryRowContext(ctx, `INSERT INTO citizens (tenant_id, issuer, subject, name, email)
				VALUES (?, 'test', ?, ?, ?) RETURNING id`, tid, c.name, c.name, c.name+"@example.org").Scan(c.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.Book(e.ctx, tid, appointment.Request{Topic: "carta-identita", Office: "anagrafe", Start: at(2026, 3, 18, 9, 0),
		Citizen: mario, Contact: booking.Contact{Email: "mario@example.org"}}, notice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(e.ctx, tid, a.Code, appointment.Access{Citizen: giulia}); err == nil {
		t.Error("another citizen reads the appointment")
	}
	moved, err := e.svc.Move(e.ctx, tid, strings.ToLower(a.Code), at(2026, 3, 18, 10, 0), appointment.Access{Citizen: mario}, notice)
	if err != nil || !moved.Start.Equal(at(2026, 3, 18, 10, 0)) || moved.Sequence != 1 {
		t.Fatalf("move by its citizen: %+v %v", moved, err)
	}
	// The token of the e-mail acts as the citizen, not as staff.
	e.clock.Set(at(2026, 3, 17, 12, 0))
	if _, err := e.svc.Cancel(e.ctx, tid, a.Code, appointment.Access{Token: e.svc.Token(tid, a.Code)}, "", notice); !errors.Is(err, booking.ErrCancelDeadline) {
		t.Errorf("token after the deadline: %v", err)
	}
}

func TestBackofficeSearch(t *testing.T) {
	e := newEnv(t)
	tid := e.town("prova", true)
	anna := e.book(tid, "carta-identita", "anagrafe", at(2026, 3, 17, 9, 0), "anna")
	e.book(tid, "cambio-residenza", "anagrafe", at(2026, 3, 18, 9, 0), "bruno")
	e.book(tid, "informazioni", "urp", at(2026, 3, 23, 9, 0), "annalisa")
	// A booking of another service on the same desks is no appointment.
	if _, err := e.eng.Reserve(e.ctx, tid, booking.Request{Resource: e.office(tid, "anagrafe").ResourceID, Start: at(2026, 3, 17, 10, 0),
		Contact: guest("sala"), Service: "roombooking"}); err != nil {
		t.Fatal(err)
	}
	codes := func(f appointment.Filter) []string {
		t.Helper()
		list, err := e.svc.Search(e.ctx, tid, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.Contact.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    appointment.Filter
		want []string
	}{
		{"by code", appointment.Filter{Code: strings.ToLower(anna.Code)}, []string{"anna"}},
		{"by name", appointment.Filter{Name: "ANN"}, []string{"anna", "annalisa"}},
		{"by day", appointment.Filter{Day: at(2026, 3, 17, 0, 0)}, []string{"anna"}},
		{"by office", appointment.Filter{Office: e.office(tid, "urp").ID}, []string{"annalisa"}},
		{"by office and day", appointment.Filter{Office: e.office(tid, "anagrafe").ID, Day: at(2026, 3, 18, 0, 0)}, []string{"bruno"}},
		{"nothing", appointment.Filter{Name: "zorro"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := codes(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := e.svc.Search(e.ctx, tid, appointment.Filter{Code: "0000"}); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("a malformed code: %v", err)
	}
	// Staff book for somebody on the phone: no e-mail needed, none sent.
	a, err := e.svc.Book(e.ctx, tid, appointment.Request{Topic: "informazioni", Office: "urp", Start: at(2026, 3, 23, 9, 30),
		Contact: booking.Contact{Name: "Carlo Verdi", Phone: "+39 02 1234567"}, Channel: appointment.Phone, BookedBy: "user:7"}, notice)
	if err != nil || a.Channel != appointment.Phone || a.BookedBy != "user:7" {
		t.Fatalf("phone booking: %+v %v", a, err)
	}
	if subjects, _, _ := e.mails(a.Code); len(subjects) != 0 {
		t.Errorf("an e-mail went to nobody: %v", subjects)
	}
}
