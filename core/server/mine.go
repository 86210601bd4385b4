package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/web"
)

// "My requests": a citizen's dossiers across every service, each with its
// status, the replies of the offices and the files they may download, and
// the services' follow-up actions. A citizen only ever reaches their own:
// any other id, a draft or another town's, is the same 404.

// objMyRequests is the casbin object of a citizen's own requests
// (requests/* in policies/default.csv).
const objMyRequests = "requests/dossiers"

func (s *Server) myRequestsRoutes(r fiber.Router) {
	read, write := s.require(objMyRequests, "read"), s.require(objMyRequests, "write")
	r.Get("/requests", s.requireTenant, read, s.myRequests)
	r.Get("/requests/:id", s.requireTenant, read, s.myRequest)
	r.Get("/requests/:id/attachments/:file", s.requireTenant, read, s.myDownload)
	r.Post("/requests/:id/actions/:action", s.requireTenant, write, s.myRequestAction)
}

// citizenID is the signed-in citizen; staff have no "my requests".
func citizenID(c *fiber.Ctx) (int64, error) {
	rs := state(c)
	if rs.session == nil || rs.session.Subject.CitizenID == 0 {
		return 0, errForbidden
	}
	return rs.session.Subject.CitizenID, nil
}

func (s *Server) catalogByID(c *fiber.Ctx) (map[string]*catalog.Record, error) {
	recs, err := s.Catalog.List(c.UserContext())
	if err != nil {
		return nil, err
	}
	out := make(map[string]*catalog.Record, len(recs))
	for _, rec := range recs {
		out[rec.ID] = rec
	}
	return out, nil
}

func (s *Server) myRequests(c *fiber.Ctx) error {
	rs := state(c)
	cid, err := citizenID(c)
	if err != nil {
		return err
	}
	services, err := s.catalogByID(c)
	if err != nil {
		return err
	}
	cursor := c.Query("cursor")
	page, err := s.Dossiers.ListForCitizen(c.UserContext(), rs.tenant.ID, cid, dossier.Filter{Cursor: cursor})
	if err != nil {
		return err
	}
	base := rs.base + "/requests"
	d := &web.MyRequestsData{Requests: []web.QueueItem{}}
	for i := range page.Dossiers {
		d.Requests = append(d.Requests, s.queueItem(nil, services, rs.lang, &page.Dossiers[i], base))
	}
	if page.Next != "" {
		d.NextURL = base + "?cursor=" + page.Next
	}
	if cursor != "" {
		d.FirstURL = base
	}
	if wantsJSON(c) {
		return c.JSON(d)
	}
	p := s.page(c, "my_requests", s.i18n.T(rs.lang, "myrequests.title", nil))
	p.Data = d
	return s.render(c, p)
}

// myDossier is the citizen's dossier of the path, or 404.
func (s *Server) myDossier(c *fiber.Ctx) (*dossier.Dossier, error) {
	cid, err := citizenID(c)
	if err != nil {
		return nil, err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.Dossiers.GetForCitizen(c.UserContext(), state(c).tenant.ID, cid, id)
}

func (s *Server) myRequest(c *fiber.Ctx) error {
	d, err := s.myDossier(c)
	if err != nil {
		return err
	}
	return s.renderMyRequest(c, d, fiber.StatusOK, "", nil, nil, nil, "")
}

// renderMyRequest draws a citizen's dossier; after an action, result or
// refusal, or the action's form (failed) with doc and errs.
func (s *Server) renderMyRequest(c *fiber.Ctx, d *dossier.Dossier, status int, failed string, doc map[string]any,
	errs web.FieldErrors, result *web.ServiceResult, refusal string) error {
	rs := state(c)
	ctx := c.UserContext()
	rec, err := s.Catalog.Get(ctx, d.ServiceID)
	if err != nil {
		rec = nil // a generic request, or a service gone from the catalogue
	}
	base := rs.base + "/requests/" + strconv.FormatInt(d.ID, 10)
	history, err := s.Dossiers.History(ctx, rs.tenant.ID, d.ID, true)
	if err != nil {
		return err
	}
	files, err := s.Dossiers.Attachments(ctx, rs.tenant.ID, d.ID, true)
	if err != nil {
		return err
	}
	md := &web.MyRequestData{Request: s.dossierView(nil, rec, rs.lang, d), BackURL: rs.base + "/requests",
		Timeline: s.timeline(nil, rec, rs.lang, history, base), Attachments: []web.AttachmentView{},
		Data: dataRows(rec, rs.lang, d.Data, true), Result: result, Refusal: refusal}
	for i := range files {
		md.Attachments = append(md.Attachments, s.attachmentView(rs.lang, &files[i], base))
	}
	if md.Payments, err = s.dossierPayments(c, d); err != nil {
		return err
	}
	if h := s.Live.Hub(); h != nil && d.ServiceID == liveService {
		if id, ok, err := h.Waiting(ctx, rs.tenant.ID, d.ID); err != nil {
			return err
		} else if ok {
			md.LiveURL = rs.base + "/live/" + strconv.FormatInt(id, 10)
		}
	}
	if rec != nil && rec.Manifest != nil {
		if md.Actions, err = s.dossierActions(c, rec, "citizen", base+"/actions/", failed, doc, errs); err != nil {
			return err
		}
	}
	if wantsJSON(c) {
		if status >= 400 {
			msg := refusal
			if msg == "" {
				msg = s.i18n.T(rs.lang, "error.invalid_input", nil)
			}
			return c.Status(status).JSON(fiber.Map{"error": msg, "fields": errs, "status": status})
		}
		return c.JSON(md)
	}
	p := s.page(c, "my_requests_detail", d.Number+" · "+d.Title)
	p.Data = md
	return s.renderStatus(c, status, p)
}

func (s *Server) myDownload(c *fiber.Ctx) error {
	d, err := s.myDossier(c)
	if err != nil {
		return err
	}
	fileID, err := pathID(c, "file")
	if err != nil {
		return err
	}
	return s.sendAttachment(c, d.ID, fileID, true)
}

// myRequestAction runs a citizen's follow-up action of the dossier's
// service.
func (s *Server) myRequestAction(c *fiber.Ctx) error {
	d, err := s.myDossier(c)
	if err != nil {
		return err
	}
	rec, err := s.Catalog.Get(c.UserContext(), d.ServiceID)
	if err != nil {
		return errNotFound
	}
	action := dossierAction(rec, "citizen", c.Params("action"))
	if action == nil {
		return errNotFound
	}
	out, err := s.runDossierAction(c, rec, action, d, s.dossierActor(c), dossier.AnyVersion)
	if err != nil {
		return err
	}
	if out.file != nil {
		return sendFile(c, out.file)
	}
	if out.status != fiber.StatusOK {
		refusal := ""
		if out.status == fiber.StatusConflict {
			refusal, out.errs = out.errs[""], nil
		}
		return s.renderMyRequest(c, d, out.status, action.GetId(), out.doc, out.errs, nil, refusal)
	}
	if d, err = s.myDossier(c); err != nil {
		return err
	}
	return s.renderMyRequest(c, d, fiber.StatusOK, "", nil, nil, &web.ServiceResult{Message: out.message}, "")
}
