package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/plugins/sdk"
)

// Socket is a WebSocket as the hub uses it (fasthttp/websocket's Conn, as
// the HTTP layer upgrades it).
type Socket interface {
	ReadMessage() (messageType int, p []byte, err error)
	WriteMessage(messageType int, data []byte) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	SetPongHandler(h func(appData string) error)
	Close() error
}

// WebSocket frame types (RFC 6455).
const (
	textFrame = 1
	pingFrame = 9
)

const (
	// A socket that says nothing, not even a pong, for this long is gone.
	readTimeout  = 60 * time.Second
	pingInterval = 25 * time.Second
	// maxFrame bounds what a browser may send: an SDP answer is a few KB.
	maxFrame = 64 << 10
	// sendBuffer messages may wait for a slow socket; past it the socket
	// is closed rather than the hub blocked.
	sendBuffer = 64
)

// conn is a socket this instance holds.
type conn struct {
	key    string
	tenant int64
	lang   string
	out    chan []byte
	gone   chan struct{}
	once   sync.Once

	// A citizen's socket.
	entry int64
	// An operator's socket.
	user        int64
	name, email string
	base        string

	mu    sync.Mutex
	call  int64  // the entry of the call in progress
	owner string // the instance relaying it
	peer  string // the other side's socket
}

func (c *conn) operator() bool { return c.user != 0 }

func (c *conn) push(raw []byte) {
	select {
	case c.out <- raw:
	case <-c.gone:
	default:
		c.close()
	}
}

func (c *conn) close() { c.once.Do(func() { close(c.gone) }) }

func (c *conn) setCall(entry int64, owner, peer string) {
	c.mu.Lock()
	c.call, c.owner, c.peer = entry, owner, peer
	c.mu.Unlock()
}

func (c *conn) clearCall(entry int64) {
	c.mu.Lock()
	if c.call == entry || entry == 0 {
		c.call, c.owner, c.peer = 0, "", ""
	}
	c.mu.Unlock()
}

func (c *conn) current() (entry int64, owner, peer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.call, c.owner, c.peer
}

func (c *conn) inCall() bool {
	e, _, _ := c.current()
	return e != 0
}

// Citizen is who holds a citizen's socket: their wait, checked by the
// HTTP layer to be theirs.
type Citizen struct {
	TenantID, Entry, ID int64
	Lang                string
}

// Staff is who holds an operator's console.
type Staff struct {
	TenantID, ID int64
	Name, Email  string
	Lang         string
	// Base prefixes the town's URLs ("/t/lugano"), for links to dossiers.
	Base string
}

// The sockets speak JSON text frames, each with a "type".
//
// A citizen's page sends: "answer" {sdp} and "candidate" {candidate} (an
// RTCIceCandidateInit) for its relay peer; "chat" {text}, 1 to 2000
// characters; "mode" {mode}, "voice" or "chat", only down from the call's
// mode; "leave". It receives: "queue" {position, eta_minutes, operators,
// desk} while it waits (a "queue" during a call means it waits again);
// "call" {mode, operator}, then for video and voice "offer" {sdp}, the
// relay's, with all its candidates; "chat" {from, name, text, at}; "file"
// and "link" {name or label, url}; "mode" {mode}; "notice", "error" and
// "ended" {reason, text}, the text in the page's language.
//
// An operator's console sends: "status" {status}, "available" or "away";
// "take" {entry: 0 for the next}; "answer", "candidate", "chat", "mode" as
// a citizen; "transfer" {operator: a colleague's id, or desk}; "end". It
// receives: "state" {status, desks, queue, colleagues} whenever they
// change; "call" {entry, mode, citizen, topic, dossier_number,
// dossier_url, files_url, waited_seconds}, then "offer"; and "chat",
// "file", "mode", "notice", "error", "ended" as a citizen.
//
// The relay offers and the browser answers; an offer has an audio and a
// video m-line (Opus, VP8), so switching down or sharing the screen
// replaces or stops tracks and never renegotiates.

// inbound is any message a browser sends.
type inbound struct {
	Type      string          `json:"type"`
	SDP       string          `json:"sdp"`
	Candidate json.RawMessage `json:"candidate"`
	Text      string          `json:"text"`
	Mode      string          `json:"mode"`
	Status    string          `json:"status"`
	Entry     int64           `json:"entry"`
	Operator  string          `json:"operator"`
	Desk      string          `json:"desk"`
}

// register makes c the socket of its key, closing an older one (a second
// tab, a reload).
func (h *Hub) register(c *conn) {
	h.mu.Lock()
	old := h.conns[c.key]
	h.conns[c.key] = c
	h.mu.Unlock()
	if old != nil {
		raw, _ := json.Marshal(map[string]string{"type": "ended", "reason": "replaced", "text": say(old.lang, "replaced")})
		old.push(raw)
		old.close()
	}
}

// unregister forgets c, and reports whether it was still the socket of
// its key (not replaced meanwhile).
func (h *Hub) unregister(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[c.key] != c {
		return false
	}
	delete(h.conns, c.key)
	return true
}

// writeTimeout bounds one write to a socket that stopped reading.
const writeTimeout = 10 * time.Second

// pump writes c's messages and pings to sock until c is closed, then
// closes sock; done is closed when it has.
func pump(sock Socket, c *conn, done chan<- struct{}) {
	ping := time.NewTicker(pingInterval)
	defer close(done)
	defer ping.Stop()
	defer sock.Close()
	write := func(typ int, raw []byte) error {
		_ = sock.SetWriteDeadline(time.Now().Add(writeTimeout))
		return sock.WriteMessage(typ, raw)
	}
	for {
		select {
		case raw := <-c.out:
			if err := write(textFrame, raw); err != nil {
				c.close()
				return
			}
		case <-ping.C:
			if err := write(pingFrame, nil); err != nil {
				c.close()
				return
			}
		case <-c.gone:
			// Flush what is queued (the reason a call ended) first.
			for {
				select {
				case raw := <-c.out:
					if write(textFrame, raw) != nil {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// start runs c's writer; the returned func closes c and waits for the
// writer to flush, since the HTTP layer closes the socket as soon as the
// handler returns.
func start(sock Socket, c *conn) (stop func()) {
	done := make(chan struct{})
	go pump(sock, c, done)
	return func() {
		c.close()
		<-done
	}
}

// read calls fn with each message of sock until it closes.
func read(sock Socket, c *conn, fn func(inbound)) {
	_ = sock.SetReadDeadline(time.Now().Add(readTimeout))
	sock.SetPongHandler(func(string) error { return sock.SetReadDeadline(time.Now().Add(readTimeout)) })
	for {
		typ, raw, err := sock.ReadMessage()
		if err != nil {
			return
		}
		select {
		case <-c.gone:
			return
		default:
		}
		_ = sock.SetReadDeadline(time.Now().Add(readTimeout))
		var m inbound
		if typ != textFrame || len(raw) > maxFrame || json.Unmarshal(raw, &m) != nil || m.Type == "" {
			c.push(errorMsg(c.lang, "malformed"))
			continue
		}
		fn(m)
	}
}

func errorMsg(lang, key string) []byte {
	raw, _ := json.Marshal(map[string]string{"type": "error", "text": say(lang, key)})
	return raw
}

// ServeCitizen runs a citizen's socket until it closes. A citizen who
// comes back within Rejoin finds their place; one whose socket drops
// during a call goes back to the head of the queue.
func (h *Hub) ServeCitizen(ctx context.Context, sock Socket, p Citizen) {
	c := &conn{key: citizenKey(p.Entry), tenant: p.TenantID, lang: p.Lang, entry: p.Entry,
		out: make(chan []byte, sendBuffer), gone: make(chan struct{})}
	defer start(sock, c)()
	e, err := h.q.Get(ctx, p.TenantID, p.Entry)
	if err != nil || e.CitizenID != p.ID {
		c.push(errorMsg(p.Lang, "over"))
		return
	}
	switch e.Status {
	case "in_call":
		// Back before the drop was noticed (a reload): the call's media
		// are lost with the old page, so the wait starts again at the head.
		h.citizenGone(ctx, e)
	case "waiting":
	default:
		raw, _ := json.Marshal(map[string]string{"type": "ended", "reason": e.EndReason, "text": say(p.Lang, "over")})
		c.push(raw)
		return
	}
	// Registered before the return is recorded: an older socket of the
	// same wait that is only now noticed closing sees this one and does
	// not leave the drop standing (see citizenGone).
	h.register(c)
	if _, err := h.q.Returned(ctx, p.TenantID, p.Entry); err != nil {
		h.unregister(c)
		c.push(errorMsg(p.Lang, "over"))
		return
	}
	h.changed(ctx, p.TenantID)
	left := false
	read(sock, c, func(m inbound) {
		if h.citizenSays(ctx, c, m) {
			left = true
		}
	})
	if h.unregister(c) && !left {
		// A call this socket was never part of is a newer socket's (the
		// citizen came back while this one's end went unnoticed): not ours
		// to end.
		mine, _, _ := c.current()
		if e, err := h.q.Get(context.WithoutCancel(ctx), p.TenantID, p.Entry); err == nil && (e.Status != "in_call" || mine == e.ID) {
			h.citizenGone(context.WithoutCancel(ctx), e)
		}
	}
}

// citizenGone handles a citizen's socket that closed without leaving.
func (h *Hub) citizenGone(ctx context.Context, e *Entry) {
	switch e.Status {
	case "waiting":
		if err := h.q.Dropped(ctx, e.TenantID, e.ID); err != nil {
			h.log.Warn("live: mark a drop", "err", err, "entry", e.ID)
		}
		h.mu.Lock()
		back := h.conns[citizenKey(e.ID)] != nil
		h.mu.Unlock()
		if back {
			// A new socket of theirs came meanwhile.
			if _, err := h.q.Returned(ctx, e.TenantID, e.ID); err != nil {
				h.log.Warn("live: mark a return", "err", err, "entry", e.ID)
			}
		}
	case "in_call":
		h.closeMedia(ctx, e.TenantID, e)
		_, err := h.q.Requeue(ctx, e.TenantID, e.ID)
		switch {
		case err == nil:
			h.dossierStatus(ctx, e, "queued")
		case !errors.Is(err, ErrTaken):
			h.log.Warn("live: requeue a dropped citizen", "err", err, "entry", e.ID)
			return
		}
		// Requeued here or, a moment before, by the call's own failure to
		// start: either way the citizen is gone and has the grace.
		if err := h.q.Dropped(ctx, e.TenantID, e.ID); err != nil {
			h.log.Warn("live: mark a drop", "err", err, "entry", e.ID)
		}
		h.tell(ctx, operatorKey(e.TenantID, e.OperatorID), e.ID, "ended", "citizen_dropped", "citizen_dropped")
	default:
		return
	}
	h.changed(ctx, e.TenantID)
}

// citizenSays handles one message of a citizen; true when they left.
func (h *Hub) citizenSays(ctx context.Context, c *conn, m inbound) bool {
	entry, owner, peer := c.current()
	switch m.Type {
	case "answer", "candidate":
		if entry == 0 {
			c.push(errorMsg(c.lang, "over"))
			return false
		}
		h.step(ctx, c.tenant, entry, owner, "citizen", m)
	case "chat":
		h.chat(ctx, c, entry, peer, "citizen", m.Text)
	case "mode":
		h.switchMode(ctx, c, entry, owner, peer, m.Mode)
	case "leave":
		h.finish(ctx, c.tenant, c.entry, "left", "citizen")
		c.close()
		return true
	default:
		c.push(errorMsg(c.lang, "malformed"))
	}
	return false
}

// step passes a browser's signaling to the call's owner.
func (h *Hub) step(ctx context.Context, tenant, entry int64, owner, side string, m inbound) {
	body := m.SDP
	if m.Type == "candidate" {
		body = string(m.Candidate)
	}
	if body == "" {
		h.tell(ctx, h.sideKey(tenant, entry, side, 0), entry, "error", "malformed", "malformed")
		return
	}
	if owner == h.cfg.Instance {
		h.ownerStep(ctx, tenant, entry, side, m.Type, body)
		return
	}
	if err := h.bus.publish(ctx, envelope{Kind: "relay", To: "i:" + owner, Tenant: tenant, Entry: entry, Side: side,
		Step: m.Type, Body: body}); err != nil {
		h.log.Warn("live: publish a signaling step", "err", err)
	}
}

// chat keeps a message in the transcript and shows it to both sides.
func (h *Hub) chat(ctx context.Context, c *conn, entry int64, peer, author, text string) {
	text = strings.TrimSpace(text)
	switch {
	case entry == 0:
		c.push(errorMsg(c.lang, "not_in_call"))
		return
	case text == "" || utf8.RuneCountInString(text) > 2000:
		c.push(errorMsg(c.lang, "chat_length"))
		return
	}
	name := c.name
	if author == "citizen" {
		e, err := h.q.Get(ctx, c.tenant, entry)
		if err != nil {
			c.push(errorMsg(c.lang, "over"))
			return
		}
		name = e.CitizenName
	}
	msg, err := h.q.AddMessage(ctx, c.tenant, entry, Message{Author: author, Name: name, Body: text})
	if err != nil {
		h.log.Warn("live: keep a chat message", "err", err, "entry", entry)
		c.push(errorMsg(c.lang, "over"))
		return
	}
	out := map[string]any{"type": "chat", "from": author, "name": firstName(name, author), "text": msg.Body,
		"at": msg.At.UTC().Format(time.RFC3339)}
	raw, _ := json.Marshal(out)
	c.push(raw)
	h.deliver(ctx, envelope{Kind: "msg", To: peer, Msg: raw})
}

// firstName is how an operator appears to a citizen: by first name only.
func firstName(name, author string) string {
	if author != "operator" {
		return name
	}
	if f, _, ok := strings.Cut(name, " "); ok {
		return f
	}
	return name
}

var modeRank = map[string]int{"video": 3, "voice": 2, "chat": 1}

// switchMode moves a call down (video → voice → chat) for both sides.
func (h *Hub) switchMode(ctx context.Context, c *conn, entry int64, owner, peer, mode string) {
	if entry == 0 {
		c.push(errorMsg(c.lang, "not_in_call"))
		return
	}
	var current string
	err := h.db.InTenant(ctx, c.tenant, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT mode FROM consultation_entries WHERE tenant_id = ? AND id = ? FOR UPDATE",
			c.tenant, entry).Scan(&current); err != nil {
			return fmt.Errorf("read the mode of entry %d: %w", entry, err)
		}
		if modeRank[mode] == 0 || modeRank[mode] >= modeRank[current] {
			return ErrInvalid
		}
		_, err := tx.ExecContext(ctx, "UPDATE consultation_entries SET mode = ? WHERE tenant_id = ? AND id = ?", mode, c.tenant, entry)
		return err
	})
	if errors.Is(err, ErrInvalid) {
		c.push(errorMsg(c.lang, "mode_up"))
		return
	}
	if err != nil {
		h.log.Warn("live: switch mode", "err", err, "entry", entry)
		c.push(errorMsg(c.lang, "over"))
		return
	}
	raw, _ := json.Marshal(map[string]string{"type": "mode", "mode": mode})
	c.push(raw)
	h.deliver(ctx, envelope{Kind: "msg", To: peer, Msg: raw})
	if owner == h.cfg.Instance {
		h.ownerStep(ctx, c.tenant, entry, "", "mode", mode)
	} else if err := h.bus.publish(ctx, envelope{Kind: "relay", To: "i:" + owner, Tenant: c.tenant, Entry: entry,
		Step: "mode", Body: mode}); err != nil {
		h.log.Warn("live: publish a mode", "err", err)
	}
}

// ServeOperator runs an operator's console socket until it closes. An
// operator whose socket drops during a call sends the citizen back to
// the head of the queue, and is away until they come back.
func (h *Hub) ServeOperator(ctx context.Context, sock Socket, p Staff) {
	c := &conn{key: operatorKey(p.TenantID, p.ID), tenant: p.TenantID, lang: p.Lang, user: p.ID, name: p.Name,
		email: p.Email, base: p.Base, out: make(chan []byte, sendBuffer), gone: make(chan struct{})}
	defer start(sock, c)()
	h.register(c)
	if err := h.setStatus(ctx, c, ""); err != nil {
		h.log.Warn("live: operator presence", "err", err)
	}
	h.changed(ctx, p.TenantID)
	read(sock, c, func(m inbound) { h.operatorSays(ctx, c, m) })
	if !h.unregister(c) {
		return
	}
	bg := context.WithoutCancel(ctx)
	if entry, _, _ := c.current(); entry != 0 {
		h.operatorGone(bg, p.TenantID, entry)
	}
	if err := h.setStatus(bg, c, "away"); err != nil {
		h.log.Warn("live: operator presence", "err", err)
	}
	h.changed(bg, p.TenantID)
}

// operatorGone sends the citizen of a call whose operator dropped back
// to the head of the queue.
func (h *Hub) operatorGone(ctx context.Context, tenant, entry int64) {
	e, err := h.q.Get(ctx, tenant, entry)
	if err != nil || e.Status != "in_call" {
		return
	}
	h.closeMedia(ctx, tenant, e)
	if _, err := h.q.Requeue(ctx, tenant, entry); err != nil {
		h.log.Warn("live: requeue after an operator dropped", "err", err, "entry", entry)
		return
	}
	h.dossierStatus(ctx, e, "queued")
	h.tell(ctx, citizenKey(entry), entry, "detach", "operator_dropped", "operator_dropped")
}

// setStatus records the operator's presence: status "" keeps what they
// had (away for a newcomer).
func (h *Hub) setStatus(ctx context.Context, c *conn, status string) error {
	mine, err := h.desksOf(ctx, c)
	if err != nil {
		return err
	}
	if status == "" {
		status = "away"
		ops, err := h.q.Operators(ctx, c.tenant)
		if err != nil {
			return err
		}
		for _, o := range ops {
			if o.UserID == c.user && o.Status == "available" {
				status = o.Status
			}
		}
	}
	return h.q.SetOperator(ctx, c.tenant, Operator{UserID: c.user, Name: c.name, Status: status, Desks: mine})
}

func (h *Hub) operatorSays(ctx context.Context, c *conn, m inbound) {
	entry, _, peer := c.current()
	switch m.Type {
	case "status":
		if m.Status != "available" && m.Status != "away" {
			c.push(errorMsg(c.lang, "malformed"))
			return
		}
		if err := h.setStatus(ctx, c, m.Status); err != nil {
			h.log.Warn("live: operator presence", "err", err)
			return
		}
		h.changed(ctx, c.tenant)
	case "take":
		h.take(ctx, c, m.Entry)
	case "answer", "candidate":
		if entry == 0 {
			c.push(errorMsg(c.lang, "not_in_call"))
			return
		}
		h.step(ctx, c.tenant, entry, h.cfg.Instance, "operator", m)
	case "chat":
		h.chat(ctx, c, entry, peer, "operator", m.Text)
	case "mode":
		h.switchMode(ctx, c, entry, h.cfg.Instance, peer, m.Mode)
	case "transfer":
		h.transfer(ctx, c, entry, m)
	case "end":
		if entry == 0 {
			c.push(errorMsg(c.lang, "not_in_call"))
			return
		}
		c.clearCall(entry)
		h.finish(ctx, c.tenant, entry, "ended", "operator")
	default:
		c.push(errorMsg(c.lang, "malformed"))
	}
}

// take starts a call with the next citizen of the operator's desks, or
// with a given one (a transfer to them).
func (h *Hub) take(ctx context.Context, c *conn, id int64) {
	if c.inCall() {
		c.push(errorMsg(c.lang, "busy"))
		return
	}
	mine, err := h.desksOf(ctx, c)
	if err != nil {
		h.log.Warn("live: desks", "err", err)
		return
	}
	if len(mine) == 0 {
		c.push(errorMsg(c.lang, "no_desk"))
		return
	}
	var e *Entry
	if id != 0 {
		if e, err = h.q.Get(ctx, c.tenant, id); err == nil && !slices.Contains(mine, e.Desk) {
			err = ErrTaken
		}
		if err == nil {
			e, err = h.q.Take(ctx, c.tenant, c.user, c.name, id, h.cfg.Instance)
		}
	} else {
		e, err = h.q.TakeNext(ctx, c.tenant, c.user, c.name, mine, h.cfg.Instance)
	}
	if err != nil {
		if key := errText(err); key != "" {
			c.push(errorMsg(c.lang, key))
			return
		}
		h.log.Warn("live: take", "err", err)
		c.push(errorMsg(c.lang, "media_down"))
		return
	}
	h.startCall(ctx, c, e)
}

// startCall connects a call just taken: both sides learn it, and for
// video and voice each gets the offer of its relay peer.
func (h *Hub) startCall(ctx context.Context, c *conn, e *Entry) {
	var plugin, number string
	err := h.db.InTenant(ctx, c.tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT service_id, number FROM dossiers WHERE tenant_id = ? AND id = ?", c.tenant, e.DossierID).
			Scan(&plugin, &number)
	})
	if err != nil {
		h.log.Warn("live: the call's dossier", "err", err, "entry", e.ID)
	}
	h.mu.Lock()
	h.calls[e.ID] = &call{id: callID(e), tenant: c.tenant, plugin: plugin, operator: c.user, mode: e.Mode}
	h.mu.Unlock()
	h.dossierStatus(ctx, e, "in_call")
	ckey := citizenKey(e.ID)
	c.setCall(e.ID, h.cfg.Instance, ckey)
	waited := int(time.Since(e.JoinedAt).Seconds())
	raw, _ := json.Marshal(map[string]any{"type": "call", "entry": e.ID, "mode": e.Mode, "citizen": e.CitizenName,
		"topic": e.Topic, "dossier_number": number, "dossier_url": fmt.Sprintf("%s/backoffice/requests/%d", c.base, e.DossierID),
		"files_url": fmt.Sprintf("%s/backoffice/live/%d/files", c.base, e.ID), "waited_seconds": waited})
	c.push(raw)
	raw, _ = json.Marshal(map[string]any{"type": "call", "mode": e.Mode, "operator": firstName(c.name, "operator")})
	h.deliver(ctx, envelope{Kind: "msg", To: ckey, Entry: e.ID, Body: h.cfg.Instance, Side: c.key, Msg: raw})
	if e.Mode != "chat" && h.relay != nil {
		if err := h.offer(ctx, c, e, plugin); err != nil {
			h.ownerStep(ctx, c.tenant, e.ID, "", "close", callID(e))
			c.clearCall(e.ID)
			// A call that ended while it started (the citizen dropped) was
			// told to both sides by whoever ended it.
			if cur, err := h.q.Get(ctx, c.tenant, e.ID); err != nil || cur.Status != "in_call" || callID(cur) != callID(e) {
				h.changed(ctx, c.tenant)
				return
			}
			h.log.Warn("live: open the relay", "err", err, "entry", e.ID, "plugin", plugin)
			if _, err := h.q.Requeue(ctx, c.tenant, e.ID); err != nil {
				h.log.Warn("live: requeue", "err", err)
			}
			h.dossierStatus(ctx, e, "queued")
			c.push(errorMsg(c.lang, "media_down"))
			raw, _ := json.Marshal(map[string]any{"type": "ended", "reason": "relay", "text": say(c.lang, "media_down")})
			c.push(raw)
			h.tell(ctx, ckey, e.ID, "detach", "relay", "media_retry")
		}
	}
	h.changed(ctx, c.tenant)
}

func (h *Hub) offer(ctx context.Context, c *conn, e *Entry, plugin string) error {
	ice, err := json.Marshal(h.cfg.ICE)
	if err != nil {
		return err
	}
	call := callID(e)
	for _, side := range []string{"operator", "citizen"} {
		sdp, err := h.relay.Relay(ctx, plugin, sdkStep(call, side, "open", string(ice)))
		if err != nil {
			return fmt.Errorf("open the %s side: %w", side, err)
		}
		raw, _ := json.Marshal(map[string]string{"type": "offer", "sdp": sdp})
		if side == "operator" {
			c.push(raw)
		} else {
			h.deliver(ctx, envelope{Kind: "msg", To: citizenKey(e.ID), Msg: raw})
		}
	}
	return nil
}

// transfer hands the citizen of the operator's call to a colleague or to
// another desk: they wait again, at the head.
func (h *Hub) transfer(ctx context.Context, c *conn, entry int64, m inbound) {
	if entry == 0 {
		c.push(errorMsg(c.lang, "not_in_call"))
		return
	}
	desks, err := h.dir.Desks(ctx, c.tenant)
	if err != nil {
		h.log.Warn("live: desks", "err", err)
		return
	}
	var toDesk, toName string
	var toOp int64
	switch {
	case m.Desk != "":
		for _, d := range desks {
			if d.ID == m.Desk {
				toDesk, toName = d.ID, d.Name
			}
		}
	case m.Operator != "":
		id, _ := strconv.ParseInt(m.Operator, 10, 64)
		ops, err := h.q.Operators(ctx, c.tenant)
		if err != nil {
			h.log.Warn("live: operators", "err", err)
			return
		}
		for _, o := range ops {
			if o.UserID == id && id != c.user && o.Status != "away" {
				toOp, toName = o.UserID, o.Name
			}
		}
	}
	if toName == "" {
		c.push(errorMsg(c.lang, "bad_transfer"))
		return
	}
	before, err := h.q.Get(ctx, c.tenant, entry)
	if err != nil {
		c.push(errorMsg(c.lang, "over"))
		return
	}
	if _, err := h.q.Transfer(ctx, c.tenant, entry, toDesk, toOp); err != nil {
		if key := errText(err); key != "" {
			c.push(errorMsg(c.lang, key))
			return
		}
		h.log.Warn("live: transfer", "err", err)
		return
	}
	h.closeMedia(ctx, c.tenant, before)
	h.dossierStatus(ctx, before, "queued")
	c.clearCall(entry)
	shown := toName
	if toOp != 0 {
		shown = firstName(toName, "operator")
	}
	raw, _ := json.Marshal(map[string]string{"type": "ended", "reason": "transferred", "text": say(c.lang, "transferred_out", toName)})
	c.push(raw)
	h.tell(ctx, citizenKey(entry), entry, "detach", "transferred", "transferred", shown)
	h.changed(ctx, c.tenant)
}

// Share tells both sides of a call about something new in it: a document
// (type "file") or a link the operator opened for the citizen (a
// payment, a request), each side with its own URL.
func (h *Hub) Share(ctx context.Context, tenant, entry int64, forCitizen, forOperator map[string]string) error {
	e, err := h.q.Get(ctx, tenant, entry)
	if err != nil {
		return err
	}
	if e.Status != "in_call" {
		return fmt.Errorf("share in entry %d, %s: %w", entry, e.Status, ErrTaken)
	}
	if forCitizen != nil {
		h.send(ctx, citizenKey(entry), forCitizen)
	}
	if forOperator != nil && e.OperatorID != 0 {
		h.send(ctx, operatorKey(tenant, e.OperatorID), forOperator)
	}
	return nil
}

func sdkStep(call, side, kind, body string) sdk.RelayStep {
	return sdk.RelayStep{Call: call, Side: side, Kind: kind, Body: body}
}

// desksOf are the ids of the desks the operator of c answers.
func (h *Hub) desksOf(ctx context.Context, c *conn) ([]string, error) {
	desks, err := h.dir.Desks(ctx, c.tenant)
	if err != nil {
		return nil, err
	}
	var mine []string
	for _, d := range desks {
		if d.Serves(c.email) {
			mine = append(mine, d.ID)
		}
	}
	return mine, nil
}
