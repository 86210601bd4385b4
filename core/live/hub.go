// Package live runs the live desks of a town: the waiting queue of
// citizens who want to talk to an operator, and the calls themselves
// (video, voice or chat), across every app instance that shares the
// database.
//
// A citizen's page and an operator's console each hold a WebSocket to
// some instance. The queue is in PostgreSQL (queue.go); the instances
// tell each other what changed, and pass messages to sockets they do not
// hold, with LISTEN/NOTIFY (bus.go). Media never touch the host: the
// plugin that serves the desk relays them with server-side WebRTC peers
// (pion), so neither side learns the other's address; the host only
// carries the signaling, to the plugin process of the instance where the
// operator took the call (the call's owner).
package live

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/plugins/sdk"
)

// ICE is the deployment's ICE setup: handed to browsers (Servers) and to
// the relay's server peers (all of it).
type ICE struct {
	Servers   []ICEServer `json:"servers"`
	Loopback  bool        `json:"loopback,omitempty"`
	PublicIPs []string    `json:"public_ips,omitempty"`
	PortMin   uint16      `json:"port_min,omitempty"`
	PortMax   uint16      `json:"port_max,omitempty"`
}

// ICEServer is a STUN or TURN server, shaped as a browser's RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// BrowserJSON is the iceServers list for RTCPeerConnection.
func (i ICE) BrowserJSON() string {
	if len(i.Servers) == 0 {
		return "[]"
	}
	raw, _ := json.Marshal(i.Servers)
	return string(raw)
}

// Relayer hands signaling steps to the plugin that relays a call's media
// (pluginhost.Supervisor.Relay).
type Relayer interface {
	Relay(ctx context.Context, pluginID string, step sdk.RelayStep) (string, error)
}

// Desk is one of a town's live desks, as its service configures it.
type Desk struct {
	ID, Name string
	// Operators are the addresses of the staff who answer it; empty: any
	// member of staff allowed to answer live calls.
	Operators []string
	Open      bool // now, by its hours
}

// Directory says which live desks a town has.
type Directory interface {
	Desks(ctx context.Context, tenantID int64) ([]Desk, error)
}

// Config of a Hub.
type Config struct {
	// Instance names this app instance on the bus; unique among the
	// instances sharing the database (a random id per start will do).
	Instance string
	ICE      ICE
	// Rejoin is how long a citizen who dropped keeps their place; 30 s.
	Rejoin time.Duration
	// Refresh is how often positions and waits are sent even when nothing
	// changed (the wait estimate moves with time); 5 s.
	Refresh time.Duration
	Log     *slog.Logger
}

// Hub is one instance's side of the live desks.
type Hub struct {
	cfg      Config
	db       *store.DB
	q        *Queue
	relay    Relayer
	dir      Directory
	dossiers *dossier.Store
	bus      *bus
	log      *slog.Logger

	mu    sync.Mutex
	conns map[string]*conn // by key: "c:<entry>", "o:<tenant>:<user>"
	calls map[int64]*call  // the calls this instance relays, by entry
	dirty map[int64]bool   // tenants whose views to send again
	poke  chan struct{}
}

// call is a call this instance owns: its operator is connected here and
// its media go through this instance's plugin.
type call struct {
	id       string // the relay's name of it (callID)
	tenant   int64
	plugin   string
	operator int64
	mode     string
}

// New is a Hub on db's queue. relay may be nil when no plugin relays
// media (chat only).
func New(db *store.DB, relay Relayer, dir Directory, cfg Config) *Hub {
	if cfg.Rejoin <= 0 {
		cfg.Rejoin = 30 * time.Second
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Instance == "" {
		cfg.Instance = "solo"
	}
	return &Hub{cfg: cfg, db: db, q: NewQueue(db), relay: relay, dir: dir, dossiers: dossier.New(db, nil, time.Now),
		bus: &bus{db: db, log: cfg.Log, me: cfg.Instance}, log: cfg.Log,
		conns: map[string]*conn{}, calls: map[int64]*call{}, dirty: map[int64]bool{}, poke: make(chan struct{}, 1)}
}

// Queue is the hub's queue store.
func (h *Hub) Queue() *Queue { return h.q }

// ICE is the deployment's ICE setup.
func (h *Hub) ICE() ICE { return h.cfg.ICE }

// Run listens on the bus, sends changed queues to the sockets and ends
// the waits of citizens who did not come back, until ctx ends. The
// returned channel is closed once the bus listens.
func (h *Hub) Run(ctx context.Context) <-chan struct{} {
	ready := make(chan struct{})
	go h.bus.listen(ctx, ready, func(e envelope) { h.receive(ctx, e) })
	go h.loop(ctx)
	return ready
}

func (h *Hub) loop(ctx context.Context) {
	tick := time.NewTicker(h.cfg.Refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.poke:
			// Coalesce a burst of changes into one view per socket.
			time.Sleep(20 * time.Millisecond)
		case <-tick.C:
			h.sweep(ctx)
			h.mu.Lock()
			for _, c := range h.conns {
				h.dirty[c.tenant] = true
			}
			h.mu.Unlock()
		}
		h.mu.Lock()
		tenants := make([]int64, 0, len(h.dirty))
		for t := range h.dirty {
			tenants = append(tenants, t)
		}
		clear(h.dirty)
		h.mu.Unlock()
		for _, t := range tenants {
			h.refresh(ctx, t)
		}
	}
}

// sweep ends the waits of citizens gone longer than Rejoin. Every
// instance sweeps; ending a wait twice is harmless.
func (h *Hub) sweep(ctx context.Context) {
	stale, err := h.q.Stale(ctx, time.Now().Add(-h.cfg.Rejoin))
	if err != nil {
		h.log.Warn("live: sweep", "err", err)
		return
	}
	cutoff := time.Now().Add(-h.cfg.Rejoin)
	for _, s := range stale {
		// Back since the list was read: they keep their place.
		if e, err := h.q.Get(ctx, s[0], s[1]); err != nil || e.DroppedAt == nil || e.DroppedAt.After(cutoff) {
			continue
		}
		h.finish(ctx, s[0], s[1], "left", "timeout")
	}
}

// changed marks tenant's queue as changed here and on every instance.
func (h *Hub) changed(ctx context.Context, tenant int64) {
	h.markDirty(tenant)
	if err := h.bus.publish(ctx, envelope{Kind: "queue", Tenant: tenant}); err != nil {
		h.log.Warn("live: publish a queue change", "err", err)
	}
}

func (h *Hub) markDirty(tenant int64) {
	h.mu.Lock()
	h.dirty[tenant] = true
	h.mu.Unlock()
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// receive handles an envelope from another instance.
func (h *Hub) receive(ctx context.Context, e envelope) {
	switch e.Kind {
	case "queue":
		h.markDirty(e.Tenant)
	case "msg", "text":
		if strings.HasPrefix(e.To, "i:") || e.To == "" {
			return
		}
		h.mu.Lock()
		c := h.conns[e.To]
		h.mu.Unlock()
		if c != nil {
			h.local(c, e)
		}
	case "relay":
		if e.To == "i:"+h.cfg.Instance {
			h.ownerStep(ctx, e.Tenant, e.Entry, e.Side, e.Step, e.Body)
		}
	}
}

// deliver sends e to the socket e.To, here or on the instance that holds
// it.
func (h *Hub) deliver(ctx context.Context, e envelope) {
	h.mu.Lock()
	c := h.conns[e.To]
	h.mu.Unlock()
	if c != nil {
		h.local(c, e)
		return
	}
	if err := h.bus.publish(ctx, e); err != nil {
		h.log.Warn("live: publish", "err", err, "to", e.To)
	}
}

// send delivers a message to socket key.
func (h *Hub) send(ctx context.Context, key string, msg any) {
	raw, err := json.Marshal(msg)
	if err != nil {
		h.log.Error("live: encode a message", "err", err)
		return
	}
	h.deliver(ctx, envelope{Kind: "msg", To: key, Msg: raw})
}

// tell sends socket key a text of the hub's, in the socket's language:
// typ "notice", "error", "ended" (the call is over) or "detach" (the
// call is over but the citizen waits again; the browser gets a notice).
func (h *Hub) tell(ctx context.Context, key string, entry int64, typ, reason, textKey string, args ...string) {
	body, _ := json.Marshal(args)
	h.deliver(ctx, envelope{Kind: "text", To: key, Entry: entry, Step: typ, Side: reason, Body: textKey, Msg: body})
}

// local hands an envelope to a socket of this instance.
func (h *Hub) local(c *conn, e envelope) {
	if e.Kind == "msg" {
		if e.Side != "" { // a call starts: who relays it and who is on the other side
			c.setCall(e.Entry, e.Body, e.Side)
		}
		c.push(e.Msg)
		return
	}
	var args []string
	_ = json.Unmarshal(e.Msg, &args)
	anyArgs := make([]any, len(args))
	for i, a := range args {
		anyArgs[i] = a
	}
	text := say(c.lang, e.Body, anyArgs...)
	typ := e.Step
	switch typ {
	case "ended", "detach":
		c.clearCall(e.Entry)
		if typ == "detach" {
			typ = "notice"
		}
	}
	raw, _ := json.Marshal(map[string]string{"type": typ, "reason": e.Side, "text": text})
	c.push(raw)
}

func citizenKey(entry int64) string { return "c:" + strconv.FormatInt(entry, 10) }
func operatorKey(tenant, user int64) string {
	return "o:" + strconv.FormatInt(tenant, 10) + ":" + strconv.FormatInt(user, 10)
}

// Join queues a citizen (the Host API's Enqueue, after its checks): the
// desk must be one of the town's.
func (h *Hub) Join(ctx context.Context, tenant int64, j JoinSpec) (*Entry, int, error) {
	desks, err := h.dir.Desks(ctx, tenant)
	if err != nil {
		return nil, 0, fmt.Errorf("desks of tenant %d: %w", tenant, err)
	}
	if !slices.ContainsFunc(desks, func(d Desk) bool { return d.ID == j.Desk }) {
		return nil, 0, fmt.Errorf("desk %q: %w", j.Desk, ErrInvalid)
	}
	if j.CitizenName == "" {
		err := h.db.InTenant(ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
			return tx.QueryRowContext(ctx, "SELECT name FROM citizens WHERE tenant_id = ? AND id = ?", tenant, j.CitizenID).
				Scan(&j.CitizenName)
		})
		if err != nil {
			return nil, 0, fmt.Errorf("citizen %d: %w", j.CitizenID, err)
		}
	}
	e, err := h.q.Join(ctx, tenant, j)
	if err != nil {
		return nil, 0, err
	}
	h.changed(ctx, tenant)
	pos, err := h.q.Position(ctx, tenant, e.ID)
	if err != nil {
		return e, 0, err
	}
	return e, pos, nil
}

// Leave ends a citizen's wait or call on their behalf (a page without
// JavaScript posts it).
func (h *Hub) Leave(ctx context.Context, tenant, entry int64) {
	h.finish(ctx, tenant, entry, "left", "citizen")
}

// PluginExited ends the calls whose media plugin pluginID relayed here:
// its process is gone, and the peers with it.
func (h *Hub) PluginExited(pluginID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.mu.Lock()
	var gone []int64
	for id, c := range h.calls {
		if c.plugin == pluginID {
			gone = append(gone, id)
		}
	}
	h.mu.Unlock()
	for _, id := range gone {
		h.mu.Lock()
		c := h.calls[id]
		h.mu.Unlock()
		if c == nil {
			continue
		}
		h.log.Warn("live: the relay's plugin went, ending the call", "plugin", pluginID, "entry", id)
		h.finish(ctx, c.tenant, id, "ended", "plugin")
	}
}

// finish ends a wait or a call (status "ended" or "left"), closes its
// media, keeps its transcript on the dossier and tells both sides.
func (h *Hub) finish(ctx context.Context, tenant, entry int64, status, reason string) {
	before, err := h.q.Get(ctx, tenant, entry)
	if err != nil {
		h.log.Warn("live: finish", "err", err, "entry", entry)
		return
	}
	e, err := h.q.End(ctx, tenant, entry, status, reason)
	if err != nil {
		h.log.Warn("live: finish", "err", err, "entry", entry)
		return
	}
	wasCall := before.Status == "in_call"
	if wasCall {
		h.closeMedia(ctx, tenant, before)
		h.keepTranscript(ctx, e)
	}
	if before.Status == "waiting" || wasCall {
		st := "withdrawn"
		if wasCall {
			st = "completed"
		}
		h.dossierStatus(ctx, e, st)
	}
	citizenText, operatorText := "ended_operator", "ended_citizen"
	switch reason {
	case "plugin":
		citizenText, operatorText = "plugin", "plugin_operator"
	case "timeout":
		citizenText = "timeout"
	case "citizen":
		citizenText = "left"
		if wasCall {
			citizenText = "over"
		}
	}
	h.tell(ctx, citizenKey(entry), entry, "ended", reason, citizenText)
	if wasCall && before.OperatorID != 0 {
		h.tell(ctx, operatorKey(tenant, before.OperatorID), entry, "ended", reason, operatorText)
	}
	h.changed(ctx, tenant)
}

// callID names one call of an entry to the relay: the entry's id and
// when it was taken, since an entry taken again (after a drop, a
// transfer) is another call, and a late close of the first must not end
// the second.
func callID(e *Entry) string {
	if e.TakenAt == nil {
		return strconv.FormatInt(e.ID, 10)
	}
	return strconv.FormatInt(e.ID, 10) + "." + strconv.FormatInt(e.TakenAt.UnixNano(), 10)
}

// closeMedia ends the relay of the call e was in, on whichever instance
// owns it.
func (h *Hub) closeMedia(ctx context.Context, tenant int64, e *Entry) {
	if e.Instance == h.cfg.Instance || e.Instance == "" {
		h.ownerStep(ctx, tenant, e.ID, "", "close", callID(e))
		return
	}
	if err := h.bus.publish(ctx, envelope{Kind: "relay", To: "i:" + e.Instance, Tenant: tenant, Entry: e.ID, Step: "close",
		Body: callID(e)}); err != nil {
		h.log.Warn("live: publish a close", "err", err)
	}
}

// ownerStep runs a signaling step of a call this instance owns. A close
// names the call it ends (body; "" the current one).
func (h *Hub) ownerStep(ctx context.Context, tenant, entry int64, side, step, body string) {
	h.mu.Lock()
	c := h.calls[entry]
	if step == "close" && body != "" && c != nil && c.id != body {
		// The close of an earlier call of this entry: the current one stays.
		h.mu.Unlock()
		if h.relay != nil && c.plugin != "" {
			_, _ = h.relay.Relay(ctx, c.plugin, sdk.RelayStep{Call: body, Kind: "close"})
		}
		return
	}
	if step == "close" {
		delete(h.calls, entry)
	}
	h.mu.Unlock()
	if c == nil || c.tenant != tenant {
		if step != "close" && side != "" {
			h.tell(ctx, h.sideKey(tenant, entry, side, 0), entry, "error", "over", "over")
		}
		return
	}
	if step == "mode" {
		h.mu.Lock()
		c.mode = body
		h.mu.Unlock()
		if body != "chat" {
			return
		}
		step = "close"
		h.mu.Lock()
		delete(h.calls, entry)
		h.mu.Unlock()
	}
	h.mu.Lock()
	chat := c.mode == "chat"
	h.mu.Unlock()
	if h.relay == nil || chat && step != "close" {
		return
	}
	if step == "close" {
		body = ""
	}
	_, err := h.relay.Relay(ctx, c.plugin, sdk.RelayStep{Call: c.id, Side: side, Kind: step, Body: body})
	if err != nil {
		if step != "close" {
			h.log.Warn("live: relay", "err", err, "entry", entry, "side", side, "step", step)
			h.tell(ctx, h.sideKey(tenant, entry, side, c.operator), entry, "error", "relay", "malformed")
		}
	}
}

func (h *Hub) sideKey(tenant, entry int64, side string, operator int64) string {
	if side == "operator" && operator != 0 {
		return operatorKey(tenant, operator)
	}
	return citizenKey(entry)
}

// keepTranscript writes the call's times and chat on its dossier, where
// the citizen and the office find them afterwards.
func (h *Hub) keepTranscript(ctx context.Context, e *Entry) {
	msgs, err := h.q.Transcript(ctx, e.TenantID, e.ID)
	if err != nil {
		h.log.Warn("live: read a transcript", "err", err, "entry", e.ID)
		return
	}
	lang := e.Lang
	if lang == "" {
		lang = "it"
	}
	zone := sdk.Zone
	clock := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.In(zone).Format("15:04")
	}
	waited := time.Duration(0)
	if e.TakenAt != nil {
		waited = e.TakenAt.Sub(e.JoinedAt)
	}
	var b strings.Builder
	b.WriteString(say(lang, "transcript", say(lang, "mode."+e.Mode), e.JoinedAt.In(zone).Format("02/01/2006"),
		say(lang, "minutes", int(waited.Round(time.Minute)/time.Minute)), clock(e.TakenAt), clock(e.EndedAt)))
	b.WriteString("\n\n")
	if len(msgs) == 0 {
		b.WriteString(say(lang, "transcript_empty"))
	}
	for _, m := range msgs {
		fmt.Fprintf(&b, "[%s] %s: %s\n", m.At.In(zone).Format("15:04"), m.Name, m.Body)
	}
	text := b.String()
	if utf8.RuneCountInString(text) > dossier.MaxMessage {
		text = string([]rune(text)[:dossier.MaxMessage])
	}
	by := dossier.Actor{Kind: dossier.ActorSystem, Name: "Sportello online"}
	if _, err := h.dossiers.Reply(ctx, e.TenantID, e.DossierID, dossier.AnyVersion, by, text); err != nil {
		h.log.Warn("live: keep a transcript", "err", err, "entry", e.ID)
	}
}

// refresh sends the queue's state to this instance's sockets of tenant.
func (h *Hub) refresh(ctx context.Context, tenant int64) {
	h.mu.Lock()
	var cs []*conn
	for _, c := range h.conns {
		if c.tenant == tenant {
			cs = append(cs, c)
		}
	}
	h.mu.Unlock()
	if len(cs) == 0 {
		return
	}
	desks, err := h.dir.Desks(ctx, tenant)
	if err != nil {
		h.log.Warn("live: desks", "err", err, "tenant_id", tenant)
		return
	}
	ops, err := h.q.Operators(ctx, tenant)
	if err != nil {
		h.log.Warn("live: operators", "err", err, "tenant_id", tenant)
		return
	}
	v := &view{h: h, tenant: tenant, desks: desks, ops: ops, handle: map[string]time.Duration{}}
	for _, c := range cs {
		var msg any
		if c.operator() {
			msg, err = v.operatorState(ctx, c)
		} else {
			msg, err = v.citizenState(ctx, c)
		}
		if err != nil {
			h.log.Warn("live: view", "err", err, "tenant_id", tenant)
			continue
		}
		if msg == nil {
			continue
		}
		raw, _ := json.Marshal(msg)
		c.push(raw)
	}
}

// view computes what a tenant's sockets are shown, once per refresh.
type view struct {
	h       *Hub
	tenant  int64
	desks   []Desk
	ops     []Operator
	handle  map[string]time.Duration
	waiting []Entry
	loaded  bool
}

func (v *view) deskName(id string) string {
	for _, d := range v.desks {
		if d.ID == id {
			return d.Name
		}
	}
	return id
}

// Serves reports whether the member of staff with address email answers
// desk d.
func (d Desk) Serves(email string) bool {
	return len(d.Operators) == 0 || slices.ContainsFunc(d.Operators, func(o string) bool { return strings.EqualFold(o, email) })
}

// available counts the operators free to answer desk.
func (v *view) available(desk string) int {
	n := 0
	for _, o := range v.ops {
		if o.Status == "available" && (len(o.Desks) == 0 || slices.Contains(o.Desks, desk)) {
			n++
		}
	}
	return n
}

// load reads the tenant's waiting entries once per refresh, in queue
// order: every socket's view comes from them.
func (v *view) load(ctx context.Context) error {
	if v.loaded {
		return nil
	}
	w, err := v.h.q.Waiting(ctx, v.tenant, nil)
	if err != nil {
		return err
	}
	v.waiting, v.loaded = w, true
	return nil
}

// position is an entry's place among the waiting, as Queue.Position
// counts it (those ahead at its desk, but those passed to another
// operator); 0 when it waits no more.
func (v *view) position(id int64) (*Entry, int) {
	for i := range v.waiting {
		e := &v.waiting[i]
		if e.ID != id {
			continue
		}
		pos := 1
		for _, o := range v.waiting[:i] {
			if o.Desk == e.Desk && (o.ForOperator == 0 || o.ForOperator == e.ForOperator) {
				pos++
			}
		}
		return e, pos
	}
	return nil, 0
}

func (v *view) citizenState(ctx context.Context, c *conn) (any, error) {
	if c.inCall() {
		return nil, nil
	}
	if err := v.load(ctx); err != nil {
		return nil, err
	}
	e, pos := v.position(c.entry)
	if e == nil {
		return nil, nil
	}
	var err error
	avg, ok := v.handle[e.Desk]
	if !ok {
		if avg, err = v.h.q.AverageHandle(ctx, v.tenant, e.Desk); err != nil {
			return nil, err
		}
		v.handle[e.Desk] = avg
	}
	ops := v.available(e.Desk)
	// Those ahead share the operators; the first of them is being
	// answered in about half a call.
	eta := time.Duration(max(pos-1, 0)) * avg / time.Duration(max(ops, 1))
	if e.QueuedAt.After(time.Now()) {
		eta = max(eta, time.Until(e.QueuedAt))
	}
	return map[string]any{"type": "queue", "position": pos, "eta_minutes": int((eta + time.Minute - 1) / time.Minute),
		"operators": ops, "desk": v.deskName(e.Desk)}, nil
}

type queueRow struct {
	Entry       int64  `json:"entry"`
	Position    int    `json:"position"`
	Desk        string `json:"desk"`
	DeskName    string `json:"desk_name"`
	Mode        string `json:"mode"`
	Topic       string `json:"topic"`
	Citizen     string `json:"citizen"`
	Waiting     int    `json:"waiting_seconds"`
	Returning   bool   `json:"returning"`
	ForMe       bool   `json:"for_me"`
	Away        bool   `json:"away"`
	Appointment string `json:"appointment,omitempty"`
}

func (v *view) operatorState(ctx context.Context, c *conn) (any, error) {
	var mine []string
	var desks []map[string]any
	for _, d := range v.desks {
		if d.Serves(c.email) {
			mine = append(mine, d.ID)
			desks = append(desks, map[string]any{"id": d.ID, "name": d.Name, "open": d.Open})
		}
	}
	if err := v.load(ctx); err != nil {
		return nil, err
	}
	status := "away"
	var colleagues []map[string]string
	for _, o := range v.ops {
		if o.UserID == c.user {
			status = o.Status
			continue
		}
		colleagues = append(colleagues, map[string]string{"id": strconv.FormatInt(o.UserID, 10), "name": o.Name,
			"status": o.Status})
	}
	rows := []queueRow{}
	pos := map[string]int{}
	now := time.Now()
	for _, e := range v.waiting {
		if !slices.Contains(mine, e.Desk) || (e.ForOperator != 0 && e.ForOperator != c.user) {
			continue
		}
		pos[e.Desk]++
		r := queueRow{Entry: e.ID, Position: pos[e.Desk], Desk: e.Desk, DeskName: v.deskName(e.Desk), Mode: e.Mode,
			Topic: e.Topic, Citizen: e.CitizenName, Waiting: int(now.Sub(e.JoinedAt).Seconds()), Returning: e.Head,
			ForMe: e.ForOperator == c.user, Away: e.DroppedAt != nil}
		if e.AppointmentAt != nil {
			r.Appointment = e.AppointmentAt.In(sdk.Zone).Format("15:04")
		}
		rows = append(rows, r)
	}
	return map[string]any{"type": "state", "status": status, "desks": desks, "queue": rows,
		"colleagues": colleagues}, nil
}

// errText is the text key of a queue refusal.
func errText(err error) string {
	switch {
	case errors.Is(err, ErrQueueEmpty):
		return "queue_empty"
	case errors.Is(err, ErrTaken), errors.Is(err, ErrNoEntry):
		return "taken"
	case errors.Is(err, ErrOperatorBusy):
		return "busy"
	case errors.Is(err, ErrInvalid):
		return "malformed"
	}
	return ""
}

// dossierStatus follows the wait on its dossier: queued, in_call,
// completed or withdrawn (the consultation service's workflow).
func (h *Hub) dossierStatus(ctx context.Context, e *Entry, status string) {
	by := dossier.Actor{Kind: dossier.ActorSystem, Name: "Sportello online"}
	if _, err := h.dossiers.SetStatus(ctx, e.TenantID, e.DossierID, dossier.AnyVersion, by, status, ""); err != nil {
		h.log.Warn("live: dossier status", "err", err, "entry", e.ID, "status", status)
	}
}

// Waiting is the wait or call in progress about a dossier, if any: the
// citizen who left its page finds the way back from the dossier's.
func (h *Hub) Waiting(ctx context.Context, tenant, dossierID int64) (int64, bool, error) {
	var id int64
	err := h.db.InTenant(ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT id FROM consultation_entries WHERE tenant_id = ? AND dossier_id = ?
			AND status IN ('waiting', 'in_call')`, tenant, dossierID).Scan(&id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("wait of dossier %d: %w", dossierID, err)
	}
	return id, true, nil
}
