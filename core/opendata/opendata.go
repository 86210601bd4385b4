// Package opendata builds the datasets a town publishes under CC BY 4.0:
// counts of requests, appointments and page ratings, and where helpdesk
// reports were made. They are statistics, never records of people.
//
// What keeps them free of personal data:
//   - Only columns drawn from closed vocabularies are read: service ids,
//     channels, statuses folded to open/closed, months, office names,
//     category codes, coordinates rounded to three decimals (about 100 m).
//     No title, description, message, form data, applicant, account or
//     protocol number is selected at all.
//   - Small cells are suppressed: a count of 1 or 2 is published as "<3"
//     (Suppressed), never as the number, and a figure computed from fewer
//     than 3 records (a page's average rating) is not published. Rows with
//     nothing to count do not exist, so no zero is ever shown.
//   - Page ratings are keyed by a path a visitor sends: only paths made of
//     lower-case words (letters, "-" and "_") are published, and only with
//     at least 3 ratings, so a made-up path carries nobody's name or number.
package opendata

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Threshold is the smallest count published as such.
const Threshold = 3

// Suppressed stands for a count below Threshold.
const Suppressed = "<3"

// Licence is the licence of every dataset, as SPDX names it.
const Licence = "CC-BY-4.0"

// LicenceURL is the licence's text.
const LicenceURL = "https://creativecommons.org/licenses/by/4.0/"

// HelpdeskService is the catalogue id of the service whose reports form
// the "reports" dataset.
const HelpdeskService = "helpdesk"

// ErrUnknown: no dataset has this id.
var ErrUnknown = errors.New("opendata: no such dataset")

// IDs are the datasets, in the order the index lists them.
var IDs = []string{"requests", "reports", "appointments", "ratings"}

// Known says whether id names a dataset.
func Known(id string) bool {
	for _, k := range IDs {
		if k == id {
			return true
		}
	}
	return false
}

// Entry is a dataset as the index page lists it; Title and Description
// are in the page's language.
type Entry struct {
	ID, Title, Description string
}

// Closed says whether status is a final status of service's dossiers.
type Closed func(service, status string) bool

// Dataset is one table: its columns and rows. A cell is a string, an int,
// a float64, or nil for nothing to publish.
type Dataset struct {
	ID      string
	Columns []string
	Rows    [][]any
}

// Source reads a town's datasets.
type Source struct {
	db *store.DB
}

// New returns the datasets kept in db (the application role's pool).
func New(db *store.DB) *Source { return &Source{db: db} }

// Build computes dataset id of the town; lang is the language of office
// names ("" is Italian), closed folds statuses into open and closed.
func (s *Source) Build(ctx context.Context, tenantID int64, id, lang string, closed Closed) (*Dataset, error) {
	if lang == "" {
		lang = "it"
	}
	if closed == nil {
		closed = func(string, string) bool { return false }
	}
	var d *Dataset
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		switch id {
		case "requests":
			d, err = requests(ctx, tx, tenantID, closed)
		case "reports":
			d, err = reports(ctx, tx, tenantID, lang, closed)
		case "appointments":
			d, err = appointments(ctx, tx, tenantID, lang)
		case "ratings":
			d, err = ratings(ctx, tx, tenantID)
		default:
			return ErrUnknown
		}
		return err
	})
	if err != nil {
		if errors.Is(err, ErrUnknown) {
			return nil, err
		}
		return nil, fmt.Errorf("open data %s: %w", id, err)
	}
	return d, nil
}

// count is n as published.
func count(n int) any {
	if n < Threshold {
		return Suppressed
	}
	return n
}

func group(closed bool) string {
	if closed {
		return "closed"
	}
	return "open"
}

// A service id or a category code: a word of the catalogue, not text a
// person typed.
var codeRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

func code(v string) string {
	if codeRe.MatchString(v) {
		return v
	}
	return "other"
}

// tally adds up counts by key; rows come out sorted by key.
type tally struct {
	keys map[string][]any
	n    map[string]int
}

func newTally() *tally { return &tally{keys: map[string][]any{}, n: map[string]int{}} }

func (t *tally) add(n int, key ...any) {
	var k string
	for _, v := range key {
		k += fmt.Sprintf("%v\x00", v)
	}
	if _, ok := t.keys[k]; !ok {
		t.keys[k] = key
	}
	t.n[k] += n
}

// rows are the tallies sorted by key, each with its count appended.
func (t *tally) rows() [][]any {
	ks := make([]string, 0, len(t.keys))
	for k := range t.keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	out := make([][]any, 0, len(ks))
	for _, k := range ks {
		row := append(append([]any{}, t.keys[k]...), count(t.n[k]))
		out = append(out, row)
	}
	return out
}

// requests: filed requests per service, channel, month and open/closed.
func requests(ctx context.Context, tx bun.Tx, tenantID int64, closed Closed) (*Dataset, error) {
	rows, err := tx.QueryContext(ctx, `SELECT service_id, channel, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM'), status, count(*)
		FROM dossiers WHERE tenant_id = ? AND status <> 'draft'
		GROUP BY 1, 2, 3, 4`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := newTally()
	for rows.Next() {
		var service, channel, month, status string
		var n int
		if err := rows.Scan(&service, &channel, &month, &status, &n); err != nil {
			return nil, err
		}
		t.add(n, code(service), channel, month, group(closed(service, status)))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &Dataset{ID: "requests", Columns: []string{"service", "channel", "month", "status", "requests"}, Rows: t.rows()}, nil
}

// reports: helpdesk reports per category, open/closed, month, office and
// place rounded to about 100 m. Only the category and the coordinates
// are read of the report's data.
func reports(ctx context.Context, tx bun.Tx, tenantID int64, lang string, closed Closed) (*Dataset, error) {
	rows, err := tx.QueryContext(ctx, `SELECT coalesce(d.data->>'category', ''), d.status,
			to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM'),
			coalesce(nullif(o.name->>?, ''), o.name->>'it', o.slug, ''),
			CASE WHEN jsonb_typeof(d.data->'lat') = 'number' THEN (d.data->>'lat')::float8 END,
			CASE WHEN jsonb_typeof(d.data->'lon') = 'number' THEN (d.data->>'lon')::float8 END
		FROM dossiers d
		LEFT JOIN offices o ON o.tenant_id = d.tenant_id AND o.id = d.office_id
		WHERE d.tenant_id = ? AND d.service_id = ? AND d.status <> 'draft'`, lang, tenantID, HelpdeskService)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := newTally()
	for rows.Next() {
		var category, status, month, office string
		var lat, lon *float64
		if err := rows.Scan(&category, &status, &month, &office, &lat, &lon); err != nil {
			return nil, err
		}
		var la, lo any
		if lat != nil && lon != nil && !math.IsNaN(*lat) && !math.IsNaN(*lon) &&
			math.Abs(*lat) <= 90 && math.Abs(*lon) <= 180 {
			la, lo = round3(*lat), round3(*lon)
		}
		t.add(1, code(category), group(closed(HelpdeskService, status)), month, office, la, lo)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &Dataset{ID: "reports", Columns: []string{"category", "status", "month", "office", "lat", "lon", "reports"}, Rows: t.rows()}, nil
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// appointments: appointments per office and month, those cancelled apart.
func appointments(ctx context.Context, tx bun.Tx, tenantID int64, lang string) (*Dataset, error) {
	rows, err := tx.QueryContext(ctx, `SELECT coalesce(nullif(o.name->>?, ''), o.name->>'it', o.slug, ''),
			to_char(lower(b.period) AT TIME ZONE 'UTC', 'YYYY-MM'), b.status = 'cancelled', count(*)
		FROM appointments a
		JOIN bookings b ON b.tenant_id = a.tenant_id AND b.id = a.booking_id
		JOIN booking_resources r ON r.tenant_id = b.tenant_id AND r.id = b.resource_id
		LEFT JOIN offices o ON o.tenant_id = b.tenant_id AND o.id = coalesce(b.office_id, r.office_id)
		WHERE a.tenant_id = ? AND b.status IN ('pending', 'confirmed', 'cancelled')
		GROUP BY 1, 2, 3`, lang, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := newTally()
	for rows.Next() {
		var office, month string
		var cancelled bool
		var n int
		if err := rows.Scan(&office, &month, &cancelled, &n); err != nil {
			return nil, err
		}
		status := "booked"
		if cancelled {
			status = "cancelled"
		}
		t.add(n, office, month, status)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &Dataset{ID: "appointments", Columns: []string{"office", "month", "status", "appointments"}, Rows: t.rows()}, nil
}

// A rated page published: lower-case words, no digits, no "@" or dots.
var pageRe = regexp.MustCompile(`^/([a-z_-]+(/[a-z_-]+)*)?$`)

// ratings: each page's average rating (1 to 5 stars) and number of ratings.
// The comments are never read.
func ratings(ctx context.Context, tx bun.Tx, tenantID int64) (*Dataset, error) {
	rows, err := tx.QueryContext(ctx, `SELECT path, avg(stars)::float8, count(*)
		FROM page_ratings WHERE tenant_id = ? GROUP BY path HAVING count(*) >= ? ORDER BY path`, tenantID, Threshold)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	d := &Dataset{ID: "ratings", Columns: []string{"page", "average", "ratings"}}
	for rows.Next() {
		var path string
		var avg float64
		var n int
		if err := rows.Scan(&path, &avg, &n); err != nil {
			return nil, err
		}
		if !pageRe.MatchString(path) {
			continue
		}
		d.Rows = append(d.Rows, []any{path, math.Round(avg*100) / 100, count(n)})
	}
	return d, rows.Err()
}

// cell is v as CSV text.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return cellSafe(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return cellSafe(fmt.Sprint(x))
	}
}

// cellSafe keeps a spreadsheet from running a cell as a formula: a leading
// apostrophe makes it text. An office's name is the one text here.
func cellSafe(v string) string {
	t := strings.TrimLeft(v, " ")
	if t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) && v != Suppressed {
		return "'" + v
	}
	return v
}

// WriteCSV writes d with a header line.
func (d *Dataset) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(d.Columns); err != nil {
		return err
	}
	rec := make([]string, len(d.Columns))
	for _, row := range d.Rows {
		for i := range rec {
			rec[i] = cell(row[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// document is the JSON shape of a dataset: what it is, under which
// licence, the suppression rule, and one object per row.
type document struct {
	Dataset     string           `json:"dataset"`
	Town        string           `json:"town"`
	Licence     string           `json:"license"`
	LicenceURL  string           `json:"license_url"`
	Suppression string           `json:"suppression"`
	Columns     []string         `json:"columns"`
	Records     []map[string]any `json:"records"`
}

// SuppressionRule is the rule in words, as the JSON documents carry it.
const SuppressionRule = `counts below 3 are given as "<3"; averages of fewer than 3 ratings are not published`

// JSON is d as a JSON document of town.
func (d *Dataset) JSON(town string) ([]byte, error) {
	doc := document{Dataset: d.ID, Town: town, Licence: Licence, LicenceURL: LicenceURL, Suppression: SuppressionRule,
		Columns: d.Columns, Records: make([]map[string]any, 0, len(d.Rows))}
	for _, row := range d.Rows {
		rec := make(map[string]any, len(d.Columns))
		for i, c := range d.Columns {
			rec[c] = row[i]
		}
		doc.Records = append(doc.Records, rec)
	}
	return json.MarshalIndent(doc, "", " ")
}
