package open311_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/core/open311"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

var ctx = context.Background()

func tenant(t *testing.T, db *pgtest.DB, slug string) int64 {
	t.Helper()
	var id int64
	err := db.Owner.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(ctx, &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// lastUsed is when key id was last marked used; the zero time for never.
func lastUsed(t *testing.T, db *pgtest.DB, id int64) time.Time {
	t.Helper()
	var at sql.NullTime
	if err := db.Owner.NewRaw("SELECT last_used_at FROM open311_api_keys WHERE id = ?", id).Scan(ctx, &at); err != nil {
		t.Fatal(err)
	}
	return at.Time
}

func TestCheck(t *testing.T) {
	db := pg.NewDB(t)
	keys := open311.NewKeys(db.App)
	venezia, trezzo := tenant(t, db, "venezia"), tenant(t, db, "trezzo")
	key, id, err := keys.Issue(ctx, venezia, "an app")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := keys.Issue(ctx, trezzo, "another app")
	if err != nil {
		t.Fatal(err)
	}
	revoked, revokedID, err := keys.Issue(ctx, venezia, "an old app")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(ctx, venezia, revokedID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, key string
		want      error
	}{
		{"no key", "  ", open311.ErrKeyMissing},
		{"not a key", "secret", open311.ErrKeyUnknown},
		{"never issued", "o311_" + key[len("o311_")+1:], open311.ErrKeyUnknown},
		{"revoked", revoked, open311.ErrKeyUnknown},
		{"another town's", other, open311.ErrKeyOtherTown},
	} {
		if err := keys.Check(ctx, venezia, tc.key); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if !lastUsed(t, db, id).IsZero() {
		t.Fatal("a key refused elsewhere was marked used")
	}

	// The first use is recorded; uses within the minute leave it as it is.
	if err := keys.Check(ctx, venezia, " "+key+" "); err != nil {
		t.Fatal(err)
	}
	first := lastUsed(t, db, id)
	if first.IsZero() {
		t.Fatal("the key was not marked used")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := keys.Check(ctx, venezia, key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := lastUsed(t, db, id); !got.Equal(first) {
		t.Fatalf("marked used again within the minute: %v, then %v", first, got)
	}

	// A use after more than a minute is recorded again.
	if _, err := db.Owner.ExecContext(ctx, "UPDATE open311_api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	stale := lastUsed(t, db, id)
	if err := keys.Check(ctx, venezia, key); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(t, db, id); !got.After(stale.Add(time.Minute)) {
		t.Fatalf("a use after two minutes left last_used_at at %v (was %v)", got, stale)
	}

	// The key is the town's alone.
	if err := keys.Check(ctx, trezzo, key); !errors.Is(err, open311.ErrKeyOtherTown) {
		t.Fatalf("Venice's key in Trezzo: %v", err)
	}
}
