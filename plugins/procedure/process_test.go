package procedure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/plugins/sdk"
)

// The real-process test needs a built plugin and a PostgreSQL; both are
// made on first use, so that the unit tests of the package start none.
var real struct {
	once sync.Once
	err  error
	dir  string // holds the built plugin binary
	pg   *pgtest.Server
}

func TestMain(m *testing.M) {
	code := m.Run()
	if real.pg != nil {
		real.pg.Stop()
	}
	if real.dir != "" {
		os.RemoveAll(real.dir)
	}
	os.Exit(code)
}

// processPlugin is the plugin the test runs: courses has a fee on
// submission, an application window, an age condition and a step that
// waits for the payment.
const processPlugin = "courses"

func realHost(t *testing.T) (*pgtest.Server, string) {
	t.Helper()
	real.once.Do(func() {
		if real.dir, real.err = os.MkdirTemp("", "procedure-plugin-"); real.err != nil {
			return
		}
		goBin := "go"
		if root := os.Getenv("GOROOT"); root != "" {
			goBin = filepath.Join(root, "bin", "go")
		}
		out, err := exec.Command(goBin, "build", "-o", filepath.Join(real.dir, processPlugin), "../"+processPlugin).CombinedOutput()
		if err != nil {
			real.err = fmt.Errorf("build plugins/%s: %v\n%s", processPlugin, err, out)
			return
		}
		real.pg, real.err = pgtest.Start(context.Background())
	})
	if real.err != nil {
		t.Fatal(real.err)
	}
	return real.pg, real.dir
}

// One definition, built as its own binary, runs as a real plugin process
// under the supervisor, against the real Host API and PostgreSQL: the
// manifest it sends, an application with its pagoPA position, the
// refusals beside the fields, and a staff step that waits for payment.
func TestRealPluginProcess(t *testing.T) {
	pg, dir := realHost(t)
	ctx := context.Background()
	db := pg.NewDB(t)
	if _, err := catalog.New(db.App).Register(ctx, dir, processPlugin); err != nil {
		t.Fatal(err)
	}
	sup, err := pluginhost.Launch(ctx, db.App, pluginhost.Options{Dir: dir, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Stop)

	m, ok := sup.Manifest(processPlugin)
	if !ok {
		t.Fatal("no manifest from the process")
	}
	if m.GetTexts()["de"].GetName() == "" || m.GetTexts()["en"].GetName() == "" || len(m.GetStatuses()) != 4 {
		t.Fatalf("manifest %v", m)
	}
	scopes := map[string]string{}
	for _, a := range m.GetActions() {
		scopes[a.GetId()] = a.GetScope()
	}
	if scopes["submit"] != "" || scopes["confirm"] != sdk.ScopeDossier || scopes["cancel"] != sdk.ScopeDossier {
		t.Fatalf("actions %v", scopes)
	}
	var schema struct {
		Examples []map[string]any `json:"examples"`
	}
	if err := json.Unmarshal(m.GetForms()[0].GetSchemaJson(), &schema); err != nil || len(schema.Examples) == 0 {
		t.Fatalf("form example: %v", err)
	}

	var tenant, citizen, staff int64
	if err := db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES ('borgo', 'Comune di Borgo', '{it,de}') RETURNING id").
		Scan(ctx, &tenant); err != nil {
		t.Fatal(err)
	}
	err = db.App.InTenant(ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.QueryRowContext(ctx, "INSERT INTO citizens (tenant_id, issuer, subject, name, email) VALUES (?, 'test', 'giulia', 'Giulia Bianchi', 'giulia.bianchi@example.com') RETURNING id", tenant).Scan(&citizen); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "INSERT INTO users (tenant_id, email, name) VALUES (?, 'cultura@borgo.example', 'Ufficio cultura') RETURNING id", tenant).Scan(&staff)
	})
	if err != nil {
		t.Fatal(err)
	}

	today := time.Now().In(sdk.Zone)
	open := fmt.Sprintf(`{"opens":%q,"closes":%q}`, today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 30).Format(time.DateOnly))
	closed := fmt.Sprintf(`{"opens":%q,"closes":%q}`, today.AddDate(0, 0, -30).Format(time.DateOnly), today.AddDate(0, 0, -1).Format(time.DateOnly))
	asCitizen := pluginhost.Actor{Actor: hostapi.Actor{Kind: hostapi.ActorCitizen, ID: citizen}, Name: "Giulia Bianchi"}
	asStaff := pluginhost.Actor{Actor: hostapi.Actor{Kind: hostapi.ActorStaff, ID: staff}, Name: "Ufficio cultura", Roles: []string{"operator"}}
	dispatch := func(action string, actor pluginhost.Actor, lang string, values any, config string, dossier int64) *struct {
		Outcome, Message, Number string
		ID                       int64
		Errors                   map[string]string
	} {
		t.Helper()
		raw, _ := json.Marshal(values)
		res, err := sup.Dispatch(ctx, processPlugin, pluginhost.Request{TenantID: tenant, TenantSlug: "borgo", Lang: lang,
			RequestID: "test-" + action, Actor: actor, Action: action, Values: raw, Config: []byte(config), DossierID: dossier})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		out := &struct {
			Outcome, Message, Number string
			ID                       int64
			Errors                   map[string]string
		}{Outcome: res.GetOutcome(), Message: res.GetMessage(), Number: res.GetDossierNumber(), ID: res.GetDossierId(), Errors: map[string]string{}}
		for _, e := range res.GetErrors() {
			out.Errors[e.GetField()] = e.GetMessage()
		}
		return out
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Owner.NewRaw(query, args...).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// After the deadline: refused, nothing stored.
	res := dispatch("submit", asCitizen, "it", schema.Examples[0], closed, 0)
	if res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "è scaduto il") {
		t.Fatalf("after the deadline: %+v", res)
	}
	// Too young: the reason beside the date of birth, in German.
	young := cloneMap(schema.Examples[0])
	young["participant"].(map[string]any)["birth_date"] = today.AddDate(-15, 0, 0).Format(time.DateOnly)
	res = dispatch("submit", asCitizen, "de", young, open, 0)
	if res.Outcome != sdk.OutcomeInvalid || !strings.Contains(res.Errors["/participant/birth_date"], "ab 16 Jahren") {
		t.Fatalf("too young: %+v", res)
	}
	if n := count("SELECT count(*) FROM dossiers") + count("SELECT count(*) FROM payments"); n != 0 {
		t.Fatalf("refused applications left %d rows", n)
	}

	// Accepted: a dossier of the town, and its pagoPA position.
	res = dispatch("submit", asCitizen, "de", schema.Examples[0], open, 0)
	if res.Outcome != sdk.OutcomeOK || res.Number == "" || !strings.Contains(res.Message, "€ 120,00") {
		t.Fatalf("submit: %+v", res)
	}
	if n := count("SELECT count(*) FROM dossiers WHERE tenant_id = ? AND id = ? AND service_id = ? AND status = 'submitted' AND citizen_id = ?",
		tenant, res.ID, processPlugin, citizen); n != 1 {
		t.Fatalf("dossier %s not stored as submitted", res.Number)
	}
	if n := count("SELECT count(*) FROM payments WHERE tenant_id = ? AND dossier_id = ? AND amount_cents = 12000", tenant, res.ID); n != 1 {
		t.Fatal("no payment position of 120 euro on the dossier")
	}
	dossier := res.ID

	// Confirming waits for the payment, as pagoPA reports it.
	res = dispatch("confirm", asStaff, "it", map[string]any{}, open, dossier)
	if res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "non risulta ancora ricevuto") {
		t.Fatalf("confirm unpaid: %+v", res)
	}
	if _, err := db.Owner.NewRaw("UPDATE payments SET status = 'complete', paid_at = now() WHERE dossier_id = ?", dossier).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	res = dispatch("confirm", asStaff, "it", map[string]any{"note": "Aula 3, primo piano della biblioteca."}, open, dossier)
	if res.Outcome != sdk.OutcomeOK {
		t.Fatalf("confirm paid: %+v", res)
	}
	if n := count("SELECT count(*) FROM dossiers WHERE id = ? AND status = 'enrolled'", dossier); n != 1 {
		t.Fatal("the dossier did not move to enrolled")
	}
	if n := count("SELECT count(*) FROM dossier_events WHERE dossier_id = ? AND status = 'enrolled' AND note = 'Aula 3, primo piano della biblioteca.'", dossier); n != 1 {
		t.Fatal("the step is not in the dossier's history")
	}
	// A closed dossier stays closed.
	res = dispatch("cancel", asStaff, "it", map[string]any{"note": "Rinuncia del partecipante."}, open, dossier)
	if res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("cancel after enrolment: %+v", res)
	}
	// A citizen cannot move a dossier on, even their own.
	res = dispatch("confirm", asCitizen, "it", map[string]any{}, open, dossier)
	if res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("citizen confirm: %+v", res)
	}
}

func cloneMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
