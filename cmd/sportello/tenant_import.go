package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/schollz/progressbar/v3"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"golang.org/x/term"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
)

// importBatch is how many towns one transaction stores: few enough that an
// interrupted run loses little work, enough that 8,000 towns take seconds.
const importBatch = 500

// importTheme is the portal colour of an imported town until its staff
// choose their own: the blue of the Italian public administration's
// design system.
const importTheme = "#0066cc"

// The columns an import file must have, in any order; others are ignored.
var importColumns = []string{"istat_code", "name", "province", "region", "population"}

var (
	istatRe    = regexp.MustCompile(`^[0-9]{6}$`)
	provinceRe = regexp.MustCompile(`^[A-Z]{2}$`)
)

// townRow is one valid line of the import file.
type townRow struct {
	line       int
	code       string
	name       string // as the file gives it, without "Comune di"
	province   string
	region     string
	population *int64
	slug       string
}

// storedTown is a tenant already in the database, as the import sees it.
type storedTown struct {
	id         int64
	slug       string
	code       string
	name       string
	region     string
	population *int64
	// fromManifest: the town was applied from a manifest, whose name wins
	// over the file's.
	fromManifest bool
}

// importReport counts what an import did.
type importReport struct {
	created, updated, unchanged, invalid int
}

func tenantImport(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("tenant import", flag.ContinueOnError)
	file := fs.String("csv", "", "the municipalities file (istat_code,name,province,region,population)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if *file == "" || fs.NArg() > 0 {
		return usageError("tenant import needs --csv FILE")
	}
	f, err := os.Open(*file)
	if err != nil {
		return fmt.Errorf("read import file: %w", err)
	}
	rows, invalid, err := readTownRows(f, *file, os.Stderr)
	f.Close()
	if err != nil {
		return err
	}
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := importTowns(ctx, d.App, rows, newImportProgress(len(rows)))
	rep.invalid = invalid
	fmt.Printf("%d created, %d updated, %d unchanged, %d invalid\n", rep.created, rep.updated, rep.unchanged, rep.invalid)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted; what was stored stays, run the same command again to import the rest")
		}
		return err
	}
	if invalid > 0 {
		return fmt.Errorf("%d invalid rows of %s skipped (listed above); the others are stored", invalid, *file)
	}
	return nil
}

// readTownRows reads and checks the whole file. Each invalid line is
// reported on problems with its number and skipped; only an unreadable
// file or a missing column stops the import before anything is stored.
func readTownRows(r io.Reader, name string, problems io.Writer) ([]townRow, int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: read the header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range importColumns {
		if _, ok := col[c]; !ok {
			return nil, 0, fmt.Errorf("%s: the header lacks the column %q (it needs %s)", name, c, strings.Join(importColumns, ","))
		}
	}
	width := 0
	for _, i := range col {
		width = max(width, i+1)
	}
	var rows []townRow
	invalid := 0
	seen := map[string]int{}
	bad := func(line int, format string, args ...any) {
		invalid++
		fmt.Fprintf(problems, "%s:%d: %s; skipped\n", name, line, fmt.Sprintf(format, args...))
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			bad(pe.StartLine, "%v", pe.Err)
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < width {
			bad(line, "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		t := townRow{
			line:     line,
			code:     strings.TrimSpace(rec[col["istat_code"]]),
			name:     strings.Join(strings.Fields(rec[col["name"]]), " "),
			province: strings.ToUpper(strings.TrimSpace(rec[col["province"]])),
			region:   strings.TrimSpace(rec[col["region"]]),
		}
		pop := strings.TrimSpace(rec[col["population"]])
		switch {
		case !istatRe.MatchString(t.code):
			bad(line, "istat_code %q must be six digits", t.code)
			continue
		case t.name == "":
			bad(line, "the name is empty")
			continue
		case len(t.name) > 150:
			bad(line, "the name is longer than 150 bytes")
			continue
		case !provinceRe.MatchString(t.province):
			bad(line, "province %q must be a two-letter code such as BG", t.province)
			continue
		case len(t.region) > 100:
			bad(line, "the region is longer than 100 bytes")
			continue
		}
		if pop != "" {
			n, err := strconv.ParseInt(pop, 10, 32)
			if err != nil || n < 0 {
				bad(line, "population %q must be a whole number, 0 or more", pop)
				continue
			}
			t.population = &n
		}
		if first, dup := seen[t.code]; dup {
			bad(line, "istat_code %s is already on line %d", t.code, first)
			continue
		}
		seen[t.code] = line
		rows = append(rows, t)
	}
	return rows, invalid, nil
}

// importTowns creates the towns of rows that are missing, updates those
// whose name, region or population changed, and leaves the rest alone.
// Towns are recognised by their ISTAT code, and stored in transactions of
// importBatch, so an interrupted import keeps what it committed and a
// second run picks up the rest.
func importTowns(ctx context.Context, db *store.DB, rows []townRow, progress func(done int)) (importReport, error) {
	var rep importReport
	stored, err := storedTowns(ctx, db)
	if err != nil {
		return rep, err
	}
	byCode := make(map[string]*storedTown, len(stored))
	taken := make(map[string]bool, len(stored)+len(rows))
	for i := range stored {
		if stored[i].code != "" {
			byCode[stored[i].code] = &stored[i]
		}
		taken[stored[i].slug] = true
	}
	assignSlugs(rows, byCode, taken)

	var create, update []townRow
	for _, r := range rows {
		cur, ok := byCode[r.code]
		switch {
		case !ok:
			create = append(create, r)
		case townChanged(cur, r):
			update = append(update, r)
		default:
			rep.unchanged++
		}
	}
	done := rep.unchanged
	progress(done)
	for len(create) > 0 {
		n := min(importBatch, len(create))
		created, err := storeTownBatch(ctx, db, create[:n], nil)
		rep.created += created
		// A town created meanwhile by another import is left as it is.
		rep.unchanged += n - created
		if err != nil {
			return rep, err
		}
		create = create[n:]
		done += n
		progress(done)
	}
	for len(update) > 0 {
		n := min(importBatch, len(update))
		updated, err := storeTownBatch(ctx, db, nil, update[:n])
		rep.updated += updated
		rep.unchanged += n - updated
		if err != nil {
			return rep, err
		}
		update = update[n:]
		done += n
		progress(done)
	}
	return rep, nil
}

func storedTowns(ctx context.Context, db *store.DB) ([]storedTown, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, slug, COALESCE(istat_code, ''), name, COALESCE(region, ''), population,
		manifest_sha256 <> '' FROM tenants`)
	if err != nil {
		return nil, fmt.Errorf("read the towns: %w", err)
	}
	defer rows.Close()
	var out []storedTown
	for rows.Next() {
		var t storedTown
		if err := rows.Scan(&t.id, &t.slug, &t.code, &t.name, &t.region, &t.population, &t.fromManifest); err != nil {
			return nil, fmt.Errorf("read the towns: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the towns: %w", err)
	}
	return out, nil
}

// assignSlugs gives each row its town's slug: the one it has if the town
// is stored, else one made from the name. The name alone when no other
// town of the file folds to it; homonyms (Castro in Bergamo and in Lecce,
// Paterno and Paternò) all get their province ("castro-bg", "castro-le"),
// so no town's address depends on which was imported first; the ISTAT code
// settles what is still taken.
func assignSlugs(rows []townRow, byCode map[string]*storedTown, taken map[string]bool) {
	bases := make([]string, len(rows))
	count := map[string]int{}
	for i, r := range rows {
		bases[i] = slugBase(r.name)
		count[bases[i]]++
	}
	for i := range rows {
		r := &rows[i]
		if cur, ok := byCode[r.code]; ok {
			r.slug = cur.slug
			continue
		}
		var candidates []string
		if count[bases[i]] == 1 {
			candidates = append(candidates, bases[i])
		}
		candidates = append(candidates, slugWith(bases[i], strings.ToLower(r.province)), slugWith(bases[i], r.code))
		for _, c := range candidates {
			if !taken[c] {
				r.slug = c
				break
			}
		}
		if r.slug == "" {
			// Only another town holding this very code's slug gets here.
			r.slug = slugWith("comune", r.code)
		}
		taken[r.slug] = true
	}
}

// maxSlug is the longest slug a tenant may have (a DNS label).
const maxSlug = 63

// slugBase folds name to lower-case ASCII letters, digits and dashes:
// "Sant'Agata li Battiati" is "sant-agata-li-battiati".
func slugBase(name string) string {
	fold := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(fold, name)
	if err != nil {
		s = name
	}
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > maxSlug {
		out = strings.TrimRight(out[:maxSlug], "-")
	}
	if out == "" {
		out = "comune"
	}
	return out
}

// slugWith appends suffix to base, shortening base so the whole fits.
func slugWith(base, suffix string) string {
	if keep := maxSlug - len(suffix) - 1; len(base) > keep {
		base = strings.TrimRight(base[:keep], "-")
	}
	return base + "-" + suffix
}

func townName(name string) string { return "Comune di " + name }

// townLanguages: the towns of South Tyrol (province of Bolzano) are
// bilingual; the site's texts exist in Italian, German and English only,
// so Aosta's French waits until they exist in French.
func townLanguages(province string) []string {
	if province == "BZ" {
		return []string{"it", "de"}
	}
	return []string{"it"}
}

// townChanged: what the file says differs from what is stored. A town
// applied from a manifest keeps the manifest's name.
func townChanged(cur *storedTown, r townRow) bool {
	if !cur.fromManifest && cur.name != townName(r.name) {
		return true
	}
	if cur.region != r.region {
		return true
	}
	if (cur.population == nil) != (r.population == nil) {
		return true
	}
	return cur.population != nil && *cur.population != *r.population
}

// storeTownBatch creates the towns of create, or updates those of update,
// in one transaction with an audit entry for each, and tells the running
// app instances once that tenants changed. It returns how many towns it
// wrote.
func storeTownBatch(ctx context.Context, db *store.DB, create, update []townRow) (int, error) {
	type written struct {
		ID   int64  `bun:"id"`
		Slug string `bun:"slug"`
		Code string `bun:"istat_code"`
	}
	var out []written
	action := "tenant.import.create"
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var q strings.Builder
		var args []any
		if len(create) > 0 {
			branding := fmt.Sprintf(`{"primary_color":%q,"contacts":{}}`, importTheme)
			q.WriteString("INSERT INTO tenants (slug, name, languages, branding, istat_code, population, region) VALUES ")
			for i, r := range create {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, NULLIF(?, ''))")
				args = append(args, r.slug, townName(r.name), pgdialect.Array(townLanguages(r.province)), branding, r.code, r.population, r.region)
			}
			q.WriteString(" ON CONFLICT (istat_code) DO NOTHING RETURNING id, slug, istat_code")
		} else {
			action = "tenant.import.update"
			// A town applied from a manifest keeps its name: the CASE leaves it.
			q.WriteString(`UPDATE tenants t SET
					name = CASE WHEN t.manifest_sha256 = '' THEN v.name ELSE t.name END,
					region = NULLIF(v.region, ''), population = v.population, updated_at = now()
				FROM (VALUES `)
			for i, r := range update {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?::text, ?::text, ?::text, ?::integer)")
				args = append(args, r.code, townName(r.name), r.region, r.population)
			}
			q.WriteString(`) AS v (istat_code, name, region, population)
				WHERE t.istat_code = v.istat_code
				  AND (CASE WHEN t.manifest_sha256 = '' THEN v.name ELSE t.name END, NULLIF(v.region, ''), v.population)
				      IS DISTINCT FROM (t.name, t.region, t.population)
				RETURNING t.id, t.slug, t.istat_code`)
		}
		if err := tx.NewRaw(q.String(), args...).Scan(ctx, &out); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store towns: %w", err)
		}
		if len(out) == 0 {
			return nil
		}
		// audit_log is tenant-owned: each entry is written in its town's
		// scope, the setting and the insert side by side in one message.
		q.Reset()
		args = args[:0]
		for _, w := range out {
			q.WriteString("SELECT set_config('sportello.tenant_id', ?, true); ")
			q.WriteString("INSERT INTO audit_log (tenant_id, actor, action, object, details) VALUES (?, 'import', ?, ?, ?); ")
			args = append(args, strconv.FormatInt(w.ID, 10), w.ID, action, "tenant:"+w.Slug, fmt.Sprintf(`{"istat_code":%q}`, w.Code))
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("audit the imported towns: %w", err)
		}
		// Every instance reloads its whole registry on a notification, so
		// one per batch, not one per town.
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", tenancy.NotifyChannel, out[0].Slug); err != nil {
			return fmt.Errorf("notify the app instances: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(out), nil
}

// newImportProgress shows a bar on a terminal, else a line every 1,000
// towns, so that logs of a scripted run stay short.
func newImportProgress(total int) func(done int) {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		bar := progressbar.NewOptions(total,
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("towns"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
		)
		return func(done int) { _ = bar.Set(done) }
	}
	last := 0
	return func(done int) {
		if done/1000 > last/1000 || (done == total && last != total) {
			fmt.Fprintf(os.Stderr, "%d/%d towns\n", done, total)
		}
		last = done
	}
}
