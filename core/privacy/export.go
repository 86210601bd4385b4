package privacy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/sportello/sportello/core/store"
)

// Export is everything a town keeps about one citizen, as they download
// it: their account, their dossiers with what was said on them (internal
// notes left out, as the citizen never sees those), the names of the
// files, bookings and appointments, consultations, payments and the
// messages sent to them. Nothing of other people: staff appear by the
// name they signed with, as on the citizen's own pages.
type Export struct {
	Town          string             `json:"town"`
	GeneratedAt   time.Time          `json:"generated_at"`
	Account       Account            `json:"account"`
	Dossiers      []ExportDossier    `json:"dossiers"`
	Bookings      []ExportBooking    `json:"bookings"`
	Reservations  []ExportReserve    `json:"reservations"`
	Consultations []ExportConsult    `json:"consultations"`
	Payments      []ExportPayment    `json:"payments"`
	Notifications []ExportNotice     `json:"notifications"`
	Requests      []ExportPrivacyReq `json:"privacy_requests"`
}

// Account is the citizen's account.
type Account struct {
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	FiscalCode string    `json:"fiscal_code"`
	Issuer     string    `json:"identity_provider"`
	CreatedAt  time.Time `json:"created_at"`
	LastLogin  time.Time `json:"last_login"`
}

// ExportDossier is one request of theirs.
type ExportDossier struct {
	Number      string             `json:"number"`
	Service     string             `json:"service"`
	Status      string             `json:"status"`
	Title       string             `json:"title"`
	Channel     string             `json:"channel"`
	Data        json.RawMessage    `json:"data"`
	Applicant   json.RawMessage    `json:"applicant"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	SubmittedAt *time.Time         `json:"submitted_at"`
	Messages    []ExportMessage    `json:"messages"`
	Attachments []ExportAttachment `json:"attachments"`
}

// ExportMessage is a message on a dossier the citizen can see.
type ExportMessage struct {
	Author string    `json:"author"` // staff, citizen, anonymous, system
	Name   string    `json:"name"`
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
}

// ExportAttachment is a file's name and size; the content is on the
// citizen's own pages.
type ExportAttachment struct {
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	At          time.Time `json:"at"`
}

// ExportBooking is a booking, with its appointment when it is one.
type ExportBooking struct {
	Code         string    `json:"code"`
	Service      string    `json:"service"`
	Status       string    `json:"status"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	ContactName  string    `json:"contact_name"`
	ContactEmail string    `json:"contact_email"`
	ContactPhone string    `json:"contact_phone"`
	Appointment  *string   `json:"appointment_state"`
	CreatedAt    time.Time `json:"created_at"`
}

// ExportReserve is a service's reservation for them.
type ExportReserve struct {
	Code    string    `json:"code"`
	Service string    `json:"service"`
	Status  string    `json:"status"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// ExportConsult is a visit to a live desk, with its chat.
type ExportConsult struct {
	Desk     string          `json:"desk"`
	Mode     string          `json:"mode"`
	Topic    string          `json:"topic"`
	Status   string          `json:"status"`
	JoinedAt time.Time       `json:"joined_at"`
	EndedAt  *time.Time      `json:"ended_at"`
	Messages []ExportMessage `json:"messages"`
}

// ExportPayment is a payment position they owe or paid.
type ExportPayment struct {
	Service     string    `json:"service"`
	Reason      string    `json:"reason"`
	AmountCents int64     `json:"amount_cents"`
	Currency    string    `json:"currency"`
	Status      string    `json:"status"`
	IUV         string    `json:"iuv"`
	NoticeCode  string    `json:"notice_code"`
	CreatedAt   time.Time `json:"created_at"`
}

// ExportNotice is an e-mail or text message sent (or to be sent) to them.
type ExportNotice struct {
	Channel   string    `json:"channel"`
	Recipient string    `json:"recipient"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportPrivacyReq is one of their erasure requests.
type ExportPrivacyReq struct {
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// Export gathers citizen citizenID's data in the town, in one snapshot.
func (s *Store) Export(ctx context.Context, tenantID, citizenID int64, town string) (*Export, error) {
	x := &Export{Town: town, GeneratedAt: time.Now().UTC(), Dossiers: []ExportDossier{}, Bookings: []ExportBooking{},
		Reservations: []ExportReserve{}, Consultations: []ExportConsult{}, Payments: []ExportPayment{},
		Notifications: []ExportNotice{}, Requests: []ExportPrivacyReq{}}
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	err := s.db.RunInTx(ctx, opts, func(ctx context.Context, tx bun.Tx) error {
		if err := store.SetTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT name, email, fiscal_code, issuer, created_at, last_login
			FROM citizens WHERE tenant_id = ? AND id = ?`, tenantID, citizenID).Scan(&x.Account.Name, &x.Account.Email,
			&x.Account.FiscalCode, &x.Account.Issuer, &x.Account.CreatedAt, &x.Account.LastLogin)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, step := range []func(context.Context, bun.Tx, int64, int64, *Export) error{
			exportDossiers, exportBookings, exportReservations, exportConsultations, exportPayments,
			exportNotifications, exportRequests,
		} {
			if err := step(ctx, tx, tenantID, citizenID, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export citizen %d: %w", citizenID, err)
	}
	return x, nil
}

func exportDossiers(ctx context.Context, tx bun.Tx, tenantID, citizenID int64, x *Export) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, number, service_id, status, title, channel, data::text, applicant::text,
			created_at, updated_at, submitted_at
		FROM dossiers WHERE tenant_id = ? AND citizen_id = ? ORDER BY created_at, id`, tenantID, citizenID)
	if err != nil {
		return err
	}
	var ids []int64
	byID := map[int64]int{}
	for rows.Next() {
		var d ExportDossier
		var id int64
		var data, applicant string
		var sub sql.NullTime
		if err := rows.Scan(&id, &d.Number, &d.Service, &d.Status, &d.Title, &d.Channel, &data, &applicant,
			&d.CreatedAt, &d.UpdatedAt, &sub); err != nil {
			rows.Close()
			return err
		}
		d.Data, d.Applicant = json.RawMessage(data), json.RawMessage(applicant)
		if sub.Valid {
			d.SubmittedAt = &sub.Time
		}
		d.Messages, d.Attachments = []ExportMessage{}, []ExportAttachment{}
		byID[id] = len(x.Dossiers)
		ids = append(ids, id)
		x.Dossiers = append(x.Dossiers, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return err
	}
	arr := pgdialect.Array(ids)
	rows, err = tx.QueryContext(ctx, `SELECT dossier_id, author_kind, author_name, body, at FROM dossier_messages
		WHERE tenant_id = ? AND dossier_id = ANY(?) AND NOT internal ORDER BY at, id`, tenantID, arr)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var m ExportMessage
		if err := rows.Scan(&id, &m.Author, &m.Name, &m.Body, &m.At); err != nil {
			rows.Close()
			return err
		}
		d := &x.Dossiers[byID[id]]
		d.Messages = append(d.Messages, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT dossier_id, name, content_type, size, created_at FROM dossier_attachments
		WHERE tenant_id = ? AND dossier_id = ANY(?) AND NOT internal ORDER BY id`, tenantID, arr)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a ExportAttachment
		if err := rows.Scan(&id, &a.Name, &a.ContentType, &a.Size, &a.At); err != nil {
			return err
		}
		d := &x.Dossiers[byID[id]]
		d.Attachments = append(d.Attachments, a)
	}
	return rows.Err()
}

func exportBookings(ctx context.Context, tx bun.Tx, tenantID, citizenID int64, x *Export) error {
	rows, err := tx.QueryContext(ctx, `SELECT b.code, b.service_id, b.status, lower(b.period), upper(b.period),
			b.contact_name, b.contact_email, b.contact_phone, a.state, b.created_at
		FROM bookings b LEFT JOIN appointments a ON a.tenant_id = b.tenant_id AND a.booking_id = b.id
		WHERE b.tenant_id = ? AND b.citizen_id = ? ORDER BY lower(b.period), b.id`, tenantID, citizenID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b ExportBooking
		var state sql.NullString
		if err := rows.Scan(&b.Code, &b.Service, &b.Status, &b.Start, &b.End, &b.ContactName, &b.ContactEmail,
			&b.ContactPhone, &state, &b.CreatedAt); err != nil {
			return err
		}
		if state.Valid {
			b.Appointment = &state.String
		}
		x.Bookings = append(x.Bookings, b)
	}
	return rows.Err()
}

func exportReservations(ctx context.Context, tx bun.Tx, tenantID, citizenID int64, x *Export) error {
	rows, err := tx.QueryContext(ctx, `SELECT code, service_id, status, lower(period), upper(period)
		FROM reservations WHERE tenant_id = ? AND citizen_id = ? ORDER BY lower(period), id`, tenantID, citizenID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r ExportReserve
		if err := rows.Scan(&r.Code, &r.Service, &r.Status, &r.Start, &r.End); err != nil {
			return err
		}
		x.Reservations = append(x.Reservations, r)
	}
	return rows.Err()
}

func exportConsultations(ctx context.Context, tx bun.Tx, tenantID, citizenID int64, x *Export) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, desk, mode, topic, status, joined_at, ended_at
		FROM consultation_entries WHERE tenant_id = ? AND citizen_id = ? ORDER BY joined_at, id`, tenantID, citizenID)
	if err != nil {
		return err
	}
	var ids []int64
	byID := map[int64]int{}
	for rows.Next() {
		var c ExportConsult
		var id int64
		var ended sql.NullTime
		if err := rows.Scan(&id, &c.Desk, &c.Mode, &c.Topic, &c.Status, &c.JoinedAt, &ended); err != nil {
			rows.Close()
			return err
		}
		if ended.Valid {
			c.EndedAt = &ended.Time
		}
		c.Messages = []ExportMessage{}
		byID[id] = len(x.Consultations)
		ids = append(ids, id)
		x.Consultations = append(x.Consultations, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT entry_id, author, name, body, at FROM consultation_messages
		WHERE tenant_id = ? AND entry_id = ANY(?) ORDER BY id`, tenantID, pgdialect.Array(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m ExportMessage
		if err := rows.Scan(&id, &m.Author, &m.Name, &m.Body, &m.At); err != nil {
			return err
		}
		c := &x.Consultations[byID[id]]
		c.Messages = append(c.Messages, m)
	}
	return rows.Err()
}

func exportPayments(ctx context.Context, tx bun.Tx, tenantID, citizenID int64, x *Export) error {
	rows, err := tx.QueryContext(ctx, `SELECT p.service_id, p.reason, p.amount_cents, p.currency, p.status, p.iuv, p.notice_code, p.created_at
		FROM payments p WHERE p.tenant_id = ? AND (p.citizen_id = ? OR p.dossier_id IN
			(SELECT id FROM dossiers d WHERE d.tenant_id = p.tenant_id AND d.citizen_id = ?))
		ORDER BY p.created_at, p.id`, tenantID, citizenID, citizenID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p ExportPayment
		if err := rows.Scan(&p.Service, &p.Reason, &p.AmountCents, &p.Currency, &p.Status, &p.IUV, &p.NoticeCode, &p.CreatedAt); err != nil {
			return err
		}
		x.Payments = append(x.Payments, p)
	}
	return rows.Err()
}

// exportNotifications: the outbox keeps an address, not a person, so the
// messages are those sent to the account's e-mail address or to a contact
// the citizen gave on their own bookings.
func exportNotifications(ctx context.Context, tx bun.Tx, tenantID, citizenID int64, x *Export) error {
	addrs := map[string]bool{}
	if e := strings.ToLower(strings.TrimSpace(x.Account.Email)); e != "" {
		addrs[e] = true
	}
	for _, b := range x.Bookings {
		for _, a := range []string{b.ContactEmail, b.ContactPhone} {
			if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
				addrs[a] = true
			}
		}
	}
	if len(addrs) == 0 {
		return nil
	}
	list := make([]string, 0, len(addrs))
	for a := range addrs {
		list = append(list, a)
	}
	rows, err := tx.QueryContext(ctx, `SELECT channel, recipient, subject, body, status, created_at FROM notifications
		WHERE tenant_id = ? AND lower(recipient) = ANY(?) ORDER BY created_at, id`, tenantID, pgdialect.Array(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n ExportNotice
		if err := rows.Scan(&n.Channel, &n.Recipient, &n.Subject, &n.Body, &n.Status, &n.CreatedAt); err != nil {
			return err
		}
		x.Notifications = append(x.Notifications, n)
	}
	return rows.Err()
}

func exportRequests(ctx context.Context, tx bun.Tx, tenantID, citizenID int64, x *Export) error {
	rows, err := tx.QueryContext(ctx, `SELECT kind, status, created_at FROM privacy_requests
		WHERE tenant_id = ? AND citizen_id = ? ORDER BY created_at, id`, tenantID, citizenID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r ExportPrivacyReq
		if err := rows.Scan(&r.Kind, &r.Status, &r.CreatedAt); err != nil {
			return err
		}
		x.Requests = append(x.Requests, r)
	}
	return rows.Err()
}
