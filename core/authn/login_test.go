package authn_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/authn"
)

func TestLoginStaff(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a, b := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	uid := newUser(t, db, a, "anna@comune.example", "segreto-lungo")
	newUser(t, db, b, "anna@comune.example", "altro-segreto")
	auth := authn.New(db.App, nil, authn.Options{})

	for _, tc := range []struct {
		name     string
		tenant   int64
		email    string
		password string
		want     error
	}{
		{"right password", a, "anna@comune.example", "segreto-lungo", nil},
		{"e-mail is trimmed and lowered", a, "  Anna@Comune.EXAMPLE ", "segreto-lungo", nil},
		{"wrong password", a, "anna@comune.example", "segreto", authn.ErrBadCredentials},
		{"unknown e-mail", a, "nobody@comune.example", "segreto-lungo", authn.ErrBadCredentials},
		{"the other tenant's password", a, "anna@comune.example", "altro-segreto", authn.ErrBadCredentials},
		{"password of tenant a on tenant b", b, "anna@comune.example", "segreto-lungo", authn.ErrBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := auth.LoginStaff(ctx, tc.tenant, tc.email, tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %d, %v; want %v", id, err, tc.want)
			}
			if tc.want == nil && id != uid {
				t.Fatalf("logged in as user %d, want %d", id, uid)
			}
		})
	}

	t.Run("an account without a password cannot log in", func(t *testing.T) {
		_ = db.App.InTenant(ctx, a, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO users (tenant_id, email, name) VALUES (?, 'nopass@comune.example', 'x')", a)
			return err
		})
		if _, err := auth.LoginStaff(ctx, a, "nopass@comune.example", ""); !errors.Is(err, authn.ErrBadCredentials) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no tenant", func(t *testing.T) {
		if _, err := auth.LoginStaff(ctx, 0, "anna@comune.example", "segreto-lungo"); err == nil {
			t.Fatal("logged in without a tenant")
		}
	})
}

func TestLoginPlatform(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	uid := newPlatformUser(t, db, "ops@sportello.example", "piattaforma")
	auth := authn.New(db.App, nil, authn.Options{})
	if id, err := auth.LoginPlatform(ctx, "OPS@sportello.example", "piattaforma"); err != nil || id != uid {
		t.Fatalf("got %d, %v; want %d", id, err, uid)
	}
	if _, err := auth.LoginPlatform(ctx, "ops@sportello.example", "nope"); !errors.Is(err, authn.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := auth.LoginPlatform(ctx, "ghost@sportello.example", "piattaforma"); !errors.Is(err, authn.ErrBadCredentials) {
		t.Fatalf("unknown e-mail: %v", err)
	}
}

// fail makes n failed staff logins.
func fail(t *testing.T, auth *authn.Authenticator, tenantID int64, email string, n int) {
	t.Helper()
	for i := range n {
		if _, err := auth.LoginStaff(context.Background(), tenantID, email, "wrong"); !errors.Is(err, authn.ErrBadCredentials) {
			t.Fatalf("failure %d: got %v, want ErrBadCredentials", i+1, err)
		}
	}
}

func TestLockOut(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a, b := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	const email, password = "luca@comune.example", "password-giusta"
	newUser(t, db, a, email, password)
	newUser(t, db, b, email, password)
	clk := newClock()
	auth := authn.New(db.App, clk.Now, authn.Options{})
	login := func(tenant int64) error { _, err := auth.LoginStaff(ctx, tenant, email, password); return err }

	t.Run("ten failures lock the account, even for the right password", func(t *testing.T) {
		fail(t, auth, a, email, authn.MaxFailedLogins-1)
		clk.Advance(time.Minute)
		fail(t, auth, a, email, 1)
		lockedAt := clk.Now()
		clk.Advance(5 * time.Minute)
		err := login(a)
		var locked *authn.LockedError
		if !errors.As(err, &locked) || !errors.Is(err, authn.ErrLocked) {
			t.Fatalf("got %v, want a LockedError", err)
		}
		if want := lockedAt.Add(authn.LockDuration); !locked.Until.Equal(want) {
			t.Fatalf("locked until %v, want %v", locked.Until, want)
		}
		if _, err := auth.LoginStaff(ctx, a, email, "wrong"); !errors.Is(err, authn.ErrLocked) {
			t.Fatalf("a guess while locked: %v, want ErrLocked", err)
		}
	})
	t.Run("the lock is the account's, not the e-mail's across tenants", func(t *testing.T) {
		if err := login(b); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the lock expires and a success clears the record", func(t *testing.T) {
		clk.Advance(authn.LockDuration)
		if err := login(a); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		n := count(t, db, "SELECT count(*) FROM users WHERE tenant_id = ? AND failed_logins = 0 AND first_failed_at IS NULL AND locked_until IS NULL", a)
		if n != 1 {
			t.Fatal("a success left the failure record")
		}
	})
	t.Run("a success resets the count", func(t *testing.T) {
		fail(t, auth, a, email, authn.MaxFailedLogins-1)
		if err := login(a); err != nil {
			t.Fatal(err)
		}
		fail(t, auth, a, email, authn.MaxFailedLogins-1)
		if err := login(a); err != nil {
			t.Fatalf("nine failures after a success locked: %v", err)
		}
	})
	t.Run("failures spread over more than the window do not lock", func(t *testing.T) {
		fail(t, auth, a, email, authn.MaxFailedLogins-1)
		clk.Advance(authn.FailureWindow)
		fail(t, auth, a, email, authn.MaxFailedLogins-1)
		if err := login(a); err != nil {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("platform accounts lock too", func(t *testing.T) {
		newPlatformUser(t, db, "ops@sportello.example", password)
		for range authn.MaxFailedLogins {
			_, _ = auth.LoginPlatform(ctx, "ops@sportello.example", "wrong")
		}
		if _, err := auth.LoginPlatform(ctx, "ops@sportello.example", password); !errors.Is(err, authn.ErrLocked) {
			t.Fatalf("got %v, want ErrLocked", err)
		}
	})
}

// Guesses sent all at once must not slip past the limit: each is counted
// before its password is checked.
func TestLockOutHoldsUnderParallelGuesses(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a := newTenant(t, db, "alpha")
	newUser(t, db, a, "luca@comune.example", "password-giusta")
	auth := authn.New(db.App, newClock().Now, authn.Options{})
	const guesses = 30
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		checked int
	)
	for range guesses {
		wg.Go(func() {
			_, err := auth.LoginStaff(ctx, a, "luca@comune.example", "wrong")
			if errors.Is(err, authn.ErrBadCredentials) {
				mu.Lock()
				checked++
				mu.Unlock()
			} else if !errors.Is(err, authn.ErrLocked) {
				t.Errorf("guess: %v", err)
			}
		})
	}
	wg.Wait()
	if checked != authn.MaxFailedLogins {
		t.Fatalf("%d of %d parallel guesses were checked, want %d", checked, guesses, authn.MaxFailedLogins)
	}
}

func TestLoginRehashesOldHashes(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a := newTenant(t, db, "alpha")
	old, _ := argon2id.CreateHash("pw", &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	_ = db.App.InTenant(ctx, a, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO users (tenant_id, email, name, password_hash) VALUES (?, 'old@comune.example', 'x', ?)", a, old)
		return err
	})
	auth := authn.New(db.App, nil, authn.Options{})
	if _, err := auth.LoginStaff(ctx, a, "old@comune.example", "pw"); err != nil {
		t.Fatal(err)
	}
	var now string
	_ = db.Owner.NewRaw("SELECT password_hash FROM users WHERE email = 'old@comune.example'").Scan(ctx, &now)
	if now == old || !strings.Contains(now, "m=19456") || authn.NeedsRehash(now) {
		t.Fatalf("hash after login: %s", now)
	}
	if _, err := auth.LoginStaff(ctx, a, "old@comune.example", "pw"); err != nil {
		t.Fatalf("login with the new hash: %v", err)
	}
}
