package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/plugins/sdk"
)

// End to end through two real procedures: the scrutineer plugin in
// Trezzo sull'Adda and the access-to-records plugin in Venezia, both
// enabled by the towns' manifests, each run as its own process against
// PostgreSQL. What is asserted is what the citizen and the office see,
// and what the database holds.
func TestProceduresEndToEnd(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s,
		testPlugin{ID: "scrutineer", Pkg: "../../plugins/scrutineer"},
		testPlugin{ID: "recordsaccess", Pkg: "../../plugins/recordsaccess"})

	// Each step builds on the one before: the first to fail ends the test.
	for _, step := range []struct {
		name string
		run  func(*testing.T, *site)
	}{{"scrutineer", procScrutineer}, {"records access", procRecordsAccess}, {"bad input", procBadInput}} {
		if !t.Run(step.name, func(t *testing.T) { step.run(t, s) }) {
			t.FailNow()
		}
	}
}

// procStep runs one step of a flow; the steps after a failed one would
// only fail for its sake.
func procStep(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}

// procDay is a day counted from today in the towns' zone, as the plugins'
// configurations write it.
func procDay(days int) time.Time {
	y, m, d := time.Now().In(sdk.Zone).Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, sdk.Zone)
}

func procDate(t time.Time) string { return t.Format(time.DateOnly) }

// procOn is a day as the plugins' Italian messages write it, with its
// article, as a page shows it: "il 1° giugno 2026", "l&#39;8 maggio 2026".
func procOn(t time.Time) string {
	s := sdk.Date("it", t)
	switch t.In(sdk.Zone).Day() {
	case 1:
		return "il 1°" + strings.TrimPrefix(s, "1")
	case 8, 11:
		return "l&#39;" + s
	}
	return "il " + s
}

var procNumber = regexp.MustCompile(`\d{4}-\d{6}`)

// procFiled is the protocol number a service's confirmation shows.
func procFiled(t *testing.T, r response) string {
	t.Helper()
	expect(t, r, 200, `id="service-result"`)
	n := procNumber.FindString(r.body[strings.Index(r.body, `id="service-result"`):])
	if n == "" {
		t.Fatalf("no protocol number in the confirmation: %.2000s", r.body)
	}
	return n
}

func procDossier(t *testing.T, s *site, slug, number string) *dossier.Dossier {
	t.Helper()
	d, err := s.srv.Dossiers.GetByNumber(context.Background(), mustTenant(t, s, slug).ID, number)
	if err != nil {
		t.Fatalf("dossier %s of %s: %v", number, slug, err)
	}
	return d
}

// procCSV reads a plugin's spreadsheet: a byte-order mark, then cells
// separated by semicolons.
func procCSV(t *testing.T, r response) [][]string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q, want CSV: %.500s", ct, r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	body, ok := strings.CutPrefix(r.body, "\ufeff")
	if !ok {
		t.Fatal("the CSV has no byte-order mark: spreadsheets would garble accents")
	}
	cr := csv.NewReader(strings.NewReader(body))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	return rows
}

// procJSON posts values to action as an API client does: the session's
// CSRF token, and Accept: application/json.
func procJSON(b *browser, page, action string, values url.Values) response {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(b.get(page).body)
	if m == nil {
		b.t.Fatalf("no CSRF field on %s", page)
	}
	values.Set("_csrf", m[1])
	return b.do("POST", action, values, "Accept", "application/json")
}

// procAction posts a dossier action of the service with the version the
// dossier page shows.
func procAction(b *browser, page, action string, values url.Values) response {
	b.t.Helper()
	m := versionField.FindStringSubmatch(b.get(page).body)
	if m == nil {
		b.t.Fatalf("no version on %s", page)
	}
	values.Set("version", m[1])
	return b.form(page, page+"/actions/"+action, values)
}

func procCount(t *testing.T, s *site, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.Owner.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// The town opens an election round; citizens offer themselves as
// scrutineer and as president; the electoral office finds the offers in
// its queue, approves one and rejects another, and exports the list; the
// citizens read the outcome; past the deadline offers are refused.
func procScrutineer(t *testing.T, s *site) {
	const slug = "trezzo-sull-adda"
	base := s.url + "/t/" + slug
	svc := base + "/services/scrutineer"
	deadline, first, last := procDay(10), procDay(40), procDay(41)
	round := "Elezioni comunali di prova"

	admin := s.staff(slug, "admin@trezzo.example", "demo-trezzo")
	cfgPage := base + "/admin/services/scrutineer"
	configure := func(rounds string) {
		t.Helper()
		r := admin.form(cfgPage, cfgPage+"/config", url.Values{"rounds": {rounds}, "roles": {"scrutineer", "president"},
			"office": {"anagrafe"}, "office_email": {"anagrafe@trezzo.example"}})
		if r.status != 303 {
			t.Fatalf("configure the rounds: %d %.2000s", r.status, r.body)
		}
	}
	procStep(t, "the town's configuration is checked", func(t *testing.T) {
		r := admin.form(cfgPage, cfgPage+"/config", url.Values{"rounds": {"tornata senza date"}, "office": {"anagrafe"}})
		expect(t, r, 422, `aria-invalid="true"`, "tornata senza date")
	})
	configure("prova-aperta; " + round + "; " + procDate(first) + " " + procDate(last) + "; " + procDate(deadline))

	mario := s.citizen(slug, "mario.rossi")
	giulia := s.citizen(slug, "giulia.bianchi")
	anna := s.citizen(slug, "anna.verdi")
	expect(t, mario.get(svc), 200, "Disponibilità come scrutatore", "Disponibilità come presidente di seggio", `name="birth_date"`)
	if strings.Contains(mario.get(svc).body, "Elenco delle persone disponibili") {
		t.Fatal("the staff's export offered to a citizen")
	}

	scrutineer := url.Values{"resident": {"on"}, "voter_here": {"on"}, "in_register": {"on"}, "schooling": {"on"},
		"no_incompatibility": {"on"}, "birth_date": {"1990-03-14"}, "section": {"12"}, "phone": {"+39 02 1234 5678"}, "consent": {"on"}}
	president := func(birth string) url.Values {
		return url.Values{"resident": {"on"}, "voter_here": {"on"}, "in_register": {"on"}, "diploma": {"on"},
			"no_incompatibility": {"on"}, "birth_date": {birth}, "experience": {"scrutineer"}, "phone": {"+39 333 123 4567"}, "consent": {"on"}}
	}

	var marioNo, giuliaNo, annaNo string
	procStep(t, "citizens offer themselves", func(t *testing.T) {
		r := mario.form(svc, svc+"/scrutineer", scrutineer)
		marioNo = procFiled(t, r)
		expect(t, r, 200, "scrutatore per «"+round+"»", marioNo)
		giuliaNo = procFiled(t, giulia.form(svc, svc+"/president", president("1975-09-30")))
		annaNo = procFiled(t, anna.form(svc, svc+"/president", president("1980-01-20")))

		// One offer per round and role: the second names the first.
		r = mario.form(svc, svc+"/scrutineer", scrutineer)
		expect(t, r, 409, "Hai già dato la tua disponibilità come scrutatore", marioNo)
		// A president must be under 70 on election day: said beside the date.
		r = mario.form(svc, svc+"/president", president(procDate(first.AddDate(-70, 0, -1))))
		expect(t, r, 422, `id="field-birth_date-error"`, "non deve aver compiuto 70 anni")

		d := procDossier(t, s, slug, marioNo)
		if d.ServiceID != "scrutineer" || d.Status != "submitted" || d.OfficeSlug != "anagrafe" || d.CitizenID != accountOf(t, s, slug, "RSSMRA80A01H501U") {
			t.Fatalf("the scrutineer's dossier: %+v", d)
		}
		// The commission appoints scrutineers from the 25th to the 20th day
		// before the vote: the review is due by then.
		if want := first.AddDate(0, 0, -19).Add(-time.Second); !d.DueAt.Equal(want) {
			t.Fatalf("due %v, want %v", d.DueAt, want)
		}
		if n := procCount(t, s, `SELECT count(*) FROM notifications n JOIN tenants t ON t.id = n.tenant_id
			WHERE t.slug = ? AND n.plugin_id = 'scrutineer' AND n.recipient = 'anagrafe@trezzo.example' AND n.body LIKE ?`, slug, "%"+marioNo+"%"); n != 1 {
			t.Fatalf("%d notices to the electoral office of %s", n, marioNo)
		}
	})

	op := s.staff(slug, "anagrafe@trezzo.example", "demo-trezzo")
	procStep(t, "the offers wait in the electoral office's queue", func(t *testing.T) {
		r := op.get(base+"/backoffice?service=scrutineer", "Accept", "application/json")
		expect(t, r, 200)
		want := []string{marioNo, giuliaNo, annaNo}
		slices.Sort(want)
		if got := listed(t, r); !slices.Equal(got, want) {
			t.Fatalf("the office's queue: %v, want %v", got, want)
		}
		expect(t, op.get(base+"/backoffice?service=scrutineer"), 200, "Disponibilità come scrutatore – "+round, "Da verificare")
	})

	procStep(t, "the office approves one and rejects another", func(t *testing.T) {
		page := dossierURL(s, slug, procDossier(t, s, slug, marioNo).ID)
		expect(t, op.get(page), 200, "Accogli la disponibilità", "Respingi la disponibilità", "14\u00a0marzo 1990")
		r := procAction(op, page, "approve", url.Values{})
		expect(t, r, 200, "Disponibilità accolta (pratica n. "+marioNo+")", "Accolta")
		// Decided once: a second decision is refused, not repeated.
		expect(t, procAction(op, page, "reject", url.Values{"reason": {"Non risulta iscritto all'albo."}}), 409, "è già stata esaminata")

		page = dossierURL(s, slug, procDossier(t, s, slug, giuliaNo).ID)
		r = procAction(op, page, "reject", url.Values{"reason": {"breve"}})
		expect(t, r, 422, `aria-invalid="true"`, "breve")
		r = procAction(op, page, "reject", url.Values{"reason": {"Non risulta iscritta all'albo dei presidenti di seggio"}})
		expect(t, r, 200, "Disponibilità respinta (pratica n. "+giuliaNo+")")

		if d := procDossier(t, s, slug, marioNo); d.Status != "approved" {
			t.Fatalf("%s is %s", marioNo, d.Status)
		}
		if d := procDossier(t, s, slug, giuliaNo); d.Status != "rejected" {
			t.Fatalf("%s is %s", giuliaNo, d.Status)
		}
	})

	procStep(t, "the citizens read the outcome in my requests", func(t *testing.T) {
		expect(t, mario.get(base+"/requests"), 200, marioNo, "Accolta")
		id := procDossier(t, s, slug, marioNo).ID
		expect(t, mario.get(base+"/requests/"+strconv.FormatInt(id, 10)), 200, "è stata accolta: sei nell&#39;elenco delle persone disponibili")
		expect(t, giulia.get(base+"/requests"), 200, giuliaNo, "Respinta")
		id = procDossier(t, s, slug, giuliaNo).ID
		expect(t, giulia.get(base+"/requests/"+strconv.FormatInt(id, 10)), 200, "non è stata accolta",
			"Non risulta iscritta all&#39;albo dei presidenti di seggio.")
		// Each reply also went to the citizen by e-mail.
		if n := procCount(t, s, `SELECT count(*) FROM notifications n JOIN tenants t ON t.id = n.tenant_id
			WHERE t.slug = ? AND n.recipient = 'giulia.bianchi@example.com' AND n.subject LIKE ?`, slug, "["+giuliaNo+"]%"); n != 1 {
			t.Fatalf("%d notices of the rejection to Giulia", n)
		}
	})

	procStep(t, "the office exports the list of available people", func(t *testing.T) {
		r := op.form(svc, svc+"/export", url.Values{"role": {"scrutineer"}, "include": {"approved"}})
		expect(t, r, 200)
		if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "scrutatori-prova-aperta.csv") {
			t.Fatalf("Content-Disposition %q", cd)
		}
		rows := procCSV(t, r)
		wantHeader := []string{"Pratica", "Data della disponibilità", "Tornata", "Ruolo", "Stato", "Nome e cognome", "Data di nascita",
			"Sezione elettorale", "Telefono", "Esperienza al seggio"}
		if !slices.Equal(rows[0], wantHeader) {
			t.Fatalf("header %q", rows[0])
		}
		if len(rows) != 2 {
			t.Fatalf("%d rows, want the one approved scrutineer: %q", len(rows)-1, rows[1:])
		}
		row := rows[1]
		if row[0] != marioNo || row[2] != round || row[3] != "scrutatore" || row[4] != "accolta" || row[5] != "Mario Rossi" ||
			row[6] != "1990-03-14" || row[7] != "12" || row[8] != "'+39 02 1234 5678" {
			t.Fatalf("Mario's row %q", row)
		}
		// Presidents still to be checked: Anna; Giulia, rejected, never.
		rows = procCSV(t, op.form(svc, svc+"/export", url.Values{"role": {"president"}, "include": {"open"}}))
		if len(rows) != 2 || rows[1][0] != annaNo || rows[1][4] != "da verificare" || rows[1][9] != "scrutatore" {
			t.Fatalf("open presidents: %q", rows)
		}
		// Through the API: the message, as JSON.
		r = procJSON(op, svc, svc+"/export", url.Values{"role": {"scrutineer"}})
		expect(t, r, 200)
		var body struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Message != "Elenco pronto: una persona." || body.Data != nil {
			t.Fatalf("JSON export: %s (%v)", r.body, err)
		}
		// Citizens cannot export; the form is refused without reaching the plugin.
		expect(t, mario.form(svc, svc+"/export", url.Values{"role": {"scrutineer"}}), 403)
	})

	procStep(t, "another town sees nothing of it", func(t *testing.T) {
		other := s.citizen("venezia", "mario.rossi")
		if got := listed(t, other.get(s.url+"/t/venezia/requests", "Accept", "application/json")); len(got) != 0 {
			t.Fatalf("Venezia's Mario sees %v", got)
		}
		id := strconv.FormatInt(procDossier(t, s, slug, marioNo).ID, 10)
		expect(t, other.get(s.url+"/t/venezia/requests/"+id), 404)
		venezia := s.staff("venezia", "urp@venezia.example", "demo-venezia")
		expect(t, venezia.get(s.url+"/t/venezia/backoffice/requests/"+id), 404)
		// Venezia's office exporting Trezzo's round code gets an empty list.
		vsvc := s.url + "/t/venezia/services/scrutineer"
		rows := procCSV(t, venezia.form(vsvc, vsvc+"/export", url.Values{"round": {"prova-aperta"}, "role": {"scrutineer"}, "include": {"open"}}))
		if len(rows) != 1 {
			t.Fatalf("Venezia's export lists Trezzo's people: %q", rows)
		}
	})

	procStep(t, "past the deadline an offer is refused, the answers kept", func(t *testing.T) {
		closed := procDay(-1)
		configure("prova-chiusa; Referendum di prova; " + procDate(procDay(20)) + "; " + procDate(closed))
		lukas := s.citizen(slug, "lukas.meier")
		late := url.Values{"resident": {"on"}, "voter_here": {"on"}, "in_register": {"on"}, "schooling": {"on"},
			"no_incompatibility": {"on"}, "birth_date": {"1991-07-02"}, "section": {"77"}, "phone": {"02 765 4321"}, "consent": {"on"}}
		r := lukas.form(svc, svc+"/scrutineer", late)
		expect(t, r, 409, `role="alert"`, "Il termine per dare la disponibilità per «Referendum di prova» è scaduto "+procOn(closed),
			`value="77"`, `value="02 765 4321"`, `value="1991-07-02"`)
		if n := procCount(t, s, `SELECT count(*) FROM dossiers d JOIN citizens c ON c.tenant_id = d.tenant_id AND c.id = d.citizen_id
			WHERE c.fiscal_code = 'MRELKS90C15A952Q'`); n != 0 {
			t.Fatalf("a late offer was filed: %d dossiers", n)
		}
		// An API client gets the refusal as JSON.
		r = procJSON(lukas, svc, svc+"/scrutineer", late)
		expect(t, r, 409, `"error":"Il termine per dare la disponibilità`, `"status":409`)
	})
}

// A citizen files the three kinds of access request; each gets its
// protocol number, its legal deadline and the office the town's
// configuration names; the office notifies counter-interested parties and
// decides; the citizen reads the decision; the register lists it all, as
// CSV and as JSON.
func procRecordsAccess(t *testing.T, s *site) {
	const slug = "venezia"
	base := s.url + "/t/" + slug
	svc := base + "/services/recordsaccess"
	giulia := s.citizen(slug, "giulia.bianchi")
	expect(t, giulia.get(svc), 200, "Richiesta di accesso", `name="identity_document"`, `enctype="multipart/form-data"`)

	type filed struct {
		kind, office, number string
		d                    *dossier.Dossier
	}
	requests := []*filed{
		{kind: "civic", office: "urp"},
		{kind: "generalised", office: "anagrafe-mestre"},
		{kind: "documentary", office: "urp"},
	}
	values := map[string]url.Values{
		// No office named: civic access goes to the transparency officer.
		"civic": {"type": {"civic"}, "subject": {"Delibere di giunta del 2025"}, "records": {"Le delibere della giunta comunale adottate nel 2025."},
			"delivery": {"email"}, "email": {"giulia.atti@example.com"}, "consent": {"on"}},
		// The office that holds the records, by its name.
		"generalised": {"type": {"generalised"}, "subject": {"Registro delle iscrizioni anagrafiche 2025"},
			"records": {"I dati aggregati delle iscrizioni anagrafiche del 2025, per mese."}, "office": {"Anagrafe di Mestre"},
			"delivery": {"paper"}, "email": {"giulia.atti@example.com"}, "consent": {"on"}},
		// No office named: the default office assigns it.
		"documentary": {"type": {"documentary"}, "subject": {"Permesso di costruire in via Piave"},
			"records":    {"Il permesso di costruire e gli elaborati del cantiere confinante."},
			"motivation": {"Sono proprietaria dell'immobile confinante e devo verificare le distanze legali."},
			"delivery":   {"inspection"}, "email": {"giulia.atti@example.com"}, "consent": {"on"}},
	}

	procStep(t, "three requests, three deadlines, three offices", func(t *testing.T) {
		for _, rq := range requests {
			before := time.Now()
			var r response
			if rq.kind == "documentary" {
				r = giulia.multipart(svc, svc+"/request", values[rq.kind], fileUpload{"identity_document", "carta-identita.pdf", pdfOf(900)})
			} else {
				r = giulia.form(svc, svc+"/request", values[rq.kind])
			}
			rq.number = procFiled(t, r)
			after := time.Now()
			rq.d = procDossier(t, s, slug, rq.number)
			if rq.d.ServiceID != "recordsaccess" || rq.d.Status != "submitted" || rq.d.OfficeSlug != rq.office {
				t.Fatalf("%s: %+v", rq.kind, rq.d)
			}
			// Thirty days, from the day after the request, to the end of
			// the last one in the towns' zone (the same for each kind; the
			// test straddles midnight at most once).
			due := func(at time.Time) time.Time {
				y, m, d := at.In(sdk.Zone).Date()
				return time.Date(y, m, d+31, 0, 0, 0, 0, sdk.Zone).Add(-time.Second)
			}
			if !rq.d.DueAt.Equal(due(before)) && !rq.d.DueAt.Equal(due(after)) {
				t.Fatalf("%s: due %v, want %v", rq.kind, rq.d.DueAt, due(before))
			}
			expect(t, r, 200, "protocollo n. "+rq.number, "decide entro "+procOn(rq.d.DueAt))
		}
		// Protocol numbers: the town's next, one after another.
		for i := 1; i < len(requests); i++ {
			a, b := requests[i-1].number, requests[i].number
			if a[:5] != b[:5] || mustInt(t, b[5:]) != mustInt(t, a[5:])+1 {
				t.Fatalf("numbers %s then %s", a, b)
			}
		}
		expect(t, giulia.get(svc), 200) // the form is offered again, empty
		if attached := procCount(t, s, `SELECT count(*) FROM dossier_attachments WHERE tenant_id = ? AND dossier_id = ?`,
			requests[2].d.TenantID, requests[2].d.ID); attached != 1 {
			t.Fatalf("%d identity documents on the documentary request", attached)
		}
		var data struct {
			Motivation string `json:"motivation"`
			Identity   int64  `json:"identity_document"`
		}
		if err := json.Unmarshal(requests[2].d.Data, &data); err != nil || data.Motivation == "" || data.Identity == 0 {
			t.Fatalf("documentary data %s (%v)", requests[2].d.Data, err)
		}
	})
	civic, generalised, documentary := requests[0], requests[1], requests[2]

	op := s.staff(slug, "urp@venezia.example", "demo-venezia")
	page := func(f *filed) string { return dossierURL(s, slug, f.d.ID) }
	procStep(t, "the office finds them in its queue", func(t *testing.T) {
		got := listed(t, op.get(base+"/backoffice?service=recordsaccess", "Accept", "application/json"))
		if want := []string{civic.number, documentary.number}; !slices.Equal(got, want) {
			t.Fatalf("the public relations office's queue: %v, want %v", got, want)
		}
		got = listed(t, op.get(base+"/backoffice?service=recordsaccess&office=anagrafe-mestre", "Accept", "application/json"))
		if !slices.Equal(got, []string{generalised.number}) {
			t.Fatalf("Mestre's queue: %v", got)
		}
	})

	procStep(t, "counter-interested parties: suspended for one kind, not for another", func(t *testing.T) {
		today := procDate(procDay(0))
		expect(t, procAction(op, page(civic), "notify_counterparties", url.Values{"sent_on": {today}, "count": {"1"}}), 409,
			"non ci sono controinteressati")
		r := procAction(op, page(generalised), "notify_counterparties", url.Values{"sent_on": {today}, "count": {"2"},
			"note": {"PEC ai due controinteressati."}})
		suspendedTo := generalised.d.DueAt.AddDate(0, 0, 10)
		expect(t, r, 200, "decisione entro "+procOn(suspendedTo))
		if due := procDossier(t, s, slug, generalised.number).DueAt; !due.Equal(suspendedTo) {
			t.Errorf("the generalised request's deadline in the queue is %s, want %s", due, suspendedTo)
		}
		r = procAction(op, page(documentary), "notify_counterparties", url.Values{"sent_on": {today}, "count": {"1"}})
		expect(t, r, 200, "decisione entro "+procOn(documentary.d.DueAt))
		if due := procDossier(t, s, slug, documentary.number).DueAt; !due.Equal(documentary.d.DueAt) {
			t.Errorf("the documentary request's deadline moved to %s", due)
		}
		expect(t, procAction(op, page(documentary), "notify_counterparties", url.Values{"sent_on": {procDate(procDay(1))}, "count": {"1"}}),
			409, "sono già stati informati")
	})

	procStep(t, "the office decides", func(t *testing.T) {
		expect(t, procAction(op, page(civic), "decide", url.Values{"outcome": {"granted"},
			"reasons": {"Le trova pubblicate in Amministrazione trasparente"}}), 200, "Richiesta n. "+civic.number+": accolta.")
		expect(t, procAction(op, page(generalised), "decide", url.Values{"outcome": {"partly_granted"},
			"reasons": {"I dati sotto le cinque persone sono esclusi per la tutela dei dati personali"}, "grounds": {"private_interest"}}), 200)
		// A refusal needs its reasons, said beside the field.
		r := procAction(op, page(documentary), "decide", url.Values{"outcome": {"refused"}, "grounds": {"no_interest"}})
		expect(t, r, 422, `id="field-reasons-error"`, "la motivazione è obbligatoria")
		expect(t, procAction(op, page(documentary), "decide", url.Values{"outcome": {"refused"}, "grounds": {"no_interest"},
			"reasons": {"La distanza dal cantiere non incide sulla sua proprietà"}}), 200)
		expect(t, procAction(op, page(civic), "decide", url.Values{"outcome": {"refused"}, "reasons": {"ripensamento"}}), 409, "è già chiusa")
		for f, want := range map[*filed]string{civic: "granted", generalised: "partly_granted", documentary: "refused"} {
			if d := procDossier(t, s, slug, f.number); d.Status != want {
				t.Fatalf("%s is %s, want %s", f.number, d.Status, want)
			}
		}
	})

	procStep(t, "the decision reaches the citizen", func(t *testing.T) {
		expect(t, giulia.get(base+"/requests"), 200, civic.number, generalised.number, documentary.number, "Accolta in parte", "Respinta")
		mine := func(f *filed) string { return base + "/requests/" + strconv.FormatInt(f.d.ID, 10) }
		expect(t, giulia.get(mine(generalised)), 200, "è stata accolta in parte",
			"Motivazione: I dati sotto le cinque persone sono esclusi per la tutela dei dati personali.",
			"Puoi ritirare le copie all&#39;ufficio Anagrafe di Mestre", "riesame")
		r := giulia.get(mine(documentary))
		expect(t, r, 200, "è stata respinta", "Tribunale amministrativo regionale")
		if strings.Contains(r.body, "PEC ai due controinteressati.") {
			t.Fatal("the office's internal note shown to the citizen")
		}
		// The decision, by e-mail to the address given for it, for each.
		for _, f := range requests {
			if n := procCount(t, s, `SELECT count(*) FROM notifications n JOIN tenants t ON t.id = n.tenant_id
				WHERE t.slug = ? AND n.plugin_id = 'recordsaccess' AND n.status = 'queued' AND n.recipient = 'giulia.atti@example.com'
				AND n.subject = ?`, slug, "Esito della richiesta di accesso, protocollo n. "+f.number); n != 1 {
				t.Fatalf("%d decisions of %s queued", n, f.number)
			}
		}
	})

	procStep(t, "the register: CSV, and the same requests as JSON", func(t *testing.T) {
		r := op.form(svc, svc+"/register", url.Values{})
		expect(t, r, 200)
		rows := procCSV(t, r)
		if !slices.Equal(rows[0], []string{"Protocollo", "Data della richiesta", "Tipo di accesso", "Oggetto", "Ufficio", "Controinteressati",
			"Esito", "Data dell'esito", "Motivi di esclusione o limitazione"}) {
			t.Fatalf("header %q", rows[0])
		}
		if len(rows) != 4 {
			t.Fatalf("%d requests in the register, want 3: %q", len(rows)-1, rows[1:])
		}
		today := procDate(procDay(0))
		want := [][]string{
			{civic.number, today, "accesso civico semplice", "Delibere di giunta del 2025", "Ufficio relazioni con il pubblico", "no", "accolta", today, ""},
			{generalised.number, today, "accesso civico generalizzato", "Registro delle iscrizioni anagrafiche 2025", "Anagrafe di Mestre", "sì",
				"accolta in parte", today, "tutela di interessi privati"},
			{documentary.number, today, "accesso documentale", "Permesso di costruire in via Piave", "Ufficio relazioni con il pubblico", "sì",
				"respinta", today, "interesse non diretto, concreto e attuale"},
		}
		for i, w := range want {
			if !slices.Equal(rows[i+1], w) {
				t.Errorf("row %d: %q, want %q", i+1, rows[i+1], w)
			}
		}
		if strings.Contains(r.body, "Giulia") || strings.Contains(r.body, "giulia") {
			t.Fatal("the public register names the applicant")
		}

		r = procJSON(op, svc, svc+"/register", url.Values{})
		expect(t, r, 200)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("Content-Type %q", ct)
		}
		var body struct {
			Message string `json:"message"`
			Data    struct {
				Year     int `json:"year"`
				Requests []struct {
					Number, Type, Office, Outcome string
					Counterparties                bool
					Grounds                       []string
				} `json:"requests"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("register JSON: %v: %s", err, r.body)
		}
		if body.Data.Year != procDay(0).Year() || !strings.Contains(body.Message, "3 richieste") || len(body.Data.Requests) != 3 {
			t.Fatalf("register JSON: %s", r.body)
		}
		for i, rq := range body.Data.Requests {
			if rq.Number != rows[i+1][0] || rq.Type != requests[i].kind || rq.Office != rows[i+1][4] {
				t.Errorf("JSON request %d: %+v, CSV %q", i, rq, rows[i+1])
			}
		}
		if g := body.Data.Requests[1]; g.Outcome != "partly_granted" || !g.Counterparties || !slices.Equal(g.Grounds, []string{"private_interest"}) {
			t.Errorf("the generalised request in JSON: %+v", g)
		}
		// The register is the office's: a citizen is refused.
		expect(t, giulia.form(svc, svc+"/register", url.Values{}), 403)
	})
}

// Input the forms refuse: 422, the reasons beside the fields, the rest of
// what was typed still there, and nothing filed.
func procBadInput(t *testing.T, s *site) {
	dossiers := func() int {
		return procCount(t, s, `SELECT count(*) FROM dossiers`)
	}
	before := dossiers()

	procStep(t, "required answers missing", func(t *testing.T) {
		svc := s.url + "/t/trezzo-sull-adda/services/scrutineer"
		b := s.citizen("trezzo-sull-adda", "mario.rossi")
		r := b.form(svc, svc+"/scrutineer", url.Values{"resident": {"on"}, "section": {"31"}, "phone": {"02 555 0101"}})
		expect(t, r, 422, `id="field-birth_date-error"`, `id="field-consent-error"`, `value="31"`, `value="02 555 0101"`)
		if !regexp.MustCompile(`name="resident" value="[^"]*" checked`).MatchString(r.body) {
			t.Fatal("the ticked box came back unticked")
		}
	})

	svc := s.url + "/t/venezia/services/recordsaccess"
	b := s.citizen("venezia", "lukas.meier")
	documentary := url.Values{"type": {"documentary"}, "subject": {"Verbale della commissione edilizia"},
		"records": {"Il verbale della seduta della commissione edilizia di marzo."}, "delivery": {"email"},
		"email": {"lukas@example.com"}, "consent": {"on"}, "motivation": {"Sono il progettista dell'intervento esaminato."}}

	procStep(t, "a file of the wrong type", func(t *testing.T) {
		r := b.multipart(svc, svc+"/request", documentary, fileUpload{"identity_document", "documento.pdf", []byte("<!doctype html><p>no</p>")})
		expect(t, r, 422, `id="field-identity_document-error"`, "non è accettato qui", "Verbale della commissione edilizia",
			"Sono il progettista dell&#39;intervento esaminato.", "lukas@example.com")
		r = b.multipart(svc, svc+"/request", documentary, fileUpload{"identity_document", "documento.exe", pdfOf(500)})
		expect(t, r, 422, `id="field-identity_document-error"`, "Tipo di file non accettato")
	})

	procStep(t, "the plugin's own rules, every one at once", func(t *testing.T) {
		v := url.Values{}
		for k, vs := range documentary {
			v[k] = vs
		}
		v.Del("motivation")
		v.Set("office", "Ufficio che non esiste")
		r := b.form(svc, svc+"/request", v)
		expect(t, r, 422, `id="field-motivation-error"`, "spiega il tuo interesse diretto", `id="field-identity_document-error"`,
			"allega un documento d&#39;identità valido", `id="field-office-error"`, "Anagrafe di Mestre", "Verbale della commissione edilizia")
	})

	procStep(t, "as JSON: the fields and their reasons", func(t *testing.T) {
		r := procJSON(b, svc, svc+"/request", url.Values{"type": {"civic"}, "subject": {"x"}, "delivery": {"email"}, "consent": {"on"}})
		expect(t, r, 422)
		var body struct {
			Error  string            `json:"error"`
			Fields map[string]string `json:"fields"`
			Status int               `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Status != 422 || body.Error == "" {
			t.Fatalf("JSON refusal: %s (%v)", r.body, err)
		}
		for _, f := range []string{"subject", "records", "email"} {
			if body.Fields[f] == "" {
				t.Errorf("no reason for %s: %s", f, r.body)
			}
		}
		v := url.Values{}
		for k, vs := range documentary {
			v[k] = vs
		}
		v.Del("motivation")
		r = procJSON(b, svc, svc+"/request", v)
		expect(t, r, 422, `"motivation":"Per l'accesso documentale spiega`)
	})

	if after := dossiers(); after != before {
		t.Fatalf("refused input filed %d dossiers", after-before)
	}
}
