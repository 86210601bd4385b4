package procedure

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
)

// FuzzLoad reads arbitrary YAML as a declarative procedure (a service
// plugin's definition.yaml). Loading must never panic; a definition it
// refuses is a *DefinitionError listing the problems, or a YAML error; and
// for a definition it checks, the manifest the procedure writes itself is
// one the SDK accepts, but for the analyst's own form schema.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../*/definition.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	seeds = append(seeds, more...)
	if len(seeds) == 0 {
		f.Fatal("no definition to seed from")
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "id: [", "id: x\nid: y\n", "transitions: [{id: a, from: [x], to: x}]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load(data)
		var de *DefinitionError
		switch {
		case err == nil:
			if p == nil || p.parsed == nil || p.schema == nil {
				t.Fatal("loaded without its manifest or its form")
			}
		case p != nil:
			t.Fatalf("a procedure and an error (%v)", err)
		case errors.As(err, &de):
			if len(de.Problems) == 0 {
				t.Fatal("a DefinitionError without a problem")
			}
		case !errors.Is(err, errNoDefinition) && !strings.HasPrefix(err.Error(), "procedure definition: "):
			t.Fatalf("refused with %T %q: want a DefinitionError or the YAML's error", err, err)
		}
		d, info, err := parse(data)
		if err != nil {
			return
		}
		manifest, err := manifestYAML(d, info)
		if err != nil {
			t.Fatalf("a checked definition's manifest cannot be written: %v", err)
		}
		if _, err := sdk.ParseManifest(manifest); err != nil && !strings.Contains(err.Error(), "forms[0].schema") {
			t.Fatalf("the manifest the procedure wrote is refused: %v\n%s", err, manifest)
		}
	})
}
