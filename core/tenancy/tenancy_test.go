package tenancy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/core/tenancy"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

// hasher stands in for argon2id, which authn tests on its own; here only
// "same password, same hash is kept" matters.
type hasher struct{ calls int }

func (h *hasher) Hash(p string) (string, error) {
	h.calls++
	s := sha256.Sum256([]byte(p))
	return "test$" + hex.EncodeToString(s[:]), nil
}
func (h *hasher) Verify(p, hash string) bool { x, _ := h.Hash(p); h.calls--; return x == hash }

func demoManifests(t *testing.T) []*tenancy.Manifest {
	t.Helper()
	files, _ := filepath.Glob("../../tenants/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want the three demo manifests, found %v", files)
	}
	var out []*tenancy.Manifest
	for _, f := range files {
		m, err := tenancy.LoadManifest(f)
		if err != nil {
			t.Fatalf("demo manifest: %v", err)
		}
		out = append(out, m)
	}
	return out
}

func TestDemoManifestsAreValid(t *testing.T) {
	for _, m := range demoManifests(t) {
		if len(m.Logo) == 0 || m.LogoType != "image/svg+xml" {
			t.Errorf("%s: logo not read", m.Slug)
		}
		if !m.CitizenLogin.Enabled() {
			t.Errorf("%s: demo citizens cannot log in", m.Slug)
		}
	}
}

func TestManifestErrorsNameFileFieldAndLine(t *testing.T) {
	base := "slug: ok\nname: Ok\nlanguages: [it]\n"
	cases := []struct {
		name, yaml, field string
		line              int
	}{
		{"bad slug", "slug: Not_OK\nname: x\nlanguages: [it]\n", "slug", 1},
		{"missing name", "slug: ok\nlanguages: [it]\n", "name", 0},
		{"unknown language", "slug: ok\nname: Ok\nlanguages:\n  - it\n  - fr\n", "languages[1]", 5},
		{"unknown field", base + "colour: red\n", "colour", 4},
		{"bad colour", base + "branding:\n  primary_color: red\n", "branding.primary_color", 5},
		{"bad hours", base + "offices:\n  - slug: a\n    name: {it: A}\n    hours:\n      - {days: [mon], open: \"25:00\", close: \"12:00\"}\n", "offices[0].hours[0].open", 8},
		{"close before open", base + "offices:\n  - slug: a\n    name: {it: A}\n    hours:\n      - {days: [mon], open: \"12:00\", close: \"08:00\"}\n", "offices[0].hours[0].close", 8},
		{"bad weekday", base + "offices:\n  - slug: a\n    name: {it: A}\n    hours:\n      - days: [monday]\n        open: \"08:00\"\n        close: \"12:00\"\n", "offices[0].hours[0].days[0]", 8},
		{"unknown office of staff", base + "staff:\n  - email: a@b.example\n    name: A\n    roles: [operator]\n    offices: [nowhere]\n", "staff[0].offices[0]", 8},
		{"bad role", base + "staff:\n  - email: a@b.example\n    name: A\n    roles: [king]\n", "staff[0].roles[0]", 7},
		{"short password", base + "staff:\n  - email: a@b.example\n    name: A\n    password: x\n    roles: [operator]\n", "staff[0].password", 7},
		{"duplicate service", base + "services:\n  - id: helpdesk\n  - id: helpdesk\n", "services[1].id", 6},
		{"not yaml", "slug: [\n", "", 1},
		{"wrong type", "slug: ok\nname: Ok\nlanguages: it\n", "", 3},
		{"missing logo", base + "branding:\n  logo: nothere.svg\n", "branding.logo", 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tenancy.ParseManifest("tenants/x.yaml", []byte(tc.yaml), t.TempDir())
			var me *tenancy.ManifestError
			if !errors.As(err, &me) || !errors.Is(err, tenancy.ErrInvalidManifest) {
				t.Fatalf("got %v, want a ManifestError", err)
			}
			if me.File != "tenants/x.yaml" {
				t.Errorf("file %q", me.File)
			}
			if tc.field != "" && me.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", me.Field, tc.field, err)
			}
			if tc.line != 0 && me.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", me.Line, tc.line, err)
			}
		})
	}
}

func TestApplyIsIdempotentAndTransactional(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	pw := &hasher{}
	ms := demoManifests(t)
	for _, m := range ms {
		res, err := tenancy.Apply(ctx, db.App, pw, m)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Created || !res.Changed {
			t.Fatalf("%s: first apply %+v", m.Slug, res)
		}
	}
	snapshot := func() string {
		var s string
		err := db.Owner.NewRaw(`SELECT string_agg(x, E'\n' ORDER BY x) FROM (
			SELECT format('%s %s %s %s', id, slug, updated_at, manifest_sha256) AS x FROM tenants
			UNION ALL SELECT format('%s', o.*) FROM offices o
			UNION ALL SELECT format('%s %s %s %s', tenant_id, id, email, password_hash) FROM users
			UNION ALL SELECT format('%s', r.*) FROM user_roles r
			UNION ALL SELECT format('%s', s.*) FROM tenant_services s
			UNION ALL SELECT format('%s', d.*) FROM tenant_domains d
			UNION ALL SELECT format('audit %s', count(*)) FROM audit_log) q`).Scan(ctx, &s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	hashes := pw.calls
	for _, m := range ms {
		res, err := tenancy.Apply(ctx, db.App, pw, m)
		if err != nil || res.Changed || res.Created {
			t.Fatalf("second apply of %s: %+v %v", m.Slug, res, err)
		}
	}
	if after := snapshot(); after != before {
		t.Fatalf("applying twice changed the database:\n%s\n---\n%s", before, after)
	}

	// A changed manifest re-applied keeps unchanged passwords' hashes.
	data, _ := os.ReadFile("../../tenants/venezia.yaml")
	m2, err := tenancy.ParseManifest("venezia.yaml", []byte(strings.Replace(string(data), "Comune di Venezia", "Città di Venezia", 1)), "../../tenants")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := tenancy.Apply(ctx, db.App, pw, m2); err != nil || !res.Changed {
		t.Fatalf("changed manifest: %+v %v", res, err)
	}
	if pw.calls != hashes {
		t.Errorf("re-applying re-hashed %d unchanged passwords", pw.calls-hashes)
	}

	// A manifest that fails half-way leaves nothing of itself behind:
	// the domain of lugano, claimed by a new tenant, fails after the
	// tenant row was written.
	thief := strings.Replace(string(data), "slug: venezia", "slug: thief", 1)
	thief = strings.Replace(thief, "languages: [it, en]", "languages: [it, en]\ndomains: [lugano.sportello.example]", 1)
	m3, err := tenancy.ParseManifest("thief.yaml", []byte(thief), "../../tenants")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tenancy.Apply(ctx, db.App, pw, m3); !errors.Is(err, tenancy.ErrConflict) {
		t.Fatalf("stolen domain: got %v, want ErrConflict", err)
	}
	var n int
	_ = db.Owner.NewRaw("SELECT count(*) FROM tenants WHERE slug = 'thief'").Scan(ctx, &n)
	if n != 0 {
		t.Fatal("the failed manifest left its tenant behind")
	}
}

func TestRegistryResolves(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	for _, m := range demoManifests(t) {
		if _, err := tenancy.Apply(ctx, db.App, &hasher{}, m); err != nil {
			t.Fatal(err)
		}
	}
	reg := tenancy.NewRegistry(db.App, "sportello.example")
	if err := reg.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host, path, slug string
		how              tenancy.Resolution
	}{
		{"localhost:8080", "/", "", tenancy.NoTenant},
		{"127.0.0.1:8080", "/platform", "", tenancy.NoTenant},
		{"sportello.example", "/", "", tenancy.NoTenant},
		{"localhost:8080", "/t/venezia/", "venezia", tenancy.FromPath},
		{"localhost:8080", "/t/venezia", "venezia", tenancy.FromPath},
		{"localhost:8080", "/t/atlantide/", "", tenancy.Unknown},
		{"lugano.localhost:8080", "/", "lugano", tenancy.FromHost},
		{"Trezzo-Sull-Adda.LOCALHOST", "/", "trezzo-sull-adda", tenancy.FromHost},
		{"venezia.sportello.example", "/x", "venezia", tenancy.FromHost},
		{"lugano.sportello.example", "/", "lugano", tenancy.FromHost},
		{"nowhere.localhost", "/", "", tenancy.Unknown},
		{"a.b.localhost", "/", "", tenancy.Unknown},
		{"evil.example.org", "/", "", tenancy.Unknown},
	}
	for _, tc := range cases {
		tn, how := reg.Resolve(tc.host, tc.path)
		got := ""
		if tn != nil {
			got = tn.Slug
		}
		if got != tc.slug || how != tc.how {
			t.Errorf("Resolve(%q, %q) = %q/%v, want %q/%v", tc.host, tc.path, got, how, tc.slug, tc.how)
		}
	}
	p, err := tenancy.LoadPortal(ctx, db.App, mustSlug(t, reg, "lugano").ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Offices) != 2 || len(p.Services) != 5 || p.Offices[0].Name.In("de") != "Einwohnerkontrolle" {
		t.Fatalf("lugano portal: %+v", p)
	}
}

func mustSlug(t *testing.T, r *tenancy.Registry, slug string) *tenancy.Tenant {
	t.Helper()
	tn, ok := r.BySlug(slug)
	if !ok {
		t.Fatalf("no tenant %s", slug)
	}
	return tn
}
