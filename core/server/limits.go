package server

import (
	"errors"
	"mime/multipart"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Requests fasthttp refuses while reading them (a body over BodyLimit, a
// header too large, a multipart body of too many parts) never reach the
// routes: fiber answers them from its server's error handler, before any
// middleware ran, so the page had neither the request's language, nor
// the town's look, nor the security headers, nor a line in the log. And
// for a body far over the limit the connection was closed on a client
// still sending, whose system then drops the answer unread: the person
// saw "connection reset" instead of "too large".
//
// answerReadErrors takes over that error handler: it reads and discards
// what the client is still sending (within bounds), then passes the
// request, without its body, through the same middleware every request
// passes (request id, security headers, town, language, session), whose
// last step raises the refusal; handleError then answers it as any other
// error: a page, JSON or an Open311 error list, in the request's language.
func (s *Server) answerReadErrors() {
	early := fiber.New(fiber.Config{ErrorHandler: s.handleError, DisableStartupMessage: true})
	early.Use(s.recoverPanics, s.begin, s.securityHeaders, s.resolveTenant, s.language, s.loadSession,
		func(c *fiber.Ctx) error {
			err, _ := c.Locals(readErrorKey).(error)
			if err == nil {
				err = fiber.ErrBadRequest
			}
			return err
		})
	handle := early.Handler()
	s.app.Server().ErrorHandler = func(fctx *fasthttp.RequestCtx, err error) {
		ferr := readError(err)
		if ferr.Code == fiber.StatusRequestEntityTooLarge && errors.Is(err, fasthttp.ErrBodyTooLarge) {
			drainBody(fctx.Conn(), int64(fctx.Request.Header.ContentLength()), int64(s.cfg.BodyLimit))
		}
		fctx.Request.ResetBody()
		fctx.Request.Header.SetContentLength(0)
		fctx.SetUserValue(readErrorKey, ferr)
		handle(fctx)
	}
}

const readErrorKey = "sportello.read_error"

// readError is the HTTP error of what fasthttp could not read, as fiber
// maps it, but for a multipart body of more parts or headers than the
// multipart reader takes, which is too large rather than malformed.
func readError(err error) *fiber.Error {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge), errors.Is(err, multipart.ErrMessageTooLarge):
		return fiber.ErrRequestEntityTooLarge
	case errors.As(err, &small):
		return fiber.ErrRequestHeaderFieldsTooLarge
	case errors.As(err, &netErr) && netErr.Timeout():
		return fiber.ErrRequestTimeout
	case errors.Is(err, fasthttp.ErrGetOnly):
		return fiber.ErrMethodNotAllowed
	}
	return fiber.ErrBadRequest
}

// Draining a refused body: up to drainFactor times the limit, for at most
// drainTime, waiting at most drainIdle for the next bytes. A body larger
// still, or a client that stalls, is cut off as before.
const (
	drainFactor = 4
	drainTime   = 30 * time.Second
	drainIdle   = 5 * time.Second
	// drainSlack is what fasthttp may have read of the body already (its
	// read buffer); past announced-drainSlack the rest comes at once or
	// not at all, so the wait for it is short.
	drainSlack = 64 << 10
	drainTail  = 100 * time.Millisecond
)

// drainBody reads and discards the rest of a body of announced bytes (its
// Content-Length) that was refused for exceeding limit, so that closing
// the connection after the answer does not reset it under a client still
// sending. A body of unknown length (chunked) is not waited for.
func drainBody(conn net.Conn, announced, limit int64) {
	if conn == nil || announced <= 0 || announced > drainFactor*max(limit, 1) {
		return
	}
	deadline := time.Now().Add(drainTime)
	buf := make([]byte, 32<<10)
	var got int64
	for got < announced {
		idle := drainIdle
		if got >= announced-drainSlack {
			idle = drainTail
		}
		until := time.Now().Add(idle)
		if until.After(deadline) {
			until = deadline
		}
		_ = conn.SetReadDeadline(until)
		n, err := conn.Read(buf)
		got += int64(n)
		if err != nil {
			return
		}
	}
}
