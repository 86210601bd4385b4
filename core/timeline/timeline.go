// Package timeline gathers what a town knows of one citizen into one
// list, newest first: the requests they filed and each change of state,
// the messages exchanged on them, their appointments and other bookings,
// their waits and calls with an operator, and their payments. Operators
// read it to answer someone at the counter or on the phone without
// opening ten pages.
package timeline

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Kinds of entries.
const (
	KindFiled        = "filed"        // a request filed
	KindStatus       = "status"       // a request changed state
	KindMessage      = "message"      // a message on a request
	KindAppointment  = "appointment"  // an office appointment
	KindBooking      = "booking"      // any other booking (a room, a slot)
	KindConsultation = "consultation" // a wait in the live queue, and the call
	KindPayment      = "payment"      // a payment asked of them
)

// ErrNotFound is a citizen the tenant does not have.
var ErrNotFound = errors.New("citizen not found")

// Citizen is the account the timeline is about.
type Citizen struct {
	ID         int64
	Name       string
	Email      string
	FiscalCode string
	Registered time.Time
	LastLogin  time.Time
}

// Entry is one thing that happened.
type Entry struct {
	At   time.Time
	Kind string
	// DossierID and Number name the request an entry belongs to (0 and
	// "" for none); ServiceID its service.
	DossierID int64
	Number    string
	ServiceID string
	// Title is the request's title, what was booked, a call's desk, a
	// payment's reason.
	Title string
	// Status is the request's, booking's, entry's or payment's state.
	Status string
	// Text is a message's body, a status change's note, a booking's
	// code, a call's topic.
	Text string
	// Internal marks a note only staff see.
	Internal bool
	// Author is who wrote a message: "citizen", "staff" or "system";
	// for a call, the operator who took it.
	Author string
	// Channel is how a request or appointment came in (web, phone,
	// counter); for a call, its mode (video, voice, chat).
	Channel string
	// Until is when a booking ends or a call ended.
	Until time.Time
	// AmountCents and Currency are a payment's.
	AmountCents int64
	Currency    string
}

// Consents are the channels a citizen lets the town use for its notices,
// and since when (or since when not).
type Consents struct {
	Known          bool // the citizen has set them; otherwise none is given
	Email, SMS     bool
	EmailAt, SMSAt time.Time
	Phone          string
}

// Timeline is a citizen and what happened, newest first.
type Timeline struct {
	Citizen  Citizen
	Consents Consents
	Entries  []Entry
	// More is set when older entries were left out.
	More bool
}

// Of reads the timeline of citizen citizenID in tenant tenantID, at most
// limit entries, naming what was booked in lang.
func Of(ctx context.Context, db *store.DB, tenantID, citizenID int64, lang string, limit int) (*Timeline, error) {
	tl := &Timeline{}
	err := db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		c := &tl.Citizen
		err := tx.QueryRowContext(ctx, `SELECT id, name, email, fiscal_code, created_at, last_login FROM citizens
			WHERE tenant_id = ? AND id = ?`, tenantID, citizenID).Scan(&c.ID, &c.Name, &c.Email, &c.FiscalCode, &c.Registered, &c.LastLogin)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		k := &tl.Consents
		err = tx.QueryRowContext(ctx, `SELECT email, email_changed_at, sms, sms_changed_at, phone FROM notify_prefs
			WHERE tenant_id = ? AND citizen_id = ?`, tenantID, citizenID).Scan(&k.Email, &k.EmailAt, &k.SMS, &k.SMSAt, &k.Phone)
		switch {
		case err == nil:
			k.Known = true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("consents: %w", err)
		}
		// Each source gives at most limit+1 of its newest: enough to fill
		// the page and to tell whether more exist.
		for _, q := range sources {
			rows, err := tx.QueryContext(ctx, q.sql, tenantID, citizenID, limit+1)
			if err != nil {
				return fmt.Errorf("%s: %w", q.kind, err)
			}
			for rows.Next() {
				e := Entry{Kind: q.kind}
				var until sql.NullTime
				if err := rows.Scan(&e.At, &e.DossierID, &e.Number, &e.ServiceID, &e.Title, &e.Status, &e.Text,
					&e.Internal, &e.Author, &e.Channel, &until, &e.AmountCents, &e.Currency); err != nil {
					rows.Close()
					return fmt.Errorf("%s: %w", q.kind, err)
				}
				e.Until = until.Time
				if q.kind == KindBooking {
					// What was booked is named per language.
					var names map[string]string
					if json.Unmarshal([]byte(e.Title), &names) == nil {
						e.Title = cmp.Or(names[lang], names["it"], e.Text)
					}
					if ch, ok := strings.CutPrefix(e.Channel, "appointment:"); ok {
						e.Kind, e.Channel = KindAppointment, ch
					}
				}
				tl.Entries = append(tl.Entries, e)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("timeline of citizen %d: %w", citizenID, err)
	}
	sort.SliceStable(tl.Entries, func(i, j int) bool { return tl.Entries[i].At.After(tl.Entries[j].At) })
	if len(tl.Entries) > limit {
		tl.Entries, tl.More = tl.Entries[:limit], true
	}
	return tl, nil
}

// sources are one query per kind, each giving the same columns: at,
// dossier id, number, service, title, status, text, internal, author,
// channel, until, amount, currency. Each takes tenant, citizen, limit.
var sources = []struct{ kind, sql string }{
	{KindFiled, `SELECT d.created_at, d.id, d.number, d.service_id, d.title, d.status, '', false, 'citizen', d.channel,
			NULL::timestamptz, 0, ''
		FROM dossiers d WHERE d.tenant_id = ? AND d.citizen_id = ?
		ORDER BY d.created_at DESC LIMIT ?`},
	// The first event of a request is its filing: only later ones are changes.
	{KindStatus, `SELECT e.at, d.id, d.number, d.service_id, d.title, e.status, e.note, false, 'staff', '',
			NULL::timestamptz, 0, ''
		FROM dossier_events e JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id
		WHERE e.tenant_id = ? AND d.citizen_id = ?
			AND e.id <> (SELECT min(f.id) FROM dossier_events f WHERE f.tenant_id = e.tenant_id AND f.dossier_id = e.dossier_id)
		ORDER BY e.at DESC LIMIT ?`},
	{KindMessage, `SELECT m.at, d.id, d.number, d.service_id, d.title, '', m.body, m.internal, m.author_kind, '',
			NULL::timestamptz, 0, ''
		FROM dossier_messages m JOIN dossiers d ON d.tenant_id = m.tenant_id AND d.id = m.dossier_id
		WHERE m.tenant_id = ? AND d.citizen_id = ?
		ORDER BY m.at DESC LIMIT ?`},
	// An appointment is a booking with a topic; its channel comes marked
	// so that one query serves both kinds.
	{KindBooking, `SELECT lower(b.period), coalesce(b.dossier_id, 0), coalesce(d.number, ''), b.service_id,
			coalesce(t.name, r.name)::text, b.status, b.code, false, '',
			coalesce('appointment:' || a.channel, ''), upper(b.period), coalesce(b.price_cents, 0), ''
		FROM bookings b
		JOIN booking_resources r ON r.tenant_id = b.tenant_id AND r.id = b.resource_id
		LEFT JOIN appointments a ON a.tenant_id = b.tenant_id AND a.booking_id = b.id
		LEFT JOIN appointment_topics t ON t.tenant_id = a.tenant_id AND t.id = a.topic_id
		LEFT JOIN dossiers d ON d.tenant_id = b.tenant_id AND d.id = b.dossier_id
		WHERE b.tenant_id = ? AND b.citizen_id = ? AND b.status <> 'expired'
		ORDER BY lower(b.period) DESC LIMIT ?`},
	{KindConsultation, `SELECT c.joined_at, c.dossier_id, d.number, d.service_id,
			c.desk, c.status, c.topic, false, c.operator_name, c.mode, c.ended_at, 0, ''
		FROM consultation_entries c JOIN dossiers d ON d.tenant_id = c.tenant_id AND d.id = c.dossier_id
		WHERE c.tenant_id = ? AND c.citizen_id = ?
		ORDER BY c.joined_at DESC LIMIT ?`},
	{KindPayment, `SELECT p.created_at, coalesce(p.dossier_id, 0), coalesce(d.number, ''), p.service_id, p.reason, p.status, '',
			false, '', '', NULL::timestamptz, p.amount_cents, p.currency
		FROM payments p LEFT JOIN dossiers d ON d.tenant_id = p.tenant_id AND d.id = p.dossier_id
		WHERE p.tenant_id = ? AND p.citizen_id = ?
		ORDER BY p.created_at DESC LIMIT ?`},
}

// Match is a citizen found by a search.
type Match struct {
	ID         int64
	Name       string
	Email      string
	FiscalCode string
	Requests   int
}

// Search finds a tenant's citizens by part of their name or e-mail, or
// by their fiscal code, at most limit of them, by name.
func Search(ctx context.Context, db *store.DB, tenantID int64, query string, limit int) ([]Match, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(query) + "%"
	var out []Match
	err := db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.name, c.email, c.fiscal_code,
				(SELECT count(*) FROM dossiers d WHERE d.tenant_id = c.tenant_id AND d.citizen_id = c.id)
			FROM citizens c
			WHERE c.tenant_id = ? AND (c.name ILIKE ? OR c.email ILIKE ? OR upper(c.fiscal_code) = upper(?))
			ORDER BY c.name, c.id LIMIT ?`, tenantID, like, like, query, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Match
			if err := rows.Scan(&m.ID, &m.Name, &m.Email, &m.FiscalCode, &m.Requests); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("search citizens %q: %w", query, err)
	}
	return out, nil
}
