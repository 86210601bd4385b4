package web

import (
	"fmt"
	"hash/fnv"
	"html/template"
	"net/mail"
	"strings"
	"time"

	"github.com/sportello/sportello/core/i18n"
)

// spritePath is Bootstrap Italia's icon sprite inside StaticFS.
const spritePath = "vendor/bootstrap-italia/svg/sprites.svg"

// funcs returns the template functions bound to inst: those that need the
// Page being drawn read inst.page.
//
//	t "id" ["Key" value]...  translate id into the page's language
//	path "/login"            the tenant-relative path under Page.Base
//	href "logo?v=3"          a URL as is, or under Page.Base when tenant-relative
//	asset "css/x.css"        URL of a static file, with its ?v= version
//	icon "it-user"           URL of a Bootstrap Italia icon in the sprite
//	theme                    URL of the tenant's theme stylesheet, "" for none
//	date, datetime           a time.Time written in the page's language
//	number f decimals        a number written in the page's language
//	money cents "EUR"        an amount written in the page's language
//	tel "+41 58 …", mailto   href values for phone numbers and e-mail
//	statusTitle, statusText  the translated title and explanation of an HTTP status
//	roleName "operator"      the translated name of a role
//	actionName "read"        the translated name of a policy action
//	socialIcon "Facebook"    the sprite icon of a social network
//	join ", " list           strings.Join
//	upper "it"               strings.ToUpper
//	once "map"               true the first time in this page, false after:
//	                         what a page loads once however many fields need it
//	mapTiles                 the Renderer's MapTiles
func (r *Renderer) funcs(inst *instance) template.FuncMap {
	lang := func() string {
		if inst.page == nil {
			return i18n.Default
		}
		return inst.page.Lang
	}
	return template.FuncMap{
		"ratingAnswers": RatingAnswers,
		"ratingStars":   RatingStars,
		"t": func(id string, kv ...any) (string, error) {
			args, err := pairs(kv)
			if err != nil {
				return "", fmt.Errorf("t %q: %w", id, err)
			}
			return r.cat.T(lang(), id, args), nil
		},
		"path": func(p string) string {
			base := ""
			if inst.page != nil {
				base = inst.page.Base
			}
			return joinPath(base, p)
		},
		"href": func(u string) string {
			if u == "" || strings.HasPrefix(u, "/") || strings.Contains(u, "://") {
				return u
			}
			base := ""
			if inst.page != nil {
				base = inst.page.Base
			}
			return joinPath(base, u)
		},
		"asset": r.Asset,
		"icon": func(id string) string {
			return r.Asset(spritePath) + "#" + id
		},
		"theme": func() string {
			if inst.page == nil || inst.page.Tenant == nil || inst.page.Tenant.PrimaryColor == "" {
				return ""
			}
			return r.themeURL(inst.page.Tenant.PrimaryColor)
		},
		"date":     func(t time.Time) string { return i18n.FormatDate(lang(), t) },
		"datetime": func(t time.Time) string { return i18n.FormatDateTime(lang(), t) },
		"number":   func(f float64, decimals int) string { return i18n.FormatNumber(lang(), f, decimals) },
		"money":    func(cents int64, currency string) string { return i18n.FormatMoney(lang(), cents, currency) },
		"tel":      telURL,
		"mailto":   mailtoURL,
		"statusTitle": func(status int) string {
			return r.cat.T(lang(), statusMessageID(status)+".title", nil)
		},
		"statusText": func(status int) string {
			return r.cat.T(lang(), statusMessageID(status)+".text", nil)
		},
		"roleName": func(role string) string {
			if id, ok := roleMessageIDs[role]; ok {
				return r.cat.T(lang(), id, nil)
			}
			return role
		},
		"actionName": func(action string) string {
			if id, ok := actionMessageIDs[action]; ok {
				return r.cat.T(lang(), id, nil)
			}
			return action
		},
		"socialIcon": socialIcon,
		"join":       func(sep string, s []string) string { return strings.Join(s, sep) },
		"upper":      strings.ToUpper,
		"once": func(key string) bool {
			if inst.done[key] {
				return false
			}
			if inst.done == nil {
				inst.done = map[string]bool{}
			}
			inst.done[key] = true
			return true
		},
		"mapTiles": func() MapTiles { return r.mapTiles },
	}
}

// pairs turns template arguments "Key", value, "Key2", value2 into a map.
func pairs(kv []any) (map[string]any, error) {
	if len(kv) == 0 {
		return nil, nil
	}
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("odd number of key/value arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("argument %d is not a key string", i)
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// joinPath puts a tenant-relative path under base: ("/t/lugano", "/login")
// is "/t/lugano/login", ("", "/login") is "/login". A fragment or query
// alone ("#servizi") is kept relative to base's home.
func joinPath(base, p string) string {
	base = strings.TrimSuffix(base, "/")
	switch {
	case p == "" || p == "/":
		return base + "/"
	case strings.HasPrefix(p, "#"), strings.HasPrefix(p, "?"):
		return base + "/" + p
	case !strings.HasPrefix(p, "/"):
		return base + "/" + p
	}
	return base + p
}

// themeURL is the URL of the theme stylesheet of a primary colour, with a
// version that changes with the stylesheet's content.
func (r *Renderer) themeURL(primary string) string {
	if u, ok := r.themes.Load(primary); ok {
		return u.(string)
	}
	c, ok := parseHex(primary)
	if !ok {
		c, _ = parseHex(DefaultPrimary)
	}
	name := strings.TrimPrefix(c.hex(), "#")
	h := fnv.New32a()
	h.Write(NewPalette(c.hex()).CSS())
	u := fmt.Sprintf("%s/%s/%s.css?v=%08x", r.staticURL, themeDir, name, h.Sum32())
	r.themes.Store(primary, u)
	return u
}

// telURL makes a tel: link of a phone number as people write it
// ("+41 58 866 11 11" → "tel:+41588661111"); "" when it has no digits.
func telURL(phone string) template.URL {
	var b strings.Builder
	for i, c := range phone {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0:
			b.WriteRune(c)
		}
	}
	if strings.Trim(b.String(), "+") == "" {
		return ""
	}
	return template.URL("tel:" + b.String())
}

// mailtoURL makes a mailto: link of a plain e-mail address; "" when the
// address does not parse as one.
func mailtoURL(email string) template.URL {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(email) || strings.ContainsAny(a.Address, "?&#%\"<> ") {
		return ""
	}
	return template.URL("mailto:" + a.Address)
}

// statusMessages maps the HTTP statuses the error page explains to the
// prefix of their message ids (<prefix>.title, <prefix>.text); any other
// status is explained as 400 or 500.
var statusMessages = map[int]string{
	400: "error.400",
	403: "error.403",
	404: "error.404",
	405: "error.405",
	409: "error.409",
	413: "error.413",
	422: "error.422",
	429: "error.429",
	500: "error.500",
	503: "error.503",
}

func statusMessageID(status int) string {
	if id, ok := statusMessages[status]; ok {
		return id
	}
	if status >= 400 && status < 500 {
		return statusMessages[400]
	}
	return statusMessages[500]
}

// roleMessageIDs maps the roles of policies/default.csv to the ids of their
// names; a role not listed (a tenant's own) shows as it is.
var roleMessageIDs = map[string]string{
	"citizen":        "role.citizen",
	"operator":       "role.operator",
	"office_manager": "role.office_manager",
	"tenant_admin":   "role.tenant_admin",
	"platform_admin": "role.platform_admin",
}

// actionMessageIDs maps the actions of policies/default.csv to the ids of
// their names.
var actionMessageIDs = map[string]string{
	"read":  "action.read",
	"write": "action.write",
	"*":     "action.any",
}

// socialIcons maps a social network's name, as a tenant labels its link, to
// its icon in Bootstrap Italia's sprite.
var socialIcons = map[string]string{
	"facebook":  "it-facebook",
	"instagram": "it-instagram",
	"youtube":   "it-youtube",
	"linkedin":  "it-linkedin",
	"twitter":   "it-twitter",
	"x":         "it-twitter",
	"telegram":  "it-telegram",
	"whatsapp":  "it-whatsapp",
	"mastodon":  "it-mastodon",
	"bluesky":   "it-bluesky",
	"threads":   "it-threads",
	"tiktok":    "it-tiktok",
	"flickr":    "it-flickr",
	"vimeo":     "it-vimeo",
	"rss":       "it-rss",
}

func socialIcon(label string) string {
	if id, ok := socialIcons[strings.ToLower(strings.TrimSpace(label))]; ok {
		return id
	}
	return "it-link"
}
