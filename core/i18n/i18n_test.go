package i18n

import (
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"active.it.toml": {Data: []byte(`
"hello" = "Ciao {{.Name}}"
"only.it" = "Solo in italiano"
"bye" = "Arrivederci"
["items"]
one = "{{.Count}} elemento"
other = "{{.Count}} elementi"
`)},
		"active.de.toml": {Data: []byte(`
"hello" = "Hallo {{.Name}}"
"bye" = "Auf Wiedersehen"
["items"]
one = "{{.Count}} Element"
other = "{{.Count}} Elemente"
`)},
		"active.en.toml": {Data: []byte(`
"hello" = "Hello {{.Name}}"
"bye" = "Goodbye"
["items"]
one = "{{.Count}} item"
other = "{{.Count}} items"
`)},
		"README.md": {Data: []byte("not a message file")},
	}
}

func TestT(t *testing.T) {
	c, err := New(testFS())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, id string
		args     map[string]any
		want     string
	}{
		{"it", "hello", map[string]any{"Name": "Anna"}, "Ciao Anna"},
		{"de", "hello", map[string]any{"Name": "Anna"}, "Hallo Anna"},
		{"de-CH", "hello", map[string]any{"Name": "Anna"}, "Hallo Anna"},
		{"en", "bye", nil, "Goodbye"},
		{"EN", "bye", nil, "Goodbye"},
		{"de", "only.it", nil, "Solo in italiano"}, // falls back to Italian
		{"fr", "bye", nil, "Arrivederci"},          // unknown language: Italian
		{"", "bye", nil, "Arrivederci"},            // no language: Italian
		{"en", "no.such.id", nil, "no.such.id"},    // missing everywhere: the id
		{"it", "items", map[string]any{"Count": 1}, "1 elemento"},
		{"it", "items", map[string]any{"Count": 3}, "3 elementi"},
		{"en", "items", map[string]any{"Count": 1}, "1 item"},
		{"de", "items", map[string]any{"Count": 0}, "0 Elemente"},
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.id, tt.args); got != tt.want {
			t.Errorf("T(%q, %q, %v) = %q, want %q", tt.lang, tt.id, tt.args, got, tt.want)
		}
	}
}

func TestNewCatalog(t *testing.T) {
	c, err := New(testFS())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Languages(), []string{"de", "en", "it"}; !slices.Equal(got, want) {
		t.Errorf("Languages() = %v, want %v", got, want)
	}
	if got, want := c.IDs("it"), []string{"bye", "hello", "items", "only.it"}; !slices.Equal(got, want) {
		t.Errorf("IDs(it) = %v, want %v", got, want)
	}
	if got := c.IDs("fr"); got != nil {
		t.Errorf("IDs(fr) = %v, want nil", got)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"empty", fstest.MapFS{}, "no active"},
		{"no italian", fstest.MapFS{"active.en.toml": {Data: []byte(`"a" = "b"`)}}, "fallback"},
		{"bad toml", fstest.MapFS{"active.it.toml": {Data: []byte(`"a" = `)}}, "parse active.it.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.fs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	offered := []string{"it", "de", "en"}
	tests := []struct {
		accept  string
		offered []string
		want    string
	}{
		{"", offered, "it"},
		{"de-CH,de;q=0.9,en;q=0.8", offered, "de"},
		{"en-GB,en;q=0.9", offered, "en"},
		{"fr-FR,fr;q=0.9,en;q=0.5", offered, "en"},
		{"fr-FR", offered, "it"},              // nothing acceptable: the first offered
		{"fr-FR", []string{"de", "it"}, "de"}, // the tenant's first language
		{"it-CH", []string{"de", "it"}, "it"}, // regional variant
		{"en;q=0.1,de;q=0.9", offered, "de"},  // quality order, not header order
		{"*", offered, "it"},                  // anything
		{";;;=garbage", offered, "it"},        // malformed
		{"en", nil, "it"},                     // nothing offered
	}
	for _, tt := range tests {
		if got := Match(tt.accept, tt.offered); got != tt.want {
			t.Errorf("Match(%q, %v) = %q, want %q", tt.accept, tt.offered, got, tt.want)
		}
	}
}

func TestFormatDate(t *testing.T) {
	d := time.Date(2025, time.March, 3, 14, 5, 0, 0, time.UTC)
	tests := []struct {
		lang string
		t    time.Time
		want string
	}{
		{"it", d, "3\u00a0marzo 2025"},
		{"de", d, "3.\u00a0März 2025"},
		{"en", d, "3\u00a0March 2025"},
		{"fr", d, "3\u00a0marzo 2025"},
		{"it", time.Date(2024, time.December, 31, 0, 0, 0, 0, time.UTC), "31\u00a0dicembre 2024"},
		{"it", time.Time{}, ""},
	}
	for _, tt := range tests {
		if got := FormatDate(tt.lang, tt.t); got != tt.want {
			t.Errorf("FormatDate(%q, %v) = %q, want %q", tt.lang, tt.t, got, tt.want)
		}
	}
	if got, want := FormatDateTime("de", d), "3.\u00a0März 2025, 14:05"; got != want {
		t.Errorf("FormatDateTime = %q, want %q", got, want)
	}
	if got := FormatDateTime("de", time.Time{}); got != "" {
		t.Errorf("FormatDateTime(zero) = %q, want empty", got)
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		lang     string
		f        float64
		decimals int
		want     string
	}{
		{"it", 1234.56, 2, "1.234,56"},
		{"de", 1234.56, 2, "1.234,56"},
		{"en", 1234.56, 2, "1,234.56"},
		{"it", 1234567.891, 1, "1.234.567,9"},
		{"en", 999, 0, "999"},
		{"en", 1000, 0, "1,000"},
		{"it", 0.5, 0, "0"}, // round half to even, as strconv does
		{"it", -1234.5, 2, "-1.234,50"},
		{"it", -0.001, 2, "0,00"},
		{"it", 12, -1, "12"},
		{"xx", 1234, 0, "1.234"},
		{"en", math.Inf(1), 2, "+Inf"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.lang, tt.f, tt.decimals); got != tt.want {
			t.Errorf("FormatNumber(%q, %v, %d) = %q, want %q", tt.lang, tt.f, tt.decimals, got, tt.want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		lang     string
		cents    int64
		currency string
		want     string
	}{
		{"it", 123456, "EUR", "1.234,56\u00a0€"},
		{"de", 123456, "EUR", "1.234,56\u00a0€"},
		{"en", 123456, "EUR", "€1,234.56"},
		{"it", 5, "EUR", "0,05\u00a0€"},
		{"it", 0, "EUR", "0,00\u00a0€"},
		{"it", -250, "eur", "-2,50\u00a0€"},
		{"en", -250, "EUR", "-€2.50"},
		{"de", 1000000, "CHF", "10.000,00\u00a0CHF"},
		{"en", 1000000, "CHF", "CHF\u00a010,000.00"},
		{"it", 100, "SEK", "1,00\u00a0SEK"},
		{"it", math.MinInt64, "EUR", "-92.233.720.368.547.758,08\u00a0€"},
	}
	for _, tt := range tests {
		if got := FormatMoney(tt.lang, tt.cents, tt.currency); got != tt.want {
			t.Errorf("FormatMoney(%q, %d, %q) = %q, want %q", tt.lang, tt.cents, tt.currency, got, tt.want)
		}
	}
}

func TestFormatHours(t *testing.T) {
	mon, tue, wed, thu, fri, sat, sun := time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday
	tests := []struct {
		lang        string
		days        []time.Weekday
		open, close string
		want        string
	}{
		{"it", []time.Weekday{mon, tue, wed, thu, fri}, "08:30", "12:00", "Lunedì–venerdì 08:30–12:00"},
		{"it", []time.Weekday{mon, wed}, "14:00", "16:30", "Lunedì, mercoledì 14:00–16:30"},
		{"it", []time.Weekday{tue, mon}, "09:00", "12:00", "Lunedì, martedì 09:00–12:00"},
		{"de", []time.Weekday{fri, mon, wed, tue, thu}, "08:30", "12:00", "Montag–Freitag 08:30–12:00"},
		{"en", []time.Weekday{sat, sun}, "10:00", "18:00", "Saturday, Sunday 10:00–18:00"},
		{"en", []time.Weekday{mon, tue, wed, fri, sat, sun}, "9", "17", "Monday–Wednesday, Friday–Sunday 9–17"},
		{"it", []time.Weekday{thu, thu}, "", "", "Giovedì"},
		{"it", nil, "08:00", "12:00", "08:00–12:00"},
		{"xx", []time.Weekday{sun}, "08:00", "12:00", "Domenica 08:00–12:00"},
	}
	for _, tt := range tests {
		if got := FormatHours(tt.lang, tt.days, tt.open, tt.close); got != tt.want {
			t.Errorf("FormatHours(%q, %v, %q, %q) = %q, want %q", tt.lang, tt.days, tt.open, tt.close, got, tt.want)
		}
	}
	if got := WeekdayName("de-CH", time.Wednesday); got != "Mittwoch" {
		t.Errorf("WeekdayName(de-CH, Wednesday) = %q", got)
	}
}

func TestMatchersAgreeWithMatch(t *testing.T) {
	var ms Matchers
	cases := []struct {
		accept  string
		offered []string
	}{
		{"de-CH,de;q=0.9,en;q=0.5", []string{"it", "de"}},
		{"en-GB", []string{"it", "de"}},
		{"en-US,en;q=0.8", []string{"it", "en"}},
		{"", []string{"it", "en"}},
		{"garbage;;q=x", []string{"de", "it"}},
		{"fr", nil},
	}
	for _, tc := range cases {
		for i := 0; i < 2; i++ { // the second time from the cached matcher
			if got, want := ms.Match(tc.accept, tc.offered), Match(tc.accept, tc.offered); got != want {
				t.Errorf("Matchers.Match(%q, %v) = %q, Match says %q", tc.accept, tc.offered, got, want)
			}
		}
	}
	if got := ms.Match("de-CH", []string{"it", "de"}); got != "de" {
		t.Errorf("de-CH among it, de: %q", got)
	}
}
