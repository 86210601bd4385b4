package live

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store/pgtest"
)

// qClock is the queue's clock, moved by the test.
type qClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *qClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *qClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

var qStart = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// qEnv is one test's database and queue, with data made in plain SQL.
type qEnv struct {
	t     *testing.T
	ctx   context.Context
	db    *pgtest.DB
	q     *Queue
	clock *qClock
	seq   int
}

func qNewEnv(t *testing.T) *qEnv {
	t.Helper()
	db := pg.NewDB(t)
	c := &qClock{now: qStart}
	q := NewQueue(db.App)
	q.now = c.Now
	return &qEnv{t: t, ctx: context.Background(), db: db, q: q, clock: c}
}

func (e *qEnv) tenant(slug string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.Owner.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(e.ctx, &id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *qEnv) insert(tenant int64, query string, args ...any) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.InTenant(e.ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(&id)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *qEnv) next() int {
	e.seq++
	return e.seq
}

func (e *qEnv) citizen(tenant int64, name string) int64 {
	return e.insert(tenant, "INSERT INTO citizens (tenant_id, issuer, subject, name) VALUES (?, 'test', ?, ?) RETURNING id",
		tenant, fmt.Sprintf("c%d", e.next()), name)
}

func (e *qEnv) staff(tenant int64, name string) int64 {
	return e.insert(tenant, "INSERT INTO users (tenant_id, email, name) VALUES (?, ?, ?) RETURNING id",
		tenant, fmt.Sprintf("op%d@example.org", e.next()), name)
}

func (e *qEnv) dossier(tenant, citizen int64) int64 {
	return e.insert(tenant, `INSERT INTO dossiers (tenant_id, number, service_id, citizen_id, status, title, channel)
		VALUES (?, ?, 'consultation', ?, 'open', 'Consulenza', 'consultation') RETURNING id`,
		tenant, fmt.Sprintf("2026-%06d", e.next()), citizen)
}

// join puts a new citizen (with a dossier of their own) in desk's queue.
func (e *qEnv) join(tenant int64, desk, name string) *Entry {
	e.t.Helper()
	return e.joinSpec(tenant, JoinSpec{Desk: desk, CitizenName: name})
}

func (e *qEnv) joinSpec(tenant int64, j JoinSpec) *Entry {
	e.t.Helper()
	if j.CitizenID == 0 {
		j.CitizenID = e.citizen(tenant, j.CitizenName)
	}
	if j.DossierID == 0 {
		j.DossierID = e.dossier(tenant, j.CitizenID)
	}
	if j.Mode == "" {
		j.Mode = "video"
	}
	en, err := e.q.Join(e.ctx, tenant, j)
	if err != nil {
		e.t.Fatalf("join %q: %v", j.CitizenName, err)
	}
	return en
}

func (e *qEnv) get(tenant, id int64) *Entry {
	e.t.Helper()
	en, err := e.q.Get(e.ctx, tenant, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return en
}

// takeNext has operator op take the next citizen of desks; the name of
// the citizen taken, or the error.
func (e *qEnv) takeNext(tenant, op int64, desks ...string) (string, error) {
	en, err := e.q.TakeNext(e.ctx, tenant, op, "Operatore", desks, "app-1")
	if err != nil {
		return "", err
	}
	return en.CitizenName, nil
}

func (e *qEnv) end(tenant, id int64) {
	e.t.Helper()
	if _, err := e.q.End(e.ctx, tenant, id, "ended", "operator"); err != nil {
		e.t.Fatal(err)
	}
}

func (e *qEnv) waiting(tenant int64, desks ...string) []string {
	e.t.Helper()
	list, err := e.q.Waiting(e.ctx, tenant, desks)
	if err != nil {
		e.t.Fatal(err)
	}
	names := make([]string, len(list))
	for i, en := range list {
		names[i] = en.CitizenName
	}
	return names
}

func qWantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil {
		t.Errorf("%s: %v, want success", what, err)
	} else if want != nil && !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func qWantNames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func TestQueueJoin(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	appt := qStart.Add(30 * time.Minute)
	cit := e.citizen(a, "Mario Rossi")
	en := e.joinSpec(a, JoinSpec{Desk: "urp", CitizenID: cit, CitizenName: "Mario Rossi", Mode: "voice",
		Topic: "Carta d'identità", Lang: "it", AppointmentAt: &appt})
	if en.Status != "waiting" || en.Desk != "urp" || en.Mode != "voice" || en.Topic != "Carta d'identità" || en.Lang != "it" ||
		en.TenantID != a || en.CitizenID != cit || en.Head || en.OperatorID != 0 || en.TakenAt != nil || en.EndedAt != nil {
		t.Errorf("joined entry: %+v", en)
	}
	if !en.QueuedAt.Equal(appt) || !en.JoinedAt.Equal(qStart) || en.AppointmentAt == nil || !en.AppointmentAt.Equal(appt) {
		t.Errorf("times: queued %v joined %v appointment %v, want queued at the appointment %v, joined %v",
			en.QueuedAt, en.JoinedAt, en.AppointmentAt, appt, qStart)
	}
	if got := e.get(a, en.ID); !reflect.DeepEqual(got, en) {
		t.Errorf("Get = %+v, want %+v", got, en)
	}

	// Once in a line, at whatever desk, until the entry is over.
	_, err := e.q.Join(e.ctx, a, JoinSpec{Desk: "anagrafe", DossierID: e.dossier(a, cit), CitizenID: cit, Mode: "chat"})
	qWantErr(t, "second join", err, ErrAlreadyQueued)
	_, err = e.q.TakeNext(e.ctx, a, e.staff(a, "Giulia"), "Giulia", []string{"urp"}, "app-1")
	qWantErr(t, "take before the appointment is due", err, ErrQueueEmpty)
	if _, err := e.q.End(e.ctx, a, en.ID, "left", "citizen"); err != nil {
		t.Fatal(err)
	}
	again := e.joinSpec(a, JoinSpec{Desk: "anagrafe", CitizenID: cit, CitizenName: "Mario Rossi"})
	if again.ID == en.ID || !again.QueuedAt.Equal(qStart) {
		t.Errorf("join after leaving: %+v", again)
	}

	// Two joins of one citizen at the same moment: one gets in.
	other := e.citizen(a, "Anna Verdi")
	d1, d2 := e.dossier(a, other), e.dossier(a, other)
	errs := make(chan error, 2)
	for _, d := range []int64{d1, d2} {
		go func() {
			_, err := e.q.Join(e.ctx, a, JoinSpec{Desk: "urp", DossierID: d, CitizenID: other, Mode: "chat"})
			errs <- err
		}()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) || !(errors.Is(e1, ErrAlreadyQueued) || errors.Is(e2, ErrAlreadyQueued)) {
		t.Errorf("concurrent joins: %v and %v, want one success and one ErrAlreadyQueued", e1, e2)
	}
}

func TestQueueOrder(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	op := e.staff(a, "Giulia")

	first := e.join(a, "urp", "first")
	e.clock.Advance(time.Minute)
	e.join(a, "urp", "second")
	e.clock.Advance(time.Minute)
	e.join(a, "anagrafe", "third")
	late := qStart.Add(-10 * time.Minute) // booked before anyone joined, arrives now
	e.joinSpec(a, JoinSpec{Desk: "urp", CitizenName: "late appointment", AppointmentAt: &late})
	future := e.clock.Now().Add(30 * time.Minute)
	e.joinSpec(a, JoinSpec{Desk: "urp", CitizenName: "future appointment", AppointmentAt: &future})
	e.clock.Advance(time.Minute)

	// The first citizen's call breaks off: back at the head.
	if name, err := e.takeNext(a, op, "urp"); err != nil || name != "late appointment" {
		t.Fatalf("first take: %q, %v", name, err)
	}
	if name, err := e.takeNext(a, e.staff(a, "Luca"), "urp"); err != nil || name != "first" {
		t.Fatalf("second take: %q, %v", name, err)
	}
	if _, err := e.q.Requeue(e.ctx, a, first.ID); err != nil {
		t.Fatal(err)
	}

	qWantNames(t, "waiting at urp", e.waiting(a, "urp"), "first", "second", "future appointment")
	qWantNames(t, "waiting everywhere", e.waiting(a), "first", "second", "third", "future appointment")
	qWantNames(t, "waiting at two desks", e.waiting(a, "anagrafe", "urp"), "first", "second", "third", "future appointment")
	qWantNames(t, "waiting at another desk", e.waiting(a, "tributi"))

	// Each take by an operator of their own, free for a call.
	for i, s := range []struct {
		desks []string
		want  string
		err   error
	}{
		{[]string{"anagrafe"}, "third", nil},
		{[]string{"urp", "anagrafe"}, "first", nil},
		{[]string{"urp"}, "second", nil},
		{[]string{"urp", "anagrafe"}, "", ErrQueueEmpty}, // the appointment is not due
	} {
		name, err := e.takeNext(a, e.staff(a, fmt.Sprintf("Operatore %d", i)), s.desks...)
		qWantErr(t, fmt.Sprintf("take %d from %v", i, s.desks), err, s.err)
		if name != s.want {
			t.Errorf("take %d from %v: got %q, want %q", i, s.desks, name, s.want)
		}
	}
	e.clock.Advance(29 * time.Minute)
	if name, err := e.takeNext(a, e.staff(a, "Marta"), "urp"); err != nil || name != "future appointment" {
		t.Errorf("take at the appointment's time: %q, %v", name, err)
	}
	qWantNames(t, "waiting at the end", e.waiting(a))
}

func TestQueuePosition(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	giulia, luca := e.staff(a, "Giulia"), e.staff(a, "Luca")

	// A call handed on to Giulia, one back at the head for anyone.
	forGiulia := e.join(a, "urp", "for Giulia")
	back := e.join(a, "urp", "back")
	e.clock.Advance(time.Minute)
	for _, en := range []*Entry{forGiulia, back} {
		if _, err := e.q.Take(e.ctx, a, luca, "Luca", en.ID, "app-1"); err != nil {
			t.Fatal(err)
		}
		if en == forGiulia {
			if _, err := e.q.Transfer(e.ctx, a, en.ID, "", giulia); err != nil {
				t.Fatal(err)
			}
		} else if _, err := e.q.Requeue(e.ctx, a, en.ID); err != nil {
			t.Fatal(err)
		}
	}
	one := e.join(a, "urp", "one")
	e.clock.Advance(time.Minute)
	two := e.join(a, "urp", "two")
	e.clock.Advance(time.Minute)
	three := e.join(a, "urp", "three")
	elsewhere := e.join(a, "anagrafe", "elsewhere")
	if err := e.q.Dropped(e.ctx, a, two.ID); err != nil { // keeps its place
		t.Fatal(err)
	}
	inCall := e.join(a, "tributi", "in a call")
	if _, err := e.q.TakeNext(e.ctx, a, luca, "Luca", []string{"tributi"}, "app-1"); err != nil {
		t.Fatal(err)
	}
	over := e.join(a, "urp", "over")
	e.end(a, over.ID)

	for _, c := range []struct {
		en   *Entry
		want int
	}{
		{back, 1},
		{one, 2},
		{two, 3},
		{three, 4},
		{forGiulia, 1}, // only the line Giulia takes from is ahead of it: nobody
		{elsewhere, 1},
		{inCall, 0},
		{over, 0},
	} {
		got, err := e.q.Position(e.ctx, a, c.en.ID)
		if err != nil || got != c.want {
			t.Errorf("position of %q: %d, %v; want %d", c.en.CitizenName, got, err, c.want)
		}
	}
	_, err := e.q.Position(e.ctx, a, 999999)
	qWantErr(t, "position of no entry", err, ErrNoEntry)

	// The hub counts the same from one read of the queue.
	v := &view{h: &Hub{q: e.q}, tenant: a}
	if err := v.load(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, en := range []*Entry{back, one, two, three, forGiulia, elsewhere, inCall, over} {
		want, err := e.q.Position(e.ctx, a, en.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := v.position(en.ID); got != want {
			t.Errorf("the hub's position of %q: %d, want %d", en.CitizenName, got, want)
		}
	}
}

func TestQueueTakeNextSkipsDroppedAndTransfers(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	giulia, luca, marta := e.staff(a, "Giulia"), e.staff(a, "Luca"), e.staff(a, "Marta")

	handed := e.join(a, "urp", "handed to Giulia")
	e.clock.Advance(time.Minute)
	dropped := e.join(a, "urp", "dropped")
	e.clock.Advance(time.Minute)
	e.join(a, "urp", "plain")
	e.clock.Advance(time.Minute)

	if _, err := e.q.Take(e.ctx, a, marta, "Marta", handed.ID, "app-1"); err != nil {
		t.Fatal(err)
	}
	tr, err := e.q.Transfer(e.ctx, a, handed.ID, "", giulia)
	if err != nil {
		t.Fatal(err)
	}
	if tr.ForOperator != giulia || !tr.Head || tr.Status != "waiting" || tr.OperatorID != 0 {
		t.Fatalf("transferred: %+v", tr)
	}
	if err := e.q.Dropped(e.ctx, a, dropped.ID); err != nil {
		t.Fatal(err)
	}

	if name, err := e.takeNext(a, luca, "urp"); err != nil || name != "plain" {
		t.Errorf("Luca takes %q, %v; want the plain entry (not Giulia's, not the dropped one)", name, err)
	}
	if name, err := e.takeNext(a, giulia, "urp"); err != nil || name != "handed to Giulia" {
		t.Errorf("Giulia takes %q, %v; want the one handed to her", name, err)
	}
	if name, err := e.takeNext(a, marta, "urp"); !errors.Is(err, ErrQueueEmpty) {
		t.Errorf("Marta takes %q, %v; want ErrQueueEmpty (the only one left is dropped)", name, err)
	}
	ret, err := e.q.Returned(e.ctx, a, dropped.ID)
	if err != nil || ret.DroppedAt != nil {
		t.Fatalf("returned: %+v, %v", ret, err)
	}
	if name, err := e.takeNext(a, marta, "urp"); err != nil || name != "dropped" {
		t.Errorf("Marta takes %q, %v; want the citizen who came back", name, err)
	}
}

func TestQueueConcurrentTakes(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	const entries, operators = 10, 20
	want := map[int64]bool{}
	for i := range entries {
		en := e.join(a, []string{"urp", "anagrafe"}[i%2], fmt.Sprintf("citizen %d", i))
		want[en.ID] = true
	}
	ops := make([]int64, operators)
	for i := range ops {
		ops[i] = e.staff(a, fmt.Sprintf("Operatore %d", i))
	}

	var mu sync.Mutex
	taken := map[int64]int{}
	var failures []error
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				en, err := e.q.TakeNext(e.ctx, a, op, "Operatore", []string{"urp", "anagrafe"}, "app-1")
				if errors.Is(err, ErrQueueEmpty) {
					return
				}
				if err == nil {
					_, err = e.q.End(e.ctx, a, en.ID, "ended", "operator")
				}
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					taken[en.ID]++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range failures {
		t.Errorf("take: %v", err)
	}
	for id := range want {
		if taken[id] != 1 {
			t.Errorf("entry %d taken %d times, want once", id, taken[id])
		}
	}
	if len(taken) != entries {
		t.Errorf("%d entries taken, want %d", len(taken), entries)
	}
	qWantNames(t, "waiting after the rush", e.waiting(a))
}

func TestQueueOperatorBusy(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	op := e.staff(a, "Giulia")
	first := e.join(a, "urp", "first")
	second := e.join(a, "urp", "second")

	if _, err := e.takeNext(a, op, "urp"); err != nil {
		t.Fatal(err)
	}
	_, err := e.takeNext(a, op, "urp")
	qWantErr(t, "take next while in a call", err, ErrOperatorBusy)
	_, err = e.q.Take(e.ctx, a, op, "Giulia", second.ID, "app-1")
	qWantErr(t, "take while in a call", err, ErrOperatorBusy)
	if got := e.get(a, second.ID); got.Status != "waiting" {
		t.Errorf("the refused take changed the entry: %+v", got)
	}

	e.end(a, first.ID)
	if name, err := e.takeNext(a, op, "urp"); err != nil || name != "second" {
		t.Errorf("take after the call ended: %q, %v", name, err)
	}
}

func TestQueueTake(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	giulia, luca, marta := e.staff(a, "Giulia"), e.staff(a, "Luca"), e.staff(a, "Marta")

	byColleague := e.join(a, "urp", "taken by Luca")
	if _, err := e.q.Take(e.ctx, a, luca, "Luca", byColleague.ID, "app-2"); err != nil {
		t.Fatal(err)
	}
	dropped := e.join(a, "urp", "dropped")
	if err := e.q.Dropped(e.ctx, a, dropped.ID); err != nil {
		t.Fatal(err)
	}
	forMarta := e.join(a, "urp", "for Marta")
	if _, err := e.q.Take(e.ctx, a, marta, "Marta", forMarta.ID, "app-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.q.Transfer(e.ctx, a, forMarta.ID, "anagrafe", marta); err != nil {
		t.Fatal(err)
	}
	over := e.join(a, "urp", "over")
	e.end(a, over.ID)

	for _, c := range []struct {
		what string
		id   int64
		want error
	}{
		{"an entry a colleague took", byColleague.ID, ErrTaken},
		{"a dropped entry", dropped.ID, ErrTaken},
		{"an entry handed to a colleague", forMarta.ID, ErrTaken},
		{"an entry over", over.ID, ErrTaken},
		{"no entry", 999999, ErrNoEntry},
	} {
		_, err := e.q.Take(e.ctx, a, giulia, "Giulia", c.id, "app-1")
		qWantErr(t, "take "+c.what, err, c.want)
	}
	if got := e.get(a, byColleague.ID); got.OperatorID != luca || got.OperatorName != "Luca" || got.Instance != "app-2" {
		t.Errorf("the colleague's call changed: %+v", got)
	}

	mine := e.join(a, "urp", "mine")
	e.clock.Advance(time.Minute)
	got, err := e.q.Take(e.ctx, a, giulia, "Giulia", mine.ID, "app-3")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "in_call" || got.OperatorID != giulia || got.OperatorName != "Giulia" || got.Instance != "app-3" ||
		got.TakenAt == nil || !got.TakenAt.Equal(e.clock.Now()) {
		t.Errorf("taken: %+v", got)
	}
	calls, err := e.q.LiveCalls(e.ctx, "app-3")
	if err != nil || !reflect.DeepEqual(calls, [][2]int64{{a, mine.ID}}) {
		t.Errorf("live calls of app-3: %v, %v", calls, err)
	}
}

func TestQueueRequeueAndTransfer(t *testing.T) {
	e := qNewEnv(t)
	a, b := e.tenant("lugano"), e.tenant("bellinzona")
	giulia, luca := e.staff(a, "Giulia"), e.staff(a, "Luca")
	foreign := e.staff(b, "Sara")

	en := e.join(a, "urp", "Mario")
	_, err := e.q.Requeue(e.ctx, a, en.ID)
	qWantErr(t, "requeue a waiting entry", err, ErrTaken)
	_, err = e.q.Transfer(e.ctx, a, en.ID, "anagrafe", 0)
	qWantErr(t, "transfer a waiting entry", err, ErrTaken)

	if _, err := e.q.Take(e.ctx, a, giulia, "Giulia", en.ID, "app-1"); err != nil {
		t.Fatal(err)
	}
	back, err := e.q.Requeue(e.ctx, a, en.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Status != "waiting" || !back.Head || back.OperatorID != 0 || back.OperatorName != "" || back.Instance != "" ||
		back.TakenAt != nil || back.ForOperator != 0 || back.Desk != "urp" {
		t.Errorf("requeued: %+v", back)
	}

	if _, err := e.q.Take(e.ctx, a, luca, "Luca", en.ID, "app-1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.q.Transfer(e.ctx, a, en.ID, "", foreign)
	qWantErr(t, "transfer to an operator of another town", err, ErrInvalid)
	if got := e.get(a, en.ID); got.Status != "in_call" || got.OperatorID != luca {
		t.Errorf("the refused transfer changed the call: %+v", got)
	}

	tr, err := e.q.Transfer(e.ctx, a, en.ID, "anagrafe", giulia)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != "waiting" || !tr.Head || tr.Desk != "anagrafe" || tr.ForOperator != giulia || tr.OperatorID != 0 {
		t.Errorf("transferred: %+v", tr)
	}
	qWantNames(t, "waiting at the new desk", e.waiting(a, "anagrafe"), "Mario")
	taken, err := e.q.TakeNext(e.ctx, a, giulia, "Giulia", []string{"anagrafe"}, "app-1")
	if err != nil {
		t.Fatal(err)
	}
	if taken.ID != en.ID || taken.Head || taken.ForOperator != 0 {
		t.Errorf("taken after the transfer: %+v", taken)
	}
	tr, err = e.q.Transfer(e.ctx, a, en.ID, "", 0)
	if err != nil || tr.Desk != "anagrafe" || tr.ForOperator != 0 || !tr.Head {
		t.Errorf("transfer within the desk to anyone: %+v, %v", tr, err)
	}
}

func TestQueueEnd(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	op := e.staff(a, "Giulia")

	waiting := e.join(a, "urp", "gives up")
	e.clock.Advance(time.Minute)
	left, err := e.q.End(e.ctx, a, waiting.ID, "left", "citizen")
	if err != nil {
		t.Fatal(err)
	}
	if left.Status != "left" || left.EndReason != "citizen" || left.EndedAt == nil || !left.EndedAt.Equal(e.clock.Now()) {
		t.Errorf("left: %+v", left)
	}

	call := e.join(a, "urp", "served")
	if _, err := e.takeNext(a, op, "urp"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	ended, err := e.q.End(e.ctx, a, call.ID, "ended", "operator")
	if err != nil || ended.Status != "ended" || ended.EndReason != "operator" || ended.OperatorID != op {
		t.Fatalf("ended: %+v, %v", ended, err)
	}

	// Both sides end at once: the second end changes nothing.
	e.clock.Advance(time.Minute)
	for _, c := range []struct {
		en     *Entry
		status string
	}{{left, "ended"}, {ended, "left"}} {
		again, err := e.q.End(e.ctx, a, c.en.ID, c.status, "timeout")
		if err != nil || !reflect.DeepEqual(again, c.en) {
			t.Errorf("ending %q again: %+v, %v; want it unchanged %+v", c.en.CitizenName, again, err, c.en)
		}
	}
	_, err = e.q.End(e.ctx, a, 999999, "ended", "operator")
	qWantErr(t, "end no entry", err, ErrNoEntry)
	_, err = e.q.Returned(e.ctx, a, left.ID)
	qWantErr(t, "return to an entry over", err, ErrTaken)
	if err := e.q.Dropped(e.ctx, a, left.ID); err != nil {
		t.Errorf("drop of an entry over: %v", err)
	}
	if got := e.get(a, left.ID); got.DroppedAt != nil {
		t.Errorf("an entry over was marked dropped: %+v", got)
	}

	// The operator is free for the next citizen.
	e.join(a, "urp", "next")
	if name, err := e.takeNext(a, op, "urp"); err != nil || name != "next" {
		t.Errorf("take after the end: %q, %v", name, err)
	}
}

func TestQueueStaleAndLiveCallsAcrossTenants(t *testing.T) {
	e := qNewEnv(t)
	a, b := e.tenant("lugano"), e.tenant("bellinzona")
	opA, opB := e.staff(a, "Giulia"), e.staff(b, "Sara")

	staleA := e.join(a, "urp", "stale A")
	staleB := e.join(b, "urp", "stale B")
	back := e.join(a, "urp", "came back")
	for _, en := range []*Entry{staleA, staleB, back} {
		if err := e.q.Dropped(e.ctx, en.TenantID, en.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.q.Returned(e.ctx, a, back.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	// Dropping again does not restart the grace period.
	if err := e.q.Dropped(e.ctx, a, staleA.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(a, staleA.ID); got.DroppedAt == nil || !got.DroppedAt.Equal(qStart) {
		t.Errorf("dropped twice: dropped at %v, want the first time %v", got.DroppedAt, qStart)
	}
	recent := e.join(b, "anagrafe", "recent")
	if err := e.q.Dropped(e.ctx, b, recent.ID); err != nil {
		t.Fatal(err)
	}
	inCallA := e.join(a, "anagrafe", "in a call A")
	inCallB := e.join(b, "urp", "in a call B")
	if _, err := e.q.Take(e.ctx, a, opA, "Giulia", inCallA.ID, "app-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.q.Take(e.ctx, b, opB, "Sara", inCallB.ID, "app-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.q.Dropped(e.ctx, a, inCallA.ID); err != nil { // a call is no stale waiting entry
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)

	got, err := e.q.Stale(e.ctx, qStart.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int64{{a, staleA.ID}, {b, staleB.ID}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stale: %v, want %v", got, want)
	}
	if got, err := e.q.Stale(e.ctx, qStart); err != nil || len(got) != 0 {
		t.Errorf("stale before the first drop: %v, %v", got, err)
	}

	calls, err := e.q.LiveCalls(e.ctx, "app-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int64{{a, inCallA.ID}, {b, inCallB.ID}}; !reflect.DeepEqual(calls, want) {
		t.Errorf("live calls of app-1: %v, want %v", calls, want)
	}
	if calls, err := e.q.LiveCalls(e.ctx, "app-2"); err != nil || len(calls) != 0 {
		t.Errorf("live calls of app-2: %v, %v", calls, err)
	}
}

func TestQueueTenantIsolation(t *testing.T) {
	e := qNewEnv(t)
	a, b := e.tenant("lugano"), e.tenant("bellinzona")
	opB := e.staff(b, "Sara")
	waiting := e.join(a, "urp", "waiting in A")
	call := e.join(a, "urp", "in a call in A")
	if _, err := e.q.Take(e.ctx, a, e.staff(a, "Giulia"), "Giulia", call.ID, "app-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.q.AddMessage(e.ctx, a, call.ID, Message{Author: "citizen", Name: "Mario", Body: "Buongiorno"}); err != nil {
		t.Fatal(err)
	}
	before := map[int64]*Entry{waiting.ID: e.get(a, waiting.ID), call.ID: e.get(a, call.ID)}

	for _, id := range []int64{waiting.ID, call.ID} {
		for _, c := range []struct {
			what string
			do   func() error
		}{
			{"Get", func() error { _, err := e.q.Get(e.ctx, b, id); return err }},
			{"Position", func() error { _, err := e.q.Position(e.ctx, b, id); return err }},
			{"Take", func() error { _, err := e.q.Take(e.ctx, b, opB, "Sara", id, "app-1"); return err }},
			{"Requeue", func() error { _, err := e.q.Requeue(e.ctx, b, id); return err }},
			{"Transfer", func() error { _, err := e.q.Transfer(e.ctx, b, id, "urp", opB); return err }},
			{"End", func() error { _, err := e.q.End(e.ctx, b, id, "ended", "operator"); return err }},
			{"Dropped", func() error { return e.q.Dropped(e.ctx, b, id) }},
			{"Returned", func() error { _, err := e.q.Returned(e.ctx, b, id); return err }},
			{"AddMessage", func() error {
				_, err := e.q.AddMessage(e.ctx, b, id, Message{Author: "operator", Body: "x"})
				return err
			}},
			{"Transcript", func() error { _, err := e.q.Transcript(e.ctx, b, id); return err }},
		} {
			qWantErr(t, fmt.Sprintf("tenant B's %s of A's entry %d", c.what, id), c.do(), ErrNoEntry)
		}
	}
	_, err := e.q.TakeNext(e.ctx, b, opB, "Sara", []string{"urp"}, "app-1")
	qWantErr(t, "tenant B takes next at a desk of the same name", err, ErrQueueEmpty)
	qWantNames(t, "tenant B's line", e.waiting(b))
	_, err = e.q.Join(e.ctx, b, JoinSpec{Desk: "urp", DossierID: waiting.DossierID, CitizenID: e.citizen(b, "Sara"), Mode: "chat"})
	qWantErr(t, "tenant B joins with A's dossier", err, ErrInvalid)
	_, err = e.q.Join(e.ctx, b, JoinSpec{Desk: "urp", DossierID: e.dossier(b, e.citizen(b, "Ugo")), CitizenID: waiting.CitizenID, Mode: "chat"})
	qWantErr(t, "tenant B joins as A's citizen", err, ErrInvalid)
	err = e.q.SetOperator(e.ctx, b, Operator{UserID: before[call.ID].OperatorID, Status: "available"})
	qWantErr(t, "tenant B sets the presence of A's operator", err, ErrInvalid)

	for id, was := range before {
		if now := e.get(a, id); !reflect.DeepEqual(now, was) {
			t.Errorf("entry %d changed from another tenant:\n got %+v\nwant %+v", id, now, was)
		}
	}
	if msgs, err := e.q.Transcript(e.ctx, a, call.ID); err != nil || len(msgs) != 1 {
		t.Errorf("A's transcript after B's attempts: %+v, %v", msgs, err)
	}
}

func TestQueueTranscript(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	en := e.join(a, "urp", "Mario")
	if msgs, err := e.q.Transcript(e.ctx, a, en.ID); err != nil || len(msgs) != 0 {
		t.Fatalf("empty transcript: %+v, %v", msgs, err)
	}

	written := []Message{
		{Author: "system", Body: "La chiamata è iniziata."},
		{Author: "operator", Name: "Giulia", Body: "Buongiorno, come posso aiutarla?"},
		{Author: "citizen", Name: "Mario", Body: "Grüezi! Ho bisogno di un certificato 📄\nper domani."},
		{Author: "citizen", Name: "Mario", Body: strings.Repeat("è", 2000)},
	}
	var stored []Message
	for i, m := range written {
		e.clock.Advance(time.Second)
		got, err := e.q.AddMessage(e.ctx, a, en.ID, m)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got.ID == 0 || !got.At.Equal(e.clock.Now()) || got.Author != m.Author || got.Name != m.Name || got.Body != m.Body {
			t.Errorf("message %d stored as %+v", i, got)
		}
		stored = append(stored, *got)
	}
	stamped := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	got, err := e.q.AddMessage(e.ctx, a, en.ID, Message{Author: "system", Body: "ora data", At: stamped})
	if err != nil || !got.At.Equal(stamped) {
		t.Errorf("message with its own time: %+v, %v", got, err)
	}
	stored = append(stored, *got)

	msgs, err := e.q.Transcript(e.ctx, a, en.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(msgs, stored) {
		t.Errorf("transcript:\n got %+v\nwant %+v", msgs, stored)
	}
	_, err = e.q.AddMessage(e.ctx, a, 999999, Message{Author: "citizen", Body: "x"})
	qWantErr(t, "message to no entry", err, ErrNoEntry)
	_, err = e.q.Transcript(e.ctx, a, 999999)
	qWantErr(t, "transcript of no entry", err, ErrNoEntry)
}

func TestQueueOperators(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	giulia, luca := e.staff(a, "Giulia"), e.staff(a, "Luca")

	if ops, err := e.q.Operators(e.ctx, a); err != nil || len(ops) != 0 {
		t.Fatalf("no operators yet: %+v, %v", ops, err)
	}
	set := func(op Operator) {
		t.Helper()
		if err := e.q.SetOperator(e.ctx, a, op); err != nil {
			t.Fatal(err)
		}
	}
	set(Operator{UserID: luca, Name: "Luca", Status: "available", Desks: []string{"urp", "anagrafe"}})
	set(Operator{UserID: giulia, Name: "Giulia", Status: "available"})
	e.clock.Advance(time.Minute)
	set(Operator{UserID: giulia, Name: "Giulia Neri", Status: "busy", Desks: []string{"urp"}})

	ops, err := e.q.Operators(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := []Operator{
		{UserID: giulia, Name: "Giulia Neri", Status: "busy", Desks: []string{"urp"}, UpdatedAt: e.clock.Now()},
		{UserID: luca, Name: "Luca", Status: "available", Desks: []string{"urp", "anagrafe"}, UpdatedAt: qStart},
	}
	if len(ops) != len(want) {
		t.Fatalf("operators: %+v, want %+v", ops, want)
	}
	for i := range want {
		g, w := ops[i], want[i]
		if g.UserID != w.UserID || g.Name != w.Name || g.Status != w.Status || !reflect.DeepEqual(g.Desks, w.Desks) || !g.UpdatedAt.Equal(w.UpdatedAt) {
			t.Errorf("operator %d: %+v, want %+v", i, g, w)
		}
	}
	set(Operator{UserID: giulia, Name: "Giulia", Status: "away"})
	if ops, err := e.q.Operators(e.ctx, a); err != nil || ops[0].Status != "away" || len(ops[0].Desks) != 0 {
		t.Errorf("operator without desks: %+v, %v", ops, err)
	}
}

func TestQueueAverageHandle(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	op := e.staff(a, "Giulia")

	if d, err := e.q.AverageHandle(e.ctx, a, "urp"); err != nil || d != 6*time.Minute {
		t.Fatalf("no calls yet: %v, %v; want 6m", d, err)
	}
	// call serves one citizen at desk for d.
	call := func(desk string, d time.Duration) {
		t.Helper()
		en := e.join(a, desk, "citizen")
		if _, err := e.q.Take(e.ctx, a, op, "Giulia", en.ID, "app-1"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(d)
		e.end(a, en.ID)
	}
	// The oldest calls fall out of the sample of the latest 20.
	for range 5 {
		call("urp", time.Hour)
	}
	for i := range 20 {
		call("urp", time.Duration(2+2*(i%2))*time.Minute) // 2 and 4 minutes in turn
	}
	call("anagrafe", 30*time.Minute)
	// A citizen who left without a call counts for nothing.
	gone := e.join(a, "urp", "gone")
	e.clock.Advance(time.Hour)
	if _, err := e.q.End(e.ctx, a, gone.ID, "left", "citizen"); err != nil {
		t.Fatal(err)
	}

	for desk, want := range map[string]time.Duration{"urp": 3 * time.Minute, "anagrafe": 30 * time.Minute, "tributi": 6 * time.Minute} {
		if d, err := e.q.AverageHandle(e.ctx, a, desk); err != nil || d != want {
			t.Errorf("average at %s: %v, %v; want %v", desk, d, err, want)
		}
	}
}

func TestQueueInvalidInputs(t *testing.T) {
	e := qNewEnv(t)
	a := e.tenant("lugano")
	op := e.staff(a, "Giulia")
	cit := e.citizen(a, "Mario")
	ok := JoinSpec{Desk: "urp", DossierID: e.dossier(a, cit), CitizenID: cit, Mode: "video"}
	en := e.joinSpec(a, JoinSpec{Desk: "urp", CitizenName: "valid"})
	join := func(change func(j *JoinSpec)) func() error {
		return func() error {
			j := ok
			change(&j)
			_, err := e.q.Join(e.ctx, a, j)
			return err
		}
	}

	for _, c := range []struct {
		what string
		do   func() error
	}{
		{"join without desk", join(func(j *JoinSpec) { j.Desk = "" })},
		{"join with a long desk", join(func(j *JoinSpec) { j.Desk = strings.Repeat("d", 65) })},
		{"join in an unknown mode", join(func(j *JoinSpec) { j.Mode = "fax" })},
		{"join without mode", join(func(j *JoinSpec) { j.Mode = "" })},
		{"join with a long topic", join(func(j *JoinSpec) { j.Topic = strings.Repeat("t", 201) })},
		{"join with a NUL in the name", join(func(j *JoinSpec) { j.CitizenName = "Ma\x00rio" })},
		{"join with invalid UTF-8", join(func(j *JoinSpec) { j.Topic = "\xff\xfe" })},
		{"join without dossier", join(func(j *JoinSpec) { j.DossierID = 0 })},
		{"join without citizen", join(func(j *JoinSpec) { j.CitizenID = -1 })},
		{"join with a dossier that does not exist", join(func(j *JoinSpec) { j.DossierID = 999999 })},
		{"end as an unknown status", func() error { _, err := e.q.End(e.ctx, a, en.ID, "done", ""); return err }},
		{"end as waiting", func() error { _, err := e.q.End(e.ctx, a, en.ID, "waiting", ""); return err }},
		{"take next from no desk", func() error {
			_, err := e.q.TakeNext(e.ctx, a, op, "Giulia", nil, "app-1")
			return err
		}},
		{"take next from an empty desk name", func() error {
			_, err := e.q.TakeNext(e.ctx, a, op, "Giulia", []string{"urp", ""}, "app-1")
			return err
		}},
		{"take next without operator", func() error {
			_, err := e.q.TakeNext(e.ctx, a, 0, "Giulia", []string{"urp"}, "app-1")
			return err
		}},
		{"take next as no user", func() error {
			_, err := e.q.TakeNext(e.ctx, a, 999999, "Nessuno", []string{"urp"}, "app-1")
			return err
		}},
		{"transfer to a long desk", func() error {
			_, err := e.q.Transfer(e.ctx, a, en.ID, strings.Repeat("d", 65), 0)
			return err
		}},
		{"waiting at an empty desk name", func() error { _, err := e.q.Waiting(e.ctx, a, []string{""}); return err }},
		{"average at no desk", func() error { _, err := e.q.AverageHandle(e.ctx, a, ""); return err }},
		{"empty message", func() error {
			_, err := e.q.AddMessage(e.ctx, a, en.ID, Message{Author: "citizen", Body: ""})
			return err
		}},
		{"long message", func() error {
			_, err := e.q.AddMessage(e.ctx, a, en.ID, Message{Author: "citizen", Body: strings.Repeat("x", 2001)})
			return err
		}},
		{"message by an unknown author", func() error {
			_, err := e.q.AddMessage(e.ctx, a, en.ID, Message{Author: "bot", Body: "x"})
			return err
		}},
		{"operator in an unknown status", func() error {
			return e.q.SetOperator(e.ctx, a, Operator{UserID: op, Status: "asleep"})
		}},
		{"operator at an empty desk name", func() error {
			return e.q.SetOperator(e.ctx, a, Operator{UserID: op, Status: "available", Desks: []string{""}})
		}},
		{"presence of no user", func() error {
			return e.q.SetOperator(e.ctx, a, Operator{UserID: 999999, Status: "available"})
		}},
	} {
		qWantErr(t, c.what, c.do(), ErrInvalid)
	}
	if got := e.get(a, en.ID); got.Status != "waiting" {
		t.Errorf("an invalid call changed the entry: %+v", got)
	}
	qWantNames(t, "line after the invalid calls", e.waiting(a), "valid")
}
