package forms

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestMessageIDsExist fails when the package's Go code uses a message id
// ("forms.…") that a locale file lacks. The ids are read from the source,
// so none can be forgotten here; web's TestMessagesComplete does the same
// for the templates.
func TestMessageIDsExist(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]string{}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && strings.HasPrefix(s, "forms.") {
				used[s] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	if len(used) < 25 {
		t.Fatalf("found only %d message ids in the source: is the scan broken?", len(used))
	}
	cat := newCatalog(t)
	for _, lang := range []string{"it", "de", "en"} {
		ids := cat.IDs(lang)
		for id, where := range used {
			if !slices.Contains(ids, id) {
				t.Errorf("active.%s.toml lacks %q (used at %s)", lang, id, where)
			}
		}
	}
	// Counted messages need both forms in every language.
	for _, id := range []string{"forms.min_length", "forms.max_length", "forms.min_items", "forms.max_items"} {
		for _, lang := range []string{"it", "de", "en"} {
			one := cat.T(lang, id, map[string]any{"Count": 1})
			many := cat.T(lang, id, map[string]any{"Count": 3})
			if one == id || many == id || !strings.Contains(one, "1") || !strings.Contains(many, "3") || one == strings.ReplaceAll(many, "3", "1") && lang != "de" {
				t.Errorf("%s %s: %q / %q", lang, id, one, many)
			}
		}
	}
}
