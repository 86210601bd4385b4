package dossier

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// Translator gives the text of a message id in a language
// (*i18n.Catalog is one).
type Translator interface {
	T(lang, id string, args map[string]any) string
}

// csvColumns are the columns of an export, by message id.
var csvColumns = []string{
	"dossier.field.number", "dossier.field.created_at", "dossier.field.service", "dossier.field.title",
	"dossier.field.status", "dossier.field.channel", "dossier.field.applicant", "dossier.field.fiscal_code",
	"dossier.field.email", "dossier.field.office", "dossier.field.assignee", "dossier.field.priority", "dossier.field.due",
}

// csvTime is how an export writes instants: ISO 8601 in the town's zone,
// which every spreadsheet reads whatever its language.
const csvTime = "2006-01-02 15:04"

// WriteCSV writes rows as CSV with a header row in lang: number, date,
// service, title, status, channel, applicant, fiscal code, e-mail, office,
// assignee, priority, due date. Times are written in loc (nil: UTC). A
// cell starting with = + - @ (or a tab or carriage return) gets a leading
// ' so a spreadsheet shows it instead of running it as a formula.
func WriteCSV(w io.Writer, rows []Dossier, lang string, tr Translator, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	cw := csv.NewWriter(w)
	header := make([]string, len(csvColumns))
	for i, id := range csvColumns {
		header[i] = tr.T(lang, id, nil)
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(csvTime)
	}
	for _, d := range rows {
		rec := []string{
			d.Number, stamp(d.CreatedAt), d.ServiceID, d.Title,
			d.Status, tr.T(lang, "dossier.channel."+d.Channel, nil), d.Applicant.Name, d.Applicant.FiscalCode,
			d.Applicant.Email, d.OfficeSlug, d.AssigneeName, tr.T(lang, "dossier.priority."+string(d.Priority), nil), stamp(d.DueAt),
		}
		for i := range rec {
			rec[i] = csvSafe(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// csvSafe defuses a cell a spreadsheet would take for a formula (CSV
// injection): an apostrophe in front makes it text, as the OWASP advice
// goes. Leading spaces do not hide a formula; some spreadsheets skip them.
func csvSafe(v string) string {
	t := strings.TrimLeft(v, " ")
	if t == "" {
		return v
	}
	switch t[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}
