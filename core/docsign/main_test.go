package docsign_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

type env struct {
	t   *testing.T
	db  *pgtest.DB
	now time.Time
	s   *docsign.Signer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, db: pg.NewDB(t), now: time.Now()}
	e.s = docsign.New(e.db.App, func() time.Time { return e.now })
	return e
}

func (e *env) tenant(slug, name string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, name).
		Scan(context.Background(), &id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// document is a one-page PDF as a plugin would make it.
func document(t testing.TB, text string) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(false) // the text stays readable in the file, for tests to change
	p.AddPage()
	p.SetFont("Helvetica", "", 14)
	tr := p.UnicodeTranslatorFromDescriptor("")
	p.MultiCell(0, 8, tr(text), "", "L", false)
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pdfsig runs poppler's verifier, as a desktop PDF reader would check the
// document, and returns its report.
func pdfsig(t *testing.T, doc []byte, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("pdfsig")
	if err != nil {
		t.Fatal("pdfsig not found: install poppler-utils (.ci/run does)")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	// pdfsig exits non-zero for an invalid signature: the report says why.
	out, _ := exec.Command(bin, append(args, path)...).CombinedOutput()
	return string(out)
}

var pdfsigLine = regexp.MustCompile(`(?m)^[ \t]*- ([^:\n]+)(?:: (.*))?$`)

// pdfsigFields are the "- Name: value" lines of the report's signatures,
// one map per signature; a line without a value ("Total document
// signed") maps to "".
func pdfsigFields(report string) []map[string]string {
	var out []map[string]string
	for _, block := range strings.Split(report, "Signature #")[1:] {
		m := map[string]string{}
		for _, f := range pdfsigLine.FindAllStringSubmatch(block, -1) {
			m[strings.TrimSpace(f[1])] = strings.TrimSpace(f[2])
		}
		out = append(out, m)
	}
	return out
}
