package booking

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The calendar arithmetic: no database here. Days are civil dates, kept as
// a time.Time at midnight UTC (only year, month and day count); times of
// day are minutes since midnight; both become instants only through the
// resource's time zone, so a day with a clock change has 23 or 25 hours
// and its slots fall where the wall clock says.

// day is the civil date of t as read in t's own location.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// clock is a time of day in minutes since midnight; 1440 is the midnight
// that ends the day.
type clock int

func parseClock(s string) (clock, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q: want a time from 00:00 to 24:00", s)
	}
	return clock(hh*60 + mm), nil
}

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", c/60, c%60) }

// on is the instant of c on civil day d in loc.
func (c clock) on(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), int(c/60), int(c%60), 0, 0, loc)
}

// rule is one named opening-hour rule, parsed.
type rule struct {
	weekdays      [7]bool // by time.Weekday
	opens, closes clock
	from, to      time.Time // civil days, zero when unbounded
}

func (r rule) appliesOn(d time.Time) bool {
	return r.weekdays[d.Weekday()] && (r.from.IsZero() || !d.Before(r.from)) && (r.to.IsZero() || !d.After(r.to))
}

type closure struct {
	from, to time.Time // civil days, both closed
	reason   string
}

type interval struct{ start, end time.Time }

// calendar is a resource's bookable time.
type calendar struct {
	loc            *time.Location
	slot           time.Duration
	capacity       int
	horizonDays    int
	notice         time.Duration
	cancelDeadline time.Duration
	hold           time.Duration
	approval       bool
	active         bool
	rules          []rule
	closures       []closure
}

// open is the opening time of civil day d: the union of the rules valid
// that day, as disjoint intervals in order. Rules that overlap or touch
// make one interval, whose slots run on from its start.
func (c *calendar) open(d time.Time) []interval {
	var out []interval
	for _, r := range c.rules {
		if r.appliesOn(d) {
			out = append(out, interval{r.opens.on(d, c.loc), r.closes.on(d, c.loc)})
		}
	}
	slices.SortFunc(out, func(a, b interval) int { return a.start.Compare(b.start) })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && !iv.start.After(merged[n-1].end) {
			if iv.end.After(merged[n-1].end) {
				merged[n-1].end = iv.end
			}
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

// slots are the slot starts of civil day d, closures and the booking
// window aside. Steps are in elapsed time, so a slot is always slot long.
func (c *calendar) slots(d time.Time) []time.Time {
	var out []time.Time
	for _, iv := range c.open(d) {
		for t := iv.start; !t.Add(c.slot).After(iv.end); t = t.Add(c.slot) {
			out = append(out, t)
		}
	}
	return out
}

func (c *calendar) closedOn(d time.Time) (closure, bool) {
	for _, cl := range c.closures {
		if !d.Before(cl.from) && !d.After(cl.to) {
			return cl, true
		}
	}
	return closure{}, false
}

// firstBookable is the earliest time a slot may start at now.
func (c *calendar) firstBookable(now time.Time) time.Time { return now.Add(c.notice).In(c.loc) }

// lastDay is the last civil day one may book at now.
func (c *calendar) lastDay(now time.Time) time.Time {
	return day(now.In(c.loc)).AddDate(0, 0, c.horizonDays)
}

// bookable reports whether a slot starting at start is inside the booking
// window at now (closures and hours aside).
func (c *calendar) inWindow(start, now time.Time) bool {
	return !start.Before(c.firstBookable(now)) && !day(start.In(c.loc)).After(c.lastDay(now))
}

// check refuses a start that breaks a rule of the calendar at now.
func (c *calendar) check(start, now time.Time) error {
	start = start.In(c.loc)
	refuse := func(rule string, sentinel error) *RuleError {
		return &RuleError{Rule: rule, Start: start, err: sentinel}
	}
	d := day(start)
	switch {
	case !c.active:
		return refuse(RuleInactive, ErrClosed)
	case start.Before(now):
		e := refuse(RulePast, ErrPast)
		e.Limit = c.firstBookable(now)
		return e
	case start.Before(c.firstBookable(now)):
		e := refuse(RuleNotice, ErrPast)
		e.Limit = c.firstBookable(now)
		return e
	case d.After(c.lastDay(now)):
		e := refuse(RuleHorizon, ErrBeyondHorizon)
		e.Limit = c.lastDay(now)
		return e
	}
	if cl, closed := c.closedOn(d); closed {
		e := refuse(RuleClosed, ErrClosed)
		e.Reason = cl.reason
		return e
	}
	if slices.ContainsFunc(c.slots(d), start.Equal) {
		return nil
	}
	for _, iv := range c.open(d) {
		if !start.Before(iv.start) && start.Before(iv.end) {
			return refuse(RuleGrid, ErrOutsideHours)
		}
	}
	return refuse(RuleHours, ErrOutsideHours)
}

// occupancy counts, for each slot, the seats that live bookings take.
type occupancy struct {
	periods []seatPeriod // sorted by start
	longest time.Duration
}

type seatPeriod struct {
	seat       int
	start, end time.Time
}

func newOccupancy(periods []seatPeriod) occupancy {
	slices.SortFunc(periods, func(a, b seatPeriod) int { return a.start.Compare(b.start) })
	o := occupancy{periods: periods}
	for _, p := range periods {
		o.longest = max(o.longest, p.end.Sub(p.start))
	}
	return o
}

// taken is the number of distinct seats busy during [start, end).
func (o occupancy) taken(start, end time.Time) int {
	// No period starting before start-longest can reach start.
	from, _ := slices.BinarySearchFunc(o.periods, start.Add(-o.longest), func(p seatPeriod, t time.Time) int { return p.start.Compare(t) })
	var seats []int
	for _, p := range o.periods[from:] {
		if !p.start.Before(end) {
			break
		}
		if p.end.After(start) && !slices.Contains(seats, p.seat) {
			seats = append(seats, p.seat)
		}
	}
	return len(seats)
}
