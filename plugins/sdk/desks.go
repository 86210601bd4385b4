package sdk

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// Desk is one live desk of a service's configuration. The host and the
// service read the same lines of text,
//
//	anagrafe: Anagrafe | anna@comune.it, luca@comune.it | mon wed fri 09:00-12:30
//
// a code, a name, then after bars the addresses of the operators who
// answer it (none: every operator) and its own days and hours (none: the
// service's).
type Desk struct {
	ID, Name  string
	Operators []string // lower case
	Days      []string // "mon" … "sun"; nil: the service's
	Opens     string   // "09:00"; "" : the service's
	Closes    string   // "00:00" is midnight
}

var (
	deskDay   = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun)$`)
	deskHours = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// ParseDesks reads desk lines; a line without a code and a name, or a
// code met before, is skipped (the configuration's schema refuses them
// anyway), as are words of the hours part that are neither a day nor a
// range of hours.
func ParseDesks(text string) []Desk {
	var out []Desk
	for _, line := range strings.Split(text, "\n") {
		parts := strings.Split(line, "|")
		id, name, ok := strings.Cut(parts[0], ":")
		id, name = strings.TrimSpace(id), strings.TrimSpace(name)
		if !ok || id == "" || name == "" || slices.ContainsFunc(out, func(d Desk) bool { return d.ID == id }) {
			continue
		}
		d := Desk{ID: id, Name: name}
		if len(parts) > 1 {
			for _, o := range strings.Split(parts[1], ",") {
				if o = strings.ToLower(strings.TrimSpace(o)); o != "" {
					d.Operators = append(d.Operators, o)
				}
			}
		}
		if len(parts) > 2 {
			for _, w := range strings.Fields(strings.ToLower(parts[2])) {
				switch {
				case deskDay.MatchString(w):
					d.Days = append(d.Days, w)
				case deskHours.MatchString(w):
					d.Opens, d.Closes, _ = strings.Cut(w, "-")
				}
			}
		}
		out = append(out, d)
	}
	return out
}

var weekdayCodes = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // time.Weekday order

// OpenAt reports whether the desk is open at t (in Zone), by its own
// days and hours or else the service's.
func (d Desk) OpenAt(t time.Time, days []string, opens, closes string) bool {
	if len(d.Days) > 0 {
		days = d.Days
	}
	if d.Opens != "" {
		opens, closes = d.Opens, d.Closes
	}
	if len(opens) < 5 || len(closes) < 5 {
		return false
	}
	t = t.In(Zone)
	hhmm := t.Format("15:04")
	// "HH:MM" strings compare in clock order; closing at "00:00" is
	// closing at midnight.
	return slices.Contains(days, weekdayCodes[t.Weekday()]) && hhmm >= opens[:5] && (hhmm < closes[:5] || closes[:5] == "00:00")
}

// Hours are the days and hours the desk keeps, given the service's.
func (d Desk) Hours(days []string, opens, closes string) ([]string, string, string) {
	if len(d.Days) > 0 {
		days = d.Days
	}
	if d.Opens != "" {
		opens, closes = d.Opens, d.Closes
	}
	return days, opens, closes
}
