package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	_ "time/tzdata" // the booking times are Venice's, whatever the machine's zone

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/core/tenancy"
)

// The chaos tests run the real `sportello serve --demo` and real plugin
// processes, load them over HTTP from concurrent clients, and break one
// piece under the load: a plugin process, the host itself, PostgreSQL. The
// deadlines they wait on are correctness bounds, not performance targets;
// the times they measure are logged.

// chaosDeadline bounds every wait for a recovery.
const chaosDeadline = 15 * time.Second

// unavailableText is in every page and Open311 error that says "try again
// later" in Italian, the demo towns' first language.
const unavailableText = "momentaneamente non disponibile"

func TestChaos(t *testing.T) {
	// The two services under load are of different plugins.
	plugins := t.TempDir()
	for _, id := range []string{"helpdesk", "roombooking"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(plugins, id), "../../plugins/"+id).CombinedOutput(); err != nil {
			t.Fatalf("build the %s plugin: %v\n%s", id, err, out)
		}
	}
	t.Run("PluginKilled", func(t *testing.T) { chaosPluginKilled(t, plugins) })
	t.Run("HostKilled", func(t *testing.T) { chaosHostKilled(t, plugins) })
	t.Run("PostgresRestarted", func(t *testing.T) { chaosPostgresRestarted(t, plugins) })
}

// chaosPluginKilled: with the helpdesk and the room booking under load,
// the room booking's process is killed with SIGKILL. The helpdesk does not
// notice; the room booking answers each request with its result or a 503
// page saying to try again (never a 500, never no answer) and serves again
// once the supervisor has restarted it.
func chaosPluginKilled(t *testing.T, plugins string) {
	h := newChaosHost(t, newChaosCLI(t, emptyDB(t)), plugins)
	h.start()
	key := h.open311Key()
	code := h.serviceCode()
	before := h.pluginPIDs()
	if before["helpdesk"] <= 0 || before["roombooking"] <= 0 {
		t.Fatalf("plugins running: %v", before)
	}

	var (
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		mu      sync.Mutex
		reports []chaosOutcome // the helpdesk's
		rooms   []chaosOutcome // the room booking's
		seq     atomic.Int64
	)
	for w := range 3 {
		wg.Go(func() {
			hc := chaosHTTP()
			for !stopped(stop) {
				o := h.report(hc, key, code, fmt.Sprintf("chaos-d-%d-%d", w, seq.Add(1)))
				mu.Lock()
				reports = append(reports, o)
				mu.Unlock()
			}
		})
		hc := chaosHTTP()
		token := h.csrf(hc, "/t/venezia/services/roombooking")
		wg.Go(func() {
			for !stopped(stop) {
				o := h.rooms(hc, token)
				mu.Lock()
				rooms = append(rooms, o)
				mu.Unlock()
			}
		})
	}
	// Hard bound on the load, whatever happens below.
	timer := time.AfterFunc(chaosDeadline+10*time.Second, func() { closeOnce(stop) })
	defer timer.Stop()

	time.Sleep(time.Second)
	killedAt := time.Now()
	if err := syscall.Kill(before["roombooking"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The load goes on until the room booking has answered again, and a
	// second more.
	var back time.Time
	for back.IsZero() && time.Since(killedAt) < chaosDeadline && !stopped(stop) {
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		for _, o := range rooms {
			if o.status == 200 && o.start.After(killedAt) && (back.IsZero() || o.end.Before(back)) {
				back = o.end
			}
		}
		mu.Unlock()
	}
	time.Sleep(time.Second)
	closeOnce(stop)
	wg.Wait()

	if back.IsZero() {
		t.Fatalf("the room booking did not answer again within %s of the kill; log:\n%s", chaosDeadline, h.logTail())
	}
	recovery := back.Sub(killedAt)
	for _, o := range reports {
		if o.requestID() == "" {
			t.Errorf("a helpdesk report while the other plugin was down: %s", o)
		}
	}
	var unavailable int
	for _, o := range rooms {
		switch {
		case o.err != nil:
			t.Errorf("a room booking request got no answer: %s", o)
		case o.status == 503:
			unavailable++
			if !strings.Contains(o.body, unavailableText) || !strings.Contains(o.body, "<form") {
				t.Errorf("the 503 of the room booking does not say to try again, or lost its form: %.1500s", o.body)
			}
		case o.status != 200:
			t.Errorf("a room booking request: %s", o)
		}
	}
	after := h.pluginPIDs()
	if after["roombooking"] <= 0 || after["roombooking"] == before["roombooking"] || running(before["roombooking"]) {
		t.Errorf("the room booking was not restarted: pid %d before, %d now", before["roombooking"], after["roombooking"])
	}
	if after["helpdesk"] != before["helpdesk"] {
		t.Errorf("the helpdesk was restarted too: pid %d before, %d now", before["helpdesk"], after["helpdesk"])
	}
	// Where the time went: the supervisor's word on the crash and on the
	// new process (its cold start).
	for _, line := range strings.Split(h.log.String(), "\n") {
		if strings.Contains(line, `"plugin":"roombooking"`) && (strings.Contains(line, "crashed") || strings.Contains(line, "plugin running")) {
			t.Logf("supervisor: %s", line)
		}
	}
	t.Logf("chaos: plugin killed with SIGKILL under load: serving again %s after the kill; %d room booking requests (%d answered 503), %d helpdesk reports, all filed",
		recovery.Round(time.Millisecond), len(rooms), unavailable, len(reports))
	fmt.Printf("chaos: plugin SIGKILL -> first success again: %s\n", recovery.Round(time.Millisecond))
}

// chaosHostKilled: concurrent clients book appointments and file helpdesk
// reports, and the host is killed with SIGKILL in the middle. Its plugins
// die with it; started again on the same database, it has every booking
// and every report it confirmed, once.
func chaosHostKilled(t *testing.T, plugins string) {
	c := newChaosCLI(t, emptyDB(t))
	h := newChaosHost(t, c, plugins)
	h.start()
	key := h.open311Key()
	code := h.serviceCode()
	slots := h.appointmentSlots()
	pids := h.pluginPIDs()
	if len(pids) != 2 {
		t.Fatalf("plugins running: %v", pids)
	}

	var (
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		mu       sync.Mutex
		bookings = map[string]string{} // e-mail of the booking → its code, as confirmed
		tokens   = map[string]string{} // code → the token of its page
		reports  = map[string]string{} // marker in the description → the request's id, as confirmed
		wrong    []chaosOutcome        // answers that were neither a confirmation nor a taken time
		attempts atomic.Int64
		next     atomic.Int64
	)
	for w := range 3 {
		hc := chaosHTTP()
		token := h.csrf(hc, "/t/venezia/appointments?topic=carta-identita&office=anagrafe-mestre&day="+
			slots[0][:10]+"&time="+url.QueryEscape(slots[0][11:16]))
		wg.Go(func() {
			for n := 0; !stopped(stop); n++ {
				i := int(next.Add(1) - 1)
				if i >= 3*len(slots) { // every desk of every time taken
					return
				}
				email := fmt.Sprintf("chaos-b-%d-%d@example.org", w, n)
				attempts.Add(1)
				o := h.book(hc, token, slots[i%len(slots)], email)
				if o.err != nil { // the host is gone
					return
				}
				mu.Lock()
				if m := codeInLocation.FindStringSubmatch(o.location); o.status == 303 && m != nil {
					bookings[email], tokens[m[1]] = m[1], m[2]
				} else if o.status != 409 { // a desk taken under another client is no fault
					wrong = append(wrong, o)
				}
				mu.Unlock()
			}
		})
		wg.Go(func() {
			hc := chaosHTTP()
			for n := 0; !stopped(stop); n++ {
				marker := fmt.Sprintf("chaos-d-%d-%d", w, n)
				attempts.Add(1)
				o := h.report(hc, key, code, marker)
				if o.err != nil {
					return
				}
				mu.Lock()
				if id := o.requestID(); id != "" {
					reports[marker] = id
				} else {
					wrong = append(wrong, o)
				}
				mu.Unlock()
			}
		})
	}
	timer := time.AfterFunc(chaosDeadline, func() { closeOnce(stop) })
	defer timer.Stop()

	time.Sleep(1500 * time.Millisecond)
	h.kill()
	killedAt := time.Now()
	// No plugin outlives the host: the kernel ends them (Pdeathsig).
	for id, pid := range pids {
		for running(pid) {
			if time.Since(killedAt) > chaosDeadline {
				t.Fatalf("plugin %s (pid %d) still runs %s after the host was killed", id, pid, chaosDeadline)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if rest := chaosProcessesIn(plugins); len(rest) != 0 {
		t.Fatalf("processes of the plugin folder outlive the host: %v", rest)
	}
	gone := time.Since(killedAt)
	// The clients find the host gone; what they were told until then is
	// what must survive.
	closeOnce(stop)
	wg.Wait()
	for _, o := range wrong {
		t.Errorf("before the kill: %s", o)
	}
	if len(bookings) == 0 || len(reports) == 0 {
		t.Fatalf("nothing confirmed before the kill: %d bookings, %d reports; log:\n%s", len(bookings), len(reports), h.logTail())
	}

	h.start()
	restarted := time.Since(killedAt)
	ctx := context.Background()
	db := c.ownerDB(t)

	// In the database: each confirmed one, and no client's request twice.
	found := map[string][]string{}
	rows, err := db.QueryContext(ctx, `SELECT b.contact_email, b.code FROM bookings b JOIN tenants t ON t.id = b.tenant_id
		WHERE t.slug = 'venezia' AND b.contact_email LIKE 'chaos-b-%' AND b.status <> 'cancelled'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var email, code string
		if err := rows.Scan(&email, &code); err != nil {
			t.Fatal(err)
		}
		found[email] = append(found[email], code)
	}
	rows.Close()
	for email, code := range bookings {
		if !slices.Equal(found[email], []string{code}) {
			t.Errorf("booking %s of %s, confirmed before the kill: in the database %v", code, email, found[email])
		}
	}
	for email, codes := range found {
		if len(codes) > 1 {
			t.Errorf("the booking of %s is there %d times: %v", email, len(codes), codes)
		}
	}
	filed := map[string][]string{}
	rows, err = db.QueryContext(ctx, `SELECT d.number, d.data::text FROM dossiers d JOIN tenants t ON t.id = d.tenant_id
		WHERE t.slug = 'venezia' AND d.service_id = 'helpdesk'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var number, data string
		if err := rows.Scan(&number, &data); err != nil {
			t.Fatal(err)
		}
		// The description may be kept in more than one field of the
		// dossier's data: one dossier, whatever the count.
		for _, m := range reportMarker.FindAllString(data, -1) {
			if !slices.Contains(filed[m], number) {
				filed[m] = append(filed[m], number)
			}
		}
	}
	rows.Close()
	for marker, id := range reports {
		if !slices.Equal(filed[marker], []string{id}) {
			t.Errorf("report %s (%s), confirmed before the kill: dossiers %v", id, marker, filed[marker])
		}
	}
	for marker, ids := range filed {
		if len(ids) > 1 {
			t.Errorf("the report %s is there %d times: %v", marker, len(ids), ids)
		}
	}
	// And through the restarted host, as the people who were told would
	// look: the appointment's page, the report's Open311 record.
	hc := chaosHTTP()
	for email, code := range bookings {
		o := chaosDo(hc, http.MethodGet, h.base+"/t/venezia/appointments/"+code+"?token="+url.QueryEscape(tokens[code]), nil)
		if o.status != 200 || !strings.Contains(o.body, code) {
			t.Errorf("the page of booking %s (%s) after the restart: %s", code, email, o)
		}
	}
	for marker, id := range reports {
		o := chaosDo(hc, http.MethodGet, h.base+"/t/venezia/open311/v2/requests/"+id+".json", nil)
		if o.status != 200 || !strings.Contains(o.body, id) {
			t.Errorf("report %s (%s) after the restart: %s", id, marker, o)
		}
	}
	// The restarted host takes new ones.
	if id := h.report(hc, key, code, "chaos-d-after-0").requestID(); id == "" {
		t.Errorf("no report filed after the restart")
	}
	token := h.csrf(hc, "/t/venezia/appointments?topic=carta-identita&office=anagrafe-mestre&day="+
		slots[0][:10]+"&time="+url.QueryEscape(slots[0][11:16]))
	var booked bool
	for i := len(slots) - 1; i >= 0 && !booked; i-- {
		o := h.book(hc, token, slots[i], "chaos-b-after-0@example.org")
		if o.status != 303 && o.status != 409 && o.status != 422 {
			t.Fatalf("a booking after the restart: %s", o)
		}
		booked = o.status == 303
	}
	if !booked {
		t.Errorf("no booking after the restart")
	}
	t.Logf("chaos: host killed with SIGKILL under load: %d attempts, %d bookings and %d reports confirmed, all there once after the restart; plugins gone %s after the kill, host serving again %s after it",
		attempts.Load(), len(bookings), len(reports), gone.Round(time.Millisecond), restarted.Round(time.Millisecond))
}

// chaosPostgresRestarted: PostgreSQL stops and starts again under the
// running host, twice: under load, then with nobody about. Meanwhile what
// needs the database answers 503 with a page or an Open311 error saying to
// try again, never a 500; afterwards everything works again without
// restarting the host, from the first request on: pages, the plugins' Host
// API calls, and the tenant registry's LISTEN, which hears tenant changes
// again, even one made before it was listening again.
func chaosPostgresRestarted(t *testing.T, plugins string) {
	if os.Getenv("SPORTELLO_TEST_DATABASE_URL") != "" {
		t.Skip("restarts a PostgreSQL of its own, which SPORTELLO_TEST_DATABASE_URL rules out")
	}
	ctx := context.Background()
	srv, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	admin, err := store.Open(ctx, srv.URL("postgres"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE chaos"); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	c := newChaosCLI(t, srv.URL("chaos"))
	h := newChaosHost(t, c, plugins)
	h.start()
	key := h.open311Key()
	code := h.serviceCode()
	hc := chaosHTTP()
	roomsToken := h.csrf(hc, "/t/venezia/services/roombooking")
	days := h.base + "/t/venezia/appointments?topic=carta-identita&office=anagrafe-mestre"
	// What each probe asks: a report (the helpdesk plugin writes through
	// the Host API), the rooms (the room booking reads through it), a page
	// the core reads from the database, and readiness.
	probes := []struct {
		name string
		do   func() chaosOutcome
	}{
		{"open311 report", func() chaosOutcome { return h.report(hc, key, code, "chaos-pg") }},
		{"rooms", func() chaosOutcome { return h.rooms(hc, roomsToken) }},
		{"appointment days", func() chaosOutcome { return chaosDo(hc, http.MethodGet, days, nil) }},
		{"readyz", func() chaosOutcome { return chaosDo(hc, http.MethodGet, h.base+"/readyz", nil) }},
	}
	allWork := func(when string) {
		t.Helper()
		for _, p := range probes {
			if o := p.do(); o.status != 200 {
				t.Errorf("%s %s: %s", p.name, when, o)
			}
		}
	}
	allWork("before the restart")

	// Clients keep coming through the restart.
	var (
		done = make(chan struct{})
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen []chaosOutcome
	)
	for w := range 2 {
		hc := chaosHTTP()
		token := h.csrf(hc, "/t/venezia/services/roombooking")
		wg.Go(func() {
			for n := 0; !stopped(done); n++ {
				var o chaosOutcome
				switch n % 3 {
				case 0:
					o = h.report(hc, key, code, fmt.Sprintf("chaos-pg-%d-%d", w, n))
				case 1:
					o = h.rooms(hc, token)
				default:
					o = chaosDo(hc, http.MethodGet, days, nil)
				}
				mu.Lock()
				seen = append(seen, o)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	defer closeOnce(done)

	var during []chaosOutcome
	var downAt time.Time
	err = srv.Restart(ctx, func() {
		downAt = time.Now()
		for _, p := range probes {
			o := p.do()
			o.name = p.name
			during = append(during, o)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	upAt := time.Now()
	// Another instance renames a town the moment the database is back,
	// before this one's listener has had time to connect again.
	first := "Comune di Venezia (appena riavviato)"
	owner, err := store.Open(ctx, srv.URL("chaos"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.ExecContext(ctx, "UPDATE tenants SET name = ?, updated_at = now() WHERE slug = 'venezia'; SELECT pg_notify(?, 'venezia')",
		first, tenancy.NotifyChannel); err != nil {
		t.Fatal(err)
	}
	changedAt := time.Now()
	owner.Close()

	for _, o := range during {
		switch {
		case o.status == 200 && o.name != "open311 report" && o.name != "readyz":
			// Served without the database: fine, if it ever is.
		case o.status != 503:
			t.Errorf("%s while PostgreSQL was down: %s, want 503", o.name, o)
		case !strings.Contains(o.body, unavailableText) && o.name != "readyz":
			t.Errorf("%s while PostgreSQL was down does not say to try again: %.1500s", o.name, o.body)
		}
	}
	// Back without a restart of the host: readiness first, then every
	// probe, the plugins' Host API calls among them.
	var ready time.Duration
	for {
		if o := probes[3].do(); o.status == 200 {
			ready = time.Since(upAt)
			break
		}
		if time.Since(upAt) > chaosDeadline {
			t.Fatalf("not ready %s after PostgreSQL came back; log:\n%s", chaosDeadline, h.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	allWork("after PostgreSQL came back")
	heard := []time.Duration{h.awaitName("venezia", first, changedAt)}
	closeOnce(done)
	wg.Wait()
	var failed int
	for _, o := range seen {
		switch {
		case o.err != nil:
			t.Errorf("a request through the restart got no answer: %s", o)
		case o.status == 503:
			failed++
			if !strings.Contains(o.body, unavailableText) {
				t.Errorf("a 503 through the restart does not say to try again: %.1500s", o.body)
			}
		case o.status != 200:
			t.Errorf("a request through the restart: %s", o)
		}
	}

	// The listener hears changes as they come, and not only the one it
	// caught up on when it came back: the periodic reload (a minute apart)
	// could stand in for it once, not twice in a row.
	second := "Comune di Venezia (di nuovo)"
	t0 := time.Now()
	if out, stderr, code := c.run("tenant", "apply", "-f", h.renamedManifest("venezia", second)); code != 0 || !strings.Contains(out, "updated") {
		t.Fatalf("tenant apply: %d %s %s", code, out, stderr)
	}
	heard = append(heard, h.awaitName("venezia", second, t0))

	// Restarted while nobody is about, PostgreSQL ends every connection the
	// host keeps in its pool: the first requests after must not be the
	// ones to find out.
	if err := srv.Restart(ctx, nil); err != nil {
		t.Fatal(err)
	}
	allWork("right after a quiet restart")

	t.Logf("chaos: PostgreSQL restarted under load (down %s): %d requests through the restart, %d answered 503; ready %s after it came back; tenant changes heard in %v",
		upAt.Sub(downAt).Round(time.Millisecond), len(seen), failed, ready.Round(time.Millisecond), heard)
	fmt.Printf("chaos: PostgreSQL back -> host ready again: %s\n", ready.Round(time.Millisecond))
}

// awaitName waits for the portal of slug to show name, and returns how
// long after since it did.
func (h *chaosHost) awaitName(slug, name string, since time.Time) time.Duration {
	h.t.Helper()
	hc := chaosHTTP()
	for {
		o := chaosDo(hc, http.MethodGet, h.base+"/t/"+slug+"/", nil)
		if o.status == 200 && strings.Contains(o.body, name) {
			return time.Since(since).Round(time.Millisecond)
		}
		if time.Since(since) > chaosDeadline {
			h.t.Fatalf("the change of %s to %q not heard within %s: %s", slug, name, chaosDeadline, o)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newChaosCLI is the CLI on the database at ownerURL, its tenants the
// demo's.
func newChaosCLI(t *testing.T, ownerURL string) *cli {
	t.Helper()
	c := &cli{t: t, env: append(os.Environ(),
		"SPORTELLO_DATABASE_URL="+ownerURL,
		"SPORTELLO_APP_DB_PASSWORD="+pgtest.AppPassword,
		"SPORTELLO_DATA_DIR="+t.TempDir(),
	)}
	if out, stderr, code := c.run("tenant", "apply", "-f", "tenants"); code != 0 {
		t.Fatalf("apply: %d %s %s", code, out, stderr)
	}
	return c
}

// chaosHost is a `sportello serve --demo` that a test starts, kills and
// starts again, on addresses of its own.
type chaosHost struct {
	t      *testing.T
	c      *cli
	base   string
	env    []string
	log    *lockedBuffer
	cmd    *exec.Cmd
	exited chan error
}

func newChaosHost(t *testing.T, c *cli, plugins string) *chaosHost {
	addr := freeAddr(t)
	h := &chaosHost{t: t, c: c, base: "http://" + addr, log: &lockedBuffer{},
		env: append(slices.Clone(c.env), "SPORTELLO_ADDR="+addr, "SPORTELLO_DEV_IDP_ADDR="+freeAddr(t),
			"SPORTELLO_DEV_SMTP_ADDR=127.0.0.1:0", "SPORTELLO_DEV_MAIL_ADDR=127.0.0.1:0", "SPORTELLO_DEV_SMS_ADDR=127.0.0.1:0",
			"SPORTELLO_PLUGIN_DIR="+plugins, "SPORTELLO_LOG_FORMAT=json")}
	// Whatever the outcome, nothing started here outlives the test.
	t.Cleanup(func() {
		h.kill()
		for _, pid := range chaosProcessesIn(plugins) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return h
}

// start starts the host and returns once it is ready.
func (h *chaosHost) start() {
	h.t.Helper()
	cmd := exec.Command(bin, "serve", "--demo")
	cmd.Dir = "../.."
	cmd.Env = h.env
	cmd.Stdout, cmd.Stderr = h.log, h.log
	fmt.Fprintf(h.log, "--- serve starts\n")
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.cmd, h.exited = cmd, make(chan error, 1)
	go func() { h.exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := http.Get(h.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-h.exited:
			h.exited <- err
			h.t.Fatalf("serve exited: %v\n%s", err, h.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("serve not ready:\n%s", h.logTail())
		}
	}
}

// kill kills the host with SIGKILL, which it cannot catch, and reaps it.
func (h *chaosHost) kill() {
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
	<-h.exited
	h.cmd = nil
}

func (h *chaosHost) logTail() string {
	s := h.log.String()
	return s[max(0, len(s)-6000):]
}

// pluginPIDs are the processes of the running plugins, as `plugin list`
// shows them.
func (h *chaosHost) pluginPIDs() map[string]int {
	h.t.Helper()
	out, stderr, code := h.c.run("plugin", "list", "--json")
	var listed []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		PID    int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil {
		h.t.Fatalf("plugin list: %d %v %s %s", code, err, out, stderr)
	}
	pids := map[string]int{}
	for _, p := range listed {
		if p.Status == "running" {
			pids[p.ID] = p.PID
		}
	}
	return pids
}

var o311Key = regexp.MustCompile(`(?m)^o311_[A-Za-z0-9_-]{43}$`)

// open311Key issues a key for an app filing reports in Venice.
func (h *chaosHost) open311Key() string {
	h.t.Helper()
	out, stderr, code := h.c.run("open311", "api-key", "create", "--tenant", "venezia", "--label", "chaos")
	key := o311Key.FindString(out)
	if code != 0 || key == "" {
		h.t.Fatalf("open311 api-key create: %d %s %s", code, out, stderr)
	}
	return key
}

// serviceCode is a category of report Venice takes.
func (h *chaosHost) serviceCode() string {
	h.t.Helper()
	o := chaosDo(chaosHTTP(), http.MethodGet, h.base+"/t/venezia/open311/v2/services.json", nil)
	var list []struct {
		Code string `json:"service_code"`
	}
	if err := json.Unmarshal([]byte(o.body), &list); o.status != 200 || err != nil || len(list) == 0 {
		h.t.Fatalf("services.json: %v %s", err, o)
	}
	return list[0].Code
}

// renamedManifest is a copy of the demo manifest of slug under another
// name, as an operator would edit it.
func (h *chaosHost) renamedManifest(slug, name string) string {
	h.t.Helper()
	raw, err := os.ReadFile("../../tenants/" + slug + ".yaml")
	if err != nil {
		h.t.Fatal(err)
	}
	dir := h.t.TempDir()
	m := regexp.MustCompile(`(?m)^name: .*$`).ReplaceAllLiteralString(string(raw), "name: "+strconv.Quote(name))
	logo, _ := filepath.Glob("../../tenants/" + slug + ".svg")
	for _, f := range logo {
		b, _ := os.ReadFile(f)
		_ = os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	file := filepath.Join(dir, slug+".yaml")
	if err := os.WriteFile(file, []byte(m), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return file
}

// report files a helpdesk report in Venice through Open311; marker is in
// its description.
func (h *chaosHost) report(hc *http.Client, key, code, marker string) chaosOutcome {
	return chaosDo(hc, http.MethodPost, h.base+"/t/venezia/open311/v2/requests.json", url.Values{
		"api_key": {key}, "jurisdiction_id": {"venezia"}, "service_code": {code},
		"lat": {"45.4372"}, "long": {"12.3326"}, "address_string": {"Campo San Luca"},
		"description": {"Il lampione davanti al civico 12 è spento da una settimana (" + marker + ")."},
		"first_name":  {"Anna"}, "last_name": {"Verdi"}, "email": {"anna.verdi@example.org"},
	})
}

// rooms asks the room booking, as a visitor, for Venice's rooms.
func (h *chaosHost) rooms(hc *http.Client, token string) chaosOutcome {
	return chaosDo(hc, http.MethodPost, h.base+"/t/venezia/services/roombooking/rooms",
		url.Values{"_csrf": {token}, "room": {""}, "date": {""}})
}

// book books an appointment for an identity card at the registry office
// of Mestre, at start (RFC 3339), for a visitor with that e-mail.
func (h *chaosHost) book(hc *http.Client, token, start, email string) chaosOutcome {
	return chaosDo(hc, http.MethodPost, h.base+"/t/venezia/appointments", url.Values{
		"_csrf": {token}, "topic": {"carta-identita"}, "office": {"anagrafe-mestre"}, "start": {start},
		"name": {"Visitatore Caos"}, "email": {email},
	})
}

var csrfValue = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf is the token of the form on page, whose cookie hc keeps.
func (h *chaosHost) csrf(hc *http.Client, page string) string {
	h.t.Helper()
	o := chaosDo(hc, http.MethodGet, h.base+page, nil)
	m := csrfValue.FindStringSubmatch(o.body)
	if o.status != 200 || m == nil {
		h.t.Fatalf("no form on %s: %s", page, o)
	}
	return m[1]
}

var (
	dayLink        = regexp.MustCompile(`day=(\d{4}-\d{2}-\d{2})`)
	timeLink       = regexp.MustCompile(`time=(\d{2})%3A(\d{2})`)
	codeInLocation = regexp.MustCompile(`/appointments/([2-9A-HJ-NP-Z]{8})\?token=([A-Za-z0-9_-]+)&done=booked`)
	reportMarker   = regexp.MustCompile(`chaos-d-\d+-\d+`)
)

// appointmentSlots are free times (RFC 3339) for an identity card in
// Mestre on the first few days the pages offer.
func (h *chaosHost) appointmentSlots() []string {
	h.t.Helper()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		h.t.Fatal(err)
	}
	hc := chaosHTTP()
	page := h.base + "/t/venezia/appointments?topic=carta-identita&office=anagrafe-mestre"
	o := chaosDo(hc, http.MethodGet, page, nil)
	var days []string
	for _, m := range dayLink.FindAllStringSubmatch(o.body, -1) {
		if !slices.Contains(days, m[1]) {
			days = append(days, m[1])
		}
	}
	// From tomorrow on: a time later today may be past by the time the
	// load books it.
	today := time.Now().In(rome).Format(time.DateOnly)
	days = slices.DeleteFunc(days, func(d string) bool { return d <= today })
	var slots []string
	for _, day := range days[:min(len(days), 8)] {
		d, err := time.ParseInLocation(time.DateOnly, day, rome)
		if err != nil {
			h.t.Fatal(err)
		}
		o := chaosDo(hc, http.MethodGet, page+"&day="+day, nil)
		for _, m := range timeLink.FindAllStringSubmatch(o.body, -1) {
			hh, _ := strconv.Atoi(m[1])
			mm, _ := strconv.Atoi(m[2])
			s := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, rome).Format(time.RFC3339)
			if !slices.Contains(slots, s) {
				slots = append(slots, s)
			}
		}
	}
	if len(slots) < 20 {
		h.t.Fatalf("free times for the load: %v (days %v)", slots, days)
	}
	return slots
}

// chaosOutcome is what a client got for one request.
type chaosOutcome struct {
	name       string
	method     string
	url        string
	start, end time.Time
	status     int
	location   string
	body       string
	err        error
}

func (o chaosOutcome) String() string {
	if o.err != nil {
		return fmt.Sprintf("%s %s: %v after %s", o.method, o.url, o.err, o.end.Sub(o.start).Round(time.Millisecond))
	}
	body := o.body
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	return fmt.Sprintf("%s %s: %d after %s: %.800s", o.method, o.url, o.status, o.end.Sub(o.start).Round(time.Millisecond), body)
}

// requestID is the id of the report an Open311 POST filed, "" unless it
// filed one.
func (o chaosOutcome) requestID() string {
	var created []struct {
		ID string `json:"service_request_id"`
	}
	if o.status != 200 || json.Unmarshal([]byte(o.body), &created) != nil || len(created) != 1 {
		return ""
	}
	return created[0].ID
}

// chaosHTTP is one client: its own connections and cookies, redirects
// not followed, and a bound on every request far above any answer's.
func chaosHTTP() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: chaosDeadline, Transport: &http.Transport{MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func chaosDo(hc *http.Client, method, u string, form url.Values) chaosOutcome {
	o := chaosOutcome{method: method, url: u, start: time.Now()}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		o.err = err
		return o
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := hc.Do(req)
	if err != nil {
		o.err, o.end = err, time.Now()
		return o
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	o.end = time.Now()
	o.status, o.location, o.body, o.err = res.StatusCode, res.Header.Get("Location"), string(b), err
	return o
}

// chaosProcessesIn are the live processes running a binary of dir.
func chaosProcessesIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+string(filepath.Separator)) && running(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func stopped(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

var closeMu sync.Mutex

func closeOnce(c chan struct{}) {
	closeMu.Lock()
	defer closeMu.Unlock()
	if !stopped(c) {
		close(c)
	}
}
