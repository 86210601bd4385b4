package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// reportValues is the report form. The Open311 API posts the same values,
// as an anonymous actor with the contact fields.
type reportValues struct {
	Category    string `json:"category"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Location    *struct {
		Lat     *float64 `json:"lat"`
		Lon     *float64 `json:"lon"`
		Address string   `json:"address"`
	} `json:"location"`
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email"`
	ContactPhone string `json:"contact_phone"`
	Channel      string `json:"channel"`
}

// suggestion is a knowledge-base answer as the page and the API get it.
type suggestion struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Link     string `json:"link,omitempty"`
}

// report files a citizen's report or question: the topic must be one the
// town handles (otherwise the person reads where to turn, and nothing is
// stored), a problem needs a place inside the town, a visitor who has not
// logged in needs the town's leave and a way to be answered. The town's
// rules choose the office (and maybe the operator), the deadline and the
// priority.
func (s *service) report(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	var v reportValues
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	cfg, err := setupOf(req.Config)
	if err != nil {
		// The schema let the town save it; what it cannot apply is for its
		// office to fix, not for the citizen.
		slog.Warn("helpdesk configuration not usable", "tenant", req.TenantSlug, "err", err)
		return sdk.Refused(msg.Get(lang, "not_configured")), nil
	}
	if len(cfg.Handled) == 0 {
		return sdk.Refused(msg.Get(lang, "not_configured")), nil
	}
	anonymous := req.Actor.Kind == "anonymous"
	if anonymous && !cfg.Anonymous {
		return sdk.Refused(msg.Get(lang, "login")), nil
	}
	cat, ok := categoryOf(v.Category)
	if !ok {
		return sdk.Invalid("/category", msg.Get(lang, "unknown_category")), nil
	}
	if _, handled := cfg.Handled[cat.Code]; !handled {
		return sdk.Refused(notHandled(lang, cat, cfg)), nil
	}

	var errs []sdk.FieldError
	bad := func(field, key string, args ...any) {
		errs = append(errs, sdk.FieldError{Field: field, Message: msg.Get(lang, key, args...)})
	}
	var where *point
	var address string
	if l := v.Location; l != nil {
		address = strings.TrimSpace(l.Address)
		switch {
		case l.Lat != nil && l.Lon != nil:
			where = &point{Lat: *l.Lat, Lon: *l.Lon}
			if cfg.Bounds != nil && !cfg.Bounds.contains(*where) {
				bad("/location", "outside")
			}
		case l.Lat != nil || l.Lon != nil:
			bad("/location", "lat_lon")
		}
	}
	// The form keeps the place optional, since a question has none; a
	// problem without one cannot be found, let alone fixed.
	if cat.Kind == kindProblem && where == nil && address == "" && !hasError(errs, "/location") {
		bad("/location", "where")
	}
	t := ticket{Category: cat.Code, Kind: cat.Kind, Title: strings.TrimSpace(v.Title), Description: strings.TrimSpace(v.Description),
		Address: address, Channel: channelOf(req.Actor.Kind, v.Channel), Lang: base(lang)}
	if where != nil {
		t.Lat, t.Lon = &where.Lat, &where.Lon
	}
	// A citizen is answered through their account; anybody else through
	// what they left here.
	if req.Actor.Kind != "citizen" {
		t.ContactName = strings.TrimSpace(v.ContactName)
		t.ContactEmail = strings.TrimSpace(v.ContactEmail)
		t.ContactPhone = strings.TrimSpace(v.ContactPhone)
	}
	if anonymous {
		if t.ContactName == "" {
			bad("/contact_name", "contact_name")
		}
		if t.ContactEmail == "" && t.ContactPhone == "" {
			bad("/contact_email", "contact_how")
		}
	}
	if len(errs) > 0 {
		return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}, nil
	}

	t.Area = cfg.areaOf(where)
	a := cfg.assign(cat.Code, where, t.Channel)
	t.Rule = a.Rule
	var suggestions []suggestion
	if cat.Code == categoryInformation {
		for _, kb := range suggest(cfg.Answers, t.Title+" "+t.Description) {
			suggestions = append(suggestions, suggestion{Question: kb.Question, Answer: kb.Answer, Link: kb.Link})
			t.Suggested = append(t.Suggested, kb.Question)
		}
	}
	for _, f := range req.Files {
		t.Attachments = append(t.Attachments, f.AttachmentID)
	}
	due := s.clock().Add(time.Duration(a.DueHours) * time.Hour)
	nd := sdk.NewDossier{
		Title:         msg.Get(lang, "title", in(cat.Name, lang), t.Title),
		Data:          t,
		Status:        statusOpen,
		Channel:       dossierChannel(t.Channel),
		Office:        a.Office,
		Due:           due,
		Priority:      a.Priority,
		AttachmentIDs: t.Attachments,
		Assignee:      a.Assignee,
	}
	// The central office goes by the host's own default, which forgives
	// an office the town has since renamed; an office a rule names must exist.
	if a.Office == cfg.Office {
		nd.Office = ""
	}
	d, err := fileDossier(ctx, req, &nd)
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	audit(ctx, req, "helpdesk.report", d, map[string]any{"category": cat.Code, "office": d.GetOffice(),
		"priority": a.Priority, "rule": a.Rule, "channel": t.Channel, "area": t.Area, "files": len(t.Attachments),
		"assignee": nd.Assignee})

	done := received(lang, req.Actor.Kind, cat, d, due, suggestions)
	s.confirm(ctx, req, t, d, done)
	data := map[string]any{"dossier_number": d.GetNumber(), "category": cat.Code, "office": d.GetOffice(),
		"priority": a.Priority, "due": due.UTC().Format(time.RFC3339)}
	if len(suggestions) > 0 {
		data["suggestions"] = suggestions
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: d.GetNumber(), Data: data}, nil
}

// fileDossier creates the dossier. An operator or an office the town's
// rules name and the town does not have (anymore) is dropped, with a
// warning for the town's admin: the report goes to its office without
// the operator, or to the central office, rather than back to the
// person, who cannot fix the town's rules. nd is left as filed.
func fileDossier(ctx context.Context, req *sdk.Request, nd *sdk.NewDossier) (*pb.Dossier, error) {
	for {
		d, err := req.Host.CreateDossier(ctx, *nd)
		if !errors.Is(err, sdk.ErrInvalid) {
			return d, err
		}
		switch {
		case nd.Assignee != "" && refuses(err, "assignee"):
			slog.Warn("helpdesk operator not found; filed without one", "tenant", req.TenantSlug,
				"operator", nd.Assignee, "err", err)
			nd.Assignee = ""
		case nd.Office != "":
			slog.Warn("helpdesk office not found; filed for the central office", "tenant", req.TenantSlug,
				"office", nd.Office, "err", err)
			nd.Office = ""
		default:
			return nil, err
		}
	}
}

// refuses reports whether err is the host refusing the field named (its
// messages start with the field).
func refuses(err error, field string) bool {
	var he *sdk.HostError
	return errors.As(err, &he) && strings.HasPrefix(he.Msg, field)
}

// confirm sends the confirmation by e-mail: to a citizen's address on
// file, to the address a visitor or a caller left. The page shows the same
// text, so a lost e-mail is no reason to fail.
func (s *service) confirm(ctx context.Context, req *sdk.Request, t ticket, d *pb.Dossier, body string) {
	n := sdk.Notification{Channel: "email", Subject: msg.Get(req.Lang, "mail_subject", t.Title, d.GetNumber()), Body: body}
	switch {
	case req.Actor.Kind == "citizen":
	case t.ContactEmail != "":
		n.To = t.ContactEmail
	default:
		return
	}
	if _, err := req.Host.Notify(ctx, n); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
}

// received is the confirmation: the case number, the deadline, and for a
// question the answers the knowledge base has.
func received(lang, actor string, cat category, d *pb.Dossier, due time.Time, suggestions []suggestion) string {
	by := msg.Get(lang, "due_at", due.In(sdk.Zone).Format("15:04"), sdk.Date(lang, due))
	var b strings.Builder
	switch {
	case actor == "staff":
		b.WriteString(msg.Get(lang, "received_staff", d.GetNumber(), by))
	case cat.Kind == kindRequest:
		b.WriteString(msg.Get(lang, "received_request", d.GetNumber(), by))
	default:
		b.WriteString(msg.Get(lang, "received_problem", d.GetNumber(), by))
	}
	switch actor {
	case "citizen":
		b.WriteString(" " + msg.Get(lang, "follow_account"))
	case "anonymous":
		b.WriteString(" " + msg.Get(lang, "follow_contact"))
	}
	if len(suggestions) > 0 {
		b.WriteString("\n\n" + msg.Get(lang, "suggestions"))
		for _, sg := range suggestions {
			b.WriteString("\n- " + sg.Question + " " + sentence(sg.Answer))
			if sg.Link != "" {
				b.WriteString(" " + msg.Get(lang, "see", sg.Link))
			}
		}
	}
	return b.String()
}

// notHandled says where to turn for a topic the town does not handle.
func notHandled(lang string, cat category, cfg *setup) string {
	name := in(cat.Name, lang)
	r, ok := cfg.Redirects[cat.Code]
	if !ok {
		return msg.Get(lang, "not_handled", name)
	}
	who := r.Who
	if r.Contact != "" {
		who += " (" + r.Contact + ")"
	}
	return msg.Get(lang, "turn_to", name, who)
}

// channelOf is how the request came in. Staff say so (a phone call is the
// default of the back office's intake); anybody else comes through the
// web, or through the app, as the Open311 API says: a visitor cannot
// claim to be standing at the counter.
func channelOf(actor, value string) string {
	if actor == "staff" {
		if contains(channels, value) {
			return value
		}
		return "phone"
	}
	if value == "app" {
		return "app"
	}
	return "web"
}

// dossierChannel is the channel as the host's dossiers know it: an app is
// the web to them.
func dossierChannel(ch string) string {
	if ch == "app" {
		return "web"
	}
	return ch
}

func hasError(errs []sdk.FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// services lists the catalogue's topics for the Open311 API and the
// service page: in the request's language, each marked handled or not by
// the town, with where to turn when not.
func (s *service) services(req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	cfg, err := setupOf(req.Config)
	if err != nil {
		slog.Warn("helpdesk configuration not usable", "tenant", req.TenantSlug, "err", err)
		cfg = &setup{}
	}
	type serviceInfo struct {
		Code        string   `json:"code"`
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Group       string   `json:"group"`
		Keywords    []string `json:"keywords"`
		Handled     bool     `json:"handled"`
		Redirect    string   `json:"redirect"`
	}
	list := make([]serviceInfo, 0, len(catalogue))
	var handled, elsewhere []string
	for _, c := range catalogue {
		si := serviceInfo{Code: c.Code, Name: in(c.Name, lang), Description: in(c.Description, lang),
			Group: groupName(c.Group, lang), Keywords: c.Keywords[base(lang)]}
		if si.Keywords == nil {
			si.Keywords = c.Keywords["it"]
		}
		_, si.Handled = cfg.Handled[c.Code]
		if si.Handled {
			handled = append(handled, si.Name)
		} else if r, ok := cfg.Redirects[c.Code]; ok {
			si.Redirect = r.Who
			if r.Contact != "" {
				si.Redirect += " (" + r.Contact + ")"
			}
			elsewhere = append(elsewhere, msg.Get(lang, "services_elsewhere", si.Name, si.Redirect))
		}
		list = append(list, si)
	}
	text := msg.Get(lang, "services_none")
	if len(handled) > 0 {
		text = msg.Get(lang, "services_handled", strings.Join(handled, ", "))
		for _, e := range elsewhere {
			text += " " + e
		}
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: text, Data: map[string]any{"services": list}}, nil
}
