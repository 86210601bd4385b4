package appointment

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
)

// Config is what a town offers: its settings, topics and offices.
type Config struct {
	Anonymous bool
	Zone      *time.Location
	Topics    []Topic  // the active ones, in the town's order
	Offices   []Office // the active ones, in the town's order
	topics    map[int64]Topic
}

// Topic is the active topic slug.
func (c *Config) Topic(slug string) (Topic, bool) {
	i := slices.IndexFunc(c.Topics, func(t Topic) bool { return t.Slug == slug })
	if i < 0 {
		return Topic{}, false
	}
	return c.Topics[i], true
}

// Office is the active office slug.
func (c *Config) Office(slug string) (Office, bool) {
	i := slices.IndexFunc(c.Offices, func(o Office) bool { return o.Slug == slug })
	if i < 0 {
		return Office{}, false
	}
	return c.Offices[i], true
}

// OfficesFor are the active offices that take appointments for topic.
func (c *Config) OfficesFor(topic string) []Office {
	var out []Office
	for _, o := range c.Offices {
		if slices.Contains(o.Topics, topic) {
			out = append(out, o)
		}
	}
	return out
}

// Config reads what the town offers; ErrNotFound when it offers no
// appointments.
func (s *Service) Config(ctx context.Context, tenantID int64) (*Config, error) {
	var c *Config
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, err = s.loadConfig(ctx, tx, tenantID)
		return err
	})
	return c, err
}

func (s *Service) loadConfig(ctx context.Context, tx bun.Tx, tenantID int64) (*Config, error) {
	c := &Config{topics: map[int64]Topic{}}
	var zone string
	err := tx.QueryRowContext(ctx, "SELECT anonymous, timezone FROM appointment_settings WHERE tenant_id = ?", tenantID).
		Scan(&c.Anonymous, &zone)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("appointments of tenant %d: %w", tenantID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read appointment settings: %w", err)
	}
	if c.Zone, err = time.LoadLocation(zone); err != nil {
		return nil, fmt.Errorf("appointment time zone: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, slug, name, active FROM appointment_topics WHERE tenant_id = ? ORDER BY position, id", tenantID)
	if err != nil {
		return nil, fmt.Errorf("read topics: %w", err)
	}
	for rows.Next() {
		var t Topic
		var name []byte
		if err := rows.Scan(&t.ID, &t.Slug, &name, &t.Active); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal(name, &t.Name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("topic %s name: %w", t.Slug, err)
		}
		c.topics[t.ID] = t
		if t.Active {
			c.Topics = append(c.Topics, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT o.id, o.slug, o.name, o.address, o.phone, o.email, a.resource_id, r.capacity, a.active,
			coalesce((SELECT array_agg(t.slug ORDER BY t.position, t.id) FROM appointment_offerings f
				JOIN appointment_topics t ON t.tenant_id = f.tenant_id AND t.id = f.topic_id AND t.active
				WHERE f.tenant_id = a.tenant_id AND f.office_id = a.office_id), '{}')
		FROM appointment_offices a
		JOIN offices o ON o.tenant_id = a.tenant_id AND o.id = a.office_id
		JOIN booking_resources r ON r.tenant_id = a.tenant_id AND r.id = a.resource_id
		WHERE a.tenant_id = ? ORDER BY a.position, o.id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read appointment offices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o Office
		var name []byte
		if err := rows.Scan(&o.ID, &o.Slug, &name, &o.Address, &o.Phone, &o.Email, &o.ResourceID, &o.Desks, &o.Active,
			pgdialect.Array(&o.Topics)); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(name, &o.Name); err != nil {
			return nil, fmt.Errorf("office %s name: %w", o.Slug, err)
		}
		if o.Active {
			c.Offices = append(c.Offices, o)
		}
	}
	return c, rows.Err()
}

// officeByID is the office with id, active or not: an appointment keeps
// naming the office it was made at.
func (s *Service) officeByID(ctx context.Context, tx bun.Tx, tenantID, id int64) (Office, error) {
	var o Office
	var name []byte
	err := tx.QueryRowContext(ctx, `SELECT o.id, o.slug, o.name, o.address, o.phone, o.email, coalesce(a.resource_id, 0), coalesce(a.active, false)
		FROM offices o LEFT JOIN appointment_offices a ON a.tenant_id = o.tenant_id AND a.office_id = o.id
		WHERE o.tenant_id = ? AND o.id = ?`, tenantID, id).Scan(&o.ID, &o.Slug, &name, &o.Address, &o.Phone, &o.Email, &o.ResourceID, &o.Active)
	if err != nil {
		return o, fmt.Errorf("read office %d: %w", id, err)
	}
	if err := json.Unmarshal(name, &o.Name); err != nil {
		return o, fmt.Errorf("office %d name: %w", id, err)
	}
	return o, nil
}

var isoDays = map[string]time.Weekday{"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday}

// resourceSlug names the booking resource of an office's desks. The
// office's id rather than its slug keeps it within the engine's 64
// characters whatever the slug.
func resourceSlug(officeID int64) string { return "appointments-" + strconv.FormatInt(officeID, 10) }

// Apply writes the appointments section of m for the tenant m describes,
// which tenancy.Apply has created: a booking resource per office with the
// office's hours (or the section's), its desks as seats, the topics and
// who takes which. Like tenancy.Apply it adds and updates and never
// deletes: a topic or office the section no longer lists is offered no
// more, and its appointments stay. An unchanged section writes nothing.
// The engine's writes each run in their own transaction; the settings,
// written last, record what was applied, so a failure halfway is redone
// whole on the next run.
func Apply(ctx context.Context, db *store.DB, eng *booking.Engine, m *tenancy.Manifest) error {
	a := m.Appointments
	if a == nil {
		return nil
	}
	var tenantID int64
	if err := db.NewRaw("SELECT id FROM tenants WHERE slug = ?", m.Slug).Scan(ctx, &tenantID); err != nil {
		return fmt.Errorf("appointments of %s: find the tenant: %w", m.Slug, err)
	}
	sum, err := sectionSum(m)
	if err != nil {
		return err
	}
	var applied string
	offices := map[string]tenancy.ManifestOffice{}
	ids := map[string]int64{}
	err = db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT config_sha256 FROM appointment_settings WHERE tenant_id = ?", tenantID).Scan(&applied)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT id, slug FROM offices WHERE tenant_id = ?", tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var slug string
			if err := rows.Scan(&id, &slug); err != nil {
				return err
			}
			ids[slug] = id
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("appointments of %s: %w", m.Slug, err)
	}
	if applied == sum {
		return nil
	}
	for _, o := range m.Offices {
		offices[o.Slug] = o
	}
	resources := map[string]int64{}
	for _, ao := range a.Offices {
		officeID, ok := ids[ao.Office]
		if !ok {
			return fmt.Errorf("appointments of %s: office %s: %w", m.Slug, ao.Office, ErrNotFound)
		}
		id, err := defineDesks(ctx, eng, tenantID, officeID, m, a, ao, offices[ao.Office])
		if err != nil {
			return fmt.Errorf("appointments of %s: %w", m.Slug, err)
		}
		resources[ao.Office] = id
	}
	if err := applyClosures(ctx, eng, tenantID, a, resources); err != nil {
		return fmt.Errorf("appointments of %s: %w", m.Slug, err)
	}
	err = db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		return writeSection(ctx, tx, tenantID, a, ids, resources, sum)
	})
	if err != nil {
		return fmt.Errorf("appointments of %s: %w", m.Slug, err)
	}
	return nil
}

// sectionSum fingerprints what Apply writes: the section, and the hours
// and names of the offices it draws on.
func sectionSum(m *tenancy.Manifest) (string, error) {
	b, err := json.Marshal(struct {
		A *tenancy.ManifestAppointments
		O []tenancy.ManifestOffice
		L []string
	}{m.Appointments, m.Offices, m.Languages})
	if err != nil {
		return "", fmt.Errorf("appointments of %s: %w", m.Slug, err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// names turns a manifest text into the engine's per-language names.
func names(t tenancy.Text, langs []string) map[string]string {
	out := map[string]string{}
	for _, l := range langs {
		if n := t.In(l); n != "" {
			out[l] = n
		}
	}
	return out
}

func defineDesks(ctx context.Context, eng *booking.Engine, tenantID, officeID int64, m *tenancy.Manifest,
	a *tenancy.ManifestAppointments, ao tenancy.AppointmentOffice, office tenancy.ManifestOffice) (int64, error) {
	slot := a.SlotMinutes
	if ao.SlotMinutes > 0 {
		slot = ao.SlotMinutes
	}
	r, err := eng.DefineResource(ctx, tenantID, booking.Resource{
		Kind: booking.Desk, Slug: resourceSlug(officeID), Name: names(office.Name, m.Languages), OfficeID: officeID,
		Capacity: max(ao.Desks, 1),
		Calendar: booking.Calendar{
			TimeZone: a.Zone(), SlotMinutes: slot, HorizonDays: a.HorizonDays, MinNoticeMinutes: a.MinNoticeMinutes,
			CancelDeadlineMinutes: a.CancelDeadlineHours * 60,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("desks of office %s: %w", ao.Office, err)
	}
	src := ao.Hours
	if len(src) == 0 {
		src = office.Hours
	}
	hours := make([]booking.Hours, 0, len(src))
	for i, h := range src {
		bh := booking.Hours{Name: "hours-" + strconv.Itoa(i+1), Opens: h.Open, Closes: h.Close}
		for _, d := range h.Days {
			bh.Weekdays = append(bh.Weekdays, isoDays[d])
		}
		hours = append(hours, bh)
	}
	if err := eng.SetHours(ctx, tenantID, r.ID, hours); err != nil {
		return 0, fmt.Errorf("hours of office %s: %w", ao.Office, err)
	}
	return r.ID, nil
}

// applyClosures adds the section's closing days the offices do not have
// yet; applying the same closure again adds nothing.
func applyClosures(ctx context.Context, eng *booking.Engine, tenantID int64, a *tenancy.ManifestAppointments, resources map[string]int64) error {
	for _, c := range a.Closures {
		from, _ := time.Parse(time.DateOnly, c.From) // checked by the manifest
		to, _ := time.Parse(time.DateOnly, c.To)
		closed := c.Offices
		if len(closed) == 0 {
			for _, o := range a.Offices {
				closed = append(closed, o.Office)
			}
		}
		for _, office := range closed {
			id := resources[office]
			have, err := eng.Closures(ctx, tenantID, id, from, to)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(have, func(h booking.Closure) bool {
				return h.ResourceID == id && h.From.Equal(from) && h.To.Equal(to) && h.Reason == c.Reason
			}) {
				continue
			}
			if _, err := eng.AddClosure(ctx, tenantID, booking.Closure{ResourceID: id, From: from, To: to, Reason: c.Reason}); err != nil {
				return fmt.Errorf("closure %s..%s of office %s: %w", c.From, c.To, office, err)
			}
		}
	}
	return nil
}

func writeSection(ctx context.Context, tx bun.Tx, tenantID int64, a *tenancy.ManifestAppointments,
	offices, resources map[string]int64, sum string) error {
	topicIDs := map[string]int64{}
	slugs := make([]string, 0, len(a.Topics))
	for i, t := range a.Topics {
		name, err := json.Marshal(t.Name)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO appointment_topics (tenant_id, slug, name, position, active)
			VALUES (?, ?, ?, ?, true)
			ON CONFLICT (tenant_id, slug) DO UPDATE SET name = excluded.name, position = excluded.position, active = true
			RETURNING id`, tenantID, t.ID, string(name), i).Scan(&id); err != nil {
			return fmt.Errorf("store topic %s: %w", t.ID, err)
		}
		topicIDs[t.ID] = id
		slugs = append(slugs, t.ID)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE appointment_topics SET active = false WHERE tenant_id = ? AND slug <> ALL(?)",
		tenantID, pgdialect.Array(slugs)); err != nil {
		return fmt.Errorf("retire topics: %w", err)
	}
	listed := make([]int64, 0, len(a.Offices))
	for i, o := range a.Offices {
		officeID := offices[o.Office]
		listed = append(listed, officeID)
		if _, err := tx.ExecContext(ctx, `INSERT INTO appointment_offices (tenant_id, office_id, resource_id, position, active)
			VALUES (?, ?, ?, ?, true)
			ON CONFLICT (tenant_id, office_id) DO UPDATE SET resource_id = excluded.resource_id, position = excluded.position, active = true`,
			tenantID, officeID, resources[o.Office], i); err != nil {
			return fmt.Errorf("store office %s: %w", o.Office, err)
		}
		// The manifest is the truth for the topics of the offices it lists.
		if _, err := tx.ExecContext(ctx, "DELETE FROM appointment_offerings WHERE tenant_id = ? AND office_id = ?", tenantID, officeID); err != nil {
			return fmt.Errorf("topics of office %s: %w", o.Office, err)
		}
		for _, t := range o.Topics {
			if _, err := tx.ExecContext(ctx, "INSERT INTO appointment_offerings (tenant_id, office_id, topic_id) VALUES (?, ?, ?)",
				tenantID, officeID, topicIDs[t]); err != nil {
				return fmt.Errorf("topic %s of office %s: %w", t, o.Office, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE appointment_offices SET active = false WHERE tenant_id = ? AND office_id <> ALL(?)",
		tenantID, pgdialect.Array(listed)); err != nil {
		return fmt.Errorf("retire offices: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO appointment_settings (tenant_id, anonymous, timezone, config_sha256)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET anonymous = excluded.anonymous, timezone = excluded.timezone,
			config_sha256 = excluded.config_sha256, updated_at = now()`, tenantID, a.Anonymous, a.Zone(), sum)
	if err != nil {
		return fmt.Errorf("store appointment settings: %w", err)
	}
	return nil
}
