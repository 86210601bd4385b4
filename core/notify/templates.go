package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/i18n"
)

// Kinds of message the town sends of its own accord. Their default texts
// are the messages notify.<kind>.subject, .body and .sms of the catalogue
// (web/locales/notify.*.toml); a town may replace them per language.
const (
	KindAppointmentTomorrow = "appointment_tomorrow"
	KindIDCardExpiring      = "id_card_expiring"
	KindRequestReceived     = "request_received"
	KindEnrolmentConfirmed  = "enrolment_confirmed"
)

// Fields are the placeholders each kind's texts may use ({{.Name}}), with
// a sample value each: a town's own text is tried on them before it is
// stored, so that a typo is refused then rather than when sending.
var Fields = map[string]map[string]any{
	KindAppointmentTomorrow: {"Name": "Anna Rossi", "Town": "Comune di Esempio", "Topic": "Carta d'identità",
		"Office": "Anagrafe", "Address": "Piazza Municipio 1", "When": "3 dicembre 2026, 09:30", "Code": "ABCD2345"},
	KindIDCardExpiring: {"Name": "Anna Rossi", "Town": "Comune di Esempio", "Expiry": "31 gennaio 2027"},
	KindRequestReceived: {"Name": "Anna Rossi", "Town": "Comune di Esempio", "Number": "2026-000042",
		"Title": "Iscrizione al nido"},
	KindEnrolmentConfirmed: {"Name": "Anna Rossi", "Town": "Comune di Esempio", "Number": "2026-000042",
		"Title": "Iscrizione al nido"},
}

// Kinds lists the kinds, sorted.
func Kinds() []string {
	out := make([]string, 0, len(Fields))
	for k := range Fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Texts are one message in the three forms it is sent in.
type Texts struct {
	Subject string // of the e-mail, one line
	Body    string // of the e-mail
	SMS     string // the whole SMS
}

// Override is a town's own texts for a kind in a language.
type Override struct {
	Kind, Lang string
	Texts
}

const maxSMS = 480 // three concatenated SMS

// TemplateError is a town's text refused, with why.
type TemplateError struct{ Field, Reason string }

func (e *TemplateError) Error() string { return "template " + e.Field + ": " + e.Reason }

func parse(field, text string) (*template.Template, error) {
	t, err := template.New(field).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, &TemplateError{Field: field, Reason: err.Error()}
	}
	return t, nil
}

func execute(t *template.Template, data map[string]any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Check refuses an override that could not be sent: an unknown kind, a
// language that is no two-letter code, an empty subject or body, a
// subject on more than one line, or a placeholder the kind does not have.
func (o Override) Check() error {
	sample, ok := Fields[o.Kind]
	if !ok {
		return &TemplateError{Field: "kind", Reason: fmt.Sprintf("%q: one of %s", o.Kind, strings.Join(Kinds(), ", "))}
	}
	if len(o.Lang) != 2 || strings.ToLower(o.Lang) != o.Lang || strings.Trim(o.Lang, "abcdefghijklmnopqrstuvwxyz") != "" {
		return &TemplateError{Field: "lang", Reason: fmt.Sprintf("%q: a two-letter language code (it, de, en)", o.Lang)}
	}
	for _, f := range []struct {
		name, text string
		required   bool
		max        int
	}{{"subject", o.Subject, true, maxSubject}, {"body", o.Body, true, 8000}, {"sms", o.SMS, false, maxSMS}} {
		if strings.TrimSpace(f.text) == "" {
			if f.required {
				return &TemplateError{Field: f.name, Reason: "empty"}
			}
			continue
		}
		t, err := parse(f.name, f.text)
		if err != nil {
			return err
		}
		out, err := execute(t, sample)
		if err != nil {
			return &TemplateError{Field: f.name, Reason: fmt.Sprintf("%v (placeholders of %s: %s)", err, o.Kind, placeholders(sample))}
		}
		if utf8.RuneCountInString(out) > f.max {
			return &TemplateError{Field: f.name, Reason: fmt.Sprintf("longer than %d characters", f.max)}
		}
		if f.name == "subject" && strings.ContainsAny(out, "\r\n") {
			return &TemplateError{Field: f.name, Reason: "one line"}
		}
	}
	return nil
}

func placeholders(sample map[string]any) string {
	var names []string
	for k := range sample {
		names = append(names, "{{."+k+"}}")
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

// SetTemplate stores a town's override, replacing the one it had for the
// kind and language.
func SetTemplate(ctx context.Context, tx bun.IDB, tenantID int64, o Override) error {
	if err := o.Check(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notify_templates (tenant_id, kind, lang, subject, body, sms)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, kind, lang) DO UPDATE SET
		subject = EXCLUDED.subject, body = EXCLUDED.body, sms = EXCLUDED.sms, updated_at = now()`,
		tenantID, o.Kind, o.Lang, o.Subject, o.Body, strings.TrimSpace(o.SMS))
	if err != nil {
		return fmt.Errorf("store template %s/%s: %w", o.Kind, o.Lang, err)
	}
	return nil
}

// ResetTemplate drops a town's override: the default applies again. It
// reports whether there was one.
func ResetTemplate(ctx context.Context, tx bun.IDB, tenantID int64, kind, lang string) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM notify_templates WHERE tenant_id = ? AND kind = ? AND lang = ?`, tenantID, kind, lang)
	if err != nil {
		return false, fmt.Errorf("reset template %s/%s: %w", kind, lang, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Templates lists a town's overrides by kind and language.
func Templates(ctx context.Context, tx bun.IDB, tenantID int64) ([]Override, error) {
	rows, err := tx.QueryContext(ctx, `SELECT kind, lang, subject, body, sms FROM notify_templates
		WHERE tenant_id = ? ORDER BY kind, lang`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	defer rows.Close()
	var out []Override
	for rows.Next() {
		var o Override
		if err := rows.Scan(&o.Kind, &o.Lang, &o.Subject, &o.Body, &o.SMS); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Render writes the message of kind in lang for a town: its own texts
// when it has them for that language, else the defaults of cat. data
// fills the placeholders (Fields lists them).
func Render(ctx context.Context, tx bun.IDB, cat *i18n.Catalog, tenantID int64, kind, lang string, data map[string]any) (Texts, error) {
	if _, ok := Fields[kind]; !ok {
		return Texts{}, fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	def := Texts{
		Subject: cat.T(lang, "notify."+kind+".subject", data),
		Body:    cat.T(lang, "notify."+kind+".body", data),
		SMS:     cat.T(lang, "notify."+kind+".sms", data),
	}
	var o Override
	err := tx.QueryRowContext(ctx, `SELECT subject, body, sms FROM notify_templates WHERE tenant_id = ? AND kind = ? AND lang = ?`,
		tenantID, kind, lang).Scan(&o.Subject, &o.Body, &o.SMS)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return Texts{}, fmt.Errorf("template %s/%s: %w", kind, lang, err)
	}
	out := def
	for _, f := range []struct {
		text string
		into *string
	}{{o.Subject, &out.Subject}, {o.Body, &out.Body}, {o.SMS, &out.SMS}} {
		if f.text == "" {
			continue
		}
		t, err := parse("text", f.text)
		if err == nil {
			*f.into, err = execute(t, data)
		}
		if err != nil {
			// Checked when stored; a failure now is a bug, and the default
			// text still says what it must.
			*f.into = map[*string]string{&out.Subject: def.Subject, &out.Body: def.Body, &out.SMS: def.SMS}[f.into]
		}
	}
	out.Subject = strings.Join(strings.Fields(out.Subject), " ")
	if utf8.RuneCountInString(out.Subject) > maxSubject {
		out.Subject = string([]rune(out.Subject)[:maxSubject-1]) + "…"
	}
	return out, nil
}
