package dossier_test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/core/dossier"
)

// Protocol numbers run 1, 2, 3… per tenant and year with no gap and no
// duplicate, however many operators file at once, and a failed Open gives
// its number back.
func TestNumbersPerTenantAndYear(t *testing.T) {
	e := newEnv(t)
	a, b := e.tenant("alpha"), e.tenant("beta")
	opA, opB := e.staff(a, "Anna"), e.staff(b, "Bruno")
	const perTenant = 30
	numbers := map[int64][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, tc := range []struct {
		tenant int64
		by     dossier.Actor
	}{{a, opA}, {b, opB}} {
		for i := range perTenant {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := dossier.NewDossier{ServiceID: "helpdesk", Title: fmt.Sprintf("call %d", i), Channel: dossier.ChannelPhone}
				if i%7 == 3 {
					// Refused inside the transaction, after the counter was
					// bumped: the number must come back.
					n.AttachmentIDs = []int64{999999}
				}
				d, err := e.store.Open(ctx, tc.tenant, tc.by, n)
				if i%7 == 3 {
					if !errors.Is(err, dossier.ErrInvalid) {
						t.Errorf("open with an unknown upload: %v", err)
					}
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers[tc.tenant] = append(numbers[tc.tenant], d.Number)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	failed := 0
	for i := range perTenant {
		if i%7 == 3 {
			failed++
		}
	}
	for _, tid := range []int64{a, b} {
		got := numbers[tid]
		sort.Strings(got)
		if len(got) != perTenant-failed {
			t.Fatalf("tenant %d: %d dossiers, want %d", tid, len(got), perTenant-failed)
		}
		for i, n := range got {
			if want := fmt.Sprintf("2026-%06d", i+1); n != want {
				t.Fatalf("tenant %d: numbers %v, want 2026-000001 … without gaps", tid, got)
			}
		}
	}

	t.Run("the year is Rome's", func(t *testing.T) {
		// 23:30 UTC on 31 December is already 1 January in Rome.
		e.clock.Set(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC))
		d := e.open(a, opA, dossier.NewDossier{Title: "New year's first"})
		if d.Number != "2027-000001" {
			t.Fatalf("number %s, want 2027-000001", d.Number)
		}
		e.clock.Set(time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC))
		if d := e.open(a, opA, dossier.NewDossier{Title: "Old year's last"}); d.Number != fmt.Sprintf("2026-%06d", perTenant-failed+1) {
			t.Fatalf("number %s, want the old year's next", d.Number)
		}
	})
}

// Two operators open the same dossier; the second one's change, made on
// the version both saw, is refused and names the first.
func TestStaleVersionIsRefused(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna, bruno := e.staff(tid, "Anna Rossi"), e.staff(tid, "Bruno Bianchi")
	office := e.office(tid, "anagrafe")
	d := e.open(tid, anna, dossier.NewDossier{Title: "Change of address"})
	if d.Version != 1 {
		t.Fatalf("a new dossier has version %d", d.Version)
	}
	seen := d.Version // both have the page open

	first, err := e.store.SetStatus(ctx, tid, d.ID, seen, anna, "in_progress", "")
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != seen+1 {
		t.Fatalf("version after a change: %d", first.Version)
	}
	before := e.count("SELECT count(*) FROM dossier_events WHERE dossier_id = ?", d.ID)

	changes := []struct {
		name string
		do   func(version int64) error
	}{
		{"SetStatus", func(v int64) error {
			_, err := e.store.SetStatus(ctx, tid, d.ID, v, bruno, "rejected", "")
			return err
		}},
		{"SetPriority", func(v int64) error {
			_, err := e.store.SetPriority(ctx, tid, d.ID, v, bruno, dossier.PriorityUrgent)
			return err
		}},
		{"Assign", func(v int64) error {
			_, err := e.store.Assign(ctx, tid, d.ID, v, bruno, dossier.Assignment{OfficeID: office})
			return err
		}},
		{"Take", func(v int64) error {
			_, err := e.store.Take(ctx, tid, d.ID, v, bruno)
			return err
		}},
		{"SetDue", func(v int64) error {
			_, err := e.store.SetDue(ctx, tid, d.ID, v, bruno, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
			return err
		}},
		{"AddNote", func(v int64) error {
			_, err := e.store.AddNote(ctx, tid, d.ID, v, bruno, "calling back tomorrow")
			return err
		}},
		{"Reply", func(v int64) error {
			_, err := e.store.Reply(ctx, tid, d.ID, v, bruno, "we need a document")
			return err
		}},
		{"Attach", func(v int64) error {
			_, err := e.store.Attach(ctx, tid, d.ID, v, bruno, dossier.NewFile{Name: "a.pdf", Content: strings.NewReader(pdf("x"))})
			return err
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			err := c.do(seen)
			wantErr(t, c.name, err, dossier.ErrStale)
			var se *dossier.StaleError
			if !errors.As(err, &se) || se.ChangedBy != "Anna Rossi" || se.Current != seen+1 || se.Saw != seen {
				t.Fatalf("stale error %#v: want changed by Anna Rossi, version %d", se, seen+1)
			}
		})
	}
	now, err := e.store.Get(ctx, tid, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now.Status != "in_progress" || now.Priority != dossier.PriorityNormal || now.OfficeID != 0 || now.AssigneeID != 0 ||
		!now.DueAt.IsZero() || now.Version != seen+1 {
		t.Fatalf("refused changes changed the dossier: %+v", now)
	}
	if after := e.count("SELECT count(*) FROM dossier_events WHERE dossier_id = ?", d.ID); after != before {
		t.Fatalf("refused changes wrote history: %d events, %d before", after, before)
	}
	if n := e.count("SELECT count(*) FROM dossier_messages") + e.count("SELECT count(*) FROM dossier_attachments"); n != 0 {
		t.Fatalf("refused changes stored %d messages or files", n)
	}

	t.Run("with the current version it passes", func(t *testing.T) {
		d2, err := e.store.SetPriority(ctx, tid, d.ID, now.Version, bruno, dossier.PriorityUrgent)
		if err != nil || d2.Priority != dossier.PriorityUrgent || d2.Version != now.Version+1 {
			t.Fatalf("%+v %v", d2, err)
		}
	})
	t.Run("AnyVersion skips the check and still bumps", func(t *testing.T) {
		d3, err := e.store.SetStatus(ctx, tid, d.ID, dossier.AnyVersion, bruno, "closed", "done")
		if err != nil || d3.Version != now.Version+2 {
			t.Fatalf("%+v %v", d3, err)
		}
	})
	t.Run("a change that changes nothing keeps the version", func(t *testing.T) {
		cur, _ := e.store.Get(ctx, tid, d.ID)
		same, err := e.store.SetPriority(ctx, tid, d.ID, cur.Version, anna, dossier.PriorityUrgent)
		if err != nil || same.Version != cur.Version {
			t.Fatalf("%+v %v", same, err)
		}
	})
}

// Concurrent changes on one version: exactly one wins, whatever the
// interleaving.
func TestConcurrentChangesOneWins(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	d := e.open(tid, e.staff(tid, "Anna"), dossier.NewDossier{Title: "Building permit"})
	ops := []dossier.Actor{e.staff(tid, "Op1"), e.staff(tid, "Op2"), e.staff(tid, "Op3"), e.staff(tid, "Op4")}
	var wg sync.WaitGroup
	errs := make([]error, len(ops))
	for i, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.store.Take(ctx, tid, d.ID, d.Version, op)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, dossier.ErrStale):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d takes won, want exactly 1 (%v)", won, errs)
	}
}

// Another tenant's dossier does not exist for this one, whatever it does.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	a, b := e.tenant("alpha"), e.tenant("beta")
	opA, opB := e.staff(a, "Anna"), e.staff(b, "Bruno")
	citizenB := e.citizen(b, "Carla", "carla@example.org")
	bd := e.open(b, opB, dossier.NewDossier{Title: "B's secret", CitizenID: citizenB})
	bFile, err := e.store.Attach(ctx, b, bd.ID, dossier.AnyVersion, opB, dossier.NewFile{Name: "b.pdf", Content: strings.NewReader(pdf("beta"))})
	if err != nil {
		t.Fatal(err)
	}
	bPending, err := e.store.Upload(ctx, b, opB, "", dossier.NewFile{Name: "p.pdf", Content: strings.NewReader(pdf("pending"))})
	if err != nil {
		t.Fatal(err)
	}
	// Tenant A has a dossier with the same id space and number.
	ad := e.open(a, opA, dossier.NewDossier{Title: "A's own"})
	if ad.Number != bd.Number {
		t.Fatalf("numbers %s and %s: each tenant counts from 1", ad.Number, bd.Number)
	}
	before := e.count("SELECT count(*) FROM dossier_events") + e.count("SELECT count(*) FROM dossier_messages")

	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"Get", func() error { _, err := e.store.Get(ctx, a, bd.ID); return err }},
		{"GetForCitizen", func() error { _, err := e.store.GetForCitizen(ctx, a, citizenB, bd.ID); return err }},
		{"SetStatus", func() error {
			_, err := e.store.SetStatus(ctx, a, bd.ID, dossier.AnyVersion, opA, "closed", "")
			return err
		}},
		{"Take", func() error { _, err := e.store.Take(ctx, a, bd.ID, dossier.AnyVersion, opA); return err }},
		{"AddNote", func() error { _, err := e.store.AddNote(ctx, a, bd.ID, dossier.AnyVersion, opA, "hi"); return err }},
		{"Reply", func() error { _, err := e.store.Reply(ctx, a, bd.ID, dossier.AnyVersion, opA, "hi"); return err }},
		{"History", func() error { _, err := e.store.History(ctx, a, bd.ID, false); return err }},
		{"Attachments", func() error { _, err := e.store.Attachments(ctx, a, bd.ID, false); return err }},
		{"OpenAttachment", func() error { _, _, err := e.store.OpenAttachment(ctx, a, bd.ID, bFile.ID, false); return err }},
		{"Attach", func() error {
			_, err := e.store.Attach(ctx, a, bd.ID, dossier.AnyVersion, opA, dossier.NewFile{Name: "x.pdf", Content: strings.NewReader(pdf("a"))})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, c.do(), dossier.ErrNotFound) })
	}
	t.Run("GetByNumber finds A's own", func(t *testing.T) {
		d, err := e.store.GetByNumber(ctx, a, bd.Number)
		if err != nil || d.ID != ad.ID {
			t.Fatalf("%+v %v", d, err)
		}
	})
	t.Run("List", func(t *testing.T) {
		p, err := e.store.List(ctx, a, dossier.Filter{Query: "secret"})
		if err != nil || len(p.Dossiers) != 0 {
			t.Fatalf("%+v %v", p, err)
		}
		p, err = e.store.ListForCitizen(ctx, a, citizenB, dossier.Filter{})
		if err != nil || len(p.Dossiers) != 0 {
			t.Fatalf("%+v %v", p, err)
		}
	})
	t.Run("link B's pending upload", func(t *testing.T) {
		_, err := e.store.Open(ctx, a, opA, dossier.NewDossier{ServiceID: "helpdesk", Title: "steal", AttachmentIDs: []int64{bPending.ID}})
		wantField(t, "Open", err, "attachments", "unknown")
	})
	if after := e.count("SELECT count(*) FROM dossier_events") + e.count("SELECT count(*) FROM dossier_messages"); after != before {
		t.Fatalf("refused calls wrote: %d rows, %d before", after, before)
	}
	if d, _ := e.store.Get(ctx, b, bd.ID); d.Version != bd.Version+1 || d.AssigneeID != 0 {
		t.Fatalf("B's dossier changed: %+v", d)
	}
}

// A draft entered by an operator is invisible to its citizen until
// submitted.
func TestDrafts(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op := e.staff(tid, "Anna")
	cit := e.citizen(tid, "Carla Verdi", "carla@example.org")
	d := e.open(tid, op, dossier.NewDossier{Title: "Phone request", Draft: true, Channel: dossier.ChannelPhone, CitizenID: cit})
	if !d.Draft() || !d.SubmittedAt.IsZero() || d.CreatedBy != op.ID || d.Number != fmt.Sprintf("D-%d", d.ID) {
		t.Fatalf("draft %+v", d)
	}
	// A draft given up takes no protocol number with it.
	gone := e.open(tid, op, dossier.NewDossier{Title: "Given up", Draft: true})
	if err := e.store.Discard(ctx, tid, gone.ID, gone.Version, op); err != nil {
		t.Fatal(err)
	}
	if byNumber, err := e.store.GetByNumber(ctx, tid, d.Number); err != nil || byNumber.ID != d.ID {
		t.Fatalf("draft by its number: %+v %v", byNumber, err)
	}
	if d.Applicant.Name != "Carla Verdi" || d.Applicant.Email != "carla@example.org" {
		t.Fatalf("applicant not taken from the account: %+v", d.Applicant)
	}
	_, err := e.store.GetForCitizen(ctx, tid, cit, d.ID)
	wantErr(t, "citizen reads a draft", err, dossier.ErrNotFound)
	if p, _ := e.store.ListForCitizen(ctx, tid, cit, dossier.Filter{}); len(p.Dossiers) != 0 {
		t.Fatalf("citizen lists a draft: %+v", p.Dossiers)
	}
	_, err = e.store.SetStatus(ctx, tid, d.ID, d.Version, op, "in_progress", "")
	wantField(t, "status of a draft", err, "status", "draft")
	_, err = e.store.Reply(ctx, tid, d.ID, d.Version, dossier.Citizen(cit, "Carla"), "hello?")
	wantErr(t, "citizen writes on a draft", err, dossier.ErrNotFound)
	if _, err := e.store.Reply(ctx, tid, d.ID, d.Version, op, "draft reply"); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM notifications"); n != 0 {
		t.Fatalf("a reply on a draft notified the citizen (%d)", n)
	}

	cur, _ := e.store.Get(ctx, tid, d.ID)
	sub, err := e.store.Submit(ctx, tid, d.ID, cur.Version, op)
	if err != nil || sub.Status != dossier.StatusSubmitted || sub.SubmittedAt.IsZero() || sub.Number != "2026-000001" {
		t.Fatalf("submit: %+v %v: want the first number of the year", sub, err)
	}
	if next := e.open(tid, op, dossier.NewDossier{Title: "Next"}); next.Number != "2026-000002" {
		t.Fatalf("next number %s", next.Number)
	}
	if _, err := e.store.GetForCitizen(ctx, tid, cit, d.ID); err != nil {
		t.Fatalf("the citizen does not see the submitted dossier: %v", err)
	}
	_, err = e.store.Submit(ctx, tid, d.ID, sub.Version, op)
	wantField(t, "submit twice", err, "status", "invalid")
}

// A public reply is shown to the citizen and e-mailed; a note is neither.
func TestMessagesAndHistory(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op := e.staff(tid, "Anna Rossi")
	office := e.office(tid, "tributi")
	cit := e.citizen(tid, "Carla Verdi", "carla@example.org")
	carla := dossier.Citizen(cit, "Carla Verdi")
	d := e.open(tid, carla, dossier.NewDossier{Title: "Refund of tax", CitizenID: cit})
	if d.CreatedBy != 0 || d.Channel != dossier.ChannelWeb || d.Status != dossier.StatusSubmitted {
		t.Fatalf("citizen's dossier %+v", d)
	}
	step := func(f func(v int64) (*dossier.Dossier, error)) {
		t.Helper()
		e.clock.Advance(time.Minute)
		cur, err := e.store.Get(ctx, tid, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f(cur.Version); err != nil {
			t.Fatal(err)
		}
	}
	step(func(v int64) (*dossier.Dossier, error) {
		return e.store.Assign(ctx, tid, d.ID, v, op, dossier.Assignment{OfficeID: office, AssigneeID: op.ID})
	})
	step(func(v int64) (*dossier.Dossier, error) {
		return e.store.SetPriority(ctx, tid, d.ID, v, op, dossier.PriorityHigh)
	})
	step(func(v int64) (*dossier.Dossier, error) {
		_, err := e.store.AddNote(ctx, tid, d.ID, v, op, "check the 2025 payment")
		return nil, err
	})
	step(func(v int64) (*dossier.Dossier, error) {
		return e.store.SetStatus(ctx, tid, d.ID, v, op, "waiting", "a receipt is missing")
	})
	step(func(v int64) (*dossier.Dossier, error) {
		_, err := e.store.Reply(ctx, tid, d.ID, v, op, "Please send the receipt.")
		return nil, err
	})
	step(func(v int64) (*dossier.Dossier, error) {
		_, err := e.store.Attach(ctx, tid, d.ID, dossier.AnyVersion, carla, dossier.NewFile{Name: "receipt.pdf", Content: strings.NewReader(pdf("receipt"))})
		return nil, err
	})
	step(func(v int64) (*dossier.Dossier, error) {
		_, err := e.store.Attach(ctx, tid, d.ID, v, op, dossier.NewFile{Name: "check.png", Internal: true, Content: strings.NewReader(png())})
		return nil, err
	})
	step(func(v int64) (*dossier.Dossier, error) {
		_, err := e.store.Reply(ctx, tid, d.ID, dossier.AnyVersion, carla, "Sent, thank you.")
		return nil, err
	})

	var notes []struct {
		Recipient, Subject, Body string
	}
	if err := e.db.Owner.NewRaw("SELECT recipient, subject, body FROM notifications ORDER BY id").Scan(ctx, &notes); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].Recipient != "carla@example.org" || notes[0].Body != "Please send the receipt." ||
		notes[0].Subject != "["+d.Number+"] Refund of tax" {
		t.Fatalf("notifications %+v: want one, the reply to Carla", notes)
	}

	kinds := func(h []dossier.Entry) string {
		var out []string
		for _, en := range h {
			out = append(out, en.Kind+":"+en.Actor)
		}
		return strings.Join(out, " ")
	}
	full, err := e.store.History(ctx, tid, d.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "opened:Carla Verdi assigned:Anna Rossi priority:Anna Rossi note:Anna Rossi status:Anna Rossi reply:Anna Rossi " +
		"attached:Carla Verdi attached:Anna Rossi reply:Carla Verdi"
	if got := kinds(full); got != want {
		t.Fatalf("staff timeline\n got %s\nwant %s", got, want)
	}
	if full[1].Office != "tributi" || full[1].Assignee != "Anna Rossi" || full[2].Priority != dossier.PriorityHigh ||
		full[4].Note != "a receipt is missing" || full[4].Status != "waiting" || full[6].Attachment == nil || full[6].Attachment.Name != "receipt.pdf" {
		t.Fatalf("timeline details: %+v", full)
	}
	public, err := e.store.History(ctx, tid, d.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	want = "opened:Carla Verdi status:Anna Rossi reply:Anna Rossi attached:Carla Verdi reply:Carla Verdi"
	if got := kinds(public); got != want {
		t.Fatalf("citizen's timeline\n got %s\nwant %s", got, want)
	}
	files, err := e.store.Attachments(ctx, tid, d.ID, true)
	if err != nil || len(files) != 1 || files[0].Name != "receipt.pdf" {
		t.Fatalf("public attachments %+v %v", files, err)
	}
	_, _, err = e.store.OpenAttachment(ctx, tid, d.ID, full[7].Attachment.ID, true)
	wantErr(t, "citizen opens an internal file", err, dossier.ErrNotFound)

	t.Run("a citizen writes only on their own dossier", func(t *testing.T) {
		other := dossier.Citizen(e.citizen(tid, "Dario", "dario@example.org"), "Dario")
		_, err := e.store.Reply(ctx, tid, d.ID, dossier.AnyVersion, other, "let me in")
		wantErr(t, "Reply", err, dossier.ErrNotFound)
		_, err = e.store.Attach(ctx, tid, d.ID, dossier.AnyVersion, other, dossier.NewFile{Name: "x.pdf", Content: strings.NewReader(pdf("x"))})
		wantErr(t, "Attach", err, dossier.ErrNotFound)
		_, err = e.store.AddNote(ctx, tid, d.ID, dossier.AnyVersion, carla, "a note")
		wantField(t, "AddNote by a citizen", err, "actor", "invalid")
	})
}

// What Open refuses, field by field; nothing is stored.
func TestOpenValidation(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op := e.staff(tid, "Anna")
	long := strings.Repeat("x", dossier.MaxTitle+1)
	cases := []struct {
		name  string
		n     dossier.NewDossier
		by    dossier.Actor
		field string
		code  string
	}{
		{"no title", dossier.NewDossier{ServiceID: "helpdesk", Title: "  "}, op, "title", "required"},
		{"long title", dossier.NewDossier{ServiceID: "helpdesk", Title: long}, op, "title", "too_long"},
		{"control character", dossier.NewDossier{ServiceID: "helpdesk", Title: "a\x00b"}, op, "title", "invalid"},
		{"bad service", dossier.NewDossier{ServiceID: "../etc", Title: "t"}, op, "service", "invalid"},
		{"bad status", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", Status: "Open!"}, op, "status", "invalid"},
		{"bad channel", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", Channel: "fax"}, op, "channel", "invalid"},
		{"bad priority", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", Priority: "critical"}, op, "priority", "invalid"},
		{"data not an object", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", Data: []byte(`[1]`)}, op, "data", "invalid"},
		{"bad e-mail", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", Applicant: dossier.Applicant{Email: "a@b\r\nBcc: x@y.z"}}, op, "applicant.email", "invalid"},
		{"bad fiscal code", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", Applicant: dossier.Applicant{FiscalCode: "123"}}, op, "applicant.fiscal_code", "invalid"},
		{"bad phone", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", Applicant: dossier.Applicant{Phone: "call me"}}, op, "applicant.phone", "invalid"},
		{"unknown citizen", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", CitizenID: 424242}, op, "citizen", "unknown"},
		{"unknown office", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", OfficeID: 424242}, op, "office", "unknown"},
		{"unknown assignee", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", AssigneeID: 424242}, op, "assignee", "unknown"},
		{"unknown upload", dossier.NewDossier{ServiceID: "helpdesk", Title: "t", AttachmentIDs: []int64{424242}}, op, "attachments", "unknown"},
		{"actor without id", dossier.NewDossier{ServiceID: "helpdesk", Title: "t"}, dossier.Actor{Kind: dossier.ActorStaff}, "actor", "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.store.Open(ctx, tid, c.by, c.n)
			wantField(t, c.name, err, c.field, c.code)
		})
	}
	if n := e.count("SELECT count(*) FROM dossiers"); n != 0 {
		t.Fatalf("refused opens stored %d dossiers", n)
	}
	d := e.open(tid, op, dossier.NewDossier{Title: "ok", Applicant: dossier.Applicant{Name: " Mario Rossi ", FiscalCode: "rssmra80a01h501u", Phone: "+39 02 1234567"},
		Priority: dossier.PriorityUrgent, DueAt: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), Data: []byte(`{"a": 1}`)})
	if d.Number != "2026-000001" || d.Applicant.FiscalCode != "RSSMRA80A01H501U" || d.Applicant.Name != "Mario Rossi" ||
		d.Priority != dossier.PriorityUrgent || !d.DueAt.Equal(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)) || string(d.Data) != `{"a": 1}` {
		t.Fatalf("opened %+v: the refused ones took no number, and every field is kept", d)
	}
	if !slices.Contains(dossier.Channels(), d.Channel) {
		t.Fatalf("channel %q", d.Channel)
	}
}

// An office by id, by slug, or else the one the town set for the service.
func TestOfficeRouting(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op := e.staff(tid, "Anna")
	registry, taxes := e.office(tid, "anagrafe"), e.office(tid, "tributi")
	e.insert(tid, `INSERT INTO tenant_services (tenant_id, service_id, config) VALUES (?, 'taxes', '{"office": "tributi"}') RETURNING 1`, tid)
	e.insert(tid, `INSERT INTO tenant_services (tenant_id, service_id, config) VALUES (?, 'gone', '{"office": "closed-down"}') RETURNING 1`, tid)
	cases := []struct {
		name string
		n    dossier.NewDossier
		want int64
	}{
		{"by id", dossier.NewDossier{ServiceID: "taxes", OfficeID: registry}, registry},
		{"by slug", dossier.NewDossier{ServiceID: "taxes", OfficeSlug: "anagrafe"}, registry},
		{"the service's", dossier.NewDossier{ServiceID: "taxes"}, taxes},
		{"none configured", dossier.NewDossier{ServiceID: "helpdesk"}, 0},
		{"configured office gone", dossier.NewDossier{ServiceID: "gone"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.n.Title = c.name
			if d := e.open(tid, op, c.n); d.OfficeID != c.want {
				t.Fatalf("office %d (%s), want %d", d.OfficeID, d.OfficeSlug, c.want)
			}
		})
	}
	_, err := e.store.Open(ctx, tid, op, dossier.NewDossier{ServiceID: "taxes", Title: "x", OfficeSlug: "nowhere"})
	wantField(t, "unknown slug", err, "office", "unknown")
}
