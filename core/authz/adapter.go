package authz

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/policies"
)

// ErrUnsupported is returned by adapter operations that would touch every
// tenant at once (SavePolicy) or that rules are not managed by.
var ErrUnsupported = errors.New("not supported by the sportello policy adapter")

// Filter selects the one tenant an Adapter loads.
type Filter struct {
	TenantID int64
}

// Adapter is a casbin adapter on the shared database. It only ever loads one
// tenant: the default grants of policies/, that tenant's casbin_rules and its
// staff's role assignments from user_roles, all read through row-level
// security.
type Adapter struct {
	db       *store.DB
	defaults [][]string
}

var (
	_ persist.FilteredAdapter        = (*Adapter)(nil)
	_ persist.ContextFilteredAdapter = (*Adapter)(nil)
)

// NewAdapter returns an adapter reading db with the app role.
func NewAdapter(db *store.DB) (*Adapter, error) {
	rules, err := policies.DefaultRules()
	if err != nil {
		return nil, err
	}
	return &Adapter{db: db, defaults: rules}, nil
}

// Domain is the casbin domain of a tenant.
func Domain(tenantID int64) string { return strconv.FormatInt(tenantID, 10) }

// LoadPolicy loads nothing: all tenants at once is never what we want.
func (a *Adapter) LoadPolicy(model.Model) error { return nil }

// LoadPolicyCtx loads nothing, like LoadPolicy.
func (a *Adapter) LoadPolicyCtx(context.Context, model.Model) error { return nil }

// IsFiltered is always true, so casbin neither loads nor saves everything.
func (a *Adapter) IsFiltered() bool { return true }

// IsFilteredCtx is always true, like IsFiltered.
func (a *Adapter) IsFilteredCtx(context.Context) bool { return true }

// LoadFilteredPolicy loads one tenant; filter is a Filter. Prefer
// LoadFilteredPolicyCtx, which can be cancelled.
func (a *Adapter) LoadFilteredPolicy(m model.Model, filter any) error {
	return a.LoadFilteredPolicyCtx(context.Background(), m, filter)
}

// LoadFilteredPolicyCtx loads the default grants, the tenant's own rules and
// its staff's roles into m.
func (a *Adapter) LoadFilteredPolicyCtx(ctx context.Context, m model.Model, filter any) error {
	var f Filter
	switch v := filter.(type) {
	case Filter:
		f = v
	case *Filter:
		if v != nil {
			f = *v
		}
	default:
		return fmt.Errorf("load policies: filter is %T, want authz.Filter", filter)
	}
	if f.TenantID <= 0 {
		return fmt.Errorf("load policies: %w", store.ErrNoTenant)
	}
	dom := Domain(f.TenantID)
	for _, r := range a.defaults {
		rule := append([]string(nil), r...)
		// casbin's role manager compares domains literally, so a default
		// role link holds in this tenant only if it says so.
		if rule[0] == "g" && rule[3] == "*" {
			rule[3] = dom
		}
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return fmt.Errorf("load default rule %v: %w", r, err)
		}
	}
	err := a.db.InTenant(ctx, f.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var rows []ruleRow
		if err := tx.NewRaw(
			"SELECT id, ptype, v0, v1, v2, v3 FROM casbin_rules WHERE tenant_id = ? ORDER BY id",
			f.TenantID).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read casbin_rules: %w", err)
		}
		for _, r := range rows {
			// A tenant's row speaks for that tenant only, whatever domain
			// it carries: the domain is set here, not trusted from the row.
			var rule []string
			switch r.PType {
			case "p":
				rule = []string{"p", r.V0, dom, r.V2, r.V3}
			case "g":
				rule = []string{"g", r.V0, r.V1, dom}
			default:
				continue
			}
			if err := persist.LoadPolicyArray(rule, m); err != nil {
				return fmt.Errorf("load rule %d: %w", r.ID, err)
			}
		}
		var roles []struct {
			UserID int64  `bun:"user_id"`
			Role   string `bun:"role"`
		}
		if err := tx.NewRaw("SELECT user_id, role FROM user_roles WHERE tenant_id = ? ORDER BY user_id, role",
			f.TenantID).Scan(ctx, &roles); err != nil {
			return fmt.Errorf("read user_roles: %w", err)
		}
		for _, r := range roles {
			if err := persist.LoadPolicyArray([]string{"g", UserSubject(r.UserID), r.Role, dom}, m); err != nil {
				return fmt.Errorf("load role %s of user %d: %w", r.Role, r.UserID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load policies of tenant %d: %w", f.TenantID, err)
	}
	return nil
}

// SavePolicy is unsupported: the model holds defaults and one tenant, and
// rules are stored one at a time.
func (a *Adapter) SavePolicy(model.Model) error { return ErrUnsupported }

// SavePolicyCtx is unsupported, like SavePolicy.
func (a *Adapter) SavePolicyCtx(context.Context, model.Model) error { return ErrUnsupported }

// AddPolicy stores a tenant rule; see AddPolicyCtx.
func (a *Adapter) AddPolicy(sec, ptype string, rule []string) error {
	return a.AddPolicyCtx(context.Background(), sec, ptype, rule)
}

// AddPolicyCtx stores a rule of the tenant named by the rule's domain
// (p: sub, dom, obj, act; g: user, role, dom). A rule already stored is no
// error. Rules for domain "*" belong in policies/default.csv and are refused.
func (a *Adapter) AddPolicyCtx(ctx context.Context, sec, ptype string, rule []string) error {
	tenantID, row, err := toRow(ptype, rule)
	if err != nil {
		return err
	}
	err = a.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO casbin_rules (tenant_id, ptype, v0, v1, v2, v3)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, ptype, v0, v1, v2, v3, v4, v5) DO NOTHING`,
			tenantID, row.PType, row.V0, row.V1, row.V2, row.V3)
		return err
	})
	if err != nil {
		return fmt.Errorf("store %s rule %v of tenant %d: %w", ptype, rule, tenantID, err)
	}
	return nil
}

// RemovePolicy deletes a tenant rule; see RemovePolicyCtx.
func (a *Adapter) RemovePolicy(sec, ptype string, rule []string) error {
	return a.RemovePolicyCtx(context.Background(), sec, ptype, rule)
}

// RemovePolicyCtx deletes the stored rule equal to rule, if there is one.
func (a *Adapter) RemovePolicyCtx(ctx context.Context, sec, ptype string, rule []string) error {
	tenantID, row, err := toRow(ptype, rule)
	if err != nil {
		return err
	}
	err = a.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM casbin_rules
			WHERE tenant_id = ? AND ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ?`,
			tenantID, row.PType, row.V0, row.V1, row.V2, row.V3)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove %s rule %v of tenant %d: %w", ptype, rule, tenantID, err)
	}
	return nil
}

// RemoveFilteredPolicy is unsupported: tenant rules are removed by id
// (Authorizer.RemovePolicy).
func (a *Adapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return ErrUnsupported
}

// RemoveFilteredPolicyCtx is unsupported, like RemoveFilteredPolicy.
func (a *Adapter) RemoveFilteredPolicyCtx(context.Context, string, string, int, ...string) error {
	return ErrUnsupported
}

type ruleRow struct {
	ID    int64  `bun:"id"`
	PType string `bun:"ptype"`
	V0    string `bun:"v0"`
	V1    string `bun:"v1"`
	V2    string `bun:"v2"`
	V3    string `bun:"v3"`
}

// toRow maps a casbin rule to its row and the tenant its domain names.
func toRow(ptype string, rule []string) (int64, ruleRow, error) {
	var dom string
	row := ruleRow{PType: ptype}
	switch {
	case ptype == "p" && len(rule) == 4:
		dom = rule[1]
		row.V0, row.V1, row.V2, row.V3 = rule[0], rule[1], rule[2], rule[3]
	case ptype == "g" && len(rule) == 3:
		dom = rule[2]
		row.V0, row.V1, row.V2 = rule[0], rule[1], rule[2]
	default:
		return 0, row, fmt.Errorf("%w: %s rule %v", ErrInvalidRule, ptype, rule)
	}
	id, err := strconv.ParseInt(dom, 10, 64)
	if err != nil || id <= 0 || Domain(id) != dom {
		return 0, row, fmt.Errorf("%w: domain %q of %s rule %v is no tenant", ErrInvalidRule, dom, ptype, rule)
	}
	return id, row, nil
}
