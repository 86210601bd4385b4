package dossier_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/i18n"
)

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	other := e.tenant("beta")
	anna, bruno := e.staff(tid, "Anna"), e.staff(tid, "Bruno")
	registry, taxes := e.office(tid, "anagrafe"), e.office(tid, "tributi")
	carla := e.citizen(tid, "Carla Verdi", "carla@example.org")
	dario := e.citizen(tid, "Dario Neri", "dario@example.org")
	start := e.clock.Now()

	// Each dossier is a minute after the one before; titles name them.
	seed := []struct {
		title    string
		service  string
		channel  string
		office   int64
		assignee int64
		citizen  int64
		status   string
		name     string
		draft    bool
	}{
		{"Residence change", "registry", "web", registry, 0, carla, "submitted", "", false},
		{"ID card", "registry", "counter", registry, anna.ID, 0, "in_progress", "Mario Rossi", false},
		{"Waste tax refund", "taxes", "web", taxes, bruno.ID, carla, "submitted", "", false},
		{"Tax 100% discount_code", "taxes", "phone", taxes, 0, dario, "closed", "", false},
		{"Birth certificate", "registry", "phone", registry, anna.ID, dario, "submitted", "", false},
		{"Phone draft", "registry", "phone", registry, anna.ID, carla, "", "", true},
	}
	byTitle := map[string]*dossier.Dossier{}
	for _, s := range seed {
		e.clock.Advance(time.Minute)
		n := dossier.NewDossier{ServiceID: s.service, Title: s.title, Channel: s.channel, OfficeID: s.office, AssigneeID: s.assignee,
			CitizenID: s.citizen, Applicant: dossier.Applicant{Name: s.name}, Draft: s.draft}
		d := e.open(tid, anna, n)
		if s.status != "" && s.status != d.Status {
			if d, _ = e.store.SetStatus(ctx, tid, d.ID, d.Version, anna, s.status, ""); d == nil {
				t.Fatal("set status")
			}
		}
		byTitle[s.title] = d
	}
	// Noise in another tenant, matching every filter by value.
	e.open(other, e.staff(other, "Zeno"), dossier.NewDossier{ServiceID: "registry", Title: "Residence change ID card tax"})

	minute := func(n int) time.Time { return start.Add(time.Duration(n) * time.Minute) }
	cases := []struct {
		name string
		f    dossier.Filter
		want []string // newest first
	}{
		{"everything", dossier.Filter{}, []string{"Phone draft", "Birth certificate", "Tax 100% discount_code", "Waste tax refund", "ID card", "Residence change"}},
		{"office queue", dossier.Filter{Office: registry, Status: "submitted"}, []string{"Birth certificate", "Residence change"}},
		{"office", dossier.Filter{Office: taxes}, []string{"Tax 100% discount_code", "Waste tax refund"}},
		{"assignee", dossier.Filter{Assignee: anna.ID}, []string{"Phone draft", "Birth certificate", "ID card"}},
		{"unassigned", dossier.Filter{Unassigned: true}, []string{"Tax 100% discount_code", "Residence change"}},
		{"citizen", dossier.Filter{Citizen: carla}, []string{"Phone draft", "Waste tax refund", "Residence change"}},
		{"status", dossier.Filter{Status: "closed"}, []string{"Tax 100% discount_code"}},
		{"drafts", dossier.Filter{Status: "draft"}, []string{"Phone draft"}},
		{"service", dossier.Filter{Service: "taxes"}, []string{"Tax 100% discount_code", "Waste tax refund"}},
		{"channel", dossier.Filter{Channel: "phone"}, []string{"Phone draft", "Birth certificate", "Tax 100% discount_code"}},
		{"from", dossier.Filter{From: minute(5)}, []string{"Phone draft", "Birth certificate"}},
		{"to", dossier.Filter{To: minute(2)}, []string{"Residence change"}},
		{"from and to", dossier.Filter{From: minute(2), To: minute(4)}, []string{"Waste tax refund", "ID card"}},
		{"query in title, any case", dossier.Filter{Query: "TAX"}, []string{"Tax 100% discount_code", "Waste tax refund"}},
		{"query in applicant name", dossier.Filter{Query: "rossi"}, []string{"ID card"}},
		{"query from the citizen's account", dossier.Filter{Query: "verdi"}, []string{"Phone draft", "Waste tax refund", "Residence change"}},
		{"query with LIKE characters", dossier.Filter{Query: "100%"}, []string{"Tax 100% discount_code"}},
		{"query underscore is literal", dossier.Filter{Query: "t_x"}, nil},
		{"query a number", dossier.Filter{Query: byTitle["ID card"].Number}, []string{"ID card"}},
		{"number", dossier.Filter{Number: byTitle["Waste tax refund"].Number}, []string{"Waste tax refund"}},
		{"combined", dossier.Filter{Office: registry, Assignee: anna.ID, Channel: "phone", Query: "birth"}, []string{"Birth certificate"}},
		{"nothing matches", dossier.Filter{Office: taxes, Assignee: anna.ID}, nil},
	}
	titles := func(p *dossier.Page) []string {
		var out []string
		for _, d := range p.Dossiers {
			out = append(out, d.Title)
		}
		return out
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := e.store.List(ctx, tid, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(p); !slices.Equal(got, c.want) {
				t.Fatalf("got %q\nwant %q", got, c.want)
			}
			if p.Next != "" {
				t.Fatalf("a single page has a next cursor")
			}
		})
	}

	t.Run("listed dossiers carry office and assignee", func(t *testing.T) {
		p, _ := e.store.List(ctx, tid, dossier.Filter{Number: byTitle["ID card"].Number})
		d := p.Dossiers[0]
		if d.OfficeSlug != "anagrafe" || d.AssigneeName != "Anna" || d.Applicant.Name != "Mario Rossi" || d.Channel != "counter" {
			t.Fatalf("%+v", d)
		}
	})

	t.Run("pages", func(t *testing.T) {
		var got []string
		f := dossier.Filter{Limit: 4}
		pages := 0
		for {
			p, err := e.store.List(ctx, tid, f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, titles(p)...)
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if pages != 2 || !slices.Equal(got, cases[0].want) {
			t.Fatalf("%d pages: %q", pages, got)
		}
	})
	t.Run("pages of dossiers filed in the same instant", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		for range 5 {
			e.open(tid, anna, dossier.NewDossier{ServiceID: "same", Title: "same instant"})
		}
		seen := map[int64]bool{}
		f := dossier.Filter{Service: "same", Limit: 2}
		for {
			p, err := e.store.List(ctx, tid, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range p.Dossiers {
				if seen[d.ID] {
					t.Fatalf("dossier %d twice", d.ID)
				}
				seen[d.ID] = true
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if len(seen) != 5 {
			t.Fatalf("%d of 5 dossiers listed", len(seen))
		}
	})

	t.Run("a citizen's own list", func(t *testing.T) {
		p, err := e.store.ListForCitizen(ctx, tid, carla, dossier.Filter{Citizen: dario})
		if err != nil {
			t.Fatal(err)
		}
		if got := titles(p); !slices.Equal(got, []string{"Waste tax refund", "Residence change"}) {
			t.Fatalf("carla lists %q: her own, drafts left out", got)
		}
	})

	bad := []struct {
		name  string
		f     dossier.Filter
		field string
	}{
		{"status", dossier.Filter{Status: "DROP TABLE"}, "status"},
		{"number", dossier.Filter{Number: "42"}, "number"},
		{"channel", dossier.Filter{Channel: "fax"}, "channel"},
		{"service", dossier.Filter{Service: "a b"}, "service"},
		{"cursor", dossier.Filter{Cursor: "not-a-cursor!"}, "cursor"},
		{"cursor of junk", dossier.Filter{Cursor: "bm90aGluZw"}, "cursor"},
		{"limit", dossier.Filter{Limit: -1}, "limit"},
		{"to before from", dossier.Filter{From: minute(3), To: minute(2)}, "to"},
		{"query", dossier.Filter{Query: strings.Repeat("q", 101)}, "query"},
		{"unassigned and assignee", dossier.Filter{Unassigned: true, Assignee: anna.ID}, "assignee"},
	}
	for _, c := range bad {
		t.Run("refused "+c.name, func(t *testing.T) {
			_, err := e.store.List(ctx, tid, c.f)
			var fe *dossier.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("got %v, want a FieldError on %s", err, c.field)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	cat, err := i18n.New(os.DirFS("../../web/locales"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
	rows := []dossier.Dossier{
		{Number: "2026-000001", CreatedAt: at, ServiceID: "helpdesk", Title: `=HYPERLINK("http://evil.example","click")`,
			Status: "submitted", Channel: "phone", Priority: dossier.PriorityUrgent,
			Applicant: dossier.Applicant{Name: "+39 cmd|' /C calc'!A0", Email: "@SUM(1+1)", FiscalCode: "-2+3"}},
		{Number: "2026-000002", CreatedAt: at, ServiceID: "helpdesk", Title: "  =1+1", Status: "closed", Channel: "web",
			Priority: dossier.PriorityLow, Applicant: dossier.Applicant{Name: "Anna \"Nina\" Rossi, jr.\nsecond line"}, OfficeSlug: "anagrafe",
			AssigneeName: "\tTab", DueAt: at.Add(48 * time.Hour)},
	}
	var buf bytes.Buffer
	if err := dossier.WriteCSV(&buf, rows, "it", cat, time.UTC); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	if recs[0][0] != "Numero di protocollo" || recs[0][3] != "Oggetto" {
		t.Fatalf("header %q", recs[0])
	}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if c := strings.TrimLeft(cell, " "); c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Fatalf("cell %q could run as a formula", cell)
			}
		}
	}
	want := map[[2]int]string{
		{1, 3}:  `'=HYPERLINK("http://evil.example","click")`,
		{1, 5}:  "Telefono",
		{1, 6}:  "'+39 cmd|' /C calc'!A0",
		{1, 7}:  "'-2+3",
		{1, 8}:  "'@SUM(1+1)",
		{1, 11}: "Urgente",
		{1, 12}: "",
		{2, 1}:  "2026-03-01 08:30",
		{2, 3}:  "'  =1+1",
		{2, 6}:  "Anna \"Nina\" Rossi, jr.\nsecond line",
		{2, 10}: "'\tTab",
		{2, 12}: "2026-03-03 08:30",
	}
	for pos, v := range want {
		if got := recs[pos[0]][pos[1]]; got != v {
			t.Errorf("row %d column %d: %q, want %q", pos[0], pos[1], got, v)
		}
	}
}
