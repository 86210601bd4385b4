package web

// AppointmentsData is the Data of the "appointments" page: booking an
// appointment step by step (what for, where, which day, which time, who),
// or choosing the new time of one being moved. Each step is a link or a
// GET form, so the page works without script; what was chosen shows above
// the current step with a link to change it.
type AppointmentsData struct {
	// Step is the step shown: "topic", "office", "day", "time" or "confirm".
	Step string
	// Moving is the appointment being moved; nil when booking a new one.
	Moving *AppointmentView

	Topics  []Choice // step "topic"
	Offices []Choice // step "office"
	Month   *CalendarMonth
	Times   []Choice // step "time"

	// What was chosen so far, written out ("" when not yet), and where to
	// go to choose it again.
	Topic, Office, Address, Day, Time    string
	TopicURL, OfficeURL, DayURL, TimeURL string

	// The confirmation form (step "confirm") posts Start, Topic and Office
	// with Form to Action.
	Action                  string
	Start                   string // the chosen time, RFC 3339
	TopicValue, OfficeValue string
	Form                    AppointmentForm
	Errors                  FieldErrors // by field; "" is the whole form
	// LoginURL is set when the town takes bookings only from people who
	// log in and the visitor has not; the form is then not shown.
	LoginURL string
	// Citizen: the person is logged in, and the booking goes under their
	// account.
	Citizen bool
	// Deadline explains until when the appointment can be moved or
	// cancelled online ("" when until it starts).
	Deadline string
}

// Choice is one option of a step: a link that chooses it.
type Choice struct {
	Label    string
	Detail   string // a second line: an office's address, the free desks of a time
	URL      string
	Selected bool
}

// CalendarMonth is a month of days to choose from, Monday first. Days with
// a free time have a URL; the others are shown, not offered.
type CalendarMonth struct {
	Title    string    // "dicembre 2026"
	Weekdays []Weekday // Monday first
	Weeks    [][]CalendarDay
	PrevURL  string // "" before the first month one may book
	NextURL  string // "" after the last
	// Free is how many days of the month have a free time.
	Free int
}

// Weekday is a column of a CalendarMonth.
type Weekday struct {
	Name  string // "lunedì"
	Short string // "lun"
}

// CalendarDay is one cell of a CalendarMonth; Day 0 is a blank cell.
type CalendarDay struct {
	Day   int
	Label string // the date in full, for screen readers
	URL   string // "" when nothing is free that day
	Today bool
}

// AppointmentForm is who the appointment is for.
type AppointmentForm struct {
	Name, Email, Phone string
}

// AppointmentView is one appointment, written out for a page.
type AppointmentView struct {
	Code    string
	Topic   string
	Office  string
	Address string
	When    string // "3 dicembre 2026, 09:30"
	Date    string // "2026-12-03", for date fields
	Time    string // "09:30", for time fields
	Status  string // the booking's: "confirmed", "cancelled", …
	State   string // at the counter: "booked", "checked_in", "called", "served"
	Name    string
	Email   string
	Phone   string
	Channel string // "web", "phone", "counter"
	// Deadline is the last moment the person may move or cancel it online.
	Deadline string
	// CanChange: the person may still move or cancel it online.
	CanChange bool
	Reason    string // why it was cancelled, when it was
	URL       string // its page
	// Token travels with the forms of the page when it was reached from
	// the e-mail's link; "" otherwise.
	Token       string
	MoveURL     string
	CalendarURL string // the .ics file
}

// AppointmentData is the Data of the "appointment" page: one appointment
// for the person who booked it, with its code, and the forms to move and
// cancel it. Done says what just happened ("booked", "moved",
// "cancelled", "" for nothing), Error why the last change was refused.
type AppointmentData struct {
	Appointment AppointmentView
	Done        string
	Error       string
}

// BackofficeAppointmentsData is the Data of "backoffice_appointments":
// the search (a GET form: code, name, day, office), its results, and the
// form that books for somebody on the phone or at the counter (posted to
// CreateURL, coming back with Create and CreateErrors when refused).
type BackofficeAppointmentsData struct {
	Code, Name, Day, Office string // the search as typed
	Offices                 []Option
	Results                 []AppointmentView
	// Searched: the list is a search's; otherwise today's appointments.
	Searched bool
	Errors   FieldErrors

	CreateURL    string
	Topics       []Option
	Channels     []Option
	Create       BackofficeAppointmentForm
	CreateErrors FieldErrors
	Created      string // the code of the appointment just booked
}

// BackofficeAppointmentForm is what the booking form of the back office
// posts.
type BackofficeAppointmentForm struct {
	Topic, Office, Day, Time, Name, Email, Phone, Channel string
}

// BackofficeAppointmentData is the Data of "backoffice_appointment": one
// appointment for staff, with forms to move it (a day and a time, posted to
// MoveURL) and cancel it (a reason, posted to CancelURL).
type BackofficeAppointmentData struct {
	Appointment AppointmentView
	MoveURL     string
	CancelURL   string
	Day, Time   string // the move form as typed
	Reason      string
	Errors      FieldErrors // "move", "cancel"
	Done        string      // "moved", "cancelled", "booked"
	BackURL     string
}
