package procedure

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// checkFiles holds each uploaded file to what its field accepts. The host
// checks the same before it stores a file; the procedure does not take
// that on trust, and says what is wrong beside the field.
func (p *Procedure) checkFiles(lang string, values map[string]any, files []sdk.File) []sdk.FieldError {
	var errs []sdk.FieldError
	for _, f := range p.form.files {
		v, _ := lookup(values, f.pointer).(string)
		if strings.TrimSpace(v) == "" {
			continue // required files are the schema's concern
		}
		i := slices.IndexFunc(files, func(x sdk.File) bool {
			return x.Field == f.pointer && fmt.Sprint(x.AttachmentID) == v
		})
		if i < 0 {
			errs = append(errs, sdk.FieldError{Field: f.pointer, Message: msg.Get(lang, "file.missing")})
			continue
		}
		file := files[i]
		if !accepts(f.accept, file.ContentType) {
			errs = append(errs, sdk.FieldError{Field: f.pointer,
				Message: msg.Get(lang, "file.type", typeNames(f.accept))})
			continue
		}
		if f.maxBytes > 0 && file.Size > f.maxBytes {
			errs = append(errs, sdk.FieldError{Field: f.pointer,
				Message: msg.Get(lang, "file.size", sizeText(lang, file.Size), sizeText(lang, f.maxBytes))})
		}
	}
	return errs
}

// accepts reports whether a file of MIME type typ (sniffed by the host,
// parameters ignored) is one of accept ("image/*" for a family).
func accepts(accept []string, typ string) bool {
	typ, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(typ)), ";")
	typ = strings.TrimSpace(typ)
	for _, a := range accept {
		if a == typ || (strings.HasSuffix(a, "/*") && strings.HasPrefix(typ, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

var typeLabels = map[string]string{
	"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/*": "immagini/Bilder/images",
	"application/pkcs7-mime": "P7M", "application/xml": "XML",
}

func typeNames(accept []string) string {
	names := make([]string, 0, len(accept))
	for _, a := range accept {
		if n, ok := typeLabels[a]; ok {
			names = append(names, n)
		} else {
			names = append(names, a)
		}
	}
	return strings.Join(names, ", ")
}

// sizeText writes a size the way people read it: "2 MB", "1,5 MB".
func sizeText(lang string, n int64) string {
	unit, div := "KB", float64(1<<10)
	if n >= 1<<20 {
		unit, div = "MB", float64(1<<20)
	}
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/div), ".0")
	if langOf(lang) != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + unit
}

// checkRules applies the definition's rules to the answers given.
func (p *Procedure) checkRules(lang string, values map[string]any, now time.Time) []sdk.FieldError {
	var errs []sdk.FieldError
	today := civil(now)
	failed := map[string]bool{}
	add := func(field, message string) {
		if !failed[field] {
			failed[field] = true
			errs = append(errs, sdk.FieldError{Field: field, Message: message})
		}
	}
	for _, r := range p.def.Rules {
		s, ok := lookup(values, r.Field).(string)
		if !ok || s == "" {
			continue
		}
		if r.FiscalCode && !validFiscalCode(s) {
			add(r.Field, msg.Get(lang, "rule.fiscal_code"))
		}
		if r.MinDaysFromToday == nil && r.MaxDaysFromToday == nil && r.NotBefore == "" {
			continue
		}
		date, err := parseDate(s)
		if err != nil {
			add(r.Field, msg.Get(lang, "form.invalid"))
			continue
		}
		if r.MinDaysFromToday != nil {
			if first := today.AddDate(0, 0, *r.MinDaysFromToday); date.Before(first) {
				add(r.Field, msg.Get(lang, "rule.not_before_date", sdk.Date(lang, first)))
			}
		}
		if r.MaxDaysFromToday != nil {
			if last := today.AddDate(0, 0, *r.MaxDaysFromToday); date.After(last) {
				add(r.Field, msg.Get(lang, "rule.not_after_date", sdk.Date(lang, last)))
			}
		}
		if r.NotBefore != "" {
			other, _ := lookup(values, r.NotBefore).(string)
			if o, err := parseDate(other); err == nil && date.Before(o) {
				add(r.Field, msg.Get(lang, "rule.not_before_field", p.form.fields[r.NotBefore].title.In(lang)))
			}
		}
	}
	return errs
}

// checkEligibility tells, beside each answer, which requirement it misses.
func (p *Procedure) checkEligibility(lang string, values map[string]any, now time.Time) []sdk.FieldError {
	var errs []sdk.FieldError
	failed := map[string]bool{}
	for _, e := range p.def.Eligibility {
		if e.When != nil && !matches(*e.When, lookup(values, e.When.Field)) {
			continue
		}
		v := lookup(values, e.Field)
		ok := false
		switch {
		case e.Age != nil:
			ok = ageWithin(*e.Age, v, now)
		case e.Min != nil || e.Max != nil:
			ok = within(e.Min, e.Max, v)
		default:
			ok = matches(Match{Field: e.Field, Equals: e.Equals, In: e.In}, v)
		}
		if !ok && !failed[e.Field] {
			failed[e.Field] = true
			errs = append(errs, sdk.FieldError{Field: e.Field, Message: e.Message.In(lang)})
		}
	}
	return errs
}

// matches reports whether an answer passes a test; an answer not given
// passes none. A multiple choice passes when any choice ticked does.
func matches(m Match, v any) bool {
	if v == nil {
		return false
	}
	want := m.In
	if m.Equals != nil {
		want = []any{m.Equals}
	}
	if list, ok := v.([]any); ok {
		return slices.ContainsFunc(list, func(x any) bool { return matches(m, x) })
	}
	return slices.ContainsFunc(want, func(w any) bool { return sameValue(w, v) })
}

// within checks a number answer against its bounds.
func within(lo, hi *float64, v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	f, err := n.Float64()
	return err == nil && (lo == nil || f >= *lo) && (hi == nil || f <= *hi)
}

// ageWithin checks the age reached, on the condition's day, by someone
// born on the date v.
func ageWithin(a Age, v any, now time.Time) bool {
	s, _ := v.(string)
	born, err := parseDate(s)
	if err != nil {
		return false
	}
	on := civil(now)
	if a.On == "year_end" {
		on = time.Date(on.Year(), time.December, 31, 0, 0, 0, 0, sdk.Zone)
	}
	if born.After(on) {
		return a.Min == nil || *a.Min <= 0
	}
	years := on.Year() - born.Year()
	if on.Month() < born.Month() || (on.Month() == born.Month() && on.Day() < born.Day()) {
		years--
	}
	return (a.Min == nil || years >= *a.Min) && (a.Max == nil || years <= *a.Max)
}

// validFiscalCode checks an Italian codice fiscale of a person: its
// shape, and the check character computed from the other fifteen (which
// also holds for the codes the Agenzia delle Entrate issues with letters
// in place of digits to tell namesakes apart).
func validFiscalCode(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 16 {
		return false
	}
	const digitsAsLetters = "LMNPQRSTUV"
	for i := 0; i < 16; i++ {
		c := s[i]
		isLetter := c >= 'A' && c <= 'Z'
		isDigit := c >= '0' && c <= '9'
		switch i {
		case 6, 7, 9, 10, 12, 13, 14: // year, day and place digits
			if !isDigit && !strings.ContainsRune(digitsAsLetters, rune(c)) {
				return false
			}
		default:
			if !isLetter {
				return false
			}
		}
	}
	if !strings.ContainsRune("ABCDEHLMPRST", rune(s[8])) { // the month
		return false
	}
	// Positions 1, 3, 5… (odd, counting from one) and 2, 4, 6… weigh
	// differently; a digit counts as the letter in the same place.
	odd := [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		var idx int
		if c >= '0' && c <= '9' {
			idx = int(c - '0')
		} else {
			idx = int(c - 'A')
		}
		if i%2 == 0 {
			sum += odd[idx]
		} else {
			sum += idx
		}
	}
	return s[15] == byte('A'+sum%26)
}
