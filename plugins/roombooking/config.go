package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// maxRooms is how many room fieldsets the configuration form has
// (room_1 … room_6): the host draws no lists of fieldsets, and a town
// fills in as many as it has rooms.
const maxRooms = 6

// Payment moments a town may choose.
const (
	payAtBooking     = "at_booking"
	payAfterApproval = "after_approval"
)

// Ceremonies a wedding room hosts; the town offers some or all of them.
var ceremonies = []string{"civil_wedding", "civil_union", "vow_renewal"}

// roomConfig is one room as the town's admin fills in its fieldset.
type roomConfig struct {
	Slug         string  `json:"slug"`
	Name         string  `json:"name"`
	NameDE       string  `json:"name_de"`
	NameEN       string  `json:"name_en"`
	Capacity     int     `json:"capacity"`
	Equipment    string  `json:"equipment"`
	Photos       string  `json:"photos"`
	Hours        string  `json:"hours"`
	Closures     string  `json:"closures"`
	SlotMinutes  int     `json:"slot_minutes"`
	Price        float64 `json:"price"`
	Approval     bool    `json:"approval"`
	Wedding      bool    `json:"wedding"`
	ManagerEmail string  `json:"manager_email"`
}

// config is the town's configuration, as saved.
type config struct {
	Currency    string   `json:"currency"`
	Payment     string   `json:"payment"`
	HoldMinutes int      `json:"hold_minutes"`
	CancelHours int      `json:"cancel_hours"`
	NoticeHours int      `json:"notice_hours"`
	HorizonDays int      `json:"horizon_days"`
	Ceremonies  []string `json:"ceremonies"`
}

// room is a room ready for the booking engine and for people.
type room struct {
	Slug        string
	Names       map[string]string // it always; de and en when given
	Capacity    int               // people
	Equipment   []string
	Photos      []string
	HoursText   []string // the opening hours as the admin wrote them
	Hours       []*pb.OpeningHours
	Closures    []*pb.ClosingDays
	SlotMinutes int
	PriceCents  int64 // per slot
	Approval    bool
	Wedding     bool
	Manager     string // e-mail address told of bookings to approve
}

// name is the room's name in lang, Italian when not translated.
func (r *room) name(lang string) string {
	if n := r.Names[lang]; n != "" {
		return n
	}
	return r.Names["it"]
}

// settings are the town's configuration, checked and with defaults.
type settings struct {
	rooms       []*room
	currency    string
	payment     string
	holdMinutes int
	cancelHours int
	noticeHours int
	horizonDays int
	ceremonies  []string
}

// errNoRooms is a town that enabled the service and has not described a
// room yet.
var errNoRooms = fmt.Errorf("no rooms configured")

// loadSettings reads the request's configuration. The host validated it
// against the config schema when the town saved it; what the schema
// cannot say (dates that exist, a room code used twice) is checked here.
func loadSettings(raw json.RawMessage) (*settings, error) {
	cfg := config{Currency: "EUR", Payment: payAtBooking, HoldMinutes: 30, CancelHours: 48, NoticeHours: 24,
		HorizonDays: 180, Ceremonies: ceremonies}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	var fields map[string]json.RawMessage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	s := &settings{currency: cfg.Currency, payment: cfg.Payment, holdMinutes: cfg.HoldMinutes, cancelHours: cfg.CancelHours,
		noticeHours: cfg.NoticeHours, horizonDays: cfg.HorizonDays, ceremonies: cfg.Ceremonies}
	seen := map[string]bool{}
	for i := 1; i <= maxRooms; i++ {
		key := fmt.Sprintf("room_%d", i)
		data, ok := fields[key]
		if !ok || string(data) == "null" {
			continue
		}
		var rc roomConfig
		if err := json.Unmarshal(data, &rc); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		r, err := parseRoom(rc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if seen[r.Slug] {
			return nil, fmt.Errorf("%s: the code %q is used by another room", key, r.Slug)
		}
		seen[r.Slug] = true
		s.rooms = append(s.rooms, r)
	}
	if len(s.rooms) == 0 {
		return nil, errNoRooms
	}
	return s, nil
}

var slugRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)

func parseRoom(rc roomConfig) (*room, error) {
	r := &room{Slug: strings.TrimSpace(rc.Slug), Names: map[string]string{}, Capacity: rc.Capacity,
		SlotMinutes: rc.SlotMinutes, PriceCents: int64(math.Round(rc.Price * 100)), Approval: rc.Approval,
		Wedding: rc.Wedding, Manager: strings.TrimSpace(rc.ManagerEmail)}
	switch {
	case !slugRe.MatchString(r.Slug):
		return nil, fmt.Errorf("code %q: lower-case letters, digits and inner hyphens, at most 50", r.Slug)
	case strings.TrimSpace(rc.Name) == "":
		return nil, fmt.Errorf("room %s: no name", r.Slug)
	case r.Capacity < 1:
		return nil, fmt.Errorf("room %s: capacity %d", r.Slug, r.Capacity)
	case r.SlotMinutes < 5 || r.SlotMinutes > 1440:
		return nil, fmt.Errorf("room %s: slots of %d minutes", r.Slug, r.SlotMinutes)
	case r.PriceCents < 0:
		return nil, fmt.Errorf("room %s: negative price", r.Slug)
	}
	for lang, n := range map[string]string{"it": rc.Name, "de": rc.NameDE, "en": rc.NameEN} {
		if n = strings.TrimSpace(n); n != "" {
			r.Names[lang] = n
		}
	}
	r.Equipment = items(rc.Equipment, ",\n")
	r.Photos = strings.Fields(rc.Photos)
	var err error
	if r.HoursText, r.Hours, err = parseHours(rc.Hours); err != nil {
		return nil, fmt.Errorf("room %s: %w", r.Slug, err)
	}
	if r.Closures, err = parseClosures(rc.Closures); err != nil {
		return nil, fmt.Errorf("room %s: %w", r.Slug, err)
	}
	return r, nil
}

// items splits a list written one per line or separated by commas.
func items(s, seps string) []string {
	var out []string
	for _, it := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// Weekday names an admin may write, in Italian, German or English, by
// ISO number (1 Monday … 7 Sunday).
var weekdays = map[string]int32{
	"lun": 1, "mar": 2, "mer": 3, "gio": 4, "ven": 5, "sab": 6, "dom": 7,
	"mo": 1, "di": 2, "mi": 3, "do": 4, "fr": 5, "sa": 6, "so": 7,
	"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
}

var (
	hoursLineRe = regexp.MustCompile(`^(?i)([a-z]+(?:\s*-\s*[a-z]+)?(?:\s*,\s*[a-z]+(?:\s*-\s*[a-z]+)?)*)\s+(.+)$`)
	rangeRe     = regexp.MustCompile(`(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})`)
	// The engine takes at most 20 opening-hour rules per resource.
	maxHourRules = 20
)

// parseHours reads weekly opening hours, one line per group of days:
// "lun-ven 09:00-13:00, 14:30-23:00", "sab 09:00-13:00".
func parseHours(text string) ([]string, []*pb.OpeningHours, error) {
	var shown []string
	var out []*pb.OpeningHours
	for _, line := range strings.Split(text, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		m := hoursLineRe.FindStringSubmatch(line)
		if m == nil {
			return nil, nil, fmt.Errorf("hours %q: want days and times, such as lun-ven 09:00-18:00", line)
		}
		days, err := parseDays(m[1])
		if err != nil {
			return nil, nil, fmt.Errorf("hours %q: %w", line, err)
		}
		ranges := rangeRe.FindAllStringSubmatch(m[2], -1)
		if len(ranges) == 0 || strings.Trim(rangeRe.ReplaceAllString(m[2], ""), " ,;") != "" {
			return nil, nil, fmt.Errorf("hours %q: want times such as 09:00-18:00", line)
		}
		for _, tr := range ranges {
			opens, ok1 := clockText(tr[1], tr[2])
			closes, ok2 := clockText(tr[3], tr[4])
			if !ok1 || !ok2 || closes <= opens {
				return nil, nil, fmt.Errorf("hours %q: %s: want a closing time after the opening", line, tr[0])
			}
			out = append(out, &pb.OpeningHours{Name: strconv.Itoa(len(out) + 1), Weekdays: days, Opens: opens, Closes: closes})
		}
		shown = append(shown, line)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("no opening hours")
	}
	if len(out) > maxHourRules {
		return nil, nil, fmt.Errorf("%d opening-hour ranges, at most %d", len(out), maxHourRules)
	}
	return shown, out, nil
}

// parseDays reads "lun-ven, sab" into ISO weekdays, in order.
func parseDays(s string) ([]int32, error) {
	var out []int32
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok := weekdays[strings.ToLower(strings.TrimSpace(from))]
		if !ok {
			return nil, fmt.Errorf("%q is no weekday", strings.TrimSpace(from))
		}
		b := a
		if isRange {
			if b, ok = weekdays[strings.ToLower(strings.TrimSpace(to))]; !ok {
				return nil, fmt.Errorf("%q is no weekday", strings.TrimSpace(to))
			}
		}
		// A range may run over the week's end: "sab-lun".
		for d := a; ; d = d%7 + 1 {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
			if d == b {
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// clockText writes h:m as the engine reads it ("09:00"), "24:00" for
// midnight at the end of the day.
func clockText(h, m string) (string, bool) {
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 24 || mm > 59 || hh == 24 && mm != 0 {
		return "", false
	}
	return fmt.Sprintf("%02d:%02d", hh, mm), true
}

var closureRe = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|-|–)\s*(\d{4}-\d{2}-\d{2}))?(?:\s+(.+))?$`)

// parseClosures reads the room's closing days, one line each: a day or
// "first..last", then the reason: "2026-08-10..2026-08-23 Chiusura estiva".
func parseClosures(text string) ([]*pb.ClosingDays, error) {
	var out []*pb.ClosingDays
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := closureRe.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("closing days %q: want 2026-08-10 or 2026-08-10..2026-08-23, then the reason", line)
		}
		first, err := time.Parse(time.DateOnly, m[1])
		if err != nil {
			return nil, fmt.Errorf("closing days %q: %s is no date", line, m[1])
		}
		last := first
		if m[2] != "" {
			if last, err = time.Parse(time.DateOnly, m[2]); err != nil {
				return nil, fmt.Errorf("closing days %q: %s is no date", line, m[2])
			}
		}
		reason := strings.TrimSpace(m[3])
		switch {
		case last.Before(first):
			return nil, fmt.Errorf("closing days %q: the last day comes before the first", line)
		case last.Sub(first) > 366*24*time.Hour:
			return nil, fmt.Errorf("closing days %q: at most a year at a time", line)
		case len(reason) > 200:
			return nil, fmt.Errorf("closing days %q: a reason of at most 200 characters", line)
		}
		out = append(out, &pb.ClosingDays{FirstDay: first.Format(time.DateOnly), LastDay: last.Format(time.DateOnly), Reason: reason})
	}
	return out, nil
}

// resources are the rooms as the booking engine takes them. A room is
// booked whole, so each slot takes one booking: the number of people is
// the plugin's rule, not the engine's capacity.
func (s *settings) resources() []*pb.BookingResource {
	out := make([]*pb.BookingResource, 0, len(s.rooms))
	for _, r := range s.rooms {
		out = append(out, &pb.BookingResource{Slug: r.Slug, Kind: "room", Name: r.Names, Capacity: 1,
			PriceCents: r.PriceCents, Currency: s.currency, ApprovalRequired: r.Approval,
			SlotMinutes: int32(r.SlotMinutes), HorizonDays: int32(s.horizonDays),
			MinNoticeMinutes: int32(s.noticeHours * 60), CancelDeadlineMinutes: int32(s.cancelHours * 60),
			Hours: r.Hours, Closures: r.Closures, TimeZone: sdk.Zone.String()})
	}
	return out
}

// declaredKey is the setting holding a digest of the rooms last declared
// to the booking engine in the town.
const declaredKey = "resources.sha256"

// declare makes the booking engine know the town's rooms as configured.
// Declaring is idempotent but not free, so it happens when the
// configuration differs from what was last declared (or force, when the
// engine did not know a room the digest says it was told about).
func declare(ctx context.Context, host sdk.Host, s *settings, force bool) error {
	res := s.resources()
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.DefineResourcesRequest{Resources: res})
	if err != nil {
		return fmt.Errorf("digest the rooms: %w", err)
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	if !force {
		var last string
		found, err := host.GetSetting(ctx, declaredKey, &last)
		if err != nil {
			return fmt.Errorf("read %s: %w", declaredKey, err)
		}
		if found && last == digest {
			return nil
		}
	}
	if _, err := host.DefineResources(ctx, res); err != nil {
		return fmt.Errorf("declare the rooms: %w", err)
	}
	if err := host.PutSetting(ctx, declaredKey, digest); err != nil {
		return fmt.Errorf("remember the rooms declared: %w", err)
	}
	return nil
}

// find matches what a person typed against the rooms' codes and names in
// every language, ignoring case and spacing.
func (s *settings) find(typed string) *room {
	key := func(v string) string { return strings.ToLower(strings.Join(strings.Fields(v), " ")) }
	want := key(typed)
	for _, r := range s.rooms {
		if key(r.Slug) == want {
			return r
		}
		for _, n := range r.Names {
			if key(n) == want {
				return r
			}
		}
	}
	return nil
}

// roomNames lists the rooms of a kind (wedding or not) for a message.
func (s *settings) roomNames(lang string, wedding bool) string {
	var names []string
	for _, r := range s.rooms {
		if r.Wedding == wedding {
			names = append(names, r.name(lang))
		}
	}
	return strings.Join(names, "; ")
}
