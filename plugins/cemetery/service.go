package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// The workflow of a request, as the manifest's statuses list it:
// submitted → approved (or rejected) → awaiting_payment → paid → issued.
// A concession with nothing to pay goes from approved to paid.
const (
	statusSubmitted = "submitted"
	statusApproved  = "approved"
	statusRejected  = "rejected"
	statusAwaiting  = "awaiting_payment"
	statusPaid      = "paid"
	statusIssued    = "issued"
)

type service struct {
	// now is the clock of the service's rules (dates in the future, the
	// concession's start); nil is time.Now.
	now func() time.Time
}

var _ sdk.Service = (*service)(nil)

func (s *service) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// today is the date in the towns' time zone, at midnight.
func (s *service) today() time.Time {
	y, m, d := s.clock().In(sdk.Zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, sdk.Zone)
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	switch req.Action {
	case "request":
		return s.request(ctx, req)
	case "approve":
		return s.approve(ctx, req)
	case "reject":
		return s.reject(ctx, req)
	case "issue":
		return s.issue(ctx, req)
	case sdk.ActionPayment:
		return s.payment(ctx, req)
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

// person is one of the people a place is meant for. Dates are as the form
// sends them (2006-01-02); the people named in "others" are free text.
type person struct {
	Name      string `json:"name"`
	BirthDate string `json:"birth_date,omitempty"`
	DeathDate string `json:"death_date,omitempty"`
}

type request struct {
	Cemetery     string `json:"cemetery"`
	Place        string `json:"place"`
	Years        int    `json:"years"`
	Beneficiary  person `json:"beneficiary"`
	Others       string `json:"others"`
	Relationship string `json:"relationship"`
	Contact      struct {
		Phone string `json:"phone"`
		Email string `json:"email"`
	} `json:"contact"`
	Document string `json:"document"`
}

// concession is what the dossier keeps of a request: what the office
// decides on and what the deed says.
type concession struct {
	Cemetery      string   `json:"cemetery"`
	Place         string   `json:"place"`
	Years         int      `json:"years"`
	Beneficiaries []person `json:"beneficiaries"`
	Relationship  string   `json:"relationship,omitempty"`
	Applicant     string   `json:"applicant"`
	Phone         string   `json:"phone,omitempty"`
	Email         string   `json:"email,omitempty"`
	Documents     []int64  `json:"documents,omitempty"`
	// The fee as the citizen was told it when applying: a change of the
	// tariff table afterwards does not change what they owe.
	FeeCents  int64  `json:"fee_cents"`
	Currency  string `json:"currency"`
	Lang      string `json:"lang"`      // the citizen's: replies and the deed are written in it
	Submitted string `json:"submitted"` // date of the request
}

type config struct {
	Cemeteries  string            `json:"cemeteries"`
	Currency    string            `json:"currency"`
	Tariffs     map[string]string `json:"tariffs"` // place → "years=price; ..."
	TombPlaces  int               `json:"tomb_places"`
	DeedHeading string            `json:"deed_heading"`
}

func decodeConfig(req *sdk.Request) (config, error) {
	cfg := config{Currency: "EUR", TombPlaces: 6}
	err := req.DecodeConfig(&cfg)
	return cfg, err
}

// request is the citizen's application: it checks the request against the
// town's cemeteries and tariff table, opens the dossier and tells the
// citizen the fee. The payment is asked for once the office approves.
func (s *service) request(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind != "citizen" {
		return sdk.Refused(msg.Get(lang, "login")), nil
	}
	var v request
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	cfg, err := decodeConfig(req)
	if err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	place := msg.Get(lang, "place."+v.Place)

	// A town may enable the service before it has set it up: that is
	// for its office to fix, not for the citizen.
	cemeteries := lines(cfg.Cemeteries)
	if len(cemeteries) == 0 || len(cfg.Tariffs) == 0 {
		return sdk.Refused(msg.Get(lang, "not_configured")), nil
	}
	var errs []sdk.FieldError
	bad := func(field, key string, args ...any) {
		errs = append(errs, sdk.FieldError{Field: field, Message: msg.Get(lang, key, args...)})
	}
	cemetery, ok := findCemetery(cemeteries, v.Cemetery)
	if !ok {
		bad("/cemetery", "which_cemetery", strings.Join(cemeteries, "; "))
	}
	cents, err := fee(cfg, v.Place, v.Years)
	switch {
	case err == errNotOffered:
		bad("/place", "not_offered", place)
	case err == errNoDuration:
		prices, _ := parseTariff(cfg.Tariffs[v.Place])
		bad("/years", "years", place, durations(prices, msg.Get(lang, "or")))
	case err != nil:
		return nil, err
	}

	today := s.today()
	birth, _ := time.ParseInLocation(time.DateOnly, v.Beneficiary.BirthDate, sdk.Zone)
	if birth.After(today) {
		bad("/beneficiary/birth_date", "born_future")
	}
	if v.Beneficiary.DeathDate != "" {
		death, _ := time.ParseInLocation(time.DateOnly, v.Beneficiary.DeathDate, sdk.Zone)
		switch {
		case death.After(today):
			bad("/beneficiary/death_date", "death_future")
		case death.Before(birth):
			bad("/beneficiary/death_date", "death_before_birth")
		}
	}
	people := []person{{Name: strings.TrimSpace(v.Beneficiary.Name), BirthDate: v.Beneficiary.BirthDate, DeathDate: v.Beneficiary.DeathDate}}
	for _, l := range lines(v.Others) {
		people = append(people, person{Name: l})
	}
	switch capacity := placesIn(v.Place, cfg); {
	case len(people) > 1 && capacity == 1:
		bad("/others", "only_one", place)
	case len(people) > capacity:
		bad("/others", "too_many", place, capacity, len(people))
	}
	if len(errs) > 0 {
		return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}, nil
	}

	c := concession{Cemetery: cemetery, Place: v.Place, Years: v.Years, Beneficiaries: people,
		Relationship: strings.TrimSpace(v.Relationship), Applicant: req.Actor.Name,
		Phone: v.Contact.Phone, Email: v.Contact.Email, FeeCents: cents, Currency: cfg.Currency,
		Lang: lang, Submitted: today.Format(time.DateOnly)}
	for _, f := range req.Files {
		c.Documents = append(c.Documents, f.AttachmentID)
	}
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{
		Title:         msg.Get(lang, "title", place, v.Years, cemetery),
		Status:        statusSubmitted,
		Data:          c,
		AttachmentIDs: c.Documents,
	})
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	amount := sdk.Money(lang, cents, cfg.Currency)
	done := msg.Get(lang, "received", d.GetNumber(), place, v.Years, amount)
	audit(ctx, req, "cemetery.request", d, map[string]any{"place": v.Place, "years": v.Years, "fee_cents": cents})
	// The page shows the same text: a lost e-mail is no reason to fail.
	if _, err := req.Host.Notify(ctx, sdk.Notification{Channel: "email",
		Subject: msg.Get(lang, "mail_subject", d.GetNumber()), Body: done}); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Data: map[string]any{"fee_cents": cents, "currency": cfg.Currency, "fee": amount}}, nil
}

// placesIn is how many people a place holds.
func placesIn(place string, cfg config) int {
	if place == "tomb" {
		return cfg.TombPlaces
	}
	return 1
}

var (
	errNotOffered = fmt.Errorf("type of place not offered")
	errNoDuration = fmt.Errorf("duration not offered")
)

// fee is the price in cents of place for years in the town's tariff table:
// errNotOffered when the town grants no such place, errNoDuration when
// not for that many years.
func fee(cfg config, place string, years int) (int64, error) {
	// The config schema checked the tariffs' shape when the town saved
	// them: an error here is a bug, not the citizen's.
	prices, err := parseTariff(cfg.Tariffs[place])
	if err != nil {
		return 0, fmt.Errorf("tariff of %s: %w", place, err)
	}
	if len(prices) == 0 {
		return 0, errNotOffered
	}
	cents, ok := prices[years]
	if !ok {
		return 0, errNoDuration
	}
	return cents, nil
}

// lines are the non-blank lines of s, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// findCemetery matches what the citizen typed against the town's list,
// ignoring case and a leading "Cimitero (di)" that one may write and the
// other not. A town with one cemetery needs no answer.
func findCemetery(list []string, typed string) (string, bool) {
	typed = strings.TrimSpace(typed)
	if typed == "" {
		if len(list) == 1 {
			return list[0], true
		}
		return "", false
	}
	key := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, prefix := range []string{"cimitero ", "friedhof ", "cemetery "} {
			s = strings.TrimSpace(strings.TrimPrefix(s, prefix))
		}
		for _, prefix := range []string{"di ", "del ", "della ", "dei ", "von ", "of "} {
			s = strings.TrimSpace(strings.TrimPrefix(s, prefix))
		}
		return s
	}
	for _, c := range list {
		if key(c) == key(typed) {
			return c, true
		}
	}
	return "", false
}

// parseTariff reads "30=1500; 99=4200,50" into years → cents.
func parseTariff(s string) (map[int]int64, error) {
	out := map[int]int64{}
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		y, p, ok := strings.Cut(item, "=")
		years, err := strconv.Atoi(strings.TrimSpace(y))
		if !ok || err != nil || years <= 0 {
			return nil, fmt.Errorf("%q: want years=price", item)
		}
		price, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(p), ",", "."), 64)
		if err != nil || price < 0 {
			return nil, fmt.Errorf("%q: want years=price", item)
		}
		out[years] = int64(math.Round(price * 100))
	}
	return out, nil
}

// durations lists the years on offer: "30 o 99".
func durations(prices map[int]int64, or string) string {
	var years []int
	for y := range prices {
		years = append(years, y)
	}
	slices.Sort(years)
	var parts []string
	for _, y := range years {
		parts = append(parts, strconv.Itoa(y))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + or + " " + parts[len(parts)-1]
}

// concessionOf reads the request a dossier keeps.
func concessionOf(d *pb.Dossier) (concession, error) {
	var c concession
	if err := json.Unmarshal(d.GetDataJson(), &c); err != nil {
		return c, fmt.Errorf("data of dossier %s: %w", d.GetNumber(), err)
	}
	if c.Lang == "" {
		c.Lang = "it"
	}
	if c.Currency == "" {
		c.Currency = "EUR"
	}
	return c, nil
}
