// Package booking is the booking engine every service stands on:
// appointments at an office desk, rooms booked and paid, time with an
// expert. A resource has a calendar (named opening hours, closing days, a
// slot length, a capacity, how far ahead and how late one may book, a
// cancellation deadline, a hold time) and bookings, each taking one seat of
// the resource for one slot.
//
// Double booking is impossible by construction: the bookings table's
// exclusion constraint refuses two live bookings of one seat whose periods
// overlap. The engine never checks availability before writing; it writes,
// and a refusal of the constraint is ErrSlotTaken.
package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/store"
)

// Errors of the engine. The rule errors come as *RuleError and a refused
// cancellation as *DeadlineError, each wrapping one of these.
var (
	ErrNotFound       = errors.New("booking: not found")
	ErrInvalid        = errors.New("booking: invalid input")
	ErrOutsideHours   = errors.New("booking: outside opening hours")
	ErrPast           = errors.New("booking: in the past or too soon")
	ErrBeyondHorizon  = errors.New("booking: too far ahead")
	ErrClosed         = errors.New("booking: closed")
	ErrSlotTaken      = errors.New("booking: slot already taken")
	ErrCancelDeadline = errors.New("booking: cancellation deadline passed")
	ErrHoldExpired    = errors.New("booking: hold expired")
	ErrWrongState     = errors.New("booking: not possible in the booking's state")
)

// Rules a requested time can break; RuleError.Rule is one of them.
const (
	RulePast     = "past"     // the time has passed
	RuleNotice   = "notice"   // closer than the resource's minimum notice
	RuleHorizon  = "horizon"  // beyond how far ahead one may book
	RuleClosed   = "closed"   // a closing day
	RuleInactive = "inactive" // the resource takes no bookings now
	RuleHours    = "hours"    // outside every opening-hour rule of the day
	RuleGrid     = "grid"     // inside opening hours, but not the start of a slot
)

// RuleError is a time refused by a calendar rule, with what the person
// needs to choose again.
type RuleError struct {
	Rule  string
	Start time.Time // the time asked for, in the resource's time zone
	// Limit is, for past and notice, the first time one may book; for
	// horizon, the last day one may book. Zero for the other rules.
	Limit  time.Time
	Reason string // closed: the closure's reason, as the office wrote it
	err    error
}

func (e *RuleError) Error() string {
	at := e.Start.Format("2006-01-02 15:04 MST")
	switch e.Rule {
	case RulePast:
		return fmt.Sprintf("%s has passed (first bookable time %s): %v", at, e.Limit.Format(time.RFC3339), e.err)
	case RuleNotice:
		return fmt.Sprintf("%s is too soon (first bookable time %s): %v", at, e.Limit.Format(time.RFC3339), e.err)
	case RuleHorizon:
		return fmt.Sprintf("%s is too far ahead (last bookable day %s): %v", at, e.Limit.Format("2006-01-02"), e.err)
	case RuleClosed:
		return fmt.Sprintf("%s is a closing day (%s): %v", at, e.Reason, e.err)
	case RuleGrid:
		return fmt.Sprintf("%s is not the start of a slot: %v", at, e.err)
	}
	return fmt.Sprintf("%s (%s): %v", at, e.Rule, e.err)
}

func (e *RuleError) Unwrap() error { return e.err }

// MessageData fills the translated message of the refusal in lang.
func (e *RuleError) MessageData(lang string) map[string]any {
	d := map[string]any{"Start": i18n.FormatDateTime(lang, e.Start), "Reason": e.Reason}
	switch e.Rule {
	case RulePast, RuleNotice:
		d["Limit"] = i18n.FormatDateTime(lang, e.Limit)
	case RuleHorizon:
		d["Limit"] = i18n.FormatDate(lang, e.Limit)
	}
	return d
}

// DeadlineError refuses to cancel or move a booking once its cancellation
// deadline has passed.
type DeadlineError struct {
	Code     string
	Deadline time.Time // in the resource's time zone
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("booking %s: the cancellation deadline was %s: %v", e.Code, e.Deadline.Format(time.RFC3339), ErrCancelDeadline)
}

func (e *DeadlineError) Unwrap() error { return ErrCancelDeadline }

// MessageData names the deadline in lang.
func (e *DeadlineError) MessageData(lang string) map[string]any {
	return map[string]any{"Deadline": i18n.FormatDateTime(lang, e.Deadline), "Code": e.Code}
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Status is where a booking is in its life.
type Status string

const (
	Held      Status = "held"      // the citizen is filling in the rest; frees itself at ExpiresAt
	Pending   Status = "pending"   // waits for staff approval, seat kept
	Confirmed Status = "confirmed" // booked
	Cancelled Status = "cancelled"
	Expired   Status = "expired" // a hold that was not confirmed in time
)

// Live reports whether the booking holds its seat.
func (s Status) Live() bool { return s == Held || s == Pending || s == Confirmed }

// Kind is what a resource is.
type Kind string

const (
	Desk   Kind = "desk"
	Room   Kind = "room"
	Expert Kind = "expert"
)

// Engine books resources of every tenant. It is safe for concurrent use.
type Engine struct {
	db    *store.DB
	now   func() time.Time
	zones sync.Map // time zone name -> *time.Location

	prepareMu sync.Mutex
	prepared  atomic.Pointer[map[string]*sql.Stmt]
}

// New returns an engine on db. now is the clock (time.Now when nil); the
// engine reads the time only from it, never from the database, so holds,
// notice and deadlines follow one clock.
func New(db *store.DB, now func() time.Time) *Engine {
	if now == nil {
		now = time.Now
	}
	return &Engine{db: db, now: now}
}

func (e *Engine) zone(name string) (*time.Location, error) {
	if l, ok := e.zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	e.zones.Store(name, l)
	return l, nil
}

// hotQueries are the statements of every reservation attempt. Planning
// them afresh each time cost more than running them, so they are prepared
// once per connection of the pool.
var hotQueries = []string{probeQuery, insertQuery}

// prepare makes the pool know the hot statements. It runs before the
// transaction that uses them: preparing takes a connection of its own,
// which a transaction holding one must not wait for.
func (e *Engine) prepare(ctx context.Context) error {
	if e.prepared.Load() != nil {
		return nil
	}
	e.prepareMu.Lock()
	defer e.prepareMu.Unlock()
	if e.prepared.Load() != nil {
		return nil
	}
	m := make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		st, err := e.db.DB.DB.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range m {
				_ = st.Close()
			}
			return fmt.Errorf("prepare booking statements: %w", err)
		}
		m[q] = st
	}
	e.prepared.Store(&m)
	return nil
}

// statement is query prepared on tx's connection (once per connection
// when prepare ran, else for this transaction only).
func (e *Engine) statement(ctx context.Context, tx bun.Tx, query string) (*sql.Stmt, error) {
	if m := e.prepared.Load(); m != nil {
		if st, ok := (*m)[query]; ok {
			return tx.Tx.StmtContext(ctx, st), nil
		}
	}
	st, err := tx.Tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return st, nil
}

// retries bounds how often a transaction that lost a deadlock or a
// serialization race is run again.
const retries = 3

// inTenant is store.InTenant, run again when PostgreSQL broke a deadlock
// by aborting this transaction. The advisory lock per slot makes that rare;
// it remains possible where periods overlap without sharing a start (a
// slot length changed under existing bookings).
func (e *Engine) inTenant(ctx context.Context, tenantID int64, fn func(ctx context.Context, tx bun.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := e.db.InTenant(ctx, tenantID, fn)
		if attempt < retries && (sqlState(err) == "40P01" || sqlState(err) == "40001") {
			continue
		}
		return err
	}
}

func sqlState(err error) string {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C')
	}
	return ""
}
