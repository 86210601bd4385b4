package tenancy

import (
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // a manifest's time zone must not depend on the machine's zoneinfo
)

// ManifestAppointments is the section "appointments" of a manifest: which
// topics citizens may book at which office, and the rules of the booking.
// core/appointment applies it (appointment.Apply); tenancy only reads and
// checks it, so that every mistake is reported with its file and line.
type ManifestAppointments struct {
	// TimeZone of the offices' hours and of every date shown; Europe/Rome
	// when empty (Europe/Zurich for a Swiss town).
	TimeZone string `yaml:"time_zone"`
	// Anonymous lets visitors book with a name and an e-mail address,
	// without logging in.
	Anonymous bool `yaml:"anonymous"`
	// SlotMinutes is the length of one appointment (30 when zero).
	SlotMinutes int `yaml:"slot_minutes"`
	// HorizonDays is how far ahead one may book (60 when zero).
	HorizonDays int `yaml:"horizon_days"`
	// MinNoticeMinutes is how late one may still book a slot.
	MinNoticeMinutes int `yaml:"min_notice_minutes"`
	// CancelDeadlineHours is how long before the appointment the citizen
	// may still cancel or move it online (0: until it starts).
	CancelDeadlineHours int                  `yaml:"cancel_deadline_hours"`
	Topics              []AppointmentTopic   `yaml:"topics"`
	Offices             []AppointmentOffice  `yaml:"offices"`
	Closures            []AppointmentClosure `yaml:"closures"`
}

// AppointmentTopic is what one books for, "carta-identita".
type AppointmentTopic struct {
	ID   string `yaml:"id"`
	Name Text   `yaml:"name"`
}

// AppointmentOffice is an office that takes appointments.
type AppointmentOffice struct {
	Office string `yaml:"office"` // the slug of one of the manifest's offices
	// Desks serve at the same time: so many appointments per slot (1 when zero).
	Desks  int      `yaml:"desks"`
	Topics []string `yaml:"topics"` // ids of the topics above
	// SlotMinutes overrides the section's slot length for this office.
	SlotMinutes int `yaml:"slot_minutes"`
	// Hours are the hours appointments are given; the office's opening
	// hours when empty.
	Hours []Hours `yaml:"hours"`
}

// AppointmentClosure closes offices to appointments from one day to
// another, both included ("2026-12-24", "2026-12-26").
type AppointmentClosure struct {
	From   string `yaml:"from"`
	To     string `yaml:"to"`
	Reason string `yaml:"reason"`
	// Offices closed; every office of the section when empty.
	Offices []string `yaml:"offices"`
}

// Limits of the section, as core/booking accepts them.
const (
	maxSlotMinutes   = 240
	maxHorizonDays   = 365
	maxNoticeMinutes = 7 * 24 * 60
	maxDeadlineHours = 30 * 24
	maxDesks         = 50
	maxClosureDays   = 366
	maxClosureReason = 200
	maxTopics        = 100
)

// Zone is the section's time zone, Europe/Rome when none is given.
func (a *ManifestAppointments) Zone() string {
	if a == nil || a.TimeZone == "" {
		return "Europe/Rome"
	}
	return a.TimeZone
}

func (m *Manifest) validateAppointments(v *validator) {
	a := m.Appointments
	if a == nil {
		return
	}
	if a.TimeZone != "" {
		_, err := time.LoadLocation(a.TimeZone)
		v.check(err == nil, "$.appointments.time_zone", fmt.Sprintf("%q is not a time zone; use a name like Europe/Rome or Europe/Zurich", a.TimeZone))
	}
	bounds := func(path string, n, lo, hi int) {
		v.check(n == 0 || (n >= lo && n <= hi), path, fmt.Sprintf("must be from %d to %d", lo, hi))
	}
	bounds("$.appointments.slot_minutes", a.SlotMinutes, 5, maxSlotMinutes)
	bounds("$.appointments.horizon_days", a.HorizonDays, 1, maxHorizonDays)
	v.check(a.MinNoticeMinutes >= 0 && a.MinNoticeMinutes <= maxNoticeMinutes, "$.appointments.min_notice_minutes",
		fmt.Sprintf("must be from 0 to %d", maxNoticeMinutes))
	v.check(a.CancelDeadlineHours >= 0 && a.CancelDeadlineHours <= maxDeadlineHours, "$.appointments.cancel_deadline_hours",
		fmt.Sprintf("must be from 0 to %d", maxDeadlineHours))
	v.check(len(a.Topics) > 0, "$.appointments.topics", "list at least one topic (id and name)")
	v.check(len(a.Topics) <= maxTopics, "$.appointments.topics", fmt.Sprintf("at most %d topics", maxTopics))
	topics := map[string]bool{}
	for i, t := range a.Topics {
		p := fmt.Sprintf("$.appointments.topics[%d]", i)
		v.check(slugRe.MatchString(t.ID), p+".id", "must be lower-case letters, digits and dashes (e.g. carta-identita)")
		v.check(!topics[t.ID], p+".id", fmt.Sprintf("topic %q is listed twice", t.ID))
		topics[t.ID] = true
		v.check(t.Name.In("it") != "", p+".name", "is required")
	}
	offices := map[string]bool{}
	for _, o := range m.Offices {
		offices[o.Slug] = true
	}
	v.check(len(a.Offices) > 0, "$.appointments.offices", "list at least one office that takes appointments")
	listed := map[string]bool{}
	for i, o := range a.Offices {
		p := fmt.Sprintf("$.appointments.offices[%d]", i)
		v.check(offices[o.Office], p+".office", fmt.Sprintf("office %q is not among the manifest's offices", o.Office))
		v.check(!listed[o.Office], p+".office", fmt.Sprintf("office %q is listed twice", o.Office))
		listed[o.Office] = true
		bounds(p+".desks", o.Desks, 1, maxDesks)
		bounds(p+".slot_minutes", o.SlotMinutes, 5, maxSlotMinutes)
		v.check(len(o.Topics) > 0, p+".topics", "list the topics the office takes appointments for")
		for j, t := range o.Topics {
			tp := fmt.Sprintf("%s.topics[%d]", p, j)
			v.check(topics[t], tp, fmt.Sprintf("topic %q is not among appointments.topics", t))
			v.check(!slices.Contains(o.Topics[:j], t), tp, fmt.Sprintf("topic %q is listed twice", t))
		}
		hours := o.Hours
		for j, h := range hours {
			checkHours(v, fmt.Sprintf("%s.hours[%d]", p, j), h)
		}
		if len(hours) == 0 {
			for _, mo := range m.Offices {
				if mo.Slug == o.Office {
					hours = mo.Hours
				}
			}
		}
		v.check(len(hours) > 0, p+".hours", fmt.Sprintf("office %q has no opening hours: give the hours appointments are given", o.Office))
	}
	for i, c := range a.Closures {
		p := fmt.Sprintf("$.appointments.closures[%d]", i)
		from, err1 := time.Parse(time.DateOnly, c.From)
		to, err2 := time.Parse(time.DateOnly, c.To)
		v.check(err1 == nil, p+".from", "must be a date like 2026-12-24")
		v.check(err2 == nil, p+".to", "must be a date like 2026-12-26")
		if err1 == nil && err2 == nil {
			v.check(!to.Before(from), p+".to", "must not be before from")
			v.check(to.Sub(from) <= maxClosureDays*24*time.Hour, p+".to", "a closure spans at most a year")
		}
		v.check(len(c.Reason) <= maxClosureReason, p+".reason", fmt.Sprintf("at most %d characters", maxClosureReason))
		for j, o := range c.Offices {
			v.check(listed[o], fmt.Sprintf("%s.offices[%d]", p, j), fmt.Sprintf("office %q does not take appointments (appointments.offices)", o))
		}
	}
}

// checkHours is the check of an office's opening hours, for hours given
// elsewhere in the manifest.
func checkHours(v *validator, hp string, h Hours) {
	v.check(len(h.Days) > 0, hp+".days", "list the weekdays (mon … sun)")
	for k, d := range h.Days {
		v.check(weekdays[d], fmt.Sprintf("%s.days[%d]", hp, k), fmt.Sprintf("%q is not a weekday; use mon, tue, wed, thu, fri, sat, sun", d))
	}
	v.check(clockRe.MatchString(h.Open), hp+".open", "must be a time like 08:30")
	v.check(clockRe.MatchString(h.Close), hp+".close", "must be a time like 12:30")
	v.check(h.Open < h.Close, hp+".close", "must be after open")
}
