package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sportello/sportello/plugins/sdk"
)

// FuzzManifestRecord reads arbitrary bytes as the manifest column of a
// catalogue row, which holds what a plugin said of itself (protojson).
// Reading must never panic; a column it cannot read is an error naming the
// plugin; one it reads is stored again unchanged.
func FuzzManifestRecord(f *testing.F) {
	seeds, _ := filepath.Glob("../../plugins/*/manifest.yaml")
	if len(seeds) == 0 {
		f.Fatal("no plugin manifest to seed from")
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		m, err := sdk.ParseManifest(data)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		stored, err := protojson.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stored)
	}
	for _, s := range []string{"", "{}", "null", `{"id": 1}`, `{"forms": [{"schemaJson": "!!"}]}`, `{"texts": {"it": null}}`, `{"unknown": [1, {"a": 2}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := recordRow{ID: "sample", Manifest: data}.record()
		if err != nil {
			if rec != nil || !strings.Contains(err.Error(), "sample") {
				t.Fatalf("error %q does not name the plugin, or comes with a record", err)
			}
			return
		}
		if rec.Manifest == nil {
			if len(data) > 2 {
				t.Fatalf("%q read as no manifest", data)
			}
			return
		}
		stored, err := protojson.Marshal(rec.Manifest)
		if err != nil {
			t.Fatalf("a manifest read from the catalogue cannot be stored again: %v", err)
		}
		again, err := recordRow{ID: "sample", Manifest: stored}.record()
		if err != nil {
			t.Fatalf("a manifest stored again cannot be read: %v", err)
		}
		if again.Manifest == nil && len(stored) > 2 || again.Manifest != nil && !proto.Equal(rec.Manifest, again.Manifest) {
			t.Fatalf("the manifest changed when stored again:\n%v\n%v", rec.Manifest, again.Manifest)
		}
	})
}
