package server

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/payments"
	"github.com/sportello/sportello/web"
)

func (s *Server) paymentRoutes(r fiber.Router) {
	r.Get("/payments", s.requireTenant, s.require("requests/payments", "read"), s.myPayments)
	r.Get("/payments/:id", s.requireTenant, s.withPayment, s.paymentPage)
	r.Post("/payments/:id/checkout", s.requireTenant, s.withPayment, s.paymentCheckout)
	r.Get("/payments/:id/local", s.requireTenant, s.withPayment, s.localCheckoutPage)
	r.Post("/payments/:id/local", s.requireTenant, s.withPayment, s.localCheckout)
	r.Post("/payments/:id/paid", s.requireTenant, s.withPayment, s.require("backoffice/requests/payments", "write"), s.recordPayment)
	r.Post("/payments/:id/cancel", s.requireTenant, s.withPayment, s.require("backoffice/requests/payments", "write"), s.cancelPayment)
}

const paymentKey = "sportello.payment"

// withPayment loads the payment of the route, for the citizen who owes it
// or for staff who may read the back office's requests; anyone else gets
// 404, as if it did not exist.
func (s *Server) withPayment(c *fiber.Ctx) error {
	rs := state(c)
	if s.Payments == nil {
		return errNotFound
	}
	if rs.session == nil {
		return errLoginRequired
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound
	}
	p, err := s.Payments.Get(c.UserContext(), rs.tenant.ID, id)
	if err != nil {
		return err
	}
	sub := rs.session.Subject
	switch {
	case sub.CitizenID > 0 && sub.CitizenID == p.CitizenID:
	case sub.UserID > 0:
		ok, err := s.Authz.Enforce(c.UserContext(), rs.tenant.ID, rs.subject, "backoffice/requests/payments", "read")
		if err != nil {
			return fmt.Errorf("authorize payment %d: %w", id, err)
		}
		if !ok {
			return errNotFound
		}
	default:
		return errNotFound
	}
	c.Locals(paymentKey, p)
	return c.Next()
}

func payment(c *fiber.Ctx) *payments.Payment {
	p, _ := c.Locals(paymentKey).(*payments.Payment)
	return p
}

func (s *Server) paymentURL(c *fiber.Ctx, id int64) string {
	return state(c).base + "/payments/" + strconv.FormatInt(id, 10)
}

func (s *Server) paymentData(c *fiber.Ctx, p *payments.Payment) (web.PaymentData, error) {
	rs := state(c)
	staff := rs.session.Subject.UserID > 0
	d := web.PaymentData{
		ID: p.ID, Reason: p.Reason, Amount: i18n.FormatMoney(rs.lang, p.AmountCents, p.Currency),
		Status: string(p.Status), IUV: p.IUV, NoticeCode: p.NoticeCode,
		Due: i18n.FormatDateTime(rs.lang, p.ExpiresAt), PaidAt: i18n.FormatDateTime(rs.lang, p.PaidAt),
		Failure:     p.Failure,
		CheckoutURL: s.paymentURL(c, p.ID) + "/checkout",
	}
	open := !p.Status.Final()
	d.AtCounter = open && p.Provider == "counter"
	d.CanPay = open && !staff && p.Provider != "counter"
	d.CanRecord = open && staff && p.Status != payments.CreationPending
	d.CanCancel = open && staff
	if p.DossierID > 0 {
		d.DossierURL = rs.base + "/requests/" + strconv.FormatInt(p.DossierID, 10)
		if staff {
			d.DossierURL = rs.base + "/backoffice/requests/" + strconv.FormatInt(p.DossierID, 10)
		}
	}
	events, err := s.Payments.Events(c.UserContext(), rs.tenant.ID, p.ID)
	if err != nil {
		return d, err
	}
	for _, e := range events {
		d.History = append(d.History, web.PaymentEvent{At: i18n.FormatDateTime(rs.lang, e.At), Status: string(e.Status), Actor: e.Actor})
	}
	return d, nil
}

func (s *Server) paymentPage(c *fiber.Ctx) error {
	rs := state(c)
	p := payment(c)
	// A position still waiting for its provider is opened when its citizen
	// comes to pay, rather than on the sweeper's next round.
	if p.Status == payments.CreationPending {
		opened, err := s.Payments.Open(c.UserContext(), rs.tenant.ID, p.ID)
		if err != nil {
			return err
		}
		p = opened
	}
	d, err := s.paymentData(c, p)
	if err != nil {
		return err
	}
	if wantsJSON(c) {
		return c.JSON(d)
	}
	page := s.page(c, "payment", s.i18n.T(rs.lang, "payment.title", nil))
	if done := c.Query("done"); done != "" {
		if id, ok := map[string]string{"paid": "payment.done.paid", "failed": "payment.done.failed", "back": "payment.done.back",
			"recorded": "payment.done.recorded", "canceled": "payment.done.canceled"}[done]; ok {
			page.Flash = s.i18n.T(rs.lang, id, nil)
		}
	}
	page.Data = d
	return s.render(c, page)
}

func (s *Server) paymentCheckout(c *fiber.Ctx) error {
	rs := state(c)
	p := payment(c)
	if rs.session.Subject.CitizenID != p.CitizenID {
		return errForbidden // staff record payments; they do not pay for citizens
	}
	url, _, err := s.Payments.Checkout(c.UserContext(), rs.tenant.ID, p.ID,
		"citizen:"+strconv.FormatInt(p.CitizenID, 10), s.paymentURL(c, p.ID))
	if err != nil {
		return err
	}
	if url == "" {
		url = s.paymentURL(c, p.ID)
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}

// localCheckoutPage is the local test provider's own page; with another
// provider the payment has no such page.
func (s *Server) localCheckoutPage(c *fiber.Ctx) error {
	rs := state(c)
	p := payment(c)
	if p.Provider != "local" || rs.session.Subject.CitizenID != p.CitizenID {
		return errNotFound
	}
	if p.Status != payments.PaymentStarted {
		return c.Redirect(s.paymentURL(c, p.ID), fiber.StatusSeeOther)
	}
	d, err := s.paymentData(c, p)
	if err != nil {
		return err
	}
	page := s.page(c, "payment_local", s.i18n.T(rs.lang, "payment.local.title", nil))
	page.Data = d
	return s.render(c, page)
}

// localCheckout is the outcome the local provider reports, as a payment
// service provider's notification would.
func (s *Server) localCheckout(c *fiber.Ctx) error {
	rs := state(c)
	p := payment(c)
	if p.Provider != "local" || rs.session.Subject.CitizenID != p.CitizenID {
		return errNotFound
	}
	to, done := map[string]payments.Status{"pay": payments.Complete, "fail": payments.PaymentFailed,
		"back": payments.PaymentPending}, ""
	status, ok := to[c.FormValue("outcome")]
	if !ok {
		return fmt.Errorf("outcome %q: %w", c.FormValue("outcome"), errBadInput)
	}
	done = map[payments.Status]string{payments.Complete: "paid", payments.PaymentFailed: "failed", payments.PaymentPending: "back"}[status]
	if _, err := s.Payments.Transition(c.UserContext(), rs.tenant.ID, p.ID, status, "provider:local", ""); err != nil {
		return err
	}
	return c.Redirect(s.paymentURL(c, p.ID)+"?done="+done, fiber.StatusSeeOther)
}

func (s *Server) recordPayment(c *fiber.Ctx) error {
	return s.staffPaymentChange(c, payments.Complete, "recorded")
}

func (s *Server) cancelPayment(c *fiber.Ctx) error {
	return s.staffPaymentChange(c, payments.Canceled, "canceled")
}

func (s *Server) staffPaymentChange(c *fiber.Ctx, to payments.Status, done string) error {
	rs := state(c)
	p := payment(c)
	actor := "user:" + strconv.FormatInt(rs.session.Subject.UserID, 10)
	if _, err := s.Payments.Transition(c.UserContext(), rs.tenant.ID, p.ID, to, actor, ""); err != nil {
		return err
	}
	return c.Redirect(s.paymentURL(c, p.ID)+"?done="+done, fiber.StatusSeeOther)
}

func (s *Server) myPayments(c *fiber.Ctx) error {
	rs := state(c)
	if s.Payments == nil {
		return errNotFound
	}
	var d web.PaymentsData
	if id := rs.session.Subject.CitizenID; id > 0 {
		list, err := s.Payments.ForCitizen(c.UserContext(), rs.tenant.ID, id, 100)
		if err != nil {
			return err
		}
		for _, p := range list {
			d.Payments = append(d.Payments, paymentRow(s, c, rs.lang, p))
		}
	}
	if wantsJSON(c) {
		return c.JSON(d)
	}
	page := s.page(c, "payments", s.i18n.T(rs.lang, "payments.title", nil))
	page.Data = d
	return s.render(c, page)
}

// dossierPayments are the payments a citizen's request asks of them.
func (s *Server) dossierPayments(c *fiber.Ctx, d *dossier.Dossier) ([]web.PaymentRow, error) {
	if s.Payments == nil {
		return nil, nil
	}
	rs := state(c)
	list, err := s.Payments.ForDossier(c.UserContext(), rs.tenant.ID, d.ID)
	if err != nil {
		return nil, err
	}
	var out []web.PaymentRow
	for _, p := range list {
		if p.CitizenID != d.CitizenID {
			continue
		}
		out = append(out, paymentRow(s, c, rs.lang, p))
	}
	return out, nil
}

func paymentRow(s *Server, c *fiber.Ctx, lang string, p *payments.Payment) web.PaymentRow {
	return web.PaymentRow{URL: s.paymentURL(c, p.ID), Reason: p.Reason, Amount: i18n.FormatMoney(lang, p.AmountCents, p.Currency),
		Status: string(p.Status), Date: i18n.FormatDate(lang, p.CreatedAt)}
}

// paymentError is the status and message of a payments error, for
// errorStatus.
func paymentError(err error) (int, string, bool) {
	switch {
	case errors.Is(err, payments.ErrNotFound):
		return fiber.StatusNotFound, "error.not_found", true
	case errors.Is(err, payments.ErrHoldLost):
		return fiber.StatusConflict, "payment.error.hold_lost", true
	case errors.Is(err, payments.ErrState):
		return fiber.StatusConflict, "payment.error.state", true
	case errors.Is(err, payments.ErrProvider):
		return fiber.StatusServiceUnavailable, "payment.error.provider", true
	}
	return 0, "", false
}

func isPaymentError(err error) bool {
	_, _, ok := paymentError(err)
	return ok
}
