package main_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/core/store"
)

// A town imports its identity cards (a file with a bad line is refused
// whole; a good one imported twice changes nothing), words its own
// reminder, and `reminders run` queues the reminder once, in the town's
// words, to the citizen who consented to e-mail.
func TestRemindersCommands(t *testing.T) {
	c := newCLI(t)
	if _, stderr, code := c.run("migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	if out, stderr, code := c.run("tenant", "apply", "-f", "tenants"); code != 0 {
		t.Fatalf("apply: %d %s %s", code, out, stderr)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	expiry := time.Now().AddDate(0, 0, 30).Format(time.DateOnly)
	badFile := write("bad.csv", "fiscal_code,expires_on\nRSSMRA80A01H501U,"+expiry+"\nRSSMRA80A01H501X,"+expiry+"\n")
	goodFile := write("good.csv", "fiscal_code,expires_on,email\nRSSMRA80A01H501U,"+expiry+",\n")
	body := write("body.txt", "Gentile {{.Name}}, la carta scade il {{.Expiry}}. {{.Town}}")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a file with a bad line", []string{"import-id-cards", "--tenant", "lugano", "--csv", badFile}, 1, "line 3, fiscal_code"},
		{"import", []string{"import-id-cards", "--tenant", "lugano", "--csv", goodFile}, 0, "1 added, 0 updated, 0 unchanged"},
		{"import again", []string{"import-id-cards", "--tenant", "lugano", "--csv", goodFile}, 0, "0 added, 0 updated, 1 unchanged"},
		{"an unknown town", []string{"import-id-cards", "--tenant", "atlantide", "--csv", goodFile}, 1, "atlantide"},
		{"no file", []string{"import-id-cards", "--tenant", "lugano"}, 2, "--csv"},
		{"a placeholder the kind lacks", []string{"template", "set", "--tenant", "lugano", "--kind", "id_card_expiring", "--lang", "it",
			"--subject", "Scade il {{.When}}", "--body-file", body}, 1, "{{.Expiry}}"},
		{"own text", []string{"template", "set", "--tenant", "lugano", "--kind", "id_card_expiring", "--lang", "it",
			"--subject", "Carta in scadenza: {{.Expiry}}", "--body-file", body}, 0, "own text stored"},
		{"list", []string{"template", "list", "--tenant", "lugano"}, 0, "id_card_expiring/it: Carta in scadenza: {{.Expiry}}"},
		{"no verb", []string{"template"}, 2, "list, set or reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := c.run(append([]string{"reminders"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+stderr, tc.want) {
				t.Errorf("exit %d (want %d), output %q %q, want it to mention %q", code, tc.code, out, stderr, tc.want)
			}
		})
	}

	// Mario has logged in to Lugano once and chose e-mail on his profile.
	ctx := context.Background()
	db := c.ownerDB(t)
	if _, err := db.ExecContext(ctx, `WITH c AS (INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code)
		SELECT id, 'dev', 'mario.rossi', 'Mario Rossi', 'mario.rossi@example.com', 'RSSMRA80A01H501U' FROM tenants WHERE slug = 'lugano'
		RETURNING tenant_id, id)
		INSERT INTO notify_prefs (tenant_id, citizen_id, email, lang) SELECT tenant_id, id, true, 'it' FROM c`); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"1 reminders queued", "0 reminders queued"} {
		out, stderr, code := c.run("reminders", "run")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("run %d: exit %d, %q %q, want %q", i+1, code, out, stderr, want)
		}
	}
	var to, subject, text string
	if err := db.NewRaw(`SELECT recipient, subject, body FROM notifications WHERE plugin_id = 'core'`).Scan(ctx, &to, &subject, &text); err != nil {
		t.Fatal(err)
	}
	if to != "mario.rossi@example.com" || !strings.HasPrefix(subject, "Carta in scadenza: ") ||
		!strings.HasPrefix(text, "Gentile Mario Rossi, la carta scade il ") || !strings.HasSuffix(text, "Città di Lugano") {
		t.Errorf("queued to %q: %q / %q", to, subject, text)
	}
	out, _, code := c.run("reminders", "template", "reset", "--tenant", "lugano", "--kind", "id_card_expiring", "--lang", "it")
	if code != 0 || !strings.Contains(out, "back to the default text") {
		t.Errorf("reset: %d %q", code, out)
	}
}

// ownerDB opens the CLI's database as its owner.
func (c *cli) ownerDB(t *testing.T) *store.DB {
	t.Helper()
	var url string
	for _, kv := range c.env {
		if v, ok := strings.CutPrefix(kv, "SPORTELLO_DATABASE_URL="); ok {
			url = v
		}
	}
	db, err := store.Open(context.Background(), url, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// `serve --demo` starts the SMS catcher beside the mail catcher and the
// reminder job beside the outbox: a citizen who consented to SMS and has
// just filed a request gets its SMS, posted over HTTP to the catcher and
// listed on its page.
func TestDemoTextsThroughTheSMSCatcher(t *testing.T) {
	c := newCLI(t)
	if _, stderr, code := c.run("migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	if out, stderr, code := c.run("tenant", "apply", "-f", "tenants"); code != 0 {
		t.Fatalf("apply: %d %s %s", code, out, stderr)
	}
	ctx := context.Background()
	db := c.ownerDB(t)
	if _, err := db.ExecContext(ctx, `WITH c AS (INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code)
			SELECT id, 'dev', 'mario.rossi', 'Mario Rossi', 'mario.rossi@example.com', 'RSSMRA80A01H501U' FROM tenants WHERE slug = 'lugano'
			RETURNING tenant_id, id),
		p AS (INSERT INTO notify_prefs (tenant_id, citizen_id, sms, phone, lang) SELECT tenant_id, id, true, '+41791234567', 'de' FROM c)
		INSERT INTO dossiers (tenant_id, number, service_id, citizen_id, status, title)
		SELECT tenant_id, '2026-000077', 'courses', id, 'submitted', 'Corso di ceramica' FROM c`); err != nil {
		t.Fatal(err)
	}

	addr, sms := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "serve", "--demo")
	cmd.Dir = "../.."
	cmd.Env = append(c.env, "SPORTELLO_ADDR="+addr, "SPORTELLO_DEV_IDP_ADDR="+freeAddr(t), "SPORTELLO_DEV_SMTP_ADDR="+freeAddr(t),
		"SPORTELLO_DEV_MAIL_ADDR="+freeAddr(t), "SPORTELLO_DEV_SMS_ADDR="+sms, "SPORTELLO_PLUGIN_DIR="+t.TempDir(), "SPORTELLO_LOG_FORMAT=json")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()

	type caught struct{ From, To, Text string }
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got []caught
		req, _ := http.NewRequest(http.MethodGet, "http://"+sms+"/", nil)
		req.Header.Set("Accept", "application/json")
		if res, err := http.DefaultClient.Do(req); err == nil {
			_ = json.NewDecoder(res.Body).Decode(&got)
			res.Body.Close()
		}
		if len(got) > 0 {
			if len(got) != 1 || got[0].To != "+41791234567" || got[0].From != "Città di Lugano" ||
				!strings.Contains(got[0].Text, "Gesuch 2026-000077 (Corso di ceramica)") {
				t.Fatalf("caught %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SMS caught; logs:\n%.3000s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	res, err := http.Get("http://" + sms + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page strings.Builder
	_, _ = io.Copy(&page, res.Body)
	if !strings.Contains(page.String(), "SMS catcher") || !strings.Contains(page.String(), "Corso di ceramica") {
		t.Errorf("the catcher's page: %.1000s", page.String())
	}
	if !strings.Contains(stderr.String(), "development SMS catcher") {
		t.Errorf("the log does not say where the SMS catcher is")
	}
}
