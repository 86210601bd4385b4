package server_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/live"
	"github.com/sportello/sportello/core/privacy"
	"github.com/sportello/sportello/core/tenancy"
)

// The isolation matrix: every route of the assembled server, as its router
// lists it, is tried by another town's people on the objects of one town.
// The routes come from the router itself, so a route added tomorrow is
// tried without anybody writing a test for it; a parameter the matrix
// cannot fill fails the test and names itself.
//
// The town whose objects are aimed at is A (isoTown); the people trying
// are B's (isoOther): an administrator, so that no rule of B's hides a
// leak, and a citizen who is the same person as A's citizen (the same
// identity at the provider), each with a live session and a CSRF token
// valid for B, and B's administrator with the key of B's counter system
// besides. They try in two places:
//
//   - on B's own pages naming A's objects (/t/B/…/A's id): the answer must
//     be 404 or 403. A route whose credential is not the session (the
//     counter API) may answer 401 to whoever lacks its key.
//   - with their cookies on A's pages (/t/A/…): B's session is nobody in A,
//     so they must get exactly what an anonymous visitor gets (same status,
//     same redirect). Where the route names a private object that answer
//     must be a refusal (401, 403, 404, or the way to A's login page, which
//     is what A rightly says to a stranger asking for a page behind its
//     login), or, for a read, the very bytes the anonymous visitor got:
//     what A publishes to anybody (Open311's reports) is no leak.
//
// Both are tried in the /t/{town} form and in the host form (the same
// routes registered on the bare app, the town named by the Host header),
// since each resolves the town its own way. Routes outside any town (the
// platform console, health) are tried with B's credentials and must answer
// as to an anonymous visitor. Afterwards every row of A's, in every table
// with a tenant, must be as it was: a refusal that still acted is caught.

// isoTown is the town whose objects are aimed at (where withLive opens the
// live desk); isoOther the town whose people try.
const (
	isoTown  = liveTown
	isoOther = "venezia"
)

// isoParams says what a route parameter stands for, by how the route's
// path ends at the parameter; the longest ending that matches wins. A
// value in braces is one of A's private objects, made by isoObjects;
// anything else is a name of the catalogue or of the code, the same in
// every town (a service, an action), which names nothing of A's. A route
// is aimed at A's objects when one of its parameters is in braces.
var isoParams = []struct{ suffix, value string }{
	{"/requests/:id", "{dossier}"},
	{"/attachments/:file", "{attachment}"},
	{"/backoffice/requests/:id/actions/:action", "take"},
	{"/requests/:id/actions/:action", "answer"},
	{"/requests/:id/:step", "take"},
	{"/payments/:id", "{payment}"},
	{"/appointments/:code", "{appointment}"},
	{"/queue/:office", "controllo-abitanti"}, // B has an office of that name too: isoTwinOffice
	{"/:office/:code", "{appointment}"},
	{"/live/:entry", "{entry}"},
	{"/citizens/:id", "{citizen}"},
	{"/policies/:id", "{policy}"},
	{"/privacy/requests/:id", "{erasure}"},
	{"/open311/v2/requests/:id", "{number}.json"},
	{"/open311/v2/services/:code", "roads.json"},
	{"/open311/v2/:resource", "requests.json"},
	{"/services/:service", "helpdesk"},
	{"/services/:service/:action", "report"},
	{"/analytics/:figure", "by-service"},
	{"/opendata/:file", "requests.csv"},
	{"/platform/requests/:tenant", "{tenant}"},
	{"/platform/requests/:tenant/:request", "{service-request}"},
	{"/:request/:verdict", "approve"},
	{"/plugins/:plugin", "helpdesk"},
}

var isoParamRe = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// isoFill puts values into the parameters of path (a route's path without
// its /t/:tenant). private: a parameter names one of A's objects; missing:
// the parameters isoParams does not know, or whose object fx lacks.
func isoFill(path string, fx map[string]string) (filled string, private bool, missing []string) {
	filled = isoParamRe.ReplaceAllStringFunc(path, func(p string) string {
		end := path[:strings.Index(path, p)+len(p)]
		best := ""
		value := ""
		for _, ip := range isoParams {
			if strings.HasSuffix(end, ip.suffix) && len(ip.suffix) > len(best) {
				best, value = ip.suffix, ip.value
			}
		}
		if best == "" {
			missing = append(missing, p)
			return p
		}
		if i := strings.Index(value, "{"); i >= 0 {
			j := strings.Index(value, "}")
			obj, ok := fx[value[i:j+1]]
			if !ok {
				missing = append(missing, p+" ("+value[i:j+1]+")")
				return p
			}
			private = true
			value = value[:i] + obj + value[j+1:]
		}
		return value
	})
	return filled, private, missing
}

// isoActor is who makes a request: their session (of their own town), the
// CSRF token every form of theirs posts, and a counter system's key.
type isoActor struct {
	name          string
	session, csrf string
	key           string
}

// isoPlace is where a request goes: a path, and the Host it names ("" for
// the site's own address).
type isoPlace struct {
	path, host string
	base       string // the town's prefix in redirects: "/t/{slug}", "" by host
}

type isoMatrix struct {
	s       *site
	client  *http.Client
	version string // the version of A's dossier, which the dossier's forms post
}

// do makes the request as actor a; a change (anything but a read) posts
// their CSRF token and, when filled, the fields the dossier's forms post,
// with the values of A's dossier: then nothing but the town stops the
// request. A WebSocket's route is asked as a browser opens one.
func (m *isoMatrix) do(t *testing.T, method string, at isoPlace, a isoActor, filled bool) response {
	t.Helper()
	var body io.Reader
	change := method != http.MethodGet && method != http.MethodHead
	if change {
		form := url.Values{"_csrf": {a.csrf}}
		if filled {
			form.Set("version", m.version)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, m.s.url+at.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if at.host != "" {
		req.Host = at.host
	}
	if change {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	var cookies []string
	if a.csrf != "" {
		cookies = append(cookies, "sportello_csrf="+a.csrf)
	}
	if a.session != "" {
		cookies = append(cookies, "sportello_session="+a.session)
	}
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	if strings.HasSuffix(at.path, "/ws") {
		var nonce [16]byte
		_, _ = rand.Read(nonce[:])
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(nonce[:]))
	}
	res, err := m.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, at.path, a.name, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusSwitchingProtocols {
		return response{status: res.StatusCode, header: res.Header} // the socket is closed unused
	}
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(data), header: res.Header}
}

// locationPath is where a redirect goes, without its query (which may
// carry a fresh state, as the way to the identity provider does).
func locationPath(r response) string {
	loc := r.header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if u.Host != "" {
		return u.Scheme + "://" + u.Host + u.Path
	}
	return u.Path
}

// refused: the answer says nothing of the object and did nothing with it.
// A redirect to the login page is what a town says to a stranger asking
// for a page behind its login, whatever the page names.
func refused(r response) bool {
	switch {
	case r.status == 401, r.status == 403, r.status == 404:
		return true
	case r.status >= 300 && r.status < 400:
		return strings.HasSuffix(locationPath(r), "/login")
	}
	return false
}

var titleRe = regexp.MustCompile(`<title>([^<]*)</title>`)

func briefly(r response) string {
	body := r.body
	if m := titleRe.FindStringSubmatch(body); m != nil {
		body = m[1]
	} else if !utf8.ValidString(body) || strings.ContainsRune(body, 0) {
		body = fmt.Sprintf("(%d bytes)", len(body))
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s %.200s", r.status, r.header.Get("Location"), body))
}

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// ownTown checks actor a naming A's objects on their own town's pages,
// and returns the status they got.
func (m *isoMatrix) ownTown(t *testing.T, method string, at isoPlace, a isoActor, filled bool) int {
	t.Helper()
	r := m.do(t, method, at, a, filled)
	// A read that only sends the asker on within their own town (staff
	// opening a citizen's appointment link go to the back office's page)
	// is judged by where it leads: that is the page that would show it.
	if loc := locationPath(r); isRead(method) && r.status >= 300 && r.status < 400 && strings.HasPrefix(loc, at.base+"/") &&
		!strings.HasSuffix(loc, "/login") {
		next := at
		next.path = loc
		r = m.do(t, method, next, a, filled)
	}
	switch {
	case r.status == 404, r.status == 403:
	case r.status == 401 && a.key == "" && r.header.Get("WWW-Authenticate") != "":
		// The route takes a key, not the session, and this actor has none.
	default:
		form := ""
		if !isRead(method) && !filled {
			form = " with only the CSRF token"
		}
		t.Errorf("%s on their own town, %s %s%s: %s; want 404 or 403", a.name, method, at.path, form, briefly(r))
	}
	return r.status
}

// otherTown checks that actor a's credentials on A's pages get them no
// more than anon got there.
func (m *isoMatrix) otherTown(t *testing.T, method string, at isoPlace, a isoActor, anon response, private bool) {
	t.Helper()
	r := m.do(t, method, at, a, true)
	if r.status != anon.status || locationPath(r) != locationPath(anon) {
		t.Errorf("%s with their cookies on A's %s %s%s: %s; an anonymous visitor gets %s", a.name, method, at.host, at.path,
			briefly(r), briefly(anon))
		return
	}
	if private && !refused(r) && (!isRead(method) || r.status >= 300 || r.body != anon.body) {
		t.Errorf("%s with their cookies on A's %s %s%s: %s; want a refusal", a.name, method, at.host, at.path, briefly(r))
	}
}

// isoTwinOffice gives B an office named as one of A's, as towns' offices
// often are ("anagrafe"), taking appointments: a key of B's counter system
// for it then gets past the office check of the counter API, and only the
// town can stop it reaching A's appointments.
func isoTwinOffice(t *testing.T, s *site) {
	t.Helper()
	ctx := context.Background()
	data, err := os.ReadFile("../../tenants/" + isoOther + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for old, add := range map[string]string{
		"  - slug: anagrafe-mestre\n": "  - slug: controllo-abitanti\n    name: {it: Controllo abitanti}\n    hours:\n" +
			"      - {days: [mon, tue, wed, thu, fri], open: \"08:00\", close: \"17:00\"}\n",
		"    - office: urp\n": "    - office: controllo-abitanti\n      topics: [informazioni]\n",
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("%s.yaml lacks %q", isoOther, old)
		}
		text = strings.Replace(text, old, add+old, 1)
	}
	mf, err := tenancy.ParseManifest(isoOther+".yaml", []byte(text), "../../tenants")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tenancy.Apply(ctx, s.db.App, authn.Argon2{}, mf); err != nil {
		t.Fatal(err)
	}
	if err := appointment.Apply(ctx, s.db.App, booking.New(s.db.App, nil), mf); err != nil {
		t.Fatal(err)
	}
}

// isoHelpdesk adds the helpdesk (A's dossiers, their files, Open311) to
// the plugins withLive runs: its supervisor runs every plugin of the
// catalogue from the consultation's folder. Both are built at once.
func isoHelpdesk(t *testing.T, s *site) {
	t.Helper()
	type built struct {
		dir string
		err error
	}
	consultation := make(chan built, 1)
	go func() {
		dir, err := buildConsultation()
		consultation <- built{dir, err}
	}()
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "helpdesk")
	out, err := exec.Command(goBin, "build", "-o", bin, "../../plugins/helpdesk").CombinedOutput()
	c := <-consultation
	if err != nil {
		t.Fatalf("build the helpdesk plugin: %v\n%s", err, out)
	}
	if c.err != nil {
		t.Fatalf("build the consultation plugin: %v", c.err)
	}
	if err := os.Rename(bin, filepath.Join(c.dir, "helpdesk")); err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.New(s.db.App).Register(context.Background(), c.dir, "helpdesk"); err != nil {
		t.Fatal(err)
	}
}

// isoObjects makes in A one object of every kind a route parameter names,
// the way the town's people make them where that is quick, and returns
// them by isoParams' names with the dossier's version.
func isoObjects(t *testing.T, s *site) (map[string]string, string) {
	t.Helper()
	ctx := context.Background()
	tid := mustTenant(t, s, isoTown).ID
	fx := map[string]string{"{tenant}": strconv.FormatInt(tid, 10)}
	itoa := func(id int64) string { return strconv.FormatInt(id, 10) }

	mario := s.citizen(isoTown, "mario.rossi")
	marioID := accountOf(t, s, isoTown, "RSSMRA80A01H501U")
	fx["{citizen}"] = itoa(marioID)

	svc := s.url + "/t/" + isoTown + "/services/helpdesk"
	number := hdConfirmation(t, mario.multipart(svc, svc+"/report", hdReport(), fileUpload{"photo_1", "buca.png", hdPNG(t, 32, 24, false)}))
	d, err := s.srv.Dossiers.GetByNumber(ctx, tid, number)
	if err != nil {
		t.Fatal(err)
	}
	files, err := s.srv.Dossiers.Attachments(ctx, tid, d.ID, true)
	if err != nil || len(files) != 1 {
		t.Fatalf("the report's files: %v %v", files, err)
	}
	fx["{dossier}"], fx["{attachment}"], fx["{number}"] = itoa(d.ID), itoa(files[0].ID), number

	fx["{entry}"] = entryOf(joinLive(t, s.url, mario, "chat"))

	pay, _ := newPayment(t, s, tid, marioID, "sala-civica")
	fx["{payment}"] = itoa(pay)

	_, office := officeOf(t, s, isoTown, "controllo-abitanti")
	from := time.Now().AddDate(0, 0, 3)
	days, err := s.srv.Appointments.Days(ctx, tid, office, from, from.AddDate(0, 0, 40))
	if err != nil || len(days) == 0 {
		t.Fatalf("free days: %v %v", days, err)
	}
	slots, err := s.srv.Appointments.Slots(ctx, tid, office, days[0])
	if err != nil || len(slots) == 0 {
		t.Fatalf("free times: %v %v", slots, err)
	}
	ap, err := s.srv.Appointments.Book(ctx, tid, appointment.Request{Topic: "carta-identita", Office: office.Slug, Start: slots[0].Start,
		Citizen: marioID, Contact: booking.Contact{Name: "Mario Rossi", Email: "mario.rossi@example.com"}},
		appointment.Notice{Lang: "it", Town: "Città di Lugano", Host: isoTown + ".sportello.test", BaseURL: s.url + "/t/" + isoTown})
	if err != nil {
		t.Fatal(err)
	}
	fx["{appointment}"] = ap.Code

	if err := s.srv.Authz.AddPolicy(ctx, tid, "operator", "admin/reports", "read"); err != nil {
		t.Fatal(err)
	}
	rules, err := s.srv.Authz.Policies(ctx, tid)
	if err != nil || len(rules) != 1 {
		t.Fatalf("A's rules: %v %v", rules, err)
	}
	fx["{policy}"] = itoa(rules[0].ID)

	er, err := privacy.New(s.db.App).RequestErasure(ctx, tid, marioID)
	if err != nil {
		t.Fatal(err)
	}
	fx["{erasure}"] = itoa(er.ID)

	// A request for a service the catalogue of this site has not got, as
	// the platform console lists it.
	var request int64
	if err := s.db.App.InTenant(ctx, tid, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO service_requests (tenant_id, service_id, message, requested_by)
			VALUES (?, 'cemetery', 'Vorremmo il servizio cimiteriale.', ?) RETURNING id`,
			tid, userID(t, s, isoTown, "admin@lugano.example")).Scan(&request)
	}); err != nil {
		t.Fatal(err)
	}
	fx["{service-request}"] = itoa(request)
	return fx, itoa(d.Version)
}

// isoSignedIn takes the session and the CSRF token of b, signed in in
// town.
func isoSignedIn(t *testing.T, s *site, b *browser, town, name string) isoActor {
	t.Helper()
	a := isoActor{name: name}
	r := b.get(s.url + "/t/" + town + "/profile")
	m := csrfField.FindStringSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("%s's profile: %d", name, r.status)
	}
	a.csrf = m[1]
	for _, c := range b.c.Jar.Cookies(mustURL(s.url + "/t/" + town + "/")) {
		if c.Name == "sportello_session" {
			a.session = c.Value
		}
	}
	if a.session == "" {
		t.Fatalf("%s has no session", name)
	}
	return a
}

// isoSnapshot is every row of the tenant's in every table that has a
// tenant, a count and a digest per table.
func isoSnapshot(t *testing.T, s *site, tenantID int64) map[string]string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	if err := s.db.Owner.NewRaw(`SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables with a tenant: %v", len(tables), tables)
	}
	out := map[string]string{}
	for _, table := range tables {
		var n int
		var sum string
		if err := s.db.Owner.NewRaw(`SELECT count(*), coalesce(md5(string_agg(r::text, E'\n' ORDER BY r::text)), '')
			FROM ? r WHERE tenant_id = ?`, bun.Ident(table), tenantID).Scan(ctx, &n, &sum); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		out[table] = fmt.Sprintf("%d rows %s", n, sum)
	}
	return out
}

func TestIsolationMatrix(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	isoTwinOffice(t, s)
	isoHelpdesk(t, s)
	withLive(t, s, live.Config{})
	townA, townB := mustTenant(t, s, isoTown), mustTenant(t, s, isoOther)
	fx, version := isoObjects(t, s)

	staff := isoSignedIn(t, s, s.staff(isoOther, "admin@venezia.example", "demo-venezia"), isoOther, "B's administrator")
	key, _, err := s.srv.Appointments.IssueKey(ctx, townB.ID, "controllo-abitanti", "isolation")
	if err != nil {
		t.Fatal(err)
	}
	staff.key = key
	citizen := isoSignedIn(t, s, s.citizen(isoOther, "mario.rossi"), isoOther, "B's citizen")
	actors := []isoActor{staff, citizen}
	anonPage := s.browser().get(s.url + "/t/" + isoOther + "/login")
	anon := isoActor{name: "an anonymous visitor", csrf: csrfField.FindStringSubmatch(anonPage.body)[1]}
	m := &isoMatrix{s: s, version: version, client: &http.Client{Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	// The routes as the router has them. A route of the bare app whose
	// twin is under /t/:tenant is that route's host form.
	type route struct{ method, path string }
	all := s.srv.App().GetRoutes(true)
	prefixed := map[route]bool{}
	for _, rt := range all {
		if rest, ok := strings.CutPrefix(rt.Path, "/t/:tenant"); ok {
			prefixed[route{rt.Method, cmp.Or(rest, "/")}] = true
		}
	}
	type trial struct {
		route
		own, theirs isoPlace // own: "" for a route outside any town
		private     bool
	}
	var trials []trial
	var readable []string // pages of A's objects, for A's people to read at the end
	seen := map[route]bool{}
	for _, rt := range all {
		r := route{rt.Method, rt.Path}
		if seen[r] {
			continue
		}
		seen[r] = true
		if strings.ContainsAny(rt.Path, "*+?") {
			t.Errorf("%s %s: a wildcard or optional parameter; teach isoFill to fill it", rt.Method, rt.Path)
			continue
		}
		rest, byPath := strings.CutPrefix(rt.Path, "/t/:tenant")
		rest = cmp.Or(rest, "/")
		filled, private, missing := isoFill(rest, fx)
		if len(missing) > 0 {
			t.Errorf("%s %s: the matrix cannot fill %s; say in isoParams what it names (and make one in isoObjects)",
				rt.Method, rt.Path, strings.Join(missing, ", "))
			continue
		}
		tr := trial{route: r, private: private}
		switch {
		case byPath:
			tr.own = isoPlace{path: "/t/" + isoOther + filled, base: "/t/" + isoOther}
			tr.theirs = isoPlace{path: "/t/" + isoTown + filled, base: "/t/" + isoTown}
		case prefixed[r]:
			tr.own = isoPlace{path: filled, host: isoOther + ".sportello.test"}
			tr.theirs = isoPlace{path: filled, host: isoTown + ".sportello.test"}
		default: // outside any town: the platform console, health, metrics
			tr.theirs = isoPlace{path: filled}
		}
		trials = append(trials, tr)
		if private && byPath && rt.Method == http.MethodGet {
			readable = append(readable, tr.theirs.path)
		}
	}

	before := isoSnapshot(t, s, townA.ID)
	aimed := 0
	t.Run("matrix", func(t *testing.T) {
		for _, tr := range trials {
			if tr.private {
				aimed++
			}
			t.Run(tr.method+" "+tr.path, func(t *testing.T) {
				t.Parallel()
				if tr.private && tr.own.path != "" {
					// One of B's people must get past the route's own
					// checks to the town's: a 404 from looking the object
					// up in B, not only refusals for the role.
					found := false
					for _, a := range actors {
						found = m.ownTown(t, tr.method, tr.own, a, true) == 404 || found
						if !isRead(tr.method) {
							found = m.ownTown(t, tr.method, tr.own, a, false) == 404 || found
						}
					}
					if !found && !t.Failed() {
						t.Errorf("%s %s: none of B's people got past the route's checks to a 404; give the matrix an actor who does",
							tr.method, tr.own.path)
					}
				}
				got := m.do(t, tr.method, tr.theirs, anon, true)
				for _, a := range actors {
					m.otherTown(t, tr.method, tr.theirs, a, got, tr.private)
				}
			})
		}
	})
	t.Logf("%d routes and methods tried, %d of them aimed at A's objects", len(trials), aimed)

	after := isoSnapshot(t, s, townA.ID)
	for table, was := range before {
		if after[table] != was {
			t.Errorf("A's %s changed during the matrix: %s, then %s", table, was, after[table])
		}
	}

	// The refusals meant something: B's people stayed signed in, and A's
	// objects are there for A's own people to read.
	for _, a := range actors {
		if r := m.do(t, http.MethodGet, isoPlace{path: "/t/" + isoOther + "/profile"}, a, true); r.status != 200 {
			t.Errorf("%s is no longer signed in after the matrix: %s", a.name, briefly(r))
		}
	}
	ownA := []isoActor{
		isoSignedIn(t, s, s.staff(isoTown, "admin@lugano.example", "demo-lugano"), isoTown, "A's administrator"),
		isoSignedIn(t, s, s.citizen(isoTown, "mario.rossi"), isoTown, "A's citizen"),
	}
	for _, path := range readable {
		var got []string
		ok := false
		for _, a := range ownA {
			at := isoPlace{path: path, base: "/t/" + isoTown}
			r := m.do(t, http.MethodGet, at, a, true)
			if loc := locationPath(r); r.status == http.StatusSeeOther && strings.HasPrefix(loc, at.base+"/") && !strings.HasSuffix(loc, "/login") {
				// A page that sends its own people on (a payment not yet
				// begun, to its page) shows the object there.
				at.path = loc
				r = m.do(t, http.MethodGet, at, a, true)
			}
			ok = ok || r.status == 200 || r.status == http.StatusSwitchingProtocols
			got = append(got, a.name+": "+strconv.Itoa(r.status))
		}
		if !ok {
			t.Errorf("GET %s: none of A's people reads it (%s); the matrix aimed at nothing", path, strings.Join(got, ", "))
		}
	}
}
