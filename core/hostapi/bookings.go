package hostapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// The booking engine (core/booking) as plugins reach it. A plugin's
// resources live in the tenant's one table of bookable resources, under a
// slug the host makes from the plugin's id and the plugin's own slug
// (roombooking--sala-consiliare): a plugin names only its own slugs, so it
// cannot see, book or redefine another service's resources, nor the
// office desks of the core's appointments. Its bookings carry its id as
// their service, and a code of another service's booking is not found.

// WithBookingClock gives the Host API's booking engine a clock of its own
// (holds, notice, deadlines), for tests.
func WithBookingClock(now func() time.Time) Option {
	return func(s *Server) { s.bookings, s.bookingNow = booking.New(s.db, now), now }
}

const (
	maxResources      = 100
	maxHoursRules     = 20
	maxClosures       = 200
	maxBookHold       = 24 * 60
	maxBookStart      = 253402300799 // 9999-12-31T23:59:59Z: later, the database has no dates to compare with
	resourceSeparator = "--"
)

var pluginSlug = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

// slugPrefix is the plugin's part of its resources' slugs. Every '-' and
// '_' of the id becomes "-h" and "-u": the prefix then never holds "--",
// so the first "--" of a slug ends it, and no two plugins share one.
func slugPrefix(plugin string) string {
	return strings.NewReplacer("-", "-h", "_", "-u").Replace(plugin) + resourceSeparator
}

// engineSlug is the engine's slug of the plugin's resource slug.
func engineSlug(plugin, slug string) (string, error) {
	full := slugPrefix(plugin) + slug
	if !pluginSlug.MatchString(slug) || len(full) > 64 {
		return "", invalid("resource %q: lower-case letters, digits and inner hyphens, at most %d characters", slug,
			64-len(slugPrefix(plugin)))
	}
	return full, nil
}

// ownSlug is the plugin's slug of an engine slug, if the resource is the
// plugin's.
func ownSlug(plugin, full string) (string, bool) {
	return strings.CutPrefix(full, slugPrefix(plugin))
}

func (v *view) DefineResources(ctx context.Context, r *pb.DefineResourcesRequest) (*pb.DefineResourcesResponse, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.defineResources)
}
func (v *view) BookingDays(ctx context.Context, r *pb.BookingDaysRequest) (*pb.BookingDaysResponse, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.bookingDays)
}
func (v *view) BookingSlots(ctx context.Context, r *pb.BookingSlotsRequest) (*pb.BookingSlotsResponse, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.bookingSlots)
}
func (v *view) Book(ctx context.Context, r *pb.BookRequest) (*pb.Booking, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.book)
}
func (v *view) GetBooking(ctx context.Context, r *pb.GetBookingRequest) (*pb.Booking, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.getBooking)
}
func (v *view) ApproveBooking(ctx context.Context, r *pb.DecideBookingRequest) (*pb.Booking, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.approveBooking)
}
func (v *view) DeclineBooking(ctx context.Context, r *pb.DecideBookingRequest) (*pb.Booking, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.declineBooking)
}
func (v *view) CancelBooking(ctx context.Context, r *pb.CancelBookingRequest) (*pb.Booking, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.cancelBooking)
}

// bookingStatus turns the engine's refusals into the statuses plugins see,
// with a BookingRefusal in the details for the plugin to word in the
// person's language. Anything else passes on (statusOf logs it).
func bookingStatus(err error) error {
	if err == nil {
		return nil
	}
	refuse := func(code codes.Code, r *pb.BookingRefusal, msg string) error {
		st := status.New(code, msg)
		if withDetails, derr := st.WithDetails(r); derr == nil {
			st = withDetails
		}
		return st.Err()
	}
	var re *booking.RuleError
	var de *booking.DeadlineError
	switch {
	case errors.As(err, &re):
		r := &pb.BookingRefusal{Rule: re.Rule, StartUnix: re.Start.Unix(), Reason: re.Reason}
		switch re.Rule {
		case booking.RulePast, booking.RuleNotice:
			r.LimitUnix = re.Limit.Unix()
		case booking.RuleHorizon:
			// A civil date: its midnight where the resource is.
			r.LimitUnix = time.Date(re.Limit.Year(), re.Limit.Month(), re.Limit.Day(), 0, 0, 0, 0, re.Start.Location()).Unix()
		}
		code := codes.InvalidArgument
		if re.Rule == booking.RuleInactive {
			code = codes.FailedPrecondition
		}
		return refuse(code, r, re.Error())
	case errors.Is(err, booking.ErrSlotTaken):
		return refuse(codes.AlreadyExists, &pb.BookingRefusal{Rule: "taken"}, "the slot is already taken")
	case errors.As(err, &de):
		return refuse(codes.FailedPrecondition, &pb.BookingRefusal{Rule: "deadline", LimitUnix: de.Deadline.Unix()},
			fmt.Sprintf("the cancellation deadline of booking %s was %s", de.Code, de.Deadline.Format(time.RFC3339)))
	case errors.Is(err, booking.ErrHoldExpired):
		return refuse(codes.FailedPrecondition, &pb.BookingRefusal{Rule: "hold_expired"}, "the hold has expired")
	case errors.Is(err, booking.ErrWrongState):
		return refuse(codes.FailedPrecondition, &pb.BookingRefusal{Rule: "state"}, err.Error())
	case errors.Is(err, booking.ErrNotFound):
		return status.Error(codes.NotFound, "booking or resource not found")
	case errors.Is(err, booking.ErrInvalid):
		msg := err.Error()
		if i := strings.LastIndex(msg, booking.ErrInvalid.Error()+": "); i >= 0 {
			msg = msg[i+len(booking.ErrInvalid.Error())+2:]
		}
		return status.Error(codes.InvalidArgument, msg)
	}
	return err
}

// bookingActor is who the call acts for, in the engine's terms.
func bookingActor(c Call) (booking.Actor, error) {
	switch {
	case c.Actor.privileged():
		return booking.Actor{Staff: true}, nil
	case c.Actor.Kind == ActorCitizen:
		return booking.Actor{Citizen: c.Actor.ID}, nil
	}
	return booking.Actor{}, denied("an anonymous visitor has no bookings; the citizen must log in")
}

func parseDay(field, v string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, invalid("%s %q: a date such as 2026-03-12", field, v)
	}
	return d, nil
}

func (s *Server) defineResources(ctx context.Context, c Call, r *pb.DefineResourcesRequest) (*pb.DefineResourcesResponse, error) {
	if n := len(r.GetResources()); n > maxResources {
		return nil, invalid("at most %d resources, not %d", maxResources, n)
	}
	var all []declared
	listed := map[string]bool{}
	for i, pr := range r.GetResources() {
		full, err := engineSlug(c.PluginID, pr.GetSlug())
		if err != nil {
			return nil, err
		}
		if listed[full] {
			return nil, invalid("resources[%d]: slug %q listed twice", i, pr.GetSlug())
		}
		listed[full] = true
		d := declared{res: booking.Resource{
			Kind: booking.Kind(pr.GetKind()), Slug: full, Name: pr.GetName(), Capacity: int(pr.GetCapacity()),
			PriceCents: pr.GetPriceCents(), Currency: pr.GetCurrency(), ApprovalRequired: pr.GetApprovalRequired(),
			Disabled: pr.GetDisabled(), Calendar: booking.Calendar{TimeZone: pr.GetTimeZone(), SlotMinutes: int(pr.GetSlotMinutes()),
				HorizonDays: int(pr.GetHorizonDays()), MinNoticeMinutes: int(pr.GetMinNoticeMinutes()),
				CancelDeadlineMinutes: int(pr.GetCancelDeadlineMinutes())},
		}}
		if d.res.Kind == "" {
			d.res.Kind = booking.Room
		}
		if len(pr.GetHours()) > maxHoursRules || len(pr.GetClosures()) > maxClosures {
			return nil, invalid("resource %s: at most %d opening-hour rules and %d closures", pr.GetSlug(), maxHoursRules, maxClosures)
		}
		for _, h := range pr.GetHours() {
			bh := booking.Hours{Name: h.GetName(), Opens: h.GetOpens(), Closes: h.GetCloses()}
			for _, w := range h.GetWeekdays() {
				if w < 1 || w > 7 {
					return nil, invalid("resource %s hours %q: weekday %d, want 1 (Monday) to 7 (Sunday)", pr.GetSlug(), h.GetName(), w)
				}
				bh.Weekdays = append(bh.Weekdays, time.Weekday(w%7))
			}
			if v := h.GetValidFrom(); v != "" {
				if bh.ValidFrom, err = parseDay("valid_from", v); err != nil {
					return nil, err
				}
			}
			if v := h.GetValidTo(); v != "" {
				if bh.ValidTo, err = parseDay("valid_to", v); err != nil {
					return nil, err
				}
			}
			d.hours = append(d.hours, bh)
		}
		for _, cl := range pr.GetClosures() {
			from, err := parseDay("first_day", cl.GetFirstDay())
			if err != nil {
				return nil, err
			}
			to, err := parseDay("last_day", cl.GetLastDay())
			if err != nil {
				return nil, err
			}
			if err := checkText("closure reason", cl.GetReason(), false, 200); err != nil {
				return nil, err
			}
			d.closures = append(d.closures, booking.Closure{From: from, To: to, Reason: cl.GetReason()})
		}
		if err := d.check(pr.GetSlug()); err != nil {
			return nil, err
		}
		all = append(all, d)
	}
	out := &pb.DefineResourcesResponse{}
	for _, d := range all {
		res, err := s.bookings.Declare(ctx, c.TenantID, d.res, d.hours, d.closures)
		if err != nil {
			return nil, bookingStatus(err)
		}
		out.Resources = append(out.Resources, resourcePB(c.PluginID, res, d.hours, d.closures))
	}
	// What the configuration no longer lists takes no new bookings; its
	// bookings stay, and listing it again opens it again.
	existing, err := s.bookings.Resources(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	for _, res := range existing {
		if _, mine := ownSlug(c.PluginID, res.Slug); !mine || listed[res.Slug] || res.Disabled {
			continue
		}
		res.Disabled = true
		if _, err := s.bookings.DefineResource(ctx, c.TenantID, res); err != nil {
			return nil, bookingStatus(err)
		}
	}
	return out, nil
}

// declared is one resource of a DefineResources call, in the engine's terms.
type declared struct {
	res      booking.Resource
	hours    []booking.Hours
	closures []booking.Closure
}

var langCode = regexp.MustCompile(`^[a-z]{2}$`)

// check refuses what the engine would refuse of d. The engine checks a
// resource only as it declares it, so a bad resource late in the list
// would leave those before it declared; checked here first, a refused
// call writes nothing. The limits are the engine's (which checks again):
// none may be stricter, or a configuration it takes would be refused.
func (d *declared) check(slug string) error {
	r, c := &d.res, &d.res.Calendar
	switch r.Kind {
	case booking.Desk, booking.Room, booking.Expert:
	default:
		return invalid("resource %s: kind %q: want desk, room or expert", slug, r.Kind)
	}
	if len(r.Name) == 0 {
		return invalid("resource %s: a name in at least one language", slug)
	}
	for lang, n := range r.Name {
		if !langCode.MatchString(lang) || n == "" || len(n) > 200 || checkText("name", n, false, 200) != nil {
			return invalid("resource %s: name[%q] must be 1-200 characters of text under a two-letter language code", slug, lang)
		}
	}
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"capacity", r.Capacity, 1, 1000}, {"slot_minutes", c.SlotMinutes, 5, 1440}, {"horizon_days", c.HorizonDays, 1, 730},
		{"min_notice_minutes", c.MinNoticeMinutes, 0, 43200}, {"cancel_deadline_minutes", c.CancelDeadlineMinutes, 0, 43200},
	} {
		if f.v != 0 && (f.v < f.lo || f.v > f.hi) { // 0 takes the default
			return invalid("resource %s: %s %d: want %d to %d", slug, f.name, f.v, f.lo, f.hi)
		}
	}
	if r.PriceCents < 0 {
		return invalid("resource %s: price_cents %d must not be negative", slug, r.PriceCents)
	}
	if r.Currency != "" && !currencyISO.MatchString(r.Currency) {
		return invalid("resource %s: currency %q: an ISO 4217 code such as EUR", slug, r.Currency)
	}
	// "Local" would be the server's own zone, whatever machine it runs on.
	if tz := c.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			return invalid("resource %s: time zone %q: an IANA name such as Europe/Rome", slug, tz)
		}
	}
	named := map[string]bool{}
	for i, h := range d.hours {
		if h.Name == "" || len(h.Name) > 80 || checkText("name", h.Name, false, 80) != nil {
			return invalid("resource %s hours[%d]: a name of 1-80 characters", slug, i)
		}
		if named[h.Name] {
			return invalid("resource %s hours[%d]: the name %q is used twice", slug, i, h.Name)
		}
		named[h.Name] = true
		if len(h.Weekdays) == 0 {
			return invalid("resource %s hours %q: no weekday", slug, h.Name)
		}
		opens, err := clockMinutes(h.Opens)
		if err != nil {
			return invalid("resource %s hours %q opens: %v", slug, h.Name, err)
		}
		closes, err := clockMinutes(h.Closes)
		if err != nil {
			return invalid("resource %s hours %q closes: %v", slug, h.Name, err)
		}
		if closes <= opens {
			return invalid("resource %s hours %q: closes at %s, not after it opens at %s", slug, h.Name, h.Closes, h.Opens)
		}
		if !h.ValidFrom.IsZero() && !h.ValidTo.IsZero() && h.ValidTo.Before(h.ValidFrom) {
			return invalid("resource %s hours %q: valid until %s, before it starts on %s", slug, h.Name,
				h.ValidTo.Format(time.DateOnly), h.ValidFrom.Format(time.DateOnly))
		}
	}
	for _, cl := range d.closures {
		switch {
		case cl.From.IsZero() || cl.To.IsZero(): // 0001-01-01, the zero time
			return invalid("resource %s: a closure needs its first and last day", slug)
		case cl.To.Before(cl.From):
			return invalid("resource %s: closure ends on %s, before it starts on %s", slug,
				cl.To.Format(time.DateOnly), cl.From.Format(time.DateOnly))
		case cl.To.Sub(cl.From) > 366*24*time.Hour:
			return invalid("resource %s: a closure spans at most a year", slug)
		case len(cl.Reason) > 200:
			return invalid("resource %s: closure reason: at most 200 bytes", slug)
		}
	}
	return nil
}

// clockMinutes reads a time of day as the engine does: "HH:MM" from
// "00:00" to "24:00".
func clockMinutes(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q: want a time from 00:00 to 24:00", s)
	}
	return hh*60 + mm, nil
}

func resourcePB(plugin string, r *booking.Resource, hours []booking.Hours, closures []booking.Closure) *pb.BookingResource {
	slug, _ := ownSlug(plugin, r.Slug)
	out := &pb.BookingResource{Slug: slug, Kind: string(r.Kind), Name: r.Name, Capacity: int32(r.Capacity),
		PriceCents: r.PriceCents, Currency: r.Currency, ApprovalRequired: r.ApprovalRequired, Disabled: r.Disabled,
		SlotMinutes: int32(r.Calendar.SlotMinutes), HorizonDays: int32(r.Calendar.HorizonDays),
		MinNoticeMinutes: int32(r.Calendar.MinNoticeMinutes), CancelDeadlineMinutes: int32(r.Calendar.CancelDeadlineMinutes),
		TimeZone: r.Calendar.TimeZone}
	for _, h := range hours {
		oh := &pb.OpeningHours{Name: h.Name, Opens: h.Opens, Closes: h.Closes}
		for _, w := range h.Weekdays {
			iso := int32(w)
			if w == time.Sunday {
				iso = 7
			}
			oh.Weekdays = append(oh.Weekdays, iso)
		}
		if !h.ValidFrom.IsZero() {
			oh.ValidFrom = h.ValidFrom.Format(time.DateOnly)
		}
		if !h.ValidTo.IsZero() {
			oh.ValidTo = h.ValidTo.Format(time.DateOnly)
		}
		out.Hours = append(out.Hours, oh)
	}
	for _, c := range closures {
		out.Closures = append(out.Closures, &pb.ClosingDays{FirstDay: c.From.Format(time.DateOnly),
			LastDay: c.To.Format(time.DateOnly), Reason: c.Reason})
	}
	return out
}

// resource is the plugin's resource slug of the tenant; NotFound when the
// plugin has declared none by that slug.
func (s *Server) resource(ctx context.Context, c Call, slug string) (*booking.Resource, error) {
	full, err := engineSlug(c.PluginID, slug)
	if err != nil {
		return nil, err
	}
	res, err := s.bookings.ResourceBySlug(ctx, c.TenantID, full)
	if errors.Is(err, booking.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "resource %q not found (declare it with DefineResources)", slug)
	}
	return res, err
}

func (s *Server) bookingDays(ctx context.Context, c Call, r *pb.BookingDaysRequest) (*pb.BookingDaysResponse, error) {
	from, err := parseDay("from", r.GetFrom())
	if err != nil {
		return nil, err
	}
	to, err := parseDay("to", r.GetTo())
	if err != nil {
		return nil, err
	}
	res, err := s.resource(ctx, c, r.GetResource())
	if err != nil {
		return nil, err
	}
	days, err := s.bookings.Days(ctx, c.TenantID, res.ID, from, to)
	if err != nil {
		return nil, bookingStatus(err)
	}
	out := &pb.BookingDaysResponse{Days: make([]string, len(days))}
	for i, d := range days {
		out.Days[i] = d.Format(time.DateOnly)
	}
	return out, nil
}

func (s *Server) bookingSlots(ctx context.Context, c Call, r *pb.BookingSlotsRequest) (*pb.BookingSlotsResponse, error) {
	d, err := parseDay("day", r.GetDay())
	if err != nil {
		return nil, err
	}
	res, err := s.resource(ctx, c, r.GetResource())
	if err != nil {
		return nil, err
	}
	slots, err := s.bookings.Slots(ctx, c.TenantID, res.ID, d)
	if err != nil {
		return nil, bookingStatus(err)
	}
	out := &pb.BookingSlotsResponse{}
	for _, sl := range slots {
		out.Slots = append(out.Slots, &pb.BookingSlot{StartUnix: sl.Start.Unix(), EndUnix: sl.End.Unix(), Free: int32(sl.Free)})
	}
	return out, nil
}

func bookingPB(b *booking.Booking, slug string) *pb.Booking {
	out := &pb.Booking{Id: b.ID, Code: b.Code, Resource: slug, StartUnix: b.Start.Unix(), EndUnix: b.End.Unix(),
		Status: string(b.Status), CitizenId: b.CitizenID, DossierId: b.DossierID, PriceCents: b.PriceCents,
		Currency: b.Currency, CancelDeadlineUnix: b.CancelDeadline.Unix(), CancelReason: b.CancelReason}
	if !b.ExpiresAt.IsZero() && b.Status == booking.Held {
		out.ExpiresUnix = b.ExpiresAt.Unix()
	}
	return out
}

func (s *Server) book(ctx context.Context, c Call, r *pb.BookRequest) (*pb.Booking, error) {
	if c.Actor.Kind == ActorAnonymous {
		return nil, denied("an anonymous visitor cannot book; the citizen must log in")
	}
	switch {
	case r.GetStartUnix() <= 0:
		return nil, invalid("start_unix: the first slot's start is required")
	case r.GetStartUnix() > maxBookStart:
		return nil, invalid("start_unix %d: past the year 9999", r.GetStartUnix())
	case r.GetSlots() < 0 || r.GetSlots() > booking.MaxRunSlots:
		return nil, invalid("slots must be 1 to %d (0 is 1)", booking.MaxRunSlots)
	case r.GetHoldMinutes() < 0 || r.GetHoldMinutes() > maxBookHold:
		return nil, invalid("hold_minutes must be 0 (book at once) to %d", maxBookHold)
	case r.GetDossierId() < 0:
		return nil, invalid("dossier_id must not be negative")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"contact_name", r.GetContactName(), 200}, {"contact_email", r.GetContactEmail(), 254}, {"contact_phone", r.GetContactPhone(), 32}} {
		if err := checkText(f.name, f.v, false, f.max); err != nil {
			return nil, err
		}
	}
	res, err := s.resource(ctx, c, r.GetResource())
	if err != nil {
		return nil, err
	}
	req := booking.Request{Resource: res.ID, Start: time.Unix(r.GetStartUnix(), 0), Hold: r.GetHoldMinutes() > 0,
		Service: c.PluginID, Dossier: r.GetDossierId(),
		Contact: booking.Contact{Name: r.GetContactName(), Email: r.GetContactEmail(), Phone: r.GetContactPhone()}}
	if c.Actor.Kind == ActorCitizen {
		req.Citizen = c.Actor.ID
	}
	if id := r.GetDossierId(); id > 0 {
		err := s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
			owner, err := dossierCitizen(ctx, tx, c, id)
			if err != nil {
				return err
			}
			if req.Citizen == 0 && owner != nil {
				req.Citizen = *owner // staff booking for a citizen's dossier
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	b, err := s.bookings.ReserveRun(ctx, c.TenantID, booking.Run{Request: req, Slots: int(r.GetSlots()),
		HoldFor: time.Duration(r.GetHoldMinutes()) * time.Minute})
	if err != nil {
		return nil, bookingStatus(err)
	}
	return bookingPB(b, r.GetResource()), nil
}

// serviceBooking reads the booking code of this call's service as by may
// see it, with the plugin's slug of its resource: another service's
// booking, or another citizen's, is not found.
func (s *Server) serviceBooking(ctx context.Context, c Call, code string, by booking.Actor) (*booking.Booking, string, error) {
	b, err := s.bookings.Get(ctx, c.TenantID, code, by)
	if err != nil {
		return nil, "", bookingStatus(err)
	}
	if b.ServiceID != c.PluginID {
		return nil, "", status.Errorf(codes.NotFound, "booking %s not found", b.Code)
	}
	res, err := s.bookings.Resource(ctx, c.TenantID, b.ResourceID)
	if err != nil {
		return nil, "", bookingStatus(err)
	}
	slug, mine := ownSlug(c.PluginID, res.Slug)
	if !mine {
		return nil, "", status.Errorf(codes.NotFound, "booking %s not found", b.Code)
	}
	return b, slug, nil
}

func (s *Server) getBooking(ctx context.Context, c Call, r *pb.GetBookingRequest) (*pb.Booking, error) {
	by, err := bookingActor(c)
	if err != nil {
		return nil, err
	}
	b, slug, err := s.serviceBooking(ctx, c, r.GetCode(), by)
	if err != nil {
		return nil, err
	}
	if b.Status == booking.Held && !b.ExpiresAt.After(s.bookingNow()) {
		// Its slot is free already; the sweep has yet to write so.
		b.Status = booking.Expired
	}
	return bookingPB(b, slug), nil
}

func (s *Server) approveBooking(ctx context.Context, c Call, r *pb.DecideBookingRequest) (*pb.Booking, error) {
	return s.decideBooking(ctx, c, r, true)
}

func (s *Server) declineBooking(ctx context.Context, c Call, r *pb.DecideBookingRequest) (*pb.Booking, error) {
	return s.decideBooking(ctx, c, r, false)
}

func (s *Server) decideBooking(ctx context.Context, c Call, r *pb.DecideBookingRequest, approve bool) (*pb.Booking, error) {
	if !c.Actor.privileged() {
		return nil, denied("only staff decide on a booking")
	}
	if err := checkText("reason", r.GetReason(), false, 500); err != nil {
		return nil, err
	}
	b, slug, err := s.serviceBooking(ctx, c, r.GetCode(), booking.Actor{Staff: true})
	if err != nil {
		return nil, err
	}
	if approve {
		b, err = s.bookings.Approve(ctx, c.TenantID, b.Code)
	} else {
		b, err = s.bookings.Decline(ctx, c.TenantID, b.Code, r.GetReason())
	}
	if err != nil {
		return nil, bookingStatus(err)
	}
	return bookingPB(b, slug), nil
}

func (s *Server) cancelBooking(ctx context.Context, c Call, r *pb.CancelBookingRequest) (*pb.Booking, error) {
	by, err := bookingActor(c)
	if err != nil {
		return nil, err
	}
	if err := checkText("reason", r.GetReason(), false, 500); err != nil {
		return nil, err
	}
	b, slug, err := s.serviceBooking(ctx, c, r.GetCode(), by)
	if err != nil {
		return nil, err
	}
	if b, err = s.bookings.Cancel(ctx, c.TenantID, b.Code, by, r.GetReason()); err != nil {
		return nil, bookingStatus(err)
	}
	return bookingPB(b, slug), nil
}

// bookingPayable checks, in the payment's transaction, that booking id of
// the call's service may be paid for now (locking it until the payment is
// stored), and returns when the payment falls due and whose booking it
// is. A hold falls due when it expires; a booking already pending or
// confirmed (approved before it is paid) at its cancellation deadline, or
// at its start once that has passed. A booking with a payment under way
// or made is not asked to pay again.
func bookingPayable(ctx context.Context, tx bun.Tx, c Call, id int64) (due time.Time, citizen int64, err error) {
	var (
		st, slug                string
		expires                 sql.NullTime
		start, deadline, dbTime time.Time
	)
	err = tx.QueryRowContext(ctx, `SELECT b.status, b.expires_at, lower(b.period),
			lower(b.period) - make_interval(mins => r.cancel_deadline_minutes), coalesce(b.citizen_id, 0), r.slug, now()
		FROM bookings b JOIN booking_resources r ON r.tenant_id = b.tenant_id AND r.id = b.resource_id
		WHERE b.tenant_id = ? AND b.id = ? AND b.service_id = ? FOR UPDATE OF b`, c.TenantID, id, c.PluginID).
		Scan(&st, &expires, &start, &deadline, &citizen, &slug, &dbTime)
	_, mine := ownSlug(c.PluginID, slug)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!mine || c.Actor.Kind == ActorCitizen && citizen != c.Actor.ID)) {
		return time.Time{}, 0, notFound("booking", id)
	}
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read booking %d: %w", id, err)
	}
	switch {
	case st == string(booking.Held) && expires.Valid && expires.Time.After(dbTime):
		due = expires.Time
	case (st == string(booking.Pending) || st == string(booking.Confirmed)) && deadline.After(dbTime):
		due = deadline
	case (st == string(booking.Pending) || st == string(booking.Confirmed)) && start.After(dbTime):
		due = start
	default:
		return time.Time{}, 0, status.Errorf(codes.FailedPrecondition, "booking %d is %s: nothing to pay for", id, st)
	}
	var taken bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM payments WHERE tenant_id = ? AND hold_kind = 'booking'
		AND hold_id = ? AND status NOT IN ('canceled', 'expired', 'creation_failed'))`, c.TenantID, id).Scan(&taken); err != nil {
		return time.Time{}, 0, fmt.Errorf("payments of booking %d: %w", id, err)
	}
	if taken {
		return time.Time{}, 0, status.Errorf(codes.AlreadyExists, "booking %d already has a payment under way or made", id)
	}
	return due, citizen, nil
}
