package appointment

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	ics "github.com/arran4/golang-ical"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/notify"
)

// What an e-mail announces; its messages are appointments.mail.<kind>.*.
const (
	mailBooked    = "booked"
	mailMoved     = "moved"
	mailCancelled = "cancelled"
)

// Links are the addresses of an appointment's own pages, each carrying
// its token so that the e-mail's reader needs no account.
type Links struct {
	Manage, Move, Cancel, Calendar string
}

// Links of appointment code under the town's portal base.
func (s *Service) Links(tenantID int64, code, base string) Links {
	if base == "" {
		return Links{}
	}
	page := strings.TrimSuffix(base, "/") + "/appointments/" + url.PathEscape(code)
	q := "?token=" + url.QueryEscape(s.Token(tenantID, code))
	return Links{Manage: page + q, Move: page + "/move" + q, Cancel: page + "/cancel" + q, Calendar: page + "/calendar.ics" + q}
}

// queueMail puts the e-mail about a in the outbox of tx, with the
// calendar entry attached; an appointment without an e-mail address
// (booked by phone) gets none.
func (s *Service) queueMail(ctx context.Context, tx bun.Tx, tenantID int64, a *Appointment, n Notice, kind string) error {
	if a.Contact.Email == "" {
		return nil
	}
	entry, err := s.Calendar(tenantID, a, n)
	if err != nil {
		return err
	}
	links := s.Links(tenantID, a.Code, n.BaseURL)
	data := map[string]any{
		"Name": a.Contact.Name, "Topic": a.Topic.Name.In(n.Lang), "Office": a.Office.Name.In(n.Lang),
		"Address": a.Office.Address, "When": i18n.FormatDateTime(n.Lang, a.Start), "Code": a.Code,
		"Deadline": i18n.FormatDateTime(n.Lang, a.CancelDeadline), "Town": n.Town,
		"ManageURL": links.Manage, "MoveURL": links.Move, "CancelURL": links.Cancel,
	}
	_, err = notify.Queue(ctx, tx, tenantID, notify.Message{
		Channel: notify.Email, To: a.Contact.Email, Source: "core",
		Subject: s.msg.T(n.Lang, "appointments.mail."+kind+".subject", data),
		Body:    s.msg.T(n.Lang, "appointments.mail."+kind+".body", data),
		Attachments: []notify.Attachment{{Name: s.msg.T(n.Lang, "appointments.mail.attachment", nil) + ".ics",
			ContentType: "text/calendar", Content: entry}},
	})
	if err != nil {
		return fmt.Errorf("e-mail about appointment %s: %w", a.Code, err)
	}
	return nil
}

// Calendar is the iCalendar entry of a: one event whose UID (code@host)
// stays the same across versions, times in UTC, the office's address as
// its location, and a SEQUENCE that grows with each move, so that a
// calendar replaces the entry it has rather than adding another.
func (s *Service) Calendar(tenantID int64, a *Appointment, n Notice) ([]byte, error) {
	host := n.Host
	if host == "" {
		host = "sportello"
	}
	cal := ics.NewCalendar()
	cal.SetProductId("-//Sportello//Appointments//EN")
	cal.SetMethod(ics.MethodPublish)
	ev := cal.AddEvent(a.Code + "@" + host)
	ev.SetDtStampTime(s.now())
	ev.SetCreatedTime(a.CreatedAt)
	ev.SetModifiedAt(a.UpdatedAt)
	ev.SetStartAt(a.Start)
	ev.SetEndAt(a.End)
	ev.SetSequence(a.Sequence)
	office := a.Office.Name.In(n.Lang)
	summary := a.Topic.Name.In(n.Lang) + " – " + office
	if n.Town != "" {
		summary += " (" + n.Town + ")"
	}
	ev.SetSummary(summary)
	location := office
	if a.Office.Address != "" {
		location = a.Office.Address
		if office != "" {
			location = office + ", " + a.Office.Address
		}
	}
	ev.SetLocation(location)
	links := s.Links(tenantID, a.Code, n.BaseURL)
	desc := s.msg.T(n.Lang, "appointments.calendar.description", map[string]any{"Code": a.Code, "ManageURL": links.Manage})
	ev.SetDescription(desc)
	if links.Manage != "" {
		ev.SetURL(links.Manage)
	}
	if a.Status == booking.Cancelled {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("calendar entry of %s: %w", a.Code, err)
	}
	return []byte(b.String()), nil
}
