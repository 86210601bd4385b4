// Package payments runs payment positions through pagoPA's life cycle
// under a provider: the local test provider that development and tests
// use, "pay at the counter", and later a real payment service provider.
//
// A position is created by a service (through the Host API, or the core's
// booking) in state creation_pending. The provider opens it (issues the
// IUV and notice code) and it waits for the citizen (payment_pending); the
// citizen starts paying (payment_started) and the provider reports the
// outcome (complete or payment_failed). Positions not paid by their due
// time expire; a hold the payment was for is then released, and confirmed
// when the payment completes.
package payments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Status is a state of pagoPA's life cycle of a position.
type Status string

const (
	CreationPending Status = "creation_pending"
	CreationFailed  Status = "creation_failed"
	PaymentPending  Status = "payment_pending"
	PaymentStarted  Status = "payment_started"
	Complete        Status = "complete"
	PaymentFailed   Status = "payment_failed"
	Canceled        Status = "canceled"
	Expired         Status = "expired"
)

// Final reports whether nothing more can happen to a payment in s.
func (s Status) Final() bool {
	switch s {
	case Complete, Canceled, Expired, CreationFailed:
		return true
	}
	return false
}

// Outcome reports whether s is an outcome the service that asked for a
// payment is told of (Options.OnOutcome): paid, a failed attempt, expired
// or cancelled. A provider that could not open the position
// (creation_failed) is the host's problem, not the service's.
func (s Status) Outcome() bool {
	switch s {
	case Complete, PaymentFailed, Expired, Canceled:
		return true
	}
	return false
}

// next is the life cycle: the states each state may move to.
var next = map[Status][]Status{
	CreationPending: {PaymentPending, CreationFailed, Canceled, Expired},
	PaymentPending:  {PaymentStarted, Complete, Canceled, Expired},
	PaymentStarted:  {Complete, PaymentFailed, PaymentPending, Canceled, Expired},
	PaymentFailed:   {PaymentStarted, Canceled, Expired},
}

// Allowed reports whether a payment may move from one state to another.
func Allowed(from, to Status) bool {
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

var (
	// ErrNotFound: no such payment in the tenant, or not the caller's.
	ErrNotFound = errors.New("payment not found")
	// ErrState: the payment is in a state that does not allow the change.
	ErrState = errors.New("the payment cannot make that change in its current state")
	// ErrHoldLost: the slot a payment was holding was released before
	// the payment completed (it expired, or was cancelled).
	ErrHoldLost = errors.New("the held slot was released before the payment completed")
	// ErrProvider: the provider named is unknown, or failed.
	ErrProvider = errors.New("payment provider")
)

// StateError is an ErrState that says which change was refused.
type StateError struct {
	ID       int64
	From, To Status
}

func (e *StateError) Error() string {
	return fmt.Sprintf("payment %d is %s and cannot become %s", e.ID, e.From, e.To)
}

func (e *StateError) Unwrap() error { return ErrState }

// Payment is a position as the host keeps it.
type Payment struct {
	TenantID    int64
	ID          int64
	ServiceID   string
	DossierID   int64
	CitizenID   int64
	AmountCents int64
	Currency    string
	Reason      string
	Status      Status
	IUV         string
	NoticeCode  string
	Provider    string
	ProviderRef string
	ExpiresAt   time.Time // zero: none
	HoldKind    string    // "reservation", "booking" or ""
	HoldID      int64
	PaidAt      time.Time
	Failure     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Event is one change of a payment's status.
type Event struct {
	At     time.Time
	Status Status
	Actor  string
	Note   string
}

// Provider issues positions and takes the citizen's money.
type Provider interface {
	// Name is the id stored with each payment it handles.
	Name() string
	// Open issues the position. It returns the IUV and notice code the
	// citizen pays with (empty: keep the host's), and a reference of the
	// provider's own.
	Open(ctx context.Context, p *Payment) (Opened, error)
	// Checkout is where the citizen goes to pay p, coming back to
	// returnURL; "" means there is nowhere to go (pay at the counter).
	Checkout(ctx context.Context, p *Payment, returnURL string) (string, error)
}

// Opened is what a provider issued for a position.
type Opened struct {
	IUV, NoticeCode, Ref string
}

// Hold is a kind of hold a payment may be for: a reservation of a plugin,
// a booking of the core's booking engine. Both run in the payment's own
// transaction, in its tenant.
type Hold interface {
	// Confirm turns the hold into a booking: the payment completed.
	Confirm(ctx context.Context, tx bun.Tx, tenantID, id int64) error
	// Release frees the slot: the payment will not complete.
	Release(ctx context.Context, tx bun.Tx, tenantID, id int64) error
}

// Options configure Service.
type Options struct {
	// Providers by name; Default is used for new positions.
	Providers []Provider
	Default   string
	// Holds by kind ("reservation", "booking").
	Holds map[string]Hold
	// TTL is how long a position without a hold stays payable; 30 days
	// when zero.
	TTL time.Duration
	Now func() time.Time
	Log *slog.Logger
	// OnOutcome, when set, is told of a payment that has just reached an
	// outcome (Status.Outcome), once per change, after the change is
	// committed: by Transition, and so by Checkout and the sweeper's
	// expiry. It runs in the caller's goroutine, with ctx's values but not
	// its cancellation (the payment changed whether or not the caller is
	// still there), so it must bound its own time. Its error is logged:
	// the payment stands either way.
	OnOutcome func(ctx context.Context, p Payment) error
}

// Service is the payments of every tenant.
type Service struct {
	db        *store.DB
	providers map[string]Provider
	def       string
	holds     map[string]Hold
	ttl       time.Duration
	now       func() time.Time
	log       *slog.Logger
	onOutcome func(context.Context, Payment) error
}

// New is the payment service on db.
func New(db *store.DB, o Options) (*Service, error) {
	s := &Service{db: db, providers: map[string]Provider{}, def: o.Default, holds: o.Holds, ttl: o.TTL, now: o.Now, log: o.Log,
		onOutcome: o.OnOutcome}
	for _, p := range o.Providers {
		s.providers[p.Name()] = p
	}
	if _, ok := s.providers[s.def]; !ok {
		return nil, fmt.Errorf("default provider %q: %w: not among the providers", s.def, ErrProvider)
	}
	if s.ttl == 0 {
		s.ttl = 30 * 24 * time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.holds == nil {
		s.holds = map[string]Hold{}
	}
	return s, nil
}

const cols = `tenant_id, id, service_id, coalesce(dossier_id, 0), coalesce(citizen_id, 0), amount_cents, currency,
	reason, status, iuv, notice_code, coalesce(provider, ''), provider_ref, coalesce(expires_at, 'epoch'),
	coalesce(hold_kind, ''), coalesce(hold_id, 0), coalesce(paid_at, 'epoch'), failure, created_at, updated_at`

func scan(row interface{ Scan(...any) error }) (*Payment, error) {
	p := &Payment{}
	var status string
	err := row.Scan(&p.TenantID, &p.ID, &p.ServiceID, &p.DossierID, &p.CitizenID, &p.AmountCents, &p.Currency,
		&p.Reason, &status, &p.IUV, &p.NoticeCode, &p.Provider, &p.ProviderRef, &p.ExpiresAt,
		&p.HoldKind, &p.HoldID, &p.PaidAt, &p.Failure, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return nil, err
	}
	p.Status = Status(status)
	for _, t := range []*time.Time{&p.ExpiresAt, &p.PaidAt} {
		if t.Unix() == 0 {
			*t = time.Time{}
		}
	}
	return p, nil
}

// Get reads payment id of the tenant.
func (s *Service) Get(ctx context.Context, tenantID, id int64) (*Payment, error) {
	var out *Payment
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = get(ctx, tx, tenantID, id, false)
		return err
	})
	return out, err
}

func get(ctx context.Context, tx bun.Tx, tenantID, id int64, lock bool) (*Payment, error) {
	q := `SELECT ` + cols + ` FROM payments WHERE tenant_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	p, err := scan(tx.QueryRowContext(ctx, q, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("payment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read payment %d: %w", id, err)
	}
	return p, nil
}

// ForCitizen lists the payments a citizen is asked for, newest first.
func (s *Service) ForCitizen(ctx context.Context, tenantID, citizenID int64, limit int) ([]*Payment, error) {
	return s.list(ctx, tenantID, "citizen_id = ?", citizenID, limit)
}

// ForDossier lists the payments of a dossier, newest first.
func (s *Service) ForDossier(ctx context.Context, tenantID, dossierID int64) ([]*Payment, error) {
	return s.list(ctx, tenantID, "dossier_id = ?", dossierID, 100)
}

func (s *Service) list(ctx context.Context, tenantID int64, where string, arg any, limit int) ([]*Payment, error) {
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	var out []*Payment
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM payments WHERE tenant_id = ? AND `+where+`
			ORDER BY created_at DESC, id DESC LIMIT ?`, tenantID, arg, limit)
		if err != nil {
			return fmt.Errorf("list payments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// Events is a payment's history, oldest first.
func (s *Service) Events(ctx context.Context, tenantID, id int64) ([]Event, error) {
	var out []Event
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT at, status, actor, note FROM payment_events
			WHERE tenant_id = ? AND payment_id = ? ORDER BY at, id`, tenantID, id)
		if err != nil {
			return fmt.Errorf("payment %d history: %w", id, err)
		}
		defer rows.Close()
		for rows.Next() {
			var e Event
			var st string
			if err := rows.Scan(&e.At, &st, &e.Actor, &e.Note); err != nil {
				return err
			}
			e.Status = Status(st)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// Open has the default provider issue a position still waiting for one;
// a position already open is returned as it is.
func (s *Service) Open(ctx context.Context, tenantID, id int64) (*Payment, error) {
	var out *Payment
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		p, err := get(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		out = p
		if p.Status != CreationPending || p.Provider != "" {
			return nil
		}
		prov := s.providers[s.def]
		opened, err := prov.Open(ctx, p)
		if err != nil {
			p.Failure = err.Error()
			out, err = s.move(ctx, tx, p, CreationFailed, "provider:"+prov.Name(), truncate(err.Error(), 500))
			return err
		}
		iuv, notice := p.IUV, p.NoticeCode
		if opened.IUV != "" {
			iuv, notice = opened.IUV, opened.NoticeCode
		}
		expires := p.ExpiresAt
		if expires.IsZero() {
			expires = s.now().Add(s.ttl)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payments SET provider = ?, provider_ref = ?, iuv = ?, notice_code = ?,
			expires_at = ? WHERE tenant_id = ? AND id = ?`, prov.Name(), opened.Ref, iuv, notice, expires, tenantID, id); err != nil {
			return fmt.Errorf("open payment %d: %w", id, err)
		}
		p.Provider, p.ProviderRef, p.IUV, p.NoticeCode, p.ExpiresAt = prov.Name(), opened.Ref, iuv, notice, expires
		out, err = s.move(ctx, tx, p, PaymentPending, "provider:"+prov.Name(), "")
		return err
	})
	return out, err
}

// Checkout starts the citizen's payment: it opens the position if need be,
// marks it started and returns where to pay ("" for the counter, where the
// position stays pending until staff record the payment).
func (s *Service) Checkout(ctx context.Context, tenantID, id int64, actor, returnURL string) (string, *Payment, error) {
	p, err := s.Open(ctx, tenantID, id)
	if err != nil {
		return "", nil, err
	}
	prov, ok := s.providers[p.Provider]
	if !ok {
		return "", p, fmt.Errorf("payment %d: %w %q unknown", id, ErrProvider, p.Provider)
	}
	url, err := prov.Checkout(ctx, p, returnURL)
	if err != nil {
		return "", p, fmt.Errorf("payment %d checkout: %w: %v", id, ErrProvider, err)
	}
	if url == "" {
		return "", p, nil
	}
	if p.Status == PaymentStarted {
		return url, p, nil
	}
	p, err = s.Transition(ctx, tenantID, id, PaymentStarted, actor, "")
	return url, p, err
}

// Transition moves payment id to status to, recording who did it. A hold
// the payment is for is confirmed when it completes and released when it
// can no longer complete, in the same transaction. Once that is committed,
// an outcome is told to OnOutcome.
func (s *Service) Transition(ctx context.Context, tenantID, id int64, to Status, actor, note string) (*Payment, error) {
	var out *Payment
	moved := false
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		p, err := get(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if p.Status == to {
			out = p // twice is once: a provider may report an outcome again
			return nil
		}
		if out, err = s.move(ctx, tx, p, to, actor, note); err != nil {
			return err
		}
		moved = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if moved && out.Status.Outcome() {
		s.tell(ctx, *out)
	}
	return out, nil
}

// tell hands p's outcome to OnOutcome. Nothing it does can undo or fail
// the change, which is committed: an error is logged, and so is a panic,
// which would otherwise end the sweeper's goroutine and the process.
func (s *Service) tell(ctx context.Context, p Payment) {
	if s.onOutcome == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("payment outcome handler panicked", "tenant_id", p.TenantID, "payment", p.ID, "status", p.Status,
				"service", p.ServiceID, "panic", r)
		}
	}()
	if err := s.onOutcome(context.WithoutCancel(ctx), p); err != nil {
		s.log.Warn("payment outcome not delivered", "tenant_id", p.TenantID, "payment", p.ID, "status", p.Status,
			"service", p.ServiceID, "err", err)
	}
}

func (s *Service) move(ctx context.Context, tx bun.Tx, p *Payment, to Status, actor, note string) (*Payment, error) {
	if !Allowed(p.Status, to) {
		return nil, &StateError{ID: p.ID, From: p.Status, To: to}
	}
	var paid any
	if to == Complete {
		paid = s.now()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET status = ?, paid_at = ?, failure = ?, updated_at = now()
		WHERE tenant_id = ? AND id = ?`, string(to), paid, truncate(p.Failure, 500), p.TenantID, p.ID); err != nil {
		return nil, fmt.Errorf("payment %d to %s: %w", p.ID, to, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO payment_events (tenant_id, payment_id, status, actor, note)
		VALUES (?, ?, ?, ?, ?)`, p.TenantID, p.ID, string(to), actor, truncate(note, 500)); err != nil {
		return nil, fmt.Errorf("payment %d history: %w", p.ID, err)
	}
	if p.HoldKind != "" {
		h, ok := s.holds[p.HoldKind]
		switch {
		case !ok:
			s.log.Warn("payment for a hold of an unknown kind", "payment", p.ID, "kind", p.HoldKind)
		case to == Complete:
			if err := h.Confirm(ctx, tx, p.TenantID, p.HoldID); err != nil {
				return nil, fmt.Errorf("payment %d: confirm %s %d: %w", p.ID, p.HoldKind, p.HoldID, err)
			}
		case to.Final():
			if err := h.Release(ctx, tx, p.TenantID, p.HoldID); err != nil {
				return nil, fmt.Errorf("payment %d: release %s %d: %w", p.ID, p.HoldKind, p.HoldID, err)
			}
		}
	}
	p.Status = to
	if to == Complete {
		p.PaidAt = s.now()
	}
	return p, nil
}

// Sweep opens positions waiting for a provider and expires those past
// their due time, across tenants, up to max of each; it returns how many
// it changed. Run it every few seconds; instances may run it at once (a
// payment's row lock and the life cycle make a second try a no-op).
func (s *Service) Sweep(ctx context.Context, max int) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, id FROM payments_needing_work(?)`, max)
	if err != nil {
		return 0, fmt.Errorf("payments needing work: %w", err)
	}
	type ref struct{ tenant, id int64 }
	var work []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.tenant, &r.id); err != nil {
			rows.Close()
			return 0, err
		}
		work = append(work, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range work {
		changed, err := s.sweepOne(ctx, r.tenant, r.id)
		if err != nil {
			s.log.Warn("payment sweep", "tenant", r.tenant, "payment", r.id, "err", err)
			continue
		}
		if changed {
			n++
		}
	}
	return n, nil
}

func (s *Service) sweepOne(ctx context.Context, tenantID, id int64) (bool, error) {
	p, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return false, err
	}
	if !p.ExpiresAt.IsZero() && !p.ExpiresAt.After(s.now()) && !p.Status.Final() {
		_, err := s.Transition(ctx, tenantID, id, Expired, "system", "not paid by its due time")
		if errors.Is(err, ErrState) {
			return false, nil // completed meanwhile
		}
		return err == nil, err
	}
	if p.Status == CreationPending && p.Provider == "" {
		_, err := s.Open(ctx, tenantID, id)
		return err == nil, err
	}
	return false, nil
}

// Run sweeps every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx, 500); err != nil && ctx.Err() == nil {
			s.log.Warn("payment sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
