package live

// The waiting queue of live consultations, kept in PostgreSQL so that
// every app instance sees one line per desk (table consultation_entries,
// migration 0015). Every read and write runs in the entry's tenant; the
// two sweeps across tenants go through SECURITY DEFINER functions that
// return ids only.
//
// Races between operators are settled by the database, not by checks
// made before writing: the next citizen is picked with FOR UPDATE SKIP
// LOCKED, so two operators never take the same one, and partial unique
// indexes keep one live entry per citizen and one call per operator.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/sportello/sportello/core/store"
)

// Errors of the queue; the HTTP status each maps to is in its comment.
var (
	ErrAlreadyQueued = errors.New("the citizen is already in a queue")             // 409
	ErrQueueEmpty    = errors.New("nobody is waiting")                             // 409
	ErrTaken         = errors.New("the call was taken by someone else or is over") // 409
	ErrOperatorBusy  = errors.New("the operator is already in a call")             // 409
	ErrNoEntry       = errors.New("no such queue entry")                           // 404
	ErrInvalid       = errors.New("invalid queue input")                           // 422
)

// qDefaultHandle is the expected length of a call at a desk that has had
// none yet: a guess is better than no estimate for the first citizens.
const qDefaultHandle = 6 * time.Minute

// qHandleSample is how many of a desk's latest calls the estimate
// averages: recent enough to follow the day, enough to smooth it.
const qHandleSample = 20

// Queue is the consultation queue of every tenant. It is safe for
// concurrent use.
type Queue struct {
	db  *store.DB
	now func() time.Time
}

// NewQueue returns the queue stored in db, on the real clock. The queue
// reads the time only from its clock, never from the database, so that
// order, appointments and drops follow one clock.
func NewQueue(db *store.DB) *Queue {
	return &Queue{db: db, now: time.Now}
}

// Entry is one visit of a citizen to a desk's queue, from joining to the
// end of the call. Optional times are nil when unset; ForOperator and
// OperatorID are 0 when unset.
type Entry struct {
	ID, TenantID             int64
	Desk                     string
	DossierID, CitizenID     int64
	CitizenName, Mode, Topic string
	Lang, Status             string
	QueuedAt, JoinedAt       time.Time
	AppointmentAt, TakenAt   *time.Time
	EndedAt, DroppedAt       *time.Time
	Head                     bool
	ForOperator, OperatorID  int64
	OperatorName, Instance   string
	EndReason                string
}

// JoinSpec is a citizen joining a desk's queue.
type JoinSpec struct {
	Desk                     string
	DossierID, CitizenID     int64
	CitizenName, Mode, Topic string
	Lang                     string
	// AppointmentAt, when set, is the citizen's booked time: they queue
	// as of that time (and are not taken before it) instead of now.
	AppointmentAt *time.Time
}

// Operator is an operator's presence.
type Operator struct {
	UserID       int64
	Name, Status string
	Desks        []string
	UpdatedAt    time.Time
}

// Message is one line of a call's chat.
type Message struct {
	ID                 int64
	At                 time.Time
	Author, Name, Body string
}

// qEntryColumns are read in the order qScanEntry expects.
const qEntryColumns = `tenant_id, id, desk, dossier_id, citizen_id, citizen_name, mode, topic, lang, status,
	queued_at, joined_at, appointment_at, taken_at, ended_at, dropped_at, head,
	coalesce(for_operator, 0), coalesce(operator_id, 0), operator_name, instance, end_reason`

// qQueueOrder is the order of a line: citizens back at the head first,
// then by their time.
const qQueueOrder = `head DESC, queued_at, id`

type qScanner interface{ Scan(dest ...any) error }

func qScanEntry(r qScanner) (*Entry, error) {
	var e Entry
	var appt, taken, ended, dropped sql.NullTime
	err := r.Scan(&e.TenantID, &e.ID, &e.Desk, &e.DossierID, &e.CitizenID, &e.CitizenName, &e.Mode, &e.Topic, &e.Lang, &e.Status,
		&e.QueuedAt, &e.JoinedAt, &appt, &taken, &ended, &dropped, &e.Head,
		&e.ForOperator, &e.OperatorID, &e.OperatorName, &e.Instance, &e.EndReason)
	if err != nil {
		return nil, err
	}
	e.AppointmentAt, e.TakenAt, e.EndedAt, e.DroppedAt = qTime(appt), qTime(taken), qTime(ended), qTime(dropped)
	return &e, nil
}

func qTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

// Join puts a citizen in the queue of a desk. A citizen waiting or in a
// call already, at any desk, is ErrAlreadyQueued.
func (q *Queue) Join(ctx context.Context, tenantID int64, j JoinSpec) (*Entry, error) {
	err := errors.Join(
		qText("desk", j.Desk, 1, 64),
		qID("dossier", j.DossierID),
		qID("citizen", j.CitizenID),
		qText("citizen name", j.CitizenName, 0, 200),
		qOneOf("mode", j.Mode, "video", "voice", "chat"),
		qText("topic", j.Topic, 0, 200),
		qText("language", j.Lang, 0, 16),
	)
	if err != nil {
		return nil, err
	}
	now := q.now()
	queued := now
	if j.AppointmentAt != nil {
		queued = *j.AppointmentAt
	}
	var out *Entry
	err = q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = qScanEntry(tx.QueryRowContext(ctx, `INSERT INTO consultation_entries
				(tenant_id, desk, dossier_id, citizen_id, citizen_name, mode, topic, lang, status,
				 queued_at, joined_at, appointment_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?)
			RETURNING `+qEntryColumns,
			tenantID, j.Desk, j.DossierID, j.CitizenID, j.CitizenName, j.Mode, j.Topic, j.Lang,
			queued, now, j.AppointmentAt))
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("join the queue of desk %q (citizen %d)", j.Desk, j.CitizenID), err)
	}
	return out, nil
}

// Get returns an entry of the tenant, or ErrNoEntry.
func (q *Queue) Get(ctx context.Context, tenantID, id int64) (*Entry, error) {
	var out *Entry
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = qGet(ctx, tx, tenantID, id, false)
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("read queue entry %d", id), err)
	}
	return out, nil
}

func qGet(ctx context.Context, tx bun.Tx, tenantID, id int64, lock bool) (*Entry, error) {
	query := `SELECT ` + qEntryColumns + ` FROM consultation_entries WHERE tenant_id = ? AND id = ?`
	if lock {
		query += ` FOR UPDATE`
	}
	e, err := qScanEntry(tx.QueryRowContext(ctx, query, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoEntry
	}
	return e, err
}

// Position is where a waiting entry stands in its desk's line: 1 is next.
// It counts the waiting entries ordered before it, dropped ones included
// (they keep their place while they may come back), except those handed
// on to a colleague other than the one this entry waits for: those are
// not in this entry's line. An entry not waiting is at position 0.
func (q *Queue) Position(ctx context.Context, tenantID, id int64) (int, error) {
	var pos int
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT CASE WHEN me.status <> 'waiting' THEN 0 ELSE 1 + (
				SELECT count(*) FROM consultation_entries o
				WHERE o.tenant_id = me.tenant_id AND o.desk = me.desk AND o.status = 'waiting' AND o.id <> me.id
				  AND (o.for_operator IS NULL OR o.for_operator = me.for_operator)
				  AND ((o.head AND NOT me.head)
				       OR (o.head = me.head AND (o.queued_at, o.id) < (me.queued_at, me.id))))
			END
			FROM consultation_entries me WHERE me.tenant_id = ? AND me.id = ?`, tenantID, id).Scan(&pos)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoEntry
		}
		return err
	})
	if err != nil {
		return 0, qFail(fmt.Sprintf("position of queue entry %d", id), err)
	}
	return pos, nil
}

// Waiting lists the waiting entries of desks (of every desk when desks
// is empty) in the order operators take them, dropped ones and future
// appointments included: the operators' view shows them all.
func (q *Queue) Waiting(ctx context.Context, tenantID int64, desks []string) ([]Entry, error) {
	if err := qDesks(desks); err != nil {
		return nil, err
	}
	var out []Entry
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		query := `SELECT ` + qEntryColumns + ` FROM consultation_entries WHERE tenant_id = ? AND status = 'waiting'`
		args := []any{tenantID}
		if len(desks) > 0 {
			query += ` AND desk = ANY(?)`
			args = append(args, pgdialect.Array(desks))
		}
		rows, err := tx.QueryContext(ctx, query+` ORDER BY `+qQueueOrder, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := qScanEntry(rows)
			if err != nil {
				return err
			}
			out = append(out, *e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, qFail("list the waiting citizens", err)
	}
	return out, nil
}

// TakeNext gives an operator the next citizen of their desks: the first
// waiting entry in queue order that is connected, is for anyone or for
// this operator, and whose time has come (an appointment enters the line
// at its time). Concurrent operators skip the entries others are taking
// rather than wait for them. ErrQueueEmpty when nobody is there,
// ErrOperatorBusy when the operator is in a call already.
func (q *Queue) TakeNext(ctx context.Context, tenantID, operatorID int64, operatorName string, desks []string, instance string) (*Entry, error) {
	err := errors.Join(qOperator(operatorID, operatorName, instance), qDesks(desks))
	if err == nil && len(desks) == 0 {
		err = fmt.Errorf("%w: no desk to take a citizen from", ErrInvalid)
	}
	if err != nil {
		return nil, err
	}
	now := q.now()
	var out *Entry
	err = q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if err := qFree(ctx, tx, tenantID, operatorID); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM consultation_entries
			WHERE tenant_id = ? AND status = 'waiting' AND desk = ANY(?) AND dropped_at IS NULL
			  AND (for_operator IS NULL OR for_operator = ?) AND queued_at <= ?
			ORDER BY `+qQueueOrder+`
			LIMIT 1 FOR UPDATE SKIP LOCKED`,
			tenantID, pgdialect.Array(desks), operatorID, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrQueueEmpty
		}
		if err != nil {
			return err
		}
		out, err = qTake(ctx, tx, tenantID, id, operatorID, operatorName, instance, now)
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("operator %d takes the next citizen of %s", operatorID, strings.Join(desks, ", ")), err)
	}
	return out, nil
}

// Take gives an operator a given entry (one handed on to them, or picked
// from the list). ErrTaken when the entry is not waiting, its citizen is
// not connected, or it is handed on to another colleague.
func (q *Queue) Take(ctx context.Context, tenantID, operatorID int64, operatorName string, id int64, instance string) (*Entry, error) {
	if err := qOperator(operatorID, operatorName, instance); err != nil {
		return nil, err
	}
	now := q.now()
	var out *Entry
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		// Locked, so that a colleague taking it at the same moment is
		// waited for and then seen to have it.
		e, err := qGet(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if e.Status != "waiting" || e.DroppedAt != nil || (e.ForOperator != 0 && e.ForOperator != operatorID) {
			return ErrTaken
		}
		if err := qFree(ctx, tx, tenantID, operatorID); err != nil {
			return err
		}
		out, err = qTake(ctx, tx, tenantID, id, operatorID, operatorName, instance, now)
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("operator %d takes queue entry %d", operatorID, id), err)
	}
	return out, nil
}

// qFree is ErrOperatorBusy when the operator is in a call. Two takes of
// one operator racing past it meet the unique index instead.
func qFree(ctx context.Context, tx bun.Tx, tenantID, operatorID int64) error {
	var busy bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM consultation_entries
		WHERE tenant_id = ? AND operator_id = ? AND status = 'in_call')`, tenantID, operatorID).Scan(&busy)
	if err != nil {
		return err
	}
	if busy {
		return ErrOperatorBusy
	}
	return nil
}

// qTake makes a locked waiting entry the operator's call.
func qTake(ctx context.Context, tx bun.Tx, tenantID, id, operatorID int64, operatorName, instance string, now time.Time) (*Entry, error) {
	e, err := qScanEntry(tx.QueryRowContext(ctx, `UPDATE consultation_entries SET
			status = 'in_call', operator_id = ?, operator_name = ?, instance = ?, taken_at = ?,
			head = false, for_operator = NULL
		WHERE tenant_id = ? AND id = ? AND status = 'waiting'
		RETURNING `+qEntryColumns,
		operatorID, operatorName, instance, now, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTaken
	}
	return e, err
}

// Requeue puts a call back at the head of its line, for any operator:
// the operator lost the connection, or the citizen did during the call.
// ErrTaken when the entry is not in a call.
func (q *Queue) Requeue(ctx context.Context, tenantID, id int64) (*Entry, error) {
	return q.qBackToLine(ctx, tenantID, id, "", 0, "requeue")
}

// Transfer hands a call on: back to waiting at the head of desk toDesk
// ("" keeps the desk) and, when toOperator > 0, for that colleague only.
// ErrTaken when the entry is not in a call.
func (q *Queue) Transfer(ctx context.Context, tenantID, id int64, toDesk string, toOperator int64) (*Entry, error) {
	err := qText("desk", toDesk, 0, 64)
	if err == nil && toOperator < 0 {
		err = fmt.Errorf("%w: operator id %d", ErrInvalid, toOperator)
	}
	if err != nil {
		return nil, err
	}
	return q.qBackToLine(ctx, tenantID, id, toDesk, toOperator, "transfer")
}

func (q *Queue) qBackToLine(ctx context.Context, tenantID, id int64, toDesk string, toOperator int64, what string) (*Entry, error) {
	var out *Entry
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = qScanEntry(tx.QueryRowContext(ctx, `UPDATE consultation_entries SET
				status = 'waiting', head = true,
				desk = CASE WHEN ?::text = '' THEN desk ELSE ?::text END,
				for_operator = NULLIF(?::bigint, 0),
				operator_id = NULL, operator_name = '', instance = '', taken_at = NULL
			WHERE tenant_id = ? AND id = ? AND status = 'in_call'
			RETURNING `+qEntryColumns,
			toDesk, toDesk, toOperator, tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return qUnchanged(ctx, tx, tenantID, id, ErrTaken)
		}
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("%s queue entry %d", what, id), err)
	}
	return out, nil
}

// qUnchanged explains an update that matched no row: ErrNoEntry when the
// entry does not exist, otherwise why (the entry's state did not allow it).
func qUnchanged(ctx context.Context, tx bun.Tx, tenantID, id int64, why error) error {
	var exists bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM consultation_entries WHERE tenant_id = ? AND id = ?)`,
		tenantID, id).Scan(&exists)
	if err != nil {
		return err
	}
	if !exists {
		return ErrNoEntry
	}
	return why
}

// End closes a waiting entry or a call: status is "ended" (served, or
// ended by the operator) or "left" (the citizen went away); reason says
// who or what ended it. Ending an entry already over changes nothing and
// returns it as it is, so that both sides may end a call at once.
func (q *Queue) End(ctx context.Context, tenantID, id int64, status, reason string) (*Entry, error) {
	if err := errors.Join(qOneOf("status", status, "ended", "left"), qText("reason", reason, 0, 200)); err != nil {
		return nil, err
	}
	now := q.now()
	var out *Entry
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = qScanEntry(tx.QueryRowContext(ctx, `UPDATE consultation_entries SET
				status = ?, ended_at = ?, end_reason = ?
			WHERE tenant_id = ? AND id = ? AND status IN ('waiting', 'in_call')
			RETURNING `+qEntryColumns,
			status, now, reason, tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			out, err = qGet(ctx, tx, tenantID, id, false)
		}
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("end queue entry %d", id), err)
	}
	return out, nil
}

// Dropped notes that the citizen's connection went away. A citizen who
// drops again before coming back keeps the first time: the grace period
// runs from when they left. An entry already over is left as it is.
func (q *Queue) Dropped(ctx context.Context, tenantID, id int64) error {
	now := q.now()
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE consultation_entries SET dropped_at = coalesce(dropped_at, ?)
			WHERE tenant_id = ? AND id = ? AND status IN ('waiting', 'in_call')`, now, tenantID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		return qUnchanged(ctx, tx, tenantID, id, nil)
	})
	if err != nil {
		return qFail(fmt.Sprintf("note the drop of queue entry %d", id), err)
	}
	return nil
}

// Returned notes that the citizen is connected again. ErrTaken when the
// entry is over: their place is lost.
func (q *Queue) Returned(ctx context.Context, tenantID, id int64) (*Entry, error) {
	var out *Entry
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = qScanEntry(tx.QueryRowContext(ctx, `UPDATE consultation_entries SET dropped_at = NULL
			WHERE tenant_id = ? AND id = ? AND status IN ('waiting', 'in_call')
			RETURNING `+qEntryColumns, tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return qUnchanged(ctx, tx, tenantID, id, ErrTaken)
		}
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("note the return of queue entry %d", id), err)
	}
	return out, nil
}

// Stale lists, across tenants, the waiting entries whose citizen dropped
// before `before` and has not come back, as (tenant id, entry id) pairs.
// The sweeper ends each one in its own tenant.
func (q *Queue) Stale(ctx context.Context, before time.Time) ([][2]int64, error) {
	out, err := q.qPairs(ctx, `SELECT tenant_id, id FROM consultation_stale_drops(?)`, before)
	if err != nil {
		return nil, fmt.Errorf("list the queue entries dropped before %s: %w", before.Format(time.RFC3339), err)
	}
	return out, nil
}

// LiveCalls lists, across tenants, the calls whose media the given app
// instance relays, as (tenant id, entry id) pairs: when its plugin
// restarts, or the instance starts again after a crash, those calls are
// broken and go back to the line.
func (q *Queue) LiveCalls(ctx context.Context, instance string) ([][2]int64, error) {
	out, err := q.qPairs(ctx, `SELECT tenant_id, id FROM consultation_live_calls(?)`, instance)
	if err != nil {
		return nil, fmt.Errorf("list the calls relayed by instance %q: %w", instance, err)
	}
	return out, nil
}

func (q *Queue) qPairs(ctx context.Context, query string, arg any) ([][2]int64, error) {
	rows, err := q.db.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetOperator records an operator's presence (status and desks), adding
// the operator the first time.
func (q *Queue) SetOperator(ctx context.Context, tenantID int64, op Operator) error {
	err := errors.Join(qID("operator", op.UserID), qText("operator name", op.Name, 0, 200),
		qOneOf("operator status", op.Status, "available", "away", "busy"), qDesks(op.Desks))
	if err != nil {
		return err
	}
	desks := op.Desks
	if desks == nil {
		desks = []string{}
	}
	now := q.now()
	err = q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO consultation_operators (tenant_id, user_id, name, status, desks, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, user_id) DO UPDATE SET
				name = excluded.name, status = excluded.status, desks = excluded.desks, updated_at = excluded.updated_at`,
			tenantID, op.UserID, op.Name, op.Status, pgdialect.Array(desks), now)
		return err
	})
	if err != nil {
		return qFail(fmt.Sprintf("record the presence of operator %d", op.UserID), err)
	}
	return nil
}

// Operators lists the tenant's operators with their presence, by name.
func (q *Queue) Operators(ctx context.Context, tenantID int64) ([]Operator, error) {
	var out []Operator
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT user_id, name, status, desks, updated_at
			FROM consultation_operators WHERE tenant_id = ? ORDER BY name, user_id`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var op Operator
			if err := rows.Scan(&op.UserID, &op.Name, &op.Status, pgdialect.Array(&op.Desks), &op.UpdatedAt); err != nil {
				return err
			}
			out = append(out, op)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, qFail("list the operators", err)
	}
	return out, nil
}

// AverageHandle is how long a call at the desk lasts, from being taken to
// its end, averaged over the desk's latest calls; 6 minutes at a desk
// that has had none.
func (q *Queue) AverageHandle(ctx context.Context, tenantID int64, desk string) (time.Duration, error) {
	if err := qText("desk", desk, 1, 64); err != nil {
		return 0, err
	}
	var n int
	var seconds float64
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*), coalesce(avg(extract(epoch FROM ended_at - taken_at)), 0)::float8
			FROM (SELECT taken_at, ended_at FROM consultation_entries
			      WHERE tenant_id = ? AND desk = ? AND taken_at IS NOT NULL AND ended_at IS NOT NULL
			      ORDER BY ended_at DESC, id DESC LIMIT ?) latest`,
			tenantID, desk, qHandleSample).Scan(&n, &seconds)
	})
	if err != nil {
		return 0, qFail(fmt.Sprintf("average call at desk %q", desk), err)
	}
	if n == 0 {
		return qDefaultHandle, nil
	}
	return time.Duration(seconds * float64(time.Second)).Round(time.Second), nil
}

// AddMessage appends a line to a call's chat. m.At is the time written
// (now when zero); m.ID is ignored.
func (q *Queue) AddMessage(ctx context.Context, tenantID, entryID int64, m Message) (*Message, error) {
	err := errors.Join(qOneOf("author", m.Author, "citizen", "operator", "system"), qText("name", m.Name, 0, 200), qText("message", m.Body, 1, 2000))
	if err != nil {
		return nil, err
	}
	at := m.At
	if at.IsZero() {
		at = q.now()
	}
	var out Message
	err = q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO consultation_messages (tenant_id, entry_id, at, author, name, body)
			SELECT tenant_id, id, ?, ?, ?, ? FROM consultation_entries WHERE tenant_id = ? AND id = ?
			RETURNING id, at, author, name, body`,
			at, m.Author, m.Name, m.Body, tenantID, entryID).Scan(&out.ID, &out.At, &out.Author, &out.Name, &out.Body)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoEntry
		}
		return err
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("add a chat message to queue entry %d", entryID), err)
	}
	return &out, nil
}

// Transcript is a call's chat, oldest first.
func (q *Queue) Transcript(ctx context.Context, tenantID, entryID int64) ([]Message, error) {
	var out []Message
	err := q.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if err := qUnchanged(ctx, tx, tenantID, entryID, nil); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, at, author, name, body FROM consultation_messages
			WHERE tenant_id = ? AND entry_id = ? ORDER BY id`, tenantID, entryID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Message
			if err := rows.Scan(&m.ID, &m.At, &m.Author, &m.Name, &m.Body); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, qFail(fmt.Sprintf("read the chat of queue entry %d", entryID), err)
	}
	return out, nil
}

// qFail gives err its context, turning the database's refusals into the
// queue's errors: the unique indexes into ErrAlreadyQueued and
// ErrOperatorBusy, a reference to a row of another tenant (or none) into
// ErrInvalid.
func qFail(what string, err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return fmt.Errorf("%s: %w", what, err)
	}
	constraint := pgErr.Field('n')
	switch pgErr.Field('C') {
	case "23505":
		switch constraint {
		case "consultation_entries_one_live_per_citizen":
			return fmt.Errorf("%s: %w", what, ErrAlreadyQueued)
		case "consultation_entries_one_call_per_operator":
			return fmt.Errorf("%s: %w", what, ErrOperatorBusy)
		}
	case "23503":
		return fmt.Errorf("%s: %w: %s does not exist (%s)", what, ErrInvalid, qReferenced(constraint), constraint)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// qReferenced names what a foreign key of the queue's tables points to.
func qReferenced(constraint string) string {
	for _, r := range []struct{ col, what string }{
		{"dossier_id", "the dossier"},
		{"citizen_id", "the citizen"},
		{"for_operator", "the operator handed on to"},
		{"operator_id", "the operator"},
		{"user_id", "the operator"},
		{"entry_id", "the queue entry"},
	} {
		if strings.Contains(constraint, r.col) {
			return r.what
		}
	}
	return "a referenced row"
}

// qText checks a text value: valid UTF-8 without NUL (which PostgreSQL
// refuses), between min and max characters long.
func qText(field, s string, lo, hi int) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%w: %s is not valid text", ErrInvalid, field)
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < lo && lo == 1:
		return fmt.Errorf("%w: %s is empty", ErrInvalid, field)
	case n < lo:
		return fmt.Errorf("%w: %s has %d characters, at least %d needed", ErrInvalid, field, n, lo)
	case n > hi:
		return fmt.Errorf("%w: %s has %d characters, at most %d allowed", ErrInvalid, field, n, hi)
	}
	return nil
}

func qOneOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %q is not one of %s", ErrInvalid, field, v, strings.Join(allowed, ", "))
}

func qID(field string, id int64) error {
	if id <= 0 {
		return fmt.Errorf("%w: %s id %d", ErrInvalid, field, id)
	}
	return nil
}

func qDesks(desks []string) error {
	if len(desks) > 100 {
		return fmt.Errorf("%w: %d desks, at most 100 allowed", ErrInvalid, len(desks))
	}
	for _, d := range desks {
		if err := qText("desk", d, 1, 64); err != nil {
			return err
		}
	}
	return nil
}

func qOperator(id int64, name, instance string) error {
	return errors.Join(qID("operator", id), qText("operator name", name, 0, 200), qText("instance", instance, 0, 200))
}
