package web

import (
	"strings"
	"testing"
)

// appointmentSamples are the appointment pages in each of their states.
func appointmentSamples() map[string]*Page {
	town := &Tenant{Slug: "trezzo-sull-adda", Name: "Comune di Trezzo sull'Adda", PrimaryColor: "#0b5394"}
	citizen := &User{Name: "Anna Rossi", Email: "anna.rossi@example.org", Kind: "citizen"}
	staff := &User{Name: "Paolo Villa", Email: "anagrafe@trezzo.example", Kind: "staff", Roles: []string{"operator"}}
	tp := func(name string, u *User, data any) *Page {
		return &Page{Name: name, Lang: "it", Tenant: town, Base: "/t/trezzo-sull-adda", CSRF: "csrf-token-123", User: u,
			Title: "Appuntamenti", RequestID: "req-1", Data: data}
	}
	chosen := AppointmentsData{Topic: "Carta d'identità elettronica", Office: "Servizi demografici", Address: "Via Roma 5",
		TopicURL: "/t/trezzo-sull-adda/appointments", DayURL: "/t/trezzo-sull-adda/appointments?month=2026-12"}
	month := &CalendarMonth{Title: "dicembre 2026", Free: 1, NextURL: "/t/x/appointments?month=2027-01",
		Weekdays: []Weekday{{"lunedì", "lun"}, {"martedì", "mar"}, {"mercoledì", "mer"}, {"giovedì", "gio"}, {"venerdì", "ven"}, {"sabato", "sab"}, {"domenica", "dom"}},
		Weeks: [][]CalendarDay{{{}, {Day: 1, Label: "martedì 1 dicembre 2026", URL: "/t/x/appointments?day=2026-12-01"},
			{Day: 2, Label: "mercoledì 2 dicembre 2026", Today: true}, {Day: 3}, {Day: 4}, {Day: 5}, {Day: 6}}}}
	day, times, confirm, login := chosen, chosen, chosen, chosen
	day.Step, day.Month = "day", month
	times.Step, times.Day, times.Times = "time", "3 dicembre 2026", []Choice{{Label: "09:00", URL: "/t/x/appointments?time=09:00"}}
	confirm.Step, confirm.Day, confirm.Time, confirm.Start = "confirm", "3 dicembre 2026", "09:00", "2026-12-03T09:00:00+01:00"
	confirm.Form = AppointmentForm{Name: "Anna Rossi", Email: "anna@"}
	confirm.Errors = FieldErrors{"email": "Scrivi un indirizzo e-mail valido.", "": "La prenotazione non è stata fatta."}
	login.Step, login.LoginURL = "confirm", "/t/x/login"
	view := AppointmentView{Code: "K7M2QX9P", Topic: "Carta d'identità elettronica", Office: "Servizi demografici", Address: "Via Roma 5",
		When: "3 dicembre 2026, 09:00", Date: "2026-12-03", Time: "09:00", Status: "confirmed", State: "booked", Name: "Anna Rossi",
		Email: "anna@example.org", Phone: "+39 333 1234567", Channel: "web", Deadline: "2 dicembre 2026, 09:00", CanChange: true,
		Token: "tok", MoveURL: "/t/x/appointments/K7M2QX9P/move?token=tok", CalendarURL: "/t/x/appointments/K7M2QX9P/calendar.ics?token=tok"}
	moving := confirm
	moving.Moving, moving.Errors = &view, nil
	late := view
	late.CanChange = false
	cancelled := view
	cancelled.Status, cancelled.CanChange, cancelled.Reason = "cancelled", false, "Impegno di lavoro"
	return map[string]*Page{
		"topic":    tp("appointments", nil, &AppointmentsData{Step: "topic", Topics: []Choice{{Label: "Carta d'identità elettronica", URL: "/t/x/appointments?topic=cie"}}}),
		"office":   tp("appointments", nil, &AppointmentsData{Step: "office", Topic: "Cambio di residenza", Offices: []Choice{{Label: "Anagrafe", Detail: "Via Roma 5", URL: "/u"}}}),
		"day":      tp("appointments", nil, &day),
		"time":     tp("appointments", nil, &times),
		"confirm":  tp("appointments", citizen, &confirm),
		"login":    tp("appointments", nil, &login),
		"moving":   tp("appointments", nil, &moving),
		"booked":   tp("appointment", citizen, &AppointmentData{Appointment: view, Done: "booked"}),
		"late":     tp("appointment", nil, &AppointmentData{Appointment: late, Error: "Il termine era il 2 dicembre 2026, 09:00."}),
		"annulled": tp("appointment", nil, &AppointmentData{Appointment: cancelled, Done: "cancelled"}),
		"backoffice": tp("backoffice_appointments", staff, &BackofficeAppointmentsData{Code: "k7m", Errors: FieldErrors{"code": "Codice di 8 lettere."},
			Offices: []Option{{Value: "anagrafe", Label: "Anagrafe"}}, Topics: []Option{{Value: "cie", Label: "CIE"}},
			Channels: []Option{{Value: "phone", Label: "Telefono", Selected: true}}, CreateURL: "/t/x/backoffice/appointments",
			Create: BackofficeAppointmentForm{Office: "anagrafe", Day: "2026-12-03"}, CreateErrors: FieldErrors{"time": "Scrivi un'ora.", "": "Non prenotato."}}),
		"backoffice-results": tp("backoffice_appointments", staff, &BackofficeAppointmentsData{Searched: true, Results: []AppointmentView{view}}),
		"backoffice-one": tp("backoffice_appointment", staff, &BackofficeAppointmentData{Appointment: view, MoveURL: "/m", CancelURL: "/c",
			Day: "2026-12-03", Time: "25:00", Errors: FieldErrors{"time": "Scrivi un'ora come 09:30.", "move": "Non spostato."}, Done: "booked", BackURL: "/b"}),
	}
}

// The appointment pages meet what every page must: one h1, labelled
// controls, error texts tied to their fields, no message id left untranslated.
func TestRenderAppointmentPages(t *testing.T) {
	r := newTestRenderer(t)
	var ids []string
	for _, lang := range r.Catalog().Languages() {
		ids = append(ids, r.Catalog().IDs(lang)...)
	}
	want := map[string][]string{
		"day":            {"dicembre 2026", `href="/t/x/appointments?day=2026-12-01"`, "Mese successivo"},
		"confirm":        {`name="start" value="2026-12-03T09:00:00&#43;01:00"`, `aria-describedby="appt-email-error"`, "La prenotazione non è stata fatta."},
		"login":          {`href="/t/x/login"`},
		"moving":         {`name="token" value="tok"`, "Sposta a 3 dicembre 2026, 09:00"},
		"booked":         {"K7M2QX9P", "anna@example.org", `action="/t/trezzo-sull-adda/appointments/K7M2QX9P/cancel"`, "2 dicembre 2026, 09:00"},
		"late":           {"Il termine per spostarlo o annullarlo online era il 2 dicembre 2026, 09:00"},
		"annulled":       {"Annullato", "Impegno di lavoro"},
		"backoffice-one": {"comunica il codice K7M2QX9P", `aria-describedby="move-time-error"`},
	}
	for label, p := range appointmentSamples() {
		t.Run(label, func(t *testing.T) {
			out := render(t, r, p)
			if strings.Contains(out, "ZgotmplZ") {
				t.Errorf("output has ZgotmplZ")
			}
			for _, id := range ids {
				if strings.Contains(out, ">"+id+"<") || strings.Contains(out, "\""+id+"\"") {
					t.Errorf("output shows the message id %q instead of its text", id)
				}
			}
			for _, w := range want[label] {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			checkHTML(t, out, p.Lang)
		})
	}
	if strings.Contains(render(t, r, appointmentSamples()["late"]), `/cancel"`) {
		t.Error("past the deadline the page still offers to cancel")
	}
}
