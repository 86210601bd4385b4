// Package i18n translates Sportello's interface texts and formats dates,
// numbers and money the way each language writes them.
//
// Messages live in TOML files named active.<lang>.toml (go-i18n's format:
// a key per message id, or a table with one/other for plurals). The caller
// hands them in as an fs.FS, so this package knows nothing of where they are
// embedded. Italian is the reference language: a message missing in another
// language falls back to Italian, and a message missing everywhere shows its
// id, so a gap is visible on the page instead of an empty string.
package i18n

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Default is the language every other one falls back to.
const Default = "it"

// Catalog holds the messages of every language. It is safe for concurrent
// use once built.
type Catalog struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer // by base language code
	ids        map[string][]string          // sorted message ids by language
	langs      []string                     // sorted language codes
	fallback   *goi18n.Localizer
}

// New loads every active.<lang>.toml at the root of fsys. It fails when
// there is none, when a file does not parse, or when the Italian file is
// missing (it is the fallback of all the others).
func New(fsys fs.FS) (*Catalog, error) {
	// active.<lang>.toml holds the site's own texts; <area>.<lang>.toml
	// files beside it add an area's (catalog.it.toml, …).
	names, err := fs.Glob(fsys, "*.*.toml")
	if err != nil {
		return nil, fmt.Errorf("i18n: list message files: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("i18n: no active.<lang>.toml message file")
	}
	c := &Catalog{
		bundle:     goi18n.NewBundle(language.Italian),
		localizers: make(map[string]*goi18n.Localizer),
		ids:        make(map[string][]string),
	}
	c.bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, name := range names {
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: read %s: %w", name, err)
		}
		mf, err := c.bundle.ParseMessageFileBytes(buf, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("i18n: parse %s: %w", name, err)
		}
		lang := base(mf.Tag.String())
		ids := make([]string, 0, len(mf.Messages))
		for _, m := range mf.Messages {
			ids = append(ids, m.ID)
		}
		if _, seen := c.ids[lang]; !seen {
			c.langs = append(c.langs, lang)
		}
		ids = append(ids, c.ids[lang]...)
		slices.Sort(ids)
		c.ids[lang] = ids
	}
	if _, ok := c.ids[Default]; !ok {
		return nil, fmt.Errorf("i18n: missing the fallback file active.%s.toml", Default)
	}
	slices.Sort(c.langs)
	for _, lang := range c.langs {
		c.localizers[lang] = goi18n.NewLocalizer(c.bundle, lang, Default)
	}
	c.fallback = c.localizers[Default]
	return c, nil
}

// Languages returns the codes of the loaded languages, sorted.
func (c *Catalog) Languages() []string { return slices.Clone(c.langs) }

// IDs returns the sorted message ids defined for lang (nil when lang has no
// file). Tests use it to check that every language has every message.
func (c *Catalog) IDs(lang string) []string { return slices.Clone(c.ids[base(lang)]) }

// T translates message id into lang. args fill the message's {{.Placeholders}};
// an int under "Count" also picks the plural form. A message missing in lang
// comes from Italian; a message missing everywhere returns id itself.
func (c *Catalog) T(lang, id string, args map[string]any) string {
	loc, ok := c.localizers[base(lang)]
	if !ok {
		loc = c.fallback
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		cfg.TemplateData = args
		if n, ok := args["Count"]; ok {
			cfg.PluralCount = n
		}
	}
	s, err := loc.Localize(cfg)
	if err != nil && s == "" {
		return id
	}
	return s
}

// Match picks, among offered (language codes such as "it", "de", "en", the
// preferred one first), the best for a browser's Accept-Language header. With
// no header, no acceptable language or a malformed header it returns the first
// offered one; with nothing offered it returns Default.
func Match(acceptLanguage string, offered []string) string {
	if len(offered) == 0 {
		return Default
	}
	return matchWith(newMatcher(offered), acceptLanguage, offered)
}

func newMatcher(offered []string) language.Matcher {
	tags := make([]language.Tag, len(offered))
	for i, o := range offered {
		tags[i] = language.Make(o)
	}
	return language.NewMatcher(tags)
}

func matchWith(m language.Matcher, acceptLanguage string, offered []string) string {
	want, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(want) == 0 {
		return offered[0]
	}
	_, i, conf := m.Match(want...)
	if conf == language.No {
		return offered[0]
	}
	return offered[i]
}

// Matchers is Match with a matcher kept per set of offered languages:
// building one costs more than serving a cached page, and thousands of
// towns share a handful of language sets. The zero value is ready.
type Matchers struct {
	byOffer sync.Map // "it,de" -> language.Matcher
}

// Match is Match, reusing the matcher of offered.
func (ms *Matchers) Match(acceptLanguage string, offered []string) string {
	if len(offered) == 0 {
		return Default
	}
	if acceptLanguage == "" {
		return offered[0]
	}
	key := strings.Join(offered, ",")
	m, ok := ms.byOffer.Load(key)
	if !ok {
		m, _ = ms.byOffer.LoadOrStore(key, newMatcher(offered))
	}
	return matchWith(m.(language.Matcher), acceptLanguage, offered)
}

// base reduces a language tag to its lower-case base code: "de-CH" → "de".
func base(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}
