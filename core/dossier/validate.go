package dossier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of what a dossier holds; generous for people, small enough that
// one request cannot fill the database.
const (
	MaxTitle   = 300
	MaxNote    = 4000 // a status change's note
	MaxMessage = 10000
	MaxData    = 256 << 10
	maxName    = 200
	maxEmail   = 254
	maxPhone   = 32
)

var (
	// Italian codice fiscale (with omocodia letters) or, for people
	// without one, nothing; Swiss and other towns leave it empty.
	fiscalCodeRe = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)
	phoneRe      = regexp.MustCompile(`^\+?[0-9][0-9 ./-]{4,30}$`)
)

// text checks v is storable text (valid UTF-8, no NUL, no other control
// characters but line breaks and tabs when multiline), non-blank when
// required, at most max characters. It returns v trimmed.
func text(field, v string, required, multiline bool, max int) (string, error) {
	if !utf8.ValidString(v) {
		return "", fieldErr(field, "invalid")
	}
	for _, r := range v {
		if r == 0 || (unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))) {
			return "", fieldErr(field, "invalid")
		}
	}
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", fieldErr(field, "required")
	}
	if utf8.RuneCountInString(v) > max {
		return "", &FieldError{Field: field, Code: "too_long", Limit: max}
	}
	return v, nil
}

// dataObject checks raw is one JSON object (empty: {}), and returns its
// text.
func dataObject(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "{}", nil
	}
	if len(raw) > MaxData {
		return "", &FieldError{Field: "data", Code: "too_long", Limit: MaxData}
	}
	if raw[0] != '{' || !json.Valid(raw) || bytes.Contains(raw, []byte(`\u0000`)) {
		return "", fieldErr("data", "invalid")
	}
	return string(raw), nil
}

// clean checks and normalises an applicant's details.
func (a Applicant) clean() (Applicant, error) {
	var err error
	if a.Name, err = text("applicant.name", a.Name, false, false, maxName); err != nil {
		return a, err
	}
	if a.Email, err = text("applicant.email", strings.ToLower(a.Email), false, false, maxEmail); err != nil {
		return a, err
	}
	if a.Email != "" && !emailAddress(a.Email) {
		return a, fieldErr("applicant.email", "invalid")
	}
	a.FiscalCode = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(a.FiscalCode), " ", ""))
	if a.FiscalCode != "" && !fiscalCodeRe.MatchString(a.FiscalCode) {
		return a, fieldErr("applicant.fiscal_code", "invalid")
	}
	if a.Phone, err = text("applicant.phone", a.Phone, false, false, maxPhone); err != nil {
		return a, err
	}
	if a.Phone != "" && !phoneRe.MatchString(a.Phone) {
		return a, fieldErr("applicant.phone", "invalid")
	}
	return a, nil
}

func (a Applicant) empty() bool { return a == Applicant{} }

// emailAddress accepts a bare address, as the outbox sends to: no display
// name, nothing that could break a header.
func emailAddress(v string) bool {
	if len(v) > maxEmail || strings.ContainsAny(v, " \t\r\n<>,;\"\\") {
		return false
	}
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v && strings.Contains(v[strings.LastIndexByte(v, '@'):], ".")
}

// checkActor refuses an actor that cannot be recorded.
func checkActor(by Actor) error {
	switch by.Kind {
	case ActorStaff, ActorCitizen:
		if by.ID <= 0 {
			return fieldErr("actor", "invalid")
		}
	case ActorAnonymous, ActorSystem:
		if by.ID != 0 {
			return fieldErr("actor", "invalid")
		}
	default:
		return fieldErr("actor", "invalid")
	}
	if !utf8.ValidString(by.Name) || strings.IndexByte(by.Name, 0) >= 0 {
		return fieldErr("actor", "invalid")
	}
	return nil
}

// actorName is by's name as recorded: bounded, never failing.
func actorName(by Actor) string {
	n := strings.TrimSpace(by.Name)
	if utf8.RuneCountInString(n) > maxName {
		n = string([]rune(n)[:maxName])
	}
	return n
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}
