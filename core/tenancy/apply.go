package tenancy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/sportello/sportello/core/store"
)

// NotifyChannel carries the slug of a tenant that changed, so that every
// app instance refreshes its registry.
const NotifyChannel = "sportello_tenants"

// Passwords hashes staff passwords; authn provides it.
type Passwords interface {
	Hash(password string) (string, error)
	Verify(password, hash string) bool
}

// ErrConflict is a manifest that clashes with another tenant's data, such
// as a domain already taken.
var ErrConflict = errors.New("conflicts with another tenant")

// ApplyResult says what Apply did.
type ApplyResult struct {
	TenantID int64
	Created  bool
	Changed  bool
}

// Apply creates or updates the tenant described by m in one transaction:
// all of it is applied or none. It adds and updates; it never deletes
// offices, staff or services that the manifest no longer lists, since staff
// may have added them in the back office. Applying an unchanged manifest
// writes nothing.
func Apply(ctx context.Context, db *store.DB, pw Passwords, m *Manifest) (ApplyResult, error) {
	var res ApplyResult
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var cur struct {
			ID  int64
			Sum string
		}
		err := tx.NewRaw("SELECT id, manifest_sha256 FROM tenants WHERE slug = ? FOR UPDATE", m.Slug).Scan(ctx, &cur.ID, &cur.Sum)
		switch {
		case err == nil && cur.Sum == m.SHA256:
			res.TenantID = cur.ID
			return nil
		case err == nil:
			res.TenantID = cur.ID
		case isNoRows(err):
			res.Created = true
		default:
			return fmt.Errorf("look up tenant %s: %w", m.Slug, err)
		}
		res.Changed = true
		if err := upsertTenant(ctx, tx, m, &res); err != nil {
			return err
		}
		if err := store.SetTenant(ctx, tx, res.TenantID); err != nil {
			return err
		}
		if err := syncDomains(ctx, tx, res.TenantID, m.Domains); err != nil {
			return err
		}
		offices, err := upsertOffices(ctx, tx, res.TenantID, m.Offices)
		if err != nil {
			return err
		}
		if err := upsertStaff(ctx, tx, pw, res.TenantID, m.Staff, offices); err != nil {
			return err
		}
		if err := upsertServices(ctx, tx, res.TenantID, m.Services); err != nil {
			return err
		}
		action := "tenant.update"
		if res.Created {
			action = "tenant.create"
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO audit_log (tenant_id, actor, action, object, details) VALUES (?, 'manifest', ?, ?, ?)",
			res.TenantID, action, "tenant:"+m.Slug, jsonOf(map[string]string{"sha256": m.SHA256})); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		_, err = tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", NotifyChannel, m.Slug)
		return err
	})
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply tenant %s: %w", m.Slug, err)
	}
	return res, nil
}

func upsertTenant(ctx context.Context, tx bun.Tx, m *Manifest, res *ApplyResult) error {
	var logo any
	if m.Logo != nil {
		logo = m.Logo
	}
	q := `INSERT INTO tenants (slug, name, languages, branding, citizen_login, logo, logo_type, manifest_sha256)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (slug) DO UPDATE SET name = excluded.name, languages = excluded.languages,
			branding = excluded.branding, citizen_login = excluded.citizen_login, logo = excluded.logo,
			logo_type = excluded.logo_type, manifest_sha256 = excluded.manifest_sha256, updated_at = now()
		RETURNING id`
	err := tx.NewRaw(q, m.Slug, m.Name, pgdialect.Array(m.Languages), jsonOf(m.Branding), jsonOf(m.CitizenLogin),
		logo, m.LogoType, m.SHA256).Scan(ctx, &res.TenantID)
	if err != nil {
		return fmt.Errorf("save tenant: %w", err)
	}
	return nil
}

func syncDomains(ctx context.Context, tx bun.Tx, tenantID int64, domains []string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM tenant_domains WHERE tenant_id = ? AND domain <> ALL(?)", tenantID, pgdialect.Array(domains)); err != nil {
		return fmt.Errorf("remove old domains: %w", err)
	}
	for _, d := range domains {
		var owner int64
		err := tx.NewRaw(`INSERT INTO tenant_domains (domain, tenant_id) VALUES (?, ?)
			ON CONFLICT (domain) DO UPDATE SET domain = excluded.domain RETURNING tenant_id`, d, tenantID).Scan(ctx, &owner)
		if err != nil {
			return fmt.Errorf("add domain %s: %w", d, err)
		}
		if owner != tenantID {
			return fmt.Errorf("domain %s: %w", d, ErrConflict)
		}
	}
	return nil
}

func upsertOffices(ctx context.Context, tx bun.Tx, tenantID int64, offices []ManifestOffice) (map[string]int64, error) {
	ids := map[string]int64{}
	for _, o := range offices {
		var id int64
		err := tx.NewRaw(`INSERT INTO offices (tenant_id, slug, name, address, phone, email, hours)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, slug) DO UPDATE SET name = excluded.name, address = excluded.address,
				phone = excluded.phone, email = excluded.email, hours = excluded.hours
			RETURNING id`, tenantID, o.Slug, jsonOf(o.Name), o.Address, o.Phone, o.Email, jsonOf(nonNil(o.Hours))).Scan(ctx, &id)
		if err != nil {
			return nil, fmt.Errorf("save office %s: %w", o.Slug, err)
		}
		ids[o.Slug] = id
	}
	return ids, nil
}

func upsertStaff(ctx context.Context, tx bun.Tx, pw Passwords, tenantID int64, staff []ManifestStaff, offices map[string]int64) error {
	for _, s := range staff {
		email := strings.ToLower(strings.TrimSpace(s.Email))
		var cur struct {
			ID   int64
			Hash string
		}
		err := tx.NewRaw("SELECT id, password_hash FROM users WHERE tenant_id = ? AND email = ?", tenantID, email).Scan(ctx, &cur.ID, &cur.Hash)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("look up staff %s: %w", email, err)
		}
		hash := cur.Hash
		switch {
		case s.PasswordHash != "":
			hash = s.PasswordHash
		case s.Password != "" && (hash == "" || !pw.Verify(s.Password, hash)):
			if hash, err = pw.Hash(s.Password); err != nil {
				return fmt.Errorf("hash password of %s: %w", email, err)
			}
		}
		if cur.ID == 0 {
			err = tx.NewRaw("INSERT INTO users (tenant_id, email, name, password_hash) VALUES (?, ?, ?, ?) RETURNING id",
				tenantID, email, s.Name, hash).Scan(ctx, &cur.ID)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE users SET name = ?, password_hash = ? WHERE tenant_id = ? AND id = ?", s.Name, hash, tenantID, cur.ID)
		}
		if err != nil {
			return fmt.Errorf("save staff %s: %w", email, err)
		}
		// The manifest is the truth for the roles and offices of the staff it lists.
		if _, err := tx.ExecContext(ctx, "DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ? AND role <> ALL(?)", tenantID, cur.ID, pgdialect.Array(s.Roles)); err != nil {
			return fmt.Errorf("roles of %s: %w", email, err)
		}
		for _, r := range s.Roles {
			if _, err := tx.ExecContext(ctx, "INSERT INTO user_roles (tenant_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", tenantID, cur.ID, r); err != nil {
				return fmt.Errorf("role %s of %s: %w", r, email, err)
			}
		}
		officeIDs := make([]int64, 0, len(s.Offices))
		for _, o := range s.Offices {
			officeIDs = append(officeIDs, offices[o])
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM user_offices WHERE tenant_id = ? AND user_id = ? AND office_id <> ALL(?)", tenantID, cur.ID, pgdialect.Array(officeIDs)); err != nil {
			return fmt.Errorf("offices of %s: %w", email, err)
		}
		for _, id := range officeIDs {
			if _, err := tx.ExecContext(ctx, "INSERT INTO user_offices (tenant_id, user_id, office_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", tenantID, cur.ID, id); err != nil {
				return fmt.Errorf("office of %s: %w", email, err)
			}
		}
	}
	return nil
}

func upsertServices(ctx context.Context, tx bun.Tx, tenantID int64, services []ManifestService) error {
	for _, s := range services {
		cfg := s.Config
		if cfg == nil {
			cfg = map[string]any{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_services (tenant_id, service_id, enabled, state, config) VALUES (?, ?, true, 'published', ?)
			ON CONFLICT (tenant_id, service_id) DO UPDATE SET enabled = true, state = 'published', config = excluded.config`,
			tenantID, s.ID, jsonOf(cfg)); err != nil {
			return fmt.Errorf("enable service %s: %w", s.ID, err)
		}
	}
	return nil
}

// jsonOf marshals v for a jsonb parameter. The inputs are plain structs and
// maps decoded from YAML, so marshalling cannot fail.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tenancy: marshal %T: %v", v, err))
	}
	return string(b)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
