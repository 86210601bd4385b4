package dossier_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/core/dossier"
)

// Open takes the town's number in the statement that inserts the dossier
// and reads it back. Dossiers opened and drafts submitted at the same
// time in one town get distinct numbers without gaps, and what Open
// returns is what is stored, with its "opened" entry.
func TestConcurrentOpensInOneTown(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op := e.staff(tid, "Anna Rossi")
	office := e.office(tid, "tributi")
	cit := e.citizen(tid, "Carla Verdi", "carla@example.org")
	const opens, drafts = 18, 6
	due := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

	var mu sync.Mutex
	var numbers []string
	var opened []*dossier.Dossier
	var wg sync.WaitGroup
	for i := range opens + drafts {
		wg.Go(func() {
			n := dossier.NewDossier{ServiceID: "helpdesk", Title: fmt.Sprintf("report %d", i), Channel: dossier.ChannelPhone,
				Data: json.RawMessage(fmt.Sprintf(`{"n": %d}`, i)), OfficeID: office, AssigneeID: op.ID, Priority: dossier.PriorityHigh, DueAt: due,
				CitizenID: cit, Draft: i >= opens}
			d, err := e.store.Open(ctx, tid, op, n)
			if err != nil {
				t.Errorf("open %d: %v", i, err)
				return
			}
			if d.Draft() {
				if d.Number != fmt.Sprintf("D-%d", d.ID) {
					t.Errorf("draft %d numbered %s", d.ID, d.Number)
				}
				if d, err = e.store.Submit(ctx, tid, d.ID, d.Version, op); err != nil {
					t.Errorf("submit %d: %v", i, err)
					return
				}
			} else {
				mu.Lock()
				opened = append(opened, d)
				mu.Unlock()
			}
			mu.Lock()
			numbers = append(numbers, d.Number)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slices.Sort(numbers)
	for i, n := range numbers {
		if want := fmt.Sprintf("2026-%06d", i+1); n != want || len(numbers) != opens+drafts {
			t.Fatalf("numbers %v, want 2026-000001 … 2026-%06d without gaps", numbers, opens+drafts)
		}
	}

	for _, d := range opened {
		got, err := e.store.Get(ctx, tid, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Number != got.Number || d.Title != got.Title || d.Status != dossier.StatusSubmitted || got.Status != d.Status ||
			d.OfficeSlug != "tributi" || d.AssigneeName != "Anna Rossi" || d.Priority != dossier.PriorityHigh ||
			!d.DueAt.Equal(due) || d.Applicant.Name != "Carla Verdi" || d.Applicant != got.Applicant ||
			!d.CreatedAt.Equal(got.CreatedAt) || !d.SubmittedAt.Equal(got.SubmittedAt) || d.Version != got.Version ||
			d.CreatedBy != op.ID || d.Channel != dossier.ChannelPhone {
			t.Fatalf("Open returned %+v, stored %+v", d, got)
		}
		var data, stored map[string]any
		if json.Unmarshal(d.Data, &data) != nil || json.Unmarshal(got.Data, &stored) != nil || data["n"] == nil ||
			data["n"] != stored["n"] {
			t.Fatalf("Open returned data %s, stored %s", d.Data, got.Data)
		}
		history, err := e.store.History(ctx, tid, d.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 1 || history[0].Kind != dossier.EntryOpened || history[0].Status != dossier.StatusSubmitted ||
			history[0].Actor != "Anna Rossi" || !history[0].At.Equal(d.CreatedAt) {
			t.Fatalf("history of %s: %+v", d.Number, history)
		}
	}

	t.Run("past a million", func(t *testing.T) {
		if _, err := e.db.Owner.ExecContext(ctx, "UPDATE dossier_counters SET last = 999998 WHERE tenant_id = ?", tid); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"2026-999999", "2026-1000000"} {
			if d := e.open(tid, op, dossier.NewDossier{Title: want}); d.Number != want {
				t.Fatalf("number %s, want %s", d.Number, want)
			}
		}
	})
}
