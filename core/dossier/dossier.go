// Package dossier is the one record of a citizen's request (pratica) across
// every service and channel: its protocol number, status history,
// assignment to an office and an operator, priority and due date, internal
// notes, public replies, attachments.
//
// Every change takes the version of the dossier the operator saw and is
// refused with ErrStale when somebody changed it in between, so two
// operators working one dossier never overwrite each other silently.
// Callers that hold no version (a plugin through the Host API, a citizen's
// follow-up) pass AnyVersion.
//
// All tenant-owned rows are read and written inside store.DB.InTenant.
package dossier

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sportello/sportello/core/store"
)

// Errors of the package; wrapped with context, test with errors.Is.
var (
	// ErrNotFound: no such dossier or attachment in the tenant (or not one
	// the caller may see: another citizen's, a draft, an internal file).
	ErrNotFound = errors.New("dossier not found")
	// ErrStale: the dossier changed since the version the caller saw.
	// The error is a *StaleError, which says who changed it and when.
	ErrStale = errors.New("dossier changed in the meantime")
	// ErrInvalid: a value is missing or malformed; the error is a
	// *FieldError naming the field.
	ErrInvalid = errors.New("invalid dossier data")
	// ErrTooLarge: an attachment exceeds the size limit of Files.
	ErrTooLarge = errors.New("attachment too large")
	// ErrFileType: an attachment's content is of a type not allowed, or
	// its name's extension does not match its content.
	ErrFileType = errors.New("attachment type not allowed")
	// ErrCorrupt: a stored file no longer matches its checksum (a damaged
	// disk or a tampered data folder); nothing the caller can fix.
	ErrCorrupt = errors.New("stored attachment does not match its checksum")
)

// FieldError is an ErrInvalid about one field. Code is one of "required",
// "too_long", "invalid", "unknown" (no such office, user, citizen or
// upload), "draft" (not allowed on a draft: submit it first); Limit is
// the maximum for "too_long".
// The HTTP layer translates it as "dossier.error.<code>" with the field's
// label "dossier.field.<field>".
type FieldError struct {
	Field string
	Code  string
	Limit int
}

func (e *FieldError) Error() string {
	switch e.Code {
	case "required":
		return e.Field + " is required"
	case "too_long":
		return fmt.Sprintf("%s: too long (at most %d)", e.Field, e.Limit)
	case "unknown":
		return e.Field + ": no such one in this town"
	case "draft":
		return e.Field + ": not while the dossier is a draft (submit it first)"
	}
	return e.Field + ": invalid value"
}

// Is makes errors.Is(err, ErrInvalid) hold for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, code string) error { return &FieldError{Field: field, Code: code} }

// StaleError is the ErrStale of one dossier: what the caller saw and what
// is there now, so the page can say "changed by Anna at 10:42, reload".
type StaleError struct {
	Number    string
	Saw       int64
	Current   int64
	ChangedBy string // display name of the last change's author, "" if unknown
	ChangedAt time.Time
}

func (e *StaleError) Error() string {
	by := ""
	if e.ChangedBy != "" {
		by = " by " + e.ChangedBy
	}
	return fmt.Sprintf("dossier %s was changed%s at %s (version %d, you saw %d)",
		e.Number, by, e.ChangedAt.Format(time.RFC3339), e.Current, e.Saw)
}

func (e *StaleError) Unwrap() error { return ErrStale }

// AnyVersion, passed as the version of a change, skips the check: for
// callers that never showed the dossier to a person (plugins, citizens'
// follow-ups). The change still bumps the version.
const AnyVersion int64 = 0

// Channels a dossier can come in through.
const (
	ChannelWeb          = "web"
	ChannelPhone        = "phone"
	ChannelCounter      = "counter"
	ChannelConsultation = "consultation"
)

// Channels lists the channels in display order.
func Channels() []string {
	return []string{ChannelWeb, ChannelPhone, ChannelCounter, ChannelConsultation}
}

// Statuses the core knows; services add their own (a status is any
// lower-case identifier, as in the plugin manifests).
const (
	// StatusDraft: being entered by an operator (a phone call, the
	// counter); the citizen does not see it until Submit.
	StatusDraft = "draft"
	// StatusSubmitted: the default first status.
	StatusSubmitted = "submitted"
)

// Priority orders a queue. The zero value "" means PriorityNormal
// wherever a priority is given (Open, SetPriority).
type Priority string

const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists the priorities from low to urgent.
func Priorities() []Priority {
	return []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}
}

// rank is the priority as stored (dossiers.priority, 0 … 3), -1 if p is
// none of the four.
func (p Priority) rank() int16 {
	switch p {
	case PriorityLow:
		return 0
	case PriorityNormal, "":
		return 1
	case PriorityHigh:
		return 2
	case PriorityUrgent:
		return 3
	}
	return -1
}

func priorityOf(rank int16) Priority {
	ps := Priorities()
	if rank < 0 || int(rank) >= len(ps) {
		return PriorityNormal
	}
	return ps[rank]
}

// Valid reports whether p is one of the four priorities or "".
func (p Priority) Valid() bool { return p.rank() >= 0 }

// ParsePriority reads a priority's name; "" is PriorityNormal. Anything
// else is a *FieldError on "priority".
func ParsePriority(s string) (Priority, error) {
	p := Priority(s)
	if !p.Valid() {
		return PriorityNormal, fieldErr("priority", "invalid")
	}
	if p == "" {
		p = PriorityNormal
	}
	return p, nil
}

// Actor kinds.
const (
	ActorStaff     = "staff"
	ActorCitizen   = "citizen"
	ActorAnonymous = "anonymous"
	ActorSystem    = "system"
)

// Actor is who makes a change: a staff user (users.id), a citizen
// (citizens.id), an anonymous visitor or the system. Plugin is set when a
// plugin acts on the actor's behalf through the Host API. Name is what
// the history shows.
type Actor struct {
	Kind   string
	ID     int64
	Name   string
	Plugin string
}

// Staff is staff user id, called name.
func Staff(id int64, name string) Actor { return Actor{Kind: ActorStaff, ID: id, Name: name} }

// Citizen is citizen id, called name.
func Citizen(id int64, name string) Actor { return Actor{Kind: ActorCitizen, ID: id, Name: name} }

// String is the actor as the history and the audit log record it:
// "staff:3", or "plugin:helpdesk/citizen:7" through a plugin.
func (a Actor) String() string {
	s := a.Kind + ":" + strconv.FormatInt(a.ID, 10)
	if a.Plugin != "" {
		s = "plugin:" + a.Plugin + "/" + s
	}
	return s
}

// Applicant is who the request is for, as given when it was opened: a
// snapshot, so a phone or counter request keeps the caller's details even
// with no citizen account, and a later change of account leaves the
// record as filed.
type Applicant struct {
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	FiscalCode string `json:"fiscal_code,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// Dossier is one request.
type Dossier struct {
	TenantID  int64
	ID        int64
	Number    string // protocol number, "2026-000042", unique per tenant; "D-<id>" while a draft
	ServiceID string
	Title     string
	Status    string
	Channel   string
	Data      json.RawMessage // the service's JSON object

	CitizenID int64 // 0: no citizen account (phone, counter, anonymous)
	Applicant Applicant

	OfficeID     int64 // 0: no office yet
	OfficeSlug   string
	AssigneeID   int64 // 0: nobody has taken it
	AssigneeName string
	Priority     Priority
	DueAt        time.Time // zero: no due date
	CreatedBy    int64     // staff user who entered it, 0 for the citizen or a plugin

	SubmittedAt time.Time // zero while a draft
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64 // pass it back to any change
}

// Draft reports whether the dossier is still being entered.
func (d *Dossier) Draft() bool { return d.Status == StatusDraft }

// NewDossier is what Open needs.
type NewDossier struct {
	ServiceID string // catalogue id of the service; required
	Title     string // required, at most 300 characters
	Data      json.RawMessage
	// Status is the first status; "" is StatusSubmitted. Draft overrides it.
	Status string
	// Draft opens it as StatusDraft, invisible to the citizen until Submit.
	Draft   bool
	Channel string // "" is ChannelWeb

	// CitizenID links it to a citizen account (their own request, or an
	// operator entering one for them). Applicant, when empty, is filled
	// from that account.
	CitizenID int64
	Applicant Applicant

	// OfficeID, or else OfficeSlug, is the office it goes to; with
	// neither, the office the tenant configured for the service (the key
	// "office" of its configuration), if any.
	OfficeID   int64
	OfficeSlug string
	AssigneeID int64
	Priority   Priority // "" is PriorityNormal
	DueAt      time.Time

	// AttachmentIDs are pending uploads (Upload) of the same actor, kept
	// on the new dossier; RequestID is the request they were uploaded in,
	// if Upload was given one.
	AttachmentIDs []int64
	RequestID     string
}

// Assignment is where a dossier goes: both fields are set as given, 0
// meaning none.
type Assignment struct {
	OfficeID   int64
	AssigneeID int64
}

// Filter narrows a list; zero fields do not filter. Results are newest
// first (created_at, then id), Limit at a time (default 50, at most 500);
// Cursor is a Page's Next, to continue after it.
type Filter struct {
	Office     int64
	Assignee   int64
	Unassigned bool // only dossiers nobody has taken
	Citizen    int64
	Number     string // exact protocol number
	Status     string
	Service    string
	Channel    string
	From, To   time.Time // created at or after From, before To
	// Query matches title and applicant name (case-insensitive, any part
	// of a word), or a protocol number.
	Query  string
	Limit  int
	Cursor string
}

// Page is one page of a list; Next is "" on the last one.
type Page struct {
	Dossiers []Dossier
	Next     string
}

// Message is an internal note (staff only) or a public reply, which the
// citizen sees.
type Message struct {
	ID        int64
	DossierID int64
	Internal  bool
	Author    Actor
	Body      string
	At        time.Time
}

// Attachment is a stored file; its content is in Files under the tenant,
// addressed by SHA256.
type Attachment struct {
	ID          int64
	DossierID   int64 // 0 while an upload waits for its dossier
	Name        string
	ContentType string // sniffed from the content
	Size        int64
	SHA256      string // hex
	Internal    bool   // staff only
	UploadedBy  Actor
	CreatedAt   time.Time
}

// NewFile is an attachment to store. Content is read once, up to the
// size limit of Files.
type NewFile struct {
	Name     string
	Internal bool
	Content  io.Reader
}

// Kinds of history entries.
const (
	EntryOpened    = "opened"
	EntrySubmitted = "submitted"
	EntryStatus    = "status"
	EntryAssigned  = "assigned"
	EntryPriority  = "priority"
	EntryDue       = "due"
	EntryNote      = "note"  // an internal message
	EntryReply     = "reply" // a public message
	EntryAttached  = "attached"
)

// Entry is one line of a dossier's timeline.
type Entry struct {
	At        time.Time
	Kind      string // Entry*
	Actor     string // display name; "" for the system
	ActorKind string
	Internal  bool // staff only (notes, assignment, internal files)

	Status     string      // the status after the entry
	Note       string      // the status change's note, or the message's body
	Office     string      // EntryAssigned: office slug, "" none
	Assignee   string      // EntryAssigned: operator's name, "" none
	Priority   Priority    // EntryPriority
	DueAt      time.Time   // EntryDue
	Message    *Message    // EntryNote, EntryReply
	Attachment *Attachment // EntryAttached
}

// Store keeps the dossiers of every tenant.
type Store struct {
	db    *store.DB
	files *Files
	now   func() time.Time
}

// New is a Store on db (the application role's pool), keeping attachments
// in files (nil: attachments are refused). now is the clock.
func New(db *store.DB, files *Files, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, files: files, now: now}
}
