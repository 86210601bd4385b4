// Package authz decides who may do what in a tenant: casbin RBAC with
// domains, one domain per tenant (policies/ holds the model and the default
// grants, casbin_rules each tenant's own rules, user_roles its staff's roles).
//
// An Authorizer keeps one enforcer per tenant, loaded with that tenant's
// rules only, in a bounded cache: 8,000 tenants must not mean 8,000 tenants'
// rules in every enforcer nor every enforcer in memory.
package authz

import (
	"container/list"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/policies"
)

// Options tune an Authorizer; zero values take the defaults.
type Options struct {
	// CacheSize is how many tenants' enforcers are kept (default 1024).
	CacheSize int
	// MaxAge is how long an enforcer is trusted before it is reloaded, the
	// bound on how late another app instance's role or rule change shows up
	// here (default 60 s).
	MaxAge time.Duration
	// LoadTimeout bounds loading one tenant's rules (default 10 s).
	LoadTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Authorizer answers authorization questions per tenant. It is safe for
// concurrent use.
type Authorizer struct {
	db          *store.DB
	adapter     *Adapter
	size        int
	maxAge      time.Duration
	loadTimeout time.Duration
	now         func() time.Time

	mu      sync.Mutex
	lru     *list.List              // of *cached, most recently used first
	cached  map[int64]*list.Element // tenant id → element of lru
	loading map[int64]*load         // tenant id → load in progress
}

type cached struct {
	tenantID int64
	enf      *casbin.SyncedEnforcer
	loadedAt time.Time
}

// load is one tenant's load in progress; whoever needs that tenant
// meanwhile waits for it instead of loading again.
type load struct {
	done chan struct{}
	enf  *casbin.SyncedEnforcer
	err  error
}

// New returns an Authorizer reading rules and roles from db, which must be
// the app role's pool so that row-level security applies.
func New(db *store.DB, opts Options) (*Authorizer, error) {
	if _, err := model.NewModelFromString(policies.Model()); err != nil {
		return nil, fmt.Errorf("parse policies/model.conf: %w", err)
	}
	adapter, err := NewAdapter(db)
	if err != nil {
		return nil, err
	}
	a := &Authorizer{
		db:          db,
		adapter:     adapter,
		size:        opts.CacheSize,
		maxAge:      opts.MaxAge,
		loadTimeout: opts.LoadTimeout,
		now:         opts.Now,
		lru:         list.New(),
		cached:      map[int64]*list.Element{},
		loading:     map[int64]*load{},
	}
	if a.size <= 0 {
		a.size = 1024
	}
	if a.maxAge <= 0 {
		a.maxAge = 60 * time.Second
	}
	if a.loadTimeout <= 0 {
		a.loadTimeout = 10 * time.Second
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// Enforce reports whether subject may do action on object in the tenant.
// subject is UserSubject, CitizenSubject, PlatformSubject or a role name.
func (a *Authorizer) Enforce(ctx context.Context, tenantID int64, subject, object, action string) (bool, error) {
	sub, err := casbinSubject(subject)
	if err != nil {
		return false, fmt.Errorf("enforce in tenant %d: %w", tenantID, err)
	}
	e, err := a.enforcer(ctx, tenantID)
	if err != nil {
		return false, err
	}
	ok, err := e.Enforce(sub, Domain(tenantID), object, action)
	if err != nil {
		return false, fmt.Errorf("enforce %s %s %s in tenant %d: %w", subject, action, object, tenantID, err)
	}
	return ok, nil
}

// Roles are the roles subject holds in the tenant, inherited ones included,
// sorted.
func (a *Authorizer) Roles(ctx context.Context, tenantID int64, subject string) ([]string, error) {
	sub, err := casbinSubject(subject)
	if err != nil {
		return nil, fmt.Errorf("roles in tenant %d: %w", tenantID, err)
	}
	e, err := a.enforcer(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	roles, err := e.GetImplicitRolesForUser(sub, Domain(tenantID))
	if err != nil {
		return nil, fmt.Errorf("roles of %s in tenant %d: %w", subject, tenantID, err)
	}
	if sub != subject && roleName.MatchString(sub) {
		roles = append(roles, sub) // the one role a citizen or platform subject stands for
	}
	slices.Sort(roles)
	return slices.Compact(roles), nil
}

// Policies are the tenant's own rules (the defaults of policies/ left out),
// read from the database, not the cache.
func (a *Authorizer) Policies(ctx context.Context, tenantID int64) ([]Rule, error) {
	var rules []Rule
	err := a.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var rows []ruleRow
		if err := tx.NewRaw("SELECT id, ptype, v0, v1, v2, v3 FROM casbin_rules WHERE tenant_id = ? AND ptype = 'p' ORDER BY id",
			tenantID).Scan(ctx, &rows); err != nil {
			return err
		}
		rules = make([]Rule, 0, len(rows))
		for _, r := range rows {
			rules = append(rules, Rule{ID: r.ID, Role: r.V0, Object: r.V2, Action: r.V3})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list policies of tenant %d: %w", tenantID, err)
	}
	return rules, nil
}

// AddPolicy grants role action on object in the tenant. An invalid rule is
// refused with an error wrapping ErrInvalidRule; adding a rule twice is no
// error.
func (a *Authorizer) AddPolicy(ctx context.Context, tenantID int64, role, object, action string) error {
	if tenantID <= 0 {
		return fmt.Errorf("add policy: %w", store.ErrNoTenant)
	}
	if err := validateRule(role, object, action); err != nil {
		return fmt.Errorf("add policy to tenant %d: %w", tenantID, err)
	}
	err := a.adapter.AddPolicyCtx(ctx, "p", "p", []string{role, Domain(tenantID), object, action})
	a.Invalidate(tenantID)
	return err
}

// RemovePolicy deletes one of the tenant's own rules; ErrNotFound if the
// tenant has no rule ruleID.
func (a *Authorizer) RemovePolicy(ctx context.Context, tenantID, ruleID int64) error {
	err := a.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM casbin_rules WHERE tenant_id = ? AND id = ? AND ptype = 'p'", tenantID, ruleID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove policy %d of tenant %d: %w", ruleID, tenantID, err)
	}
	a.Invalidate(tenantID)
	return nil
}

// Invalidate drops the tenant's enforcer, so the next check reloads it. Call
// it after changing the tenant's roles; AddPolicy and RemovePolicy call it
// themselves. Other app instances see the change within Options.MaxAge.
func (a *Authorizer) Invalidate(tenantID int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if el, ok := a.cached[tenantID]; ok {
		a.lru.Remove(el)
		delete(a.cached, tenantID)
	}
	// A load already running may have read the rows before the change: its
	// result still goes to those waiting for it but is not cached.
	delete(a.loading, tenantID)
}

// enforcer returns the tenant's enforcer, loading it if it is not cached or
// too old.
func (a *Authorizer) enforcer(ctx context.Context, tenantID int64) (*casbin.SyncedEnforcer, error) {
	if tenantID <= 0 {
		return nil, store.ErrNoTenant
	}
	a.mu.Lock()
	if el, ok := a.cached[tenantID]; ok {
		c := el.Value.(*cached)
		if a.now().Sub(c.loadedAt) < a.maxAge {
			a.lru.MoveToFront(el)
			a.mu.Unlock()
			return c.enf, nil
		}
		a.lru.Remove(el)
		delete(a.cached, tenantID)
	}
	l, ok := a.loading[tenantID]
	if !ok {
		l = &load{done: make(chan struct{})}
		a.loading[tenantID] = l
		go a.load(ctx, tenantID, l)
	}
	a.mu.Unlock()

	select {
	case <-l.done:
		return l.enf, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("load policies of tenant %d: %w", tenantID, ctx.Err())
	}
}

// load runs apart from the caller that started it, so that the caller
// giving up does not fail the others waiting for the same tenant.
func (a *Authorizer) load(ctx context.Context, tenantID int64, l *load) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.loadTimeout)
	defer cancel()
	// Age counts from before the read: a change committed during the load
	// may be missing, and must not outlive MaxAge either.
	started := a.now()
	enf, err := a.newEnforcer(ctx, tenantID)

	a.mu.Lock()
	if a.loading[tenantID] == l {
		delete(a.loading, tenantID)
		if err == nil {
			a.cached[tenantID] = a.lru.PushFront(&cached{tenantID: tenantID, enf: enf, loadedAt: started})
			for a.lru.Len() > a.size {
				old := a.lru.Back()
				a.lru.Remove(old)
				delete(a.cached, old.Value.(*cached).tenantID)
			}
		}
	}
	a.mu.Unlock()

	l.enf, l.err = enf, err
	close(l.done)
}

func (a *Authorizer) newEnforcer(ctx context.Context, tenantID int64) (*casbin.SyncedEnforcer, error) {
	m, err := model.NewModelFromString(policies.Model())
	if err != nil {
		return nil, fmt.Errorf("parse policies/model.conf: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, a.adapter)
	if err != nil {
		return nil, fmt.Errorf("policies of tenant %d: %w", tenantID, err)
	}
	// The cached enforcer is only read; changes go to the database and
	// invalidate it.
	e.EnableAutoSave(false)
	if err := e.LoadFilteredPolicyCtx(ctx, Filter{TenantID: tenantID}); err != nil {
		return nil, err
	}
	return e, nil
}
