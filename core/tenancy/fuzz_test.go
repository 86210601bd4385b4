package tenancy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/sportello/sportello/core/tenancy"
)

// FuzzParseManifest feeds arbitrary YAML to the tenant manifest parser. It
// must never panic; what it refuses is a *ManifestError (ErrInvalidManifest,
// the platform console's 422) naming the file; and what it accepts, written
// out as YAML again, is accepted again as the same town.
func FuzzParseManifest(f *testing.F) {
	const dir = "../../tenants"
	seeds, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(seeds) == 0 {
		f.Fatal("no tenant manifest to seed from")
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"slug: [",
		"slug: a\nslug: b\n",
		"slug: x\nname: X\nlanguages: [it]\nbranding: {logo: ../../etc/passwd.svg}\n",
		"slug: x\nname: X\nlanguages: [it]\nservices: [{id: helpdesk, config: {a: &a [*a]}}]\n",
		"slug: x\nname: X\nlanguages: [it, it]\noffices: [{slug: o, name: {it: O}, hours: [{days: [mon], open: '25:00', close: '08:00'}]}]\n",
		"slug: x\nname: X\nlanguages: [it]\nappointments: {time_zone: Mars/Olympus, topics: [{id: t, name: T}]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := tenancy.ParseManifest("town.yaml", data, dir)
		if err != nil {
			var me *tenancy.ManifestError
			if m != nil || !errors.As(err, &me) || !errors.Is(err, tenancy.ErrInvalidManifest) || me.File != "town.yaml" || me.Msg == "" {
				t.Fatalf("refused with %T %q (manifest %v): want a *ManifestError naming the file", err, err, m != nil)
			}
			return
		}
		again, err := yaml.Marshal(m)
		if err != nil {
			t.Fatalf("an accepted manifest cannot be written out: %v", err)
		}
		m2, err := tenancy.ParseManifest("town.yaml", again, dir)
		if err != nil {
			t.Fatalf("an accepted manifest, written out, is refused: %v\n%s", err, again)
		}
		if a, b := sameTown(t, m), sameTown(t, m2); !bytes.Equal(a, b) {
			t.Fatalf("the manifest changed when written out and read again:\n%s\n%s", a, b)
		}
	})
}

// sameTown is what Apply stores of m, in a form two manifests compare by:
// JSON, as the configurations are stored (so 1 and 1.0 are one number),
// with an empty list or mapping the same as none, which YAML writes as
// [] and {}.
func sameTown(t *testing.T, m *tenancy.Manifest) []byte {
	t.Helper()
	c := *m
	c.SHA256 = "" // of the file's bytes, which differ by construction
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("an accepted manifest is no JSON: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(noEmpties(v))
	return out
}

func noEmpties(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
		for k, e := range x {
			x[k] = noEmpties(e)
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i, e := range x {
			x[i] = noEmpties(e)
		}
	}
	return v
}
