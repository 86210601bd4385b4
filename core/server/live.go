package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/live"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/web"
)

// liveService is the catalogue service whose configuration names a
// town's live desks, and whose plugin relays the calls' media.
const liveService = "consultation"

// objLive is what answering live calls takes (operators have it).
const objLive = "backoffice/consultations/live"

// Live wires the live desks between the plugin supervisor and the HTTP
// server, which need each other: the supervisor's Host API queues
// citizens and its crashes end calls; the hub relays through the
// supervisor's plugins. Make one, hand HostAPI and OnExit to the
// supervisor's options and the Live itself to Assemble.
type Live struct {
	cfg live.Config
	hub atomic.Pointer[live.Hub]
}

// NewLive is the wiring of an instance's live desks with cfg.
func NewLive(cfg live.Config) *Live { return &Live{cfg: cfg} }

// HostAPI is the Host API option that lets plugins queue citizens.
func (l *Live) HostAPI() hostapi.Option { return hostapi.WithQueue(l) }

// OnExit is the supervisor's hook: a plugin process that went took its
// calls' media along.
func (l *Live) OnExit(pluginID string) {
	if h := l.hub.Load(); h != nil {
		h.PluginExited(pluginID)
	}
}

// Hub is the instance's hub, once Assemble made it.
func (l *Live) Hub() *live.Hub {
	if l == nil {
		return nil
	}
	return l.hub.Load()
}

// Options are the supervisor options of the wiring.
func (l *Live) Options(o pluginhost.Options) pluginhost.Options {
	o.HostAPI = append(o.HostAPI, l.HostAPI())
	o.OnExit = l.OnExit
	return o
}

// Enqueue is hostapi.Queuer.
func (l *Live) Enqueue(ctx context.Context, r hostapi.QueueRequest) (*pb.QueueEntry, error) {
	h := l.hub.Load()
	if h == nil {
		return nil, status.Error(codes.Unavailable, "the live desks are starting")
	}
	j := live.JoinSpec{Desk: r.Desk, DossierID: r.DossierID, CitizenID: r.CitizenID, Mode: r.Mode, Topic: r.Topic, Lang: r.Lang}
	if !r.AppointmentAt.IsZero() {
		at := r.AppointmentAt
		j.AppointmentAt = &at
	}
	e, pos, err := h.Join(ctx, r.TenantID, j)
	switch {
	case errors.Is(err, live.ErrAlreadyQueued):
		return nil, fmt.Errorf("join: %w", hostapi.ErrAlreadyQueued)
	case errors.Is(err, live.ErrInvalid):
		return nil, status.Errorf(codes.InvalidArgument, "join: %v", err)
	case err != nil:
		return nil, err
	}
	return &pb.QueueEntry{Id: e.ID, Position: int32(pos), Url: fmt.Sprintf("/live/%d", e.ID), QueuedUnix: e.QueuedAt.Unix()}, nil
}

// liveDirectory reads a town's desks from its live service's
// configuration.
type liveDirectory struct{ cat *catalog.Catalog }

func (d liveDirectory) Desks(ctx context.Context, tenantID int64) ([]live.Desk, error) {
	ts, err := d.cat.TenantService(ctx, tenantID, liveService)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return live.DesksOf(ts.Config, time.Now())
}

// relayer is the supervisor as the hub's Relayer (nil without plugins).
func relayer(p *pluginhost.Supervisor) live.Relayer {
	if p == nil {
		return nil
	}
	return p
}

func (s *Server) liveRoutes(r fiber.Router) {
	if s.Live.Hub() == nil {
		return
	}
	r.Get("/live/:entry", s.requireTenant, s.liveCallPage)
	r.Get("/live/:entry/ws", s.requireTenant, s.liveCitizenUpgrade, websocket.New(s.liveCitizenSocket))
	r.Post("/live/:entry/leave", s.requireTenant, s.liveLeave)
	r.Post("/live/:entry/files", s.requireTenant, s.liveCitizenFile)
	staff := s.require(objLive, "write")
	r.Get("/backoffice/live", s.requireTenant, staff, s.liveConsolePage)
	r.Get("/backoffice/live/ws", s.requireTenant, staff, s.liveOperatorUpgrade, websocket.New(s.liveOperatorSocket))
	r.Post("/backoffice/live/:entry/files", s.requireTenant, staff, s.liveOperatorFile)
	r.Post("/backoffice/live/:entry/link", s.requireTenant, staff, s.liveLink)
	r.Post("/backoffice/live/:entry/payment", s.requireTenant, staff, s.livePayment)
}

// myEntry is the signed-in citizen's wait of the path.
func (s *Server) myEntry(c *fiber.Ctx) (*live.Entry, error) {
	rs := state(c)
	if rs.session == nil {
		return nil, errLoginRequired
	}
	me, err := citizenID(c)
	if err != nil {
		return nil, err
	}
	id, err := pathID(c, "entry")
	if err != nil {
		return nil, err
	}
	e, err := s.Live.Hub().Queue().Get(c.UserContext(), rs.tenant.ID, id)
	if err != nil {
		return nil, err
	}
	// Another citizen's wait is as good as none.
	if e.CitizenID != me {
		return nil, errNotFound
	}
	return e, nil
}

func (s *Server) liveCallPage(c *fiber.Ctx) error {
	e, err := s.myEntry(c)
	if err != nil {
		return err
	}
	rs := state(c)
	ctx := c.UserContext()
	h := s.Live.Hub()
	pos := 0
	if e.Status == "waiting" {
		if pos, err = h.Queue().Position(ctx, rs.tenant.ID, e.ID); err != nil {
			return err
		}
	}
	deskName := e.Desk
	if desks, err := (liveDirectory{cat: s.Catalog}).Desks(ctx, rs.tenant.ID); err == nil {
		for _, d := range desks {
			if d.ID == e.Desk {
				deskName = d.Name
			}
		}
	}
	msgs, err := h.Queue().Transcript(ctx, rs.tenant.ID, e.ID)
	if err != nil {
		return err
	}
	name := s.i18n.T(rs.lang, "live.service", nil)
	if rec, err := s.Catalog.Get(ctx, liveService); err == nil {
		if m := rec.Manifest; m != nil {
			if t, ok := m.GetTexts()[rs.lang]; ok && t.GetName() != "" {
				name = t.GetName()
			}
		}
	}
	var number string
	if d, err := s.Dossiers.Get(ctx, rs.tenant.ID, e.DossierID); err == nil {
		number = d.Number
	}
	data := &web.LiveCall{Entry: e.ID, ServiceName: name, DeskName: deskName, Mode: e.Mode, Topic: e.Topic,
		DossierNumber: number, Status: e.Status, Position: pos,
		WSURL:    fmt.Sprintf("%s/live/%d/ws", rs.base, e.ID),
		FilesURL: fmt.Sprintf("%s/live/%d/files", rs.base, e.ID), ICEServers: h.ICE().BrowserJSON(),
		LeaveURL: fmt.Sprintf("%s/live/%d/leave", rs.base, e.ID), BackURL: rs.base + "/requests"}
	for _, m := range msgs {
		data.Transcript = append(data.Transcript, web.LiveMessage{From: m.Author, Name: m.Name, Text: m.Body, At: m.At})
	}
	p := s.page(c, "live_call", name)
	p.Data = data
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return s.render(c, p)
}

// sameOrigin refuses a WebSocket opened by another site's page with the
// person's cookies (browsers do not apply CORS to WebSockets).
func sameOrigin(c *fiber.Ctx) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return true // not a browser
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, c.Hostname())
}

// upgradable refuses what is no WebSocket handshake of our own pages.
func upgradable(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return fiber.ErrUpgradeRequired
	}
	if !sameOrigin(c) {
		return errForbidden
	}
	return nil
}

func (s *Server) liveCitizenUpgrade(c *fiber.Ctx) error {
	if err := upgradable(c); err != nil {
		return err
	}
	e, err := s.myEntry(c)
	if err != nil {
		return err
	}
	rs := state(c)
	c.Locals("live.citizen", live.Citizen{TenantID: rs.tenant.ID, Entry: e.ID, ID: e.CitizenID, Lang: rs.lang})
	return c.Next()
}

func (s *Server) liveCitizenSocket(conn *websocket.Conn) {
	p, ok := conn.Locals("live.citizen").(live.Citizen)
	if !ok {
		_ = conn.Close()
		return
	}
	s.Live.Hub().ServeCitizen(context.Background(), conn, p)
}

func (s *Server) liveOperatorUpgrade(c *fiber.Ctx) error {
	if err := upgradable(c); err != nil {
		return err
	}
	rs := state(c)
	if rs.session == nil || rs.session.Subject.UserID == 0 {
		return errForbidden
	}
	u := s.currentUser(c)
	if u == nil {
		return errForbidden
	}
	c.Locals("live.staff", live.Staff{TenantID: rs.tenant.ID, ID: rs.session.Subject.UserID, Name: u.Name,
		Email: u.Email, Lang: rs.lang, Base: rs.base})
	return c.Next()
}

func (s *Server) liveOperatorSocket(conn *websocket.Conn) {
	p, ok := conn.Locals("live.staff").(live.Staff)
	if !ok {
		_ = conn.Close()
		return
	}
	s.Live.Hub().ServeOperator(context.Background(), conn, p)
}

// liveLeave leaves the queue without JavaScript.
func (s *Server) liveLeave(c *fiber.Ctx) error {
	e, err := s.myEntry(c)
	if err != nil {
		return err
	}
	s.Live.Hub().Leave(c.UserContext(), e.TenantID, e.ID)
	return c.Redirect(state(c).base+"/requests", fiber.StatusSeeOther)
}

func (s *Server) liveConsolePage(c *fiber.Ctx) error {
	rs := state(c)
	u := s.currentUser(c)
	if u == nil || rs.session.Subject.UserID == 0 {
		return errForbidden
	}
	ctx := c.UserContext()
	desks, err := (liveDirectory{cat: s.Catalog}).Desks(ctx, rs.tenant.ID)
	if err != nil {
		return err
	}
	data := &web.LiveConsole{WSURL: rs.base + "/backoffice/live/ws", ICEServers: s.Live.Hub().ICE().BrowserJSON(),
		Status:     "away",
		PaymentURL: rs.base + "/backoffice/live/{entry}/payment",
		FilesURL:   rs.base + "/backoffice/live/{entry}/files",
		IntakeURL:  rs.base + "/backoffice/new?channel=web"}
	for _, d := range desks {
		if d.Serves(u.Email) {
			data.Desks = append(data.Desks, web.LiveDesk{ID: d.ID, Name: d.Name, Open: d.Open})
		}
	}
	ops, err := s.Live.Hub().Queue().Operators(ctx, rs.tenant.ID)
	if err != nil {
		return err
	}
	for _, o := range ops {
		if o.UserID == rs.session.Subject.UserID {
			data.Status = o.Status
		}
	}
	p := s.page(c, "live_console", s.i18n.T(rs.lang, "live.console.title", nil))
	p.Data = data
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return s.render(c, p)
}

// liveCitizenFile takes a document the citizen shows during the call.
func (s *Server) liveCitizenFile(c *fiber.Ctx) error {
	e, err := s.myEntry(c)
	if err != nil {
		return err
	}
	return s.liveFile(c, e, s.dossierActor(c), "citizen")
}

// liveOperatorFile takes a document the operator hands over in the call.
func (s *Server) liveOperatorFile(c *fiber.Ctx) error {
	e, err := s.operatorEntry(c)
	if err != nil {
		return err
	}
	return s.liveFile(c, e, s.dossierActor(c), "operator")
}

// operatorEntry is the entry of the path, which must be the signed-in
// operator's call.
func (s *Server) operatorEntry(c *fiber.Ctx) (*live.Entry, error) {
	rs := state(c)
	id, err := pathID(c, "entry")
	if err != nil {
		return nil, err
	}
	e, err := s.Live.Hub().Queue().Get(c.UserContext(), rs.tenant.ID, id)
	if err != nil {
		return nil, err
	}
	if e.Status != "in_call" || e.OperatorID != rs.session.Subject.UserID {
		return nil, fmt.Errorf("entry %d is not your call: %w", id, live.ErrTaken)
	}
	return e, nil
}

// liveFile keeps a document on the call's dossier and shows it to both
// sides, each with the link of their own pages.
func (s *Server) liveFile(c *fiber.Ctx, e *live.Entry, by dossier.Actor, from string) error {
	if e.Status != "in_call" {
		return fmt.Errorf("entry %d, %s: %w", e.ID, e.Status, live.ErrTaken)
	}
	rs := state(c)
	if err := s.attachFile(c, e.DossierID, dossier.AnyVersion, by); err != nil {
		return err
	}
	list, err := s.Dossiers.Attachments(c.UserContext(), rs.tenant.ID, e.DossierID, false)
	if err != nil || len(list) == 0 {
		return fmt.Errorf("read the file just attached: %w", err)
	}
	a := list[len(list)-1]
	for _, x := range list {
		if x.ID > a.ID {
			a = x
		}
	}
	mine := fmt.Sprintf("%s/requests/%d/attachments/%d", rs.base, e.DossierID, a.ID)
	theirs := fmt.Sprintf("%s/backoffice/requests/%d/attachments/%d", rs.base, e.DossierID, a.ID)
	if from == "operator" {
		mine, theirs = theirs, mine
	}
	forCitizen, forOperator := map[string]string{"type": "file", "name": a.Name, "from": from, "url": mine},
		map[string]string{"type": "file", "name": a.Name, "from": from, "url": theirs}
	if from == "operator" {
		forCitizen, forOperator = forOperator, forCitizen
	}
	if err := s.Live.Hub().Share(c.UserContext(), rs.tenant.ID, e.ID, forCitizen, forOperator); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"name": a.Name, "url": forCitizen["url"]})
}

// liveLink hands the citizen in the call one of their dossiers (a request
// the operator just filed for them, one with a payment to make): it
// opens on their side as a link to its page.
func (s *Server) liveLink(c *fiber.Ctx) error {
	e, err := s.operatorEntry(c)
	if err != nil {
		return err
	}
	rs := state(c)
	number := strings.TrimSpace(c.FormValue("number"))
	if number == "" || len(number) > 40 {
		return fmt.Errorf("number %q: %w", number, errBadInput)
	}
	d, err := s.Dossiers.GetByNumber(c.UserContext(), rs.tenant.ID, number)
	if err != nil || d.CitizenID != e.CitizenID {
		return errNotFound
	}
	link := map[string]string{"type": "link", "label": d.Number + " · " + d.Title,
		"url": rs.base + "/requests/" + strconv.FormatInt(d.ID, 10)}
	if err := s.Live.Hub().Share(c.UserContext(), rs.tenant.ID, e.ID, link, nil); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"url": link["url"]})
}

// livePayment asks the citizen in the call to pay: the live service's
// payment action on the call's dossier, then a link to the payment on the
// citizen's side.
func (s *Server) livePayment(c *fiber.Ctx) error {
	e, err := s.operatorEntry(c)
	if err != nil {
		return err
	}
	rs := state(c)
	ctx := c.UserContext()
	rec, err := s.Catalog.Get(ctx, liveService)
	if err != nil {
		return errNotFound
	}
	action := dossierAction(rec, "staff", "payment")
	if action == nil || s.Payments == nil {
		return errNotFound
	}
	d, err := s.Dossiers.Get(ctx, rs.tenant.ID, e.DossierID)
	if err != nil {
		return err
	}
	out, err := s.runDossierAction(c, rec, action, d, s.dossierActor(c), dossier.AnyVersion)
	if err != nil {
		return err
	}
	if out.status != fiber.StatusOK {
		var msgs []string
		for _, m := range out.errs {
			msgs = append(msgs, m)
		}
		return c.Status(out.status).JSON(fiber.Map{"error": strings.Join(msgs, " ")})
	}
	pays, err := s.Payments.ForDossier(ctx, rs.tenant.ID, d.ID)
	if err != nil || len(pays) == 0 {
		return fmt.Errorf("the payment just asked for: %w", err)
	}
	p := pays[0]
	for _, x := range pays {
		if x.ID > p.ID {
			p = x
		}
	}
	link := map[string]string{"type": "link", "label": fmt.Sprintf("%s · %s %d.%02d", p.Reason, p.Currency, p.AmountCents/100, p.AmountCents%100),
		"url": rs.base + "/payments/" + strconv.FormatInt(p.ID, 10)}
	if err := s.Live.Hub().Share(ctx, rs.tenant.ID, e.ID, link, nil); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"url": link["url"], "message": out.message})
}
