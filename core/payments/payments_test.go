package payments_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/payments"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

var ctx = context.Background()

type env struct {
	t   *testing.T
	db  *pgtest.DB
	svc *payments.Service
}

func newEnv(t *testing.T, def string) *env {
	t.Helper()
	db := pg.NewDB(t)
	svc, err := payments.New(db.App, payments.Options{
		Providers: []payments.Provider{payments.Local{}, payments.Counter{}},
		Default:   def,
		Holds:     map[string]payments.Hold{"reservation": payments.Reservations{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, svc: svc}
}

func (e *env) scalar(tenant int64, query string, args ...any) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.InTenant(ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(&id)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) tenant(slug string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id",
		slug, slug).Scan(ctx, &id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// hold is a live reservation held for ten minutes.
func (e *env) hold(tenant int64, resource string) int64 {
	return e.scalar(tenant, `INSERT INTO reservations (tenant_id, service_id, resource, period, status, code, expires_at)
		VALUES (?, 'roombooking', ?, tstzrange(now() + interval '1 day', now() + interval '25 hours'), 'held',
		        ?, now() + interval '10 minutes') RETURNING id`, tenant, resource, code(resource))
}

func code(s string) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	out := []byte("AAAAAAAA")
	for i := range s {
		out[i%8] = alphabet[(int(out[i%8])+int(s[i]))%32]
	}
	return string(out)
}

// payment is a position as the Host API creates it: creation_pending,
// with the host's placeholder IUV.
func (e *env) payment(tenant int64, holdID int64) int64 {
	e.t.Helper()
	iuv := fmt.Sprintf("%017d", time.Now().UnixNano()%1e17)
	var kind, hold, expires any
	if holdID != 0 {
		kind, hold = "reservation", holdID
		expires = time.Now().Add(10 * time.Minute)
	}
	return e.scalar(tenant, `INSERT INTO payments (tenant_id, service_id, amount_cents, reason, iuv, notice_code,
		hold_kind, hold_id, expires_at) VALUES (?, 'roombooking', 5000, 'Sala consiliare', ?, ?, ?, ?, ?) RETURNING id`,
		tenant, iuv, "3"+iuv, kind, hold, expires)
}

func (e *env) reservationStatus(tenant, id int64) string {
	e.t.Helper()
	var st string
	if err := e.db.Owner.NewRaw("SELECT status FROM reservations WHERE tenant_id = ? AND id = ?", tenant, id).
		Scan(ctx, &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

func TestLifeCycle(t *testing.T) {
	for _, tc := range []struct {
		from, to payments.Status
		ok       bool
	}{
		{payments.CreationPending, payments.PaymentPending, true},
		{payments.CreationPending, payments.Complete, false},
		{payments.PaymentPending, payments.PaymentStarted, true},
		{payments.PaymentPending, payments.Complete, true}, // paid at the counter
		{payments.PaymentStarted, payments.PaymentFailed, true},
		{payments.PaymentFailed, payments.PaymentStarted, true}, // tries again
		{payments.PaymentFailed, payments.Complete, false},
		{payments.Complete, payments.Canceled, false},
		{payments.Expired, payments.PaymentStarted, false},
		{payments.Canceled, payments.PaymentPending, false},
	} {
		if got := payments.Allowed(tc.from, tc.to); got != tc.ok {
			t.Errorf("%s → %s: allowed %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
}

func TestLocalProviderPaysAndConfirmsTheHold(t *testing.T) {
	e := newEnv(t, "local")
	tid := e.tenant("alpha")
	hold := e.hold(tid, "sala")
	id := e.payment(tid, hold)

	url, p, err := e.svc.Checkout(ctx, tid, id, "citizen:1", "/t/alpha/payments/1")
	if err != nil {
		t.Fatal(err)
	}
	if url != "/t/alpha/payments/1/local" || p.Status != payments.PaymentStarted || p.Provider != "local" || p.ExpiresAt.IsZero() {
		t.Fatalf("checkout %q, %+v", url, p)
	}
	p, err = e.svc.Transition(ctx, tid, id, payments.Complete, "provider:local", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != payments.Complete || p.PaidAt.IsZero() {
		t.Fatalf("completed %+v", p)
	}
	if st := e.reservationStatus(tid, hold); st != "confirmed" {
		t.Fatalf("the hold is %s after payment, want confirmed", st)
	}
	// Reported twice, it is still one payment.
	if _, err := e.svc.Transition(ctx, tid, id, payments.Complete, "provider:local", ""); err != nil {
		t.Fatal(err)
	}
	events, err := e.svc.Events(ctx, tid, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []payments.Status
	for _, ev := range events {
		got = append(got, ev.Status)
	}
	if fmt.Sprint(got) != "[payment_pending payment_started complete]" {
		t.Fatalf("history %v", got)
	}
	_, err = e.svc.Transition(ctx, tid, id, payments.Canceled, "user:1", "")
	var se *payments.StateError
	if !errors.As(err, &se) || !errors.Is(err, payments.ErrState) || se.From != payments.Complete {
		t.Fatalf("cancelling a complete payment: %v", err)
	}
}

func TestCounterWaitsForStaff(t *testing.T) {
	e := newEnv(t, "counter")
	tid := e.tenant("alpha")
	id := e.payment(tid, 0)
	url, p, err := e.svc.Checkout(ctx, tid, id, "citizen:1", "/t/alpha/payments/1")
	if err != nil {
		t.Fatal(err)
	}
	if url != "" || p.Status != payments.PaymentPending {
		t.Fatalf("counter checkout %q, %s", url, p.Status)
	}
	if p.ExpiresAt.Before(time.Now().Add(29 * 24 * time.Hour)) {
		t.Fatalf("a position without a hold is due %v, want about 30 days", p.ExpiresAt)
	}
	if p, err = e.svc.Transition(ctx, tid, id, payments.Complete, "user:3", "pagato allo sportello"); err != nil || p.Status != payments.Complete {
		t.Fatalf("staff record the payment: %v %v", p, err)
	}
}

func TestUnpaidPaymentExpiresAndReleasesTheHold(t *testing.T) {
	e := newEnv(t, "local")
	tid := e.tenant("alpha")
	hold := e.hold(tid, "sala")
	id := e.payment(tid, hold)
	if _, _, err := e.svc.Checkout(ctx, tid, id, "citizen:1", "/x"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Sweep(ctx, 100); err != nil || n != 0 {
		t.Fatalf("sweep before the due time changed %d (%v)", n, err)
	}
	if _, err := e.db.Owner.ExecContext(ctx, "UPDATE payments SET expires_at = now() - interval '1 second' WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Sweep(ctx, 100); err != nil || n != 1 {
		t.Fatalf("sweep after the due time changed %d (%v)", n, err)
	}
	p, err := e.svc.Get(ctx, tid, id)
	if err != nil || p.Status != payments.Expired {
		t.Fatalf("payment %v %v", p, err)
	}
	if st := e.reservationStatus(tid, hold); st != "cancelled" {
		t.Fatalf("the hold is %s after the payment expired, want cancelled", st)
	}
	// A late outcome from the provider cannot revive it.
	if _, err := e.svc.Transition(ctx, tid, id, payments.Complete, "provider:local", ""); !errors.Is(err, payments.ErrState) {
		t.Fatalf("completing an expired payment: %v", err)
	}
}

func TestPaymentForALostHoldDoesNotComplete(t *testing.T) {
	e := newEnv(t, "local")
	tid := e.tenant("alpha")
	hold := e.hold(tid, "sala")
	id := e.payment(tid, hold)
	if _, _, err := e.svc.Checkout(ctx, tid, id, "citizen:1", "/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Owner.ExecContext(ctx, "UPDATE reservations SET status = 'cancelled' WHERE id = ?", hold); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transition(ctx, tid, id, payments.Complete, "provider:local", ""); !errors.Is(err, payments.ErrHoldLost) {
		t.Fatalf("completing the payment of a released hold: %v", err)
	}
	if p, _ := e.svc.Get(ctx, tid, id); p.Status != payments.PaymentStarted {
		t.Fatalf("status %s, want still payment_started", p.Status)
	}
}

func TestSweepOpensPendingPositionsOfEveryTenant(t *testing.T) {
	e := newEnv(t, "local")
	a, b := e.tenant("alpha"), e.tenant("beta")
	pa, pb := e.payment(a, 0), e.payment(b, 0)
	if n, err := e.svc.Sweep(ctx, 100); err != nil || n != 2 {
		t.Fatalf("sweep opened %d (%v), want 2", n, err)
	}
	for _, tc := range []struct{ tenant, id int64 }{{a, pa}, {b, pb}} {
		p, err := e.svc.Get(ctx, tc.tenant, tc.id)
		if err != nil || p.Status != payments.PaymentPending || p.ProviderRef == "" {
			t.Fatalf("tenant %d payment %v %v", tc.tenant, p, err)
		}
	}
	if _, err := e.svc.Get(ctx, a, pb); !errors.Is(err, payments.ErrNotFound) {
		t.Fatalf("tenant %d read tenant %d's payment: %v", a, b, err)
	}
	if _, err := e.svc.Transition(ctx, a, pb, payments.Canceled, "user:1", ""); !errors.Is(err, payments.ErrNotFound) {
		t.Fatalf("tenant %d cancelled tenant %d's payment: %v", a, b, err)
	}
}

func TestUnknownDefaultProvider(t *testing.T) {
	db := pg.NewDB(t)
	if _, err := payments.New(db.App, payments.Options{Providers: []payments.Provider{payments.Local{}}, Default: "pagopa"}); !errors.Is(err, payments.ErrProvider) {
		t.Fatalf("unknown default: %v", err)
	}
}

// told is an OnOutcome that keeps what it was told, with the payment's
// status as another transaction read it at that moment.
type told struct {
	svc *payments.Service
	mu  sync.Mutex
	got []string // "<id> <status>, committed <status read>"
	err error    // what the handler answers
}

func (o *told) handle(ctx context.Context, p payments.Payment) error {
	committed, err := o.svc.Get(ctx, p.TenantID, p.ID)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, fmt.Sprintf("%d %s, committed %s", p.ID, p.Status, committed.Status))
	if o.err != nil {
		return o.err
	}
	return nil
}

func (o *told) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.got
	o.got = nil
	return out
}

func newToldEnv(t *testing.T, def string, handle func(*told) func(context.Context, payments.Payment) error) (*env, *told) {
	t.Helper()
	db := pg.NewDB(t)
	o := &told{}
	svc, err := payments.New(db.App, payments.Options{
		Providers: []payments.Provider{payments.Local{}, payments.Counter{}},
		Default:   def,
		Holds:     map[string]payments.Hold{"reservation": payments.Reservations{}},
		OnOutcome: handle(o),
	})
	if err != nil {
		t.Fatal(err)
	}
	o.svc = svc
	return &env{t: t, db: db, svc: svc}, o
}

// The service is told of each outcome once, after it is committed, and of
// nothing else: not the position opening, not the citizen starting to
// pay, not an outcome reported twice.
func TestOutcomesAreToldOnceAfterCommit(t *testing.T) {
	e, o := newToldEnv(t, "local", func(o *told) func(context.Context, payments.Payment) error { return o.handle })
	tid := e.tenant("alpha")
	id := e.payment(tid, e.hold(tid, "sala"))
	step := func(to payments.Status, want ...string) {
		t.Helper()
		if _, err := e.svc.Transition(ctx, tid, id, to, "provider:local", ""); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
		if got := o.take(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after %s told %q, want %q", to, got, want)
		}
	}
	if _, _, err := e.svc.Checkout(ctx, tid, id, "citizen:1", "/x"); err != nil {
		t.Fatal(err)
	}
	if got := o.take(); len(got) != 0 {
		t.Errorf("opening and starting told %q", got)
	}
	step(payments.PaymentFailed, fmt.Sprintf("%d payment_failed, committed payment_failed", id))
	step(payments.PaymentStarted)
	step(payments.Complete, fmt.Sprintf("%d complete, committed complete", id))
	step(payments.Complete) // the provider reports it again

	// Staff cancelling at the counter.
	counter := e.payment(tid, 0)
	if _, err := e.svc.Open(ctx, tid, counter); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transition(ctx, tid, counter, payments.Canceled, "user:3", ""); err != nil {
		t.Fatal(err)
	}
	if got := o.take(); fmt.Sprint(got) != fmt.Sprint([]string{fmt.Sprintf("%d canceled, committed canceled", counter)}) {
		t.Errorf("cancelled: told %q", got)
	}
	// A change refused tells nothing.
	if _, err := e.svc.Transition(ctx, tid, counter, payments.Complete, "user:3", ""); !errors.Is(err, payments.ErrState) {
		t.Fatalf("completing a cancelled payment: %v", err)
	}
	if got := o.take(); len(got) != 0 {
		t.Errorf("a refused change told %q", got)
	}
}

// The sweeper's expiry is told like any other outcome, once.
func TestSweeperExpiryIsTold(t *testing.T) {
	e, o := newToldEnv(t, "local", func(o *told) func(context.Context, payments.Payment) error { return o.handle })
	tid := e.tenant("alpha")
	id := e.payment(tid, e.hold(tid, "sala"))
	if _, _, err := e.svc.Checkout(ctx, tid, id, "citizen:1", "/x"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Sweep(ctx, 100); err != nil || n != 0 || len(o.take()) != 0 {
		t.Fatalf("sweep before the due time changed %d (%v)", n, err)
	}
	if _, err := e.db.Owner.ExecContext(ctx, "UPDATE payments SET expires_at = now() - interval '1 second' WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.svc.Sweep(ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.take(); fmt.Sprint(got) != fmt.Sprint([]string{fmt.Sprintf("%d expired, committed expired", id)}) {
		t.Errorf("expiry told %q", got)
	}
}

// Whatever the handler does — fail, panic, outlive its caller — the
// payment's change stands.
func TestOutcomeHandlerCannotUndoThePayment(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(*told) func(context.Context, payments.Payment) error
	}{
		{"fails", func(o *told) func(context.Context, payments.Payment) error {
			o.err = errors.New("plugin unavailable")
			return o.handle
		}},
		{"panics", func(*told) func(context.Context, payments.Payment) error {
			return func(context.Context, payments.Payment) error { panic("plugin bug") }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newToldEnv(t, "counter", tc.handle)
			tid := e.tenant("alpha")
			id := e.payment(tid, 0)
			p, err := e.svc.Transition(ctx, tid, id, payments.Canceled, "user:3", "")
			if err != nil || p.Status != payments.Canceled {
				t.Fatalf("cancel: %v %v", p, err)
			}
			if p, err = e.svc.Get(ctx, tid, id); err != nil || p.Status != payments.Canceled {
				t.Fatalf("stored: %v %v", p, err)
			}
		})
	}
	t.Run("outlives its caller", func(t *testing.T) {
		caller, leave := context.WithCancel(ctx)
		defer leave()
		var stillOn error
		e, _ := newToldEnv(t, "counter", func(*told) func(context.Context, payments.Payment) error {
			return func(ctx context.Context, _ payments.Payment) error {
				leave() // the citizen closes the tab as the payment completes
				stillOn = ctx.Err()
				return nil
			}
		})
		tid := e.tenant("alpha")
		if _, err := e.svc.Transition(caller, tid, e.payment(tid, 0), payments.Canceled, "user:3", ""); err != nil {
			t.Fatal(err)
		}
		if stillOn != nil || caller.Err() == nil {
			t.Errorf("the handler's context ended with its caller: %v", stillOn)
		}
	})
}
