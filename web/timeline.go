package web

import "time"

// CitizensData is the Data of "backoffice_citizens": the search for a
// citizen of the town, by name, e-mail or fiscal code.
type CitizensData struct {
	Query string
	// Searched is set once a search was made, so that "nobody found"
	// shows only then.
	Searched bool
	Matches  []CitizenMatch
}

// CitizenMatch is one citizen found.
type CitizenMatch struct {
	Name       string
	Email      string
	FiscalCode string
	Requests   int
	URL        string // their timeline
}

// TimelineData is the Data of "backoffice_citizen": one citizen and
// everything that happened between them and the town, newest first.
type TimelineData struct {
	Name       string
	Email      string
	FiscalCode string
	Registered time.Time
	LastLogin  time.Time
	Entries    []CitizenEvent
	// MoreURL shows the longer timeline when older entries were left out.
	MoreURL string
	// Open counts the requests not yet concluded.
	Open int
	// Consents are the channels the citizen lets the town use, each
	// "given on …", "withdrawn on …" or "not given", translated.
	EmailConsent, SMSConsent string
	Phone                    string
}

// CitizenEvent is one thing that happened between a citizen and the
// town, ready to show.
type CitizenEvent struct {
	At time.Time
	// Kind is filed, status, message, appointment, booking, consultation
	// or payment; Label says it in the page's language.
	Kind, Label string
	// Number and URL name the request it belongs to, if any.
	Number, URL string
	Service     string // the service's name
	Title       string
	Status      string // translated
	Text        string
	Internal    bool
	Channel     string // translated
	Until       time.Time
	Amount      string // formatted, for payments
}
