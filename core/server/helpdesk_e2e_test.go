package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"maps"
	"math/rand/v2"
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

// End to end through the helpdesk, the real plugin as a process against
// PostgreSQL, in Lugano as tenants/lugano.yaml configures it: roads go to
// the technical office (in the centre within 24 hours, urgent), questions
// to the residents' office, which is also the central one; water leaks are
// the utility's; reports come only from people who have logged in, and a
// resolved report may be reopened within 10 days. What is asserted is what
// the citizen and the operators see, and what the database holds.

const hdTown = "lugano"

// hdNumber is a protocol number as the dossiers get it.
var hdNumber = regexp.MustCompile(`\d{4}-\d{6}`)

// hdReport is a pothole in Via Nassa, inside the area "centro" of the
// town's first rule, as the citizen fills in the form.
func hdReport() url.Values {
	return url.Values{
		"category":         {"roads"},
		"title":            {"Buca profonda in via Nassa"},
		"description":      {"Una buca profonda mezzo metro sul marciapiede davanti al civico 5, pericolosa di sera."},
		"location.lat":     {"46.0037"},
		"location.lon":     {"8.9511"},
		"location.address": {"Via Nassa 5, davanti alla gioielleria"},
		"consent":          {"true"},
	}
}

// hdPNG is a real PNG picture of w×h pixels: a gradient, or with noise
// true random pixels stored uncompressed, which makes a large file.
func hdPNG(t *testing.T, w, h int, noise bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(6, 311))
	for y := range h {
		for x := range w {
			c := color.NRGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 128, A: 255}
			if noise {
				c = color.NRGBA{R: uint8(rnd.Uint32()), G: uint8(rnd.Uint32()), B: uint8(rnd.Uint32()), A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	if err := enc.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hdCopy is a copy of v, to change without touching v.
func hdCopy(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// hdTicket is what the helpdesk keeps on a dossier (its data).
type hdTicket struct {
	Category     string   `json:"category"`
	Kind         string   `json:"kind"`
	Title        string   `json:"title"`
	Lat          *float64 `json:"lat"`
	Lon          *float64 `json:"lon"`
	Address      string   `json:"address"`
	Area         string   `json:"area"`
	Channel      string   `json:"channel"`
	Rule         int      `json:"rule"`
	ContactName  string   `json:"contact_name"`
	ContactPhone string   `json:"contact_phone"`
	Suggested    []string `json:"suggested"`
	Attachments  []int64  `json:"attachments"`
	Lang         string   `json:"lang"`
}

func hdTicketOf(t *testing.T, d *dossier.Dossier) hdTicket {
	t.Helper()
	var tk hdTicket
	if err := json.Unmarshal(d.Data, &tk); err != nil {
		t.Fatalf("data of %s: %v: %s", d.Number, err, d.Data)
	}
	return tk
}

// hdFlow is what the steps of the test hand on to each other.
type hdFlow struct {
	s             *site
	tid           int64
	base, svc     string
	mario         *browser // the citizen, logged in with the development provider
	chiara        *browser // the technical office
	marco         *browser // the central office (residents' office)
	marioID       int64
	ticket        *dossier.Dossier // the pothole, as filed
	question      string           // the number of the information request
	phoneTicket   *dossier.Dossier
	photo, scheme []byte // the files of the pothole
}

func (f *hdFlow) dossier(t *testing.T, number string) *dossier.Dossier {
	t.Helper()
	d, err := f.s.srv.Dossiers.GetByNumber(context.Background(), f.tid, number)
	if err != nil {
		t.Fatalf("dossier %q of %s: %v", number, hdTown, err)
	}
	return d
}

func (f *hdFlow) reload(t *testing.T, id int64) *dossier.Dossier {
	t.Helper()
	d, err := f.s.srv.Dossiers.Get(context.Background(), f.tid, id)
	if err != nil {
		t.Fatalf("dossier %d of %s: %v", id, hdTown, err)
	}
	return d
}

// filed counts the town's helpdesk dossiers that are filed (drafts aside).
func (f *hdFlow) filed(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.s.db.Owner.NewRaw("SELECT count(*) FROM dossiers WHERE tenant_id = ? AND service_id = 'helpdesk' AND status <> 'draft'",
		f.tid).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// hdConfirmation is the protocol number a service's confirmation shows.
func hdConfirmation(t *testing.T, r response) string {
	t.Helper()
	expect(t, r, 200, `id="service-result"`)
	n := hdNumber.FindString(r.body[strings.Index(r.body, `id="service-result"`):])
	if n == "" {
		t.Fatalf("no protocol number in the confirmation: %.2000s", r.body)
	}
	return n
}

// hdVersion is the version of the dossier a back office page shows.
func hdVersion(t *testing.T, r response) string {
	t.Helper()
	m := versionField.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no version on the page (%d): %.1000s", r.status, r.body)
	}
	return m[1]
}

// hdAct posts one of the helpdesk's actions on a dossier page, with the
// version the page shows now, as the operator's browser would.
func hdAct(b *browser, page, action string, values url.Values) response {
	b.t.Helper()
	values.Set("version", hdVersion(b.t, b.get(page)))
	return b.form(page, page+"/actions/"+action, values)
}

// hdDue checks a deadline set hours after a moment between before and
// after: the plugin counts it from its own clock, to the second.
func hdDue(t *testing.T, due, before, after time.Time, hours int) {
	t.Helper()
	h := time.Duration(hours) * time.Hour
	if due.Before(before.Add(h).Add(-time.Second)) || due.After(after.Add(h).Add(time.Second)) {
		t.Fatalf("due %v, want %d hours after the report (%v to %v)", due, hours, before, after)
	}
}

// hdBadge is a status as the pages draw it, beside the dossier's title.
func hdBadge(label string, final bool) string {
	if final {
		return `<span class="badge bg-secondary">` + label + `</span>`
	}
	return `<span class="badge bg-primary">` + label + `</span>`
}

// hdCSV reads the back office's export.
func hdCSV(t *testing.T, r response) map[string][]string {
	t.Helper()
	expect(t, r, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q: %.500s", ct, r.body)
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("CSV: %v\n%s", err, r.body)
	}
	if rows[0][0] != "Numero di protocollo" {
		t.Fatalf("header %q", rows[0])
	}
	out := map[string][]string{}
	for _, row := range rows[1:] {
		out[row[0]] = row
	}
	return out
}

// The helpdesk from the citizen's report to the office's last step: every
// step builds on the one before, and the first to fail ends the test.
func TestHelpdeskEndToEnd(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	tid := mustTenant(t, s, hdTown).ID
	// The town's rules send roads to the technical office: Chiara
	// Bernasconi works there. Marco Rezzonico works in the residents'
	// office, the helpdesk's central office.
	if _, err := s.db.Owner.ExecContext(ctx, `INSERT INTO user_offices (tenant_id, user_id, office_id)
		SELECT ?, ?, id FROM offices WHERE tenant_id = ? AND slug = 'ufficio-tecnico'`,
		tid, userID(t, s, hdTown, "admin@lugano.example"), tid); err != nil {
		t.Fatal(err)
	}
	// tenants/lugano.yaml publishes the helpdesk with the town's settings.
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"})
	f := &hdFlow{s: s, tid: tid, base: s.url + "/t/" + hdTown}
	f.svc = f.base + "/services/helpdesk"
	f.mario = s.citizen(hdTown, "mario.rossi")
	f.marioID = accountOf(t, s, hdTown, "RSSMRA80A01H501U")
	f.chiara = s.staff(hdTown, "admin@lugano.example", "demo-lugano")
	f.marco = s.staff(hdTown, "sportello@lugano.example", "demo-lugano")

	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"a citizen reports a problem", f.report},
		{"refused reports store nothing", f.refused},
		{"a question gets the town's answers", f.ask},
		{"the office works the ticket", f.work},
		{"a phone call, taken as a draft", f.phone},
		{"another town sees nothing", f.isolation},
		{"the export", f.export},
	} {
		if !t.Run(step.name, step.run) {
			t.FailNow()
		}
	}
}

// report: Mario reports a pothole from the service page, with the place,
// a photo and a PDF; the town's first rule sends it to the technical
// office, urgent, within 24 hours.
func (f *hdFlow) report(t *testing.T) {
	ctx := context.Background()
	expect(t, f.mario.get(f.svc), 200, "Segnalazioni e richieste al Comune", `action="/t/`+hdTown+`/services/helpdesk/report"`,
		`enctype="multipart/form-data"`, `name="location.lat"`, `name="location.lon"`, `name="location.address"`, `name="photo_1"`,
		`name="document_1"`, `<option value="water_leaks">`)

	f.photo, f.scheme = hdPNG(t, 64, 48, false), pdfOf(3000)
	before := time.Now()
	r := f.mario.multipart(f.svc, f.svc+"/report", hdReport(),
		fileUpload{"photo_1", "buca.png", f.photo}, fileUpload{"document_1", "schizzo.pdf", f.scheme})
	after := time.Now()
	number := hdConfirmation(t, r)
	d := f.dossier(t, number)
	f.ticket = d
	expect(t, r, 200, "Abbiamo ricevuto la tua segnalazione, pratica n. "+number,
		"ti risponde entro le "+d.DueAt.In(sdk.Zone).Format("15:04")+" del "+sdk.Date("it", d.DueAt), "Puoi seguirla nella tua area personale.")

	if d.ServiceID != "helpdesk" || d.Status != "open" || d.Channel != dossier.ChannelWeb || d.CitizenID != f.marioID ||
		d.OfficeSlug != "ufficio-tecnico" || d.Priority != dossier.PriorityUrgent || d.Applicant.Name != "Mario Rossi" ||
		d.Title != "Strade e marciapiedi: Buca profonda in via Nassa" || d.Draft() {
		t.Fatalf("the dossier: %+v", d)
	}
	hdDue(t, d.DueAt, before, after, 24)
	tk := hdTicketOf(t, d)
	if tk.Category != "roads" || tk.Kind != "problem" || tk.Lat == nil || *tk.Lat != 46.0037 || tk.Lon == nil || *tk.Lon != 8.9511 ||
		tk.Address != "Via Nassa 5, davanti alla gioielleria" || tk.Area != "centro" || tk.Rule != 1 || tk.Channel != "web" ||
		tk.Lang != "it" || len(tk.Attachments) != 2 || tk.ContactName != "" {
		t.Fatalf("the ticket: %s", d.Data)
	}

	files, err := f.s.srv.Dossiers.Attachments(ctx, f.tid, d.ID, true)
	if err != nil || len(files) != 2 {
		t.Fatalf("files on %s: %+v %v", number, files, err)
	}
	slices.SortFunc(files, func(a, b dossier.Attachment) int { return strings.Compare(a.Name, b.Name) })
	if files[0].Name != "buca.png" || files[0].ContentType != "image/png" || files[1].Name != "schizzo.pdf" ||
		files[1].ContentType != "application/pdf" || !slices.Contains(tk.Attachments, files[0].ID) || !slices.Contains(tk.Attachments, files[1].ID) {
		t.Fatalf("files on %s: %+v, the ticket names %v", number, files, tk.Attachments)
	}
	var audited int
	if err := f.s.db.Owner.NewRaw(`SELECT count(*) FROM audit_log WHERE tenant_id = ? AND action = 'helpdesk.report' AND object = ?
		AND details->>'office' = 'ufficio-tecnico' AND details->>'priority' = 'urgent' AND (details->>'files')::int = 2`,
		f.tid, "dossier:"+number).Scan(ctx, &audited); err != nil || audited != 1 {
		t.Fatalf("the report's audit entry: %d %v", audited, err)
	}

	// "My requests": the report, its status and its files.
	expect(t, f.mario.get(f.base+"/requests"), 200, number, "Strade e marciapiedi: Buca profonda in via Nassa", hdBadge("Aperta", false))
	mine := f.base + "/requests/" + strconv.FormatInt(d.ID, 10)
	expect(t, f.mario.get(mine), 200, number, hdBadge("Aperta", false), "buca.png", "schizzo.pdf", "Buca profonda in via Nassa",
		`action="/t/`+hdTown+`/requests/`+strconv.FormatInt(d.ID, 10)+`/actions/answer"`)
	// The place is the citizen's answer too, though the helpdesk keeps it
	// flat beside the others.
	expect(t, f.mario.get(mine), 200, "Via Nassa 5, davanti alla gioielleria")
	r = f.mario.get(mine + "/attachments/" + strconv.FormatInt(files[0].ID, 10))
	expect(t, r, 200)
	if !bytes.Equal([]byte(r.body), f.photo) {
		t.Fatal("the photo downloaded is not the one sent")
	}
}

// refused: a topic the town sends elsewhere, a point outside the town, a
// photo too large or a page dressed as a photo: nothing is filed, and the
// page comes back with the answers as typed.
func (f *hdFlow) refused(t *testing.T) {
	before := f.filed(t)
	with := func(set map[string]string) url.Values {
		v := hdReport()
		for k, x := range set {
			v.Set(k, x)
		}
		return v
	}
	kept := []string{`value="Buca profonda in via Nassa"`, "Una buca profonda mezzo metro", `value="Via Nassa 5, davanti alla gioielleria"`}

	t.Run("a topic the town sends elsewhere", func(t *testing.T) {
		r := f.mario.multipart(f.svc, f.svc+"/report", with(map[string]string{"category": "water_leaks", "title": "Tubo rotto in via Pessina",
			"location.address": "Via Pessina 7"}), fileUpload{"photo_1", "tubo.png", hdPNG(t, 32, 32, false)})
		expect(t, r, 409, "rivolgiti a AIL, Aziende Industriali di Lugano (https://www.ail.example/guasti)",
			"La segnalazione non è stata inviata.", `value="Tubo rotto in via Pessina"`, `<option value="water_leaks" selected>`, `value="Via Pessina 7"`)
		if strings.Contains(r.body, `id="service-result"`) {
			t.Fatal("a refused report confirmed")
		}
	})
	t.Run("a point outside the town", func(t *testing.T) {
		// Milan's cathedral: on the globe, not in Lugano.
		r := f.mario.multipart(f.svc, f.svc+"/report", with(map[string]string{"location.lat": "45.4642", "location.lon": "9.19"}))
		expect(t, r, 422, append([]string{`id="field-location-error"`, "fuori dal territorio del Comune",
			`value="45.4642"`, `value="9.19"`}, kept...)...)
	})
	t.Run("a photo too large", func(t *testing.T) {
		big := hdPNG(t, 1400, 1300, true)
		if len(big) <= 5<<20 {
			t.Fatalf("the large photo has only %d bytes", len(big))
		}
		r := f.mario.multipart(f.svc, f.svc+"/report", hdReport(), fileUpload{"photo_1", "enorme.png", big},
			fileUpload{"document_1", "schizzo.pdf", pdfOf(2000)})
		expect(t, r, 422, append([]string{`id="field-photo_1-error"`, "troppo grande", "5 MB"}, kept...)...)
		// The good document is kept, by id, for the form sent again.
		expect(t, r, 422, `type="hidden" name="document_1" value="`, "schizzo.pdf")
	})
	t.Run("a page dressed as a photo", func(t *testing.T) {
		r := f.mario.multipart(f.svc, f.svc+"/report", hdReport(),
			fileUpload{"photo_1", "foto.jpg", []byte("<!doctype html><html><body><script>alert(1)</script></body></html>")})
		expect(t, r, 422, append([]string{`id="field-photo_1-error"`, "non è accettato qui"}, kept...)...)
	})
	if n := f.filed(t); n != before {
		t.Fatalf("%d dossiers filed by refused reports", n-before)
	}
	var reports int
	if err := f.s.db.Owner.NewRaw("SELECT count(*) FROM audit_log WHERE tenant_id = ? AND action = 'helpdesk.report'", f.tid).
		Scan(context.Background(), &reports); err != nil || reports != 1 {
		t.Fatalf("%d reports audited, want the first only (%v)", reports, err)
	}
}

// ask: a question on a residence permit gets the town's answer on the
// spot, and still reaches the residents' office.
func (f *hdFlow) ask(t *testing.T) {
	before := time.Now()
	r := f.mario.multipart(f.svc, f.svc+"/report", url.Values{"category": {"information"}, "title": {"Rinnovo del permesso di dimora"},
		"description": {"Il mio permesso di dimora scade a marzo: come lo rinnovo?"}, "consent": {"true"}})
	after := time.Now()
	f.question = hdConfirmation(t, r)
	expect(t, r, 200, "Abbiamo ricevuto la tua richiesta, pratica n. "+f.question, "Intanto, forse ti è utile:",
		"Come rinnovo il permesso di dimora?", "Prendi appuntamento al Controllo abitanti con il passaporto e il contratto d&#39;affitto.",
		"Vedi /services/appointments")
	d := f.dossier(t, f.question)
	if d.Status != "open" || d.OfficeSlug != "controllo-abitanti" || d.Priority != dossier.PriorityNormal || d.CitizenID != f.marioID {
		t.Fatalf("the question's dossier: %+v", d)
	}
	hdDue(t, d.DueAt, before, after, 120)
	if tk := hdTicketOf(t, d); tk.Kind != "request" || !slices.Equal(tk.Suggested, []string{"Come rinnovo il permesso di dimora?"}) {
		t.Fatalf("the question's ticket: %s", d.Data)
	}
	// The residents' office has it in its own queue.
	if got := listed(t, f.marco.get(f.base+"/backoffice?service=helpdesk", "Accept", "application/json")); !slices.Contains(got, f.question) {
		t.Fatalf("the residents' office's queue: %v", got)
	}
}

// work: the technical office takes the pothole, asks Mario, who answers;
// it resolves it, Mario reopens it, the office closes it. Each step is
// checked in the database and on both people's pages.
func (f *hdFlow) work(t *testing.T) {
	ctx := context.Background()
	d := f.ticket
	number, id := d.Number, strconv.FormatInt(d.ID, 10)
	page := dossierURL(f.s, hdTown, d.ID)
	mine := f.base + "/requests/" + id
	// messages are the dossier's messages, "internal:" before the
	// office's own notes.
	messages := func(t *testing.T) []string {
		t.Helper()
		var out []string
		rows, err := f.s.db.Owner.QueryContext(ctx, `SELECT internal, author_kind, body FROM dossier_messages
			WHERE tenant_id = ? AND dossier_id = ? ORDER BY at, id`, f.tid, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var internal bool
			var kind, body string
			if err := rows.Scan(&internal, &kind, &body); err != nil {
				t.Fatal(err)
			}
			if internal {
				kind = "internal:" + kind
			}
			out = append(out, kind+": "+body)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	status := func(t *testing.T, want string) *dossier.Dossier {
		t.Helper()
		got := f.reload(t, d.ID)
		if got.Status != want {
			t.Fatalf("%s is %q, want %q", number, got.Status, want)
		}
		return got
	}

	t.Run("in the office's queue and in the central office's all", func(t *testing.T) {
		if got := listed(t, f.chiara.get(f.base+"/backoffice", "Accept", "application/json")); !slices.Contains(got, number) {
			t.Fatalf("the technical office's queue: %v", got)
		}
		expect(t, f.chiara.get(f.base+"/backoffice"), 200, number, "Strade e marciapiedi: Buca profonda in via Nassa", "Urgente")
		if got := listed(t, f.marco.get(f.base+"/backoffice", "Accept", "application/json")); slices.Contains(got, number) {
			t.Fatalf("the pothole in the residents' office's own queue: %v", got)
		}
		if got := listed(t, f.marco.get(f.base+"/backoffice?scope=all&service=helpdesk", "Accept", "application/json")); !slices.Contains(got, number) ||
			!slices.Contains(got, f.question) {
			t.Fatalf("the central office's view of all: %v", got)
		}
	})

	expect(t, f.chiara.get(page), 200, number, "Ufficio tecnico", "Urgente", hdBadge("Aperta", false), "Mario Rossi", "buca.png", "schizzo.pdf",
		"Via Nassa 5, davanti alla gioielleria", "46.0037",
		`action="/t/`+hdTown+`/backoffice/requests/`+id+`/actions/take"`, "Chiedi chiarimenti al cittadino", "Risolvi la segnalazione")

	// Chiara takes the ticket in hand with the helpdesk's action, which
	// makes it hers, as the back office's own "take" does, and moves it
	// on. Two operators on one version: Marco's page is stale once she
	// has.
	if got := status(t, "open"); got.AssigneeID != 0 {
		t.Fatalf("%s is %s's before anybody took it", number, got.AssigneeName)
	}
	seen := hdVersion(t, f.marco.get(page))
	expect(t, hdAct(f.chiara, page, "take", url.Values{}), 200, "Pratica "+number+" presa in carico.", hdBadge("In lavorazione", false))
	if got := status(t, "in_progress"); got.AssigneeID != userID(t, f.s, hdTown, "admin@lugano.example") {
		t.Fatalf("taken by %d (%s)", got.AssigneeID, got.AssigneeName)
	}
	expect(t, f.mario.get(mine), 200, hdBadge("In lavorazione", false))
	t.Run("a stale version is refused, naming who changed it", func(t *testing.T) {
		r := f.marco.form(page, page+"/actions/take", url.Values{"version": {seen}})
		expect(t, r, 409, `id="dossier-stale"`, "Nel frattempo Chiara Bernasconi ha modificato questa pratica")
		if hdVersion(t, r) == seen {
			t.Fatalf("the 409 page still carries version %s", seen)
		}
		var taken int
		if err := f.s.db.Owner.NewRaw("SELECT count(*) FROM dossier_events WHERE tenant_id = ? AND dossier_id = ? AND status = 'in_progress'",
			f.tid, d.ID).Scan(ctx, &taken); err != nil || taken != 1 {
			t.Fatalf("taken %d times (%v)", taken, err)
		}
	})
	t.Run("nothing to answer before the office asks", func(t *testing.T) {
		r := f.mario.form(mine, mine+"/actions/answer", url.Values{"answer": {"Non mi è stato chiesto nulla."}})
		expect(t, r, 409, "La pratica "+number+" è nello stato «In lavorazione»: questa operazione si può fare solo quando è «In attesa di una risposta del cittadino»",
			">Non mi è stato chiesto nulla.</textarea>")
		status(t, "in_progress")
	})

	question := "La buca è sul marciapiede o sulla carreggiata?"
	expect(t, hdAct(f.chiara, page, "ask", url.Values{"question": {question}}), 200,
		"Domanda inviata: la pratica "+number+" attende la risposta del cittadino.")
	status(t, "waiting_citizen")
	expect(t, f.chiara.step(page, "note", url.Values{"note": {"Sopralluogo della squadra strade previsto per giovedì."}}), 303)
	expect(t, f.chiara.get(page), 200, hdBadge("In attesa di una risposta del cittadino", false), question,
		"Sopralluogo della squadra strade previsto per giovedì.")
	r := f.mario.get(mine)
	expect(t, r, 200, hdBadge("In attesa di una risposta del cittadino", false), question, "Per la segnalazione n. "+number)
	if strings.Contains(r.body, "Sopralluogo") {
		t.Fatal("the citizen reads the office's internal note")
	}
	// The question is a reply to the citizen, the note the office's own.
	if got := messages(t); len(got) != 2 || got[0] != "staff: Per la segnalazione n. "+number+" l'ufficio ha bisogno di un chiarimento:\n\n"+question ||
		got[1] != "internal:staff: Sopralluogo della squadra strade previsto per giovedì." {
		t.Fatalf("messages %q", got)
	}

	// Mario answers from "my requests": the ticket is back in progress.
	r = f.mario.form(mine, mine+"/actions/answer", url.Values{"answer": {"Sulla carreggiata, a un metro dal marciapiede."}})
	expect(t, r, 200, `id="action-result"`, "Abbiamo inviato la tua risposta: la segnalazione "+number+" torna in lavorazione.", hdBadge("In lavorazione", false))
	status(t, "in_progress")
	if got := messages(t); len(got) != 3 || got[2] != "citizen: Sulla carreggiata, a un metro dal marciapiede." {
		t.Fatalf("messages after the answer %q", got)
	}
	expect(t, f.chiara.get(page), 200, hdBadge("In lavorazione", false), "Sulla carreggiata, a un metro dal marciapiede.", "Il cittadino ha risposto.")

	answer := "La buca è stata chiusa con asfalto a freddo il giorno stesso."
	expect(t, hdAct(f.chiara, page, "resolve", url.Values{"answer": {answer}}), 200,
		"Pratica "+number+" risolta; la risposta è stata inviata.", hdBadge("Risolta", true))
	status(t, "resolved")
	expect(t, f.mario.get(mine), 200, hdBadge("Risolta", true), answer, "entro 10 giorni")

	// Mario reopens it within the town's ten days.
	r = f.mario.form(mine, mine+"/actions/reopen_request", url.Values{"reason": {"La buca si è riaperta dopo la pioggia di ieri."}})
	expect(t, r, 200, `id="action-result"`, "La segnalazione "+number+" è di nuovo aperta", hdBadge("Riaperta", false))
	status(t, "reopened")
	expect(t, f.chiara.get(page), 200, hdBadge("Riaperta", false), "La buca si è riaperta dopo la pioggia di ieri.")

	closing := "Rifacimento completo della pavimentazione programmato per la primavera."
	expect(t, hdAct(f.chiara, page, "close", url.Values{"message": {closing}}), 200, "Pratica "+number+" chiusa.", hdBadge("Chiusa", true))
	closed := status(t, "closed")
	expect(t, f.mario.get(mine), 200, hdBadge("Chiusa", true), closing)
	expect(t, f.mario.get(f.base+"/requests"), 200, number, hdBadge("Chiusa", true))

	t.Run("a closed ticket is no longer the citizen's to reopen", func(t *testing.T) {
		r := f.mario.form(mine, mine+"/actions/reopen_request", url.Values{"reason": {"Non sono d'accordo con la chiusura."}})
		expect(t, r, 409, "La pratica "+number+" è nello stato «Chiusa»")
		if got := status(t, "closed"); got.Version != closed.Version {
			t.Fatalf("a refused reopening moved %s to version %d", number, got.Version)
		}
	})
	t.Run("the history, in order", func(t *testing.T) {
		var got []string
		rows, err := f.s.db.Owner.QueryContext(ctx, `SELECT status FROM dossier_events WHERE tenant_id = ? AND dossier_id = ? AND status <> ''
			ORDER BY at, id`, f.tid, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var st string
			if err := rows.Scan(&st); err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || got[len(got)-1] != st {
				got = append(got, st)
			}
		}
		want := []string{"open", "in_progress", "waiting_citizen", "in_progress", "resolved", "reopened", "closed"}
		if !slices.Equal(got, want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	})
}

// phone: Marco takes a call about a street light, saves it as a draft
// first, then submits it: the helpdesk files it, by phone, for the
// technical office.
func (f *hdFlow) phone(t *testing.T) {
	ctx := context.Background()
	newURL := f.base + "/backoffice/new"
	expect(t, f.marco.get(newURL), 200, `value="helpdesk/report"`)
	form := newURL + "?service=helpdesk/report"
	expect(t, f.marco.get(form), 200, `name="_service" value="helpdesk/report"`, `name="category"`, `name="location.address"`)
	call := url.Values{"_service": {"helpdesk/report"}, "_channel": {"phone"}, "_name": {"Luca Bianchi"}, "_phone": {"+41 79 123 45 67"},
		"category": {"street_lighting"}, "title": {"Lampione spento in via Pessina"},
		"description": {"Il lampione davanti al civico 3 è spento da tre sere."}, "location.address": {"Via Pessina 3"},
		"contact_name": {"Luca Bianchi"}, "contact_phone": {"+41 79 123 45 67"}, "consent": {"true"}}
	filed := f.filed(t)

	draft := hdCopy(call)
	draft.Set("_draft", "1")
	r := f.marco.multipart(form, newURL, draft)
	expect(t, r, 303)
	loc := r.header.Get("Location")
	m := regexp.MustCompile(`/requests/(\d+)\?done=save$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("the draft's redirect: %q", loc)
	}
	draftID := mustInt(t, m[1])
	dd := f.reload(t, draftID)
	if !dd.Draft() || dd.ServiceID != "helpdesk" || dd.Channel != dossier.ChannelPhone || dd.Applicant.Name != "Luca Bianchi" {
		t.Fatalf("the draft: %+v", dd)
	}
	if n := f.filed(t); n != filed {
		t.Fatal("a draft filed a ticket")
	}
	dpage := dossierURL(f.s, hdTown, draftID)
	expect(t, f.marco.get(dpage), 200, "Bozza", "Lampione spento in via Pessina", "Via Pessina 3")

	submit := hdCopy(call)
	submit.Del("_service")
	submit.Set("version", hdVersion(t, f.marco.get(dpage)))
	before := time.Now()
	r = f.marco.multipart(dpage, dpage+"/submit", submit)
	after := time.Now()
	expect(t, r, 303)
	loc = r.header.Get("Location")
	m = regexp.MustCompile(`/requests/(\d+)\?done=submit$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("the submission's redirect: %q", loc)
	}
	if _, err := f.s.srv.Dossiers.Get(ctx, f.tid, draftID); err == nil {
		t.Fatal("the draft is still there once the helpdesk filed the ticket")
	}
	d := f.reload(t, mustInt(t, m[1]))
	f.phoneTicket = d
	if d.ServiceID != "helpdesk" || d.Status != "open" || d.Channel != dossier.ChannelPhone || d.OfficeSlug != "ufficio-tecnico" ||
		d.Priority != dossier.PriorityNormal || d.Applicant.Name != "Luca Bianchi" || d.Applicant.Phone != "+41 79 123 45 67" ||
		d.CitizenID != 0 || d.Title != "Illuminazione pubblica: Lampione spento in via Pessina" {
		t.Fatalf("the phone ticket: %+v", d)
	}
	hdDue(t, d.DueAt, before, after, 120)
	if tk := hdTicketOf(t, d); tk.Channel != "phone" || tk.Category != "street_lighting" || tk.Address != "Via Pessina 3" ||
		tk.ContactName != "Luca Bianchi" || tk.ContactPhone != "+41 79 123 45 67" {
		t.Fatalf("the phone ticket's data: %s", d.Data)
	}
	if n := f.filed(t); n != filed+1 {
		t.Fatalf("%d tickets filed by one call", n-filed)
	}
	expect(t, f.marco.get(f.s.url+loc), 200, d.Number, "Telefono", "Luca Bianchi", hdBadge("Aperta", false))
	if got := listed(t, f.chiara.get(f.base+"/backoffice?channel=phone", "Accept", "application/json")); !slices.Equal(got, []string{d.Number}) {
		t.Fatalf("the technical office's phone tickets: %v", got)
	}
}

// isolation: Venice's Mario Rossi and Venice's operator reach nothing of
// Lugano's ticket, and neither does another of Lugano's citizens.
func (f *hdFlow) isolation(t *testing.T) {
	ctx := context.Background()
	d := f.ticket
	id := strconv.FormatInt(d.ID, 10)
	files, err := f.s.srv.Dossiers.Attachments(ctx, f.tid, d.ID, true)
	if err != nil || len(files) == 0 {
		t.Fatalf("files: %v %v", files, err)
	}
	file := strconv.FormatInt(files[0].ID, 10)
	venezia := f.s.url + "/t/venezia"

	citizen := f.s.citizen("venezia", "mario.rossi")
	expect(t, citizen.get(venezia+"/requests/"+id), 404)
	expect(t, citizen.get(venezia+"/requests/"+id+"/attachments/"+file), 404)
	expect(t, citizen.form(venezia+"/profile", venezia+"/requests/"+id+"/actions/reopen_request",
		url.Values{"reason": {"Tentativo da un altro Comune."}}), 404)
	if got := listed(t, citizen.get(venezia+"/requests", "Accept", "application/json")); len(got) != 0 {
		t.Fatalf("Venice's Mario sees %v", got)
	}

	op := f.s.staff("venezia", "urp@venezia.example", "demo-venezia")
	expect(t, op.get(venezia+"/backoffice/requests/"+id), 404)
	expect(t, op.get(venezia+"/backoffice/requests/"+id+"/attachments/"+file), 404)
	expect(t, op.form(venezia+"/profile", venezia+"/backoffice/requests/"+id+"/actions/take",
		url.Values{"version": {strconv.FormatInt(d.Version, 10)}}), 404)
	if got := listed(t, op.get(venezia+"/backoffice?scope=all&service=helpdesk", "Accept", "application/json")); len(got) != 0 {
		t.Fatalf("Venice's queue shows %v", got)
	}
	if rows := hdCSV(t, op.get(venezia+"/backoffice?scope=all&service=helpdesk&format=csv")); len(rows) != 0 {
		t.Fatalf("Venice's export holds %d of Lugano's tickets", len(rows))
	}
	// Venice's session is no session in Lugano.
	if r := op.get(dossierURL(f.s, hdTown, d.ID)); r.status != 303 || !strings.Contains(r.header.Get("Location"), "/t/"+hdTown+"/login") {
		t.Fatalf("Venice's operator in Lugano: %d %s", r.status, r.header.Get("Location"))
	}

	giulia := f.s.citizen(hdTown, "giulia.bianchi")
	expect(t, giulia.get(f.base+"/requests/"+id), 404)
	expect(t, giulia.get(f.base+"/requests/"+id+"/attachments/"+file), 404)
	expect(t, giulia.form(f.base+"/profile", f.base+"/requests/"+id+"/actions/answer", url.Values{"answer": {"Non è mia."}}), 404)

	if got := f.reload(t, d.ID); got.Status != "closed" {
		t.Fatalf("after the others' attempts %s is %q", d.Number, got.Status)
	}
}

// export: the back office's CSV of the filtered helpdesk list.
func (f *hdFlow) export(t *testing.T) {
	all := hdCSV(t, f.marco.get(f.base+"/backoffice?scope=all&service=helpdesk&format=csv"))
	row, ok := all[f.ticket.Number]
	if !ok || len(all) != 3 {
		t.Fatalf("the export holds %v, want the pothole, the question and the call", slices.Collect(maps.Keys(all)))
	}
	if row[2] != "helpdesk" || row[3] != "Strade e marciapiedi: Buca profonda in via Nassa" || row[4] != "closed" || row[6] != "Mario Rossi" ||
		row[9] != "ufficio-tecnico" || row[10] != "Chiara Bernasconi" || row[11] != "Urgente" ||
		row[12] != f.ticket.DueAt.In(sdk.Zone).Format("2006-01-02 15:04") {
		t.Fatalf("the pothole's row: %q", row)
	}
	if call := all[f.phoneTicket.Number]; call == nil || call[5] != "Telefono" || call[6] != "Luca Bianchi" {
		t.Fatalf("the call's row: %q", call)
	}
	closed := hdCSV(t, f.marco.get(f.base+"/backoffice?scope=all&service=helpdesk&status=closed&format=csv"))
	if len(closed) != 1 || closed[f.ticket.Number] == nil {
		t.Fatalf("the closed tickets: %v", slices.Collect(maps.Keys(closed)))
	}
	phone := hdCSV(t, f.marco.get(f.base+"/backoffice?scope=all&service=helpdesk&channel=phone&format=csv"))
	if len(phone) != 1 || phone[f.phoneTicket.Number] == nil {
		t.Fatalf("the phone tickets: %v", slices.Collect(maps.Keys(phone)))
	}
}
