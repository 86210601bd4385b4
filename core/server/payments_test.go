package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"
)

// loginCitizen signs b in as a demo citizen of the development provider.
func loginCitizen(t *testing.T, s *site, b *browser, slug, hint string) {
	t.Helper()
	r := b.get(s.url + "/t/" + slug + "/auth/citizen")
	if r.status != 303 {
		t.Fatalf("citizen login start: %d", r.status)
	}
	r = b.get(r.header.Get("Location") + "&login_hint=" + url.QueryEscape(hint))
	r = b.get(r.header.Get("Location"))
	if r.status != 303 {
		t.Fatalf("citizen login callback: %d %.300s", r.status, r.body)
	}
}

// citizenID is the id a demo citizen got at login.
func citizenID(t *testing.T, s *site, tenantID int64, subject string) int64 {
	t.Helper()
	var id int64
	if err := s.db.Owner.NewRaw("SELECT id FROM citizens WHERE tenant_id = ? AND subject = ?", tenantID, subject).
		Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// holdCodes are booking codes for the tests' rooms (no 0/O, 1/I).
var holdCodes = map[string]string{"sala-civica": "SALACVCA", "sala-grande": "SALAGRND", "sala-piccola": "SALAPCCL"}

// newPayment is a position for a held reservation, as a plugin's
// CreatePayment leaves it.
func newPayment(t *testing.T, s *site, tenantID, citizen int64, resource string) (payment, hold int64) {
	t.Helper()
	err := s.db.App.InTenant(context.Background(), tenantID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO reservations (tenant_id, service_id, resource, period, status,
			code, expires_at, citizen_id) VALUES (?, 'roombooking', ?, tstzrange(now() + interval '2 days',
			now() + interval '49 hours'), 'held', ?, now() + interval '15 minutes', ?) RETURNING id`,
			tenantID, resource, holdCodes[resource], citizen).Scan(&hold); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO payments (tenant_id, service_id, citizen_id, amount_cents, reason,
			iuv, notice_code, hold_kind, hold_id, expires_at) VALUES (?, 'roombooking', ?, 12050, 'Sala civica',
			?, ?, 'reservation', ?, now() + interval '15 minutes') RETURNING id`, tenantID, citizen,
			fmt.Sprintf("%017d", hold), fmt.Sprintf("3%017d", hold), hold).Scan(&payment)
	})
	if err != nil {
		t.Fatal(err)
	}
	return payment, hold
}

func TestCitizenPaysWithTheLocalProvider(t *testing.T) {
	s := newSite(t)
	tenant := mustTenant(t, s, "trezzo-sull-adda")
	b := s.browser()
	loginCitizen(t, s, b, "trezzo-sull-adda", "mario.rossi")
	id, hold := newPayment(t, s, tenant.ID, citizenID(t, s, tenant.ID, "mario.rossi"), "sala-civica")
	page := fmt.Sprintf("%s/t/trezzo-sull-adda/payments/%d", s.url, id)

	expect(t, b.get(page), 200, "Sala civica", "120,50", "Da pagare", "Paga online")
	// The paid page offers no form; a second payment is tried with the
	// token of the first, as a second tab or a replayed request would.
	token := csrfField.FindStringSubmatch(b.get(page).body)[1]
	r := b.form(page, page+"/checkout", url.Values{})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), fmt.Sprintf("/payments/%d/local", id)) {
		t.Fatalf("checkout: %d %s", r.status, r.header.Get("Location"))
	}
	expect(t, b.get(page+"/local"), 200, "Ambiente di prova", "120,50")
	t.Run("an unknown outcome is refused", func(t *testing.T) {
		expect(t, b.form(page+"/local", page+"/local", url.Values{"outcome": {"steal"}}), 422)
	})
	r = b.form(page+"/local", page+"/local", url.Values{"outcome": {"pay"}})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "?done=paid") {
		t.Fatalf("pay: %d %s", r.status, r.header.Get("Location"))
	}
	expect(t, b.get(page+"?done=paid"), 200, "Pagamento riuscito", "Pagato")
	var st string
	if err := s.db.Owner.NewRaw("SELECT status FROM reservations WHERE id = ?", hold).Scan(context.Background(), &st); err != nil || st != "confirmed" {
		t.Fatalf("the room's hold is %q (%v) after payment, want confirmed", st, err)
	}
	expect(t, b.get(s.url+"/t/trezzo-sull-adda/payments"), 200, "Sala civica", "Pagato")
	t.Run("paying twice is a conflict, not a second charge", func(t *testing.T) {
		expect(t, b.do(http.MethodPost, page+"/checkout", url.Values{"_csrf": {token}}), 409, "non può essere modificato")
	})
	t.Run("another citizen, a visitor and another town see nothing", func(t *testing.T) {
		other := s.browser()
		loginCitizen(t, s, other, "trezzo-sull-adda", "giulia.bianchi")
		expect(t, other.get(page), 404)
		r := s.browser().get(page)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login") {
			t.Fatalf("a visitor: %d %s", r.status, r.header.Get("Location"))
		}
		lugano := s.browser()
		loginCitizen(t, s, lugano, "lugano", "mario.rossi")
		expect(t, lugano.get(fmt.Sprintf("%s/t/lugano/payments/%d", s.url, id)), 404)
	})
}

func TestStaffRecordACounterPaymentAndExpiryReleasesTheHold(t *testing.T) {
	s := newSite(t)
	tenant := mustTenant(t, s, "trezzo-sull-adda")
	citizen := s.browser()
	loginCitizen(t, s, citizen, "trezzo-sull-adda", "mario.rossi")
	mario := citizenID(t, s, tenant.ID, "mario.rossi")
	paid, _ := newPayment(t, s, tenant.ID, mario, "sala-grande")
	unpaid, hold := newPayment(t, s, tenant.ID, mario, "sala-piccola")

	staff := s.browser()
	login := s.url + "/t/trezzo-sull-adda/login"
	if r := staff.form(login, login, url.Values{"email": {"anagrafe@trezzo.example"}, "password": {"demo-trezzo"}}); r.status != 303 {
		t.Fatalf("staff login: %d", r.status)
	}
	page := fmt.Sprintf("%s/t/trezzo-sull-adda/payments/%d", s.url, paid)
	expect(t, staff.get(page), 200, "Registra il pagamento")
	t.Run("staff do not pay for citizens", func(t *testing.T) {
		expect(t, staff.form(page, page+"/checkout", url.Values{}), 403)
	})
	t.Run("a citizen cannot record a payment", func(t *testing.T) {
		expect(t, citizen.form(page, page+"/paid", url.Values{}), 403)
	})
	r := staff.form(page, page+"/paid", url.Values{})
	if r.status != 303 {
		t.Fatalf("record: %d %.300s", r.status, r.body)
	}
	expect(t, citizen.get(page), 200, "Pagato")

	if _, err := s.db.Owner.ExecContext(context.Background(),
		"UPDATE payments SET expires_at = now() - interval '1 second' WHERE id = ?", unpaid); err != nil {
		t.Fatal(err)
	}
	if n, err := s.srv.Payments.Sweep(context.Background(), 100); err != nil || n < 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	expect(t, citizen.get(fmt.Sprintf("%s/t/trezzo-sull-adda/payments/%d", s.url, unpaid)), 200, "Scaduto")
	var st string
	if err := s.db.Owner.NewRaw("SELECT status FROM reservations WHERE id = ?", hold).Scan(context.Background(), &st); err != nil || st != "cancelled" {
		t.Fatalf("the unpaid hold is %q (%v), want cancelled", st, err)
	}
}
