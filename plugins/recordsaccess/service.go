package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// service takes access requests, records the office's steps on them and
// exports the register of requests.
type service struct {
	now func() time.Time // nil: the real clock; tests set it
}

var _ sdk.Service = (*service)(nil)

func (s *service) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// kind is one form of access and the rules the law sets for it.
type kind struct {
	days           int  // to decide, counted from the day after the request
	counterparties bool // counter-interested parties may be notified
	suspends       bool // and notifying them suspends the deadline
	motivation     bool // the applicant must give reasons
	identity       bool // and attach an identity document
}

// kinds are the three forms of access.
var kinds = map[string]kind{
	// Civic access (D.Lgs. 33/2013, art. 5 c. 1 and 6): what the town must
	// publish; no reasons, 30 days. Nobody can oppose the publication of
	// what the law makes public, so there are no counter-interested parties.
	"civic": {days: 30},
	// Generalised civic access (art. 5 c. 2, 5 and 6): anything the town
	// holds; no reasons, 30 days, suspended while counter-interested parties
	// may object.
	"generalised": {days: 30, counterparties: true, suspends: true},
	// Documentary access (L. 241/1990, art. 22 ff.; D.P.R. 184/2006, art. 3
	// and 6): a direct, concrete and current interest, stated and proved
	// by who the applicant is; 30 days, which run on while
	// counter-interested parties may object (art. 25 c. 4: past them, the
	// silence is a refusal).
	"documentary": {days: 30, counterparties: true, motivation: true, identity: true},
}

// oppositionDays is how long counter-interested parties have to object,
// from receiving the notice (D.Lgs. 33/2013 art. 5 c. 5; D.P.R. 184/2006
// art. 3 c. 2).
const oppositionDays = 10

// Statuses of a request's dossier, as the manifest declares them.
const (
	statusSubmitted     = "submitted"
	statusCounterparts  = "counterparties_notified"
	statusGranted       = "granted"
	statusPartlyGranted = "partly_granted"
	statusRefused       = "refused"
	statusWithdrawn     = "withdrawn"
)

// open reports whether a request in status still waits for a decision.
func open(status string) bool { return status == statusSubmitted || status == statusCounterparts }

// deadline is the last moment to decide a request of kind k made at
// submitted: the day of the request does not count (dies a quo non
// computatur), the last day counts to its end in the towns' zone. A last
// day on a holiday is not moved to the next working day, as the law would
// allow: the office's target stays on the safe side.
func deadline(submitted time.Time, k kind) time.Time {
	return endOfDay(submitted.In(sdk.Zone).AddDate(0, 0, k.days))
}

// suspended is the deadline of a request whose term is suspended from the
// day the notice to counter-interested parties is sent until their time to
// object ends, oppositionDays after the last of them received it: those
// days are added to due. An opposition that comes sooner ends the
// suspension sooner, and the office may decide before this date; the date
// is the latest the law allows.
func suspended(due, sent, received time.Time) time.Time {
	return due.AddDate(0, 0, days(sent, received)+oppositionDays)
}

// days counts the calendar days from a to b, in the towns' zone.
func days(a, b time.Time) int {
	ay, am, ad := a.In(sdk.Zone).Date()
	by, bm, bd := b.In(sdk.Zone).Date()
	// Noon UTC of each day: whole days whatever the summer time.
	return int(time.Date(by, bm, bd, 12, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 12, 0, 0, 0, time.UTC)).Hours() / 24)
}

// endOfDay is the last second of day in sdk.Zone.
func endOfDay(day time.Time) time.Time {
	y, m, d := day.In(sdk.Zone).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, sdk.Zone).Add(-time.Second)
}

type config struct {
	Offices            string `json:"offices"` // "slug; name" a line
	DefaultOffice      string `json:"default_office"`
	TransparencyOffice string `json:"transparency_office"`
	OfficeEmail        string `json:"office_email"`
}

// office is one office that holds records, as the town lists it.
type office struct {
	Slug string
	Name string
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// parseOffices reads the configuration's offices: "slug; name" a line.
func parseOffices(s string) ([]office, error) {
	var out []office
	seen := map[string]bool{}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		slug, name, ok := strings.Cut(line, ";")
		o := office{Slug: strings.TrimSpace(slug), Name: strings.TrimSpace(name)}
		if !ok || !slugRe.MatchString(o.Slug) || o.Name == "" || strings.Contains(o.Name, ";") || seen[o.Slug] {
			return nil, fmt.Errorf("%q: want code; name, each code once", line)
		}
		seen[o.Slug] = true
		out = append(out, o)
	}
	return out, nil
}

// findOffice matches what the applicant typed to one office: its name or
// code, or a part of its name (or the name within what was typed, as in
// "Ufficio edilizia privata"), as long as only one office matches.
func findOffice(offices []office, typed string) (office, bool) {
	t := fold(typed)
	if t == "" {
		return office{}, false
	}
	for _, o := range offices {
		if fold(o.Name) == t || o.Slug == t {
			return o, true
		}
	}
	var found []office
	for _, o := range offices {
		n := fold(o.Name)
		if len([]rune(t)) >= 3 && strings.Contains(n, t) || strings.Contains(t, n) {
			found = append(found, o)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return office{}, false
}

// fold is s as matching compares it: lower case, single spaces.
func fold(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// officeName is the name the town gives an office, or its code.
func officeName(offices []office, slug string) string {
	for _, o := range offices {
		if o.Slug == slug {
			return o.Name
		}
	}
	return slug
}

// requestData is what a request's dossier holds.
type requestData struct {
	Type       string `json:"type"`
	Subject    string `json:"subject"`
	Records    string `json:"records"`
	Holder     string `json:"holder,omitempty"` // the office that holds the records, as matched
	Office     string `json:"office"`           // the office assigned: its code
	OfficeName string `json:"office_name"`
	Motivation string `json:"motivation,omitempty"`
	Delivery   string `json:"delivery"`
	Email      string `json:"email"`
	Applicant  string `json:"applicant,omitempty"`
	IdentityID int64  `json:"identity_document,omitempty"`
	Due        int64  `json:"due"` // unix seconds, as set on the dossier
	Lang       string `json:"lang"`
}

// caseState is what happened to a request after it was made: kept in a
// setting per dossier ("case.<id>"), as the Host API cannot change a
// dossier's data or due date, nor tell when its status changed.
type caseState struct {
	Counterparties int      `json:"counterparties,omitempty"`
	SentOn         string   `json:"sent_on,omitempty"`
	ReceivedOn     string   `json:"received_on,omitempty"`
	OppositionEnds string   `json:"opposition_ends,omitempty"`
	LatestDue      int64    `json:"latest_due,omitempty"` // the deadline with the suspension
	Outcome        string   `json:"outcome,omitempty"`
	DecidedUnix    int64    `json:"decided,omitempty"`
	Grounds        []string `json:"grounds,omitempty"`
	RegisterObject string   `json:"register_object,omitempty"`
}

func caseKey(dossierID int64) string { return fmt.Sprintf("case.%d", dossierID) }

func readCase(ctx context.Context, h sdk.Host, dossierID int64) (caseState, error) {
	var cs caseState
	if _, err := h.GetSetting(ctx, caseKey(dossierID), &cs); err != nil {
		return cs, fmt.Errorf("read %s: %w", caseKey(dossierID), err)
	}
	return cs, nil
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	var cfg config
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	switch req.Action {
	case "request":
		return s.request(ctx, req, cfg)
	case "notify_counterparties":
		return s.notifyCounterparties(ctx, req)
	case "decide":
		return s.decide(ctx, req)
	case "withdraw":
		return s.withdraw(ctx, req)
	case "register":
		return s.register(ctx, req)
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

// staffDossier is the open request a staff action is about; a response
// instead when it cannot go ahead.
func staffDossier(ctx context.Context, req *sdk.Request) (*pb.Dossier, requestData, *sdk.Response, error) {
	var rd requestData
	if req.Actor.Kind != "staff" {
		return nil, rd, sdk.Refused(msg.Get(req.Lang, "staff_only")), nil
	}
	if req.DossierID <= 0 {
		return nil, rd, nil, fmt.Errorf("%s: no dossier in the request", req.Action)
	}
	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, rd, nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	if len(d.GetDataJson()) > 0 {
		if err := json.Unmarshal(d.GetDataJson(), &rd); err != nil {
			return nil, rd, nil, fmt.Errorf("dossier %s: data: %w", d.GetNumber(), err)
		}
	}
	if !open(d.GetStatus()) {
		return nil, rd, sdk.Refused(msg.Get(req.Lang, "closed", d.GetNumber(), msg.Get(req.Lang, "status."+d.GetStatus()))), nil
	}
	if rd.Lang == "" {
		rd.Lang = "it"
	}
	return d, rd, nil, nil
}

// sentence is s trimmed, ending with a full stop if it ends with none, to
// sit inside a message followed by another sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 0 && !strings.ContainsRune(".!?…", r[len(r)-1]) {
		s += "."
	}
	return s
}

func logNotified(req *sdk.Request, err error) {
	if err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
}

// on writes a day as a sentence takes it: in Italian with its article
// ("il 7 giugno 2026", "l'8 maggio 2026", "il 1° giugno 2026"), in the
// other languages as sdk.Date, their messages holding the preposition.
func on(lang string, t time.Time) string {
	s := sdk.Date(lang, t)
	if !strings.HasPrefix(lang, "it") {
		return s
	}
	switch t.In(sdk.Zone).Day() {
	case 1:
		return "il 1°" + strings.TrimPrefix(s, "1")
	case 8, 11:
		return "l'" + s
	}
	return "il " + s
}
