package authn_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/core/authn"
)

func TestEphemeral(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	clk := newClock()
	eph := authn.NewEphemeral(db.App, clk.Now)

	t.Run("put then take, once", func(t *testing.T) {
		if err := eph.Put(ctx, "k", []byte("v1"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := eph.Put(ctx, "k", []byte("v2"), time.Minute); err != nil {
			t.Fatal(err)
		}
		v, err := eph.Take(ctx, "k")
		if err != nil || string(v) != "v2" {
			t.Fatalf("got %q, %v; want v2", v, err)
		}
		if _, err := eph.Take(ctx, "k"); !errors.Is(err, authn.ErrNotFound) {
			t.Fatalf("second take: %v", err)
		}
	})
	t.Run("missing and expired", func(t *testing.T) {
		if _, err := eph.Take(ctx, "never"); !errors.Is(err, authn.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		_ = eph.Put(ctx, "short", []byte("v"), time.Minute)
		clk.Advance(time.Minute)
		if _, err := eph.Take(ctx, "short"); !errors.Is(err, authn.ErrNotFound) {
			t.Fatalf("expired: %v", err)
		}
		if n := count(t, db, "SELECT count(*) FROM ephemeral WHERE key = 'short'"); n != 0 {
			t.Fatal("the expired row stayed")
		}
	})
	t.Run("empty value", func(t *testing.T) {
		_ = eph.Put(ctx, "empty", nil, time.Minute)
		if v, err := eph.Take(ctx, "empty"); err != nil || len(v) != 0 {
			t.Fatalf("got %q, %v", v, err)
		}
	})
	t.Run("take is single-use under concurrency", func(t *testing.T) {
		for round := range 5 {
			_ = eph.Put(ctx, "race", []byte("prize"), time.Minute)
			var wg sync.WaitGroup
			var winners atomic.Int32
			for range 16 {
				wg.Go(func() {
					v, err := eph.Take(ctx, "race")
					switch {
					case err == nil && string(v) == "prize":
						winners.Add(1)
					case !errors.Is(err, authn.ErrNotFound):
						t.Errorf("take: %q, %v", v, err)
					}
				})
			}
			wg.Wait()
			if n := winners.Load(); n != 1 {
				t.Fatalf("round %d: %d takers got the value, want 1", round, n)
			}
		}
	})
}

func TestEphemeralStorage(t *testing.T) {
	db := pg.NewDB(t)
	clk := newClock()
	csrf, err := authn.NewEphemeralStorage(db.App, "csrf:", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := authn.NewEphemeralStorage(db.App, "other:", clk.Now)
	if _, err := authn.NewEphemeralStorage(db.App, "", nil); err == nil {
		t.Fatal("empty prefix accepted")
	}

	if v, err := csrf.Get("missing"); v != nil || err != nil {
		t.Fatalf("missing key: %q, %v; want nil, nil", v, err)
	}
	if err := csrf.Set("a", []byte("1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := csrf.Set("forever", []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	if err := csrf.Set("", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := csrf.Set("nothing", nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	_ = other.Set("a", []byte("mine"), time.Hour)

	for _, tc := range []struct {
		s    *authn.EphemeralStorage
		key  string
		want []byte
	}{
		{csrf, "a", []byte("1")},
		{csrf, "forever", []byte("2")},
		{csrf, "nothing", nil},
		{other, "a", []byte("mine")},
	} {
		if v, err := tc.s.Get(tc.key); err != nil || !bytes.Equal(v, tc.want) {
			t.Errorf("Get(%q) = %q, %v; want %q", tc.key, v, err, tc.want)
		}
	}

	clk.Advance(time.Hour)
	if v, _ := csrf.Get("a"); v != nil {
		t.Fatalf("expired key: %q", v)
	}
	clk.Advance(100 * 365 * 24 * time.Hour)
	if v, _ := csrf.Get("forever"); string(v) != "2" {
		t.Fatalf("a key without expiry expired: %q", v)
	}

	_ = csrf.Set("b", []byte("3"), time.Hour)
	if err := csrf.Delete("b"); err != nil {
		t.Fatal(err)
	}
	if err := csrf.Delete("b"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if v, _ := csrf.Get("b"); v != nil {
		t.Fatalf("deleted key: %q", v)
	}

	_ = other.Set("kept", []byte("x"), time.Hour)
	if err := csrf.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM ephemeral WHERE key LIKE 'csrf:%'"); n != 0 {
		t.Fatalf("%d keys left after Reset", n)
	}
	if v, _ := other.Get("kept"); string(v) != "x" {
		t.Fatal("Reset cleared another prefix's keys")
	}
	if err := csrf.Close(); err != nil {
		t.Fatal(err)
	}
}
