package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/plugins/sdk"
)

// End to end, against the real plugin processes and PostgreSQL: a cemetery
// concession from the citizen's request to the signed deed, and the
// declarative procedures (TARI, a course paid online) from the form to
// the office's last step.

const cemTown = "trezzo-sull-adda"

// cemNumber is a protocol number as the dossiers get it.
var cemNumber = regexp.MustCompile(`\d{4}-\d{6}`)

// cemStale is the warning of a page refused for a stale version.
var cemStale = regexp.MustCompile(`(?s)id="dossier-stale">(.*?)</div>`)

// cemDossier is the dossier of a protocol number, read as the back office
// reads it.
func cemDossier(t *testing.T, s *site, slug, number string) *dossier.Dossier {
	t.Helper()
	d, err := s.srv.Dossiers.GetByNumber(context.Background(), mustTenant(t, s, slug).ID, number)
	if err != nil {
		t.Fatalf("dossier %q of %s: %v", number, slug, err)
	}
	return d
}

// cemTownTariff is the price, in cents, the town's manifest sets for a
// type of place and a duration: what the citizen must be told and pay.
func cemTownTariff(t *testing.T, slug, place string, years int) int64 {
	t.Helper()
	m, err := tenancy.LoadManifest("../../tenants/" + slug + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range m.Services {
		if svc.ID != "cemetery" {
			continue
		}
		tariffs, _ := svc.Config["tariffs"].(map[string]any)
		table, _ := tariffs[place].(string)
		for _, item := range strings.Split(table, ";") {
			y, price, ok := strings.Cut(strings.TrimSpace(item), "=")
			if n, err := strconv.Atoi(strings.TrimSpace(y)); !ok || err != nil || n != years {
				continue
			}
			euros, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(price), ",", "."), 64)
			if err != nil {
				t.Fatalf("tariff %q of %s: %v", item, slug, err)
			}
			return int64(euros*100 + 0.5)
		}
		t.Fatalf("%s grants no %s for %d years: %q", slug, place, years, table)
	}
	t.Fatalf("%s has no cemetery service", slug)
	return 0
}

// cemEuro writes cents as the Italian pages do: 1200,00 → "1.200,00".
func cemEuro(cents int64) string {
	whole, frac := strconv.FormatInt(cents/100, 10), fmt.Sprintf("%02d", cents%100)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String() + "," + frac
}

// cemPoppler runs one of poppler's tools on a PDF, as a desktop reader
// would read it, and returns what it prints. Without the tool the test
// fails: a signature nobody checked is no proof.
func cemPoppler(t *testing.T, tool string, doc []byte, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: install poppler-utils (.ci/run does)", tool)
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, path)
	if tool == "pdftotext" {
		args = append(args, "-")
	}
	// pdfsig exits non-zero for an invalid signature: the report says why.
	out, _ := exec.Command(bin, args...).CombinedOutput()
	return string(out)
}

// cemTrusting is an NSS certificate store, what pdfsig reads, that
// trusts ca for signed documents.
func cemTrusting(t *testing.T, ca *x509.Certificate) string {
	t.Helper()
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Fatal("certutil not found: install libnss3-tools (.ci/run does)")
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	store := "sql:" + dir
	for _, args := range [][]string{
		{"-N", "-d", store, "--empty-password"},
		{"-A", "-d", store, "-n", "Sportello platform CA", "-t", "C,C,C", "-i", caFile},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return store
}

var cemSigLine = regexp.MustCompile(`(?m)^[ \t]*- ([^:\n]+)(?:: (.*))?$`)

// cemSignatures are the "- Name: value" lines of pdfsig's report, one map
// per signature.
func cemSignatures(report string) []map[string]string {
	var out []map[string]string
	for _, block := range strings.Split(report, "Signature #")[1:] {
		m := map[string]string{}
		for _, f := range cemSigLine.FindAllStringSubmatch(block, -1) {
			m[strings.TrimSpace(f[1])] = strings.TrimSpace(f[2])
		}
		out = append(out, m)
	}
	return out
}

// cemRequest is a concession request as the citizen fills in the form:
// a niche for thirty years for a father who died last month.
func cemRequest() url.Values {
	return url.Values{
		"cemetery":               {"Cimitero comunale di via Cavour"},
		"place":                  {"niche"},
		"years":                  {"30"},
		"beneficiary.name":       {"Giuseppe Bianchi"},
		"beneficiary.birth_date": {"1941-04-03"},
		"beneficiary.death_date": {time.Now().In(sdk.Zone).AddDate(0, -1, 0).Format(time.DateOnly)},
		"relationship":           {"figlio"},
		"contact.phone":          {"+39 333 1234567"},
		"consent":                {"true"},
	}
}

// A citizen asks for a niche, is told the fee of the town's tariff table,
// the office approves through the service's own action, the citizen pays
// with the local provider, the office issues the deed, which the town's
// certificate signs and both the citizen and staff download.
func TestCemeteryConcessionEndToEnd(t *testing.T) {
	s := newSite(t)
	// tenants/trezzo-sull-adda.yaml publishes the service with the town's
	// cemeteries, tariff table, office and deed heading.
	withPlugins(t, s, testPlugin{ID: "cemetery", Pkg: "../../plugins/cemetery"})
	ctx := context.Background()
	tid := mustTenant(t, s, cemTown).ID
	base := s.url + "/t/" + cemTown
	svc := base + "/services/cemetery"
	mario := s.citizen(cemTown, "mario.rossi")
	fee := cemTownTariff(t, cemTown, "niche", 30)
	certificate := fileUpload{"document", "certificato-di-morte.pdf", pdfOf(4000)}
	filed := func() int {
		var n int
		if err := s.db.Owner.NewRaw("SELECT count(*) FROM dossiers WHERE tenant_id = ? AND service_id = 'cemetery'", tid).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	expect(t, mario.get(svc), 200, "Concessione cimiteriale", `action="/t/`+cemTown+`/services/cemetery/request"`,
		`enctype="multipart/form-data"`, `name="beneficiary.name"`, `type="file"`, `accept="application/pdf,image/jpeg,image/png"`)

	t.Run("bad input comes back beside the fields, the rest kept", func(t *testing.T) {
		without := func(keys ...string) url.Values {
			v := cemRequest()
			for _, k := range keys {
				v.Del(k)
			}
			return v
		}
		with := func(k, v string) url.Values {
			vs := cemRequest()
			vs.Set(k, v)
			return vs
		}
		cases := []struct {
			name   string
			values url.Values
			files  []fileUpload
			fields []string // those whose errors the page shows
			want   []string
		}{
			{"no beneficiary's name", without("beneficiary.name"), []fileUpload{certificate}, []string{"beneficiary.name"},
				[]string{"Questo campo è obbligatorio.", `value="1941-04-03"`}},
			{"no beneficiary at all", without("beneficiary.name", "beneficiary.birth_date", "beneficiary.death_date"),
				[]fileUpload{certificate}, []string{"beneficiary.name", "beneficiary.birth_date"}, []string{"obbligatorio"}},
			{"a page passed off as a certificate", cemRequest(),
				[]fileUpload{{"document", "certificato.pdf", []byte("<!doctype html><p>not a certificate</p>")}}, []string{"document"},
				[]string{"non è accettato qui", "PDF", `value="1941-04-03"`}},
			{"a certificate past 5 MB", cemRequest(), []fileUpload{{"document", "certificato.pdf", pdfOf(5<<20 + 1024)}}, []string{"document"},
				[]string{"troppo grande", "5 MB"}},
			// The service's own rules, from the town's configuration.
			{"a duration the tariff table lacks", with("years", "50"), []fileUpload{certificate}, []string{"years"},
				[]string{"30 o 99 anni"}},
			{"a cemetery the town has not", with("cemetery", "Cimitero degli Inglesi"), []fileUpload{certificate}, []string{"cemetery"},
				[]string{"Cimitero comunale di via Cavour"}},
			{"others in a niche", with("others", "Maria Bianchi"), []fileUpload{certificate}, []string{"others"},
				[]string{"una sola persona", "Maria Bianchi"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := mario.multipart(svc, svc+"/request", tc.values, tc.files...)
				// The reasons beside their fields, and what was typed
				// elsewhere there again.
				want := append([]string{`aria-invalid="true"`, `value="` + tc.values.Get("cemetery") + `"`, `value="figlio"`,
					"333 1234567"}, tc.want...)
				for _, f := range tc.fields {
					want = append(want, `id="field-`+f+`-error"`)
				}
				expect(t, r, 422, want...)
			})
		}
		if n := filed(); n != 0 {
			t.Fatalf("%d dossiers filed by refused requests", n)
		}
	})

	// The request: the fee of the town's tariff table, a dossier in the
	// office the town named, the certificate on it.
	r := mario.multipart(svc, svc+"/request", cemRequest(), certificate)
	expect(t, r, 200, `id="service-result"`, "La tariffa per loculo per 30 anni è di € "+cemEuro(fee))
	number := cemNumber.FindString(r.body[strings.Index(r.body, `id="service-result"`):])
	d := cemDossier(t, s, cemTown, number)
	var data struct {
		FeeCents      int64  `json:"fee_cents"`
		Currency      string `json:"currency"`
		Cemetery      string `json:"cemetery"`
		Beneficiaries []struct {
			Name string `json:"name"`
		} `json:"beneficiaries"`
		Documents []int64 `json:"documents"`
	}
	if err := json.Unmarshal(d.Data, &data); err != nil {
		t.Fatal(err)
	}
	if d.Status != "submitted" || d.OfficeSlug != "servizi-cimiteriali" || d.CitizenID != accountOf(t, s, cemTown, "RSSMRA80A01H501U") ||
		data.FeeCents != fee || data.Currency != "EUR" || data.Cemetery != "Cimitero comunale di via Cavour" ||
		len(data.Beneficiaries) != 1 || data.Beneficiaries[0].Name != "Giuseppe Bianchi" || len(data.Documents) != 1 {
		t.Fatalf("dossier %+v, data %s", d, d.Data)
	}
	files, err := s.srv.Dossiers.Attachments(ctx, tid, d.ID, true)
	if err != nil || len(files) != 1 || files[0].Name != "certificato-di-morte.pdf" || files[0].ContentType != "application/pdf" {
		t.Fatalf("the certificate on the dossier: %+v %v", files, err)
	}
	expect(t, mario.get(base+"/requests"), 200, number, "Concessione loculo, 30 anni", "Inviata")

	page := dossierURL(s, cemTown, d.ID)
	paolo := s.staff(cemTown, "anagrafe@trezzo.example", "demo-trezzo")
	laura := s.staff(cemTown, "admin@trezzo.example", "demo-trezzo")
	expect(t, paolo.get(page), 200, number, "Servizi cimiteriali", "Giuseppe Bianchi", "certificato-di-morte.pdf",
		`action="`+"/t/"+cemTown+"/backoffice/requests/"+strconv.FormatInt(d.ID, 10)+`/actions/approve"`, "Respingi la richiesta",
		"Rilascia la concessione firmata")

	t.Run("an action on a dossier changed meanwhile is refused", func(t *testing.T) {
		seen := versionField.FindStringSubmatch(laura.get(page).body)[1]
		expect(t, paolo.step(page, "note", url.Values{"note": {"Verificato il certificato di morte."}}), 303)
		r := laura.form(page, page+"/actions/approve", url.Values{"version": {seen}, "note": {"Posto nel blocco C."}})
		expect(t, r, 409, `id="dossier-stale"`, "Posto nel blocco C.")
		// The warning names who changed the dossier, as a refused step's does.
		if m := cemStale.FindStringSubmatch(r.body); m == nil || !strings.Contains(m[1], "Nel frattempo Paolo Villa ha modificato questa pratica") {
			t.Fatalf("the warning: %q", m)
		}
		now := versionField.FindStringSubmatch(r.body)[1]
		if now == seen {
			t.Fatalf("the 409 page still carries version %s", seen)
		}
		if got, err := s.srv.Dossiers.Get(ctx, tid, d.ID); err != nil || got.Status != "submitted" {
			t.Fatalf("the stale approval reached the service: %+v %v", got, err)
		}
		var payments int
		if err := s.db.Owner.NewRaw("SELECT count(*) FROM payments WHERE tenant_id = ? AND dossier_id = ?", tid, d.ID).Scan(ctx, &payments); err != nil {
			t.Fatal(err)
		}
		if payments != 0 {
			t.Fatalf("%d payments asked by a stale approval", payments)
		}
		r = laura.do("POST", page+"/actions/approve", url.Values{"_csrf": {csrfField.FindStringSubmatch(laura.get(page).body)[1]},
			"version": {seen}}, "Accept", "application/json")
		expect(t, r, 409, `"error"`)
	})
	t.Run("no deed before approval", func(t *testing.T) {
		expect(t, paolo.form(page, page+"/actions/issue", url.Values{"version": {versionField.FindStringSubmatch(paolo.get(page).body)[1]},
			"assigned_place": {"Blocco C, fila 2, n. 7"}}), 409, "non è possibile")
	})

	// Approval asks for the fee the citizen was told.
	r = laura.form(page, page+"/actions/approve", url.Values{"version": {versionField.FindStringSubmatch(laura.get(page).body)[1]},
		"note": {"Posto nel blocco C."}})
	expect(t, r, 200, "Pratica n. "+number+" approvata: chiesto il pagamento di € "+cemEuro(fee), "In attesa di pagamento")
	var paymentID, amount int64
	var notice string
	if err := s.db.Owner.NewRaw("SELECT id, amount_cents, notice_code FROM payments WHERE tenant_id = ? AND dossier_id = ?", tid, d.ID).
		Scan(ctx, &paymentID, &amount, &notice); err != nil {
		t.Fatalf("the payment of %s: %v", number, err)
	}
	if amount != fee {
		t.Fatalf("payment of %d cents, the tariff says %d", amount, fee)
	}
	r = mario.get(base + "/requests/" + strconv.FormatInt(d.ID, 10))
	expect(t, r, 200, "In attesa di pagamento", "è stata approvata. Paga € "+cemEuro(fee), notice, "Posto nel blocco C.")
	// The citizen's answers are worded as the form words them; the
	// plugin's bookkeeping (the fee in cents, the language) is not theirs.
	expect(t, r, 200, "Loculo", `href="/t/`+cemTown+`/payments/`)
	for _, internal := range []string{"fee cents", ">lang<"} {
		if strings.Contains(r.body, internal) {
			t.Errorf("the citizen's request page shows the plugin's %q", internal)
		}
	}

	t.Run("the deed still waits for the payment", func(t *testing.T) {
		expect(t, paolo.form(page, page+"/actions/issue", url.Values{"version": {versionField.FindStringSubmatch(paolo.get(page).body)[1]},
			"assigned_place": {"Blocco C, fila 2, n. 7"}}), 409, "non è ancora completato")
	})

	// The citizen pays, with the local provider, from the list of their
	// payments.
	pay := fmt.Sprintf("%s/payments/%d", base, paymentID)
	expect(t, mario.get(base+"/payments"), 200, fmt.Sprintf(`href="/t/%s/payments/%d"`, cemTown, paymentID), number, cemEuro(fee))
	expect(t, mario.get(pay), 200, cemEuro(fee), "Paga online", notice)
	r = mario.form(pay, pay+"/checkout", url.Values{})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), fmt.Sprintf("/payments/%d/local", paymentID)) {
		t.Fatalf("checkout: %d %s", r.status, r.header.Get("Location"))
	}
	expect(t, mario.get(pay+"/local"), 200, "Ambiente di prova", cemEuro(fee))
	r = mario.form(pay+"/local", pay+"/local", url.Values{"outcome": {"pay"}})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "?done=paid") {
		t.Fatalf("pay: %d %s", r.status, r.header.Get("Location"))
	}
	expect(t, mario.get(pay+"?done=paid"), 200, "Pagamento riuscito", "Pagato")
	t.Run("staff see the payment and its dossier", func(t *testing.T) {
		expect(t, paolo.get(pay), 200, "Pagato", `href="/t/`+cemTown+`/backoffice/requests/`+strconv.FormatInt(d.ID, 10)+`"`)
	})

	// The service was told as the payment completed: by the citizen's next
	// page, with nobody in the office acting, the dossier is paid and the
	// citizen reads what comes next.
	if got, err := s.srv.Dossiers.Get(ctx, tid, d.ID); err != nil || got.Status != "paid" {
		t.Fatalf("after paying: %+v %v", got, err)
	}
	mine := base + "/requests/" + strconv.FormatInt(d.ID, 10)
	expect(t, mario.get(mine), 200, "Pagata", "Abbiamo ricevuto il pagamento di € "+cemEuro(fee)+" per la tua richiesta di concessione (pratica n. "+number+")",
		"atto di concessione firmato digitalmente")
	t.Run("the history shows the service, not a person, moving it", func(t *testing.T) {
		var actor, name string
		if err := s.db.Owner.NewRaw(`SELECT actor, actor_name FROM dossier_events WHERE tenant_id = ? AND dossier_id = ? AND status = 'paid'`,
			tid, d.ID).Scan(ctx, &actor, &name); err != nil || actor != "plugin:cemetery/system:0" || name != "" {
			t.Fatalf("the paid entry: %q %q %v", actor, name, err)
		}
		expect(t, paolo.get(page), 200, "Pagata", " · Concessione cimiteriale</p>")
	})
	t.Run("the payment event is no page's", func(t *testing.T) {
		var replies int
		count := func() int {
			var n int
			if err := s.db.Owner.NewRaw("SELECT count(*) FROM dossier_messages WHERE tenant_id = ? AND dossier_id = ?", tid, d.ID).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		replies = count()
		version := url.Values{"version": {versionField.FindStringSubmatch(paolo.get(page).body)[1]}}
		expect(t, s.browser().form(base+"/login", svc+"/payment", url.Values{}), 404) // not "log in first"
		expect(t, mario.form(svc, svc+"/payment", url.Values{}), 404)
		expect(t, paolo.form(svc, svc+"/payment", url.Values{}), 404)
		expect(t, paolo.form(page, page+"/actions/payment", version), 404)
		expect(t, mario.form(svc, mine+"/actions/payment", url.Values{}), 404)
		for _, r := range []response{mario.get(svc), paolo.get(svc), paolo.get(page), mario.get(mine)} {
			if strings.Contains(r.body, "Esito del pagamento") || strings.Contains(r.body, "/payment\"") {
				t.Errorf("a page offers the payment event: %.300s", r.body[strings.Index(r.body, "Esito del pagamento")+1:])
			}
		}
		if got, err := s.srv.Dossiers.Get(ctx, tid, d.ID); err != nil || got.Status != "paid" || count() != replies {
			t.Fatalf("the refused posts changed the dossier: %+v %v", got, err)
		}
	})

	// The deed: issued, signed, on the dossier.
	t.Run("the deed's form checks the place", func(t *testing.T) {
		expect(t, paolo.form(page, page+"/actions/issue", url.Values{"version": {versionField.FindStringSubmatch(paolo.get(page).body)[1]}}),
			422, `id="field-assigned_place-error"`)
	})
	r = paolo.form(page, page+"/actions/issue", url.Values{"version": {versionField.FindStringSubmatch(paolo.get(page).body)[1]},
		"assigned_place": {"Blocco C, fila 2, n. 7"}})
	deedName := "concessione-" + number + ".pdf"
	expect(t, r, 200, "Concessione della pratica n. "+number+" rilasciata", deedName, "Concessione rilasciata")
	if got, err := s.srv.Dossiers.Get(ctx, tid, d.ID); err != nil || got.Status != "issued" {
		t.Fatalf("after the deed: %+v %v", got, err)
	}
	if files, err = s.srv.Dossiers.Attachments(ctx, tid, d.ID, true); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(files, func(a dossier.Attachment) bool { return a.Name == deedName })
	if i < 0 {
		t.Fatalf("no public deed among %+v", files)
	}
	deedID := strconv.FormatInt(files[i].ID, 10)

	expect(t, mario.get(base+"/requests"), 200, number, "Concessione rilasciata")
	expect(t, mario.get(mine), 200, "Concessione rilasciata", "è stata rilasciata", "Blocco C, fila 2, n. 7",
		`href="/t/`+cemTown+"/requests/"+strconv.FormatInt(d.ID, 10)+"/attachments/"+deedID+`"`, deedName)
	r = mario.get(mine + "/attachments/" + deedID)
	expect(t, r, 200, "%PDF-")
	if r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(r.header.Get("Content-Disposition"), deedName) {
		t.Fatalf("the citizen's download: %v", r.header)
	}
	deed := []byte(r.body)
	r = paolo.get(page + "/attachments/" + deedID)
	expect(t, r, 200, "%PDF-")
	if !bytes.Equal([]byte(r.body), deed) {
		t.Fatal("staff download another deed than the citizen")
	}

	t.Run("the deed is signed with the town's certificate", func(t *testing.T) {
		report := cemPoppler(t, "pdfsig", deed, "-nocert")
		sig := cemSignatures(report)
		if len(sig) != 1 || sig[0]["Signature Validation"] != "Signature is Valid." || sig[0]["Signature Type"] != "ETSI.CAdES.detached" ||
			sig[0]["Signer Certificate Common Name"] != "Comune di Trezzo sull'Adda" ||
			!strings.Contains(sig[0]["Signer full Distinguished Name"], "serialNumber="+cemTown) {
			t.Fatalf("pdfsig: %s", report)
		}
		if !strings.Contains(report, "Total document signed") {
			t.Errorf("pdfsig does not see the whole document signed: %s", report)
		}
		// A reader that trusts the platform's CA trusts the town's
		// certificate, and so the deed.
		signer := docsign.New(s.db.App, nil)
		ca, err := signer.CA(ctx)
		if err != nil {
			t.Fatal(err)
		}
		trusted := cemSignatures(cemPoppler(t, "pdfsig", deed, "-nssdir", cemTrusting(t, ca)))
		if len(trusted) != 1 || trusted[0]["Certificate Validation"] != "Certificate is Trusted." {
			t.Errorf("pdfsig with the CA trusted: %v", trusted)
		}
		// The audit log names the bytes issued and the certificate: the
		// file downloaded is that one, signed with the town's own.
		cert, err := signer.EnsureCertificate(ctx, tid)
		if err != nil {
			t.Fatal(err)
		}
		var issuedSum, issuedCert string
		if err := s.db.Owner.NewRaw(`SELECT details->>'sha256', details->>'certificate_sha256' FROM audit_log
			WHERE tenant_id = ? AND action = 'document.issue' AND object = ?`, tid, "dossier:"+number).Scan(ctx, &issuedSum, &issuedCert); err != nil {
			t.Fatalf("the deed's audit entry: %v", err)
		}
		sum := sha256.Sum256(deed)
		if issuedSum != hex.EncodeToString(sum[:]) || issuedCert != cert.SHA256 {
			t.Errorf("audited %s with certificate %s; downloaded %x, the town's certificate is %s", issuedSum, issuedCert, sum, cert.SHA256)
		}
	})
	t.Run("the deed says what was granted", func(t *testing.T) {
		text := strings.Join(strings.Fields(cemPoppler(t, "pdftotext", deed, "-layout")), " ")
		for _, want := range []string{"Comune di Trezzo sull'Adda – Servizi cimiteriali", "Atto di concessione cimiteriale", "Pratica n. " + number,
			"Mario Rossi", "Cimitero comunale di via Cavour", "Loculo", "Blocco C, fila 2, n. 7", "30 anni", "Giuseppe Bianchi",
			"€ " + cemEuro(fee), notice} {
			if !strings.Contains(text, want) {
				t.Errorf("the deed lacks %q: %s", want, text)
			}
		}
	})
	t.Run("nobody else downloads it", func(t *testing.T) {
		giulia := s.citizen(cemTown, "giulia.bianchi")
		expect(t, giulia.get(mine+"/attachments/"+deedID), 404)
		expect(t, giulia.get(base+"/requests/"+strconv.FormatInt(d.ID, 10)), 404)
		venezia := s.staff("venezia", "urp@venezia.example", "demo-venezia")
		expect(t, venezia.get(s.url+"/t/venezia/backoffice/requests/"+strconv.FormatInt(d.ID, 10)+"/attachments/"+deedID), 404)
	})
	t.Run("an issued concession takes no second decision", func(t *testing.T) {
		v := versionField.FindStringSubmatch(paolo.get(page).body)[1]
		expect(t, paolo.form(page, page+"/actions/reject", url.Values{"version": {v}, "reason": {"Ripensamento dell'ufficio."}}), 409, "non è possibile")
	})
}

// cemOffice adds an office to a town, with members of staff in it, as
// the town's administrator would.
func cemOffice(t *testing.T, s *site, slug, office, name string, staff ...string) {
	t.Helper()
	ctx := context.Background()
	tid := mustTenant(t, s, slug).ID
	if _, err := s.db.Owner.ExecContext(ctx, "INSERT INTO offices (tenant_id, slug, name) VALUES (?, ?, ?)",
		tid, office, `{"it": "`+name+`"}`); err != nil {
		t.Fatal(err)
	}
	for _, email := range staff {
		if _, err := s.db.Owner.ExecContext(ctx, `INSERT INTO user_offices (tenant_id, user_id, office_id)
			SELECT ?, ?, id FROM offices WHERE tenant_id = ? AND slug = ?`, tid, userID(t, s, slug, email), tid, office); err != nil {
			t.Fatal(err)
		}
	}
}

// tariDeclaration is a TARI declaration as a citizen fills in the form:
// a flat rented ten days ago.
func tariDeclaration() url.Values {
	return url.Values{
		"applicant.first_name":  {"Mario"},
		"applicant.last_name":   {"Rossi"},
		"applicant.fiscal_code": {"RSSMRA80A01H501U"},
		"applicant.phone":       {"+39 347 555 0198"},
		"applicant.email":       {"mario.rossi@example.com"},
		"capacity":              {"tenant"},
		"property.address":      {"Via Dante Alighieri"},
		"property.number":       {"14"},
		"property.interior":     {"Scala B, piano 2"},
		"use":                   {"main_home"},
		"surface_m2":            {"78"},
		"occupants":             {"2"},
		"start_date":            {time.Now().In(sdk.Zone).AddDate(0, 0, -10).Format(time.DateOnly)},
		"previous_holder":       {"Luigi Verdi"},
		"truthful":              {"true"},
		"privacy":               {"true"},
	}
}

// A citizen declares a home for the waste tax; the dossier, with its
// protocol number, lands in the office the definition names; staff take
// it through the definition's workflow; the citizen follows each step
// and reads the replies in "my requests".
func TestTariDeclarationEndToEnd(t *testing.T) {
	s := newSite(t)
	// The definition sends declarations to the tax office, tributi: the
	// town has one, and Paolo Villa works in it.
	cemOffice(t, s, cemTown, "tributi", "Ufficio tributi", "anagrafe@trezzo.example")
	withPlugins(t, s, testPlugin{ID: "tari", Pkg: "../../plugins/tari",
		Publish: map[string]string{cemTown: `{"office_email": "tributi@trezzo.example"}`}})
	ctx := context.Background()
	tid := mustTenant(t, s, cemTown).ID
	base := s.url + "/t/" + cemTown
	svc := base + "/services/tari"
	mario := s.citizen(cemTown, "mario.rossi")
	filed := func() int {
		var n int
		if err := s.db.Owner.NewRaw("SELECT count(*) FROM dossiers WHERE tenant_id = ? AND service_id = 'tari'", tid).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	expect(t, mario.get(svc), 200, "Attivazione della TARI", "Dichiarazione di inizio occupazione", `action="/t/`+cemTown+`/services/tari/submit"`,
		`name="property.address"`, `name="surface_m2"`)

	t.Run("refused declarations, with the reasons beside the fields", func(t *testing.T) {
		change := func(set map[string]string, del ...string) url.Values {
			v := tariDeclaration()
			for k, x := range set {
				v.Set(k, x)
			}
			for _, k := range del {
				v.Del(k)
			}
			return v
		}
		cases := []struct {
			name   string
			values url.Values
			fields []string
			want   []string
		}{
			{"nobody lives in a main home", change(map[string]string{"occupants": "0"}), []string{"occupants"},
				[]string{"In un&#39;abitazione principale abita almeno una persona."}},
			{"required answers missing", change(nil, "property.address", "surface_m2", "truthful"),
				[]string{"property.address", "surface_m2", "truthful"}, []string{"obbligatorio"}},
			{"a fiscal code that is none", change(map[string]string{"applicant.fiscal_code": "RSSMRA80A01H501X"}),
				[]string{"applicant.fiscal_code"}, []string{"Il codice fiscale non è corretto"}},
			{"an occupation starting next year", change(map[string]string{"start_date": time.Now().In(sdk.Zone).AddDate(1, 0, 0).Format(time.DateOnly)}),
				[]string{"start_date"}, []string{"Scegli una data non successiva al"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := mario.multipart(svc, svc+"/submit", tc.values)
				want := append(tc.want, `aria-invalid="true"`, `value="Luigi Verdi"`, `value="Scala B, piano 2"`)
				for _, f := range tc.fields {
					want = append(want, `id="field-`+f+`-error"`)
				}
				expect(t, r, 422, want...)
			})
		}
		if n := filed(); n != 0 {
			t.Fatalf("%d dossiers filed by refused declarations", n)
		}
	})

	r := mario.multipart(svc, svc+"/submit", tariDeclaration(), fileUpload{"contract", "contratto.pdf", pdfOf(3000)})
	expect(t, r, 200, `id="service-result"`, "Domanda inviata: è la pratica n.")
	number := cemNumber.FindString(r.body[strings.Index(r.body, `id="service-result"`):])
	d := cemDossier(t, s, cemTown, number)
	if d.Status != "submitted" || d.OfficeSlug != "tributi" || d.Channel != "web" || d.DueAt.IsZero() ||
		!strings.Contains(d.Title, "Via Dante Alighieri") {
		t.Fatalf("dossier %+v", d)
	}
	if files, err := s.srv.Dossiers.Attachments(ctx, tid, d.ID, true); err != nil || len(files) != 1 || files[0].Name != "contratto.pdf" {
		t.Fatalf("the lease on the dossier: %+v %v", files, err)
	}

	// The tax office's queue has it; the anagrafe's others do not.
	paolo := s.staff(cemTown, "anagrafe@trezzo.example", "demo-trezzo")
	queue := base + "/backoffice"
	if got := listed(t, paolo.get(queue, "Accept", "application/json")); !slices.Contains(got, number) {
		t.Fatalf("Paolo's queue %v lacks %s", got, number)
	}
	if got := listed(t, paolo.get(queue+"?office=tributi", "Accept", "application/json")); !slices.Equal(got, []string{number}) {
		t.Fatalf("the tax office's queue: %v", got)
	}
	if got := listed(t, paolo.get(queue+"?office=anagrafe", "Accept", "application/json")); slices.Contains(got, number) {
		t.Fatalf("the declaration in the anagrafe's queue: %v", got)
	}
	page := dossierURL(s, cemTown, d.ID)
	expect(t, paolo.get(page), 200, number, "Ufficio tributi", "Ricevuta", "Via Dante Alighieri", "contratto.pdf",
		"Prendi in carico", "Chiedi integrazioni", "Attiva l&#39;utenza", "Non accogliere")

	mine := base + "/requests/" + strconv.FormatInt(d.ID, 10)
	act := func(action string, values url.Values) response {
		t.Helper()
		values.Set("version", versionField.FindStringSubmatch(paolo.get(page).body)[1])
		return paolo.form(page, page+"/actions/"+action, values)
	}
	statusOf := func() string {
		t.Helper()
		got, err := s.srv.Dossiers.Get(ctx, tid, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}

	t.Run("a step the state does not allow", func(t *testing.T) {
		expect(t, act("register", url.Values{}), 409, "da qui non si può «Attiva l&#39;utenza»")
	})
	expect(t, act("take", url.Values{}), 200, "Pratica n. "+number+": ora è «In istruttoria».")
	if st := statusOf(); st != "in_review" {
		t.Fatalf("after take: %s", st)
	}
	expect(t, mario.get(base+"/requests"), 200, number, "In istruttoria")

	t.Run("asking for documents needs the message", func(t *testing.T) {
		expect(t, act("ask_documents", url.Values{"note": {"  "}}), 422, `id="field-note-error"`)
		if st := statusOf(); st != "in_review" {
			t.Fatalf("after a refused step: %s", st)
		}
	})
	expect(t, act("ask_documents", url.Values{"note": {"Ci serve la planimetria catastale dell'appartamento."}}), 200, "In attesa di integrazioni")
	expect(t, mario.get(mine), 200, "In attesa di integrazioni", "Per concludere la tua dichiarazione TARI ci serve ancora qualcosa.",
		"Ci serve la planimetria catastale dell&#39;appartamento.")
	expect(t, act("resume", url.Values{}), 200, "In istruttoria")
	expect(t, act("register", url.Values{"note": {"Utenza n. 4521."}}), 200, "Utenza attivata")
	if st := statusOf(); st != "registered" {
		t.Fatalf("after register: %s", st)
	}
	r = mario.get(mine)
	expect(t, r, 200, "Utenza attivata", "La tua utenza TARI è attiva.", "Utenza n. 4521.", "Ricevuta", "In istruttoria")
	expect(t, mario.get(base+"/requests"), 200, number, "Utenza attivata")
	var list struct {
		Requests []struct {
			Number string `json:"number"`
			Status string `json:"status"`
			Final  bool   `json:"final"`
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(mario.get(base+"/requests", "Accept", "application/json").body), &list); err != nil ||
		len(list.Requests) != 1 || list.Requests[0].Number != number || list.Requests[0].Status != "Utenza attivata" || !list.Requests[0].Final {
		t.Fatalf("my requests as JSON: %+v %v", list, err)
	}

	t.Run("a closed dossier moves no more; citizens move none", func(t *testing.T) {
		expect(t, act("reject", url.Values{"note": {"Dichiarazione doppia."}}), 409, "da qui non si può")
		expect(t, mario.form(base+"/profile", mine+"/actions/take", url.Values{}), 404)
		expect(t, mario.get(page), 403)
	})
}

// A course paid online on applying: the position the procedure opens is
// paid with the local provider, and only then does the office confirm the
// place; an applicant too young is refused.
func TestProcedureCoursePaidOnline(t *testing.T) {
	s := newSite(t)
	today := time.Now().In(sdk.Zone)
	config := fmt.Sprintf(`{"opens": %q, "closes": %q}`, today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 30).Format(time.DateOnly))
	withPlugins(t, s, testPlugin{ID: "courses", Pkg: "../../plugins/courses", Publish: map[string]string{cemTown: config}})
	ctx := context.Background()
	tid := mustTenant(t, s, cemTown).ID
	base := s.url + "/t/" + cemTown
	svc := base + "/services/courses"
	giulia := s.citizen(cemTown, "giulia.bianchi")
	enrolment := func(birth string) url.Values {
		return url.Values{
			"participant.first_name": {"Giulia"}, "participant.last_name": {"Bianchi"}, "participant.fiscal_code": {"BNCGLI85M41F205B"},
			"participant.birth_date": {birth}, "participant.phone": {"+39 347 555 0198"}, "participant.email": {"giulia.bianchi@example.com"},
			"course": {"english_a1"}, "resident": {"true"}, "refund_terms": {"true"}, "privacy": {"true"},
		}
	}

	t.Run("too young for the town's courses", func(t *testing.T) {
		r := giulia.form(svc, svc+"/submit", enrolment(today.AddDate(-15, 0, 0).Format(time.DateOnly)))
		expect(t, r, 422, "I corsi comunali sono per chi ha almeno 16 anni.", `id="field-participant.birth_date-error"`)
	})

	r := giulia.form(svc, svc+"/submit", enrolment("1985-08-01"))
	expect(t, r, 200, `id="service-result"`, "Importo da pagare: € 120,00, con l&#39;avviso pagoPA n.")
	number := cemNumber.FindString(r.body[strings.Index(r.body, `id="service-result"`):])
	d := cemDossier(t, s, cemTown, number)
	var paymentID, amount int64
	if err := s.db.Owner.NewRaw("SELECT id, amount_cents FROM payments WHERE tenant_id = ? AND dossier_id = ?", tid, d.ID).
		Scan(ctx, &paymentID, &amount); err != nil || amount != 12000 {
		t.Fatalf("the payment of %s: %d cents, %v", number, amount, err)
	}

	op := s.staff(cemTown, "anagrafe@trezzo.example", "demo-trezzo")
	page := dossierURL(s, cemTown, d.ID)
	confirm := func() response {
		return op.form(page, page+"/actions/confirm", url.Values{"version": {versionField.FindStringSubmatch(op.get(page).body)[1]}})
	}
	expect(t, confirm(), 409, "non risulta ancora ricevuto")

	pay := fmt.Sprintf("%s/payments/%d", base, paymentID)
	expect(t, giulia.get(base+"/payments"), 200, fmt.Sprintf(`href="/t/%s/payments/%d"`, cemTown, paymentID), "120,00")
	r = giulia.form(pay, pay+"/checkout", url.Values{})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "/local") {
		t.Fatalf("checkout: %d %s", r.status, r.header.Get("Location"))
	}
	r = giulia.form(pay+"/local", pay+"/local", url.Values{"outcome": {"pay"}})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "?done=paid") {
		t.Fatalf("pay: %d %s", r.status, r.header.Get("Location"))
	}

	expect(t, confirm(), 200, "Iscrizione confermata")
	expect(t, giulia.get(base+"/requests/"+strconv.FormatInt(d.ID, 10)), 200, "Iscrizione confermata",
		"Abbiamo ricevuto il pagamento e il tuo posto è confermato.")
}
