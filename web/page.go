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
	// Rating is the page rating widget above the footer of a town's pages
	// (templates/partials/rating.html); the zero value rates the home page.
	Rating Rating
}

// Rating is the state of the page rating widget. Its form posts to
// {Base}/rating the fields path, stars (1 to 5), answer (one of the codes
// of the follow-up question: clear, complete, on_track, no_problems,
// other_good for 4 or 5 stars; unclear, incomplete, lost, problems,
// other_bad for 1 to 3) and comment (at most 200 characters).
type Rating struct {
	Path string // the rated page's path below the town ("/services/helpdesk"); "" is the home page
	Done bool   // the visitor has just rated this page: thanks instead of the form
	// A refused rating comes back with what was sent and the reason,
	// translated ("" for none).
	Stars   int
	Answer  string
	Comment string
	Error   string
}

// RatingAnswer is one answer of the rating's follow-up question: its code
// (as stored) and its message id.
type RatingAnswer struct{ Code, Label string }

// RatingAnswers are the follow-up answers the Modello Comuni asks after 4
// or 5 stars (positive) or after 1 to 3: what went well, or where it was
// hard. The widget draws them, the handler and the table's check accept
// exactly these codes.
func RatingAnswers(positive bool) []RatingAnswer {
	if positive {
		return []RatingAnswer{{"clear", "rating.positive.clear"}, {"complete", "rating.positive.complete"},
			{"on_track", "rating.positive.on_track"}, {"no_problems", "rating.positive.no_problems"}, {"other_good", "rating.other"}}
	}
	return []RatingAnswer{{"unclear", "rating.negative.unclear"}, {"incomplete", "rating.negative.incomplete"},
		{"lost", "rating.negative.lost"}, {"problems", "rating.negative.problems"}, {"other_bad", "rating.other"}}
}

// RatingStars are the widget's levels, highest first: the order of the
// inputs in Bootstrap Italia's rating component.
func RatingStars() []int { return []int{5, 4, 3, 2, 1} }

// LangLink is one entry of the language switch.
type LangLink struct {
	Code   string // "it"
	Label  string // "Italiano"
	URL    string // the same page in that language
	Active bool
}

// Tenant is the branding and content of a town's portal.
type Tenant struct {
	Slug string
	Name string
	// Region is the body the town belongs to (region, canton, Land), linked
	// from the slim header; an empty Label hides it.
	Region Link
	// LogoURL is "" when the town has no logo. A URL without a leading "/"
	// or a scheme ("logo?v=3") is tenant-relative: it is put under Base.
	LogoURL      string
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
	Name       string
	Email      string
	Kind       string   // "staff", "citizen" or "platform"
	Roles      []string // staff roles
	FiscalCode string   // citizens (codice fiscale); "" otherwise
	// Admin: the staff member may use the town's administration.
	Admin bool
}

// HomeData is the Data of the "home" page (nil is fine: everything the home
// shows by default comes from Page.Tenant).
type HomeData struct {
	Intro string // a line under the town's name in the hero, translated; "" for the default
	// Personal is the signed-in citizen's own part of the page; nil for
	// anybody else.
	Personal *PersonalHome
}

// PersonalHome is what the home page shows a signed-in citizen first:
// what is open between them and the town, then the services that fit
// them.
type PersonalHome struct {
	Open      []OpenItem
	Suggested []Service
}

// OpenItem is one thing in progress: a request, an appointment to come,
// a payment due, a wait for an operator.
type OpenItem struct {
	Kind   string // request, appointment, payment, wait
	Label  string // the kind, translated
	Title  string
	Detail string // the status, the date, the amount: translated
	URL    string
}

// ErrorData is the Data of the "error" page.
type ErrorData struct {
	Status  int
	Message string // translated, for the person reading it
	// HomeURL is where "back to the home page" leads; "" means the tenant's
	// portal home, or "/platform" on platform pages.
	HomeURL string
}

// LoginData is the Data of the "login" and "platform_login" pages.
type LoginData struct {
	// Action is the URL the form posts to; "" means {Base}/login on a tenant
	// and /platform/login on the platform.
	Action string
	Next   string // where to go after signing in, posted back as "next"; "" for none
	Email  string // kept when the form comes back with an error
	Error  string // translated, "" for none; shown in an alert tied to the fields
	// CitizenLoginURL starts SPID/CIE login for citizens; "" when the tenant
	// offers no citizen login (the button is then hidden).
	CitizenLoginURL string
}

// ProfileData is the optional Data of the "profile" page (nil is fine): who
// is signed in comes from Page.User.
type ProfileData struct {
	Offices []string // staff: names of the offices they work for
}

// PoliciesData is the Data of the "admin_policies" page.
type PoliciesData struct {
	Rules []PolicyRule // the tenant's own rules, each with a delete button
	// Roles and Objects are suggestions for the add form's free-text role
	// and object fields (nil for none); Actions are the choices of its select.
	Roles   []string
	Objects []string
	Actions []string // "read", "write"
	// Form holds the add form's values, kept when it comes back with Errors
	// (keyed by field: "role", "object", "action"; "" for the whole form).
	Form   PolicyForm
	Errors FieldErrors
}

// PolicyRule is one of a tenant's rules: Role may do Action on Object.
// Its delete button posts to {Base}/admin/policies/{ID}/delete.
type PolicyRule struct {
	ID     int64
	Role   string
	Object string
	Action string
}

// PolicyForm is what the add form of "admin_policies" posts.
type PolicyForm struct {
	Role   string
	Object string
	Action string
}

// PlatformData is the Data of the "platform_home" page.
type PlatformData struct {
	Tenants []TenantSummary
	Count   int // tenants on the platform (more than len(Tenants) when paged); 0 means len(Tenants)
	// Query is the search the list answers (part of a name or slug);
	// Matches how many tenants it found. PrevURL and NextURL page through
	// them ("" at either end), Page of Pages.
	Query            string
	Matches          int
	Page, Pages      int
	PrevURL, NextURL string
	// Requests and Plugins show on the signed-in console only.
	Requests []ServiceRequestRow
	Plugins  []PluginRow
	Console  bool
}

// TenantSummary is one row of the platform's tenant list.
type TenantSummary struct {
	Slug      string
	Name      string
	Domains   []string
	Languages []string
	URL       string // the tenant's portal
}

// FieldErrors maps a form field's name to its translated error.
type FieldErrors map[string]string

// Field is one control of a form drawn by the "form_fields" template
// (templates/form_fields.html). core/forms builds fields from a service's
// JSON Schema; every text is already translated.
type Field struct {
	Name string // posted name: "email", or "address.zip" inside a fieldset
	// ID is the id of the control; of the fieldset for "radio",
	// "checkboxes", "fieldset" and "map".
	ID     string
	Label  string // the label, or the legend of a group
	Help   string // help text, "" for none
	HelpID string // id of the help text, "" when there is none
	// Widget says how the field is drawn: "input", "textarea", "select",
	// "radio", "checkbox" (one yes/no box), "checkboxes", "hidden",
	// "file" (an upload), "fieldset" (a group of Children with a legend) or
	// "map" (a fieldset of the Children lat, lon and perhaps address, with
	// a map that fills them in; see Map).
	Widget string
	// InputType is the type of an "input": text, email, tel, url, number,
	// date, time or datetime-local.
	InputType string
	// Required marks the field (and, but for checkbox groups, sets the
	// required attribute); a required "checkbox" must be ticked.
	Required bool
	// Hints for the browser, mirroring the schema ("" or 0 for none): the
	// server validates all the same.
	Min, Max, Step       string
	MinLength, MaxLength int
	Pattern              string // an HTML pattern, anchored as HTML anchors it
	Autocomplete         string // an autocomplete token ("email", "tel", …)
	Options              []FieldOption
	Value                string // the value of an input, textarea, select or hidden field
	Checked              bool   // a "checkbox" is ticked
	Error                string // translated, "" when the field is valid
	ErrorID              string // id of the error message, "" when valid
	// DescribedBy is the aria-describedby of the control (of the fieldset
	// for groups): HelpID and ErrorID, space-separated.
	DescribedBy string
	Children    []Field // the fields of a "fieldset"
	// Accept is a "file" field's accept attribute (MIME types, comma
	// separated; "" for any). Its Value is the id of a file already
	// uploaded with an earlier post of the form, FileName that file's name
	// (both "" for none): the host keeps it, so it need not be sent again.
	Accept   string
	FileName string
	// Map is where a "map" field's map starts and which of its Children it
	// fills in; nil for other widgets.
	Map *FieldMap
}

// FieldMap is the map of a "map" field. Its Children are the inputs that
// post the answer; the map (started by static/js/map.js, drawn with the
// Renderer's MapTiles) only fills them in.
type FieldMap struct {
	LatID, LonID string // ids of the latitude and longitude inputs
	AddressID    string // id of the address input, "" for none
	// Center is "lat,lon", where the map starts at Zoom (1 to 19) when the
	// schema names the town's centre; "" starts it at the inputs' point, or
	// on all of Italy.
	Center string
	Zoom   int
}

// FieldOption is one choice of a select, radio group or checkbox group.
type FieldOption struct {
	Value    string
	Label    string
	ID       string // id of the radio or checkbox; "" in a select
	Selected bool   // selected, or checked
}
