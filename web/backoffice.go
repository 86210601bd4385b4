package web

import "time"

// Pages of the back office ("backoffice", "backoffice_dossier",
// "backoffice_new") and of the citizen's area ("my_requests",
// "my_requests_detail"). Every text is already translated. The JSON tags
// are what those pages answer to Accept: application/json.

// Option is one choice of a select.
type Option struct {
	Value    string `json:"value"`
	Label    string `json:"label"`
	Selected bool   `json:"selected,omitempty"`
}

// BackofficeData is the Data of "backoffice": an operator's queue, filtered
// by the GET form Filter describes. The greeting and the roles come from
// Page.User.
type BackofficeData struct {
	Offices []string    // names of the operator's offices
	Queue   []QueueItem // newest first; empty shows "nothing to do"
	Filter  QueueFilter
	// Choices of the filter form's selects, the current one Selected.
	Scopes   []Option
	Statuses []Option
	Services []Option
	Units    []Option // offices
	Channels []Option
	// Errors of the filter form, by parameter name; the list is empty then.
	Errors FieldErrors
	// FirstURL and NextURL page through the list ("" when there is no
	// such page); CSVURL downloads the whole filtered list; NewURL opens a
	// request on a citizen's behalf.
	FirstURL string
	NextURL  string
	CSVURL   string
	NewURL   string
}

// QueueFilter is the filter form of "backoffice", as the query string
// gives it: scope (office, mine, unassigned, all), citizen (a fiscal
// code), number, status, service, office (slug), channel, from and to
// (dates, YYYY-MM-DD) and q (free text: title, applicant's name, number).
type QueueFilter struct {
	Scope   string
	Citizen string
	Number  string
	Status  string
	Service string
	Office  string
	Channel string
	From    string
	To      string
	Query   string
	// Active: some filter beyond the default queue is set.
	Active bool
}

// QueueItem is one dossier of a list.
type QueueItem struct {
	ID        int64     `json:"id"`
	Ref       string    `json:"number"` // protocol number, "2026-000042"
	Title     string    `json:"title"`
	ServiceID string    `json:"service_id"`
	Service   string    `json:"service"` // name, translated
	StatusID  string    `json:"status_id"`
	Status    string    `json:"status"` // translated
	Final     bool      `json:"final"`
	Channel   string    `json:"channel"` // translated
	Priority  string    `json:"priority"`
	Urgent    bool      `json:"urgent,omitempty"` // high or urgent: highlighted
	Office    string    `json:"office,omitempty"`
	Assignee  string    `json:"assignee,omitempty"`
	Applicant string    `json:"applicant,omitempty"`
	Draft     bool      `json:"draft,omitempty"`
	Received  time.Time `json:"received"`
	Due       time.Time `json:"due,omitzero"`
	URL       string    `json:"url"`
}

// DossierView is one dossier in the page's language.
type DossierView struct {
	ID         int64         `json:"id"`
	Number     string        `json:"number"`
	Title      string        `json:"title"`
	ServiceID  string        `json:"service_id"`
	Service    string        `json:"service"`
	StatusID   string        `json:"status_id"`
	Status     string        `json:"status"`
	Final      bool          `json:"final"`
	Channel    string        `json:"channel"`
	PriorityID string        `json:"priority_id,omitempty"`
	Priority   string        `json:"priority,omitempty"`
	Office     string        `json:"office,omitempty"`
	Assignee   string        `json:"assignee,omitempty"`
	Applicant  ApplicantView `json:"applicant"`
	Draft      bool          `json:"draft,omitempty"`
	Created    time.Time     `json:"created"`
	Updated    time.Time     `json:"updated"`
	Due        time.Time     `json:"due,omitzero"`
	Version    int64         `json:"version"`
}

// ApplicantView is who a request is for.
type ApplicantView struct {
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	FiscalCode string `json:"fiscal_code,omitempty"`
	Phone      string `json:"phone,omitempty"`
	// Account: the request is linked to the person's citizen account.
	Account bool `json:"account,omitempty"`
	// TimelineURL is the person's history with the town (staff only).
	TimelineURL string `json:"-"`
}

// TimelineEntry is one line of a dossier's history.
type TimelineEntry struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"` // opened, submitted, status, assigned, priority, due, note, reply, attached
	Actor    string    `json:"actor,omitempty"`
	Text     string    `json:"text"`           // what happened, translated
	Body     string    `json:"body,omitempty"` // a message's text, a status change's note
	Internal bool      `json:"internal,omitempty"`
	// Attachment is the file an "attached" entry is about.
	Attachment *AttachmentView `json:"attachment,omitempty"`
}

// AttachmentView is a file of a dossier, with its download link.
type AttachmentView struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Type     string    `json:"content_type"`
	Size     string    `json:"size"` // "2,5 MB"
	Internal bool      `json:"internal,omitempty"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at"`
	URL      string    `json:"url"`
}

// DataRow is one answer of the service's form, as a label and a value.
type DataRow struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// DossierPageData is the Data of "backoffice_dossier": one dossier with
// its timeline and the forms that work it. Every form posts "_csrf" and
// "version" (Version) to URL + "/" + its step (take, assign, status,
// priority, note, reply, attach, submit, discard, actions/{id}).
type DossierPageData struct {
	Dossier     DossierView
	Timeline    []TimelineEntry // oldest first
	Attachments []AttachmentView
	Data        []DataRow
	Version     int64
	URL         string // the dossier's page
	BackURL     string // the queue
	// Choices of the forms, the dossier's current value Selected.
	Statuses   []Option
	Units      []Option // offices
	Operators  []Option
	Priorities []Option
	// Actions are the service's own steps on this dossier (audience
	// staff, scope dossier), with their forms.
	Actions []ServiceAction
	// Draft is set on a draft: the form to complete and submit it.
	Draft *IntakeData
	// Form is what the operator typed, kept when a post comes back.
	Form DossierForm
	// Errors of the forms, keyed "<step>.<field>" ("note.body") or
	// "<step>" for the step as a whole.
	Errors FieldErrors
	// Stale is set when the post was refused because somebody else
	// changed the dossier meanwhile: who and when, translated. The page
	// shows the dossier as it is now, and the operator's input again.
	Stale string
}

// DossierForm holds the values of the dossier page's forms.
type DossierForm struct {
	Status     string
	StatusNote string
	Office     string
	Operator   string
	Priority   string
	Note       string
	Reply      string
}

// IntakeData is the form of a request taken by phone or at the counter:
// the person it is for, and either a catalogue service's form or a
// generic request (a title and a description). Data of
// "backoffice_new", and DossierPageData.Draft of a draft.
type IntakeData struct {
	// PostURL is where the form posts; ChooseURL the GET form picking the
	// service (param "service").
	PostURL   string
	ChooseURL string
	Channels  []Option
	Services  []Option // "" is the generic request
	Intake    IntakeForm
	// Service is the chosen service's name, "" for a generic request;
	// Fields its form (Action the action it posts), Multipart when the
	// form has files.
	Service   string
	Action    string
	Fields    []Field
	Multipart bool
	// Title and Description of a generic request.
	Title       string
	Description string
	Errors      FieldErrors
	// Version of the draft being completed, 0 for a new request.
	Version int64
}

// IntakeForm is who the request is for and how it came in.
type IntakeForm struct {
	Channel    string
	Name       string
	Email      string
	FiscalCode string
	Phone      string
}

// MyRequestsData is the Data of "my_requests": a citizen's requests
// across every service, newest first.
type MyRequestsData struct {
	Requests []QueueItem `json:"requests"`
	FirstURL string      `json:"first_url,omitempty"`
	NextURL  string      `json:"next_url,omitempty"`
}

// MyRequestData is the Data of "my_requests_detail": one of a citizen's
// requests, with the public part of its history, the files they may
// download and the service's follow-up actions (audience citizen, scope
// dossier).
type MyRequestData struct {
	Request     DossierView      `json:"request"`
	Timeline    []TimelineEntry  `json:"timeline"`
	Attachments []AttachmentView `json:"attachments"`
	Data        []DataRow        `json:"data,omitempty"`
	// Payments are what the request asks the citizen to pay.
	Payments []PaymentRow    `json:"payments,omitempty"`
	Actions  []ServiceAction `json:"-"`
	BackURL  string          `json:"-"`
	// LiveURL is the page of the citizen's wait or call at a live desk
	// about this request, while it lasts ("" otherwise).
	LiveURL string `json:"live_url,omitempty"`
	// Result is what an action answered; Refusal why it was declined.
	Result  *ServiceResult `json:"-"`
	Refusal string         `json:"-"`
}
