// Package web holds Sportello's pages: the HTML templates, their message
// files and the static assets (Bootstrap Italia and Leaflet, vendored by
// vendor.sh, plus small stylesheets and a script of our own), all embedded in
// the binary.
//
// The HTTP layer fills a Page and calls Renderer.Render; it serves StaticFS
// at /static/. Templates are parsed once, in NewRenderer. Each page is one
// file in templates/ that defines the blocks "content" (and optionally
// "title") of the shared layout in templates/layout.html; each page gets its
// own copy of the layout, so block names never clash between pages.
// Partials shared by pages (files form_*.html and partials/*.html) are parsed
// into the layout, hence into every page.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/sportello/sportello/core/i18n"
)

//go:embed templates locales all:static
var files embed.FS

// layoutFile is the template file every page is drawn in; every other .html
// file in templates/ is a page named after the file, except the partials.
const layoutFile = "layout.html"

// ErrUnknownPage is returned by Render for a Page.Name with no template.
var ErrUnknownPage = errors.New("web: unknown page")

// LocalesFS returns the message files (active.<lang>.toml), for i18n.New.
func LocalesFS() fs.FS { return mustSub("locales") }

func templatesFS() fs.FS { return mustSub("templates") }

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // dir is a constant embedded above
	}
	return sub
}

// Options configure a Renderer.
type Options struct {
	// Catalog translates the templates' texts; nil loads LocalesFS.
	Catalog *i18n.Catalog
	// StaticURL is the URL path StaticFS is served at; "" means "/static".
	StaticURL string
	// Pages adds pages to those of templates/, one file each as there (a
	// file here replaces a built-in page of the same name). Tests use it to
	// draw the partials inside a page.
	Pages fs.FS
	// MapTiles is the tile server of the maps of forms' "map" fields; the
	// zero value draws maps without tiles (a plain background, on which a
	// point can still be placed).
	MapTiles MapTiles
}

// MapTiles is a tile server the deployment chose for its maps.
type MapTiles struct {
	// URL is a Leaflet URL template: https://tile.example/{z}/{x}/{y}.png
	// ({s} for the server's subdomains, {r} for "@2x" on sharp screens).
	// The Content-Security-Policy must let images come from its origin.
	URL string
	// Attribution is the credit the tiles' licence asks for, plain text
	// ("© OpenStreetMap contributors").
	Attribution string
}

// Renderer draws pages. It is safe for concurrent use.
type Renderer struct {
	cat       *i18n.Catalog
	staticURL string
	mapTiles  MapTiles
	assets    map[string]string // path in StaticFS → URL with ?v=<hash>
	themes    sync.Map          // primary colour → theme stylesheet URL
	pages     map[string]*page
}

// page is one parsed page and a free list of ready-to-run copies of it.
//
// Template functions such as t and path need the Page being drawn, but
// html/template binds functions to a template, not to an execution. So each
// concurrent execution gets its own copy (instance) whose functions read the
// instance's current Page. A copy is made by cloning the parsed master (no
// re-parsing); it is escaped on its first run and then reused.
type page struct {
	name   string
	master *template.Template // parsed, never executed
	mu     sync.Mutex         // serialises cloning of master
	free   chan *instance
}

type instance struct {
	tmpl *template.Template
	page *Page // the page being drawn; nil between runs
	// done holds the keys "once" has seen in this run: what a page needs
	// once (a script) however many fields ask for it.
	done map[string]bool
}

// idleInstances is how many ready copies of each page are kept between
// requests; more are made under load and dropped afterwards.
const idleInstances = 32

// NewRenderer parses every template and hashes every static file. It fails
// on a template that does not parse.
func NewRenderer(opts Options) (*Renderer, error) {
	r := &Renderer{
		cat:       opts.Catalog,
		staticURL: strings.TrimSuffix(opts.StaticURL, "/"),
		mapTiles:  opts.MapTiles,
		pages:     make(map[string]*page),
	}
	if r.staticURL == "" {
		r.staticURL = "/static"
	}
	if r.cat == nil {
		cat, err := i18n.New(LocalesFS())
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		r.cat = cat
	}
	assets, err := hashAssets(StaticFS(), r.staticURL)
	if err != nil {
		return nil, err
	}
	r.assets = assets

	tfs := templatesFS()
	layout, err := template.New(layoutFile).Funcs(r.funcs(&instance{})).ParseFS(tfs, layoutFile)
	if err != nil {
		return nil, fmt.Errorf("web: parse %s: %w", layoutFile, err)
	}
	// Shared templates (form_fields.html, …) are parsed along with the
	// layout, so that every page may use them; they are no pages themselves.
	partials := map[string]bool{}
	for _, g := range []string{"form_*.html", "partials/*.html"} {
		files, err := fs.Glob(tfs, g)
		if err != nil {
			return nil, fmt.Errorf("web: list templates: %w", err)
		}
		for _, file := range files {
			if _, err := layout.ParseFS(tfs, file); err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", file, err)
			}
			partials[file] = true
		}
	}
	if err := r.parsePages(layout, tfs, func(file string) bool { return file == layoutFile || partials[file] }); err != nil {
		return nil, err
	}
	if opts.Pages != nil {
		if err := r.parsePages(layout, opts.Pages, func(string) bool { return false }); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parsePages adds a page for every .html file at the root of fsys but those
// skip names, each parsed into its own copy of layout.
func (r *Renderer) parsePages(layout *template.Template, fsys fs.FS, skip func(file string) bool) error {
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return fmt.Errorf("web: list templates: %w", err)
	}
	for _, file := range names {
		if skip(file) {
			continue
		}
		base, err := layout.Clone()
		if err != nil {
			return fmt.Errorf("web: clone layout for %s: %w", file, err)
		}
		t, err := base.ParseFS(fsys, file)
		if err != nil {
			return fmt.Errorf("web: parse %s: %w", file, err)
		}
		if t.Lookup("content") == nil {
			return fmt.Errorf("web: %s defines no \"content\" block", file)
		}
		name := strings.TrimSuffix(file, ".html")
		r.pages[name] = &page{name: name, master: t, free: make(chan *instance, idleInstances)}
	}
	return nil
}

// Pages returns the names of the pages this renderer draws, sorted.
func (r *Renderer) Pages() []string {
	names := make([]string, 0, len(r.pages))
	for n := range r.pages {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Catalog returns the translations the renderer uses, for texts the HTTP
// layer translates itself (Title, Flash, error messages).
func (r *Renderer) Catalog() *i18n.Catalog { return r.cat }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render draws p with the template named p.Name. Nothing is written to w
// unless the whole page was drawn, so on error the caller can still answer
// with an error page.
func (r *Renderer) Render(w io.Writer, p *Page) error {
	if p == nil {
		return errors.New("web: Render of a nil page")
	}
	pg, ok := r.pages[p.Name]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownPage, p.Name)
	}
	inst, err := r.acquire(pg)
	if err != nil {
		return err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)

	inst.page = p
	clear(inst.done)
	err = inst.tmpl.ExecuteTemplate(buf, "layout", p)
	inst.page = nil
	pg.release(inst)
	if err != nil {
		return fmt.Errorf("web: render %s: %w", p.Name, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func (r *Renderer) acquire(pg *page) (*instance, error) {
	select {
	case inst := <-pg.free:
		return inst, nil
	default:
	}
	pg.mu.Lock()
	t, err := pg.master.Clone()
	pg.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("web: copy template %s: %w", pg.name, err)
	}
	inst := &instance{tmpl: t}
	t.Funcs(r.funcs(inst))
	return inst, nil
}

func (pg *page) release(inst *instance) {
	select {
	case pg.free <- inst:
	default: // enough idle copies already
	}
}

// hashAssets maps every file of fsys to its URL under staticURL with a short
// content hash, so the HTTP layer can let browsers cache them for good.
func hashAssets(fsys fs.FS, staticURL string) (map[string]string, error) {
	m := make(map[string]string)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = staticURL + "/" + p + "?v=" + hex.EncodeToString(sum[:5])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: hash static files: %w", err)
	}
	return m, nil
}

// Asset returns the URL of a static file ("css/sportello.css") with its
// cache-busting version, or the plain URL when the file is not there (for
// example vendor files before vendor.sh ran).
func (r *Renderer) Asset(name string) string {
	name = strings.TrimPrefix(name, r.staticURL+"/")
	name = path.Clean(strings.TrimPrefix(name, "/"))
	if u, ok := r.assets[name]; ok {
		return u
	}
	return r.staticURL + "/" + name
}
