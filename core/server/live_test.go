package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/live"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/server"
	"github.com/sportello/sportello/plugins/consultation/relay/relaytest"
)

// liveTown's online desk is open round the clock in the tests (closing at
// midnight is closing at the end of the day), with two desks.
const liveTown = "lugano"

const liveConfig = `{"modes": ["video", "voice", "chat"], "days": ["mon","tue","wed","thu","fri","sat","sun"],
	"opens": "00:00", "closes": "00:00", "desks": "urp: Ufficio relazioni con il pubblico\nanagrafe: Anagrafe"}`

// liveInstance is one app instance of the deployment under test: its own
// plugin supervisor (running the consultation plugin, which relays media)
// and HTTP server, on the site's database.
type liveInstance struct {
	url  string
	srv  *server.Server
	sup  *pluginhost.Supervisor
	stop func()
}

var buildConsultation = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "consultation-plugin")
	if err != nil {
		return "", err
	}
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	if out, err := exec.Command(goBin, "build", "-o", filepath.Join(dir, "consultation"), "../../plugins/consultation").CombinedOutput(); err != nil {
		return "", &buildError{err: err, out: string(out)}
	}
	return dir, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// startLive starts an instance named name. addr "" takes a free port.
func startLive(t *testing.T, s *site, name, addr string, cfg live.Config) *liveInstance {
	t.Helper()
	ctx := context.Background()
	dir, err := buildConsultation()
	if err != nil {
		t.Fatalf("build the consultation plugin: %v", err)
	}
	if _, err := catalog.New(s.db.App).Register(ctx, dir, "consultation"); err != nil {
		t.Fatal(err)
	}
	filesDir := t.TempDir()
	files, err := dossier.NewFiles(filesDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The hub's warnings go to the test's log: they say why a call failed.
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = t.Output()
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.Instance, cfg.Log = name, log
	cfg.ICE = live.ICE{Loopback: true}
	lv := server.NewLive(cfg)
	sup, err := pluginhost.Launch(ctx, s.db.App, lv.Options(pluginhost.Options{Dir: dir, Log: log,
		HostAPI: []hostapi.Option{hostapi.WithDocuments(files, docsign.New(s.db.App, nil))}}))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Assemble(ctx, s.db.App, server.Config{BaseDomain: "sportello.test", DevIssuer: s.idp, FilesDir: filesDir,
		PaymentProvider: "local", Live: lv}, log, sup)
	if err != nil {
		t.Fatal(err)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = srv.Serve(sctx, ln, 5*time.Second); close(done) }()
	in := &liveInstance{url: "http://" + ln.Addr().String(), srv: srv, sup: sup}
	var once sync.Once
	in.stop = func() { once.Do(func() { cancel(); <-done; sup.Stop() }) }
	t.Cleanup(in.stop)
	return in
}

// withLive makes the site's own server a live instance ("a"), with the
// desk open all day.
func withLive(t *testing.T, s *site, cfg live.Config) *liveInstance {
	t.Helper()
	s.stop()
	// A fresh port: the one just freed may be taken meanwhile. Cookies
	// do not mind the port, nor does the development provider.
	in := startLive(t, s, "a", "", cfg)
	s.srv, s.stop, s.url = in.srv, in.stop, in.url
	tid := mustTenant(t, s, liveTown).ID
	if _, err := s.db.Owner.ExecContext(context.Background(),
		"UPDATE tenant_services SET config = ?, state = 'published', enabled = true WHERE tenant_id = ? AND service_id = 'consultation'",
		liveConfig, tid); err != nil {
		t.Fatal(err)
	}
	return in
}

// ws is a WebSocket of a browser's session, as the pages open it.
type ws struct {
	t    *testing.T
	c    *websocket.Conn
	in   chan map[string]any
	seen []map[string]any
}

func dialWS(t *testing.T, b *browser, base, path string) *ws {
	t.Helper()
	u, _ := url.Parse(base + path)
	hdr := http.Header{"Origin": {base}}
	var cookies []string
	for _, c := range b.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	hdr.Set("Cookie", strings.Join(cookies, "; "))
	wsURL := "ws" + strings.TrimPrefix(base, "http") + path
	c, res, err := websocket.DefaultDialer.Dial(wsURL, hdr)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (%d)", path, err, status)
	}
	w := &ws{t: t, c: c, in: make(chan map[string]any, 256)}
	go func() {
		defer close(w.in)
		for {
			_, raw, err := c.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil {
				w.in <- m
			}
		}
	}()
	t.Cleanup(func() { _ = c.Close() })
	return w
}

func (w *ws) send(v any) {
	w.t.Helper()
	raw, _ := json.Marshal(v)
	if err := w.c.WriteMessage(websocket.TextMessage, raw); err != nil {
		w.t.Fatalf("send %s: %v", raw, err)
	}
}

// expect waits for a message of type typ for which ok holds (nil: any),
// passing over the others.
func (w *ws) expect(typ string, ok func(map[string]any) bool) map[string]any {
	w.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case m, open := <-w.in:
			if !open {
				w.t.Fatalf("socket closed waiting for %q; seen %v", typ, w.seen)
			}
			w.seen = append(w.seen, m)
			if m["type"] == typ && (ok == nil || ok(m)) {
				return m
			}
		case <-deadline:
			w.t.Fatalf("no %q message in 15 s; seen %v", typ, w.seen)
		}
	}
}

func (w *ws) close() { _ = w.c.Close() }

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }
func num(m map[string]any, k string) int64  { f, _ := m[k].(float64); return int64(f) }

// joinLive queues a citizen by the service's form and returns the path
// of their wait's page.
func joinLive(t *testing.T, base string, b *browser, mode string) string {
	t.Helper()
	svc := base + "/t/" + liveTown + "/services/consultation"
	r := b.form(svc, svc+"/join", url.Values{"mode": {mode}, "topic": {"Documenti per il cambio di residenza"}, "consent": {"true"}})
	loc := r.header.Get("Location")
	if r.status != 303 || !strings.HasPrefix(loc, "/t/"+liveTown+"/live/") {
		t.Fatalf("join: %d %q %.500s", r.status, loc, r.body)
	}
	return loc
}

// mediaCall connects a pion peer to each side's offer and waits until
// media flow both ways through the relay.
func mediaCall(t *testing.T, citizen, operator *ws) (*relaytest.Peer, *relaytest.Peer) {
	t.Helper()
	var peers [2]*relaytest.Peer
	for i, w := range []*ws{citizen, operator} {
		offer := w.expect("offer", nil)
		p, answer, err := relaytest.NewPeer(str(offer, "sdp"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		w.send(map[string]string{"type": "answer", "sdp": answer})
		p.Send()
		peers[i] = p
	}
	for i, p := range peers {
		select {
		case <-p.FirstMedia():
		case <-time.After(15 * time.Second):
			t.Fatalf("no media reached side %d", i)
		}
	}
	return peers[0], peers[1]
}

// bothKinds waits until audio and video have reached both sides.
func bothKinds(t *testing.T, peers ...*relaytest.Peer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range peers {
		for {
			a, v := p.Received()
			if a > 0 && v > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("media received: audio %d video %d", a, v)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestLiveCallEndToEnd(t *testing.T) {
	s := newSite(t)
	withLive(t, s, live.Config{})
	base := s.url + "/t/" + liveTown

	mario := s.citizen(liveTown, "mario.rossi")
	page := joinLive(t, s.url, mario, "video")
	expect(t, mario.get(s.url+page), 200, `data-live="call"`)
	// The request's page leads back to the wait.
	var dossierID int64
	if err := s.db.Owner.NewRaw("SELECT dossier_id FROM consultation_entries WHERE id = ?", entryOf(page)).
		Scan(context.Background(), &dossierID); err != nil {
		t.Fatal(err)
	}
	expect(t, mario.get(fmt.Sprintf("%s/requests/%d", base, dossierID)), 200, `id="live-resume"`, `href="`+page+`"`)
	// A second wait of the same citizen is refused, and leaves no second
	// dossier waiting.
	svc := base + "/services/consultation"
	expect(t, mario.form(svc, svc+"/join", url.Values{"mode": {"chat"}, "topic": {"Ancora io"}, "consent": {"true"}}), 409)
	// Another citizen's wait is nobody else's business.
	giulia := s.citizen(liveTown, "giulia.bianchi")
	expect(t, giulia.get(s.url+page), 404)

	op := s.staff(liveTown, "sportello@lugano.example", "demo-lugano")
	expect(t, op.get(base+"/backoffice/live"), 200, `data-live="console"`)
	console := dialWS(t, op, s.url, "/t/"+liveTown+"/backoffice/live/ws")
	console.expect("state", nil)
	console.send(map[string]string{"type": "status", "status": "available"})
	console.expect("state", func(m map[string]any) bool {
		q, _ := m["queue"].([]any)
		return str(m, "status") == "available" && len(q) == 1
	})

	// Another site's page may not open the socket with the citizen's
	// cookies, nor may a plain request.
	hdr := http.Header{"Origin": {"http://elsewhere.example"}}
	for _, c := range mario.c.Jar.Cookies(mustURL(s.url + page)) {
		hdr.Add("Cookie", c.Name+"="+c.Value)
	}
	if _, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.url, "http")+page+"/ws", hdr); err == nil ||
		res == nil || res.StatusCode != 403 {
		t.Fatalf("a socket from another site: %v", err)
	}
	expect(t, mario.get(s.url+page+"/ws"), 426)

	call := dialWS(t, mario, s.url, page+"/ws")
	call.expect("queue", func(m map[string]any) bool { return num(m, "position") == 1 && num(m, "operators") == 1 })

	// Bad input is refused and breaks nothing.
	call.send(map[string]string{"type": "dance"})
	call.expect("error", nil)
	if err := call.c.WriteMessage(websocket.TextMessage, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	call.expect("error", nil)
	call.send(map[string]string{"type": "chat", "text": "c'è qualcuno?"})
	call.expect("error", nil) // the chat opens with the call

	console.send(map[string]string{"type": "take"})
	taken := console.expect("call", nil)
	if str(taken, "citizen") != "Mario Rossi" || str(taken, "mode") != "video" {
		t.Fatalf("operator's call: %v", taken)
	}
	call.expect("call", func(m map[string]any) bool { return str(m, "operator") != "" })
	cp, op2 := mediaCall(t, call, console)

	call.send(map[string]string{"type": "chat", "text": "Buongiorno, mi sente?"})
	console.expect("chat", func(m map[string]any) bool { return str(m, "text") == "Buongiorno, mi sente?" })
	console.send(map[string]string{"type": "chat", "text": "Sì, benissimo."})
	call.expect("chat", func(m map[string]any) bool {
		return str(m, "text") == "Sì, benissimo." && str(m, "from") == "operator"
	})
	call.send(map[string]string{"type": "chat", "text": strings.Repeat("x", 2001)})
	call.expect("error", nil)

	// A citizen may only switch down.
	call.send(map[string]string{"type": "mode", "mode": "voice"})
	console.expect("mode", func(m map[string]any) bool { return str(m, "mode") == "voice" })
	call.send(map[string]string{"type": "mode", "mode": "video"})
	call.expect("error", nil)
	bothKinds(t, cp, op2)

	// A document the operator hands over reaches the citizen as a link.
	entry := strings.TrimPrefix(page, "/t/"+liveTown+"/live/")
	r := op.multipart(base+"/backoffice/live", base+"/backoffice/live/"+entry+"/files", url.Values{},
		fileUpload{field: "file", name: "modulo.pdf", content: []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")})
	expect(t, r, 200, "modulo.pdf")
	got := call.expect("file", nil)
	expect(t, mario.get(s.url+str(got, "url")), 200)

	// The operator asks for a fee; the citizen gets the link to pay it.
	r = op.form(base+"/backoffice/live", base+"/backoffice/live/"+entry+"/payment",
		url.Values{"amount": {"16,50"}, "reason": {"Diritti di segreteria"}})
	expect(t, r, 200, "/payments/")
	pay := call.expect("link", nil)
	expect(t, mario.get(s.url+str(pay, "url")), 200, "Diritti di segreteria")
	expect(t, op.form(base+"/backoffice/live", base+"/backoffice/live/"+entry+"/payment",
		url.Values{"amount": {"-3"}, "reason": {"x"}}), 422)

	console.send(map[string]string{"type": "end"})
	call.expect("ended", func(m map[string]any) bool { return str(m, "text") != "" })
	console.expect("ended", nil)

	// The dossier keeps the conversation and says it is over.
	var status, body string
	if err := s.db.Owner.NewRaw(`SELECT d.status, m.body FROM consultation_entries e JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id
		JOIN dossier_messages m ON m.tenant_id = d.tenant_id AND m.dossier_id = d.id WHERE e.id = ? ORDER BY m.id DESC LIMIT 1`, entry).
		Scan(context.Background(), &status, &body); err != nil {
		t.Fatal(err)
	}
	if status != "completed" || !strings.Contains(body, "Buongiorno, mi sente?") || !strings.Contains(body, "Sì, benissimo.") ||
		!strings.HasPrefix(body, "Conversazione allo sportello online (voce)") {
		t.Fatalf("dossier %s: %q", status, body)
	}
}

// liveEntry reads a wait's state as the database has it.
func liveEntry(t *testing.T, s *site, entry string) (status, desk string, head, dropped bool) {
	t.Helper()
	if err := s.db.Owner.NewRaw("SELECT status, desk, head, dropped_at IS NOT NULL FROM consultation_entries WHERE id = ?", entry).
		Scan(context.Background(), &status, &desk, &head, &dropped); err != nil {
		t.Fatal(err)
	}
	return status, desk, head, dropped
}

func entryOf(page string) string { return page[strings.LastIndex(page, "/")+1:] }

func TestLiveFailures(t *testing.T) {
	s := newSite(t)
	in := withLive(t, s, live.Config{Rejoin: 2 * time.Second, Refresh: 300 * time.Millisecond})
	base := "/t/" + liveTown
	top := t // the console outlives the subtests

	op := s.staff(liveTown, "sportello@lugano.example", "demo-lugano")
	boss := s.staff(liveTown, "admin@lugano.example", "demo-lugano")
	console := dialWS(t, op, s.url, base+"/backoffice/live/ws")
	console.send(map[string]string{"type": "status", "status": "available"})
	console.expect("state", func(m map[string]any) bool { return str(m, "status") == "available" })
	// Nobody to take: a clear refusal.
	console.send(map[string]string{"type": "take"})
	console.expect("error", nil)

	mario := s.citizen(liveTown, "mario.rossi")
	page := joinLive(t, s.url, mario, "video")
	entry := entryOf(page)

	t.Run("citizen back within the grace keeps the place", func(t *testing.T) {
		w := dialWS(t, mario, s.url, page+"/ws")
		w.expect("queue", func(m map[string]any) bool { return num(m, "position") == 1 })
		w.close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, _, _, dropped := liveEntry(t, s, entry); dropped {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the drop was not noticed")
			}
			time.Sleep(50 * time.Millisecond)
		}
		w = dialWS(t, mario, s.url, page+"/ws")
		w.expect("queue", func(m map[string]any) bool { return num(m, "position") == 1 })
		if status, _, _, dropped := liveEntry(t, s, entry); status != "waiting" || dropped {
			t.Fatalf("back: %s, dropped %v", status, dropped)
		}
		w.close()
	})

	t.Run("operator drops: the citizen is back at the head", func(t *testing.T) {
		w := dialWS(t, mario, s.url, page+"/ws")
		w.expect("queue", nil)
		console.send(map[string]string{"type": "take"})
		console.expect("call", nil)
		w.expect("call", nil)
		console.close()
		w.expect("notice", func(m map[string]any) bool { return str(m, "reason") == "operator_dropped" && str(m, "text") != "" })
		w.expect("queue", func(m map[string]any) bool { return num(m, "position") == 1 })
		if status, _, head, _ := liveEntry(t, s, entry); status != "waiting" || !head {
			t.Fatalf("after the operator dropped: %s, head %v", status, head)
		}
		console = dialWS(top, op, s.url, base+"/backoffice/live/ws")
		console.expect("state", func(m map[string]any) bool { return str(m, "status") == "away" })
		console.send(map[string]string{"type": "status", "status": "available"})
		console.expect("state", func(m map[string]any) bool { return str(m, "status") == "available" })

		// The citizen drops during the next call: the operator is told,
		// the citizen keeps the head of the queue for the grace.
		console.send(map[string]string{"type": "take"})
		console.expect("call", nil)
		w.expect("call", nil)
		w.close()
		console.expect("ended", func(m map[string]any) bool { return str(m, "reason") == "citizen_dropped" })
		w = dialWS(t, mario, s.url, page+"/ws")
		w.expect("queue", func(m map[string]any) bool { return num(m, "position") == 1 })
		if status, _, head, _ := liveEntry(t, s, entry); status != "waiting" || !head {
			t.Fatalf("after the citizen came back: %s, head %v", status, head)
		}
		w.close()
	})

	t.Run("two operators take the same citizen: one call", func(t *testing.T) {
		w := dialWS(t, mario, s.url, page+"/ws")
		w.expect("queue", nil)
		other := dialWS(t, boss, s.url, base+"/backoffice/live/ws")
		other.send(map[string]string{"type": "status", "status": "available"})
		other.expect("state", func(m map[string]any) bool { return str(m, "status") == "available" })
		console.send(map[string]string{"type": "take"})
		other.send(map[string]string{"type": "take"})
		got := 0
		for _, c := range []*ws{console, other} {
			m := c.expectAny("call", "error")
			if m["type"] == "call" {
				got++
			}
		}
		if got != 1 {
			t.Fatalf("%d operators got the call", got)
		}
		w.expect("call", nil)
		// Whoever got it passes the citizen on to the registry office.
		for _, c := range []*ws{console, other} {
			c.send(map[string]string{"type": "transfer", "desk": "nowhere"})
			c.send(map[string]string{"type": "transfer", "desk": "anagrafe"})
		}
		w.expect("notice", func(m map[string]any) bool { return str(m, "reason") == "transferred" })
		if status, desk, head, _ := liveEntry(t, s, entry); status != "waiting" || desk != "anagrafe" || !head {
			t.Fatalf("after the transfer: %s at %s, head %v", status, desk, head)
		}
		other.close()
		w.close()
	})

	t.Run("a plugin restart ends the call with a message to both", func(t *testing.T) {
		w := dialWS(t, mario, s.url, page+"/ws")
		w.expect("queue", nil)
		console.send(map[string]string{"type": "take"})
		console.expect("call", nil)
		mediaCall(t, w, console)
		if err := in.sup.Restart(context.Background(), "consultation"); err != nil {
			t.Fatal(err)
		}
		w.expect("ended", func(m map[string]any) bool { return str(m, "reason") == "plugin" && str(m, "text") != "" })
		console.expect("ended", func(m map[string]any) bool { return str(m, "reason") == "plugin" })
		if status, _, _, _ := liveEntry(t, s, entry); status != "ended" {
			t.Fatalf("after the restart: %s", status)
		}
	})

	t.Run("a citizen gone past the grace loses the place", func(t *testing.T) {
		giulia := s.citizen(liveTown, "giulia.bianchi")
		gpage := joinLive(t, s.url, giulia, "chat")
		w := dialWS(t, giulia, s.url, gpage+"/ws")
		w.expect("queue", nil)
		w.close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if status, _, _, _ := liveEntry(t, s, entryOf(gpage)); status == "left" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the wait did not end after the grace")
			}
			time.Sleep(100 * time.Millisecond)
		}
		w = dialWS(t, giulia, s.url, gpage+"/ws")
		w.expect("ended", nil)
		var st string
		if err := s.db.Owner.NewRaw("SELECT d.status FROM consultation_entries e JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id WHERE e.id = ?",
			entryOf(gpage)).Scan(context.Background(), &st); err != nil {
			t.Fatal(err)
		}
		if st != "withdrawn" {
			t.Fatalf("dossier of a lost wait: %s", st)
		}
	})
}

// expectAny waits for the first message of one of types.
func (w *ws) expectAny(types ...string) map[string]any {
	w.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case m, open := <-w.in:
			if !open {
				w.t.Fatalf("socket closed waiting for %v; seen %v", types, w.seen)
			}
			w.seen = append(w.seen, m)
			for _, typ := range types {
				if m["type"] == typ {
					return m
				}
			}
		case <-deadline:
			w.t.Fatalf("none of %v in 15 s; seen %v", types, w.seen)
		}
	}
}

// TestLiveTwoInstances: the citizen is on one app instance, the operator
// on another, one database between them; the call's media go through the
// operator's instance's plugin.
func TestLiveTwoInstances(t *testing.T) {
	s := newSite(t)
	withLive(t, s, live.Config{})
	b := startLive(t, s, "b", "", live.Config{})
	base := "/t/" + liveTown

	// By voice: the relay offers the same two tracks, the citizen's page
	// sends only its microphone.
	mario := s.citizen(liveTown, "mario.rossi")
	page := joinLive(t, s.url, mario, "voice")
	call := dialWS(t, mario, s.url, page+"/ws")
	call.expect("queue", nil)

	op := s.staff(liveTown, "sportello@lugano.example", "demo-lugano")
	console := dialWS(t, op, b.url, base+"/backoffice/live/ws")
	console.send(map[string]string{"type": "status", "status": "available"})
	// The citizen on instance a sees the operator of instance b.
	call.expect("queue", func(m map[string]any) bool { return num(m, "operators") == 1 })
	console.expect("state", func(m map[string]any) bool { q, _ := m["queue"].([]any); return len(q) == 1 })
	console.send(map[string]string{"type": "take"})
	console.expect("call", func(m map[string]any) bool { return str(m, "mode") == "voice" })
	call.expect("call", nil)
	mediaCall(t, call, console)

	call.send(map[string]string{"type": "chat", "text": "Da un'altra istanza"})
	console.expect("chat", func(m map[string]any) bool { return str(m, "text") == "Da un'altra istanza" })
	console.send(map[string]string{"type": "chat", "text": "Ricevuto"})
	call.expect("chat", func(m map[string]any) bool { return str(m, "text") == "Ricevuto" })
	call.send(map[string]string{"type": "leave"})
	console.expect("ended", func(m map[string]any) bool { return str(m, "reason") == "citizen" })
	if status, _, _, _ := liveEntry(t, s, entryOf(page)); status != "left" {
		t.Fatalf("after the citizen left: %s", status)
	}
}

// TestLiveChatAndColleagues: a call in writing only (no media at all), a
// document from the citizen, a request of theirs handed over as a link,
// and a transfer to a colleague, who alone may take them.
func TestLiveChatAndColleagues(t *testing.T) {
	s := newSite(t)
	withLive(t, s, live.Config{})
	base := "/t/" + liveTown

	op := s.staff(liveTown, "sportello@lugano.example", "demo-lugano")
	boss := s.staff(liveTown, "admin@lugano.example", "demo-lugano")
	console := dialWS(t, op, s.url, base+"/backoffice/live/ws")
	console.send(map[string]string{"type": "status", "status": "available"})
	console.expect("state", func(m map[string]any) bool { return str(m, "status") == "available" })
	colleague := dialWS(t, boss, s.url, base+"/backoffice/live/ws")
	colleague.send(map[string]string{"type": "status", "status": "available"})
	// Each sees the other among the colleagues.
	st := console.expect("state", func(m map[string]any) bool {
		cs, _ := m["colleagues"].([]any)
		return len(cs) == 1 && str(cs[0].(map[string]any), "status") == "available"
	})
	bossID := str(st["colleagues"].([]any)[0].(map[string]any), "id")

	anna := s.citizen(liveTown, "anna.verdi")
	page := joinLive(t, s.url, anna, "chat")
	entry := entryOf(page)
	call := dialWS(t, anna, s.url, page+"/ws")
	call.expect("queue", func(m map[string]any) bool { return num(m, "operators") == 2 })

	console.send(map[string]string{"type": "take"})
	console.expect("call", func(m map[string]any) bool { return str(m, "mode") == "chat" })
	call.expect("call", func(m map[string]any) bool { return str(m, "mode") == "chat" })
	call.send(map[string]string{"type": "chat", "text": "Ho una domanda sulla TARI"})
	console.expect("chat", func(m map[string]any) bool { return str(m, "from") == "citizen" })

	// A document the citizen shows reaches the operator.
	r := anna.multipart(s.url+page, s.url+page+"/files", url.Values{},
		fileUpload{field: "file", name: "bolletta.pdf", content: []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")})
	expect(t, r, 200, "bolletta.pdf")
	f := console.expect("file", func(m map[string]any) bool { return str(m, "from") == "citizen" })
	expect(t, op.get(s.url+str(f, "url")), 200)

	// One of her requests, handed over as a link; not another citizen's.
	var own, other string
	if err := s.db.Owner.NewRaw("SELECT d.number FROM consultation_entries e JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id WHERE e.id = ?",
		entry).Scan(context.Background(), &own); err != nil {
		t.Fatal(err)
	}
	mario := s.citizen(liveTown, "mario.rossi")
	joinLive(t, s.url, mario, "chat")
	if err := s.db.Owner.NewRaw("SELECT d.number FROM consultation_entries e JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id WHERE e.id <> ? ORDER BY e.id DESC LIMIT 1",
		entry).Scan(context.Background(), &other); err != nil {
		t.Fatal(err)
	}
	link := base + "/backoffice/live/" + entry + "/link"
	expect(t, op.form(s.url+base+"/backoffice/live", s.url+link, url.Values{"number": {other}}), 404)
	expect(t, op.form(s.url+base+"/backoffice/live", s.url+link, url.Values{"number": {own}}), 200)
	call.expect("link", func(m map[string]any) bool { return strings.HasPrefix(str(m, "label"), own) })
	// Nobody else's call: the colleague cannot post into it.
	expect(t, boss.form(s.url+base+"/backoffice/live", s.url+link, url.Values{"number": {own}}), 409)

	// Passed to the colleague: only they see her as theirs, and take her.
	console.send(map[string]string{"type": "transfer", "operator": bossID})
	console.expect("ended", func(m map[string]any) bool { return str(m, "reason") == "transferred" })
	call.expect("notice", func(m map[string]any) bool { return str(m, "reason") == "transferred" })
	colleague.expect("state", func(m map[string]any) bool {
		q, _ := m["queue"].([]any)
		for _, row := range q {
			if r := row.(map[string]any); fmt.Sprint(num(r, "entry")) == entry && r["for_me"] == true {
				return true
			}
		}
		return false
	})
	id, _ := strconv.ParseInt(entry, 10, 64)
	console.send(map[string]any{"type": "take", "entry": id})
	console.expect("error", nil)
	colleague.send(map[string]any{"type": "take", "entry": id})
	colleague.expect("call", func(m map[string]any) bool { return num(m, "entry") == id })
	call.expect("call", nil)
	call.send(map[string]string{"type": "chat", "text": "Grazie"})
	colleague.expect("chat", func(m map[string]any) bool { return str(m, "text") == "Grazie" })
	colleague.send(map[string]string{"type": "end"})
	call.expect("ended", nil)
}
