package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// postWithKey posts a form with an Idempotency-Key ("" for none).
func postWithKey(t *testing.T, u, key string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(body), header: res.Header}
}

// TestIdempotencyKey: an Open311 client that sends a report again with
// the same Idempotency-Key gets the first answer and files one report;
// the same key with another report is refused; another client's key of
// the same name is theirs; a bad key is a 400; a key a day old is free
// again; racing copies of one request file it once.
func TestIdempotencyKey(t *testing.T) {
	s := open311Site(t)
	handled := handledCodes(t, s, "venezia")
	key, _ := issueKey(t, s, "venezia")
	other, _ := issueKey(t, s, "venezia")
	endpoint := o311URL(s, "venezia", "requests.json")
	count := func(description string) int {
		t.Helper()
		var n int
		if err := s.db.Owner.NewRaw(`SELECT count(*) FROM dossiers WHERE service_id = 'helpdesk' AND data->>'description' = ?`, description).
			Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	form := func(apiKey, description string) url.Values {
		f := report(apiKey, handled[0], "venezia")
		f.Set("description", description)
		return f
	}

	first := postWithKey(t, endpoint, "report-0001", form(key, "Lampione spento in calle del Forno."))
	expect(t, first, 200, "service_request_id")
	again := postWithKey(t, endpoint, "report-0001", form(key, "Lampione spento in calle del Forno."))
	expect(t, again, 200)
	if again.body != first.body || again.header.Get("Idempotent-Replayed") != "true" || !strings.HasPrefix(again.header.Get("Content-Type"), "application/json") {
		t.Errorf("the second answer %q (%v), want the first %q replayed", again.body, again.header, first.body)
	}
	if n := count("Lampione spento in calle del Forno."); n != 1 {
		t.Errorf("%d reports filed, want 1", n)
	}

	// Another report under the same key is a mistake of the client's.
	changed := postWithKey(t, endpoint, "report-0001", form(key, "Un'altra segnalazione, con la stessa chiave."))
	if changed.status != 422 || len(o311Errors(t, changed)) == 0 || !strings.Contains(changed.body, "Idempotency-Key") {
		t.Errorf("the same key, another report: %d %s", changed.status, changed.body)
	}
	if n := count("Un'altra segnalazione, con la stessa chiave."); n != 0 {
		t.Errorf("the refused report was filed %d times", n)
	}
	// Another client's key of the same name is theirs.
	expect(t, postWithKey(t, endpoint, "report-0001", form(other, "Lampione spento in calle del Forno.")), 200)
	if n := count("Lampione spento in calle del Forno."); n != 2 {
		t.Errorf("%d reports after another client's, want 2", n)
	}
	// Without a key every post is a report.
	for range 2 {
		expect(t, postWithKey(t, endpoint, "", form(key, "Senza chiave.")), 200)
	}
	if n := count("Senza chiave."); n != 2 {
		t.Errorf("%d reports without a key, want 2", n)
	}

	for _, bad := range []string{strings.Repeat("k", 256), "due parole", "chiave-è"} {
		r := postWithKey(t, endpoint, bad, form(key, "Chiave sbagliata."))
		if r.status != 400 || !strings.Contains(r.body, "Idempotency-Key") {
			t.Errorf("key %q: %d %s", bad, r.status, r.body)
		}
	}
	if n := count("Chiave sbagliata."); n != 0 {
		t.Errorf("bad keys filed %d reports", n)
	}

	// A day later the key is free again.
	if _, err := s.db.Owner.ExecContext(context.Background(), `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'report-0001'`); err != nil {
		t.Fatal(err)
	}
	expect(t, postWithKey(t, endpoint, "report-0001", form(key, "Il giorno dopo.")), 200)
	if n := count("Il giorno dopo."); n != 1 {
		t.Errorf("%d reports under a day-old key, want 1", n)
	}

	// Ten copies at once: one report; every answer is it or "in progress".
	var wg sync.WaitGroup
	answers := make([]response, 10)
	for i := range answers {
		wg.Go(func() { answers[i] = postWithKey(t, endpoint, "race-0001", form(key, "Dieci copie.")) })
	}
	wg.Wait()
	var body string
	for _, r := range answers {
		switch r.status {
		case 200:
			if body != "" && r.body != body {
				t.Errorf("two different answers: %s and %s", body, r.body)
			}
			body = r.body
		case 409:
		default:
			t.Errorf("a copy answered %d: %s", r.status, r.body)
		}
	}
	if n := count("Dieci copie."); n != 1 {
		t.Errorf("ten copies filed %d reports, want 1", n)
	}
}
