package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

func newTenant(t *testing.T, db *pgtest.DB, slug string) int64 {
	t.Helper()
	var id int64
	err := db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRowLevelSecurityIsolatesTenants(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a, b := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	for _, tid := range []int64{a, b} {
		err := db.App.InTenant(ctx, tid, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO offices (tenant_id, slug, name) VALUES (?, 'anagrafe', '{\"it\":\"Anagrafe\"}')", tid)
			return err
		})
		if err != nil {
			t.Fatalf("insert office for tenant %d: %v", tid, err)
		}
	}
	count := func(tx bun.IDB) int {
		var n int
		if err := tx.NewRaw("SELECT count(*) FROM offices").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("no tenant set sees nothing", func(t *testing.T) {
		if n := count(db.App); n != 0 {
			t.Fatalf("app role without a tenant saw %d offices, want 0", n)
		}
	})
	t.Run("each tenant sees only its own", func(t *testing.T) {
		for _, tid := range []int64{a, b} {
			_ = db.App.InTenant(ctx, tid, func(ctx context.Context, tx bun.Tx) error {
				var ids []int64
				if err := tx.NewRaw("SELECT DISTINCT tenant_id FROM offices").Scan(ctx, &ids); err != nil {
					t.Fatal(err)
				}
				if len(ids) != 1 || ids[0] != tid {
					t.Fatalf("tenant %d saw rows of tenants %v", tid, ids)
				}
				return nil
			})
		}
	})
	t.Run("a query naming the other tenant sees nothing", func(t *testing.T) {
		_ = db.App.InTenant(ctx, a, func(ctx context.Context, tx bun.Tx) error {
			var n int
			if err := tx.NewRaw("SELECT count(*) FROM offices WHERE tenant_id = ?", b).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("tenant %d read %d rows of tenant %d", a, n, b)
			}
			return nil
		})
	})
	t.Run("writing into the other tenant is refused", func(t *testing.T) {
		err := db.App.InTenant(ctx, a, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO offices (tenant_id, slug, name) VALUES (?, 'x', '{}')", b)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "row-level security") {
			t.Fatalf("cross-tenant insert: got %v, want a row-level security violation", err)
		}
	})
	t.Run("the setting does not outlive its transaction", func(t *testing.T) {
		conn, err := db.App.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "SELECT set_config('sportello.tenant_id', ?, true)", strconv.FormatInt(a, 10)); err != nil {
			_ = tx.Rollback()
			t.Fatal(err)
		}
		_ = tx.Commit()
		if n := count(conn); n != 0 {
			t.Fatalf("after commit the same connection saw %d offices", n)
		}
	})
	t.Run("a one-round-trip read sees its tenant's rows, and the setting ends with it", func(t *testing.T) {
		// One connection, so that the next query surely runs where the
		// setting was made.
		one, err := store.Open(ctx, db.AppURL, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer one.Close()
		for _, tc := range []struct {
			tenant, named int64
			want          int
		}{{a, a, 1}, {b, b, 1}, {a, b, 0}, {b, a, 0}} {
			row, err := one.QueryRowInTenant(ctx, tc.tenant, "SELECT count(*) FROM offices WHERE tenant_id = ?", tc.named)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := row.Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Fatalf("in tenant %d, %d offices of tenant %d; want %d", tc.tenant, n, tc.named, tc.want)
			}
			if n := count(one); n != 0 {
				t.Fatalf("after the read the connection still saw %d offices", n)
			}
		}
		if _, err := one.QueryRowInTenant(ctx, 0, "SELECT 1"); !errors.Is(err, store.ErrNoTenant) {
			t.Fatalf("no tenant: %v", err)
		}
	})
	t.Run("no tenant is an error, not a query", func(t *testing.T) {
		err := db.App.InTenant(ctx, 0, func(context.Context, bun.Tx) error { return nil })
		if !errors.Is(err, store.ErrNoTenant) {
			t.Fatalf("got %v, want ErrNoTenant", err)
		}
	})
}

func TestAppRoleIsNeitherOwnerNorSuperuser(t *testing.T) {
	db := pg.NewDB(t)
	var super, bypass bool
	if err := db.App.NewRaw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").Scan(context.Background(), &super, &bypass); err != nil {
		t.Fatal(err)
	}
	if super || bypass {
		t.Fatalf("app role: superuser=%v bypassrls=%v", super, bypass)
	}
	var owned int
	if err := db.App.NewRaw("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user").Scan(context.Background(), &owned); err != nil {
		t.Fatal(err)
	}
	if owned != 0 {
		t.Fatalf("app role owns %d tables", owned)
	}
}

// Every table with a tenant_id column must have row-level security forced.
func TestEveryTenantTableHasRowLevelSecurity(t *testing.T) {
	db := pg.NewDB(t)
	var missing []string
	err := db.Owner.NewRaw(`
		SELECT c.relname FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
		JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
		WHERE c.relkind = 'r' AND c.relname NOT IN ('tenant_domains')
		  AND NOT (c.relrowsecurity AND c.relforcerowsecurity
		           AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))`).Scan(context.Background(), &missing)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("tenant-owned tables without row-level security: %v", missing)
	}
}

func TestFailingMigrationLeavesSchemaAsItWas(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	bad := fstest.MapFS{
		"0900_half.sql": {Data: []byte("CREATE TABLE half_done (id int); SELECT no_such_function();")},
	}
	if _, err := store.Migrate(ctx, db.Owner, bad); err == nil {
		t.Fatal("a failing migration reported success")
	}
	var exists bool
	if err := db.Owner.NewRaw("SELECT to_regclass('half_done') IS NOT NULL").Scan(ctx, &exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("the failing migration's first statement stayed applied")
	}
	var recorded bool
	_ = db.Owner.NewRaw("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = 900)").Scan(ctx, &recorded)
	if recorded {
		t.Fatal("the failing migration was recorded as applied")
	}
}

func TestMigrationNamesAreChecked(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":  {"1_x.sql": {Data: []byte("SELECT 1")}},
		"duplicate": {"0001_a.sql": {Data: []byte("SELECT 1")}, "0001_b.sql": {Data: []byte("SELECT 1")}},
	} {
		if _, err := store.LoadMigrations(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
