package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/notify"
	"github.com/sportello/sportello/core/notify/mailcatcher"
)

// The demo towns' appointments: Trezzo takes visitors' bookings at its
// registry office (two desks, Monday to Friday 09:00–12:30, 20-minute
// slots, cancellable until 24 hours before); Lugano only citizens'.

const trezzo = "/t/trezzo-sull-adda"

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

// officeOf is a demo town's appointment office.
func officeOf(t *testing.T, s *site, slug, office string) (int64, appointment.Office) {
	t.Helper()
	tn := mustTenant(t, s, slug)
	cfg, err := s.srv.Appointments.Config(context.Background(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := cfg.Office(office)
	if !ok {
		t.Fatalf("%s takes no appointments at %s", slug, office)
	}
	return tn.ID, o
}

// freeDays are the days with a free time at office from three days on,
// so that neither the notice nor the deadline is near whenever the test
// runs; the real clock decides which they are.
func freeDays(t *testing.T, s *site, slug, office string) []time.Time {
	t.Helper()
	tid, o := officeOf(t, s, slug, office)
	from := time.Now().In(rome).AddDate(0, 0, 3)
	days, err := s.srv.Appointments.Days(context.Background(), tid, o, from, from.AddDate(0, 0, 40))
	if err != nil || len(days) < 3 {
		t.Fatalf("free days of %s: %v %v", office, days, err)
	}
	return days
}

func clock(d time.Time, hh, mm int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, rome)
}

var (
	dayLinks  = regexp.MustCompile(`day=(\d{4}-\d{2}-\d{2})`)
	codeInURL = regexp.MustCompile(`/appointments/([2-9A-HJ-NP-Z]{8})\?token=([A-Za-z0-9_-]+)`)
)

// bookThroughPages goes through the booking pages as a person does and
// returns the code, the token and the page of the appointment.
func bookThroughPages(t *testing.T, s *site, b *browser, base string, day time.Time, clock string, values url.Values) (code, token, page string) {
	t.Helper()
	step := s.url + base + "/appointments?topic=carta-identita"
	r := b.get(step)
	// One office takes the topic: the page goes straight to the days.
	expect(t, r, 200, "Scegli il giorno", "Servizi demografici")
	step += "&office=anagrafe&day=" + day.Format(time.DateOnly)
	expect(t, b.get(step), 200, "Scegli l&#39;ora", `time=`+url.QueryEscape(clock))
	step += "&time=" + url.QueryEscape(clock)
	r = b.get(step)
	expect(t, r, 200, "I tuoi dati")
	// The form posts what the page holds in hidden fields.
	for _, name := range []string{"topic", "office", "start"} {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("the form lacks %s", name)
		}
		values.Set(name, strings.ReplaceAll(m[1], "&#43;", "+"))
	}
	r = b.form(step, s.url+base+"/appointments", values)
	if r.status != 303 {
		t.Fatalf("booking: %d %.2000s", r.status, r.body[strings.Index(r.body, "<main"):])
	}
	m := codeInURL.FindStringSubmatch(r.header.Get("Location"))
	if m == nil || !strings.HasSuffix(r.header.Get("Location"), "&done=booked") {
		t.Fatalf("booked, then sent to %s", r.header.Get("Location"))
	}
	return m[1], m[2], s.url + base + "/appointments/" + m[1] + "?token=" + m[2]
}

// deliver sends the outbox to a mail catcher and returns the mail whose
// subject has code.
func deliver(t *testing.T, s *site, code string) mailcatcher.Mail {
	t.Helper()
	catcher, err := mailcatcher.Start("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	host, port, _ := net.SplitHostPort(catcher.Addr())
	p, _ := strconv.Atoi(port)
	d := notify.NewDeliverer(s.db.App, notify.Options{Mail: notify.SMTP{Host: host, Port: p, TLS: "none", Timeout: 5 * time.Second},
		From: "noreply@sportello.test"})
	if _, _, err := d.Deliver(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	m, ok := catcher.WaitFor(5*time.Second, func(m mailcatcher.Mail) bool { return strings.Contains(m.Subject, code) })
	if !ok {
		t.Fatalf("no mail about %s among %d", code, len(catcher.Mails()))
	}
	return m
}

// parts are a mail's text body and its attachments by content type, decoded.
func parts(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var walk func(h func(string) string, body io.Reader)
	walk = func(h func(string) string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(h("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get, p)
			}
		}
		var r io.Reader = body
		switch strings.ToLower(h("Content-Transfer-Encoding")) {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out[mt] = b
	}
	walk(msg.Header.Get, msg.Body)
	return out
}

func TestAppointmentBookedByAVisitorArrivesByMailWithItsCalendarEntry(t *testing.T) {
	s := newSite(t)
	tid, office := officeOf(t, s, "trezzo-sull-adda", "anagrafe")
	days := freeDays(t, s, "trezzo-sull-adda", "anagrafe")
	b := s.browser()

	t.Run("the calendar offers the days with free times and no other", func(t *testing.T) {
		month := days[0].Format("2006-01")
		r := b.get(s.url + trezzo + "/appointments?topic=carta-identita&office=anagrafe&month=" + month)
		expect(t, r, 200, "Scegli il giorno")
		var offered []string
		for _, m := range dayLinks.FindAllStringSubmatch(r.body, -1) {
			offered = append(offered, m[1])
		}
		first := time.Date(days[0].Year(), days[0].Month(), 1, 0, 0, 0, 0, rome)
		free, err := s.srv.Appointments.Days(context.Background(), tid, office, first, first.AddDate(0, 1, -1))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, d := range free {
			want = append(want, d.Format(time.DateOnly))
		}
		if !slices.Equal(offered, want) || len(want) == 0 {
			t.Errorf("the page offers %v, the office has free times on %v", offered, want)
		}
		for _, d := range offered {
			day, _ := time.Parse(time.DateOnly, d)
			if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				t.Errorf("a weekend day is offered: %s", d)
			}
		}
	})

	code, token, page := bookThroughPages(t, s, b, trezzo, days[0], "09:00",
		url.Values{"name": {"Anna Bianchi"}, "email": {"anna.bianchi@example.org"}})
	expect(t, b.get(page+"&done=booked"), 200, code, "Appuntamento prenotato", "anna.bianchi@example.org", "Annulla l&#39;appuntamento")

	m := deliver(t, s, code)
	p := parts(t, m.Data)
	body := string(p["text/plain"])
	cancelLink := s.url + trezzo + "/appointments/" + code + "/cancel?token=" + token
	for _, want := range []string{code, "Carta d'identità elettronica", "Via Roma 5, piano terra", cancelLink,
		s.url + trezzo + "/appointments/" + code + "/move?token=" + token} {
		if !strings.Contains(body, want) {
			t.Errorf("the mail lacks %q:\n%s", want, body)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(p["text/calendar"]))
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("the .ics attachment does not parse: %v\n%s", err, p["text/calendar"])
	}
	ev := cal.Events()[0]
	start, err := ev.GetStartAt()
	if err != nil || !start.Equal(clock(days[0], 9, 0)) || start.Location() != time.UTC {
		t.Errorf("DTSTART %v (%v), want %v in UTC", start, err, clock(days[0], 9, 0))
	}
	if ev.Id() != code+"@trezzo-sull-adda.sportello.test" {
		t.Errorf("UID %q", ev.Id())
	}
	if loc := ev.GetProperty(ics.ComponentPropertyLocation); loc == nil || !strings.Contains(loc.Value, "Via Roma 5, piano terra") {
		t.Errorf("LOCATION %v", loc)
	}

	t.Run("the code alone opens nothing", func(t *testing.T) {
		stranger := s.browser()
		r := stranger.get(s.url + trezzo + "/appointments/" + code)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login") {
			t.Fatalf("without the token: %d %s", r.status, r.header.Get("Location"))
		}
		expect(t, stranger.get(s.url+trezzo+"/appointments/"+code+"?token=AAAA"+token[4:]), 404)
		r = stranger.form(s.url+trezzo+"/login", s.url+trezzo+"/appointments/"+code+"/cancel", url.Values{"token": {"nope"}})
		expect(t, r, 404)
		expect(t, stranger.get(s.url+"/t/venezia/appointments/"+code+"?token="+token), 404)
	})

	t.Run("the calendar entry can be downloaded again", func(t *testing.T) {
		r := b.get(s.url + trezzo + "/appointments/" + code + "/calendar.ics?token=" + token)
		expect(t, r, 200, "BEGIN:VCALENDAR", "UID:"+code+"@")
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/calendar") {
			t.Errorf("content type %q", r.header.Get("Content-Type"))
		}
	})

	t.Run("the e-mail's links move and cancel it", func(t *testing.T) {
		other := s.browser() // the mail may be read anywhere
		move := s.url + trezzo + "/appointments/" + code + "/move?token=" + token
		expect(t, other.get(move), 200, "Sposta l&#39;appuntamento "+code, "Scegli il giorno")
		step := move + "&day=" + days[1].Format(time.DateOnly) + "&time=09:20"
		expect(t, other.get(step), 200, "Conferma il nuovo orario")
		r := other.form(step, s.url+trezzo+"/appointments/"+code+"/move", url.Values{"token": {token},
			"start": {clock(days[1], 9, 20).Format(time.RFC3339)}})
		if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "&done=moved") {
			t.Fatalf("move: %d %s %.500s", r.status, r.header.Get("Location"), r.body)
		}
		expect(t, other.get(s.url+trezzo+"/appointments/"+code+"?token="+token), 200, i18n.FormatDateTime("it", clock(days[1], 9, 20)))
		expect(t, other.get(cancelLink), 200, "Annulla l&#39;appuntamento")
		r = other.form(cancelLink, s.url+trezzo+"/appointments/"+code+"/cancel", url.Values{"token": {token}, "reason": {"Imprevisto"}})
		if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "&done=cancelled") {
			t.Fatalf("cancel: %d %s", r.status, r.header.Get("Location"))
		}
		expect(t, other.get(s.url+trezzo+"/appointments/"+code+"?token="+token+"&done=cancelled"), 200, "Appuntamento annullato", "Imprevisto")
	})
}

func TestAppointmentBadInputIsAnsweredClearly(t *testing.T) {
	s := newSite(t)
	tid, office := officeOf(t, s, "trezzo-sull-adda", "anagrafe")
	days := freeDays(t, s, "trezzo-sull-adda", "anagrafe")
	b := s.browser()
	page := s.url + trezzo + "/appointments"
	// days[2] becomes a closing day.
	if _, err := booking.New(s.db.App, nil).AddClosure(context.Background(), tid, booking.Closure{ResourceID: office.ResourceID,
		From: days[2], To: days[2], Reason: "Sciopero"}); err != nil {
		t.Fatal(err)
	}
	// Both desks of days[0] at 09:00 taken.
	for _, who := range []string{"uno", "due"} {
		bookThroughPages(t, s, b, trezzo, days[0], "09:00", url.Values{"name": {who}, "email": {who + "@example.org"}})
	}
	now := time.Now().In(rome)
	post := func(start string, extra ...string) url.Values {
		v := url.Values{"topic": {"carta-identita"}, "office": {"anagrafe"}, "start": {start}, "name": {"Mario Rossi"}, "email": {"mario@example.org"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		values url.Values
		status int
		want   []string
	}{
		{"outside opening hours", post(clock(days[1], 3, 0).Format(time.RFC3339)), 422, []string{"non è un orario prenotabile", "03:00"}},
		{"in the past", post(clock(now.AddDate(0, 0, -2), 9, 0).Format(time.RFC3339)), 422, []string{"è già passato o troppo vicino"}},
		{"beyond the horizon", post(clock(now.AddDate(0, 0, 75), 9, 0).Format(time.RFC3339)), 422, []string{"è troppo lontano", "puoi prenotare fino al"}},
		{"on a closing day", post(clock(days[2], 9, 0).Format(time.RFC3339)), 422, []string{"ufficio è chiuso (Sciopero)"}},
		{"already taken", post(clock(days[0], 9, 0).Format(time.RFC3339)), 409, []string{"appena stato prenotato da un"}},
		{"not a time", post("tomorrow at nine"), 422, []string{"non è libero"}},
		{"no e-mail address", post(clock(days[1], 9, 0).Format(time.RFC3339), "email", ""), 422, []string{"la conferma arriva lì", `value="Mario Rossi"`}},
		{"a bad e-mail address", post(clock(days[1], 9, 0).Format(time.RFC3339), "email", "mario@"), 422, []string{"indirizzo e-mail valido", `value="mario@"`}},
		{"an unknown topic", post(clock(days[1], 9, 0).Format(time.RFC3339), "topic", "pasta"), 422, []string{"Alcuni dati inseriti non sono corretti"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, b.form(s.url+trezzo+"/login", page, tc.values), tc.status, tc.want...)
		})
	}
	t.Run("choices the pages never offered", func(t *testing.T) {
		expect(t, b.get(page+"?topic=pasta"), 200, "Per che cosa ti serve")
		expect(t, b.get(page+"?topic=carta-identita&office=anagrafe&day="+days[2].Format(time.DateOnly)), 422, "In quel giorno non ci sono orari liberi")
		expect(t, b.get(page+"?topic=carta-identita&office=anagrafe&day=31-12-2026"), 422, "Scegli il giorno")
		expect(t, b.get(page+"?topic=carta-identita&office=anagrafe&day="+days[1].Format(time.DateOnly)+"&time=03:00"), 422, "non è libero")
		expect(t, b.get(page+"?topic=carta-identita&office=anagrafe&month=garbage"), 200, "Scegli il giorno")
	})
	var n int
	if err := s.db.Owner.NewRaw("SELECT count(*) FROM bookings WHERE status IN ('held', 'confirmed')").Scan(context.Background(), &n); err != nil || n != 2 {
		t.Errorf("%d live bookings after the refusals (%v), want the 2 made", n, err)
	}
}

func TestAppointmentCancelAfterTheDeadlineNamesIt(t *testing.T) {
	s := newSite(t)
	days := freeDays(t, s, "trezzo-sull-adda", "anagrafe")
	b := s.browser()
	code, token, page := bookThroughPages(t, s, b, trezzo, days[0], "10:00", url.Values{"name": {"Anna"}, "email": {"anna@example.org"}})
	// The town moves its deadline to 30 days before: this one has passed.
	if _, err := s.db.Owner.ExecContext(context.Background(), "UPDATE booking_resources SET cancel_deadline_minutes = 43200"); err != nil {
		t.Fatal(err)
	}
	deadline := i18n.FormatDateTime("it", clock(days[0], 10, 0).Add(-30*24*time.Hour))
	r := b.form(s.url+trezzo+"/login", s.url+trezzo+"/appointments/"+code+"/cancel", url.Values{"token": {token}})
	expect(t, r, 409, "non può più essere annullata o spostata online", deadline)
	expect(t, b.get(page), 200, "Il termine per spostarlo o annullarlo online era il "+deadline)
	expect(t, b.get(s.url+trezzo+"/appointments/"+code+"/move?token="+token), 409, deadline)
	r = b.form(s.url+trezzo+"/login", s.url+trezzo+"/appointments/"+code+"/move", url.Values{"token": {token},
		"start": {clock(days[1], 9, 0).Format(time.RFC3339)}})
	expect(t, r, 409, deadline)
	expect(t, b.get(page), 200, "Confermato")
}

func TestAppointmentsWhereOnlyCitizensBook(t *testing.T) {
	s := newSite(t)
	days := freeDays(t, s, "lugano", "controllo-abitanti")
	base := "/t/lugano"
	step := s.url + base + "/appointments?topic=carta-identita&office=controllo-abitanti&day=" + days[0].Format(time.DateOnly) + "&time=09:00"
	visitor := s.browser()
	expect(t, visitor.get(step), 200, "Accedi per prenotare")
	r := visitor.form(s.url+base+"/login", s.url+base+"/appointments", url.Values{"topic": {"carta-identita"}, "office": {"controllo-abitanti"},
		"start": {clock(days[0], 9, 0).Format(time.RFC3339)}, "name": {"Ospite"}, "email": {"ospite@example.org"}})
	expect(t, r, 401, "Per continuare devi accedere")

	mario := s.browser()
	loginCitizen(t, s, mario, "lugano", "mario.rossi")
	r = mario.get(step)
	expect(t, r, 200, "I tuoi dati", `name="email"`)
	if strings.Contains(r.body, `id="appt-email" name="email" value=""`) {
		t.Error("the citizen's e-mail address is not filled in")
	}
	r = mario.form(step, s.url+base+"/appointments", url.Values{"topic": {"carta-identita"}, "office": {"controllo-abitanti"},
		"start": {clock(days[0], 9, 0).Format(time.RFC3339)}, "name": {"Mario Rossi"}, "email": {"mario.rossi@example.org"}})
	m := codeInURL.FindStringSubmatch(r.header.Get("Location"))
	if r.status != 303 || m == nil {
		t.Fatalf("citizen booking: %d %s", r.status, r.header.Get("Location"))
	}
	// Logged in, the citizen needs no token; another citizen sees nothing.
	expect(t, mario.get(s.url+base+"/appointments/"+m[1]), 200, m[1], "Carta d&#39;identità")
	giulia := s.browser()
	loginCitizen(t, s, giulia, "lugano", "giulia.bianchi")
	expect(t, giulia.get(s.url+base+"/appointments/"+m[1]), 404)
}

func TestAppointmentBackoffice(t *testing.T) {
	s := newSite(t)
	days := freeDays(t, s, "trezzo-sull-adda", "anagrafe")
	list := s.url + trezzo + "/backoffice/appointments"
	t.Run("staff only", func(t *testing.T) {
		r := s.browser().get(list)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login") {
			t.Fatalf("a visitor: %d", r.status)
		}
		citizen := s.browser()
		loginCitizen(t, s, citizen, "trezzo-sull-adda", "mario.rossi")
		expect(t, citizen.get(list), 403)
	})
	staff := s.browser()
	login := s.url + trezzo + "/login"
	if r := staff.form(login, login, url.Values{"email": {"anagrafe@trezzo.example"}, "password": {"demo-trezzo"}}); r.status != 303 {
		t.Fatalf("staff login: %d", r.status)
	}
	expect(t, staff.get(list), 200, "Appuntamenti di oggi", "Prenota per un cittadino")
	create := func(day, clock string, extra ...string) url.Values {
		v := url.Values{"topic": {"cambio-residenza"}, "office": {"anagrafe"}, "day": {day}, "time": {clock},
			"name": {"Carlo Verdi"}, "phone": {"+39 02 1234567"}, "channel": {"phone"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	d0 := days[0].Format(time.DateOnly)
	for _, tc := range []struct {
		name   string
		values url.Values
		status int
		want   []string
	}{
		{"an impossible time", create(d0, "25:00"), 422, []string{"ora come 09:30", `value="Carlo Verdi"`}},
		{"not a date", create("03/12/2026", "09:00"), 422, []string{"data come 2026-12-03"}},
		{"outside opening hours", create(d0, "03:00"), 422, []string{"non è un orario prenotabile", `value="Carlo Verdi"`}},
		{"no way to reach the person", create(d0, "09:00", "phone", ""), 422, []string{"e-mail o un telefono"}},
		{"an unknown office", create(d0, "09:00", "office", "bar"), 422, []string{"uno degli uffici proposti"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, staff.form(list, list, tc.values), tc.status, tc.want...)
		})
	}
	r := staff.form(list, list, create(d0, "09:20"))
	if r.status != 303 {
		t.Fatalf("book by phone: %d %.500s", r.status, r.body)
	}
	detail := s.url + r.header.Get("Location")
	code := regexp.MustCompile(`appointments/([2-9A-HJ-NP-Z]{8})\?`).FindStringSubmatch(detail)[1]
	expect(t, staff.get(detail), 200, "comunica il codice "+code, "Carlo Verdi", "Telefono")

	for _, tc := range []struct {
		name, query string
		found       bool
	}{
		{"by code", "code=" + strings.ToLower(code), true},
		{"by name", "name=verdi", true},
		{"by day", "day=" + d0, true},
		{"by office and day", "office=anagrafe&day=" + d0, true},
		{"another day", "day=" + days[1].Format(time.DateOnly), false},
		{"another office", "office=servizi-cimiteriali", false},
	} {
		t.Run("search "+tc.name, func(t *testing.T) {
			r := staff.get(list + "?" + tc.query)
			expect(t, r, 200, "Risultati")
			if got := strings.Contains(r.body, ">"+code+"<"); got != tc.found {
				t.Errorf("found %v, want %v", got, tc.found)
			}
		})
	}
	expect(t, staff.get(list+"?code=xx"), 422, "8 lettere e cifre")
	expect(t, staff.get(list+"?day=ieri"), 422, "data come")
	expect(t, staff.get(list+"?office=bar"), 422, "uno degli uffici")

	page := s.url + trezzo + "/backoffice/appointments/" + code
	expect(t, staff.form(page, page+"/move", url.Values{"day": {d0}, "time": {"04:00"}}), 422, "non è un orario prenotabile", `value="04:00"`)
	r = staff.form(page, page+"/move", url.Values{"day": {days[1].Format(time.DateOnly)}, "time": {"10:00"}})
	if r.status != 303 {
		t.Fatalf("move: %d %.500s", r.status, r.body)
	}
	expect(t, staff.get(page+"?done=moved"), 200, "Appuntamento spostato", i18n.FormatDateTime("it", clock(days[1], 10, 0)))
	r = staff.form(page, page+"/cancel", url.Values{"reason": {"Richiesta telefonica"}})
	if r.status != 303 {
		t.Fatalf("cancel: %d", r.status)
	}
	expect(t, staff.get(page+"?done=cancelled"), 200, "Annullato", "Richiesta telefonica")
	expect(t, staff.get(s.url+trezzo+"/backoffice/appointments/ZZZZZZZZ"), 404)
}

// apiCall calls the queue API with key ("" for none) and headers hdr
// (name, value, …) and decodes the JSON.
func apiCall(t *testing.T, method, u, key, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v", method, u, res.StatusCode, err)
	}
	return res.StatusCode, out
}

func TestAppointmentQueueAPI(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	tid, _ := officeOf(t, s, "trezzo-sull-adda", "anagrafe")
	days := freeDays(t, s, "trezzo-sull-adda", "anagrafe")
	b := s.browser()
	today, _, _ := bookThroughPages(t, s, b, trezzo, days[0], "09:00", url.Values{"name": {"Anna"}, "email": {"anna@example.org"}})
	later, _, _ := bookThroughPages(t, s, b, trezzo, days[0], "09:20", url.Values{"name": {"Bruno"}, "email": {"bruno@example.org"}})
	// Anna's appointment is moved to now, as if the day had come.
	if _, err := s.db.Owner.ExecContext(ctx, `UPDATE bookings SET period = tstzrange(now(), now() + interval '20 minutes') WHERE code = ?`, today); err != nil {
		t.Fatal(err)
	}
	key, keyID, err := s.srv.Appointments.IssueKey(ctx, tid, "anagrafe", "eliminacode")
	if err != nil {
		t.Fatal(err)
	}
	luganoID, _ := officeOf(t, s, "lugano", "controllo-abitanti")
	luganoKey, _, err := s.srv.Appointments.IssueKey(ctx, luganoID, "controllo-abitanti", "")
	if err != nil {
		t.Fatal(err)
	}
	api := s.url + trezzo + "/api/queue/anagrafe"

	t.Run("keys", func(t *testing.T) {
		for _, tc := range []struct {
			name, url, key string
			status         int
		}{
			{"no key", api + "/today", "", 401},
			{"an unknown key", api + "/today", "spq_unknown", 401},
			{"another town's key", api + "/today", luganoKey, 401},
			{"another office", s.url + trezzo + "/api/queue/servizi-cimiteriali/today", key, 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := apiCall(t, "GET", tc.url, tc.key, "")
				if status != tc.status || body["error"] == "" || body["error"] == nil {
					t.Errorf("%d %v, want %d with a message", status, body, tc.status)
				}
			})
		}
	})

	status, body := apiCall(t, "GET", api+"/today", key, "")
	list, _ := body["appointments"].([]any)
	if status != 200 || len(list) != 1 || list[0].(map[string]any)["code"] != today || list[0].(map[string]any)["state"] != "booked" {
		t.Fatalf("today: %d %v", status, body)
	}
	// By the town's own host too, with no /t/ prefix.
	if status, _ := apiCall(t, "GET", s.url+"/api/queue/anagrafe/today", key, "", "Host", "trezzo-sull-adda.sportello.test"); status != 200 {
		t.Errorf("by host: %d", status)
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		state, message   string
	}{
		{"serve before a call", today + "/serve", "", 409, "", "non è ancora stata chiamata"},
		{"call before checking in", today + "/call", "", 409, "", "non ha ancora registrato l'arrivo"},
		{"check in", today + "/check-in", "", 200, "checked_in", ""},
		{"call to desk 3", today + "/call", `{"counter": "3"}`, 200, "called", ""},
		{"a malformed body", today + "/call", `{"counter": `, 422, "", ""},
		{"serve", today + "/serve", "", 200, "served", ""},
		{"check in after being served", today + "/check-in", "", 409, "", "è già concluso"},
		{"an appointment of another day", later + "/check-in", "", 409, "", "non è oggi"},
		{"an unknown code", "ZZZZZZZZ/check-in", "", 404, "", ""},
		{"not a code", "hello/check-in", "", 422, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := apiCall(t, "POST", api+"/"+tc.path, key, tc.body)
			if status != tc.status {
				t.Fatalf("%d %v, want %d", status, body, tc.status)
			}
			if tc.state != "" && body["state"] != tc.state {
				t.Errorf("state %v, want %s", body["state"], tc.state)
			}
			if msg, _ := body["error"].(string); !strings.Contains(msg, tc.message) || (tc.status >= 400 && msg == "") {
				t.Errorf("message %q, want it to contain %q", msg, tc.message)
			}
		})
	}
	_, body = apiCall(t, "GET", api+"/today", key, "")
	item := body["appointments"].([]any)[0].(map[string]any)
	if item["counter"] != "3" || item["served_at"] == nil || item["checked_in_at"] == nil {
		t.Errorf("after serving: %v", item)
	}
	// A counter system that calls someone again with its
	// Idempotency-Key, after a timeout, gets the first answer back and
	// the person is called once; called again without a key, they are
	// called twice.
	third, _, _ := bookThroughPages(t, s, b, trezzo, days[0], "09:40", url.Values{"name": {"Carla"}, "email": {"carla@example.org"}})
	if _, err := s.db.Owner.ExecContext(ctx, `UPDATE bookings SET period = CASE code
		WHEN ? THEN tstzrange(now(), now() + interval '20 minutes') ELSE tstzrange(now() - interval '20 minutes', now()) END
		WHERE code IN (?, ?)`, third, third, today); err != nil {
		t.Fatal(err)
	}
	if st, body := apiCall(t, "POST", api+"/"+third+"/check-in", key, ""); st != 200 {
		t.Fatalf("check-in: %d %v", st, body)
	}
	calls := func() any {
		t.Helper()
		_, body := apiCall(t, "GET", api+"/today", key, "")
		for _, it := range body["appointments"].([]any) {
			if it.(map[string]any)["code"] == third {
				return it.(map[string]any)["calls"]
			}
		}
		t.Fatalf("%s is not listed today", third)
		return nil
	}
	st1, first := apiCall(t, "POST", api+"/"+third+"/call", key, `{"counter": "2"}`, "Idempotency-Key", "chiamata-"+third)
	st2, again := apiCall(t, "POST", api+"/"+third+"/call", key, `{"counter": "2"}`, "Idempotency-Key", "chiamata-"+third)
	if st1 != 200 || st2 != 200 || first["state"] != "called" || fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("a call retried with its key: %d %v, then %d %v", st1, first, st2, again)
	}
	if n := calls(); n != 1.0 {
		t.Errorf("called %v times after a retry with its key, want 1", n)
	}
	if st, body := apiCall(t, "POST", api+"/"+third+"/call", key, `{"counter": "2"}`); st != 200 || calls() != 2.0 {
		t.Errorf("a second call without a key: %d %v, calls %v", st, body, calls())
	}
	if err := s.srv.Appointments.RevokeKey(ctx, tid, keyID); err != nil {
		t.Fatal(err)
	}
	if status, _ := apiCall(t, "GET", api+"/today", key, ""); status != 401 {
		t.Errorf("a revoked key: %d", status)
	}
}
