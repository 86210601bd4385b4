package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/authz"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/live"
	"github.com/sportello/sportello/core/open311"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/core/timeline"
	"github.com/sportello/sportello/web"
)

// Errors the handlers return; errorStatus maps them, and every sentinel of
// the core packages, to an HTTP status in this one place.
var (
	errNotFound       = errors.New("not found")
	errTenantNotFound = errors.New("tenant not found")
	errForbidden      = errors.New("forbidden")
	errCSRF           = errors.New("invalid CSRF token")
	errLoginRequired  = errors.New("login required")
	errBadInput       = errors.New("invalid input")
)

// errorStatus maps an error to its HTTP status and the message id shown to
// the person (translated by the catalogue).
func errorStatus(err error) (int, string) {
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusNotFound:
			return fe.Code, "error.not_found"
		case fiber.StatusMethodNotAllowed:
			return fe.Code, "error.method_not_allowed"
		case fiber.StatusRequestEntityTooLarge:
			return fe.Code, "error.too_large"
		case fiber.StatusRequestHeaderFieldsTooLarge, fiber.StatusBadRequest:
			return fiber.StatusBadRequest, "error.bad_request"
		case fiber.StatusUnprocessableEntity:
			return fe.Code, "error.invalid_input"
		case fiber.StatusTooManyRequests:
			return fe.Code, "error.too_many"
		case fiber.StatusServiceUnavailable:
			return fe.Code, "error.unavailable"
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return fe.Code, "error.bad_request"
		}
		return fiber.StatusInternalServerError, "error.internal"
	case errors.Is(err, errTenantNotFound):
		return fiber.StatusNotFound, "error.tenant_not_found"
	case errors.Is(err, errNotFound), errors.Is(err, authz.ErrNotFound), errors.Is(err, store.ErrNoTenant),
		errors.Is(err, catalog.ErrNotFound), errors.Is(err, timeline.ErrNotFound):
		return fiber.StatusNotFound, "error.not_found"
	case errors.Is(err, errForbidden):
		return fiber.StatusForbidden, "error.forbidden"
	case errors.Is(err, errCSRF):
		return fiber.StatusForbidden, "error.csrf"
	case errors.Is(err, errIdempotencyKey):
		return fiber.StatusBadRequest, "error.idempotency.key"
	case errors.Is(err, errIdempotencyMismatch):
		return fiber.StatusUnprocessableEntity, "error.idempotency.mismatch"
	case errors.Is(err, errIdempotencyBusy):
		return fiber.StatusConflict, "error.idempotency.busy"
	case errors.Is(err, errLoginRequired), errors.Is(err, authn.ErrNoSession):
		return fiber.StatusUnauthorized, "error.login_required"
	case errors.Is(err, errBadInput), errors.Is(err, authz.ErrInvalidRule), errors.Is(err, tenancy.ErrInvalidManifest):
		return fiber.StatusUnprocessableEntity, "error.invalid_input"
	case errors.Is(err, tenancy.ErrConflict), errors.Is(err, catalog.ErrWrongState):
		return fiber.StatusConflict, "error.conflict"
	case errors.Is(err, authn.ErrLoginFailed):
		return fiber.StatusBadRequest, "error.login_failed"
	case errors.Is(err, pluginhost.ErrUnavailable), errors.Is(err, pluginhost.ErrFailed):
		return fiber.StatusServiceUnavailable, "error.unavailable"
	case errors.Is(err, pluginhost.ErrNotFound), errors.Is(err, pluginhost.ErrMissing):
		return fiber.StatusNotFound, "error.not_found"
	case errors.Is(err, pluginhost.ErrInvalid):
		return fiber.StatusUnprocessableEntity, "error.invalid_input"
	case errors.Is(err, pluginhost.ErrForbidden):
		return fiber.StatusForbidden, "error.forbidden"
	case errors.Is(err, pluginhost.ErrConflict), errors.Is(err, live.ErrTaken), errors.Is(err, live.ErrAlreadyQueued),
		errors.Is(err, live.ErrQueueEmpty), errors.Is(err, live.ErrOperatorBusy):
		return fiber.StatusConflict, "error.conflict"
	case errors.Is(err, live.ErrNoEntry):
		return fiber.StatusNotFound, "error.not_found"
	case errors.Is(err, live.ErrInvalid):
		return fiber.StatusUnprocessableEntity, "error.invalid_input"
	case errors.Is(err, dossier.ErrStale):
		return fiber.StatusConflict, "dossier.error.stale"
	case errors.Is(err, dossier.ErrNotFound):
		return fiber.StatusNotFound, "dossier.error.not_found"
	case errors.Is(err, dossier.ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge, "dossier.error.too_large"
	case errors.Is(err, dossier.ErrFileType):
		return fiber.StatusUnprocessableEntity, "dossier.error.file_type"
	case errors.Is(err, dossier.ErrInvalid):
		return fiber.StatusUnprocessableEntity, "error.invalid_input"
	case errors.Is(err, docsign.ErrNotPDF):
		return fiber.StatusUnprocessableEntity, "docsign.error.not_pdf"
	case errors.Is(err, docsign.ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge, "docsign.error.too_large"
	case errors.Is(err, docsign.ErrBadCertificate):
		return fiber.StatusUnprocessableEntity, "docsign.error.bad_certificate"
	case isPaymentError(err):
		status, msgID, _ := paymentError(err)
		return status, msgID
	case errors.Is(err, appointment.ErrState):
		return fiber.StatusConflict, appointment.MessageID(err)
	case errors.Is(err, appointment.ErrKey):
		return fiber.StatusUnauthorized, "appointments.error.key"
	case errors.Is(err, appointment.ErrOtherOffice):
		return fiber.StatusForbidden, "appointments.error.other_office"
	case errors.Is(err, appointment.ErrLoginRequired):
		return fiber.StatusUnauthorized, "error.login_required"
	case errors.Is(err, appointment.ErrNotFound):
		return fiber.StatusNotFound, "appointments.error.not_found"
	case errors.Is(err, appointment.ErrInvalid):
		return fiber.StatusUnprocessableEntity, "error.invalid_input"
	case errors.Is(err, booking.ErrSlotTaken):
		return fiber.StatusConflict, "booking.error.taken"
	case errors.Is(err, booking.ErrCancelDeadline):
		return fiber.StatusConflict, "booking.error.cancel_deadline"
	case errors.Is(err, booking.ErrHoldExpired):
		return fiber.StatusConflict, "booking.error.hold_expired"
	case errors.Is(err, booking.ErrOutsideHours):
		return fiber.StatusUnprocessableEntity, "booking.error.outside_hours"
	case errors.Is(err, booking.ErrPast):
		return fiber.StatusUnprocessableEntity, "booking.error.past"
	case errors.Is(err, booking.ErrBeyondHorizon):
		return fiber.StatusUnprocessableEntity, "booking.error.horizon"
	case errors.Is(err, booking.ErrClosed):
		return fiber.StatusUnprocessableEntity, "booking.error.closed"
	case errors.Is(err, booking.ErrWrongState):
		return fiber.StatusConflict, "error.conflict"
	case errors.Is(err, booking.ErrNotFound):
		return fiber.StatusNotFound, "error.not_found"
	case errors.Is(err, booking.ErrInvalid):
		return fiber.StatusUnprocessableEntity, "error.invalid_input"
	case errors.Is(err, open311.ErrKeyMissing):
		return fiber.StatusForbidden, "open311.error.key_missing"
	case errors.Is(err, open311.ErrKeyUnknown):
		return fiber.StatusForbidden, "open311.error.key_unknown"
	case errors.Is(err, open311.ErrKeyOtherTown):
		return fiber.StatusForbidden, "open311.error.key_other_town"
	case errors.Is(err, open311.ErrNotOffered):
		return fiber.StatusNotFound, "open311.error.not_offered"
	case errors.Is(err, open311.ErrJurisdiction):
		return fiber.StatusNotFound, "open311.error.jurisdiction"
	case errors.Is(err, open311.ErrUnknownService):
		return fiber.StatusNotFound, "open311.error.service_code"
	case errors.Is(err, open311.ErrUnknownRequest):
		return fiber.StatusNotFound, "open311.error.request"
	case errors.Is(err, open311.ErrFormat):
		return fiber.StatusBadRequest, "open311.error.format"
	case errors.Is(err, open311.ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge, "open311.error.too_large"
	case errors.Is(err, open311.ErrInvalid):
		return fiber.StatusBadRequest, "open311.error.invalid"
	case errors.Is(err, context.DeadlineExceeded), store.Unavailable(err):
		// The database down or restarting is no fault of the request:
		// the same one passes once it is back.
		return fiber.StatusServiceUnavailable, "error.unavailable"
	}
	return fiber.StatusInternalServerError, "error.internal"
}

// handleError is fiber's ErrorHandler: every error of every route ends here
// and becomes a page or a JSON body with the right status.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, msgID := errorStatus(err)
	rs := state(c)
	log := s.log.With("request_id", rs.requestID, "path", c.Path(), "status", status)
	if rs.tenant != nil {
		log = log.With("tenant", rs.tenant.Slug)
	}
	if status >= 500 {
		log.Error("request failed", "err", err)
	} else {
		log.Debug("request refused", "err", err)
	}
	if status == fiber.StatusUnauthorized && !wantsJSON(c) && !isOpen311(c) && c.Method() == fiber.MethodGet {
		return c.Redirect(s.loginURL(c), fiber.StatusSeeOther)
	}
	msg := s.i18n.T(rs.lang, msgID, messageData(err, rs.lang))
	if isOpen311(c) {
		return s.open311Fail(c, status, msg, err)
	}
	if wantsJSON(c) {
		return c.Status(status).JSON(fiber.Map{"error": msg, "code": strings.TrimPrefix(msgID, "error."), "status": status, "request_id": rs.requestID})
	}
	p := s.page(c, "error", s.i18n.T(rs.lang, "error.title", map[string]any{"Status": status}))
	p.Data = web.ErrorData{Status: status, Message: msg}
	return s.renderStatus(c, status, p)
}

// messageData fills the placeholders of an error's message when the error
// carries them (a refused booking names the deadline or the first free day).
func messageData(err error, lang string) map[string]any {
	var d interface {
		MessageData(lang string) map[string]any
	}
	if errors.As(err, &d) {
		return d.MessageData(lang)
	}
	return nil
}

func wantsJSON(c *fiber.Ctx) bool {
	if strings.HasPrefix(c.Path(), "/api/") || strings.Contains(c.Path(), "/api/") {
		return true
	}
	accept := c.Get(fiber.HeaderAccept)
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func logAttrs(rs *reqState) []any {
	attrs := []any{slog.String("request_id", rs.requestID)}
	if rs.tenant != nil {
		attrs = append(attrs, slog.String("tenant", rs.tenant.Slug))
	}
	return attrs
}
