package tenancy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Manifest is a tenant as written in tenants/<slug>.yaml.
type Manifest struct {
	Slug         string            `yaml:"slug"`
	Name         string            `yaml:"name"`
	Languages    []string          `yaml:"languages"`
	Domains      []string          `yaml:"domains"`
	Branding     Branding          `yaml:"branding"`
	CitizenLogin CitizenLogin      `yaml:"citizen_login"`
	Offices      []ManifestOffice  `yaml:"offices"`
	Staff        []ManifestStaff   `yaml:"staff"`
	Services     []ManifestService `yaml:"services"`
	// Appointments at the offices' desks; nil when the town offers none.
	Appointments *ManifestAppointments `yaml:"appointments"`

	// Logo is the logo file's content, read from Branding.Logo.
	Logo     []byte `yaml:"-"`
	LogoType string `yaml:"-"`
	// SHA256 of the manifest file and the logo: applying an unchanged
	// manifest is recognised and writes nothing.
	SHA256 string `yaml:"-"`
}

// Branding is how the portal looks and whom it names.
type Branding struct {
	Logo         string   `yaml:"logo" json:"-"`
	PrimaryColor string   `yaml:"primary_color" json:"primary_color"`
	Contacts     Contacts `yaml:"contacts" json:"contacts"`
	Social       []Link   `yaml:"social" json:"social,omitempty"`
	FooterLinks  []Link   `yaml:"footer_links" json:"footer_links,omitempty"`
}

// Contacts of the town hall.
type Contacts struct {
	Address string `yaml:"address" json:"address,omitempty"`
	Phone   string `yaml:"phone" json:"phone,omitempty"`
	Email   string `yaml:"email" json:"email,omitempty"`
	PEC     string `yaml:"pec" json:"pec,omitempty"`
}

// Link has a label per language (or one for all) and a URL.
type Link struct {
	Label Text   `yaml:"label" json:"label"`
	URL   string `yaml:"url" json:"url"`
}

// Text is a string per language code.
type Text map[string]string

// UnmarshalYAML accepts one string for every language, or a mapping of
// language to string.
func (t *Text) UnmarshalYAML(unmarshal func(any) error) error {
	var one string
	if err := unmarshal(&one); err == nil {
		*t = Text{"*": one}
		return nil
	}
	var per map[string]string
	if err := unmarshal(&per); err != nil {
		return errors.New("must be a text, or a text per language (it: …, de: …)")
	}
	*t = per
	return nil
}

// In returns the text in lang, else Italian, else any.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	if s, ok := t["it"]; ok && s != "" {
		return s
	}
	if s, ok := t["*"]; ok && s != "" {
		return s
	}
	for _, s := range t {
		if s != "" {
			return s
		}
	}
	return ""
}

// CitizenLogin is the tenant's OpenID Connect client. ClientSecretEnv names
// an environment variable so that real secrets stay out of the repository.
type CitizenLogin struct {
	Issuer          string `yaml:"issuer" json:"issuer,omitempty"`
	ClientID        string `yaml:"client_id" json:"client_id,omitempty"`
	ClientSecret    string `yaml:"client_secret" json:"client_secret,omitempty"`
	ClientSecretEnv string `yaml:"client_secret_env" json:"client_secret_env,omitempty"`
}

// Enabled reports whether citizens can log in.
func (c CitizenLogin) Enabled() bool { return c.Issuer != "" && c.ClientID != "" }

// Secret is the client secret, from the environment when so configured.
func (c CitizenLogin) Secret() string {
	if c.ClientSecretEnv != "" {
		return os.Getenv(c.ClientSecretEnv)
	}
	return c.ClientSecret
}

// ManifestOffice is an office with its opening hours.
type ManifestOffice struct {
	Slug    string  `yaml:"slug"`
	Name    Text    `yaml:"name"`
	Address string  `yaml:"address"`
	Phone   string  `yaml:"phone"`
	Email   string  `yaml:"email"`
	Hours   []Hours `yaml:"hours"`
}

// Hours is one opening window on the listed weekdays.
type Hours struct {
	Days  []string `yaml:"days" json:"days"`
	Open  string   `yaml:"open" json:"open"`
	Close string   `yaml:"close" json:"close"`
}

// ManifestStaff is a staff account. Password is for demo tenants only;
// real tenants set PasswordHash (argon2id) or none, and staff reset it.
type ManifestStaff struct {
	Email        string   `yaml:"email"`
	Name         string   `yaml:"name"`
	Password     string   `yaml:"password"`
	PasswordHash string   `yaml:"password_hash"`
	Roles        []string `yaml:"roles"`
	Offices      []string `yaml:"offices"`
}

// ManifestService is an enabled catalogue service with its configuration.
type ManifestService struct {
	ID     string         `yaml:"id"`
	Config map[string]any `yaml:"config"`
}

// ManifestError names the file, the field and the line of a problem.
type ManifestError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *ManifestError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// ErrInvalidManifest is wrapped by every manifest validation error.
var ErrInvalidManifest = errors.New("invalid tenant manifest")

func (e *ManifestError) Unwrap() error { return ErrInvalidManifest }

// Languages the site's own texts exist in.
var supportedLanguages = map[string]bool{"it": true, "de": true, "en": true}

var (
	slugRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	colorRe   = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	clockRe   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	domainRe  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	serviceRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
	weekdays  = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}
	roles     = map[string]bool{"operator": true, "office_manager": true, "tenant_admin": true}
	logoTypes = map[string]string{".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
)

// maxLogo bounds a logo; a portal header needs no more.
const maxLogo = 512 << 10

// LoadManifest reads and validates the manifest at path.
func LoadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return ParseManifest(path, data, filepath.Dir(path))
}

// ParseManifest validates data, read from file; assets such as the logo
// are resolved relative to dir. Every problem is reported with the file,
// the field and the line.
func ParseManifest(file string, data []byte, dir string) (*Manifest, error) {
	tree, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(file, err)
	}
	var m Manifest
	if err := yaml.UnmarshalWithOptions(data, &m, yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(file, err)
	}
	v := &validator{file: file, tree: tree}
	m.validate(v)
	if v.err != nil {
		return nil, v.err
	}
	sum := sha256.New()
	sum.Write(data)
	if m.Branding.Logo != "" {
		if err := m.readLogo(dir); err != nil {
			return nil, v.at("$.branding.logo", "branding.logo", err.Error())
		}
		sum.Write(m.Logo)
	}
	m.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return &m, nil
}

func (m *Manifest) readLogo(dir string) error {
	name := m.Branding.Logo
	if filepath.IsAbs(name) || strings.Contains(filepath.ToSlash(name), "..") {
		return errors.New("must be a file beside the manifest, without .. or an absolute path")
	}
	typ, ok := logoTypes[strings.ToLower(filepath.Ext(name))]
	if !ok {
		return errors.New("must be an .svg, .png, .jpg or .webp file")
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("cannot read %s", name)
	}
	if len(data) > maxLogo {
		return fmt.Errorf("is %d KiB, the limit is %d KiB", len(data)>>10, maxLogo>>10)
	}
	m.Logo, m.LogoType = data, typ
	return nil
}

// validator keeps the first problem found, located in the YAML tree.
type validator struct {
	file string
	tree *ast.File
	err  error
}

func (v *validator) at(path, field, msg string) error {
	e := &ManifestError{File: v.file, Field: field, Msg: msg}
	if p, err := yaml.PathString(path); err == nil {
		if n, err := p.FilterFile(v.tree); err == nil && n != nil && n.GetToken() != nil {
			e.Line = n.GetToken().Position.Line
		}
	}
	return e
}

// check records msg at path unless ok or a problem is already recorded.
func (v *validator) check(ok bool, path, msg string) {
	if ok || v.err != nil {
		return
	}
	field := strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	v.err = v.at(path, field, msg)
}

func (m *Manifest) validate(v *validator) {
	v.check(slugRe.MatchString(m.Slug), "$.slug", "must be lower-case letters, digits and dashes (e.g. trezzo-sull-adda)")
	v.check(strings.TrimSpace(m.Name) != "", "$.name", "is required")
	v.check(len(m.Languages) > 0, "$.languages", "list at least one of it, de, en")
	seenLang := map[string]bool{}
	for i, l := range m.Languages {
		p := fmt.Sprintf("$.languages[%d]", i)
		v.check(supportedLanguages[l], p, fmt.Sprintf("%q is not offered; use it, de or en", l))
		v.check(!seenLang[l], p, fmt.Sprintf("%q is listed twice", l))
		seenLang[l] = true
	}
	for i, d := range m.Domains {
		v.check(domainRe.MatchString(d), fmt.Sprintf("$.domains[%d]", i), fmt.Sprintf("%q is not a lower-case domain name", d))
	}
	b := m.Branding
	v.check(b.PrimaryColor == "" || colorRe.MatchString(b.PrimaryColor), "$.branding.primary_color", "must be a colour like #0066cc")
	v.check(b.Contacts.Email == "" || validEmail(b.Contacts.Email), "$.branding.contacts.email", "is not an e-mail address")
	v.check(b.Contacts.PEC == "" || validEmail(b.Contacts.PEC), "$.branding.contacts.pec", "is not an e-mail address")
	for i, l := range b.Social {
		v.check(validURL(l.URL), fmt.Sprintf("$.branding.social[%d].url", i), "must be an http(s) URL")
		v.check(l.Label.In("it") != "", fmt.Sprintf("$.branding.social[%d].label", i), "is required")
	}
	for i, l := range b.FooterLinks {
		v.check(validURL(l.URL) || strings.HasPrefix(l.URL, "/"), fmt.Sprintf("$.branding.footer_links[%d].url", i), "must be an http(s) URL or a path")
		v.check(l.Label.In("it") != "", fmt.Sprintf("$.branding.footer_links[%d].label", i), "is required")
	}
	c := m.CitizenLogin
	if c != (CitizenLogin{}) {
		v.check(c.Issuer == "dev" || validURL(c.Issuer), "$.citizen_login.issuer", `must be the identity provider's URL, or "dev" for the development provider`)
		v.check(c.ClientID != "", "$.citizen_login.client_id", "is required with an issuer")
		v.check(c.ClientSecret == "" || c.ClientSecretEnv == "", "$.citizen_login.client_secret_env", "give client_secret or client_secret_env, not both")
	}
	offices := map[string]bool{}
	for i, o := range m.Offices {
		p := fmt.Sprintf("$.offices[%d]", i)
		v.check(slugRe.MatchString(o.Slug), p+".slug", "must be lower-case letters, digits and dashes")
		v.check(!offices[o.Slug], p+".slug", fmt.Sprintf("office %q is listed twice", o.Slug))
		offices[o.Slug] = true
		v.check(o.Name.In("it") != "", p+".name", "is required")
		v.check(o.Email == "" || validEmail(o.Email), p+".email", "is not an e-mail address")
		for j, h := range o.Hours {
			hp := fmt.Sprintf("%s.hours[%d]", p, j)
			v.check(len(h.Days) > 0, hp+".days", "list the weekdays (mon … sun)")
			for k, d := range h.Days {
				v.check(weekdays[d], fmt.Sprintf("%s.days[%d]", hp, k), fmt.Sprintf("%q is not a weekday; use mon, tue, wed, thu, fri, sat, sun", d))
			}
			v.check(clockRe.MatchString(h.Open), hp+".open", "must be a time like 08:30")
			v.check(clockRe.MatchString(h.Close), hp+".close", "must be a time like 12:30")
			v.check(h.Open < h.Close, hp+".close", "must be after open")
		}
	}
	staff := map[string]bool{}
	for i, s := range m.Staff {
		p := fmt.Sprintf("$.staff[%d]", i)
		email := strings.ToLower(strings.TrimSpace(s.Email))
		v.check(validEmail(email), p+".email", "is not an e-mail address")
		v.check(!staff[email], p+".email", fmt.Sprintf("%q is listed twice", email))
		staff[email] = true
		v.check(strings.TrimSpace(s.Name) != "", p+".name", "is required")
		v.check(s.Password == "" || s.PasswordHash == "", p+".password_hash", "give password or password_hash, not both")
		v.check(s.Password == "" || len(s.Password) >= 8, p+".password", "must be at least 8 characters")
		v.check(s.PasswordHash == "" || strings.HasPrefix(s.PasswordHash, "$argon2id$"), p+".password_hash", "must be an argon2id hash ($argon2id$...)")
		v.check(len(s.Roles) > 0, p+".roles", "list at least one of operator, office_manager, tenant_admin")
		for j, r := range s.Roles {
			v.check(roles[r], fmt.Sprintf("%s.roles[%d]", p, j), fmt.Sprintf("%q is not a staff role; use operator, office_manager or tenant_admin", r))
		}
		for j, o := range s.Offices {
			v.check(offices[o], fmt.Sprintf("%s.offices[%d]", p, j), fmt.Sprintf("office %q is not among the offices above", o))
		}
	}
	m.validateAppointments(v)
	services := map[string]bool{}
	for i, s := range m.Services {
		p := fmt.Sprintf("$.services[%d].id", i)
		v.check(serviceRe.MatchString(s.ID), p, "must be a catalogue service id like appointments")
		v.check(!services[s.ID], p, fmt.Sprintf("service %q is listed twice", s.ID))
		services[s.ID] = true
		_, err := json.Marshal(s.Config)
		v.check(err == nil, fmt.Sprintf("$.services[%d].config", i), "must be a mapping of plain values")
	}
}

func yamlError(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &ManifestError{File: file, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil {
			e.Line = tk.Position.Line
			if tk.Type == 0 || tk.Value != "" {
				e.Field = tk.Value
			}
		}
		return e
	}
	return &ManifestError{File: file, Msg: err.Error()}
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
