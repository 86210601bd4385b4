package hostapi

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits on what a plugin may store; generous for forms, small enough that
// one plugin cannot fill the database with one call.
const (
	maxTitle       = 300
	maxNote        = 4000
	maxDossierData = 256 << 10
	maxSettingSize = 64 << 10
	maxAuditDetail = 16 << 10
	maxSubject     = 200
	maxEmailBody   = 64 << 10
	maxSMSBody     = 1600 // ten concatenated SMS
	maxReason      = 140  // pagoPA's causale
	maxObject      = 200
)

var (
	statusName  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	settingKey  = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)
	resourceID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$`)
	auditAction = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
	currencyISO = regexp.MustCompile(`^[A-Z]{3}$`)
	phoneE164   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// checkText refuses what PostgreSQL text cannot hold (invalid UTF-8, NUL)
// and what is too long or, when required, blank.
func checkText(field, v string, required bool, max int) error {
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return invalid("%s: not valid UTF-8 text", field)
	}
	if required && strings.TrimSpace(v) == "" {
		return invalid("%s is required", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid("%s: %d characters, at most %d", field, n, max)
	}
	return nil
}

// jsonObject checks raw is one JSON object of at most max bytes; empty
// means {}. It returns the text to store.
func jsonObject(field string, raw []byte, max int) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "{}", nil
	}
	if len(raw) > max {
		return "", invalid("%s: %d bytes, at most %d", field, len(raw), max)
	}
	if !json.Valid(raw) {
		return "", invalid("%s: not valid JSON", field)
	}
	if bytes.TrimSpace(raw)[0] != '{' {
		return "", invalid("%s: must be a JSON object", field)
	}
	return string(raw), nil
}

// email accepts a bare address, the only form the outbox sends to. No
// display names, no spaces or line breaks (header injection).
func email(v string) bool {
	if len(v) > 254 || strings.ContainsAny(v, " \t\r\n<>,;\"\\") {
		return false
	}
	at := strings.LastIndexByte(v, '@')
	return at > 0 && at < len(v)-1 && strings.Contains(v[at+1:], ".") && strings.Count(v, "@") == 1 && utf8.ValidString(v)
}
