package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

type fixture struct {
	db       *pgtest.DB
	cat      *catalog.Catalog
	a, b     int64 // tenants
	adminA   int64
	adminB   int64
	platform int64
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: pg.NewDB(t)}
	f.cat = catalog.New(f.db.App)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "helpdesk"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec, err := f.cat.Register(ctx, dir, "helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	if rec.SHA256 != "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf" || rec.Status != catalog.StatusRegistered {
		t.Fatalf("record %+v", rec)
	}
	if err := f.cat.SetManifest(ctx, "helpdesk", &pb.Manifest{Id: "helpdesk", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"alpha", "beta"} {
		var id, uid int64
		if err := f.db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		err := f.db.App.InTenant(ctx, id, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw("INSERT INTO users (tenant_id, email, name) VALUES (?, 'admin@x.example', 'Admin') RETURNING id", id).Scan(ctx, &uid)
		})
		if err != nil {
			t.Fatal(err)
		}
		if slug == "alpha" {
			f.a, f.adminA = id, uid
		} else {
			f.b, f.adminB = id, uid
		}
	}
	if err := f.db.App.NewRaw("INSERT INTO platform_users (email, name) VALUES ('ops@x.example', 'Ops') RETURNING id").Scan(ctx, &f.platform); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestServiceLifecycle(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	noCheck := func(json.RawMessage) error { return nil }
	admin := catalog.Actor("user:1")

	if _, err := f.cat.RequestService(ctx, f.a, f.adminA, "helpdesk", "  "); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("empty message: %v", err)
	}
	if _, err := f.cat.RequestService(ctx, f.a, f.adminA, "nosuch", "please"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("unknown service: %v", err)
	}
	req, err := f.cat.RequestService(ctx, f.a, f.adminA, "helpdesk", "Vorremmo il servizio di segnalazioni.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.RequestService(ctx, f.a, f.adminA, "helpdesk", "again"); !errors.Is(err, catalog.ErrWrongState) {
		t.Fatalf("second request: %v", err)
	}
	if err := f.cat.Publish(ctx, f.a, admin, "helpdesk", noCheck); !errors.Is(err, catalog.ErrWrongState) {
		t.Fatalf("publish before approval: %v", err)
	}

	pending, err := f.cat.PendingRequests(ctx)
	if err != nil || len(pending) != 1 || pending[0].TenantID != f.a || pending[0].ID != req.ID {
		t.Fatalf("pending: %+v %v", pending, err)
	}
	// The platform answers in the request's own town; naming another town finds nothing.
	if err := f.cat.Decide(ctx, f.b, req.ID, f.platform, true, ""); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("decide in the wrong town: %v", err)
	}
	if err := f.cat.Decide(ctx, f.a, req.ID, f.platform, false, ""); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("rejection without reason: %v", err)
	}
	if err := f.cat.Decide(ctx, f.a, req.ID, f.platform, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.cat.Decide(ctx, f.a, req.ID, f.platform, true, ""); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("deciding twice: %v", err)
	}

	if err := f.cat.Configure(ctx, f.a, admin, "helpdesk", json.RawMessage(`{"office":"urp"}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.cat.Publish(ctx, f.a, admin, "helpdesk", func(json.RawMessage) error { return errors.New("office e-mail missing") }); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("publish with invalid config: %v", err)
	}
	visible := func(tenant int64) bool {
		p, err := tenancy.LoadPortal(ctx, f.db.App, tenant)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Services) == 1 && p.Services[0].ID == "helpdesk"
	}
	if visible(f.a) {
		t.Fatal("citizens see a service before it is published")
	}
	if err := f.cat.Publish(ctx, f.a, admin, "helpdesk", noCheck); err != nil {
		t.Fatal(err)
	}
	if !visible(f.a) || visible(f.b) {
		t.Fatal("after publishing: wrong visibility")
	}
	if err := f.cat.Disable(ctx, f.a, admin, "helpdesk"); err != nil {
		t.Fatal(err)
	}
	if visible(f.a) {
		t.Fatal("a disabled service is still shown")
	}
	ts, err := f.cat.TenantService(ctx, f.a, "helpdesk")
	if err != nil || string(ts.Config) != `{"office": "urp"}` || ts.State != catalog.StateDisabled {
		t.Fatalf("disabling lost the configuration: %+v %v", ts, err)
	}
	if _, err := f.cat.TenantService(ctx, f.b, "helpdesk"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("beta sees alpha's service: %v", err)
	}

	var actions []string
	if err := f.db.Owner.NewRaw("SELECT action FROM audit_log WHERE tenant_id = ? AND object = 'helpdesk' ORDER BY id", f.a).Scan(ctx, &actions); err != nil {
		t.Fatal(err)
	}
	want := []string{"service.request", "service.approve", "service.configure", "service.publish", "service.disable"}
	if len(actions) != len(want) {
		t.Fatalf("audit %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("audit %v, want %v", actions, want)
		}
	}
}

func TestRejectedServiceMayBeAskedAgain(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	req, err := f.cat.RequestService(ctx, f.b, f.adminB, "helpdesk", "Per favore")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cat.Decide(ctx, f.b, req.ID, f.platform, false, "Servizio non disponibile per il vostro contratto"); err != nil {
		t.Fatal(err)
	}
	ts, _ := f.cat.TenantService(ctx, f.b, "helpdesk")
	if ts == nil || ts.State != catalog.StateRejected {
		t.Fatalf("after rejection: %+v", ts)
	}
	if _, err := f.cat.RequestService(ctx, f.b, f.adminB, "helpdesk", "Abbiamo aggiornato il contratto"); err != nil {
		t.Fatalf("asking again: %v", err)
	}
}
