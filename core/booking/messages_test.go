package booking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

// Every refusal reads well in every language: its message exists and its
// placeholders are filled from the error (core/server/errors.go pairs the
// sentinels with these ids).
func TestRefusalMessages(t *testing.T) {
	cat, err := i18n.New(web.LocalesFS())
	if err != nil {
		t.Fatal(err)
	}
	start, limit := at(2026, 3, 16, 10, 30), at(2026, 3, 16, 11, 0)
	type dataErr interface {
		error
		MessageData(lang string) map[string]any
	}
	for _, tt := range []struct {
		id   string
		err  dataErr
		want map[string]string // language -> text the message must contain
	}{
		{"booking.error.past", &booking.RuleError{Rule: booking.RuleNotice, Start: start, Limit: limit},
			map[string]string{"it": "16\u00a0marzo 2026, 11:00", "de": "16.\u00a0März 2026, 11:00", "en": "16\u00a0March 2026, 11:00"}},
		{"booking.error.horizon", &booking.RuleError{Rule: booking.RuleHorizon, Start: start, Limit: date(2026, 4, 15)},
			map[string]string{"it": "15\u00a0aprile 2026", "de": "15.\u00a0April 2026", "en": "15\u00a0April 2026"}},
		{"booking.error.closed", &booking.RuleError{Rule: booking.RuleClosed, Start: start, Reason: "San Giuseppe"},
			map[string]string{"it": "(San Giuseppe)", "de": "(San Giuseppe)", "en": "(San Giuseppe)"}},
		{"booking.error.outside_hours", &booking.RuleError{Rule: booking.RuleGrid, Start: start},
			map[string]string{"it": "10:30", "de": "10:30", "en": "10:30"}},
		{"booking.error.cancel_deadline", &booking.DeadlineError{Code: "K7M2QX9P", Deadline: time.Date(2026, 3, 17, 10, 0, 0, 0, rome)},
			map[string]string{"it": "17\u00a0marzo 2026, 10:00", "de": "17.\u00a0März 2026, 10:00", "en": "17\u00a0March 2026, 10:00"}},
	} {
		for lang, want := range tt.want {
			msg := cat.T(lang, tt.id, tt.err.MessageData(lang))
			if msg == tt.id || !strings.Contains(msg, want) || strings.Contains(msg, "<no value>") || strings.Contains(msg, "{{") {
				t.Errorf("%s in %s: %q, want it to contain %q", tt.id, lang, msg, want)
			}
		}
	}
	for _, lang := range []string{"it", "de", "en"} {
		if msg := cat.T(lang, "booking.error.closed", (&booking.RuleError{Rule: booking.RuleClosed, Start: start}).MessageData(lang)); strings.Contains(msg, "()") {
			t.Errorf("closed without a reason in %s: %q", lang, msg)
		}
		for _, id := range []string{"booking.error.taken", "booking.error.hold_expired"} {
			if cat.T(lang, id, nil) == id {
				t.Errorf("%s lacks %s", lang, id)
			}
		}
	}
}
