package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// person is a citizen whose every detail is distinctive, so that any of
// them showing up where it must not is found by a plain search.
type person struct {
	Name, Email, FiscalCode, Phone, Secret string
}

func (p person) strings() []string {
	first, _, _ := strings.Cut(p.Name, " ")
	return []string{p.Name, first, p.Email, p.FiscalCode, p.Phone, p.Secret, strings.ToLower(p.FiscalCode)}
}

var seedNumber atomic.Int64

// seedCode is a booking code no other seeded booking has.
func seedCode(n int64) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	code := []byte("QQQQQQQQ")
	for i := len(code) - 1; n > 0 && i >= 0; i-- {
		code[i] = alphabet[n%int64(len(alphabet))]
		n /= int64(len(alphabet))
	}
	return string(code)
}

// seeded is what seedPerson made.
type seeded struct {
	citizen  int64
	dossiers map[string]int64 // by label: "closed1".."closed3", "open", "draft"
}

// seedPerson gives p, in town slug, an account with helpdesk reports
// (three closed and one open in March 2026, one draft), messages public
// and internal, an attachment, an appointment, e-mails sent, and page
// ratings whose comments and a made-up page carry p's details. It is all
// written as the database owner, as if it had come through the site.
func seedPerson(t *testing.T, s *site, slug string, p person) seeded {
	t.Helper()
	ctx := context.Background()
	db := s.db.Owner
	tenant := mustTenant(t, s, slug).ID
	out := seeded{dossiers: map[string]int64{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.NewRaw(`INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code)
		VALUES (?, 'https://idp.test', ?, ?, ?, ?) RETURNING id`, tenant, "seed-"+p.FiscalCode, p.Name, p.Email, p.FiscalCode).
		Scan(ctx, &out.citizen))
	return seedData(t, s, slug, out.citizen, p)
}

// seedData is seedPerson's data for an existing account.
func seedData(t *testing.T, s *site, slug string, citizen int64, p person) seeded {
	t.Helper()
	ctx := context.Background()
	db := s.db.Owner
	tenant := mustTenant(t, s, slug).ID
	out := seeded{citizen: citizen, dossiers: map[string]int64{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var office int64
	must(db.NewRaw("SELECT id FROM offices WHERE tenant_id = ? ORDER BY id LIMIT 1", tenant).Scan(ctx, &office))
	data, _ := json.Marshal(map[string]any{"category": "roads", "lat": 46.0051234, "lon": 8.9512345, "description": p.Secret,
		"address": "Via " + p.Name + " 7", "contact_name": p.Name, "contact_email": p.Email, "contact_phone": p.Phone,
		"fiscal_code": p.FiscalCode})
	applicant, _ := json.Marshal(map[string]string{"name": p.Name, "email": p.Email, "fiscal_code": p.FiscalCode, "phone": p.Phone})
	at := time.Date(2026, time.March, 10, 9, 0, 0, 0, time.UTC)
	for _, d := range []struct{ label, status string }{
		{"closed1", "resolved"}, {"closed2", "resolved"}, {"closed3", "resolved"}, {"open", "submitted"}, {"draft", "draft"},
	} {
		n := seedNumber.Add(1)
		number, submitted := fmt.Sprintf("2026-9%05d", n), any(at)
		if d.status == "draft" {
			number, submitted = fmt.Sprintf("D-9%05d", n), nil
		}
		var id int64
		must(db.NewRaw(`INSERT INTO dossiers (tenant_id, number, service_id, citizen_id, status, title, data, channel,
				created_at, updated_at, applicant, submitted_at, office_id)
			VALUES (?, ?, 'helpdesk', ?, ?, ?, ?, 'web', ?, ?, ?, ?, ?) RETURNING id`,
			tenant, number, out.citizen, d.status, "Buca davanti a casa di "+p.Name+": "+p.Secret, string(data), at, at,
			string(applicant), submitted, office).Scan(ctx, &id))
		out.dossiers[d.label] = id
		_, err := db.ExecContext(ctx, `INSERT INTO dossier_messages (tenant_id, dossier_id, internal, author_kind, author_id, author_name, body)
			VALUES (?, ?, false, 'citizen', ?, ?, ?), (?, ?, true, 'staff', 0, 'Operatore', ?)`,
			tenant, id, out.citizen, p.Name, "Chiamatemi al "+p.Phone+" — "+p.Secret,
			tenant, id, "Nota interna su "+p.Name+" "+p.FiscalCode)
		must(err)
		_, err = db.ExecContext(ctx, `INSERT INTO dossier_attachments (tenant_id, dossier_id, name, content_type, size, sha256,
				storage_key, uploader_kind, uploader_id, uploader_name)
			VALUES (?, ?, ?, 'application/pdf', 10, ?, 'x', 'citizen', ?, ?)`,
			tenant, id, "documento-"+p.FiscalCode+".pdf", strings.Repeat("a", 64), out.citizen, p.Name)
		must(err)
	}
	// An appointment at the town's first appointment office.
	var resource, topic int64
	must(db.NewRaw("SELECT resource_id FROM appointment_offices WHERE tenant_id = ? ORDER BY office_id LIMIT 1", tenant).Scan(ctx, &resource))
	must(db.NewRaw("SELECT id FROM appointment_topics WHERE tenant_id = ? ORDER BY id LIMIT 1", tenant).Scan(ctx, &topic))
	var booking int64
	start := time.Date(2026, time.April, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(seedNumber.Add(1)) * time.Hour)
	must(db.NewRaw(`INSERT INTO bookings (tenant_id, resource_id, seat, period, status, code, citizen_id, contact_name,
			contact_email, contact_phone, service_id)
		VALUES (?, ?, 1, tstzrange(?, ?), 'confirmed', ?, ?, ?, ?, ?, 'appointments') RETURNING id`,
		tenant, resource, start, start.Add(15*time.Minute), seedCode(seedNumber.Add(1)),
		out.citizen, p.Name, p.Email, p.Phone).Scan(ctx, &booking))
	_, err := db.ExecContext(ctx, "INSERT INTO appointments (tenant_id, booking_id, topic_id) VALUES (?, ?, ?)", tenant, booking, topic)
	must(err)
	_, err = db.ExecContext(ctx, `INSERT INTO notifications (tenant_id, plugin_id, channel, recipient, subject, body)
		VALUES (?, 'core', 'email', ?, ?, ?)`, tenant, p.Email, "Per "+p.Name, "Gentile "+p.Name+", "+p.Secret)
	must(err)
	for i := 0; i < 3; i++ {
		_, err = db.ExecContext(ctx, `INSERT INTO page_ratings (tenant_id, path, stars, answer, comment, lang)
			VALUES (?, '/services/helpdesk', 2, 'other_bad', ?, 'it'), (?, ?, 5, 'other_good', '', 'it')`,
			tenant, p.Name+" "+p.Phone, tenant, "/"+p.Email)
		must(err)
	}
	return out
}

// Patterns of personal data, whoever's: an e-mail address, an Italian
// fiscal code, a phone number (also catches protocol numbers).
var personalPatterns = map[string]*regexp.Regexp{
	"e-mail":      regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`),
	"fiscal code": regexp.MustCompile(`(?i)\b[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z]\b`),
	"phone":       regexp.MustCompile(`\+?[0-9][0-9 \-]{7,}[0-9]`),
}

func TestOpenDataHoldsNoPersonalData(t *testing.T) {
	s := newSite(t)
	alice := person{Name: "Zebediah Quuxworth", Email: "zebediah.quux@privacy-test.example", FiscalCode: "QXWZBD70A01H501Z",
		Phone: "+39 347 555 0199", Secret: "Il cane di Zebediah abbaia sempre"}
	bob := person{Name: "Ottoline Brackenridge", Email: "ottoline.b@other-town.example", FiscalCode: "BRCTLN65B42L219K",
		Phone: "+39 333 987 6543", Secret: "Ottoline nasconde la chiave sotto il vaso"}
	seedPerson(t, s, "lugano", alice)
	seedPerson(t, s, "trezzo-sull-adda", bob)
	// Something only the other town has, to see it never crosses over.
	_, err := s.db.Owner.ExecContext(context.Background(), `INSERT INTO dossiers (tenant_id, number, service_id, status, title, channel)
		SELECT id, '2026-800001', 'trezzoonly', 'submitted', 'x', 'counter' FROM tenants WHERE slug = 'trezzo-sull-adda'`)
	if err != nil {
		t.Fatal(err)
	}

	b := s.browser()
	fetch := func(slug, file string) string {
		t.Helper()
		r := b.get(s.url + "/t/" + slug + "/opendata/" + file)
		expect(t, r, 200)
		if strings.HasSuffix(file, ".json") {
			var doc struct {
				License string           `json:"license"`
				Records []map[string]any `json:"records"`
			}
			if err := json.Unmarshal([]byte(r.body), &doc); err != nil || doc.License != "CC-BY-4.0" {
				t.Fatalf("%s of %s: %v %q: %.500s", file, slug, err, doc.License, r.body)
			}
		}
		return r.body
	}
	all := map[string]string{}
	for _, slug := range []string{"lugano", "trezzo-sull-adda"} {
		for _, id := range []string{"requests", "reports", "appointments", "ratings"} {
			for _, ext := range []string{".csv", ".json"} {
				all[slug+"/"+id+ext] = fetch(slug, id+ext)
			}
		}
	}
	for name, body := range all {
		for _, p := range []person{alice, bob} {
			for _, str := range p.strings() {
				if strings.Contains(body, str) {
					t.Errorf("%s contains %q:\n%s", name, str, body)
				}
			}
		}
		for what, re := range personalPatterns {
			if m := re.FindString(body); m != "" {
				t.Errorf("%s contains a %s (%q):\n%s", name, what, m, body)
			}
		}
	}

	// The figures are there, small cells suppressed: three closed
	// reports counted, the one open one only as "<3"; the draft nowhere.
	req := all["lugano/requests.csv"]
	for _, line := range []string{"service,channel,month,status,requests", "helpdesk,web,2026-03,closed,3", "helpdesk,web,2026-03,open,<3"} {
		if !strings.Contains(req, line+"\n") {
			t.Errorf("lugano/requests.csv lacks %q:\n%s", line, req)
		}
	}
	if strings.Contains(req, "trezzoonly") || !strings.Contains(all["trezzo-sull-adda/requests.csv"], "trezzoonly,counter,") {
		t.Errorf("the other town's requests cross over, or are missing from its own:\n%s\n%s", req, all["trezzo-sull-adda/requests.csv"])
	}
	rep := all["lugano/reports.csv"]
	if !strings.Contains(rep, "roads,closed,2026-03,") || !strings.Contains(rep, ",46.005,8.951,3\n") || strings.Contains(rep, "46.0051") {
		t.Errorf("lugano/reports.csv does not show three closed reports at the rounded place:\n%s", rep)
	}
	if !strings.Contains(all["lugano/appointments.csv"], ",2026-04,booked,<3\n") {
		t.Errorf("lugano/appointments.csv lacks the suppressed April appointment:\n%s", all["lugano/appointments.csv"])
	}
	rat := all["lugano/ratings.csv"]
	if !strings.Contains(rat, "/services/helpdesk,2,3\n") || strings.Count(rat, "\n") != 2 {
		t.Errorf("lugano/ratings.csv should list the helpdesk page only:\n%s", rat)
	}
	var doc struct {
		Records []map[string]any `json:"records"`
	}
	_ = json.Unmarshal([]byte(all["lugano/requests.json"]), &doc)
	var three, small bool
	for _, r := range doc.Records {
		three = three || (r["status"] == "closed" && r["requests"] == float64(3))
		small = small || (r["status"] == "open" && r["requests"] == "<3")
	}
	if !three || !small {
		t.Errorf("lugano/requests.json: closed 3 %v, open <3 %v: %v", three, small, doc.Records)
	}
}

func TestOpenDataIndexAndBadNames(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	for _, c := range []struct{ slug, lang, want string }{
		{"lugano", "it", "Dati aperti"}, {"lugano", "de", "Offene Daten"}, {"venezia", "en", "Open data"},
	} {
		r := b.get(s.url + "/t/" + c.slug + "/opendata?lang=" + c.lang)
		expect(t, r, 200, "<h1 id=\"page-title\">"+c.want+"</h1>", "CC BY 4.0", `rel="license"`,
			`href="/t/`+c.slug+`/opendata/requests.csv"`, `href="/t/`+c.slug+`/opendata/ratings.json"`, "&lt;3")
	}
	r := b.get(s.url + "/t/lugano/opendata/reports.csv")
	expect(t, r, 200, "category,status,month,office,lat,lon,reports")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, path := range []string{"/t/lugano/opendata/nope.csv", "/t/lugano/opendata/requests.xml", "/t/lugano/opendata/requests",
		"/t/lugano/opendata/.csv", "/t/lugano/opendata/requests.csv.json", "/t/nowhere/opendata", "/t/nowhere/opendata/requests.csv",
		"/t/lugano/opendata/%2e%2e%2frequests.csv"} {
		if r := b.get(s.url + path); r.status != 404 {
			t.Errorf("GET %s: %d, want 404", path, r.status)
		}
	}
}
