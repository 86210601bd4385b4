package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
)

// liveSamples adds the online counter's pages: the citizen waiting, in a
// call, after it and after leaving; the operator's console available and
// away.
func liveSamples(pages map[string]*Page, tp func(name, title string, u *User, data any) *Page, staff, citizen *User) {
	for label, p := range liveCallSamples() {
		pages[label] = tp("live_call", "Sportello online", citizen, p)
	}
	for label, c := range liveConsoleSamples() {
		pages[label] = tp("live_console", "Sportello online", staff, c)
	}
}

func liveCallSamples() map[string]*LiveCall {
	at := time.Date(2026, time.December, 2, 10, 0, 0, 0, time.UTC)
	base := LiveCall{Entry: 12, ServiceName: "Sportello online", DeskName: "Ufficio relazioni con il pubblico", Mode: "video",
		Topic: "Rinnovo della carta d'identità", DossierNumber: "2026/000123", Status: "waiting", Position: 3,
		WSURL: "/t/lugano/live/12/ws", FilesURL: "/t/lugano/live/12/files",
		ICEServers: `[{"urls":["stun:stun.lugano.example:3478"]}]`,
		LeaveURL:   "/t/lugano/live/12/leave", BackURL: "/t/lugano/requests"}
	transcript := []LiveMessage{
		{From: "operator", Name: "Giulia Neri", Text: "Buongiorno, come posso aiutarla?", At: at},
		{From: "citizen", Name: "Anna Rossi", Text: "Devo rinnovare la carta <d'identità>.", At: at.Add(time.Minute)},
	}
	next := base
	next.Position, next.Mode = 1, "voice"
	call := base
	call.Status, call.Position, call.Mode, call.Transcript = "in_call", 0, "voice", transcript
	chat := base
	chat.Status, chat.Position, chat.Mode = "in_call", 0, "chat"
	ended := base
	ended.Status, ended.Position, ended.Transcript = "ended", 0, transcript
	left := base
	left.Status, left.Position, left.DossierNumber = "left", 0, ""
	return map[string]*LiveCall{
		"live_call":       &base,
		"live_call-next":  &next,
		"live_call-voice": &call,
		"live_call-chat":  &chat,
		"live_call-ended": &ended,
		"live_call-left":  &left,
		"live_call-noice": {Entry: 13, ServiceName: "Sportello online", Mode: "chat", Status: "waiting", WSURL: "/live/13/ws", FilesURL: "/live/13/files", ICEServers: "[]", LeaveURL: "/live/13/leave", BackURL: "/requests"},
	}
}

func liveConsoleSamples() map[string]*LiveConsole {
	c := LiveConsole{WSURL: "/t/lugano/backoffice/live/ws", ICEServers: "[]", Status: "available",
		Desks:      []LiveDesk{{ID: "urp", Name: "URP", Open: true}, {ID: "anagrafe", Name: "Anagrafe", Open: false}},
		PaymentURL: "/t/lugano/backoffice/live/{entry}/payment", FilesURL: "/t/lugano/backoffice/live/{entry}/files",
		IntakeURL: "/t/lugano/backoffice/new?live={entry}"}
	away := c
	away.Status, away.Desks = "away", nil
	return map[string]*LiveConsole{"live_console": &c, "live_console-away": &away}
}

// liveIDs are the ids static/js/live.js and the browser tests rely on.
var (
	liveCallIDs = []string{"live-root", "live-notice", "live-waiting", "live-position", "live-eta", "live-operators",
		"live-leave-form", "live-leave", "live-call", "live-remote", "live-local", "live-to-voice", "live-to-chat",
		"live-share", "live-mute", "live-end", "live-chat-log", "live-chat-form", "live-chat-text", "live-file",
		"live-upload-form", "live-upload", "live-files", "live-links", "live-ended", "live-ended-text", "live-modes", "live-mode-label"}
	liveConsoleIDs = []string{"live-root", "live-notice", "live-status-available", "live-status-away", "live-status-current",
		"live-desks", "live-queue", "live-queue-body", "live-take-next", "live-colleagues", "live-call", "live-remote",
		"live-local", "live-chat-form", "live-chat-text", "live-chat-log", "live-file", "live-files", "live-end",
		"live-citizen", "live-topic", "live-dossier", "live-intake", "live-payment-form", "live-payment-amount",
		"live-payment-reason", "live-transfer-form", "live-transfer-to", "live-ended", "live-modes", "live-mode-label"}
)

// TestRenderLivePages draws the online counter's pages in every language
// and checks what the script and the browser tests need: the ids, the
// data- attributes, the texts in the page's language, no inline script.
func TestRenderLivePages(t *testing.T) {
	r := newTestRenderer(t)
	langs := r.Catalog().Languages()
	citizen := &User{Name: "Anna Rossi", Kind: "citizen"}
	staff := &User{Name: "Giulia Neri", Kind: "staff", Roles: []string{"operator"}}
	town := &Tenant{Slug: "lugano", Name: "Città di Lugano", PrimaryColor: "#a3151b"}
	page := func(name, lang string, u *User, data any) *Page {
		return &Page{Name: name, Lang: lang, Tenant: town, Base: "/t/lugano", CSRF: "csrf-token-123", User: u, Title: "Sportello online", Data: data}
	}
	for _, lang := range langs {
		for label, d := range liveCallSamples() {
			t.Run(lang+"/"+label, func(t *testing.T) {
				out := render(t, r, page("live_call", lang, citizen, d))
				checkHTML(t, out, lang)
				checkLiveCommon(t, r, out, lang)
				for _, id := range liveCallIDs {
					if !strings.Contains(out, `id="`+id+`"`) {
						t.Errorf("no element #%s", id)
					}
				}
				for _, w := range []string{
					`data-live="call"`, `data-ws="` + d.WSURL + `"`, `data-files="` + d.FilesURL + `"`,
					`data-mode="` + d.Mode + `"`, `data-status="` + d.Status + `"`,
					`action="` + d.LeaveURL + `"`, `name="_csrf" value="csrf-token-123"`,
					`aria-live="polite"`, `role="status"`, `href="` + d.BackURL + `"`,
					`<video id="live-remote" class="sp-live-remote" autoplay playsinline`,
					`<video id="live-local" class="sp-live-local" autoplay playsinline muted`,
					`name="file"`,
				} {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q", w)
					}
				}
				if strings.Contains(d.ICEServers, "stun:") && !strings.Contains(out, `data-ice="[{&#34;urls&#34;:[&#34;stun:stun.lugano.example:3478&#34;]}]"`) {
					t.Errorf("ICE servers not kept as JSON in data-ice")
				}
				checkLiveCallState(t, r, out, lang, d)
			})
		}
		for label, d := range liveConsoleSamples() {
			t.Run(lang+"/"+label, func(t *testing.T) {
				out := render(t, r, page("live_console", lang, staff, d))
				checkHTML(t, out, lang)
				checkLiveCommon(t, r, out, lang)
				for _, id := range liveConsoleIDs {
					if !strings.Contains(out, `id="`+id+`"`) {
						t.Errorf("no element #%s", id)
					}
				}
				for _, w := range []string{
					`data-live="console"`, `data-ws="/t/lugano/backoffice/live/ws"`, `data-ice="[]"`,
					// The patterns keep {entry} as it is: the script replaces it.
					`data-payment="/t/lugano/backoffice/live/{entry}/payment"`, `data-files="/t/lugano/backoffice/live/{entry}/files"`,
					`data-intake="/t/lugano/backoffice/new?live={entry}"`, `data-status="` + d.Status + `"`,
					`name="_csrf" value="csrf-token-123"`, `target="_blank" rel="noopener"`,
					`<button type="button" id="live-take-next" class="btn btn-primary" disabled>`,
				} {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q", w)
					}
				}
				available := d.Status == "available"
				pressed := map[bool]string{true: "true", false: "false"}
				for _, w := range []string{
					`id="live-status-available" class="btn btn-sm ` + map[bool]string{true: "btn-primary", false: "btn-outline-primary"}[available] + `" aria-pressed="` + pressed[available] + `"`,
					`id="live-status-away" class="btn btn-sm ` + map[bool]string{true: "btn-outline-primary", false: "btn-primary"}[available] + `" aria-pressed="` + pressed[!available] + `"`,
				} {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q", w)
					}
				}
				for _, desk := range d.Desks {
					for _, w := range []string{`data-desk="` + desk.ID + `"`, `<option value="desk:` + desk.ID + `">` + desk.Name + `</option>`} {
						if !strings.Contains(out, w) {
							t.Errorf("output lacks %q", w)
						}
					}
				}
				if len(d.Desks) == 0 && !strings.Contains(out, `id="live-desks-none"`) {
					t.Errorf("no desks, and no word about it")
				}
			})
		}
	}
}

// checkLiveCommon checks what both pages share: the script and stylesheet
// from /static, no message id instead of its text, the page's language.
func checkLiveCommon(t *testing.T, r *Renderer, out, lang string) {
	t.Helper()
	for _, w := range []string{`<script src="/static/js/live.js?v=`, `<link rel="stylesheet" href="/static/css/live.css?v=`, `data-live-texts`} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if m := regexp.MustCompile(`[">]live\.[a-z_.]+[<"]`).FindString(out); m != "" {
		t.Errorf("output shows the message id %s instead of its text", m)
	}
	if want := r.Catalog().T(lang, "live.end", nil); !strings.Contains(out, ">"+want+"<") {
		t.Errorf("output lacks the %s text %q", lang, want)
	}
	// Every text slot the script reads is filled in.
	for _, m := range regexp.MustCompile(`data-[a-z-]+=""`).FindAllString(out, -1) {
		if !strings.HasPrefix(m, "data-position") {
			t.Errorf("empty attribute %s", m)
		}
	}
}

// checkLiveCallState checks the citizen's page as drawn for each status:
// what is shown before the script runs, or without it.
func checkLiveCallState(t *testing.T, r *Renderer, out, lang string, d *LiveCall) {
	t.Helper()
	hidden := func(id string) bool {
		m := regexp.MustCompile(`<[a-z]+ [^>]*id="` + id + `"[^>]*>`).FindString(out)
		if m == "" {
			t.Fatalf("no #%s", id)
		}
		return strings.Contains(m, " hidden")
	}
	shown := map[string]bool{"live-waiting": !hidden("live-waiting"), "live-call": !hidden("live-call"), "live-ended": !hidden("live-ended")}
	want := map[string]map[string]bool{
		"waiting": {"live-waiting": true},
		"in_call": {"live-call": true},
		"ended":   {"live-ended": true},
		"left":    {"live-ended": true},
	}[d.Status]
	for id, on := range shown {
		if on != want[id] {
			t.Errorf("status %s: #%s shown = %v", d.Status, id, on)
		}
	}
	cat := r.Catalog()
	switch {
	case d.Status == "waiting" && d.Position == 1:
		if !strings.Contains(out, `data-position="1">`+cat.T(lang, "live.position.next", nil)+`</p>`) {
			t.Errorf("position 1 is not shown as next")
		}
	case d.Status == "waiting" && d.Position > 1:
		if !strings.Contains(out, `data-position="3">`+cat.T(lang, "live.position.many", map[string]any{"N": 3})+`</p>`) {
			t.Errorf("position 3 is not shown")
		}
	case d.Status == "left":
		if !strings.Contains(out, `<p id="live-ended-text">`+cat.T(lang, "live.ended.left", nil)+`</p>`) {
			t.Errorf("leaving is not explained")
		}
	}
	// Only the switches below the mode are visible; sharing is for video.
	for id, visible := range map[string]bool{
		"live-to-voice": d.Mode == "video",
		"live-to-chat":  d.Mode != "chat",
		"live-share":    d.Mode == "video",
		"live-mute":     d.Mode != "chat",
	} {
		if hidden(id) == visible {
			t.Errorf("mode %s: #%s visible = %v, want %v", d.Mode, id, !hidden(id), visible)
		}
	}
	for _, m := range d.Transcript {
		if !strings.Contains(out, "<time datetime=\""+m.At.Format(time.RFC3339)+"\">") {
			t.Errorf("transcript line at %s missing", m.At)
		}
	}
	if len(d.Transcript) > 0 && !strings.Contains(out, "Devo rinnovare la carta &lt;d&#39;identità&gt;.") {
		t.Errorf("a chat line is not escaped as text")
	}
}

// TestLiveScriptFindsItsPieces reads static/js/live.js and checks that
// every element id it looks up and every text it shows is on one of the two
// pages, so a renamed id or a forgotten text fails here and not in a
// browser.
func TestLiveScriptFindsItsPieces(t *testing.T) {
	src, err := fs.ReadFile(StaticFS(), "js/live.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(src)
	if !strings.Contains(js, "'use strict'") {
		t.Errorf("live.js is not strict")
	}
	r := newTestRenderer(t)
	var all strings.Builder
	for _, lang := range r.Catalog().Languages() {
		for _, d := range liveCallSamples() {
			all.WriteString(render(t, r, &Page{Name: "live_call", Lang: lang, CSRF: "x", Data: d}))
		}
		for _, d := range liveConsoleSamples() {
			all.WriteString(render(t, r, &Page{Name: "live_console", Lang: lang, CSRF: "x", Data: d}))
		}
	}
	pages := all.String()
	ids := regexp.MustCompile(`\$\('([a-z-]+)'\)`).FindAllStringSubmatch(js, -1)
	if len(ids) < 40 {
		t.Fatalf("found only %d ids in live.js: is the pattern stale?", len(ids))
	}
	for _, m := range ids {
		if !strings.Contains(pages, `id="`+m[1]+`"`) {
			t.Errorf("live.js looks up #%s, which no page has", m[1])
		}
	}
	keys := regexp.MustCompile(`\bT\('([a-zA-Z]+)'`).FindAllStringSubmatch(js, -1)
	if len(keys) < 30 {
		t.Fatalf("found only %d texts in live.js: is the pattern stale?", len(keys))
	}
	kebab := regexp.MustCompile(`[A-Z]`)
	for _, m := range keys {
		attr := "data-" + kebab.ReplaceAllStringFunc(m[1], func(s string) string { return "-" + strings.ToLower(s) }) + `="`
		if !strings.Contains(pages, attr) {
			t.Errorf("live.js shows text %q, which no page gives (%s…)", m[1], attr)
		}
	}
}
