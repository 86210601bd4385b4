package server

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/appointment"
)

// The queue API of an office's counter system ("eliminacode"): JSON over
// HTTP, authenticated by a key issued for one office (`sportello
// appointments api-key create`), sent as "Authorization: Bearer <key>".
//
//	GET  {base}/api/queue/{office}/today             the day's appointments
//	POST {base}/api/queue/{office}/{code}/check-in   the person has arrived
//	POST {base}/api/queue/{office}/{code}/call       called to a desk ({"counter": "3"})
//	POST {base}/api/queue/{office}/{code}/serve      served
//
// The routes come before the session and CSRF middleware: a key, not a
// cookie, says who calls, so there is nothing for a forged form to ride on.

const queueOfficeKey = "sportello.queue.office"

func (s *Server) queueAPIRoutes(app *fiber.App, limit fiber.Handler) {
	chain := func(h fiber.Handler) []fiber.Handler {
		return []fiber.Handler{s.resolveTenant, s.requireTenant, s.language, limit, s.queueKey, s.idempotent, h}
	}
	for _, prefix := range []string{"/t/:tenant/api/queue", "/api/queue"} {
		app.Get(prefix+"/:office/today", chain(s.queueToday)...)
		app.Post(prefix+"/:office/:code/check-in", chain(s.queueCheckIn)...)
		app.Post(prefix+"/:office/:code/call", chain(s.queueCall)...)
		app.Post(prefix+"/:office/:code/serve", chain(s.queueServe)...)
	}
}

// queueKey admits a request whose key was issued by this town for the
// office of the path: no key or an unknown one is 401 (a key of another
// town is unknown here), a key of another office 403.
func (s *Server) queueKey(c *fiber.Ctx) error {
	if s.Appointments == nil {
		return errNotFound
	}
	key := strings.TrimSpace(strings.TrimPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "))
	if key == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="queue"`)
		return appointment.ErrKey
	}
	office, err := s.Appointments.KeyOffice(c.UserContext(), state(c).tenant.ID, key)
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="queue", error="invalid_token"`)
		return err
	}
	if office.Slug != c.Params("office") {
		return appointment.ErrOtherOffice
	}
	c.Locals(queueOfficeKey, office)
	return c.Next()
}

func queueOffice(c *fiber.Ctx) appointment.Office {
	o, _ := c.Locals(queueOfficeKey).(appointment.Office)
	return o
}

// counterItem is one appointment as the counter system reads it.
type counterItem struct {
	Code        string     `json:"code"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	Topic       string     `json:"topic"`
	TopicName   string     `json:"topic_name"`
	Name        string     `json:"name"`
	State       string     `json:"state"`
	CheckedInAt *time.Time `json:"checked_in_at,omitempty"`
	CalledAt    *time.Time `json:"called_at,omitempty"`
	ServedAt    *time.Time `json:"served_at,omitempty"`
	Calls       int        `json:"calls"`
	Counter     string     `json:"counter,omitempty"`
}

func (s *Server) counterItem(c *fiber.Ctx, a *appointment.Appointment) counterItem {
	when := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.In(a.Start.Location())
		return &t
	}
	return counterItem{Code: a.Code, Start: a.Start, End: a.End, Topic: a.Topic.Slug, TopicName: a.Topic.Name.In(state(c).lang),
		Name: a.Contact.Name, State: string(a.State), CheckedInAt: when(a.CheckedInAt), CalledAt: when(a.CalledAt),
		ServedAt: when(a.ServedAt), Calls: a.Calls, Counter: a.Counter}
}

func (s *Server) queueToday(c *fiber.Ctx) error {
	office := queueOffice(c)
	list, err := s.Appointments.Today(c.UserContext(), state(c).tenant.ID, office)
	if err != nil {
		return err
	}
	items := make([]counterItem, 0, len(list))
	for i := range list {
		items = append(items, s.counterItem(c, &list[i]))
	}
	return c.JSON(fiber.Map{"office": office.Slug, "office_name": office.Name.In(state(c).lang), "appointments": items})
}

func (s *Server) queueCheckIn(c *fiber.Ctx) error {
	a, err := s.Appointments.CheckIn(c.UserContext(), state(c).tenant.ID, queueOffice(c), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(s.counterItem(c, a))
}

func (s *Server) queueCall(c *fiber.Ctx) error {
	var body struct {
		Counter string `json:"counter" form:"counter"`
	}
	if len(c.Body()) > 0 {
		if err := c.BodyParser(&body); err != nil {
			return errBadInput
		}
	}
	a, err := s.Appointments.Call(c.UserContext(), state(c).tenant.ID, queueOffice(c), c.Params("code"), body.Counter)
	if err != nil {
		return err
	}
	return c.JSON(s.counterItem(c, a))
}

func (s *Server) queueServe(c *fiber.Ctx) error {
	a, err := s.Appointments.Serve(c.UserContext(), state(c).tenant.ID, queueOffice(c), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(s.counterItem(c, a))
}
