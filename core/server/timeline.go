package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/timeline"
	"github.com/sportello/sportello/web"
)

// Entries on a citizen's timeline page, and on its longer form.
const (
	timelineShort = 100
	timelineLong  = 1000
)

func (s *Server) timelineRoutes(r fiber.Router) {
	read := s.require("backoffice/citizens", "read")
	r.Get("/backoffice/citizens", s.requireTenant, read, s.citizensPage)
	r.Get("/backoffice/citizens/:id", s.requireTenant, read, s.citizenPage)
}

// citizensPage finds citizens by name, e-mail or fiscal code.
func (s *Server) citizensPage(c *fiber.Ctx) error {
	rs := state(c)
	if _, err := s.openDesk(c); err != nil {
		return err
	}
	q := []rune(strings.TrimSpace(c.Query("q")))
	d := &web.CitizensData{Query: string(q[:min(len(q), maxSearch)])}
	if d.Query != "" {
		d.Searched = true
		found, err := timeline.Search(c.UserContext(), s.DB, rs.tenant.ID, d.Query, 50)
		if err != nil {
			return err
		}
		for _, m := range found {
			d.Matches = append(d.Matches, web.CitizenMatch{Name: m.Name, Email: m.Email, FiscalCode: m.FiscalCode,
				Requests: m.Requests, URL: rs.base + "/backoffice/citizens/" + strconv.FormatInt(m.ID, 10)})
		}
	}
	p := s.page(c, "backoffice_citizens", s.i18n.T(rs.lang, "timeline.citizens", nil))
	p.Data = d
	return s.render(c, p)
}

// citizenPage is a citizen's timeline. Reading it is personal data seen
// by staff: each view goes into the audit log.
func (s *Server) citizenPage(c *fiber.Ctx) error {
	rs := state(c)
	dk, err := s.openDesk(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	limit := timelineShort
	if c.Query("all") == "1" {
		limit = timelineLong
	}
	tl, err := timeline.Of(c.UserContext(), s.DB, rs.tenant.ID, id, rs.lang, limit)
	if err != nil {
		return err
	}
	s.audit(c, "read", "citizen:"+strconv.FormatInt(id, 10))
	cz := tl.Citizen
	d := &web.TimelineData{Name: cz.Name, Email: cz.Email, FiscalCode: cz.FiscalCode, Registered: cz.Registered, LastLogin: cz.LastLogin}
	k := tl.Consents
	d.EmailConsent = s.consentText(rs.lang, k.Known, k.Email, k.EmailAt)
	d.SMSConsent = s.consentText(rs.lang, k.Known, k.SMS, k.SMSAt)
	if k.SMS {
		d.Phone = k.Phone
	}
	if tl.More && limit == timelineShort {
		d.MoreURL = rs.base + "/backoffice/citizens/" + strconv.FormatInt(id, 10) + "?all=1"
	}
	open := map[int64]bool{}
	for _, e := range tl.Entries {
		v := web.CitizenEvent{At: e.At, Kind: e.Kind, Label: s.i18n.T(rs.lang, "timeline.kind."+e.Kind, nil),
			Number: e.Number, Title: e.Title, Text: e.Text, Internal: e.Internal, Until: e.Until}
		rec := dk.services[e.ServiceID]
		if e.DossierID != 0 {
			v.URL = s.dossierURL(c, e.DossierID)
			v.Service = s.serviceLabel(dk.services, rs.lang, e.ServiceID)
		}
		switch e.Kind {
		case timeline.KindFiled, timeline.KindStatus:
			label, final := s.statusLabel(rec, rs.lang, e.Status)
			v.Status = label
			if e.Kind == timeline.KindFiled {
				open[e.DossierID] = !final
				v.Channel = s.i18n.T(rs.lang, "dossier.channel."+e.Channel, nil)
			}
		case timeline.KindMessage:
			v.Label = s.i18n.T(rs.lang, "timeline.kind.message."+messageAuthor(e.Author), nil)
		case timeline.KindAppointment, timeline.KindBooking:
			v.Status = s.i18n.T(rs.lang, "timeline.status."+e.Status, nil)
			if e.Channel != "" {
				v.Channel = s.i18n.T(rs.lang, "dossier.channel."+e.Channel, nil)
			}
		case timeline.KindConsultation:
			v.Status = s.i18n.T(rs.lang, "timeline.status."+e.Status, nil)
			v.Channel = s.i18n.T(rs.lang, "timeline.mode."+e.Channel, nil)
			if e.Author != "" {
				v.Channel += " · " + s.i18n.T(rs.lang, "timeline.operator", map[string]any{"Name": e.Author})
			}
			// A call's desk is its title; its topic is what the citizen said.
			v.Service = ""
		case timeline.KindPayment:
			v.Status = s.i18n.T(rs.lang, "timeline.status."+e.Status, nil)
			v.Amount = i18n.FormatMoney(rs.lang, e.AmountCents, e.Currency)
		}
		d.Entries = append(d.Entries, v)
	}
	for _, o := range open {
		if o {
			d.Open++
		}
	}
	title := cz.Name
	if title == "" {
		title = s.i18n.T(rs.lang, "timeline.unnamed", nil)
	}
	p := s.page(c, "backoffice_citizen", title)
	p.Data = d
	return s.render(c, p)
}

// messageAuthor is the kind of a message's author, as the timeline's
// labels name them: the office's staff (and the system on its behalf),
// or the citizen.
func messageAuthor(kind string) string {
	if kind == "citizen" || kind == "anonymous" {
		return "citizen"
	}
	return "staff"
}

// consentText says whether a channel is consented to, and since when.
func (s *Server) consentText(lang string, known, given bool, at time.Time) string {
	switch {
	case !known:
		return s.i18n.T(lang, "timeline.consent.none", nil)
	case given:
		return s.i18n.T(lang, "timeline.consent.given", map[string]any{"Date": i18n.FormatDate(lang, local(at))})
	}
	return s.i18n.T(lang, "timeline.consent.not", map[string]any{"Date": i18n.FormatDate(lang, local(at))})
}
