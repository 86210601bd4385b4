package web

import "time"

// ServicesData is the Data of "admin_services": the catalogue as one town
// sees it.
type ServicesData struct {
	Services []CatalogService
}

// CatalogService is one catalogue service with its state in the town.
type CatalogService struct {
	ID       string
	Name     string // in the page's language
	Summary  string
	Category string
	Version  string
	// State in this town: "" (never asked), requested, approved, rejected,
	// published, disabled.
	State string
	URL   string // the service's admin page
}

// ServiceAdminData is the Data of "admin_service": one service's page for
// the town's admin, with the step that applies to its state.
type ServiceAdminData struct {
	Service CatalogService
	// Pending is the open request's message and date, when one is open.
	PendingMessage string
	PendingSince   time.Time
	// Reason is the platform's reason of the last rejection.
	Reason string
	// Message is the request form's text, kept on error.
	Message string
	// Config is the configuration form, drawn from the plugin's schema;
	// empty when the service has nothing to configure.
	Config []Field
	Errors FieldErrors
	// CanRequest, CanConfigure, CanPublish, CanDisable say which forms show.
	CanRequest   bool
	CanConfigure bool
	CanPublish   bool
	CanDisable   bool
}

// ServiceRequestRow is a pending request on the platform console.
type ServiceRequestRow struct {
	TenantID   int64
	TenantName string
	RequestID  int64
	ServiceID  string
	Service    string // name
	Message    string
	Created    time.Time
}

// PluginRow is a plugin's health on the platform console.
type PluginRow struct {
	ID      string
	Version string
	SHA256  string
	Status  string
	Reason  string
	PID     int
	Updated time.Time
}

// ServicePageData is the Data of "service": a service's page on the
// portal, with the sections of the Designers Italia "Modello Comuni" in
// their order, and the forms of the actions the visitor may take.
type ServicePageData struct {
	Service CatalogService
	// CategoryName is the service's category in the page's language, and
	// CategoryURL the Servizi page showing that category.
	CategoryName, CategoryURL string
	Texts                     ServiceTexts
	Actions                   []ServiceAction
	// BookingURL is the town's appointment booking, "" where the town
	// takes no appointments.
	BookingURL string
	// Office is the office in charge of the service (its "area" in the
	// model), nil where the town's configuration names none.
	Office *Office
	// Result is set after an action went through.
	Result *ServiceResult
	// Refusal is the service's reason for declining an action.
	Refusal string
}

// ServiceTexts are the service page's sections, in the page's language.
type ServiceTexts struct {
	Audience          string // A chi è rivolto
	HowTo             string // Come fare
	WhatYouNeed       string // Cosa serve
	WhatYouGet        string // Cosa si ottiene
	TimesAndDeadlines string // Tempi e scadenze
	Costs             string // Quanto costa
	Conditions        string // Condizioni di servizio
	Contacts          string // Contatti
}

// ServiceAction is one thing the visitor can do on a service page.
type ServiceAction struct {
	ID     string
	Label  string
	Title  string // the form's title
	URL    string // where the form posts
	Fields []Field
	// LoginURL is set when the visitor must sign in first.
	LoginURL string
	Errors   FieldErrors
	// Multipart: the form has file fields and posts multipart/form-data.
	Multipart bool
}

// ServiceResult is what an action produced.
type ServiceResult struct {
	Message       string
	DossierNumber string
}

// ServiceIndexData is the Data of "services": the Servizi page, the
// town's published services grouped by the categories of the Designers
// Italia "Modello Comuni".
type ServiceIndexData struct {
	Groups []ServiceGroup
	// Categories are the categories that have a service, for the links
	// that show one; Selected is the one shown ("" for all).
	Categories []Option
	Selected   string
	Query      string // the search typed, "" for none
	// Total is how many services the town publishes, whatever is shown.
	Total int
	// BookingURL is the town's appointment booking, "" where the town
	// takes no appointments.
	BookingURL string
}

// ServiceGroup is one category of the Servizi page with its services.
type ServiceGroup struct {
	Slug     string
	Name     string
	Services []Service
}
