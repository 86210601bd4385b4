package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/core/store"
)

// importedTown is a tenant as the import stores it.
type importedTown struct {
	Slug       string
	Name       string
	Languages  string
	Code       string
	Population int64
	Region     string
}

func importedTowns(t *testing.T, c *cli) map[string]importedTown {
	t.Helper()
	var url string
	for _, kv := range c.env {
		if v, ok := strings.CutPrefix(kv, "SPORTELLO_DATABASE_URL="); ok {
			url = v
		}
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT slug, name, array_to_string(languages, ','), istat_code, population, region
		FROM tenants WHERE istat_code IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]importedTown{}
	for rows.Next() {
		var r importedTown
		if err := rows.Scan(&r.Slug, &r.Name, &r.Languages, &r.Code, &r.Population, &r.Region); err != nil {
			t.Fatal(err)
		}
		out[r.Code] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var audits int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM audit_log WHERE actor = 'import'").Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if audits < len(out) {
		t.Fatalf("%d audit entries for %d imported towns", audits, len(out))
	}
	return out
}

func TestTenantImport(t *testing.T) {
	c := newCLI(t)
	// The demo's Venezia, applied from a manifest, holds the slug "venezia".
	if out, stderr, code := c.run("tenant", "apply", "-f", "tenants"); code != 0 {
		t.Fatalf("apply: %d %s %s", code, out, stderr)
	}
	file := "cmd/sportello/testdata/comuni.csv"
	out, stderr, code := c.run("tenant", "import", "--csv", file)
	if code != 1 || strings.TrimSpace(out) != "8 created, 0 updated, 0 unchanged, 3 invalid" {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		file + `:8: istat_code "12345" must be six digits; skipped`,
		file + ":9: the name is empty; skipped",
		file + ":10: istat_code 016065 is already on line 3; skipped",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the report lacks %q:\n%s", want, stderr)
		}
	}
	towns := importedTowns(t, c)
	want := map[string]string{
		"001001": "aglie", "016065": "castro-bg", "075096": "castro-le", "076100": "paterno-pz",
		"087033": "paterno-ct", "021008": "bolzano", "027042": "venezia-ve", "001004": "albiano-d-ivrea",
	}
	if len(towns) != len(want) {
		t.Fatalf("%d towns imported, want %d: %+v", len(towns), len(want), towns)
	}
	for code, slug := range want {
		if towns[code].Slug != slug {
			t.Errorf("town %s: slug %q, want %q", code, towns[code].Slug, slug)
		}
	}
	if b := towns["021008"]; b.Name != "Comune di Bolzano" || b.Languages != "it,de" || b.Population != 102575 ||
		b.Region != "Trentino-Alto Adige/Südtirol" {
		t.Errorf("Bolzano: %+v", b)
	}
	if a := towns["001001"]; a.Name != "Comune di Agliè" || a.Languages != "it" {
		t.Errorf("Agliè: %+v", a)
	}

	// The same file again writes nothing; its bad rows are still reported.
	out, stderr, code = c.run("tenant", "import", "--csv", file)
	if code != 1 || strings.TrimSpace(out) != "0 created, 0 updated, 8 unchanged, 3 invalid" {
		t.Fatalf("second import: exit %d\n%s\n%s", code, out, stderr)
	}

	// A renamed town is updated under its slug; a town not yet stored is
	// added, as when an interrupted import is run again.
	changed := filepath.Join(t.TempDir(), "changed.csv")
	os.WriteFile(changed, []byte("istat_code,name,province,region,population\n"+
		"001001,Agliè Canavese,TO,Piemonte,2700\n"+
		"016065,Castro,BG,Lombardia,1383\n"+
		"001002,Airasca,TO,Piemonte,3819\n"), 0o644)
	out, stderr, code = c.run("tenant", "import", "--csv", changed)
	if code != 0 || strings.TrimSpace(out) != "1 created, 1 updated, 1 unchanged, 0 invalid" {
		t.Fatalf("changed import: exit %d\n%s\n%s", code, out, stderr)
	}
	towns = importedTowns(t, c)
	if a := towns["001001"]; a.Slug != "aglie" || a.Name != "Comune di Agliè Canavese" || a.Population != 2700 {
		t.Errorf("renamed Agliè: %+v", a)
	}
	if a := towns["001002"]; a.Slug != "airasca" || len(towns) != 9 {
		t.Errorf("Airasca: %+v (%d towns)", a, len(towns))
	}

	// A file without the columns stops before anything is written.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("code,name\n001001,Agliè\n"), 0o644)
	if _, stderr, code = c.run("tenant", "import", "--csv", bad); code != 1 || !strings.Contains(stderr, `lacks the column "istat_code"`) {
		t.Fatalf("file without columns: exit %d %s", code, stderr)
	}
	if _, _, code = c.run("tenant", "import"); code != 2 {
		t.Fatalf("import without --csv: exit %d, want 2", code)
	}
}
