package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// answers is either form: the president's asks for more.
type answers struct {
	Resident          bool   `json:"resident"`
	VoterHere         bool   `json:"voter_here"`
	InRegister        bool   `json:"in_register"`
	Schooling         bool   `json:"schooling"`
	Diploma           bool   `json:"diploma"`
	NoIncompatibility bool   `json:"no_incompatibility"`
	BirthDate         string `json:"birth_date"`
	Section           int    `json:"section"`
	Experience        string `json:"experience"`
	Phone             string `json:"phone"`
}

// offer is what the plugin remembers of a citizen's availability in a
// round and role, under offerKey: enough to refuse a second one and say
// which.
type offer struct {
	Role      string `json:"role"`
	Number    string `json:"number"`
	DossierID int64  `json:"dossier_id,omitempty"`
}

// offerKey is one per round, role and citizen; "s" and "p" keep the key
// within the host's 64 characters with the longest round code.
func offerKey(roundID, role string, citizen int64) string {
	return fmt.Sprintf("offer.%s.%c.%d", roundID, role[0], citizen)
}

// legacyOfferKey is where version 0.1 remembered one offer per round,
// whatever the role: such an offer still counts for its own role.
func legacyOfferKey(roundID string, citizen int64) string {
	return fmt.Sprintf("offer.%s.%d", roundID, citizen)
}

// Ages the law sets, on election day: an elector is of age, and a
// president must not yet be 70 (D.P.R. 361/1957, art. 38).
const (
	minAge          = 18
	presidentMaxAge = 70
)

func (s *service) offer(ctx context.Context, req *sdk.Request, cfg config) (*sdk.Response, error) {
	role, lang := req.Action, req.Lang
	var a answers
	if err := req.Decode(&a); err != nil {
		return nil, fmt.Errorf("decode answers: %w", err)
	}
	if req.Actor.Kind != "citizen" {
		return sdk.Refused(msg.Get(lang, "citizens_only")), nil
	}
	if !cfg.collects(role) {
		return sdk.Refused(msg.Get(lang, "role_not_collected", msg.Get(lang, "role."+role))), nil
	}
	rs, ok := rounds(req, cfg)
	if !ok || len(rs) == 0 {
		return sdk.Refused(msg.Get(lang, "no_round")), nil
	}
	now := s.clock()
	r, open := openRound(rs, now)
	if !open {
		last, _ := lastClosed(rs, now)
		return sdk.Refused(msg.Get(lang, "closed", last.Name, on(lang, last.Deadline))), nil
	}

	// The form lets people say "no" on purpose: each missing requirement
	// is shown beside its answer, with what it takes.
	if errs := missing(role, a, r, lang); len(errs) > 0 {
		return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}, nil
	}

	// The host offers no compare-and-set: two submissions in the same
	// instant could both pass this check, and the office would see two
	// dossiers of one person for one round and role. Rare, and visible in
	// the list the office reviews.
	key := offerKey(r.ID, role, req.Actor.ID)
	prev, found, err := previousOffer(ctx, req.Host, r.ID, role, req.Actor.ID)
	if err != nil {
		return nil, err
	}
	if found {
		return sdk.Refused(msg.Get(lang, "already", msg.Get(lang, "role."+prev.Role), r.Name, prev.Number)), nil
	}

	roleName := msg.Get(lang, "role."+role)
	nd := sdk.NewDossier{
		Title: msg.Get(lang, "title", roleName, r.Name),
		Data: offerData{Role: role, RoundID: r.ID, Round: r.Name, Name: req.Actor.Name, BirthDate: a.BirthDate,
			Section: a.Section, Phone: a.Phone, Experience: a.Experience, Lang: lang},
		Office: cfg.Office,
	}
	if role == "scrutineer" {
		// The electoral commission appoints scrutineers between the 25th
		// and the 20th day before the vote (L. 95/1989, art. 6): the
		// office's review is due by then.
		nd.Due = endOfDay(r.Days[0].AddDate(0, 0, -20))
	}
	d, err := req.Host.CreateDossier(ctx, nd)
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	if err := req.Host.PutSetting(ctx, key, offer{Role: role, Number: d.GetNumber(), DossierID: d.GetId()}); err != nil {
		return nil, fmt.Errorf("remember the offer: %w", err)
	}
	if err := req.Host.Audit(ctx, "scrutineer.offer", "dossier:"+d.GetNumber(),
		map[string]any{"role": role, "round_id": r.ID}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	done := msg.Get(lang, "done", roleName, r.Name, d.GetNumber())
	subject := msg.Get(lang, "mail_subject", d.GetNumber())
	// The offer is recorded whatever happens to the e-mails, and the page
	// already shows the confirmation.
	_, err = req.Host.Notify(ctx, sdk.Notification{Channel: "email", Subject: subject, Body: done})
	logNotified(req, err)
	if cfg.OfficeEmail != "" {
		_, err = req.Host.Notify(ctx, sdk.Notification{Channel: "email", To: cfg.OfficeEmail, Subject: subject,
			Body: msg.Get(lang, "office_body", roleName, r.Name, d.GetNumber(), a.Phone)})
		logNotified(req, err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
}

// previousOffer finds the citizen's offer for the round and role, if any.
func previousOffer(ctx context.Context, h sdk.Host, roundID, role string, citizen int64) (offer, bool, error) {
	var prev offer
	key := offerKey(roundID, role, citizen)
	found, err := h.GetSetting(ctx, key, &prev)
	if err != nil {
		return prev, false, fmt.Errorf("read %s: %w", key, err)
	}
	if found && prev.Number != "" {
		return prev, true, nil
	}
	legacy := legacyOfferKey(roundID, citizen)
	var old offer
	found, err = h.GetSetting(ctx, legacy, &old)
	if err != nil {
		return prev, false, fmt.Errorf("read %s: %w", legacy, err)
	}
	return old, found && old.Role == role && old.Number != "", nil
}

// missing lists the requirements of role that the answers do not meet,
// in the order of the form.
func missing(role string, a answers, r round, lang string) []sdk.FieldError {
	type requirement struct {
		met   bool
		field string
		key   string
	}
	reqs := []requirement{
		{a.Resident, "/resident", "need.resident"},
		{a.VoterHere, "/voter_here", "need.voter_here"},
		{a.InRegister, "/in_register", "need.in_register." + role},
	}
	if role == "scrutineer" {
		reqs = append(reqs, requirement{a.Schooling, "/schooling", "need.schooling"})
	} else {
		reqs = append(reqs, requirement{a.Diploma, "/diploma", "need.diploma"})
	}
	reqs = append(reqs, requirement{a.NoIncompatibility, "/no_incompatibility", "need.no_incompatibility"})
	var errs []sdk.FieldError
	for _, q := range reqs {
		if !q.met {
			errs = append(errs, sdk.FieldError{Field: q.field, Message: msg.Get(lang, q.key)})
		}
	}
	if m := birthProblem(role, a.BirthDate, r, lang); m != "" {
		errs = append(errs, sdk.FieldError{Field: "/birth_date", Message: m})
	}
	return errs
}

// birthProblem checks the age on election day: of age on the first voting
// day and, for a president, not yet 70 on the last.
func birthProblem(role, birthDate string, r round, lang string) string {
	born, err := time.ParseInLocation(time.DateOnly, birthDate, sdk.Zone)
	if err != nil { // the form's "format: date" lets only dates through
		return msg.Get(lang, "need.birth_date")
	}
	if age(born, r.Days[0]) < minAge {
		return msg.Get(lang, "need.of_age", on(lang, r.Days[0]))
	}
	if role == "president" && age(born, r.Days[len(r.Days)-1]) >= presidentMaxAge {
		return msg.Get(lang, "need.under_70", on(lang, r.Days[len(r.Days)-1]))
	}
	return ""
}

// age is the number of birthdays from born up to and including on.
func age(born, on time.Time) int {
	years := on.Year() - born.Year()
	if on.Month() < born.Month() || on.Month() == born.Month() && on.Day() < born.Day() {
		years--
	}
	return years
}

// endOfDay is the last second of day in sdk.Zone.
func endOfDay(day time.Time) time.Time {
	y, m, d := day.In(sdk.Zone).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, sdk.Zone).Add(-time.Second)
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
