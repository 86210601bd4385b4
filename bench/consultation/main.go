// Command consultation measures a town's live desk end to end: a full
// server (the host assembled as `sportello serve` does, with the live
// desks, the consultation plugin relaying media as its own process, a
// throwaway PostgreSQL), citizens and operators played by pion peers on
// loopback that speak the pages' HTTP and WebSocket protocol.
//
//  1. Latency: one call after the other, the time from the operator's
//     "take" to media flowing both ways (the later of the two sides'
//     first RTP packet).
//  2. Capacity: K calls at once, each side sending Opus every 20 ms and
//     VP8 every 33 ms, K stepped up; the plugin process's CPU over a
//     window, as a share of one core. The figure is the largest K at or
//     under 70 %.
//  3. Reference: as many direct pion-to-pion sessions (no relay), and the
//     CPU of this process, which then runs only those peers.
//
// The last line is one JSON object; it exits non-zero when a call failed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/live"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/server"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/plugins/consultation/relay/relaytest"
)

// The targets, on two cores over loopback.
const (
	targetP95ms    = 1000
	targetSessions = 25
	cpuLimitPct    = 70.0
)

// town's desk is opened round the clock for the run (closing at midnight
// is closing at the end of the day).
const (
	town       = "lugano"
	liveConfig = `{"modes":["video","voice","chat"],"days":["mon","tue","wed","thu","fri","sat","sun"],"opens":"00:00","closes":"00:00"}`
)

// appConns is the application pool of `sportello serve`.
const appConns = 40

// ticksPerSecond is the kernel's USER_HZ, the unit of /proc CPU times.
const ticksPerSecond = 100

// waitFor bounds every step of a call's set-up.
const waitFor = 15 * time.Second

type options struct {
	calls  int
	window time.Duration
	steps  []int
}

type latencyResult struct {
	Calls  int     `json:"calls"`
	Errors int     `json:"errors"`
	P50ms  float64 `json:"p50_ms"`
	P95ms  float64 `json:"p95_ms"`
	MaxMS  float64 `json:"max_ms"`
}

type step struct {
	Sessions int     `json:"sessions"`
	RelayPct float64 `json:"relay_cpu_pct"` // the plugin process, % of one core
	BenchPct float64 `json:"bench_cpu_pct"` // this process: host and the 2K client peers
	MediaOK  bool    `json:"media_ok"`      // every peer received media during the window
	// RTP packets received by all the client peers per second, against
	// what they send (Opus at 50/s and VP8 at 30/s, each way): under
	// the sending rate means packets were lost or not sent in time.
	ReceivedPPS float64 `json:"received_pps"`
	SentPPS     float64 `json:"sent_pps"`
}

type capacityResult struct {
	Steps    []step `json:"steps"`
	Sessions int    `json:"sessions_at_70pct"`
	// StoppedBy says why the steps ended: "cpu" (over 70 %), "ceiling"
	// (the last step, still under), "media" or "error".
	StoppedBy string `json:"stopped_by"`
	Errors    int    `json:"errors"`
}

type referenceResult struct {
	Sessions    int     `json:"sessions"`
	DirectPct   float64 `json:"direct_cpu_pct"`
	MediaOK     bool    `json:"media_ok"`
	ReceivedPPS float64 `json:"received_pps"`
	SentPPS     float64 `json:"sent_pps"`
}

type result struct {
	Latency          latencyResult   `json:"latency"`
	Capacity         capacityResult  `json:"capacity"`
	Reference        referenceResult `json:"reference"`
	RelayPerSession  float64         `json:"relay_cpu_pct_per_session"`
	DirectPerSession float64         `json:"direct_cpu_pct_per_session"`
	Ratio            float64         `json:"relay_to_direct_ratio"`
	WindowS          float64         `json:"window_s"`
	TargetP95ms      int             `json:"target_p95_ms"`
	TargetSessions   int             `json:"target_sessions"`
	MetP95           bool            `json:"met_p95"`
	MetSessions      bool            `json:"met_sessions"`
}

func main() {
	var o options
	var steps string
	flag.IntVar(&o.calls, "n", 40, "calls of the latency measurement")
	flag.DurationVar(&o.window, "window", 10*time.Second, "CPU measurement window of each step")
	flag.StringVar(&steps, "steps", "10,25,50,75,100,125,150", "concurrent sessions of the capacity steps, ascending")
	flag.Parse()
	for _, s := range strings.Split(steps, ",") {
		var k int
		if _, err := fmt.Sscan(strings.TrimSpace(s), &k); err != nil || k < 1 || (len(o.steps) > 0 && k <= o.steps[len(o.steps)-1]) {
			fmt.Fprintln(os.Stderr, "bench-consultation: -steps wants ascending positive counts")
			os.Exit(2)
		}
		o.steps = append(o.steps, k)
	}
	if o.calls < 1 || o.window <= 0 {
		fmt.Fprintln(os.Stderr, "bench-consultation: want at least one call and a positive window")
		os.Exit(2)
	}
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-consultation:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(o options) (bool, error) {
	ctx := context.Background()
	root, err := fixture.RepoRoot()
	if err != nil {
		return false, err
	}
	dir, err := os.MkdirTemp("", "bench-consultation-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	pluginDir := filepath.Join(dir, "plugins")
	if err := fixture.Build(root, "./plugins/consultation", filepath.Join(pluginDir, "consultation")); err != nil {
		return false, err
	}

	db, stop, err := fixture.Database(ctx)
	if err != nil {
		return false, err
	}
	defer stop()
	app, err := store.Open(ctx, db.AppURL, appConns)
	if err != nil {
		return false, err
	}
	defer app.Close()
	m, err := tenancy.LoadManifest(filepath.Join(root, "tenants", town+".yaml"))
	if err != nil {
		return false, err
	}
	applied, err := tenancy.Apply(ctx, app, authn.Argon2{}, m)
	if err != nil {
		return false, err
	}
	tid := applied.TenantID
	if _, err := db.Owner.ExecContext(ctx,
		"UPDATE tenant_services SET config = ?, state = 'published', enabled = true WHERE tenant_id = ? AND service_id = 'consultation'",
		liveConfig, tid); err != nil {
		return false, fmt.Errorf("open the live desk: %w", err)
	}
	maxK := o.steps[len(o.steps)-1]
	auth := authn.New(app, nil, authn.Options{})
	citizens, err := makeCitizens(ctx, db.Owner, auth, tid, o.calls+maxK)
	if err != nil {
		return false, err
	}
	operators, err := makeOperators(ctx, db.Owner, auth, tid, maxK)
	if err != nil {
		return false, err
	}

	if _, err := catalog.New(app).Register(ctx, pluginDir, "consultation"); err != nil {
		return false, err
	}
	filesDir := filepath.Join(dir, "files")
	files, err := dossier.NewFiles(filesDir, 0)
	if err != nil {
		return false, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	lv := server.NewLive(live.Config{Instance: "bench", Log: log, ICE: live.ICE{Loopback: true}})
	sup, err := pluginhost.Launch(ctx, app, lv.Options(pluginhost.Options{Dir: pluginDir, Log: log,
		HostAPI: []hostapi.Option{hostapi.WithDocuments(files, docsign.New(app, nil))}}))
	if err != nil {
		return false, err
	}
	defer sup.Stop()
	st := sup.Status()
	if len(st) != 1 || st[0].Status != catalog.StatusRunning || st[0].PID == 0 {
		return false, fmt.Errorf("the consultation plugin is not running: %+v", st)
	}
	pluginPID := st[0].PID
	srv, err := server.Assemble(ctx, app, server.Config{BaseDomain: "sportello.test", FilesDir: filesDir,
		PaymentProvider: "local", Live: lv}, log, sup)
	if err != nil {
		return false, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { _ = srv.Serve(sctx, ln, 5*time.Second); close(served) }()
	defer func() { cancel(); <-served }()
	b := &bench{base: "http://" + ln.Addr().String()}

	var res result
	res.WindowS = o.window.Seconds()
	res.TargetP95ms, res.TargetSessions = targetP95ms, targetSessions

	// 1. Latency: one operator takes one citizen after the other.
	op, err := b.console(operators[0])
	if err != nil {
		return false, err
	}
	var lat []time.Duration
	for i := range o.calls {
		c, d, err := b.call(citizens[i], op)
		if err != nil {
			fmt.Fprintf(os.Stderr, "consultation: latency call %d: %v\n", i, err)
			res.Latency.Errors++
			if c != nil {
				c.close()
			}
			continue
		}
		lat = append(lat, d)
		if err := c.end(); err != nil {
			fmt.Fprintf(os.Stderr, "consultation: end call %d: %v\n", i, err)
			res.Latency.Errors++
		}
		c.close()
	}
	res.Latency.Calls = len(lat)
	res.Latency.P50ms, res.Latency.P95ms, res.Latency.MaxMS = pct(lat, 0.50), pct(lat, 0.95), pct(lat, 1)
	fmt.Fprintf(os.Stderr, "consultation: %d calls, take to media p50 %.0f ms, p95 %.0f ms, max %.0f ms, %d errors\n",
		res.Latency.Calls, res.Latency.P50ms, res.Latency.P95ms, res.Latency.MaxMS, res.Latency.Errors)

	// 2. Capacity: add calls, each with its own operator, step by step.
	consoles := []*wsConn{op}
	var calls []*call
	next := o.calls
	defer func() {
		for _, c := range calls {
			c.close()
		}
		for _, w := range consoles {
			w.close()
		}
	}()
	var relayAt = map[int]float64{}
	for _, k := range o.steps {
		for len(calls) < k && res.Capacity.Errors == 0 {
			i := len(calls)
			if i >= len(consoles) {
				w, err := b.console(operators[i])
				if err != nil {
					return false, err
				}
				consoles = append(consoles, w)
			}
			c, _, err := b.call(citizens[next], consoles[i])
			next++
			if err != nil {
				fmt.Fprintf(os.Stderr, "consultation: call %d of the capacity step: %v\n", i+1, err)
				res.Capacity.Errors++
				if c != nil {
					c.close()
				}
				break
			}
			calls = append(calls, c)
		}
		if res.Capacity.Errors > 0 {
			res.Capacity.StoppedBy = "error"
			break
		}
		var peers []*relaytest.Peer
		for _, c := range calls {
			peers = append(peers, c.peers[:]...)
		}
		time.Sleep(time.Second) // let the last calls' set-up settle
		relayPct, benchPct, mediaOK, pps := measure(o.window, pluginPID, peers)
		s := step{Sessions: k, RelayPct: round(relayPct), BenchPct: round(benchPct), MediaOK: mediaOK,
			ReceivedPPS: round(pps), SentPPS: round(sendRate(len(peers)))}
		res.Capacity.Steps = append(res.Capacity.Steps, s)
		relayAt[k] = relayPct
		fmt.Fprintf(os.Stderr, "consultation: %d sessions: relay %.1f %% of a core, bench process %.1f %%, media %v, %.0f of %.0f packets/s\n",
			k, relayPct, benchPct, mediaOK, pps, sendRate(len(peers)))
		if relayPct > cpuLimitPct {
			res.Capacity.StoppedBy = "cpu"
			break
		}
		if !mediaOK {
			res.Capacity.StoppedBy = "media"
			break
		}
		res.Capacity.Sessions = k
		res.Capacity.StoppedBy = "ceiling"
	}
	for _, c := range calls {
		_ = c.end()
		c.close()
	}
	calls = nil

	// 3. The reference: as many sessions, pion to pion, no relay.
	refK := res.Capacity.Sessions
	if refK == 0 {
		refK = o.steps[0]
	}
	res.Reference, err = direct(refK, o.window)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(os.Stderr, "consultation: %d direct sessions: %.1f %% of a core, media %v, %.0f of %.0f packets/s\n",
		refK, res.Reference.DirectPct, res.Reference.MediaOK, res.Reference.ReceivedPPS, res.Reference.SentPPS)
	if r, ok := relayAt[refK]; ok {
		res.RelayPerSession = r / float64(refK)
	}
	res.DirectPerSession = res.Reference.DirectPct / float64(refK)
	if res.DirectPerSession > 0 {
		res.Ratio = round3(res.RelayPerSession / res.DirectPerSession)
	}
	res.RelayPerSession, res.DirectPerSession = round3(res.RelayPerSession), round3(res.DirectPerSession)
	res.MetP95 = res.Latency.Calls > 0 && res.Latency.P95ms <= targetP95ms
	res.MetSessions = res.Capacity.Sessions >= targetSessions

	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return res.Latency.Errors == 0 && res.Capacity.Errors == 0, nil
}

// measure samples the CPU of the plugin process and of this one over
// window, as % of one core, and whether every peer received media in it.
func measure(window time.Duration, pluginPID int, peers []*relaytest.Peer) (relayPct, benchPct float64, mediaOK bool, pps float64) {
	before := received(peers)
	p0, b0, t0 := fixture.ProcessTicks(pluginPID), fixture.ProcessTicks(os.Getpid()), time.Now()
	time.Sleep(window)
	p1, b1, secs := fixture.ProcessTicks(pluginPID), fixture.ProcessTicks(os.Getpid()), time.Since(t0).Seconds()
	after := received(peers)
	mediaOK = true
	var got uint64
	for i := range peers {
		if after[i] <= before[i] {
			mediaOK = false
		}
		got += after[i] - before[i]
	}
	share := func(ticks int64) float64 { return float64(ticks) / ticksPerSecond / secs * 100 }
	return share(p1 - p0), share(b1 - b0), mediaOK, float64(got) / secs
}

// sendRate is the packets per second n peers send: a 20 ms Opus frame
// and a 33 ms VP8 frame (one packet each) at a time.
func sendRate(n int) float64 { return float64(n) * (1/0.020 + 1/0.033) }

func received(peers []*relaytest.Peer) []uint64 {
	n := make([]uint64, len(peers))
	for i, p := range peers {
		a, v := p.Received()
		n[i] = a + v
	}
	return n
}

// direct runs k direct sessions and measures this process's CPU, which
// then runs nothing else busy: the host is idle, the relay calls ended.
func direct(k int, window time.Duration) (referenceResult, error) {
	var peers []*relaytest.Peer
	defer func() {
		for _, p := range peers {
			_ = p.Close()
		}
	}()
	for range k {
		o, a, err := relaytest.DirectPair()
		if err != nil {
			return referenceResult{}, fmt.Errorf("direct session: %w", err)
		}
		peers = append(peers, o, a)
		o.Send()
		a.Send()
	}
	for _, p := range peers {
		select {
		case <-p.FirstMedia():
		case <-time.After(waitFor):
			return referenceResult{}, errors.New("direct session: no media")
		}
	}
	time.Sleep(time.Second)
	_, pct, ok, pps := measure(window, 0, peers)
	return referenceResult{Sessions: k, DirectPct: round(pct), MediaOK: ok, ReceivedPPS: round(pps),
		SentPPS: round(sendRate(len(peers)))}, nil
}

// makeCitizens adds n citizens to the town and signs each in, returning
// their session tokens.
func makeCitizens(ctx context.Context, owner *store.DB, auth *authn.Authenticator, tid int64, n int) ([]string, error) {
	tokens := make([]string, n)
	for i := range n {
		var id int64
		if err := owner.NewRaw(`INSERT INTO citizens (tenant_id, issuer, subject, name, email)
			VALUES (?, 'bench', ?, ?, ?) RETURNING id`, tid, fmt.Sprintf("bench-%d", i),
			fmt.Sprintf("Cittadino %d", i), fmt.Sprintf("cittadino%d@example.org", i)).Scan(ctx, &id); err != nil {
			return nil, fmt.Errorf("citizen %d: %w", i, err)
		}
		tok, _, err := auth.NewSession(ctx, tid, authn.Subject{CitizenID: id})
		if err != nil {
			return nil, err
		}
		tokens[i] = tok
	}
	return tokens, nil
}

// makeOperators adds n operators of the town's front office and signs
// each in.
func makeOperators(ctx context.Context, owner *store.DB, auth *authn.Authenticator, tid int64, n int) ([]string, error) {
	tokens := make([]string, n)
	for i := range n {
		var id int64
		if err := owner.NewRaw(`INSERT INTO users (tenant_id, email, name) VALUES (?, ?, ?) RETURNING id`,
			tid, fmt.Sprintf("operatore%d@lugano.example", i), fmt.Sprintf("Operatore %d", i)).Scan(ctx, &id); err != nil {
			return nil, fmt.Errorf("operator %d: %w", i, err)
		}
		if _, err := owner.ExecContext(ctx, "INSERT INTO user_roles (tenant_id, user_id, role) VALUES (?, ?, 'operator')", tid, id); err != nil {
			return nil, fmt.Errorf("operator %d's role: %w", i, err)
		}
		if _, err := owner.ExecContext(ctx, `INSERT INTO user_offices (tenant_id, user_id, office_id)
			SELECT tenant_id, ?, id FROM offices WHERE tenant_id = ? AND slug = 'controllo-abitanti'`, id, tid); err != nil {
			return nil, fmt.Errorf("operator %d's office: %w", i, err)
		}
		tok, _, err := auth.NewSession(ctx, tid, authn.Subject{UserID: id})
		if err != nil {
			return nil, err
		}
		tokens[i] = tok
	}
	return tokens, nil
}

type bench struct{ base string }

// browser is a signed-in visitor's cookies.
func (b *bench) browser(token string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	u, err := url.Parse(b.base + "/t/" + town + "/")
	if err != nil {
		return nil, err
	}
	jar.SetCookies(u, []*http.Cookie{{Name: "sportello_session", Value: token, Path: "/t/" + town}})
	return &http.Client{Jar: jar, Timeout: waitFor,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}

// console opens an operator's console socket and makes them available.
func (b *bench) console(token string) (*wsConn, error) {
	c, err := b.browser(token)
	if err != nil {
		return nil, err
	}
	w, err := b.dial(c, "/t/"+town+"/backoffice/live/ws")
	if err != nil {
		return nil, err
	}
	if _, err := w.expect("state", nil); err != nil {
		w.close()
		return nil, err
	}
	if err := w.send(map[string]string{"type": "status", "status": "available"}); err != nil {
		w.close()
		return nil, err
	}
	if _, err := w.expect("state", func(m map[string]any) bool { return str(m, "status") == "available" }); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// join queues a citizen by the service's form and opens their wait's
// socket, returning once they are told their place.
func (b *bench) join(token string) (*wsConn, error) {
	c, err := b.browser(token)
	if err != nil {
		return nil, err
	}
	svc := b.base + "/t/" + town + "/services/consultation"
	res, err := c.Get(svc)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	f := csrfField.FindSubmatch(page)
	if f == nil {
		return nil, fmt.Errorf("no CSRF field on the service's page (%d)", res.StatusCode)
	}
	form := url.Values{"_csrf": {string(f[1])}, "mode": {"video"}, "topic": {"Documenti per il cambio di residenza"}, "consent": {"true"}}
	res, err = c.PostForm(svc+"/join", form)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/t/"+town+"/live/") {
		return nil, fmt.Errorf("join: %d %q %.300s", res.StatusCode, loc, body)
	}
	w, err := b.dial(c, loc+"/ws")
	if err != nil {
		return nil, err
	}
	if _, err := w.expect("queue", nil); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

type call struct {
	citizen, operator *wsConn
	peers             [2]*relaytest.Peer
}

// call queues a citizen, has op take them, answers both offers with pion
// peers that start sending at once, and returns the time from the take
// to media having reached both sides.
func (b *bench) call(citizen string, op *wsConn) (*call, time.Duration, error) {
	cw, err := b.join(citizen)
	if err != nil {
		return nil, 0, err
	}
	c := &call{citizen: cw, operator: op}
	start := time.Now()
	if err := op.send(map[string]string{"type": "take"}); err != nil {
		return c, 0, err
	}
	var wg sync.WaitGroup
	var errs [2]error
	for i, w := range []*wsConn{cw, op} {
		wg.Go(func() {
			offer, err := w.expect("offer", nil)
			if err != nil {
				errs[i] = err
				return
			}
			p, answer, err := relaytest.NewPeer(str(offer, "sdp"))
			if err != nil {
				errs[i] = err
				return
			}
			c.peers[i] = p
			if err := w.send(map[string]string{"type": "answer", "sdp": answer}); err != nil {
				errs[i] = err
				return
			}
			p.Send()
			select {
			case <-p.FirstMedia():
			case <-time.After(waitFor):
				errs[i] = fmt.Errorf("no media reached side %d in %s", i, waitFor)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs[:]...); err != nil {
		return c, 0, err
	}
	return c, took, nil
}

// end has the operator end the call and waits until both sides are told.
func (c *call) end() error {
	if err := c.operator.send(map[string]string{"type": "end"}); err != nil {
		return err
	}
	if _, err := c.operator.expect("ended", nil); err != nil {
		return err
	}
	_, err := c.citizen.expect("ended", nil)
	return err
}

// close drops the citizen's side; the operator's console stays.
func (c *call) close() {
	for _, p := range c.peers {
		if p != nil {
			_ = p.Close()
		}
	}
	c.citizen.close()
}

// wsConn is a page's WebSocket. Messages the benchmark waits for are kept
// in order; the frequent "state" and "queue" refreshes are dropped when
// nobody reads them, so an idle console never holds the server up.
type wsConn struct {
	c  *websocket.Conn
	mu sync.Mutex
	in chan map[string]any
}

func (b *bench) dial(c *http.Client, path string) (*wsConn, error) {
	u, _ := url.Parse(b.base + path)
	hdr := http.Header{"Origin": {b.base}}
	var cookies []string
	for _, k := range c.Jar.Cookies(u) {
		cookies = append(cookies, k.Name+"="+k.Value)
	}
	hdr.Set("Cookie", strings.Join(cookies, "; "))
	conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(b.base, "http")+path, hdr)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		return nil, fmt.Errorf("dial %s: %w (%d)", path, err, status)
	}
	w := &wsConn{c: conn, in: make(chan map[string]any, 64)}
	go func() {
		defer close(w.in)
		for {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(raw, &m) != nil {
				continue
			}
			if t := str(m, "type"); t == "state" || t == "queue" || t == "chat" || t == "notice" {
				select {
				case w.in <- m:
				default:
				}
				continue
			}
			w.in <- m
		}
	}()
	return w, nil
}

func (w *wsConn) send(v any) error {
	raw, _ := json.Marshal(v)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.c.WriteMessage(websocket.TextMessage, raw); err != nil {
		return fmt.Errorf("send %.40s: %w", raw, err)
	}
	return nil
}

// expect waits for a message of type typ for which ok holds (nil: any),
// passing over the others; an "error" message fails it.
func (w *wsConn) expect(typ string, ok func(map[string]any) bool) (map[string]any, error) {
	deadline := time.After(waitFor)
	for {
		select {
		case m, open := <-w.in:
			if !open {
				return nil, fmt.Errorf("socket closed waiting for %q", typ)
			}
			if str(m, "type") == typ && (ok == nil || ok(m)) {
				return m, nil
			}
			if str(m, "type") == "error" {
				return nil, fmt.Errorf("waiting for %q: error %q", typ, str(m, "text"))
			}
		case <-deadline:
			return nil, fmt.Errorf("no %q message in %s", typ, waitFor)
		}
	}
}

func (w *wsConn) close() { _ = w.c.Close() }

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// pct is the q-quantile of d in milliseconds (nearest rank).
func pct(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return round(float64(s[i]) / float64(time.Millisecond))
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
