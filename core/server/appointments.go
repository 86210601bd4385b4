package server

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

// Office appointments: the citizen's booking pages, the appointment's own
// page (reached from the e-mail's links with their token, or by the
// citizen who booked it), and the back office's search and forms. The
// queue API of the counter systems is in appointments_api.go.

// objAppointments is the casbin object of the back office's appointments:
// operators read and write backoffice/bookings/*.
const objAppointments = "backoffice/bookings/appointments"

func (s *Server) appointmentRoutes(r fiber.Router) {
	r.Get("/prenota", s.requireTenant, func(c *fiber.Ctx) error {
		return c.Redirect(state(c).base+"/appointments", fiber.StatusSeeOther)
	})
	r.Get("/appointments", s.requireTenant, s.appointmentsPage)
	r.Post("/appointments", s.requireTenant, s.bookAppointment)
	r.Get("/appointments/:code", s.requireTenant, s.appointmentPage)
	r.Get("/appointments/:code/cancel", s.requireTenant, s.appointmentPage)
	r.Post("/appointments/:code/cancel", s.requireTenant, s.cancelAppointment)
	r.Get("/appointments/:code/move", s.requireTenant, s.moveAppointmentPage)
	r.Post("/appointments/:code/move", s.requireTenant, s.moveAppointment)
	r.Get("/appointments/:code/calendar.ics", s.requireTenant, s.appointmentCalendar)

	read, write := s.require(objAppointments, "read"), s.require(objAppointments, "write")
	r.Get("/backoffice/appointments", s.requireTenant, read, s.backofficeAppointments)
	r.Post("/backoffice/appointments", s.requireTenant, write, s.backofficeBook)
	r.Get("/backoffice/appointments/:code", s.requireTenant, read, s.backofficeAppointment)
	r.Post("/backoffice/appointments/:code/move", s.requireTenant, write, s.backofficeMove)
	r.Post("/backoffice/appointments/:code/cancel", s.requireTenant, write, s.backofficeCancel)
}

// appointmentConfig is what the town offers; a town without appointments
// (or a server without the service) answers 404.
func (s *Server) appointmentConfig(c *fiber.Ctx) (*appointment.Config, error) {
	if s.Appointments == nil {
		return nil, errNotFound
	}
	cfg, err := s.Appointments.Config(c.UserContext(), state(c).tenant.ID)
	if errors.Is(err, appointment.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", errNotFound, err)
	}
	return cfg, err
}

// appointmentNotice is how the e-mails of this request's town are written:
// in the page's language, with links to this portal.
func (s *Server) appointmentNotice(c *fiber.Ctx) appointment.Notice {
	rs := state(c)
	host := rs.tenant.Slug + "." + s.cfg.BaseDomain
	if len(rs.tenant.Domains) > 0 {
		host = rs.tenant.Domains[0]
	}
	return appointment.Notice{Lang: rs.lang, Town: rs.tenant.Name, Host: host, BaseURL: strings.Clone(c.BaseURL()) + rs.base}
}

func (s *Server) citizenID(c *fiber.Ctx) int64 {
	if rs := state(c); rs.session != nil {
		return rs.session.Subject.CitizenID
	}
	return 0
}

func isStaff(c *fiber.Ctx) bool {
	rs := state(c)
	return rs.session != nil && rs.session.Subject.UserID > 0
}

// refusal is the status and translated message of an error a person can
// act on; ok is false for a failure of ours, which the error page reports.
func (s *Server) refusal(c *fiber.Ctx, err error) (status int, msg string, ok bool) {
	status, id := errorStatus(err)
	if status >= 500 {
		return status, "", false
	}
	lang := state(c).lang
	return status, s.i18n.T(lang, id, messageData(err, lang)), true
}

// wizard is the choices made so far on the booking pages, from the query.
type wizard struct {
	topic, office, month, day, clock string
}

func wizardOf(c *fiber.Ctx) wizard {
	return wizard{topic: formValue(c, "topic"), office: formValue(c, "office"), month: formValue(c, "month"),
		day: formValue(c, "day"), clock: formValue(c, "time")}
}

// bookingStep fills the booking (or moving) pages up to the first choice
// not yet made, or wrongly made: problem is then the message id of what
// was wrong ("" when nothing was). For the confirm step, slot is the time
// chosen.
func (s *Server) bookingStep(c *fiber.Ctx, cfg *appointment.Config, w wizard, moving *appointment.Appointment, token string) (d *web.AppointmentsData, slot *booking.Slot, problem string, err error) {
	rs := state(c)
	ctx := c.UserContext()
	path := rs.base + "/appointments"
	if moving != nil {
		path += "/" + url.PathEscape(moving.Code) + "/move"
	}
	link := func(kv ...string) string {
		v := url.Values{}
		if token != "" {
			v.Set("token", token)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	d = &web.AppointmentsData{Action: path}

	var topic appointment.Topic
	var office appointment.Office
	if moving != nil {
		topic, office = moving.Topic, moving.Office
		w.topic, w.office = topic.Slug, office.Slug
		d.Moving = ptr(s.appointmentView(rs.lang, moving, "", token))
	} else {
		if w.topic == "" {
			d.Step = "topic"
			for _, t := range cfg.Topics {
				d.Topics = append(d.Topics, web.Choice{Label: t.Name.In(rs.lang), URL: link("topic", t.Slug)})
			}
			return d, nil, "", nil
		}
		var ok bool
		if topic, ok = cfg.Topic(w.topic); !ok {
			return s.bookingStep(c, cfg, wizard{}, nil, token)
		}
		d.TopicURL = link()
		offices := cfg.OfficesFor(topic.Slug)
		if w.office == "" && len(offices) == 1 {
			w.office = offices[0].Slug
		}
		if i := indexOffice(offices, w.office); i >= 0 {
			office = offices[i]
		} else {
			if w.office != "" {
				problem = "appointments.error.office"
			}
			d.Step = "office"
			d.Topic = topic.Name.In(rs.lang)
			for _, o := range offices {
				d.Offices = append(d.Offices, web.Choice{Label: o.Name.In(rs.lang), Detail: o.Address, URL: link("topic", topic.Slug, "office", o.Slug)})
			}
			return d, nil, problem, nil
		}
		if len(offices) > 1 {
			d.OfficeURL = link("topic", topic.Slug)
		}
	}
	d.Topic, d.Office, d.Address = topic.Name.In(rs.lang), office.Name.In(rs.lang), office.Address
	d.TopicValue, d.OfficeValue = topic.Slug, office.Slug

	now := s.Appointments.Now().In(cfg.Zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cfg.Zone)
	free, err := s.Appointments.Days(ctx, rs.tenant.ID, office, today, today.AddDate(1, 0, 0))
	if err != nil {
		return nil, nil, "", err
	}
	day, dayErr := time.ParseInLocation(time.DateOnly, w.day, cfg.Zone)
	offered := dayErr == nil && containsDay(free, day)
	if !offered {
		if w.day != "" {
			problem = "appointments.error.day"
		}
		month, err := time.ParseInLocation("2006-01", w.month, cfg.Zone)
		switch {
		case dayErr == nil:
			month = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, cfg.Zone)
		case err != nil && len(free) > 0:
			month = time.Date(free[0].Year(), free[0].Month(), 1, 0, 0, 0, 0, cfg.Zone)
		case err != nil:
			month = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, cfg.Zone)
		}
		d.Step = "day"
		d.Month = s.calendarMonth(rs.lang, month, today, free, func(kv ...string) string {
			return link(append([]string{"topic", topic.Slug, "office", office.Slug}, kv...)...)
		})
		return d, nil, problem, nil
	}
	d.Day = i18n.FormatDate(rs.lang, day)
	d.DayURL = link("topic", topic.Slug, "office", office.Slug, "month", day.Format("2006-01"))
	slots, err := s.Appointments.Slots(ctx, rs.tenant.ID, office, day)
	if err != nil {
		return nil, nil, "", err
	}
	for i := range slots {
		if slots[i].Start.Format("15:04") == w.clock {
			slot = &slots[i]
		}
	}
	if slot == nil {
		if w.clock != "" {
			problem = "appointments.error.time"
		}
		d.Step = "time"
		for _, sl := range slots {
			d.Times = append(d.Times, web.Choice{Label: sl.Start.Format("15:04"),
				URL: link("topic", topic.Slug, "office", office.Slug, "day", w.day, "time", sl.Start.Format("15:04"))})
		}
		return d, nil, problem, nil
	}
	d.Step = "confirm"
	d.Time = slot.Start.Format("15:04")
	d.TimeURL = link("topic", topic.Slug, "office", office.Slug, "day", w.day)
	d.Start = slot.Start.Format(time.RFC3339)
	return d, slot, "", nil
}

func ptr[T any](v T) *T { return &v }

func indexOffice(list []appointment.Office, slug string) int {
	for i, o := range list {
		if o.Slug == slug {
			return i
		}
	}
	return -1
}

func containsDay(days []time.Time, d time.Time) bool {
	for _, x := range days {
		if x.Year() == d.Year() && x.Month() == d.Month() && x.Day() == d.Day() {
			return true
		}
	}
	return false
}

// calendarMonth draws month (its first day) with the free days as links.
func (s *Server) calendarMonth(lang string, month, today time.Time, free []time.Time, link func(kv ...string) string) *web.CalendarMonth {
	m := &web.CalendarMonth{Title: s.i18n.T(lang, "appointments.month."+strconv.Itoa(int(month.Month())), nil) + " " + strconv.Itoa(month.Year())}
	for i := range 7 {
		name := i18n.WeekdayName(lang, time.Weekday((i+1)%7))
		m.Weekdays = append(m.Weekdays, web.Weekday{Name: name, Short: string([]rune(name)[:3])})
	}
	isFree := map[string]bool{}
	for _, d := range free {
		isFree[d.Format(time.DateOnly)] = true
	}
	var week []web.CalendarDay
	for range (int(month.Weekday()) + 6) % 7 {
		week = append(week, web.CalendarDay{})
	}
	for d := month; d.Month() == month.Month(); d = d.AddDate(0, 0, 1) {
		cell := web.CalendarDay{Day: d.Day(), Label: i18n.WeekdayName(lang, d.Weekday()) + " " + i18n.FormatDate(lang, d),
			Today: d.Equal(today)}
		if isFree[d.Format(time.DateOnly)] {
			cell.URL = link("day", d.Format(time.DateOnly))
			m.Free++
		}
		week = append(week, cell)
		if len(week) == 7 {
			m.Weeks = append(m.Weeks, week)
			week = nil
		}
	}
	if len(week) > 0 {
		for len(week) < 7 {
			week = append(week, web.CalendarDay{})
		}
		m.Weeks = append(m.Weeks, week)
	}
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, today.Location())
	if month.After(first) {
		m.PrevURL = link("month", month.AddDate(0, -1, 0).Format("2006-01"))
	}
	if len(free) > 0 && free[len(free)-1].After(month.AddDate(0, 1, -1)) {
		m.NextURL = link("month", month.AddDate(0, 1, 0).Format("2006-01"))
	}
	return m
}

// appointmentsPage is the booking pages: each GET shows the next choice.
func (s *Server) appointmentsPage(c *fiber.Ctx) error {
	cfg, err := s.appointmentConfig(c)
	if err != nil {
		return err
	}
	return s.renderBooking(c, fiber.StatusOK, cfg, wizardOf(c), web.AppointmentForm{}, nil, "")
}

// renderBooking draws the step w has reached, with form and errs on the
// confirmation step and msg (a refusal, translated) above everything.
func (s *Server) renderBooking(c *fiber.Ctx, status int, cfg *appointment.Config, w wizard, form web.AppointmentForm, errs web.FieldErrors, msg string) error {
	rs := state(c)
	d, _, problem, err := s.bookingStep(c, cfg, w, nil, "")
	if err != nil {
		return err
	}
	p := s.page(c, "appointments", s.i18n.T(rs.lang, "appointments.title", nil))
	if d.Step == "confirm" {
		d.Citizen = s.citizenID(c) > 0
		if !d.Citizen && (!cfg.Anonymous || isStaff(c)) {
			d.LoginURL = rs.base + "/login?next=" + url.QueryEscape(c.OriginalURL())
		}
		if form == (web.AppointmentForm{}) && p.User != nil && d.Citizen {
			form = web.AppointmentForm{Name: p.User.Name, Email: p.User.Email}
		}
		d.Form = form
	}
	d.Errors = errs
	if problem != "" && msg == "" {
		msg = s.i18n.T(rs.lang, problem, nil)
		if status == fiber.StatusOK {
			status = fiber.StatusUnprocessableEntity
		}
	}
	if msg != "" {
		if d.Errors == nil {
			d.Errors = web.FieldErrors{}
		}
		d.Errors[""] = msg
	}
	p.Data = d
	return s.renderStatus(c, status, p)
}

// contactForm reads and checks who an appointment is for; errs is keyed by
// field.
func (s *Server) contactForm(c *fiber.Ctx, emailRequired bool) (web.AppointmentForm, web.FieldErrors) {
	lang := state(c).lang
	f := web.AppointmentForm{Name: strings.TrimSpace(formValue(c, "name")), Email: strings.TrimSpace(formValue(c, "email")),
		Phone: strings.TrimSpace(formValue(c, "phone"))}
	errs := web.FieldErrors{}
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 200 {
		errs["name"] = s.i18n.T(lang, "appointments.error.name", nil)
	}
	if f.Email == "" && emailRequired {
		errs["email"] = s.i18n.T(lang, "appointments.error.email_required", nil)
	} else if a, err := mail.ParseAddress(f.Email); f.Email != "" && (err != nil || a.Address != f.Email || len(f.Email) > 254) {
		errs["email"] = s.i18n.T(lang, "appointments.error.email", nil)
	}
	if f.Phone != "" && (len(f.Phone) > 31 || strings.Trim(f.Phone, "+0123456789 ./()-") != "") {
		errs["phone"] = s.i18n.T(lang, "appointments.error.phone", nil)
	}
	if len(errs) == 0 {
		return f, nil
	}
	return f, errs
}

// bookAppointment books the time chosen: for the citizen logged in, or for
// a visitor when the town allows it.
func (s *Server) bookAppointment(c *fiber.Ctx) error {
	rs := state(c)
	cfg, err := s.appointmentConfig(c)
	if err != nil {
		return err
	}
	w := wizardOf(c)
	citizen := s.citizenID(c)
	if citizen == 0 && (!cfg.Anonymous || isStaff(c)) {
		return errLoginRequired
	}
	start, perr := time.Parse(time.RFC3339, formValue(c, "start"))
	if perr != nil {
		return s.renderBooking(c, fiber.StatusUnprocessableEntity, cfg, w, web.AppointmentForm{}, nil,
			s.i18n.T(rs.lang, "appointments.error.time", nil))
	}
	start = start.In(cfg.Zone)
	// The page to come back to is the step of the time asked for, even a
	// time the pages never offered.
	w.day, w.clock = start.Format(time.DateOnly), start.Format("15:04")
	form, errs := s.contactForm(c, true)
	if errs != nil {
		return s.renderBooking(c, fiber.StatusUnprocessableEntity, cfg, w, form, errs, s.i18n.T(rs.lang, "appointments.error.form", nil))
	}
	a, err := s.Appointments.Book(c.UserContext(), rs.tenant.ID, appointment.Request{
		Topic: w.topic, Office: w.office, Start: start, Citizen: citizen,
		Contact: booking.Contact{Name: form.Name, Email: form.Email, Phone: form.Phone},
	}, s.appointmentNotice(c))
	if err != nil {
		status, msg, ok := s.refusal(c, err)
		if !ok || errors.Is(err, appointment.ErrLoginRequired) {
			return err
		}
		return s.renderBooking(c, status, cfg, w, form, nil, msg)
	}
	return c.Redirect(s.appointmentURL(c, a.Code, s.Appointments.Token(rs.tenant.ID, a.Code))+"&done=booked", fiber.StatusSeeOther)
}

// appointmentURL is the page of appointment code, with its token.
func (s *Server) appointmentURL(c *fiber.Ctx, code, token string) string {
	return state(c).base + "/appointments/" + url.PathEscape(code) + "?token=" + url.QueryEscape(token)
}

// appointmentAccess is who asks for an appointment's page: its token's
// holder, or the citizen logged in.
func (s *Server) appointmentAccess(c *fiber.Ctx) (appointment.Access, string) {
	token := formValue(c, "token")
	return appointment.Access{Token: token, Citizen: s.citizenID(c)}, token
}

func (s *Server) appointmentView(lang string, a *appointment.Appointment, pageURL, token string) web.AppointmentView {
	v := web.AppointmentView{
		Code: a.Code, Topic: a.Topic.Name.In(lang), Office: a.Office.Name.In(lang), Address: a.Office.Address,
		When: i18n.FormatDateTime(lang, a.Start), Date: a.Start.Format(time.DateOnly), Time: a.Start.Format("15:04"),
		Status: string(a.Status), State: string(a.State), Name: a.Contact.Name, Email: a.Contact.Email, Phone: a.Contact.Phone,
		Channel: a.Channel, Deadline: i18n.FormatDateTime(lang, a.CancelDeadline), Reason: a.CancelReason,
		URL: pageURL, Token: token,
	}
	if s.Appointments != nil {
		v.CanChange = s.Appointments.Changeable(a)
	}
	return v
}

// appointmentPage is an appointment's own page: its code, what, where and
// when, and the forms to move and cancel it while that is still possible.
func (s *Server) appointmentPage(c *fiber.Ctx) error {
	if s.Appointments == nil {
		return errNotFound
	}
	acc, token := s.appointmentAccess(c)
	if acc.Token == "" && isStaff(c) {
		return c.Redirect(state(c).base+"/backoffice/appointments/"+url.PathEscape(c.Params("code")), fiber.StatusSeeOther)
	}
	if acc.Token == "" && acc.Citizen == 0 {
		return errLoginRequired
	}
	a, err := s.Appointments.Get(c.UserContext(), state(c).tenant.ID, c.Params("code"), acc)
	if err != nil {
		return err
	}
	done := c.Query("done")
	switch done {
	case "booked", "moved", "cancelled":
	default:
		done = ""
	}
	return s.renderAppointment(c, fiber.StatusOK, a, token, done, "")
}

func (s *Server) renderAppointment(c *fiber.Ctx, status int, a *appointment.Appointment, token, done, msg string) error {
	rs := state(c)
	v := s.appointmentView(rs.lang, a, s.appointmentURL(c, a.Code, token), token)
	q := ""
	if token != "" {
		q = "?token=" + url.QueryEscape(token)
	}
	v.MoveURL = rs.base + "/appointments/" + url.PathEscape(a.Code) + "/move" + q
	v.CalendarURL = rs.base + "/appointments/" + url.PathEscape(a.Code) + "/calendar.ics" + q
	p := s.page(c, "appointment", s.i18n.T(rs.lang, "appointment.title", map[string]any{"Code": a.Code}))
	p.Data = &web.AppointmentData{Appointment: v, Done: done, Error: msg}
	return s.renderStatus(c, status, p)
}

func (s *Server) cancelAppointment(c *fiber.Ctx) error {
	if s.Appointments == nil {
		return errNotFound
	}
	rs := state(c)
	acc, token := s.appointmentAccess(c)
	code := strings.Clone(c.Params("code"))
	a, err := s.Appointments.Cancel(c.UserContext(), rs.tenant.ID, code, acc, formValue(c, "reason"), s.appointmentNotice(c))
	if err != nil {
		return s.appointmentRefused(c, code, acc, token, err)
	}
	return c.Redirect(s.appointmentURL(c, a.Code, token)+"&done=cancelled", fiber.StatusSeeOther)
}

// appointmentRefused shows the appointment again with why the change was
// refused (the deadline, a taken time), or reports err when it is not a
// refusal or the appointment cannot be read.
func (s *Server) appointmentRefused(c *fiber.Ctx, code string, acc appointment.Access, token string, err error) error {
	status, msg, ok := s.refusal(c, err)
	if !ok || status == fiber.StatusNotFound || status == fiber.StatusUnauthorized {
		return err
	}
	a, gerr := s.Appointments.Get(c.UserContext(), state(c).tenant.ID, code, acc)
	if gerr != nil {
		return err
	}
	return s.renderAppointment(c, status, a, token, "", msg)
}

func (s *Server) moveAppointmentPage(c *fiber.Ctx) error {
	if s.Appointments != nil && formValue(c, "token") == "" && isStaff(c) {
		// Staff move appointments from the back office's page, as they
		// read them there.
		return c.Redirect(state(c).base+"/backoffice/appointments/"+url.PathEscape(c.Params("code")), fiber.StatusSeeOther)
	}
	return s.renderMove(c, fiber.StatusOK, "")
}

// renderMove draws the choice of a new day and time for the appointment of
// the route, with msg (a refusal) above it.
func (s *Server) renderMove(c *fiber.Ctx, status int, msg string) error {
	rs := state(c)
	cfg, err := s.appointmentConfig(c)
	if err != nil {
		return err
	}
	acc, token := s.appointmentAccess(c)
	if acc.Token == "" && acc.Citizen == 0 {
		if isStaff(c) {
			// Signed in already: logging in again would not help.
			return errForbidden
		}
		return errLoginRequired
	}
	a, err := s.Appointments.Get(c.UserContext(), rs.tenant.ID, c.Params("code"), acc)
	if err != nil {
		return err
	}
	if !s.Appointments.Changeable(a) && msg == "" {
		if a.Status.Live() && a.State == appointment.Booked {
			msg = s.i18n.T(rs.lang, "booking.error.cancel_deadline", (&booking.DeadlineError{Code: a.Code, Deadline: a.CancelDeadline}).MessageData(rs.lang))
			return s.renderAppointment(c, fiber.StatusConflict, a, token, "", msg)
		}
		return s.renderAppointment(c, fiber.StatusConflict, a, token, "", s.i18n.T(rs.lang, "appointment.unchangeable", nil))
	}
	d, _, problem, err := s.bookingStep(c, cfg, wizardOf(c), a, token)
	if err != nil {
		return err
	}
	d.Action = rs.base + "/appointments/" + url.PathEscape(a.Code) + "/move"
	if problem != "" && msg == "" {
		msg = s.i18n.T(rs.lang, problem, nil)
		if status == fiber.StatusOK {
			status = fiber.StatusUnprocessableEntity
		}
	}
	if msg != "" {
		d.Errors = web.FieldErrors{"": msg}
	}
	p := s.page(c, "appointments", s.i18n.T(rs.lang, "appointments.move.title", map[string]any{"Code": a.Code}))
	p.Data = d
	return s.renderStatus(c, status, p)
}

func (s *Server) moveAppointment(c *fiber.Ctx) error {
	if s.Appointments == nil {
		return errNotFound
	}
	rs := state(c)
	acc, token := s.appointmentAccess(c)
	code := strings.Clone(c.Params("code"))
	start, perr := time.Parse(time.RFC3339, formValue(c, "start"))
	if perr != nil {
		return s.renderMove(c, fiber.StatusUnprocessableEntity, s.i18n.T(rs.lang, "appointments.error.time", nil))
	}
	a, err := s.Appointments.Move(c.UserContext(), rs.tenant.ID, code, start, acc, s.appointmentNotice(c))
	if err != nil {
		status, msg, ok := s.refusal(c, err)
		if !ok || status == fiber.StatusNotFound || status == fiber.StatusUnauthorized {
			return err
		}
		if errors.Is(err, booking.ErrCancelDeadline) || errors.Is(err, appointment.ErrState) {
			return s.appointmentRefused(c, code, acc, token, err)
		}
		return s.renderMove(c, status, msg)
	}
	return c.Redirect(s.appointmentURL(c, a.Code, token)+"&done=moved", fiber.StatusSeeOther)
}

// appointmentCalendar is the appointment's calendar entry, as the e-mail
// attached it, in its current version.
func (s *Server) appointmentCalendar(c *fiber.Ctx) error {
	if s.Appointments == nil {
		return errNotFound
	}
	rs := state(c)
	acc, _ := s.appointmentAccess(c)
	if isStaff(c) && acc.Token == "" {
		acc = appointment.Access{Staff: true}
	}
	if acc.Token == "" && acc.Citizen == 0 && !acc.Staff {
		return errLoginRequired
	}
	a, err := s.Appointments.Get(c.UserContext(), rs.tenant.ID, c.Params("code"), acc)
	if err != nil {
		return err
	}
	entry, err := s.Appointments.Calendar(rs.tenant.ID, a, s.appointmentNotice(c))
	if err != nil {
		return err
	}
	setDownload(c, a.Code+".ics", "text/calendar; charset=utf-8")
	return c.Send(entry)
}

// The back office.

func (s *Server) backofficeAppointments(c *fiber.Ctx) error {
	cfg, err := s.appointmentConfig(c)
	if err != nil {
		return err
	}
	return s.renderBackofficeAppointments(c, fiber.StatusOK, cfg, web.BackofficeAppointmentForm{Channel: appointment.Phone}, nil)
}

func (s *Server) renderBackofficeAppointments(c *fiber.Ctx, status int, cfg *appointment.Config, create web.BackofficeAppointmentForm, createErrs web.FieldErrors) error {
	rs := state(c)
	lang := rs.lang
	d := &web.BackofficeAppointmentsData{
		Code: strings.TrimSpace(c.Query("code")), Name: strings.TrimSpace(c.Query("name")), Day: c.Query("day"), Office: c.Query("office"),
		Errors: web.FieldErrors{}, CreateURL: rs.base + "/backoffice/appointments", Create: create, CreateErrors: createErrs,
	}
	f := appointment.Filter{Code: d.Code, Name: d.Name}
	if f.Code != "" && !bookingCode(f.Code) {
		d.Errors["code"] = s.i18n.T(lang, "appointments.error.code", nil)
	}
	if len(d.Name) > 200 {
		d.Errors["name"] = s.i18n.T(lang, "appointments.error.name", nil)
	}
	if d.Day != "" {
		day, err := time.ParseInLocation(time.DateOnly, d.Day, cfg.Zone)
		if err != nil {
			d.Errors["day"] = s.i18n.T(lang, "appointments.error.date", nil)
		}
		f.Day = day
	}
	if d.Office != "" {
		o, ok := cfg.Office(d.Office)
		if !ok {
			d.Errors["office"] = s.i18n.T(lang, "appointments.error.office", nil)
		}
		f.Office = o.ID
	}
	d.Searched = f.Code != "" || f.Name != "" || !f.Day.IsZero() || f.Office != 0
	if !d.Searched {
		f.Day = s.Appointments.Now().In(cfg.Zone)
	}
	for _, o := range cfg.Offices {
		d.Offices = append(d.Offices, web.Option{Value: o.Slug, Label: o.Name.In(lang), Selected: o.Slug == d.Office})
	}
	for _, t := range cfg.Topics {
		d.Topics = append(d.Topics, web.Option{Value: t.Slug, Label: t.Name.In(lang), Selected: t.Slug == create.Topic})
	}
	for _, ch := range []string{appointment.Phone, appointment.Counter} {
		d.Channels = append(d.Channels, web.Option{Value: ch, Label: s.i18n.T(lang, "appointments.channel."+ch, nil), Selected: ch == create.Channel})
	}
	if len(d.Errors) > 0 {
		if status == fiber.StatusOK {
			status = fiber.StatusUnprocessableEntity
		}
	} else {
		list, err := s.Appointments.Search(c.UserContext(), rs.tenant.ID, f)
		if err != nil {
			return err
		}
		for i := range list {
			d.Results = append(d.Results, s.appointmentView(lang, &list[i], rs.base+"/backoffice/appointments/"+url.PathEscape(list[i].Code), ""))
		}
	}
	p := s.page(c, "backoffice_appointments", s.i18n.T(lang, "appointments.backoffice.title", nil))
	p.Data = d
	return s.renderStatus(c, status, p)
}

// bookingCode reports whether s looks like a booking code, as people type
// one (any case, spaces around).
func bookingCode(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 8 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("23456789ABCDEFGHJKLMNPQRSTUVWXYZ", r) {
			return false
		}
	}
	return true
}

// staffTime reads a day and a time typed in the back office, in the town's
// time zone; field names the form field an error belongs to.
func (s *Server) staffTime(c *fiber.Ctx, cfg *appointment.Config, day, clock string) (time.Time, web.FieldErrors) {
	lang := state(c).lang
	errs := web.FieldErrors{}
	d, err := time.ParseInLocation(time.DateOnly, day, cfg.Zone)
	if err != nil {
		errs["day"] = s.i18n.T(lang, "appointments.error.date", nil)
	}
	t, err := time.Parse("15:04", clock)
	if err != nil {
		errs["time"] = s.i18n.T(lang, "appointments.error.clock", nil)
	}
	if len(errs) > 0 {
		return time.Time{}, errs
	}
	return time.Date(d.Year(), d.Month(), d.Day(), t.Hour(), t.Minute(), 0, 0, cfg.Zone), nil
}

// backofficeBook books for somebody on the phone or at the counter.
func (s *Server) backofficeBook(c *fiber.Ctx) error {
	rs := state(c)
	cfg, err := s.appointmentConfig(c)
	if err != nil {
		return err
	}
	form := web.BackofficeAppointmentForm{Topic: formValue(c, "topic"), Office: formValue(c, "office"), Day: formValue(c, "day"),
		Time: formValue(c, "time"), Channel: formValue(c, "channel")}
	contact, errs := s.contactForm(c, false)
	form.Name, form.Email, form.Phone = contact.Name, contact.Email, contact.Phone
	if errs == nil {
		errs = web.FieldErrors{}
	}
	if contact.Email == "" && contact.Phone == "" && errs["email"] == "" {
		errs["phone"] = s.i18n.T(rs.lang, "appointments.error.reach", nil)
	}
	if _, ok := cfg.Topic(form.Topic); !ok {
		errs["topic"] = s.i18n.T(rs.lang, "appointments.error.topic", nil)
	}
	if _, ok := cfg.Office(form.Office); !ok {
		errs["office"] = s.i18n.T(rs.lang, "appointments.error.office", nil)
	}
	if form.Channel != appointment.Phone && form.Channel != appointment.Counter {
		errs["channel"] = s.i18n.T(rs.lang, "appointments.error.channel", nil)
	}
	start, terrs := s.staffTime(c, cfg, form.Day, form.Time)
	for k, v := range terrs {
		errs[k] = v
	}
	if len(errs) > 0 {
		errs[""] = s.i18n.T(rs.lang, "appointments.error.form", nil)
		return s.renderBackofficeAppointments(c, fiber.StatusUnprocessableEntity, cfg, form, errs)
	}
	a, err := s.Appointments.Book(c.UserContext(), rs.tenant.ID, appointment.Request{
		Topic: form.Topic, Office: form.Office, Start: start, Channel: form.Channel,
		Contact:  booking.Contact{Name: contact.Name, Email: contact.Email, Phone: contact.Phone},
		BookedBy: "user:" + strconv.FormatInt(rs.session.Subject.UserID, 10),
	}, s.appointmentNotice(c))
	if err != nil {
		status, msg, ok := s.refusal(c, err)
		if !ok {
			return err
		}
		return s.renderBackofficeAppointments(c, status, cfg, form, web.FieldErrors{"": msg})
	}
	return c.Redirect(rs.base+"/backoffice/appointments/"+url.PathEscape(a.Code)+"?done=booked", fiber.StatusSeeOther)
}

func (s *Server) backofficeAppointment(c *fiber.Ctx) error {
	done := c.Query("done")
	switch done {
	case "booked", "moved", "cancelled":
	default:
		done = ""
	}
	return s.renderBackofficeAppointment(c, fiber.StatusOK, done, "", "", nil)
}

func (s *Server) renderBackofficeAppointment(c *fiber.Ctx, status int, done, day, clock string, errs web.FieldErrors) error {
	rs := state(c)
	if s.Appointments == nil {
		return errNotFound
	}
	a, err := s.Appointments.Get(c.UserContext(), rs.tenant.ID, c.Params("code"), appointment.Access{Staff: true})
	if err != nil {
		return err
	}
	page := rs.base + "/backoffice/appointments/" + url.PathEscape(a.Code)
	v := s.appointmentView(rs.lang, a, page, "")
	v.CalendarURL = rs.base + "/appointments/" + url.PathEscape(a.Code) + "/calendar.ics"
	if day == "" {
		day, clock = v.Date, v.Time
	}
	p := s.page(c, "backoffice_appointment", s.i18n.T(rs.lang, "appointment.title", map[string]any{"Code": a.Code}))
	p.Data = &web.BackofficeAppointmentData{Appointment: v, MoveURL: page + "/move", CancelURL: page + "/cancel",
		Day: day, Time: clock, Reason: formValue(c, "reason"), Errors: errs, Done: done, BackURL: rs.base + "/backoffice/appointments"}
	return s.renderStatus(c, status, p)
}

func (s *Server) backofficeMove(c *fiber.Ctx) error {
	rs := state(c)
	cfg, err := s.appointmentConfig(c)
	if err != nil {
		return err
	}
	day, clock := formValue(c, "day"), formValue(c, "time")
	start, errs := s.staffTime(c, cfg, day, clock)
	if errs != nil {
		errs["move"] = s.i18n.T(rs.lang, "appointments.error.form", nil)
		return s.renderBackofficeAppointment(c, fiber.StatusUnprocessableEntity, "", day, clock, errs)
	}
	code := strings.Clone(c.Params("code"))
	if _, err := s.Appointments.Move(c.UserContext(), rs.tenant.ID, code, start, appointment.Access{Staff: true}, s.appointmentNotice(c)); err != nil {
		status, msg, ok := s.refusal(c, err)
		if !ok || status == fiber.StatusNotFound {
			return err
		}
		return s.renderBackofficeAppointment(c, status, "", day, clock, web.FieldErrors{"move": msg})
	}
	return c.Redirect(rs.base+"/backoffice/appointments/"+url.PathEscape(code)+"?done=moved", fiber.StatusSeeOther)
}

func (s *Server) backofficeCancel(c *fiber.Ctx) error {
	rs := state(c)
	if s.Appointments == nil {
		return errNotFound
	}
	code := strings.Clone(c.Params("code"))
	reason := formValue(c, "reason")
	if utf8.RuneCountInString(reason) > 500 {
		return s.renderBackofficeAppointment(c, fiber.StatusUnprocessableEntity, "", "", "",
			web.FieldErrors{"cancel": s.i18n.T(rs.lang, "appointments.error.reason", nil)})
	}
	if _, err := s.Appointments.Cancel(c.UserContext(), rs.tenant.ID, code, appointment.Access{Staff: true}, reason, s.appointmentNotice(c)); err != nil {
		status, msg, ok := s.refusal(c, err)
		if !ok || status == fiber.StatusNotFound {
			return err
		}
		return s.renderBackofficeAppointment(c, status, "", "", "", web.FieldErrors{"cancel": msg})
	}
	return c.Redirect(rs.base+"/backoffice/appointments/"+url.PathEscape(code)+"?done=cancelled", fiber.StatusSeeOther)
}
