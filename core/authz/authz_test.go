package authz_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/authz"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/policies"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

var ctx = context.Background()

func newTenant(t testing.TB, db *pgtest.DB, slug string) int64 {
	t.Helper()
	var id int64
	if err := db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newUser adds a staff user with roles to the tenant and returns its subject.
func newUser(t testing.TB, db *pgtest.DB, tenantID int64, name string, roles ...string) string {
	t.Helper()
	var id int64
	err := db.App.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw("INSERT INTO users (tenant_id, email, name) VALUES (?, ?, ?) RETURNING id",
			tenantID, fmt.Sprintf("%s@t%d.example", name, tenantID), name).Scan(ctx, &id); err != nil {
			return err
		}
		for _, r := range roles {
			if _, err := tx.ExecContext(ctx, "INSERT INTO user_roles (tenant_id, user_id, role) VALUES (?, ?, ?)", tenantID, id, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return authz.UserSubject(id)
}

// storeRule writes a rule behind the Authorizer's back, as another app
// instance would.
func storeRule(t testing.TB, db *pgtest.DB, tenantID int64, role, object, action string) {
	t.Helper()
	err := db.App.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO casbin_rules (tenant_id, ptype, v0, v1, v2, v3) VALUES (?, 'p', ?, ?, ?, ?)",
			tenantID, role, authz.Domain(tenantID), object, action)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func newAuthorizer(t testing.TB, db *store.DB, opts authz.Options) *authz.Authorizer {
	t.Helper()
	a, err := authz.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustEnforce(t testing.TB, a *authz.Authorizer, tenantID int64, sub, obj, act string) bool {
	t.Helper()
	ok, err := a.Enforce(ctx, tenantID, sub, obj, act)
	if err != nil {
		t.Fatalf("Enforce(%d, %s, %s, %s): %v", tenantID, sub, obj, act, err)
	}
	return ok
}

func TestDefaultGrants(t *testing.T) {
	db := pg.NewDB(t)
	tid := newTenant(t, db, "alpha")
	subjects := map[string]string{
		"citizen":        authz.CitizenSubject(41),
		"operator":       newUser(t, db, tid, "op", authz.RoleOperator),
		"office_manager": newUser(t, db, tid, "om", authz.RoleOfficeManager),
		"tenant_admin":   newUser(t, db, tid, "ta", authz.RoleTenantAdmin),
		"platform_admin": authz.PlatformSubject(7),
		"no role":        newUser(t, db, tid, "nobody"),
	}
	a := newAuthorizer(t, db.App, authz.Options{})

	tests := []struct {
		who, obj, act string
		want          bool
	}{
		{"citizen", "portal", "read", true},
		{"citizen", "portal", "write", false},
		{"citizen", "profile", "write", true},
		{"citizen", "requests/12", "read", true},
		{"citizen", "requests/12/attachments/3", "write", true},
		{"citizen", "requests", "read", false},
		{"citizen", "backoffice/requests/12", "read", false},
		{"citizen", "admin/branding", "read", false},

		{"operator", "portal", "read", true},
		{"operator", "profile", "write", true},
		{"operator", "backoffice/requests/12", "write", true},
		{"operator", "backoffice/queue/next", "write", true},
		{"operator", "backoffice/office/hours", "read", true},
		{"operator", "backoffice/office/hours", "write", false},
		{"operator", "requests/12", "write", false},
		{"operator", "admin/branding", "read", false},
		{"operator", "admin/policies", "write", false},

		{"office_manager", "backoffice/requests/12", "write", true}, // inherited from operator
		{"office_manager", "backoffice/office/hours", "write", true},
		{"office_manager", "admin/policies", "read", false},

		{"tenant_admin", "backoffice/requests/12", "write", true}, // two levels up
		{"tenant_admin", "backoffice/office/staff", "write", true},
		{"tenant_admin", "admin/branding", "write", true},
		{"tenant_admin", "admin/policies", "write", true},
		{"tenant_admin", "platform/tenants", "read", false},

		{"platform_admin", "platform/tenants", "write", true},
		{"platform_admin", "admin/policies", "write", true},
		{"platform_admin", "anything/at/all", "delete", true},

		{"no role", "portal", "read", false},
		{"no role", "backoffice/requests/12", "read", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tt.who, tt.act, tt.obj), func(t *testing.T) {
			if got := mustEnforce(t, a, tid, subjects[tt.who], tt.obj, tt.act); got != tt.want {
				t.Errorf("%s (%s) %s %s = %v, want %v", tt.who, subjects[tt.who], tt.act, tt.obj, got, tt.want)
			}
		})
	}

	t.Run("roles", func(t *testing.T) {
		for who, want := range map[string][]string{
			"citizen":        {"citizen"},
			"operator":       {"operator"},
			"tenant_admin":   {"office_manager", "operator", "tenant_admin"},
			"platform_admin": {"office_manager", "operator", "platform_admin", "tenant_admin"},
			"no role":        {},
		} {
			got, err := a.Roles(ctx, tid, subjects[who])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Roles(%s) = %v, want %v", who, got, want)
			}
		}
	})
}

func TestDenyByDefault(t *testing.T) {
	db := pg.NewDB(t)
	tid := newTenant(t, db, "alpha")
	admin := newUser(t, db, tid, "ta", authz.RoleTenantAdmin)
	a := newAuthorizer(t, db.App, authz.Options{})

	for _, tt := range []struct{ name, sub, obj, act string }{
		{"unknown user", authz.UserSubject(987654), "portal", "read"},
		{"unknown role", "mayor", "portal", "read"},
		{"unknown object", admin, "secrets", "read"},
		{"unknown action", admin, "admin/branding", "delete"},
		{"empty object", admin, "", "read"},
		{"empty action", admin, "admin/branding", ""},
		{"object above a wildcard", admin, "admin", "read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if mustEnforce(t, a, tid, tt.sub, tt.obj, tt.act) {
				t.Errorf("%s %s %s allowed", tt.sub, tt.act, tt.obj)
			}
		})
	}

	// A subject that could read as a pattern must not reach casbin at all.
	for _, sub := range []string{"", "*", "user:*", "user:", "user:0", "user:007", "citizen:-1", "robot:1", "Operator", "user:1 OR 1"} {
		t.Run("malformed subject "+sub, func(t *testing.T) {
			ok, err := a.Enforce(ctx, tid, sub, "portal", "read")
			if ok || !errors.Is(err, authz.ErrInvalidSubject) {
				t.Errorf("Enforce(%q) = %v, %v; want false, ErrInvalidSubject", sub, ok, err)
			}
		})
	}

	t.Run("no tenant", func(t *testing.T) {
		ok, err := a.Enforce(ctx, 0, admin, "portal", "read")
		if ok || !errors.Is(err, store.ErrNoTenant) {
			t.Errorf("Enforce in tenant 0 = %v, %v; want false, ErrNoTenant", ok, err)
		}
	})
}

func TestTenantRuleGrantsOnlyInItsTenant(t *testing.T) {
	db := pg.NewDB(t)
	ta, tb := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	opA := newUser(t, db, ta, "op", authz.RoleOperator)
	opB := newUser(t, db, tb, "op", authz.RoleOperator)
	a := newAuthorizer(t, db.App, authz.Options{})

	if mustEnforce(t, a, ta, opA, "reports/monthly", "read") {
		t.Fatal("operator reads reports before any rule grants it")
	}
	if err := a.AddPolicy(ctx, ta, authz.RoleOperator, "reports/*", authz.ActionRead); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPolicy(ctx, ta, authz.RoleOperator, "reports/*", authz.ActionRead); err != nil {
		t.Fatalf("adding the same rule again: %v", err)
	}
	if !mustEnforce(t, a, ta, opA, "reports/monthly", "read") {
		t.Error("tenant rule does not grant in its tenant")
	}
	if mustEnforce(t, a, ta, opA, "reports/monthly", "write") {
		t.Error("read rule grants write")
	}
	if mustEnforce(t, a, tb, opB, "reports/monthly", "read") {
		t.Error("tenant alpha's rule grants in tenant beta")
	}

	rulesA, err := a.Policies(ctx, ta)
	if err != nil {
		t.Fatal(err)
	}
	if len(rulesA) != 1 || rulesA[0].Role != "operator" || rulesA[0].Object != "reports/*" || rulesA[0].Action != "read" || rulesA[0].ID == 0 {
		t.Errorf("Policies(alpha) = %+v, want the one rule", rulesA)
	}
	if rulesB, err := a.Policies(ctx, tb); err != nil || len(rulesB) != 0 {
		t.Errorf("Policies(beta) = %+v, %v; want none", rulesB, err)
	}

	t.Run("remove", func(t *testing.T) {
		if err := a.RemovePolicy(ctx, tb, rulesA[0].ID); !errors.Is(err, authz.ErrNotFound) {
			t.Errorf("tenant beta removing alpha's rule: %v, want ErrNotFound", err)
		}
		if !mustEnforce(t, a, ta, opA, "reports/monthly", "read") {
			t.Fatal("alpha's rule gone after beta's attempt")
		}
		if err := a.RemovePolicy(ctx, ta, rulesA[0].ID); err != nil {
			t.Fatal(err)
		}
		if mustEnforce(t, a, ta, opA, "reports/monthly", "read") {
			t.Error("removed rule still grants")
		}
		if err := a.RemovePolicy(ctx, ta, rulesA[0].ID); !errors.Is(err, authz.ErrNotFound) {
			t.Errorf("removing twice: %v, want ErrNotFound", err)
		}
	})
}

// The "on another tenant" test: roles held in one town give nothing in another.
func TestRolesGiveNothingOnAnotherTenant(t *testing.T) {
	db := pg.NewDB(t)
	ta, tb := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	admin := newUser(t, db, ta, "ta", authz.RoleTenantAdmin)
	operator := newUser(t, db, ta, "op", authz.RoleOperator)
	a := newAuthorizer(t, db.App, authz.Options{})
	if err := a.AddPolicy(ctx, ta, authz.RoleOperator, "reports/*", authz.ActionWrite); err != nil {
		t.Fatal(err)
	}

	for _, sub := range []string{admin, operator} {
		for _, obj := range []string{"portal", "profile", "backoffice/requests/1", "backoffice/office/hours", "admin/policies", "reports/monthly"} {
			for _, act := range []string{"read", "write"} {
				if mustEnforce(t, a, tb, sub, obj, act) {
					t.Errorf("%s of alpha may %s %s in beta", sub, act, obj)
				}
			}
		}
		if roles, err := a.Roles(ctx, tb, sub); err != nil || len(roles) != 0 {
			t.Errorf("Roles of %s in beta = %v, %v; want none", sub, roles, err)
		}
	}
	if !mustEnforce(t, a, ta, admin, "admin/policies", "write") {
		t.Error("alpha's admin lost admin/policies in alpha")
	}
}

func TestFilteredLoadHoldsOneTenant(t *testing.T) {
	db := pg.NewDB(t)
	var tenants []int64
	users := map[int64]string{}
	for i := range 50 {
		tid := newTenant(t, db, fmt.Sprintf("town%02d", i))
		tenants = append(tenants, tid)
		users[tid] = newUser(t, db, tid, "op", authz.RoleOperator, authz.RoleOfficeManager)
		storeRule(t, db, tid, "operator", fmt.Sprintf("reports/town%02d", i), "read")
		storeRule(t, db, tid, "clerk", "archive/*", "write")
	}
	defaults, err := policies.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	var defaultP, defaultG int
	for _, r := range defaults {
		if r[0] == "p" {
			defaultP++
		} else {
			defaultG++
		}
	}

	adapter, err := authz.NewAdapter(db.App)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.NewModelFromString(policies.Model())
	if err != nil {
		t.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m, adapter)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := e.GetPolicy(); len(p) != 0 {
		t.Fatalf("enforcer holds %d rules before any filtered load", len(p))
	}
	one := tenants[17]
	dom := authz.Domain(one)
	if err := e.LoadFilteredPolicy(authz.Filter{TenantID: one}); err != nil {
		t.Fatal(err)
	}

	p, _ := e.GetPolicy()
	if len(p) != defaultP+2 {
		t.Errorf("enforcer holds %d p rules, want %d defaults + 2 of the tenant", len(p), defaultP)
	}
	for _, r := range p {
		if r[1] != "*" && r[1] != dom {
			t.Errorf("p rule %v of another tenant loaded", r)
		}
	}
	g, _ := e.GetGroupingPolicy()
	if len(g) != defaultG+2 {
		t.Errorf("enforcer holds %d g rules, want %d defaults + 2 role grants", len(g), defaultG)
	}
	for _, r := range g {
		if r[2] != dom {
			t.Errorf("g rule %v not bound to tenant %s", r, dom)
		}
		if r[0] != users[one] && r[0] != "office_manager" && r[0] != "tenant_admin" && r[0] != "platform_admin" {
			t.Errorf("g rule %v names another tenant's user", r)
		}
	}
	if ok, _ := e.Enforce(users[one], dom, "reports/town17", "read"); !ok {
		t.Error("loaded tenant's rule does not apply")
	}
	if ok, _ := e.Enforce(users[one], dom, "reports/town18", "read"); ok {
		t.Error("another tenant's rule applies")
	}

	t.Run("save refused", func(t *testing.T) {
		if err := e.SavePolicy(); err == nil {
			t.Error("SavePolicy of a filtered load succeeded")
		}
		if err := adapter.SavePolicy(m); !errors.Is(err, authz.ErrUnsupported) {
			t.Errorf("adapter SavePolicy: %v, want ErrUnsupported", err)
		}
	})
	t.Run("adapter refuses rules for every tenant", func(t *testing.T) {
		if err := adapter.AddPolicy("p", "p", []string{"operator", "*", "x/*", "read"}); !errors.Is(err, authz.ErrInvalidRule) {
			t.Errorf("AddPolicy for domain *: %v, want ErrInvalidRule", err)
		}
	})
}

func TestInvalidRulesRefused(t *testing.T) {
	db := pg.NewDB(t)
	tid := newTenant(t, db, "alpha")
	a := newAuthorizer(t, db.App, authz.Options{})

	long := "a"
	for len(long) <= 128 {
		long += "/b"
	}
	for _, tt := range []struct{ name, role, obj, act string }{
		{"empty role", "", "reports/*", "read"},
		{"role with capitals", "Operator", "reports/*", "read"},
		{"role too short", "x", "reports/*", "read"},
		{"role too long", "r2345678901234567890123456789012x", "reports/*", "read"},
		{"role as principal", "user:1", "reports/*", "read"},
		{"role as pattern", "citizen*", "reports/*", "read"},
		{"platform role", "platform_admin", "reports/*", "read"},
		{"empty object", "operator", "", "read"},
		{"everything", "operator", "*", "read"},
		{"leading slash", "operator", "/reports", "read"},
		{"regular expression", "operator", "reports/(.*)", "read"},
		{"dot dot", "operator", "reports/../admin", "read"},
		{"wildcard mid path", "operator", "reports/*/x", "read"},
		{"platform object", "operator", "platform/tenants", "read"},
		{"platform root", "operator", "platform", "read"},
		{"object too long", "operator", long, "read"},
		{"comma", "operator", "reports,admin", "read"},
		{"unknown action", "operator", "reports/*", "delete"},
		{"any action", "operator", "reports/*", "*"},
		{"empty action", "operator", "reports/*", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := a.AddPolicy(ctx, tid, tt.role, tt.obj, tt.act)
			if !errors.Is(err, authz.ErrInvalidRule) {
				t.Errorf("AddPolicy(%q, %q, %q) = %v, want ErrInvalidRule", tt.role, tt.obj, tt.act, err)
			}
		})
	}
	if rules, err := a.Policies(ctx, tid); err != nil || len(rules) != 0 {
		t.Errorf("after refused rules, Policies = %+v, %v; want none", rules, err)
	}

	for _, tt := range []struct{ role, obj, act string }{
		{"operator", "reports/*", "read"},
		{"clerk", "archive/:year/files", "write"},
		{"citizen", "services/tari-2024", "read"},
	} {
		if err := a.AddPolicy(ctx, tid, tt.role, tt.obj, tt.act); err != nil {
			t.Errorf("valid rule %v refused: %v", tt, err)
		}
	}
	if err := a.AddPolicy(ctx, 0, "operator", "reports/*", "read"); !errors.Is(err, store.ErrNoTenant) {
		t.Errorf("AddPolicy without tenant: %v, want ErrNoTenant", err)
	}
}

// fakeClock is a clock the test moves; safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestCache(t *testing.T) {
	db := pg.NewDB(t)
	ta, tb, tc := newTenant(t, db, "alpha"), newTenant(t, db, "beta"), newTenant(t, db, "gamma")
	op := map[int64]string{}
	for _, tid := range []int64{ta, tb, tc} {
		op[tid] = newUser(t, db, tid, "op", authz.RoleOperator)
	}
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	a := newAuthorizer(t, db.App, authz.Options{CacheSize: 2, MaxAge: time.Minute, Now: clock.Now})
	reads := func(tid int64) bool { return mustEnforce(t, a, tid, op[tid], "reports/x", "read") }

	// Cache alpha then beta; then change all three behind the cache's back.
	reads(ta)
	reads(tb)
	for _, tid := range []int64{ta, tb, tc} {
		storeRule(t, db, tid, "operator", "reports/*", "read")
	}
	if reads(ta) || reads(tb) {
		t.Fatal("cached enforcers already see the new rules: nothing is cached")
	}

	t.Run("eviction", func(t *testing.T) {
		// Loading gamma evicts the least recently used, alpha (beta was
		// used after it); using beta again leaves alpha the one to reload.
		reads(tb)
		if !reads(tc) {
			t.Fatal("gamma, loaded afresh, misses its rule")
		}
		if reads(tb) {
			t.Error("beta was reloaded though still cached")
		}
		if !reads(ta) {
			t.Error("alpha was not evicted: it still misses its rule")
		}
	})

	t.Run("invalidate", func(t *testing.T) {
		if reads(tb) {
			t.Fatal("beta already fresh")
		}
		a.Invalidate(tb)
		if !reads(tb) {
			t.Error("Invalidate did not reload beta")
		}
	})

	t.Run("role change after invalidate", func(t *testing.T) {
		if mustEnforce(t, a, tb, op[tb], "admin/branding", "write") {
			t.Fatal("operator writes admin before promotion")
		}
		err := db.App.InTenant(ctx, tb, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO user_roles (tenant_id, user_id, role) SELECT tenant_id, id, 'tenant_admin' FROM users WHERE tenant_id = ?", tb)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		a.Invalidate(tb)
		if !mustEnforce(t, a, tb, op[tb], "admin/branding", "write") {
			t.Error("promotion not seen after Invalidate")
		}
	})

	t.Run("staleness bound", func(t *testing.T) {
		storeRule(t, db, tb, "operator", "archive/*", "read")
		archive := func() bool { return mustEnforce(t, a, tb, op[tb], "archive/2024", "read") }
		if archive() {
			t.Fatal("cached enforcer already sees the new rule")
		}
		clock.Advance(59 * time.Second)
		if archive() {
			t.Error("reloaded before MaxAge")
		}
		clock.Advance(2 * time.Second)
		if !archive() {
			t.Error("not reloaded after MaxAge")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	db := pg.NewDB(t)
	const n = 6
	var tenants []int64
	op := map[int64]string{}
	for i := range n {
		tid := newTenant(t, db, fmt.Sprintf("town%d", i))
		tenants = append(tenants, tid)
		op[tid] = newUser(t, db, tid, "op", authz.RoleOperator)
	}
	// A cache smaller than the tenants keeps loads and evictions going.
	a := newAuthorizer(t, db.App, authz.Options{CacheSize: 3})

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 60 {
				tid := tenants[(g+i)%n]
				other := tenants[(g+i+1)%n]
				switch i % 10 {
				case 3:
					a.Invalidate(tid)
				case 7:
					if err := a.AddPolicy(ctx, tid, "clerk", fmt.Sprintf("archive/g%d", g), "read"); err != nil {
						errs <- err
						return
					}
				case 9:
					if roles, err := a.Roles(ctx, tid, authz.CitizenSubject(int64(i+1))); err != nil || !slices.Equal(roles, []string{"citizen"}) {
						errs <- fmt.Errorf("Roles of a citizen = %v, %v", roles, err)
						return
					}
				}
				ok, err := a.Enforce(ctx, tid, op[tid], "backoffice/requests/1", "write")
				if err != nil || !ok {
					errs <- fmt.Errorf("operator in own tenant %d: %v, %v", tid, ok, err)
					return
				}
				ok, err = a.Enforce(ctx, other, op[tid], "backoffice/requests/1", "write")
				if err != nil || ok {
					errs <- fmt.Errorf("operator of %d in tenant %d: %v, %v", tid, other, ok, err)
					return
				}
				if ok, err := a.Enforce(ctx, tid, authz.CitizenSubject(int64(i+1)), "requests/5", "write"); err != nil || !ok {
					errs <- fmt.Errorf("citizen in tenant %d: %v, %v", tid, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestWaitingCallerMayGiveUp(t *testing.T) {
	db := pg.NewDB(t)
	tid := newTenant(t, db, "alpha")
	a := newAuthorizer(t, db.App, authz.Options{})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Enforce(cctx, tid, authz.CitizenSubject(1), "portal", "read"); !errors.Is(err, context.Canceled) {
		// The load may win the race against the cancelled context; only a
		// different error is wrong.
		if err != nil {
			t.Fatalf("Enforce with a cancelled context: %v", err)
		}
	}
	// The abandoned load still serves the next caller.
	if !mustEnforce(t, a, tid, authz.CitizenSubject(1), "portal", "read") {
		t.Error("citizen may not read the portal after an abandoned load")
	}
}
