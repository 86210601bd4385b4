package sdk_test

import (
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

func TestMessages(t *testing.T) {
	msg := sdk.Messages{
		"hello": {"it": "Ciao %s", "de": "Hallo %s", "en": "Hello %s"},
		"only":  {"it": "Solo italiano"},
		"order": {"it": "%s di %s", "en": "%[2]s's %[1]s"},
	}
	tests := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"de", "hello", []any{"Anna"}, "Hallo Anna"},
		{"de-CH", "hello", []any{"Anna"}, "Hallo Anna"},
		{"fr", "hello", []any{"Anna"}, "Ciao Anna"},
		{"en", "only", nil, "Solo italiano"},
		{"en", "missing", nil, "missing"},
		{"en", "order", []any{"bike", "Anna"}, "Anna's bike"},
		{"it", "order", []any{"bici", "Anna"}, "bici di Anna"},
	}
	for _, tc := range tests {
		if got := msg.Get(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
}

func TestMoneyAndDate(t *testing.T) {
	tests := []struct {
		lang, currency string
		cents          int64
		want           string
	}{
		{"it", "EUR", 150000, "€ 1.500,00"},
		{"de", "", 5, "€ 0,05"},
		{"en", "EUR", 123456789, "€1,234,567.89"},
		{"it", "CHF", 125050, "CHF 1'250.50"},
		{"en", "USD", 1000, "USD 10.00"},
		{"it", "EUR", -250, "-€ 2,50"},
	}
	for _, tc := range tests {
		if got := sdk.Money(tc.lang, tc.cents, tc.currency); got != tc.want {
			t.Errorf("Money(%s, %d, %s) = %q, want %q", tc.lang, tc.cents, tc.currency, got, tc.want)
		}
	}
	// 23:30 UTC on 31 May is already 1 June in the towns.
	d := time.Date(2026, 5, 31, 23, 30, 0, 0, time.UTC)
	for lang, want := range map[string]string{"it": "1 giugno 2026", "de": "1. Juni 2026", "en": "1 June 2026", "fr": "1 giugno 2026"} {
		if got := sdk.Date(lang, d); got != want {
			t.Errorf("Date(%s) = %q, want %q", lang, got, want)
		}
	}
}
