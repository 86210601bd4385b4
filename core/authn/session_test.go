package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/core/authn"
)

func TestSessions(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a, b := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	user := authn.Subject{UserID: newUser(t, db, a, "anna@comune.example", "pw")}
	citizen := authn.Subject{CitizenID: newCitizen(t, db, a, "mario")}
	clk := newClock()
	auth := authn.New(db.App, clk.Now, authn.Options{})

	for name, subj := range map[string]authn.Subject{"staff": user, "citizen": citizen} {
		t.Run(name, func(t *testing.T) {
			token, expires, err := auth.NewSession(ctx, a, subj)
			if err != nil {
				t.Fatal(err)
			}
			if want := clk.Now().Add(authn.IdleTimeout); !expires.Equal(want) {
				t.Fatalf("expires %v, want %v", expires, want)
			}
			s, err := auth.Session(ctx, a, token)
			if err != nil {
				t.Fatal(err)
			}
			if s.TenantID != a || s.Subject != subj {
				t.Fatalf("session %+v, want tenant %d subject %+v", s, a, subj)
			}
			if n := count(t, db, "SELECT count(*) FROM sessions WHERE id = ?", token); n != 0 {
				t.Fatal("the table holds the token itself")
			}
			if err := auth.EndSession(ctx, a, token); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.Session(ctx, a, token); !errors.Is(err, authn.ErrNoSession) {
				t.Fatalf("after logout: %v", err)
			}
		})
	}

	t.Run("a session is not found on another tenant", func(t *testing.T) {
		token, _, err := auth.NewSession(ctx, a, user)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Session(ctx, b, token); !errors.Is(err, authn.ErrNoSession) {
			t.Fatalf("tenant %d found tenant %d's session: %v", b, a, err)
		}
		if err := auth.EndSession(ctx, b, token); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Session(ctx, a, token); err != nil {
			t.Fatalf("logout on tenant %d ended tenant %d's session: %v", b, a, err)
		}
	})
	t.Run("a subject of another tenant is refused", func(t *testing.T) {
		if _, _, err := auth.NewSession(ctx, b, user); err == nil {
			t.Fatal("tenant b got a session for tenant a's user")
		}
	})
	t.Run("bad subjects and tokens", func(t *testing.T) {
		for _, subj := range []authn.Subject{{}, {UserID: user.UserID, CitizenID: citizen.CitizenID}} {
			if _, _, err := auth.NewSession(ctx, a, subj); err == nil {
				t.Errorf("subject %+v accepted", subj)
			}
		}
		for _, token := range []string{"", "short", "not base64 at all, but long enough to be a token.", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			if _, err := auth.Session(ctx, a, token); !errors.Is(err, authn.ErrNoSession) {
				t.Errorf("token %q: %v", token, err)
			}
		}
	})
	t.Run("login rotates the token", func(t *testing.T) {
		before, _, err := auth.NewSession(ctx, a, citizen)
		if err != nil {
			t.Fatal(err)
		}
		after, _, err := auth.RotateSession(ctx, a, before, user)
		if err != nil {
			t.Fatal(err)
		}
		if after == before {
			t.Fatal("same token after login")
		}
		if _, err := auth.Session(ctx, a, before); !errors.Is(err, authn.ErrNoSession) {
			t.Fatalf("the pre-login token still works: %v", err)
		}
		if s, err := auth.Session(ctx, a, after); err != nil || s.Subject != user {
			t.Fatalf("new token: %+v, %v", s, err)
		}
		if _, _, err := auth.RotateSession(ctx, a, "never-issued", user); err != nil {
			t.Fatalf("rotating from an unknown token: %v", err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a := newTenant(t, db, "alpha")
	user := authn.Subject{UserID: newUser(t, db, a, "anna@comune.example", "pw")}
	clk := newClock()
	auth := authn.New(db.App, clk.Now, authn.Options{})
	seenAt := func(token string) time.Time {
		t.Helper()
		var seen time.Time
		if err := db.Owner.NewRaw("SELECT seen_at FROM sessions WHERE id = encode(sha256(?::bytea), 'hex')", token).Scan(ctx, &seen); err != nil {
			t.Fatal(err)
		}
		return seen
	}

	t.Run("idle for the timeout ends it and deletes the row", func(t *testing.T) {
		token, _, _ := auth.NewSession(ctx, a, user)
		clk.Advance(authn.IdleTimeout)
		if _, err := auth.Session(ctx, a, token); !errors.Is(err, authn.ErrNoSession) {
			t.Fatalf("after %v idle: %v", authn.IdleTimeout, err)
		}
		if n := count(t, db, "SELECT count(*) FROM sessions WHERE id = encode(sha256(?::bytea), 'hex')", token); n != 0 {
			t.Fatal("the expired row stayed")
		}
	})
	t.Run("use slides the expiry, at most once a minute", func(t *testing.T) {
		token, _, _ := auth.NewSession(ctx, a, user)
		created := clk.Now()
		clk.Advance(30 * time.Second)
		if _, err := auth.Session(ctx, a, token); err != nil {
			t.Fatal(err)
		}
		if got := seenAt(token); !got.Equal(created) {
			t.Fatalf("renewed after 30s: seen_at %v, want %v", got, created)
		}
		clk.Advance(authn.IdleTimeout - time.Minute) // 29.5 minutes after login
		s, err := auth.Session(ctx, a, token)
		if err != nil {
			t.Fatal(err)
		}
		if got := seenAt(token); !got.Equal(clk.Now()) {
			t.Fatalf("not renewed: seen_at %v, want %v", got, clk.Now())
		}
		if want := clk.Now().Add(authn.IdleTimeout); !s.ExpiresAt.Equal(want) {
			t.Fatalf("expires %v, want %v", s.ExpiresAt, want)
		}
		clk.Advance(authn.IdleTimeout - time.Minute) // past the first expiry
		if _, err := auth.Session(ctx, a, token); err != nil {
			t.Fatalf("an active session expired: %v", err)
		}
	})
	t.Run("an active session still ends at the maximum age", func(t *testing.T) {
		token, _, _ := auth.NewSession(ctx, a, user)
		end := clk.Now().Add(authn.MaxSessionAge)
		for clk.Now().Add(20 * time.Minute).Before(end) {
			clk.Advance(20 * time.Minute)
			if _, err := auth.Session(ctx, a, token); err != nil {
				t.Fatalf("active session ended early at %v: %v", clk.Now(), err)
			}
		}
		s, _ := auth.Session(ctx, a, token)
		if !s.ExpiresAt.Equal(end) {
			t.Fatalf("near the end, expires %v, want %v", s.ExpiresAt, end)
		}
		clk.Advance(end.Sub(clk.Now()))
		if _, err := auth.Session(ctx, a, token); !errors.Is(err, authn.ErrNoSession) {
			t.Fatalf("after %v: %v", authn.MaxSessionAge, err)
		}
	})
}

func TestPlatformSessions(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	uid := newPlatformUser(t, db, "ops@sportello.example", "pw")
	clk := newClock()
	auth := authn.New(db.App, clk.Now, authn.Options{})

	token, _, err := auth.NewPlatformSession(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := auth.PlatformSession(ctx, token); err != nil || s.UserID != uid {
		t.Fatalf("got %+v, %v", s, err)
	}
	clk.Advance(20 * time.Minute)
	if _, err := auth.PlatformSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Minute)
	if _, err := auth.PlatformSession(ctx, token); err != nil {
		t.Fatalf("renewed session expired: %v", err)
	}
	rotated, _, err := auth.RotatePlatformSession(ctx, token, uid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.PlatformSession(ctx, token); !errors.Is(err, authn.ErrNoSession) {
		t.Fatalf("pre-login token: %v", err)
	}
	clk.Advance(authn.IdleTimeout)
	if _, err := auth.PlatformSession(ctx, rotated); !errors.Is(err, authn.ErrNoSession) {
		t.Fatalf("idle session: %v", err)
	}
	if n := count(t, db, "SELECT count(*) FROM platform_sessions"); n != 0 {
		t.Fatalf("%d rows left", n)
	}
	last, _, _ := auth.NewPlatformSession(ctx, uid)
	if err := auth.EndPlatformSession(ctx, last); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.PlatformSession(ctx, last); !errors.Is(err, authn.ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestPurgeExpired(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	tenants := []int64{newTenant(t, db, "alpha"), newTenant(t, db, "beta")}
	puid := newPlatformUser(t, db, "ops@sportello.example", "pw")
	// The sessions' purge goes by the database clock: "past" sessions are
	// made with a clock a day behind it.
	past := authn.New(db.App, func() time.Time { return time.Now().Add(-24 * time.Hour) }, authn.Options{})
	present := authn.New(db.App, nil, authn.Options{})
	eph := authn.NewEphemeral(db.App, nil)
	var live []string
	for _, tid := range tenants {
		subj := authn.Subject{CitizenID: newCitizen(t, db, tid, "c")}
		if _, _, err := past.NewSession(ctx, tid, subj); err != nil {
			t.Fatal(err)
		}
		token, _, err := present.NewSession(ctx, tid, subj)
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, token)
	}
	_, _, _ = past.NewPlatformSession(ctx, puid)
	platformLive, _, _ := present.NewPlatformSession(ctx, puid)
	_ = eph.Put(ctx, "gone", []byte("x"), -time.Second)
	_ = eph.Put(ctx, "kept", []byte("x"), time.Hour)

	for _, who := range []struct {
		name string
		auth *authn.Authenticator
	}{
		// The app role relies on the purge_expired policy; the owner
		// bypasses row-level security and must not delete live sessions.
		{"app role", present},
		{"owner", authn.New(db.Owner, nil, authn.Options{})},
	} {
		t.Run(who.name, func(t *testing.T) {
			n, err := who.auth.PurgeExpired(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if who.name == "app role" && n != 4 {
				t.Fatalf("purged %d rows, want 4", n)
			}
			if who.name == "owner" && n != 0 {
				t.Fatalf("purged %d more rows, want 0", n)
			}
			if n := count(t, db, "SELECT count(*) FROM sessions"); n != 2 {
				t.Fatalf("%d sessions left, want the 2 live ones", n)
			}
			for i, tid := range tenants {
				if _, err := present.Session(ctx, tid, live[i]); err != nil {
					t.Fatalf("live session of tenant %d: %v", tid, err)
				}
			}
			if _, err := present.PlatformSession(ctx, platformLive); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, "SELECT count(*) FROM ephemeral"); n != 1 {
				t.Fatalf("%d ephemeral rows, want 1", n)
			}
		})
	}
	t.Run("the purge policy shows nothing", func(t *testing.T) {
		if _, _, err := past.NewSession(ctx, tenants[0], authn.Subject{CitizenID: newCitizen(t, db, tenants[0], "d")}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.App.NewRaw("SELECT count(*) FROM sessions").Scan(ctx, &n); err != nil || n != 0 {
			t.Fatalf("without a tenant the app role sees %d sessions (%v)", n, err)
		}
	})
}
