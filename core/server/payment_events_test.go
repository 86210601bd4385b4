package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A payment's outcome is told to the plugin that asked for it within the
// citizen's payment, against the real plugin process: a plugin that
// answers has moved its dossier by the time the citizen's page comes
// back; one that never answers, or crashes, holds the page up for its
// call timeout at most, and the payment stands either way.
func TestPaymentOutcomeReachesThePlugin(t *testing.T) {
	s := newSite(t)
	withPluginsTimeout(t, s, 2*time.Second, testPlugin{ID: "payhang", Pkg: "./testdata/payhang", Publish: map[string]string{cemTown: `{}`}})
	ctx := context.Background()
	tid := mustTenant(t, s, cemTown).ID
	svc := s.url + "/t/" + cemTown + "/services/payhang"
	mario := s.citizen(cemTown, "mario.rossi")
	// ask files a dossier whose payment the plugin takes as mode says.
	ask := func(mode string) (dossierID, paymentID int64) {
		t.Helper()
		r := mario.form(svc, svc+"/ask", url.Values{"mode": {mode}})
		expect(t, r, 200, `id="service-result"`)
		d := cemDossier(t, s, cemTown, cemNumber.FindString(r.body[strings.Index(r.body, `id="service-result"`):]))
		if err := s.db.Owner.NewRaw("SELECT id FROM payments WHERE tenant_id = ? AND dossier_id = ?", tid, d.ID).Scan(ctx, &paymentID); err != nil {
			t.Fatalf("the payment of %s: %v", d.Number, err)
		}
		return d.ID, paymentID
	}
	after := func(dossierID, paymentID int64) (dossierStatus, paymentStatus string) {
		t.Helper()
		if err := s.db.Owner.NewRaw(`SELECT d.status, p.status FROM dossiers d JOIN payments p ON p.tenant_id = d.tenant_id AND p.dossier_id = d.id
			WHERE d.tenant_id = ? AND d.id = ? AND p.id = ?`, tid, dossierID, paymentID).Scan(ctx, &dossierStatus, &paymentStatus); err != nil {
			t.Fatal(err)
		}
		return dossierStatus, paymentStatus
	}

	t.Run("a plugin that answers", func(t *testing.T) {
		d, p := ask("ok")
		payLocally(t, s, mario, p)
		if ds, ps := after(d, p); ds != "complete" || ps != "complete" {
			t.Fatalf("dossier %s, payment %s", ds, ps)
		}
	})
	t.Run("a plugin that never answers", func(t *testing.T) {
		d, p := ask("hang")
		payLocally(t, s, mario, p) // answers, after the call timeout
		if ds, ps := after(d, p); ds != "submitted" || ps != "complete" {
			t.Fatalf("dossier %s, payment %s", ds, ps)
		}
	})
	t.Run("a plugin that crashes", func(t *testing.T) {
		d, p := ask("crash")
		payLocally(t, s, mario, p)
		if ds, ps := after(d, p); ds != "submitted" || ps != "complete" {
			t.Fatalf("dossier %s, payment %s", ds, ps)
		}
	})
}
