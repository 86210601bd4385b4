package sdk

import (
	"regexp"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// formats are the "format" values whose meaning Sportello sets itself.
//
// "time" and "date-time" accept, besides RFC 3339, the local forms that
// browsers submit (<input type="time"> gives "14:30", datetime-local gives
// "2026-05-10T14:30"): a town's times are wall-clock times in its own zone,
// and refusing what the form control itself produced would make such a
// field impossible to fill in. Every value RFC 3339 accepts is still accepted.
// "tel" is not a JSON Schema format at all; without it the validator would
// let anything through.
var formats = []*jsonschema.Format{
	{Name: "time", Validate: stringFormat(validTime)},
	{Name: "date-time", Validate: stringFormat(validDateTime)},
	{Name: "tel", Validate: stringFormat(validTel)},
}

// stringFormat applies check to strings only: formats say nothing about
// other types, which "type" governs.
func stringFormat(check func(string) bool) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if !ok || check(s) {
			return nil
		}
		return errBadFormat
	}
}

type formatError struct{}

func (formatError) Error() string { return "not in the expected format" }

var errBadFormat error = formatError{}

var (
	localTimeRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$`)
	rfcTimeRe   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
	telRe       = regexp.MustCompile(`^\+?[0-9 ./()-]+$`)
)

func validTime(s string) bool { return localTimeRe.MatchString(s) || rfcTimeRe.MatchString(s) }

func validDateTime(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// validTel accepts numbers as people write them ("+41 91 123 45 67",
// "02/1234567"): E.164 allows at most 15 digits, and fewer than 6 is no
// reachable number.
func validTel(s string) bool {
	if !telRe.MatchString(s) {
		return false
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits >= 6 && digits <= 15
}
