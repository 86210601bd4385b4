package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// service takes one availability per citizen, election round and role;
// the electoral office approves or rejects each, and exports the list.
type service struct {
	now func() time.Time // nil: the real clock; tests set it
}

var _ sdk.Service = (*service)(nil)

// Roles a citizen can offer for, which are also the citizen actions.
var roles = []string{"scrutineer", "president"}

// Statuses of an offer's dossier, as the manifest declares them.
const (
	statusSubmitted = "submitted"
	statusApproved  = "approved"
	statusRejected  = "rejected"
)

type config struct {
	Rounds      string   `json:"rounds"` // one round a line: code; name; voting days; deadline
	Roles       []string `json:"roles"`  // none: both
	Office      string   `json:"office"`
	OfficeEmail string   `json:"office_email"`
}

func (c config) collects(role string) bool {
	if len(c.Roles) == 0 {
		return true
	}
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// round is one election round: the days people vote, and the last day to
// offer availability.
type round struct {
	ID       string
	Name     string
	Days     []time.Time // midnight in sdk.Zone, in order
	Deadline time.Time   // midnight in sdk.Zone of the last day included
}

// closes is the first moment an offer for r is too late: the deadline day
// counts until midnight in the towns' zone.
func (r round) closes() time.Time { return r.Deadline.AddDate(0, 0, 1) }

var roundIDRe = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// parseRounds reads the configuration's rounds, one a line:
// "code; name; voting days; deadline", days as 2006-01-02 separated by
// spaces or commas.
func parseRounds(s string) ([]round, error) {
	var out []round
	seen := map[string]bool{}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, ";")
		if len(parts) != 4 {
			return nil, fmt.Errorf("%q: want code; name; voting days; deadline", line)
		}
		r := round{ID: strings.TrimSpace(parts[0]), Name: strings.TrimSpace(parts[1])}
		if !roundIDRe.MatchString(r.ID) || seen[r.ID] {
			return nil, fmt.Errorf("%q: the code is malformed or repeated", line)
		}
		seen[r.ID] = true
		if r.Name == "" {
			return nil, fmt.Errorf("%q: the name is missing", line)
		}
		for _, f := range strings.FieldsFunc(parts[2], func(c rune) bool { return c == ' ' || c == ',' || c == '\t' }) {
			day, err := time.ParseInLocation(time.DateOnly, f, sdk.Zone)
			if err != nil {
				return nil, fmt.Errorf("%q: voting day %q: %w", line, f, err)
			}
			r.Days = append(r.Days, day)
		}
		if len(r.Days) == 0 {
			return nil, fmt.Errorf("%q: no voting day", line)
		}
		sort.Slice(r.Days, func(i, j int) bool { return r.Days[i].Before(r.Days[j]) })
		var err error
		if r.Deadline, err = time.ParseInLocation(time.DateOnly, strings.TrimSpace(parts[3]), sdk.Zone); err != nil {
			return nil, fmt.Errorf("%q: deadline: %w", line, err)
		}
		if !r.Deadline.Before(r.Days[0]) {
			return nil, fmt.Errorf("%q: the deadline must come before the first voting day", line)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Deadline.Before(out[j].Deadline) })
	return out, nil
}

// openRound is the round offers go to at now: of those still open, the one
// that closes first. A town can thus list the next rounds in advance: each
// opens when the one before it closes.
func openRound(rounds []round, now time.Time) (round, bool) {
	for _, r := range rounds { // sorted by deadline
		if now.Before(r.closes()) {
			return r, true
		}
	}
	return round{}, false
}

// lastClosed is the round that closed most recently at now.
func lastClosed(rounds []round, now time.Time) (round, bool) {
	for i := len(rounds) - 1; i >= 0; i-- {
		if !now.Before(rounds[i].closes()) {
			return rounds[i], true
		}
	}
	return round{}, false
}

// offerData is what an offer's dossier holds; the export reads it back.
type offerData struct {
	Role       string `json:"role"`
	RoundID    string `json:"round_id"`
	Round      string `json:"round"`
	Name       string `json:"name"`
	BirthDate  string `json:"birth_date"`
	Section    int    `json:"section,omitempty"`
	Phone      string `json:"phone"`
	Experience string `json:"experience,omitempty"`
	Lang       string `json:"lang"` // the citizen's, for the office's replies
}

func (s *service) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	var cfg config
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	switch req.Action {
	case "scrutineer", "president":
		return s.offer(ctx, req, cfg)
	case "approve", "reject":
		return s.review(ctx, req)
	case "export":
		return s.export(ctx, req, cfg)
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

// rounds reads the town's election rounds; a list that does not parse
// reads as no round open to citizens, and the reason goes to the log for
// the town's administrators.
func rounds(req *sdk.Request, cfg config) ([]round, bool) {
	rs, err := parseRounds(cfg.Rounds)
	if err != nil {
		slog.Error("scrutineer: the town's election rounds do not parse", "tenant", req.TenantSlug,
			"request_id", req.RequestID, "err", err)
		return nil, false
	}
	return rs, true
}

func logNotified(req *sdk.Request, err error) {
	if err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
}

// dossierData decodes what an offer's dossier holds.
func dossierData(d *pb.Dossier) (offerData, error) {
	var od offerData
	if len(d.GetDataJson()) == 0 {
		return od, nil
	}
	if err := json.Unmarshal(d.GetDataJson(), &od); err != nil {
		return od, fmt.Errorf("dossier %s: data: %w", d.GetNumber(), err)
	}
	return od, nil
}
