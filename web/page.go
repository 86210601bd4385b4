package web

// Page is what every template receives. The HTTP layer fills it; templates
// only read it. Page-specific content travels in Data, whose type each
// template documents at its top.
type Page struct {
	// Name is the template to render, e.g. "home", "error", "login".
	Name string
	// Lang is the language of this response (it, de, en).
	Lang string
	// Languages offered on this page, for the language switch.
	Languages []LangLink
	// Tenant is nil on platform pages.
	Tenant *Tenant
	// Base is the URL prefix of the tenant's pages: "/t/lugano" when the
	// tenant came from the path, "" when it came from the host.
	Base string
	// CSRF is the token every state-changing form posts as field "_csrf".
	CSRF string
	// User is the signed-in person, nil when anonymous.
	User *User
	// Title is the page's title, already translated.
	Title string
	// Flash is a one-off notice, already translated ("" for none).
	Flash string
	// RequestID helps support find a request in the logs.
	RequestID string
	// Data is page-specific.
	Data any
}

// LangLink is one entry of the language switch.
type LangLink struct {
	Code   string // "it"
	Label  string // "Italiano"
	URL    string // the same page in that language
	Active bool
}

// Tenant is the branding and content of a town's portal.
type Tenant struct {
	Slug         string
	Name         string
	LogoURL      string // "" when the town has no logo
	PrimaryColor string // "#0066cc"
	Contacts     Contacts
	Social       []Link
	FooterLinks  []Link
	Services     []Service
	Offices      []Office
}

// Contacts of the town hall.
type Contacts struct {
	Address string
	Phone   string
	Email   string
	PEC     string // certified e-mail
}

// Link is a labelled URL.
type Link struct {
	Label string
	URL   string
}

// Service is one enabled service, with texts in the page's language.
type Service struct {
	ID          string
	Name        string
	Description string
	URL         string
}

// Office is a town office with its opening hours, already formatted.
type Office struct {
	Name    string
	Address string
	Phone   string
	Email   string
	Hours   []string // "Lunedì–Venerdì 08:30–12:30"
}

// User is who is signed in.
type User struct {
	Name  string
	Email string
	Kind  string   // "staff", "citizen" or "platform"
	Roles []string // staff roles
}

// ErrorData is the Data of the "error" page.
type ErrorData struct {
	Status  int
	Message string // translated, for the person reading it
}

// FieldErrors maps a form field's name to its translated error.
type FieldErrors map[string]string
