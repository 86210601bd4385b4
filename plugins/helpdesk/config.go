package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A town's configuration, as its admin fills it in: list-like settings are
// textareas of one entry per line, with fields separated by semicolons.
// The config schema's patterns check each line's shape when the admin
// saves; setupOf reads the lines and checks what a pattern cannot (a code
// given twice, a rule naming an area nobody drew).

type rawConfig struct {
	// Office is the central office (URP): the one the host assigns a
	// dossier to when neither its topic nor a rule names another.
	Office     string     `json:"office"`
	Anonymous  bool       `json:"anonymous"`
	Categories string     `json:"categories"`
	Redirects  string     `json:"redirects"`
	Areas      string     `json:"areas"`
	Rules      string     `json:"rules"`
	Answers    string     `json:"answers"`
	Bounds     *rawBounds `json:"bounds"`
	DueHours   int        `json:"due_hours"`
	ReopenDays *int       `json:"reopen_days"`
}

type rawBounds struct {
	South *float64 `json:"south"`
	West  *float64 `json:"west"`
	North *float64 `json:"north"`
	East  *float64 `json:"east"`
}

// Defaults where the town says nothing.
const (
	defaultDueHours   = 240
	defaultReopenDays = 14
)

var priorities = []string{"low", "normal", "high", "urgent"}

// channels a request comes in through. "app" is the Open311 clients'; the
// dossier itself knows web, phone and counter.
var channels = []string{"web", "phone", "counter", "app"}

// handling is how a town deals with a topic it handles.
type handling struct {
	Office   string // "" is the central office
	Priority string // "" is normal
	DueHours int    // 0 is the town's default
}

// redirect is where to turn for a topic the town does not handle.
type redirect struct {
	Who     string
	Contact string // a URL or a phone number; may be empty
}

// area is a named part of town: a box from two corners, or a polygon.
type area struct {
	Name   string
	Points []point
}

type point struct{ Lat, Lon float64 }

// rule assigns matching requests; "*" matches anything.
type rule struct {
	Number   int // counting rules only, from 1
	Category string
	Area     string
	Channel  string
	Office   string // "-" keeps the topic's office
	Assignee string // e-mail address of the operator to take it; "" for nobody
	DueHours int    // 0 keeps the topic's
	Priority string // "" keeps the topic's
}

// answer is an entry of the knowledge base.
type answer struct {
	Keywords []string
	Question string
	Answer   string
	Link     string
}

type bounds struct{ South, West, North, East float64 }

// setup is a town's configuration, read and checked.
type setup struct {
	Office     string
	Anonymous  bool
	Handled    map[string]handling
	Redirects  map[string]redirect
	Areas      []area
	Rules      []rule
	Answers    []answer
	Bounds     *bounds
	DueHours   int
	ReopenDays int
}

// configError is a configuration the schema let through but that cannot
// be applied; it says which setting and line, for the log.
type configError struct {
	Setting string
	Line    int
	Problem string
}

func (e *configError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config %s, line %d: %s", e.Setting, e.Line, e.Problem)
	}
	return fmt.Sprintf("config %s: %s", e.Setting, e.Problem)
}

// setupOf reads the town's configuration.
func setupOf(cfg json.RawMessage) (*setup, error) {
	var raw rawConfig
	if len(cfg) > 0 {
		if err := json.Unmarshal(cfg, &raw); err != nil {
			return nil, &configError{Setting: "(all)", Problem: err.Error()}
		}
	}
	s := &setup{Office: strings.TrimSpace(raw.Office), Anonymous: raw.Anonymous, Handled: map[string]handling{},
		Redirects: map[string]redirect{}, DueHours: raw.DueHours, ReopenDays: defaultReopenDays}
	if s.DueHours <= 0 {
		s.DueHours = defaultDueHours
	}
	if raw.ReopenDays != nil {
		s.ReopenDays = max(*raw.ReopenDays, 0)
	}
	var err error
	if s.Handled, err = parseCategories(raw.Categories); err != nil {
		return nil, err
	}
	if s.Redirects, err = parseRedirects(raw.Redirects, s.Handled); err != nil {
		return nil, err
	}
	if s.Areas, err = parseAreas(raw.Areas); err != nil {
		return nil, err
	}
	if s.Rules, err = parseRules(raw.Rules, s.Areas); err != nil {
		return nil, err
	}
	if s.Answers, err = parseAnswers(raw.Answers); err != nil {
		return nil, err
	}
	if s.Bounds, err = parseBounds(raw.Bounds); err != nil {
		return nil, err
	}
	return s, nil
}

// entry is one non-blank line of a list setting, split at semicolons.
type entry struct {
	Line   int
	Fields []string
}

func entries(s string) []entry {
	var out []entry
	for i, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		fields := strings.Split(l, ";")
		for j := range fields {
			fields[j] = strings.TrimSpace(fields[j])
		}
		out = append(out, entry{Line: i + 1, Fields: fields})
	}
	return out
}

func field(fields []string, i int) string {
	if i < len(fields) {
		return fields[i]
	}
	return ""
}

// parseCategories reads "code; office; priority; hours", the last three
// optional ("-" or empty for the central office).
func parseCategories(s string) (map[string]handling, error) {
	out := map[string]handling{}
	for _, e := range entries(s) {
		bad := func(format string, args ...any) error {
			return &configError{Setting: "categories", Line: e.Line, Problem: fmt.Sprintf(format, args...)}
		}
		code := e.Fields[0]
		if _, ok := categoryOf(code); !ok {
			return nil, bad("unknown topic %q", code)
		}
		if _, dup := out[code]; dup {
			return nil, bad("topic %q is listed twice", code)
		}
		if len(e.Fields) > 4 {
			return nil, bad("want code; office; priority; hours")
		}
		h := handling{Office: field(e.Fields, 1), Priority: field(e.Fields, 2)}
		if h.Office == "-" {
			h.Office = ""
		}
		if h.Office != "" && !validSlug(h.Office) {
			return nil, bad("office %q: not an office code", h.Office)
		}
		if h.Priority != "" && !contains(priorities, h.Priority) {
			return nil, bad("priority %q: want one of %s", h.Priority, strings.Join(priorities, ", "))
		}
		if hours := field(e.Fields, 3); hours != "" {
			n, err := strconv.Atoi(hours)
			if err != nil || n <= 0 {
				return nil, bad("hours %q: want a whole number above zero", hours)
			}
			h.DueHours = n
		}
		out[code] = h
	}
	return out, nil
}

// parseRedirects reads "code; who; contact" for the topics the town does
// not handle.
func parseRedirects(s string, handled map[string]handling) (map[string]redirect, error) {
	out := map[string]redirect{}
	for _, e := range entries(s) {
		bad := func(format string, args ...any) error {
			return &configError{Setting: "redirects", Line: e.Line, Problem: fmt.Sprintf(format, args...)}
		}
		code := e.Fields[0]
		switch _, known := categoryOf(code); {
		case !known:
			return nil, bad("unknown topic %q", code)
		case len(e.Fields) < 2 || len(e.Fields) > 3 || e.Fields[1] == "":
			return nil, bad("want code; who to turn to; link or phone")
		}
		if _, dup := out[code]; dup {
			return nil, bad("topic %q is listed twice", code)
		}
		if _, ok := handled[code]; ok {
			return nil, bad("topic %q is both handled and sent elsewhere", code)
		}
		out[code] = redirect{Who: e.Fields[1], Contact: field(e.Fields, 2)}
	}
	return out, nil
}

// parseAreas reads "name; lat lon, lat lon[, lat lon…]": two corners of
// a box, or three points and more of a polygon.
func parseAreas(s string) ([]area, error) {
	var out []area
	seen := map[string]bool{}
	for _, e := range entries(s) {
		bad := func(format string, args ...any) error {
			return &configError{Setting: "areas", Line: e.Line, Problem: fmt.Sprintf(format, args...)}
		}
		if len(e.Fields) != 2 {
			return nil, bad("want name; lat lon, lat lon")
		}
		name := e.Fields[0]
		if !validSlug(name) || name == "*" {
			return nil, bad("name %q: lower-case letters, digits and -", name)
		}
		if seen[name] {
			return nil, bad("area %q is listed twice", name)
		}
		seen[name] = true
		a := area{Name: name}
		for _, p := range strings.Split(e.Fields[1], ",") {
			pt, err := parsePoint(p)
			if err != nil {
				return nil, bad("%v", err)
			}
			a.Points = append(a.Points, pt)
		}
		switch {
		case len(a.Points) < 2:
			return nil, bad("give two corners of a box, or three points or more of a polygon")
		case len(a.Points) == 2 && (a.Points[0].Lat == a.Points[1].Lat || a.Points[0].Lon == a.Points[1].Lon):
			return nil, bad("the two corners make no box")
		case len(a.Points) > 2 && polygonArea(a.Points) == 0:
			return nil, bad("the points make no polygon")
		}
		out = append(out, a)
	}
	return out, nil
}

func parsePoint(s string) (point, error) {
	parts := strings.Fields(s)
	if len(parts) != 2 {
		return point{}, fmt.Errorf("point %q: want latitude and longitude, like 45.43 12.33", strings.TrimSpace(s))
	}
	lat, err1 := strconv.ParseFloat(parts[0], 64)
	lon, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return point{}, fmt.Errorf("point %q: latitude -90 to 90, longitude -180 to 180", strings.TrimSpace(s))
	}
	return point{Lat: lat, Lon: lon}, nil
}

// parseRules reads "category; area; channel -> target; hours; priority",
// the last two optional. The target is an office code ("-" keeps the
// topic's), an operator's e-mail address, or both: "manutenzione
// mario.rossi@comune.example". An operator alone keeps the topic's office.
func parseRules(s string, areas []area) ([]rule, error) {
	var out []rule
	for _, e := range entries(strings.ReplaceAll(s, "→", "->")) {
		bad := func(format string, args ...any) error {
			return &configError{Setting: "rules", Line: e.Line, Problem: fmt.Sprintf(format, args...)}
		}
		// The arrow sits inside the third field: "web -> urp".
		if len(e.Fields) < 3 || len(e.Fields) > 5 {
			return nil, bad("want category; area; channel -> office or operator; hours; priority")
		}
		ch, target, ok := strings.Cut(e.Fields[2], "->")
		if !ok {
			return nil, bad("want category; area; channel -> office or operator; hours; priority")
		}
		r := rule{Number: len(out) + 1, Category: e.Fields[0], Area: e.Fields[1], Channel: strings.TrimSpace(ch),
			Office: "-", Priority: field(e.Fields, 4)}
		switch t := strings.Fields(target); {
		case len(t) == 1 && strings.Contains(t[0], "@"):
			r.Assignee = t[0]
		case len(t) == 1:
			r.Office = t[0]
		case len(t) == 2:
			r.Office, r.Assignee = t[0], t[1]
		default:
			return nil, bad("after the arrow: an office code, an operator's e-mail address, or both")
		}
		if _, ok := categoryOf(r.Category); !ok && r.Category != "*" {
			return nil, bad("unknown topic %q", r.Category)
		}
		if r.Area != "*" && !hasArea(areas, r.Area) {
			return nil, bad("no area %q among the areas", r.Area)
		}
		if r.Channel != "*" && !contains(channels, r.Channel) {
			return nil, bad("channel %q: want one of %s or *", r.Channel, strings.Join(channels, ", "))
		}
		if r.Office != "-" && !validSlug(r.Office) {
			return nil, bad("office %q: an office code, or - for the topic's", r.Office)
		}
		if r.Assignee != "" && !validEmail(r.Assignee) {
			return nil, bad("operator %q: not an e-mail address", r.Assignee)
		}
		if hours := field(e.Fields, 3); hours != "" {
			n, err := strconv.Atoi(hours)
			if err != nil || n <= 0 {
				return nil, bad("hours %q: want a whole number above zero", hours)
			}
			r.DueHours = n
		}
		if r.Priority != "" && !contains(priorities, r.Priority) {
			return nil, bad("priority %q: want one of %s", r.Priority, strings.Join(priorities, ", "))
		}
		out = append(out, r)
	}
	return out, nil
}

// parseAnswers reads "keywords; question; answer; link", the keywords
// separated by commas and the link optional.
func parseAnswers(s string) ([]answer, error) {
	var out []answer
	for _, e := range entries(s) {
		bad := func(format string, args ...any) error {
			return &configError{Setting: "answers", Line: e.Line, Problem: fmt.Sprintf(format, args...)}
		}
		if len(e.Fields) < 3 || len(e.Fields) > 4 || e.Fields[1] == "" || e.Fields[2] == "" {
			return nil, bad("want keywords; question; answer; link")
		}
		a := answer{Question: e.Fields[1], Answer: e.Fields[2], Link: field(e.Fields, 3)}
		for _, k := range strings.Split(e.Fields[0], ",") {
			if k = fold(k); strings.Trim(k, " *") != "" {
				a.Keywords = append(a.Keywords, k)
			}
		}
		if len(a.Keywords) == 0 {
			return nil, bad("no keywords")
		}
		if a.Link != "" && !strings.HasPrefix(a.Link, "/") && !strings.HasPrefix(a.Link, "https://") && !strings.HasPrefix(a.Link, "http://") {
			return nil, bad("link %q: a path like /services/appointments or an http(s) address", a.Link)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseBounds(b *rawBounds) (*bounds, error) {
	if b == nil || (b.South == nil && b.West == nil && b.North == nil && b.East == nil) {
		return nil, nil
	}
	if b.South == nil || b.West == nil || b.North == nil || b.East == nil {
		return nil, &configError{Setting: "bounds", Problem: "give south, west, north and east"}
	}
	out := &bounds{South: *b.South, West: *b.West, North: *b.North, East: *b.East}
	if out.South >= out.North || out.West >= out.East {
		return nil, &configError{Setting: "bounds", Problem: "south must be below north and west below east"}
	}
	return out, nil
}

func hasArea(areas []area, name string) bool {
	for _, a := range areas {
		if a.Name == name {
			return true
		}
	}
	return false
}

// validEmail is the shape of an operator's address as the host takes it:
// bare, one @, a dot in the domain. Whether the town has such an operator
// only the host knows.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>,;\"\\") || strings.Contains(domain, "@") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

func validSlug(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// Geometry, on the flat plane of latitude and longitude: good enough for
// a town, far from the poles and the date line.

func (b *bounds) contains(p point) bool {
	return p.Lat >= b.South && p.Lat <= b.North && p.Lon >= b.West && p.Lon <= b.East
}

func (a area) contains(p point) bool {
	if len(a.Points) == 2 {
		box := bounds{South: min(a.Points[0].Lat, a.Points[1].Lat), North: max(a.Points[0].Lat, a.Points[1].Lat),
			West: min(a.Points[0].Lon, a.Points[1].Lon), East: max(a.Points[0].Lon, a.Points[1].Lon)}
		return box.contains(p)
	}
	// Even-odd rule: a ray from p eastwards crosses the border an odd
	// number of times when p is inside.
	inside := false
	for i, j := 0, len(a.Points)-1; i < len(a.Points); j, i = i, i+1 {
		pi, pj := a.Points[i], a.Points[j]
		if (pi.Lat > p.Lat) != (pj.Lat > p.Lat) &&
			p.Lon < (pj.Lon-pi.Lon)*(p.Lat-pi.Lat)/(pj.Lat-pi.Lat)+pi.Lon {
			inside = !inside
		}
	}
	return inside
}

// polygonArea is twice the polygon's signed area (shoelace): zero when the
// points lie on a line.
func polygonArea(ps []point) float64 {
	var sum float64
	for i := range ps {
		j := (i + 1) % len(ps)
		sum += ps[i].Lon*ps[j].Lat - ps[j].Lon*ps[i].Lat
	}
	return sum
}

// areaOf is the first area holding p, "" if none or no point.
func (s *setup) areaOf(p *point) string {
	if p == nil {
		return ""
	}
	for _, a := range s.Areas {
		if a.contains(*p) {
			return a.Name
		}
	}
	return ""
}

// assignment is where a request goes and how soon.
type assignment struct {
	Office   string
	Priority string
	DueHours int
	Rule     int    // the rule that matched, 0 for none
	Assignee string // the operator's e-mail address; "" for nobody
}

// assign applies the rules, first match wins, over the topic's own
// handling and the town's defaults.
func (s *setup) assign(code string, p *point, channel string) assignment {
	h := s.Handled[code]
	out := assignment{Office: h.Office, Priority: h.Priority, DueHours: h.DueHours}
	for _, r := range s.Rules {
		if (r.Category != "*" && r.Category != code) || (r.Channel != "*" && r.Channel != channel) {
			continue
		}
		if r.Area != "*" && (p == nil || !s.areaContains(r.Area, *p)) {
			continue
		}
		out.Rule = r.Number
		if r.Office != "-" {
			out.Office = r.Office
		}
		out.Assignee = r.Assignee
		if r.DueHours > 0 {
			out.DueHours = r.DueHours
		}
		if r.Priority != "" {
			out.Priority = r.Priority
		}
		break
	}
	if out.Office == "" {
		out.Office = s.Office
	}
	if out.Priority == "" {
		out.Priority = "normal"
	}
	if out.DueHours == 0 {
		out.DueHours = s.DueHours
	}
	return out
}

func (s *setup) areaContains(name string, p point) bool {
	for _, a := range s.Areas {
		if a.Name == name {
			return a.contains(p)
		}
	}
	return false
}
