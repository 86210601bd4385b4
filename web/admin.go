package web

// AdminHomeData is the Data of "admin_home": the tenant administration's
// pages, each with a line saying what it is for.
type AdminHomeData struct {
	Links []AdminLink
}

// AdminLink is one page of the administration.
type AdminLink struct {
	Title, Text, URL, Icon string
}

// SettingsData is the Data of "admin_settings": the town's portal
// settings a tenant admin changes themselves.
type SettingsData struct {
	// Languages are the portal's possible languages, checked when the
	// town offers them; Default is the one a visitor gets first.
	Languages []Option
	Default   string
	Errors    FieldErrors
	// Saved is set after a change went through.
	Saved bool
}
