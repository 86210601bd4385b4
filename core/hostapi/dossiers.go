package hostapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Dossier defaults and limits of a list.
const (
	defaultListLimit = 50
	maxListLimit     = 200
)

// The Host API's dossiers are core/dossier's, seen through the call: a
// plugin reaches only its own service's dossiers in the call's tenant,
// and a citizen only their own, never a draft.

func (c Call) dossierActor() dossier.Actor {
	return dossier.Actor{Kind: c.Actor.Kind, ID: c.Actor.ID, Plugin: c.PluginID}
}

func toPB(d *dossier.Dossier) *pb.Dossier {
	out := &pb.Dossier{Id: d.ID, Number: d.Number, ServiceId: d.ServiceID, Status: d.Status, Title: d.Title,
		DataJson: d.Data, CitizenId: d.CitizenID, Channel: d.Channel, CreatedUnix: d.CreatedAt.Unix(),
		Office: d.OfficeSlug, Priority: string(d.Priority), Version: d.Version, AssigneeId: d.AssigneeID,
		AssigneeName: d.AssigneeName}
	if !d.DueAt.IsZero() {
		out.DueUnix = d.DueAt.Unix()
	}
	return out
}

// dossierErr turns core/dossier's errors into the statuses a plugin sees;
// anything else goes on to statusOf.
func dossierErr(err error) error {
	var fe *dossier.FieldError
	switch {
	case errors.As(err, &fe):
		return invalid("%s", fe.Error())
	case errors.Is(err, dossier.ErrNotFound):
		return status.Error(codes.NotFound, "dossier not found")
	case errors.Is(err, dossier.ErrStale):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, dossier.ErrTooLarge), errors.Is(err, dossier.ErrFileType):
		return invalid("%v", err)
	}
	return err
}

// dossierScope is the WHERE clause (over dossiers d) limiting dossiers to
// those c may see:
// its tenant (on top of row-level security), its plugin's service, and for
// a citizen their own, submitted ones.
func dossierScope(c Call) (string, []any, error) {
	switch {
	case c.Actor.privileged():
		return "d.tenant_id = ? AND d.service_id = ?", []any{c.TenantID, c.PluginID}, nil
	case c.Actor.Kind == ActorCitizen:
		return "d.tenant_id = ? AND d.service_id = ? AND d.citizen_id = ? AND d.status <> 'draft'",
			[]any{c.TenantID, c.PluginID, c.Actor.ID}, nil
	}
	return "", nil, denied("an anonymous visitor has no dossiers to read")
}

// visible reads dossier id if c may see it, NotFound otherwise (another
// service's, tenant's or citizen's dossier is as absent as a missing one).
func (s *Server) visible(ctx context.Context, c Call, id int64) (*dossier.Dossier, error) {
	if id <= 0 {
		return nil, invalid("id must be positive")
	}
	if c.Actor.Kind == ActorAnonymous {
		return nil, denied("an anonymous visitor has no dossiers to read")
	}
	var d *dossier.Dossier
	var err error
	if c.Actor.Kind == ActorCitizen {
		d, err = s.dossiers.GetForCitizen(ctx, c.TenantID, c.Actor.ID, id)
	} else {
		d, err = s.dossiers.Get(ctx, c.TenantID, id)
	}
	if err != nil {
		return nil, dossierErr(err)
	}
	if d.ServiceID != c.PluginID {
		return nil, notFound("dossier", id)
	}
	return d, nil
}

// dossierCitizen checks that c may see dossier id and returns its citizen.
// Reservations and payments use it to refer to a dossier.
func dossierCitizen(ctx context.Context, tx bun.Tx, c Call, id int64) (*int64, error) {
	where, args, err := dossierScope(c)
	if err != nil {
		return nil, err
	}
	var citizen sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT d.citizen_id FROM dossiers d WHERE "+where+" AND d.id = ?", append(args, id)...).Scan(&citizen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("dossier", id)
	}
	if err != nil {
		return nil, fmt.Errorf("look up dossier %d: %w", id, err)
	}
	if !citizen.Valid {
		return nil, nil
	}
	return &citizen.Int64, nil
}

func (s *Server) createDossier(ctx context.Context, c Call, r *pb.CreateDossierRequest) (*pb.Dossier, error) {
	title := strings.TrimSpace(r.GetTitle())
	if err := checkText("title", title, true, maxTitle); err != nil {
		return nil, err
	}
	if st := r.GetStatus(); st != "" && !statusName.MatchString(st) {
		return nil, invalid("status %q: lower-case letters, digits and _, at most 32", st)
	}
	if ch := r.GetChannel(); ch != "" && !channel(ch) {
		return nil, invalid("channel %q: one of web, phone, counter, consultation", ch)
	}
	data, err := jsonObject("data_json", r.GetDataJson(), maxDossierData)
	if err != nil {
		return nil, err
	}
	priority, err := dossier.ParsePriority(r.GetPriority())
	if err != nil {
		return nil, invalid("priority %q: low, normal, high or urgent", r.GetPriority())
	}
	if err := checkText("office", r.GetOffice(), false, 64); err != nil {
		return nil, err
	}
	var due time.Time
	switch u := r.GetDueUnix(); {
	case u < 0:
		return nil, invalid("due_unix must not be negative")
	case u > 0:
		due = time.Unix(u, 0)
	}
	if len(r.GetAttachmentIds()) > 0 && c.Actor.Kind == ActorAnonymous && c.RequestID == "" {
		return nil, invalid("attachment_ids: no files were uploaded with this request")
	}
	// Whoever the actor, the plugin routes the dossier by the town's
	// rules, as it picks the office: a citizen's report may well go
	// straight to an operator.
	assignee, err := s.staffByEmail(ctx, c.TenantID, r.GetAssigneeEmail())
	if err != nil {
		return nil, err
	}
	n := dossier.NewDossier{
		ServiceID:     c.PluginID,
		Title:         title,
		Data:          []byte(data),
		Status:        r.GetStatus(),
		Channel:       r.GetChannel(),
		OfficeSlug:    r.GetOffice(),
		AssigneeID:    assignee,
		Priority:      priority,
		DueAt:         due,
		AttachmentIDs: r.GetAttachmentIds(),
		RequestID:     c.RequestID,
	}
	// An anonymous visitor may open a dossier (an anonymous report), which
	// then belongs to no citizen.
	if c.Actor.Kind == ActorCitizen {
		n.CitizenID = c.Actor.ID
	}
	d, err := s.dossiers.Open(ctx, c.TenantID, c.dossierActor(), n)
	if err != nil {
		return nil, dossierErr(err)
	}
	return toPB(d), nil
}

// staffByEmail is the id of the member of the tenant's staff with address
// addr, matched without regard to case (users keep theirs in lower case);
// 0 for "". An address nobody of the tenant has is InvalidArgument.
func (s *Server) staffByEmail(ctx context.Context, tenantID int64, addr string) (int64, error) {
	if addr == "" {
		return 0, nil
	}
	if !email(addr) {
		return 0, invalid("assignee_email %q: not an e-mail address", addr)
	}
	// One round trip, as GetSetting: the dossier's own transaction checks
	// the user again, and its foreign key holds whatever happens between.
	row, err := s.db.QueryRowInTenant(ctx, tenantID, "SELECT id FROM users WHERE tenant_id = ? AND email = ?",
		tenantID, strings.ToLower(addr))
	if err != nil {
		return 0, err
	}
	var id int64
	err = row.Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, invalid("assignee_email %q: no member of the town's staff has this address", addr)
	}
	if err != nil {
		return 0, fmt.Errorf("look up staff member %q: %w", addr, err)
	}
	return id, nil
}

func (s *Server) getDossier(ctx context.Context, c Call, r *pb.GetDossierRequest) (*pb.Dossier, error) {
	d, err := s.visible(ctx, c, r.GetId())
	if err != nil {
		return nil, err
	}
	return toPB(d), nil
}

// The list stays SQL of its own: a plugin pages by id and gets each
// dossier's data, which the back office's lists leave out.
const listCols = `d.id, d.number, d.service_id, d.status, d.title, d.data::text, coalesce(d.citizen_id, 0), d.channel,
	extract(epoch FROM d.created_at)::bigint, coalesce(o.slug, ''), d.priority, coalesce(extract(epoch FROM d.due_at)::bigint, 0), d.version,
	coalesce(d.assignee_id, 0), coalesce(u.name, '')`

func (s *Server) listDossiers(ctx context.Context, c Call, r *pb.ListDossiersRequest) (*pb.ListDossiersResponse, error) {
	limit := int(r.GetLimit())
	switch {
	case limit < 0:
		return nil, invalid("limit must not be negative")
	case limit == 0:
		limit = defaultListLimit
	case limit > maxListLimit:
		limit = maxListLimit
	}
	if r.GetBeforeId() < 0 {
		return nil, invalid("before_id must not be negative")
	}
	where, args, err := dossierScope(c)
	if err != nil {
		return nil, err
	}
	if st := r.GetStatus(); st != "" {
		if !statusName.MatchString(st) {
			return nil, invalid("status %q: lower-case letters, digits and _, at most 32", st)
		}
		where += " AND d.status = ?"
		args = append(args, st)
	}
	if b := r.GetBeforeId(); b > 0 {
		where += " AND d.id < ?"
		args = append(args, b)
	}
	priorities := dossier.Priorities()
	out := &pb.ListDossiersResponse{}
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+listCols+` FROM dossiers d
			LEFT JOIN offices o ON o.tenant_id = d.tenant_id AND o.id = d.office_id
			LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.assignee_id
			WHERE `+where+" ORDER BY d.id DESC LIMIT ?", append(args, limit)...)
		if err != nil {
			return fmt.Errorf("list dossiers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d := &pb.Dossier{}
			var data string
			var rank int16
			if err := rows.Scan(&d.Id, &d.Number, &d.ServiceId, &d.Status, &d.Title, &data, &d.CitizenId, &d.Channel,
				&d.CreatedUnix, &d.Office, &rank, &d.DueUnix, &d.Version, &d.AssigneeId, &d.AssigneeName); err != nil {
				return fmt.Errorf("list dossiers: %w", err)
			}
			d.DataJson = []byte(data)
			if rank >= 0 && int(rank) < len(priorities) {
				d.Priority = string(priorities[rank])
			}
			out.Dossiers = append(out.Dossiers, d)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list dossiers: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) setDossierStatus(ctx context.Context, c Call, r *pb.SetDossierStatusRequest) (*pb.Dossier, error) {
	// A citizen's follow-up (reopening a ticket, answering the office)
	// moves the dossier it is about; nothing else is theirs to move.
	own := c.Actor.Kind == ActorCitizen && c.DossierID > 0 && r.GetId() == c.DossierID
	if !c.Actor.privileged() && !own {
		return nil, denied("only staff change a dossier's status, and a citizen the one their action is about")
	}
	if !statusName.MatchString(r.GetStatus()) {
		return nil, invalid("status %q: lower-case letters, digits and _, at most 32", r.GetStatus())
	}
	if err := checkText("note", r.GetNote(), false, maxNote); err != nil {
		return nil, err
	}
	if _, err := s.visible(ctx, c, r.GetId()); err != nil {
		return nil, err
	}
	// The service of a dossier never changes, so the check above holds
	// for the change below. Plugins hold no version: theirs is the last
	// word, and the history keeps both.
	d, err := s.dossiers.SetStatus(ctx, c.TenantID, r.GetId(), dossier.AnyVersion, c.dossierActor(), r.GetStatus(), r.GetNote())
	if err != nil {
		return nil, dossierErr(err)
	}
	return toPB(d), nil
}

// setDossierDue moves a dossier's deadline; the history keeps both.
func (s *Server) setDossierDue(ctx context.Context, c Call, r *pb.SetDossierDueRequest) (*pb.Dossier, error) {
	if !c.Actor.privileged() {
		return nil, denied("only staff move a dossier's deadline")
	}
	var due time.Time
	if u := r.GetDueUnix(); u != 0 {
		due = time.Unix(u, 0)
		if due.Year() < 2000 || due.Year() > 9999 {
			return nil, invalid("due_unix %d: not a date between the years 2000 and 9999", u)
		}
	}
	if _, err := s.visible(ctx, c, r.GetId()); err != nil {
		return nil, err
	}
	d, err := s.dossiers.SetDue(ctx, c.TenantID, r.GetId(), dossier.AnyVersion, c.dossierActor(), due)
	if err != nil {
		return nil, dossierErr(err)
	}
	return toPB(d), nil
}

// assignAttempts bounds how often assignDossier reads the dossier again
// when somebody changed it in between.
const assignAttempts = 3

// assignDossier gives a dossier to an operator and/or moves it to an
// office, as the back office's assignment does, in its history alike.
func (s *Server) assignDossier(ctx context.Context, c Call, r *pb.AssignDossierRequest) (*pb.Dossier, error) {
	if !c.Actor.privileged() {
		return nil, denied("only staff assign a dossier")
	}
	switch {
	case r.GetToActor() && r.GetAssigneeEmail() != "":
		return nil, invalid("to_actor and assignee_email: name one operator, not both")
	case r.GetToActor() && c.Actor.Kind != ActorStaff:
		return nil, invalid("to_actor: the host acting on an event is no operator; name one by assignee_email")
	case !r.GetToActor() && r.GetAssigneeEmail() == "" && r.GetOffice() == "":
		return nil, invalid("nothing to assign: set to_actor, assignee_email or office")
	}
	if err := checkText("office", r.GetOffice(), false, 64); err != nil {
		return nil, err
	}
	assignee, err := s.staffByEmail(ctx, c.TenantID, r.GetAssigneeEmail())
	if err != nil {
		return nil, err
	}
	if r.GetToActor() {
		assignee = c.Actor.ID
	}
	office, err := s.officeBySlug(ctx, c.TenantID, r.GetOffice())
	if err != nil {
		return nil, err
	}
	// Assign sets office and operator both, so the one the plugin leaves
	// out is the dossier's own, read with its version: a change made in
	// between (the back office moving it meanwhile) is not undone but
	// read again. The plugin holds no version, so its word is the last.
	for attempt := 1; ; attempt++ {
		d, err := s.visible(ctx, c, r.GetId())
		if err != nil {
			return nil, err
		}
		a := dossier.Assignment{OfficeID: d.OfficeID, AssigneeID: d.AssigneeID}
		if office > 0 {
			a.OfficeID = office
		}
		if assignee > 0 {
			a.AssigneeID = assignee
		}
		out, err := s.dossiers.Assign(ctx, c.TenantID, d.ID, d.Version, c.dossierActor(), a)
		if errors.Is(err, dossier.ErrStale) && attempt < assignAttempts {
			continue
		}
		if err != nil {
			return nil, dossierErr(err)
		}
		return toPB(out), nil
	}
}

// officeBySlug is the id of the tenant's office slug; 0 for "". A slug
// the tenant has no office for is InvalidArgument.
func (s *Server) officeBySlug(ctx context.Context, tenantID int64, slug string) (int64, error) {
	if slug == "" {
		return 0, nil
	}
	row, err := s.db.QueryRowInTenant(ctx, tenantID, "SELECT id FROM offices WHERE tenant_id = ? AND slug = ?", tenantID, slug)
	if err != nil {
		return 0, err
	}
	var id int64
	err = row.Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, invalid("office %q: the town has no office with this code", slug)
	}
	if err != nil {
		return 0, fmt.Errorf("look up office %q: %w", slug, err)
	}
	return id, nil
}

// addDossierMessage writes a public reply (staff: the citizen is
// notified; a citizen: their follow-up) or an internal note (staff only).
func (s *Server) addDossierMessage(ctx context.Context, c Call, r *pb.AddDossierMessageRequest) (*pb.DossierMessage, error) {
	switch {
	case c.Actor.Kind == ActorAnonymous:
		return nil, denied("an anonymous visitor writes on no dossier")
	case r.GetInternal() && !c.Actor.privileged():
		return nil, denied("only staff write internal notes")
	}
	if err := checkText("body", r.GetBody(), true, dossier.MaxMessage); err != nil {
		return nil, err
	}
	if _, err := s.visible(ctx, c, r.GetDossierId()); err != nil {
		return nil, err
	}
	var m *dossier.Message
	var err error
	if r.GetInternal() {
		m, err = s.dossiers.AddNote(ctx, c.TenantID, r.GetDossierId(), dossier.AnyVersion, c.dossierActor(), r.GetBody())
	} else {
		m, err = s.dossiers.Reply(ctx, c.TenantID, r.GetDossierId(), dossier.AnyVersion, c.dossierActor(), r.GetBody())
	}
	if err != nil {
		return nil, dossierErr(err)
	}
	return &pb.DossierMessage{Id: m.ID, DossierId: m.DossierID, Body: m.Body, Internal: m.Internal, CreatedUnix: m.At.Unix()}, nil
}

func channel(v string) bool {
	for _, ch := range dossier.Channels() {
		if v == ch {
			return true
		}
	}
	return false
}

type scanner interface{ Scan(dest ...any) error }
