package authn

import (
	"context"
	"testing"

	"github.com/uptrace/bun"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

func TestScratch(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	var a, b int64
	db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES ('a','a','{it}') RETURNING id").Scan(ctx, &a)
	db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES ('b','b','{it}') RETURNING id").Scan(ctx, &b)
	for _, tid := range []int64{a, b} {
		err := db.App.InTenant(ctx, tid, func(ctx context.Context, tx bun.Tx) error {
			var c int64
			if err := tx.NewRaw("INSERT INTO citizens (tenant_id, issuer, subject) VALUES (?, 'i', 's') RETURNING id", tid).Scan(ctx, &c); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO sessions (tenant_id, id, citizen_id, expires_at) VALUES (?, 'old', ?, now() - interval '1 hour'), (?, 'new', ?, now() + interval '1 hour')", tid, c, tid, c)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.App.NewRaw("SELECT count(*) FROM sessions").Scan(ctx, &n)
	t.Log("visible without tenant", n)
	r, err := db.App.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < now() RETURNING id")
	if err != nil { t.Log(err) } else { k, _ := r.RowsAffected(); t.Log("delete with where", k) }
	r, err = db.App.ExecContext(ctx, "DELETE FROM sessions")
	if err != nil { t.Fatal(err) }
	k, _ := r.RowsAffected()
	t.Log("plain delete", k)
	db.Owner.NewRaw("SELECT count(*) FROM sessions").Scan(ctx, &n)
	t.Log("left", n)
}
