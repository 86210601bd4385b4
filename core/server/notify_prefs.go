package server

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/notify"
	"github.com/sportello/sportello/web"
)

// A citizen chooses on their profile page by which channels the town may
// send them reminders and notices (core/notify's rule of consent), and the
// mobile number SMS go to. The form posts back to the profile page and
// works without JavaScript; a bad number brings the form back (422) with
// what was typed.

// notifyPrefsForm is the form as profile.html shows it.
type notifyPrefsForm struct {
	Email, SMS bool
	Phone      string // as stored, or as typed when it came back with an error
	// AccountEmail is the address e-mails go to; "" when the account has
	// none (the form then says so).
	AccountEmail string
	// EmailNote and SMSNote say when consent was given or withdrawn,
	// translated; "" before the first save.
	EmailNote, SMSNote string
	Errors             web.FieldErrors // "phone"; "" for the whole form
}

// profileNotifyData is the profile page's Data for a citizen.
type profileNotifyData struct {
	Notify *notifyPrefsForm
}

// signedInCitizen is the signed-in citizen, 0 for anybody else.
func (s *Server) signedInCitizen(c *fiber.Ctx) int64 {
	if rs := state(c); rs.session != nil {
		return rs.session.Subject.CitizenID
	}
	return 0
}

// addNotifyPrefs puts a citizen's notification form on the profile page p,
// and the notice of a save just done.
func (s *Server) addNotifyPrefs(c *fiber.Ctx, p *web.Page) error {
	rs := state(c)
	id := s.signedInCitizen(c)
	if id == 0 || rs.tenant == nil {
		return nil
	}
	var prefs notify.Prefs
	var email string
	err := s.DB.InTenant(c.UserContext(), rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if prefs, err = notify.LoadPrefs(ctx, tx, rs.tenant.ID, id); err != nil {
			return err
		}
		email, err = s.citizenEmail(ctx, tx, rs.tenant.ID, id)
		return err
	})
	if err != nil {
		return err
	}
	f := &notifyPrefsForm{Email: prefs.Email, SMS: prefs.SMS, Phone: prefs.Phone, AccountEmail: email}
	s.consentNotes(rs.lang, f, prefs)
	p.Data = profileNotifyData{Notify: f}
	if c.Query("saved") == "notify" {
		p.Flash = s.i18n.T(rs.lang, "notify.prefs.saved", nil)
	}
	return nil
}

func (s *Server) citizenEmail(ctx context.Context, tx bun.Tx, tenantID, id int64) (string, error) {
	var email string
	err := tx.QueryRowContext(ctx, "SELECT email FROM citizens WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&email)
	return email, err
}

func (s *Server) consentNotes(lang string, f *notifyPrefsForm, p notify.Prefs) {
	if !p.Saved { // nothing given, nothing withdrawn yet
		return
	}
	for _, ch := range []struct {
		on   bool
		at   string
		into *string
	}{{p.Email, i18n.FormatDate(lang, p.EmailChangedAt), &f.EmailNote}, {p.SMS, i18n.FormatDate(lang, p.SMSChangedAt), &f.SMSNote}} {
		id := "notify.prefs.withdrawn"
		if ch.on {
			id = "notify.prefs.given"
		}
		*ch.into = s.i18n.T(lang, id, map[string]any{"Date": ch.at})
	}
}

// saveNotifyPrefs stores the citizen's choice.
func (s *Server) saveNotifyPrefs(c *fiber.Ctx) error {
	rs := state(c)
	id := s.signedInCitizen(c)
	if id == 0 {
		// Staff have no notices to choose: theirs is the back office.
		return errForbidden
	}
	email, sms, phone := c.FormValue("email") != "", c.FormValue("sms") != "", c.FormValue("phone")
	var saved notify.Prefs
	var account string
	err := s.DB.InTenant(c.UserContext(), rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if account, err = s.citizenEmail(ctx, tx, rs.tenant.ID, id); err != nil {
			return err
		}
		saved, err = notify.SavePrefs(ctx, tx, rs.tenant.ID, id, email, sms, phone, rs.lang)
		return err
	})
	var pe *notify.PrefsError
	if errors.As(err, &pe) {
		f := &notifyPrefsForm{Email: email, SMS: sms, Phone: phone, AccountEmail: account, Errors: web.FieldErrors{
			pe.Field: s.i18n.T(rs.lang, "notify.prefs."+pe.Field+"."+pe.Code, nil),
			"":       s.i18n.T(rs.lang, "notify.prefs.error", nil),
		}}
		p := s.page(c, "profile", s.i18n.T(rs.lang, "profile.title", nil))
		p.Data = profileNotifyData{Notify: f}
		return s.renderStatus(c, fiber.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	detail := "email=off"
	if saved.Email {
		detail = "email=on"
	}
	if saved.SMS {
		detail += " sms=on"
	} else {
		detail += " sms=off"
	}
	s.audit(c, "notify.prefs", detail)
	return c.Redirect(rs.base+"/profile?saved=notify", fiber.StatusSeeOther)
}

// notifyPrefsRoutes: the profile form posts back to the profile page.
func (s *Server) notifyPrefsRoutes(r fiber.Router) {
	r.Post("/profile", s.requireTenant, s.require("profile", "write"), s.saveNotifyPrefs)
}
