package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// tenantSlug is the rule a tenant's slug follows (core/tenancy, and the
// tenants table): a DNS label.
var tenantSlug = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// FuzzReadTownRows reads arbitrary bytes as the ISTAT file of `sportello
// tenant import`. Reading must never panic; only a header without the
// columns stops it; every other bad line is reported and skipped; the rows
// it keeps are valid towns, each ISTAT code once, and the slugs they are
// given are distinct tenant slugs.
func FuzzReadTownRows(f *testing.F) {
	file, err := os.ReadFile("testdata/comuni.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(file)
	lines := strings.SplitAfter(string(file), "\n")
	for i := 1; i < len(lines); i++ {
		f.Add([]byte(lines[0] + lines[i]))
	}
	for _, s := range []string{
		"",
		"istat_code,name\n001001,Agliè\n",
		"\ufeffPopulation , Region,NAME,province,istat_code,extra\n2644,Piemonte,Agliè,to,001001\n",
		"istat_code,name,province,region,population\n\"001001,Agliè,TO,Piemonte,2644\n",
		"istat_code,name,province,region,population\n001001,Sant'Agata   li Battiati,CT,Sicilia,-1\n001002,ß,BZ,,\n001003,İstanbul,TO,,99999999999\n",
		"istat_code,name,province,region,population\n001001," + strings.Repeat("Castel", 30) + ",TO,Piemonte,1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var problems bytes.Buffer
		rows, invalid, err := readTownRows(bytes.NewReader(data), "comuni.csv", &problems)
		if err != nil {
			if rows != nil || invalid != 0 || !strings.HasPrefix(err.Error(), "comuni.csv: ") {
				t.Fatalf("stopped with %q, rows %d, invalid %d: want only an error naming the file", err, len(rows), invalid)
			}
			return
		}
		if got := strings.Count(problems.String(), "; skipped\n"); got != invalid {
			t.Fatalf("%d invalid rows, %d reported:\n%s", invalid, got, problems.String())
		}
		codes := map[string]bool{}
		last := 0
		for _, r := range rows {
			if !istatRe.MatchString(r.code) || codes[r.code] || r.name == "" || len(r.name) > 150 ||
				!provinceRe.MatchString(r.province) || len(r.region) > 100 || r.population != nil && *r.population < 0 {
				t.Fatalf("kept an invalid or repeated row %+v", r)
			}
			if r.line <= last {
				t.Fatalf("row of line %d after line %d", r.line, last)
			}
			codes[r.code], last = true, r.line
		}
		assignSlugs(rows, map[string]*storedTown{}, map[string]bool{})
		slugs := map[string]bool{}
		for _, r := range rows {
			if !tenantSlug.MatchString(r.slug) || slugs[r.slug] {
				t.Fatalf("town %q got slug %q: not a tenant slug, or taken", r.name, r.slug)
			}
			slugs[r.slug] = true
		}
	})
}
