package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/store"
)

// ReminderOptions configure Reminders.
type ReminderOptions struct {
	// Catalog holds the default texts (web/locales/notify.*.toml).
	Catalog *i18n.Catalog
	// IDCardNotice is how long before its expiry a card is announced; 60
	// days when zero.
	IDCardNotice time.Duration
	// Recent is how far back a filed request or an enrolment still gets
	// its SMS: a job that was down a while catches up, but a citizen is
	// not told of last month's request. 48 hours when zero.
	Recent time.Duration
	// EnrolledStatuses are the final statuses that confirm an enrolment:
	// "enrolled" of the courses, kindergarten and summer camp definitions
	// when nil.
	EnrolledStatuses []string
	Now              func() time.Time
	Log              *slog.Logger
}

// Reminders queues the messages the town sends of its own accord. Each
// one is claimed in notify_reminders under a key naming what it is about,
// in the transaction that queues its messages: a second run, or a second
// instance running at once, finds the key taken and queues nothing.
// A reminder nobody could be told (no consent yet, no address) is not
// claimed, so that it still goes if the citizen consents in time.
type Reminders struct {
	db *store.DB
	o  ReminderOptions
}

// NewReminders is the reminder job on db.
func NewReminders(db *store.DB, o ReminderOptions) *Reminders {
	if o.IDCardNotice == 0 {
		o.IDCardNotice = 60 * 24 * time.Hour
	}
	if o.Recent == 0 {
		o.Recent = 48 * time.Hour
	}
	if o.EnrolledStatuses == nil {
		o.EnrolledStatuses = []string{"enrolled"}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Reminders{db: db, o: o}
}

// town is what a reminder needs of a tenant.
type town struct {
	id        int64
	name      string
	languages []string
}

// reminder is one thing to tell one citizen.
type reminder struct {
	key       string
	kind      string
	citizenID int64
	// emailFallback is an address to use when the citizen's account has
	// none (the one the town imported with an identity card).
	emailFallback string
	// smsOnly: the e-mail about it already went from the code that did
	// the deed (see the rule of consent in prefs.go).
	smsOnly bool
	data    map[string]any
	// dataFor fills what depends on the language (dates, names).
	dataFor func(lang string) map[string]any
}

// RunOnce queues every reminder due now, in every town, and reports how
// many were queued.
func (r *Reminders) RunOnce(ctx context.Context) (int, error) {
	towns, err := r.towns(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, t := range towns {
		// One town's fault (a broken row, a template gone bad) must not
		// hold back every other town's reminders.
		n, err := r.runTown(ctx, t)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("reminders of %s: %w", t.name, err))
		}
	}
	return total, errors.Join(errs...)
}

func (r *Reminders) runTown(ctx context.Context, t town) (int, error) {
	var due []reminder
	err := r.db.InTenant(ctx, t.id, func(ctx context.Context, tx bun.Tx) error {
		now := r.o.Now()
		for _, find := range []func(context.Context, bun.Tx, town, time.Time) ([]reminder, error){
			r.appointmentsTomorrow, r.idCardsExpiring, r.requestsReceived, r.enrolmentsConfirmed,
		} {
			found, err := find(ctx, tx, t, now)
			if err != nil {
				return err
			}
			due = append(due, found...)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rem := range due {
		ok, err := r.send(ctx, t, rem)
		if err != nil {
			return n, fmt.Errorf("reminder %s: %w", rem.key, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Run queues the reminders every interval until ctx ends.
func (r *Reminders) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.o.Log.Warn("reminders", "err", err)
		} else if n > 0 {
			r.o.Log.Info("reminders queued", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Reminders) towns(ctx context.Context) ([]town, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, name, languages FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("towns: %w", err)
	}
	defer rows.Close()
	var out []town
	for rows.Next() {
		var t town
		if err := rows.Scan(&t.id, &t.name, pgdialect.Array(&t.languages)); err != nil {
			return nil, err
		}
		if len(t.languages) == 0 {
			t.languages = []string{i18n.Default}
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// errNobody rolls back a claim when there was nobody to tell.
var errNobody = errors.New("nobody to tell")

// send queues rem's messages by the channels the citizen consented to and
// claims it, in one transaction. false: already claimed, or nobody to tell.
func (r *Reminders) send(ctx context.Context, t town, rem reminder) (bool, error) {
	queued := 0
	err := r.db.InTenant(ctx, t.id, func(ctx context.Context, tx bun.Tx) error {
		prefs, err := LoadPrefs(ctx, tx, t.id, rem.citizenID)
		if err != nil {
			return err
		}
		var name, email string
		if err := tx.QueryRowContext(ctx, `SELECT name, email FROM citizens WHERE tenant_id = ? AND id = ?`,
			t.id, rem.citizenID).Scan(&name, &email); err != nil {
			return fmt.Errorf("citizen %d: %w", rem.citizenID, err)
		}
		if !validEmail(email) {
			email = rem.emailFallback
		}
		lang := t.languages[0]
		if slices.Contains(t.languages, prefs.Lang) {
			lang = prefs.Lang
		}
		data := map[string]any{"Name": name, "Town": t.name}
		for k, v := range rem.data {
			data[k] = v
		}
		if rem.dataFor != nil {
			for k, v := range rem.dataFor(lang) {
				data[k] = v
			}
		}
		texts, err := Render(ctx, tx, r.o.Catalog, t.id, rem.kind, lang, data)
		if err != nil {
			return err
		}
		if prefs.Email && !rem.smsOnly && validEmail(email) {
			if _, err := Queue(ctx, tx, t.id, Message{Channel: Email, To: email, Subject: texts.Subject, Body: texts.Body, Source: "core"}); err != nil {
				return err
			}
			queued++
		}
		// Never an SMS without consent, and only to the number given with it.
		if prefs.SMS && prefs.Phone != "" && texts.SMS != "" {
			if _, err := Queue(ctx, tx, t.id, Message{Channel: SMS, To: prefs.Phone, Body: texts.SMS, Source: "core"}); err != nil {
				return err
			}
			queued++
		}
		if queued == 0 {
			return errNobody
		}
		// The claim comes last: a run that claimed the key first, even one
		// still in flight, makes this insert wait and then find it taken,
		// and the messages queued above roll back with it.
		var claimed string
		err = tx.QueryRowContext(ctx, `INSERT INTO notify_reminders (tenant_id, key, queued) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key`, t.id, rem.key, queued).Scan(&claimed)
		if errors.Is(err, sql.ErrNoRows) {
			return errNobody // another run has it
		}
		return err
	})
	if errors.Is(err, errNobody) {
		return false, nil
	}
	return err == nil, err
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// appointmentsTomorrow: confirmed office appointments of citizens on the
// town's next calendar day, not yet reminded of that day (a moved
// appointment is reminded of its new day).
func (r *Reminders) appointmentsTomorrow(ctx context.Context, tx bun.Tx, t town, now time.Time) ([]reminder, error) {
	rows, err := tx.QueryContext(ctx, `
		WITH tz AS (SELECT coalesce((SELECT timezone FROM appointment_settings WHERE tenant_id = ?), 'Europe/Rome') AS zone)
		SELECT b.id, b.code, lower(b.period), b.citizen_id, tp.name, coalesce(o.name, '{}'), coalesce(o.address, ''), tz.zone,
			to_char((lower(b.period) AT TIME ZONE tz.zone)::date, 'YYYY-MM-DD')
		FROM appointments a
		JOIN bookings b ON b.tenant_id = a.tenant_id AND b.id = a.booking_id
		JOIN appointment_topics tp ON tp.tenant_id = a.tenant_id AND tp.id = a.topic_id
		LEFT JOIN appointment_offices ao ON ao.tenant_id = b.tenant_id AND ao.resource_id = b.resource_id
		LEFT JOIN offices o ON o.tenant_id = ao.tenant_id AND o.id = ao.office_id
		CROSS JOIN tz
		WHERE a.tenant_id = ? AND a.state = 'booked' AND b.status = 'confirmed' AND b.citizen_id IS NOT NULL
		  AND (lower(b.period) AT TIME ZONE tz.zone)::date = (?::timestamptz AT TIME ZONE tz.zone)::date + 1
		  AND NOT EXISTS (SELECT 1 FROM notify_reminders n WHERE n.tenant_id = a.tenant_id
		      AND n.key = 'appointment_tomorrow:' || b.id || ':' || to_char((lower(b.period) AT TIME ZONE tz.zone)::date, 'YYYY-MM-DD'))
		ORDER BY lower(b.period)`, t.id, t.id, now)
	if err != nil {
		return nil, fmt.Errorf("appointments tomorrow: %w", err)
	}
	defer rows.Close()
	var out []reminder
	for rows.Next() {
		var id, citizen int64
		var code, address, zone, day string
		var start time.Time
		var topic, office jsonText
		if err := rows.Scan(&id, &code, &start, &citizen, &topic, &office, &address, &zone, &day); err != nil {
			return nil, err
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		out = append(out, reminder{
			key: fmt.Sprintf("%s:%d:%s", KindAppointmentTomorrow, id, day), kind: KindAppointmentTomorrow, citizenID: citizen,
			data: map[string]any{"Code": code, "Address": address},
			dataFor: func(lang string) map[string]any {
				return map[string]any{"When": i18n.FormatDateTime(lang, start.In(loc)), "Topic": topic.in(lang, t.languages[0]),
					"Office": office.in(lang, t.languages[0])}
			},
		})
	}
	return out, rows.Err()
}

// idCardsExpiring: imported identity cards expiring within the notice,
// of citizens known by their fiscal code.
func (r *Reminders) idCardsExpiring(ctx context.Context, tx bun.Tx, t town, now time.Time) ([]reminder, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT DISTINCT ON (e.fiscal_code) e.fiscal_code, e.email, c.id,
			to_char(e.expires_on, 'YYYY-MM-DD')
		FROM id_card_expiries e
		JOIN citizens c ON c.tenant_id = e.tenant_id AND upper(c.fiscal_code) = e.fiscal_code
		WHERE e.tenant_id = ? AND e.expires_on >= ?::date AND e.expires_on <= ?::date
		  AND NOT EXISTS (SELECT 1 FROM notify_reminders n WHERE n.tenant_id = e.tenant_id
		      AND n.key = 'id_card_expiring:' || e.fiscal_code || ':' || to_char(e.expires_on, 'YYYY-MM-DD'))
		ORDER BY e.fiscal_code, c.last_login DESC`,
		t.id, now.Format(time.DateOnly), now.Add(r.o.IDCardNotice).Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("identity cards expiring: %w", err)
	}
	defer rows.Close()
	var out []reminder
	for rows.Next() {
		var fc, email, day string
		var citizen int64
		if err := rows.Scan(&fc, &email, &citizen, &day); err != nil {
			return nil, err
		}
		expires, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return nil, fmt.Errorf("expiry of %s: %w", fc, err)
		}
		out = append(out, reminder{
			key: KindIDCardExpiring + ":" + fc + ":" + day, kind: KindIDCardExpiring, citizenID: citizen, emailFallback: email,
			dataFor: func(lang string) map[string]any { return map[string]any{"Expiry": i18n.FormatDate(lang, expires)} },
		})
	}
	return out, rows.Err()
}

// requestsReceived: requests citizens filed lately. The service that took
// the request has already e-mailed its receipt (the procedure plugins,
// the helpdesk, …): only the SMS is added here.
func (r *Reminders) requestsReceived(ctx context.Context, tx bun.Tx, t town, now time.Time) ([]reminder, error) {
	return r.dossiers(ctx, tx, t, KindRequestReceived, `
		SELECT d.id, d.number, d.title, d.citizen_id FROM dossiers d
		WHERE d.tenant_id = ? AND d.citizen_id IS NOT NULL AND d.submitted_at > ? AND d.submitted_at <= ?
		  AND NOT EXISTS (SELECT 1 FROM notify_reminders n WHERE n.tenant_id = d.tenant_id
		      AND n.key = 'request_received:' || d.id)
		ORDER BY d.submitted_at`, t.id, now.Add(-r.o.Recent), now)
}

// enrolmentsConfirmed: requests lately moved to an enrolled status. The
// move's public message (the definitions' transition message) has already
// been e-mailed as the office's reply: only the SMS is added here.
func (r *Reminders) enrolmentsConfirmed(ctx context.Context, tx bun.Tx, t town, now time.Time) ([]reminder, error) {
	return r.dossiers(ctx, tx, t, KindEnrolmentConfirmed, `
		SELECT d.id, d.number, d.title, d.citizen_id FROM dossiers d
		WHERE d.tenant_id = ? AND d.citizen_id IS NOT NULL AND d.status IN (?)
		  AND EXISTS (SELECT 1 FROM dossier_events e WHERE e.tenant_id = d.tenant_id AND e.dossier_id = d.id
		      AND e.kind = 'status' AND e.status = d.status AND e.at > ? AND e.at <= ?)
		  AND NOT EXISTS (SELECT 1 FROM notify_reminders n WHERE n.tenant_id = d.tenant_id
		      AND n.key = 'enrolment_confirmed:' || d.id)
		ORDER BY d.id`, t.id, bun.In(r.o.EnrolledStatuses), now.Add(-r.o.Recent), now)
}

func (r *Reminders) dossiers(ctx context.Context, tx bun.Tx, t town, kind, query string, args ...any) ([]reminder, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	defer rows.Close()
	var out []reminder
	for rows.Next() {
		var id, citizen int64
		var number, title string
		if err := rows.Scan(&id, &number, &title, &citizen); err != nil {
			return nil, err
		}
		out = append(out, reminder{key: fmt.Sprintf("%s:%d", kind, id), kind: kind, citizenID: citizen, smsOnly: true,
			data: map[string]any{"Number": number, "Title": title}})
	}
	return out, rows.Err()
}

// jsonText is a text per language, as jsonb columns keep names.
type jsonText map[string]string

func (j *jsonText) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		*j = nil
		return nil
	default:
		return fmt.Errorf("text per language: %T", src)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("text per language: %w", err)
	}
	*j = m
	return nil
}

// in is the text in lang, else in the town's first language, else any.
func (j jsonText) in(lang, fallback string) string {
	for _, l := range []string{lang, fallback, i18n.Default} {
		if s := j[l]; s != "" {
			return s
		}
	}
	keys := make([]string, 0, len(j))
	for k := range j {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		return j[keys[0]]
	}
	return ""
}
