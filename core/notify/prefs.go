package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// The rule of consent, which every message to a citizen follows:
//
//   - SMS go only to a citizen who has consented to SMS, and only to the
//     number they gave with that consent: Reminders checks Prefs.SMS
//     before queuing one. (No plugin texts anybody today; the Host API
//     would still queue an SMS a plugin addresses to a number itself.)
//   - Reminders and notices the town sends of its own accord (an
//     appointment tomorrow, an identity card about to expire, a request
//     received, an enrolment confirmed) go only by the channels the
//     citizen consented to.
//   - An e-mail answering what the citizen just did or asked about their
//     own request (the receipt of a filed request, an office's reply, the
//     confirmation of an appointment they booked) keeps going by e-mail as
//     before, consent or not: it is part of the service they asked for,
//     and it is sent by the code that does the deed, not from here. The
//     reminder job therefore sends no second e-mail for a request received
//     or an enrolment confirmed (their own e-mail already went), only the
//     SMS a citizen asked for.

// Prefs is what a citizen lets the town send them.
type Prefs struct {
	Email          bool
	EmailChangedAt time.Time // when e-mail consent was last given or withdrawn; zero if never set
	SMS            bool
	SMSChangedAt   time.Time
	Phone          string // international form (+39…); "" for none
	Lang           string // the language they used when saving
	Saved          bool   // false: never chosen, which is consent to nothing
}

// PrefsError is a form field the citizen must correct: Field is "phone",
// Code "required" (SMS without a number) or "invalid".
type PrefsError struct{ Field, Code string }

func (e *PrefsError) Error() string { return "notification preferences: " + e.Field + " " + e.Code }

// LoadPrefs reads a citizen's preferences; someone who never saved any has
// consented to nothing.
func LoadPrefs(ctx context.Context, tx bun.IDB, tenantID, citizenID int64) (Prefs, error) {
	var p Prefs
	err := tx.QueryRowContext(ctx, `SELECT email, email_changed_at, sms, sms_changed_at, phone, lang
		FROM notify_prefs WHERE tenant_id = ? AND citizen_id = ?`, tenantID, citizenID).
		Scan(&p.Email, &p.EmailChangedAt, &p.SMS, &p.SMSChangedAt, &p.Phone, &p.Lang)
	if errors.Is(err, sql.ErrNoRows) {
		return Prefs{}, nil
	}
	if err != nil {
		return Prefs{}, fmt.Errorf("notification preferences of citizen %d: %w", citizenID, err)
	}
	p.Saved = true
	return p, nil
}

// SavePrefs stores a citizen's choice. phone is as typed: it is kept in
// international form, and is required when SMS is chosen. A channel whose
// consent did not change keeps its date. Nothing is stored on a
// *PrefsError.
func SavePrefs(ctx context.Context, tx bun.IDB, tenantID, citizenID int64, email, sms bool, phone, lang string) (Prefs, error) {
	num, err := NormalizePhone(phone)
	switch {
	case err != nil:
		return Prefs{}, &PrefsError{Field: "phone", Code: "invalid"}
	case sms && num == "":
		return Prefs{}, &PrefsError{Field: "phone", Code: "required"}
	}
	if len(lang) != 2 || strings.ToLower(lang) != lang {
		lang = ""
	}
	var p Prefs
	err = tx.QueryRowContext(ctx, `INSERT INTO notify_prefs AS p (tenant_id, citizen_id, email, sms, phone, lang)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, citizen_id) DO UPDATE SET
			email_changed_at = CASE WHEN p.email = EXCLUDED.email THEN p.email_changed_at ELSE now() END,
			sms_changed_at = CASE WHEN p.sms = EXCLUDED.sms THEN p.sms_changed_at ELSE now() END,
			email = EXCLUDED.email, sms = EXCLUDED.sms, phone = EXCLUDED.phone, lang = EXCLUDED.lang, updated_at = now()
		RETURNING email, email_changed_at, sms, sms_changed_at, phone, lang`,
		tenantID, citizenID, email, sms, num, lang).
		Scan(&p.Email, &p.EmailChangedAt, &p.SMS, &p.SMSChangedAt, &p.Phone, &p.Lang)
	if err != nil {
		return Prefs{}, fmt.Errorf("save notification preferences of citizen %d: %w", citizenID, err)
	}
	p.Saved = true
	return p, nil
}

// NormalizePhone turns a number as people write it ("+39 333 123 4567",
// "0041 79 123 45 67", "+39 (0)2 1234567") into international form
// (+393331234567). "" stays "". A number without its country code is
// refused: a town near a border has citizens with foreign numbers, so no
// country is assumed.
func NormalizePhone(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", nil
	}
	s = strings.Replace(s, "(0)", "", 1)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", fmt.Errorf("%w: phone number %q", ErrInvalid, raw)
		}
	}
	n := b.String()
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	if !phoneRe.MatchString(n) {
		return "", fmt.Errorf("%w: phone number %q: want the country code, +39…", ErrInvalid, raw)
	}
	return n, nil
}
