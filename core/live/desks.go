package live

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DeskConfig is what the host reads of a live service's configuration:
// the hours, and the desks as lines of text,
//
//	anagrafe: Anagrafe | anna@comune.it, luca@comune.it
//
// a code, a name and, after a bar, the addresses of the operators who
// answer it (none: everyone allowed to). Every desk keeps the service's
// hours.
type DeskConfig struct {
	Days   []string `json:"days"`
	Opens  string   `json:"opens"`
	Closes string   `json:"closes"`
	Desks  string   `json:"desks"`
}

// defaultDesk is the desk of a service that configures none.
var defaultDesk = Desk{ID: "urp", Name: "URP"}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // time.Weekday order

// DesksOf reads the desks of a live service's configuration, open or not
// at now (in zone).
func DesksOf(config json.RawMessage, now time.Time, zone *time.Location) ([]Desk, error) {
	c := DeskConfig{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Opens: "09:00", Closes: "12:30"}
	if len(config) > 0 {
		if err := json.Unmarshal(config, &c); err != nil {
			return nil, fmt.Errorf("desks: %w", err)
		}
	}
	t := now.In(zone)
	hhmm := t.Format("15:04")
	open := slices.Contains(c.Days, weekdays[t.Weekday()]) && len(c.Opens) >= 5 && len(c.Closes) >= 5 &&
		hhmm >= c.Opens[:5] && (hhmm < c.Closes[:5] || c.Closes[:5] == "00:00") // closing at midnight
	out := ParseDesks(c.Desks)
	if len(out) == 0 {
		out = []Desk{defaultDesk}
	}
	for i := range out {
		out[i].Open = open
	}
	return out, nil
}

// ParseDesks reads desk lines; lines without a code and a name are
// skipped (the configuration's schema refuses them anyway).
func ParseDesks(text string) []Desk {
	var out []Desk
	for _, line := range strings.Split(text, "\n") {
		head, ops, _ := strings.Cut(line, "|")
		id, name, ok := strings.Cut(head, ":")
		id, name = strings.TrimSpace(id), strings.TrimSpace(name)
		if !ok || id == "" || name == "" || slices.ContainsFunc(out, func(d Desk) bool { return d.ID == id }) {
			continue
		}
		d := Desk{ID: id, Name: name}
		for _, o := range strings.Split(ops, ",") {
			if o = strings.ToLower(strings.TrimSpace(o)); o != "" {
				d.Operators = append(d.Operators, o)
			}
		}
		out = append(out, d)
	}
	return out
}
