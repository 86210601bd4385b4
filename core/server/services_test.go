package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/pluginhost"
)

// buildPlugin compiles plugins/<id> into dir, as `make build` would.
func buildPlugin(t *testing.T, dir, id string) {
	t.Helper()
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	out, err := exec.Command(goBin, "build", "-o", filepath.Join(dir, id), "../../plugins/"+id).CombinedOutput()
	if err != nil {
		t.Fatalf("build plugin %s: %v\n%s", id, err, out)
	}
}

// A town asks for a catalogue service, the platform approves it, the town
// configures and publishes it, and a citizen uses it: the form is checked
// by the host, handled by the real plugin process, and a dossier is filed
// in that town alone.
func TestServiceFromRequestToCitizen(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "example", Pkg: "../../plugins/example"})
	ctx := context.Background()
	admin := s.browser()
	base := s.url + "/t/trezzo-sull-adda"
	expect(t, admin.form(base+"/login", base+"/login", url.Values{"email": {"admin@trezzo.example"}, "password": {"demo-trezzo"}}), 303)
	expect(t, admin.get(base+"/admin/services"), 200, "Richiesta di informazioni")

	page := base + "/admin/services/example"
	expect(t, admin.form(page, page+"/request", url.Values{"message": {""}}), 422)
	expect(t, admin.form(page, page+"/request", url.Values{"message": {"Vorremmo rispondere per iscritto ai cittadini."}}), 303)
	// Nothing to publish before the platform approves (the form is not
	// even shown; posted anyway, it is refused).
	expect(t, admin.form(base+"/profile", page+"/publish", url.Values{}), 409)

	ops := s.browser()
	addPlatformUser(t, s, "ops@sportello.example", "platform-password")
	pl := s.url + "/platform/login"
	expect(t, ops.form(pl, pl, url.Values{"email": {"ops@sportello.example"}, "password": {"platform-password"}}), 303)
	console := ops.get(s.url + "/platform")
	expect(t, console, 200, "Vorremmo rispondere per iscritto ai cittadini.", "example")
	m := regexp.MustCompile(`action="(/platform/requests/\d+/\d+)/approve"`).FindStringSubmatch(console.body)
	if m == nil {
		t.Fatalf("no approve form on the console: %.2000s", console.body)
	}
	expect(t, ops.form(s.url+"/platform", s.url+m[1]+"/reject", url.Values{"reason": {""}}), 422)
	ar := ops.form(s.url+"/platform", s.url+m[1]+"/approve", url.Values{})
	expect(t, ar, 303)
	// The console restarts a plugin; it serves again at once.
	before := s.srv.Plugins.Status()
	expect(t, ops.form(s.url+"/platform", s.url+"/platform/plugins/example/restart", url.Values{}), 303)
	after := s.srv.Plugins.Status()
	if len(before) != 1 || len(after) != 1 || after[0].PID == before[0].PID || after[0].Status != catalog.StatusRunning {
		t.Fatalf("restart from the console: before %+v after %+v", before, after)
	}
	expect(t, ops.form(s.url+"/platform", s.url+"/platform/plugins/nosuch/restart", url.Values{}), 404)

	// Configuration is checked against the plugin's schema, errors beside fields.
	r := admin.form(page, page+"/config", url.Values{"office_email": {"not an address"}, "max_message_length": {"10"}})
	expect(t, r, 422, `aria-invalid="true"`, "not an address")
	expect(t, admin.form(page, page+"/publish", url.Values{}), 422)
	expect(t, admin.form(page, page+"/config", url.Values{"office_email": {"urp@trezzo.example"}, "max_message_length": {"2000"}}), 303)

	citizen := s.browser()
	expect(t, citizen.get(base+"/services/example"), 404) // not published yet
	expect(t, admin.form(page, page+"/publish", url.Values{}), 303)
	expect(t, citizen.get(base+"/"), 200, "/services/example")
	r = citizen.get(base + "/services/example")
	expect(t, r, 200, "A chi è rivolto", "Accedi per continuare", `id="who-needs"`)

	// The citizen logs in through the development provider.
	r = citizen.get(base + "/auth/citizen?next=" + url.QueryEscape("/t/trezzo-sull-adda/services/example"))
	r = citizen.get(r.header.Get("Location") + "&login_hint=mario.rossi")
	citizen.get(r.header.Get("Location"))
	svc := base + "/services/example"
	expect(t, citizen.get(svc), 200, `name="message"`)

	// The host refuses what the schema refuses; the plugin never sees it.
	r = citizen.form(svc, svc+"/submit", url.Values{"subject": {"taxes"}, "message": {"short"}})
	expect(t, r, 422, "short")
	// The plugin's own check (a message of blanks) comes back beside the field.
	r = citizen.form(svc, svc+"/submit", url.Values{"subject": {"taxes"}, "message": {"             "}, "consent": {"on"}})
	expect(t, r, 422)
	r = citizen.form(svc, svc+"/submit", url.Values{"subject": {"taxes"}, "message": {"Quando scade la seconda rata della TARI?"}, "consent": {"on"}})
	expect(t, r, 200, `id="service-result"`)
	num := regexp.MustCompile(`\d{4}-\d{6}`).FindString(r.body)
	if num == "" {
		t.Fatalf("no dossier number in the result: %.3000s", r.body)
	}
	var n int
	err := s.db.Owner.NewRaw(`SELECT count(*) FROM dossiers d JOIN tenants t ON t.id = d.tenant_id
		WHERE t.slug = 'trezzo-sull-adda' AND d.service_id = 'example' AND d.number = ? AND d.citizen_id IS NOT NULL`, num).Scan(ctx, &n)
	if err != nil || n != 1 {
		t.Fatalf("dossier %s in trezzo: %d %v", num, n, err)
	}
	var others int
	_ = s.db.Owner.NewRaw(`SELECT count(*) FROM dossiers d JOIN tenants t ON t.id = d.tenant_id WHERE t.slug <> 'trezzo-sull-adda'`).Scan(ctx, &others)
	if others != 0 {
		t.Fatalf("%d dossiers filed in other towns", others)
	}
	// The plugin's declared grant became the town's rule.
	expect(t, admin.get(base+"/admin/policies"), 200, "backoffice/services/example/*")

	// Disabling hides the service and keeps its dossiers.
	expect(t, admin.form(page, page+"/disable", url.Values{}), 303)
	expect(t, citizen.get(svc), 404)
	_ = s.db.Owner.NewRaw(`SELECT count(*) FROM dossiers WHERE service_id = 'example'`).Scan(ctx, &n)
	if n != 1 {
		t.Fatalf("disabling lost dossiers: %d", n)
	}
	var steps []string
	_ = s.db.Owner.NewRaw(`SELECT action FROM audit_log WHERE object = 'example' ORDER BY id`).Scan(ctx, &steps)
	if strings.Join(steps, ",") != "service.request,service.approve,service.configure,service.publish,service.disable" {
		t.Fatalf("audit trail: %v", steps)
	}
}

// With its plugin down, a service's form answers 503 and comes back filled.
func TestServiceUnavailableKeepsTheForm(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	dir := t.TempDir()
	buildPlugin(t, dir, "example")
	cat := catalog.New(s.db.App)
	if _, err := cat.Register(ctx, dir, "example"); err != nil {
		t.Fatal(err)
	}
	// The manifest as a started plugin recorded it; no plugin runs now.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sup, err := pluginhost.Launch(ctx, s.db.App, pluginhost.Options{Dir: dir, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	sup.Stop()
	tn := mustTenant(t, s, "venezia")
	if err := publishDirect(ctx, s, tn.ID, "example", `{"office_email":"urp@venezia.example"}`); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	base := s.url + "/t/venezia"
	login := base + "/login"
	expect(t, b.form(login, login, url.Values{"email": {"urp@venezia.example"}, "password": {"demo-venezia"}}), 303)
	svc := base + "/services/example"
	r := b.form(svc, svc+"/submit", url.Values{"subject": {"waste"}, "message": {"Il ritiro del vetro è sospeso ad agosto?"}, "consent": {"on"}})
	expect(t, r, 503, "Il ritiro del vetro è sospeso ad agosto?")
	r = b.do("POST", svc+"/submit", url.Values{"_csrf": {csrfField.FindStringSubmatch(b.get(svc).body)[1]},
		"subject": {"waste"}, "message": {"Il ritiro del vetro è sospeso ad agosto?"}, "consent": {"on"}}, "Accept", "application/json")
	if r.status != 503 {
		t.Fatalf("JSON: %d", r.status)
	}
}

func addPlatformUser(t *testing.T, s *site, email, password string) {
	t.Helper()
	hash, err := authn.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.App.ExecContext(context.Background(), "INSERT INTO platform_users (email, name, password_hash) VALUES (?, 'Ops', ?)", email, hash); err != nil {
		t.Fatal(err)
	}
}

// publishDirect enables a service in a town as a manifest would.
func publishDirect(ctx context.Context, s *site, tenantID int64, service, config string) error {
	return s.db.App.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO tenant_services (tenant_id, service_id, enabled, state, config) VALUES (?, ?, true, 'published', ?)",
			tenantID, service, config)
		return err
	})
}
