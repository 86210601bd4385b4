package sdk

import "fmt"

// Messages are the texts a plugin's Handle writes to people (errors,
// confirmations, notifications), by key and then by language:
//
//	var msg = sdk.Messages{
//		"sent": {"it": "Richiesta inviata.", "de": "Anfrage gesendet.", "en": "Request sent."},
//	}
//
// Keeping the three languages of one message together makes a missing or
// stale translation visible where the message is written.
type Messages map[string]map[string]string

// Get returns the message key in lang, formatted with args as by
// fmt.Sprintf. A regional tag ("de-CH") finds its language ("de"); a
// language the message lacks falls back to Italian, which every manifest
// has; an unknown key comes back as itself, so that it shows up in tests.
func (m Messages) Get(lang, key string, args ...any) string {
	texts, ok := m[key]
	if !ok {
		return key
	}
	s, ok := texts[base(lang)]
	if !ok || s == "" {
		s = texts["it"]
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}
