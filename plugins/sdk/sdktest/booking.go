package sdktest

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// The booking engine as the host serves it to a plugin (core/booking,
// core/hostapi), in memory: the same calendar rules (opening hours,
// closing days, the slot grid, notice, horizon, capacity), holds that run
// out, approval, the cancellation deadline, and the same refusals with
// their sdk.BookingRefusal. Resources are the plugin's own, per tenant.

// The host's limits on bookings.
const (
	maxResources  = 100
	maxHoursRules = 20
	maxClosures   = 200
	maxRunSlots   = 96
	maxBookHold   = 24 * 60
	maxDaysAtOnce = 400
)

var (
	bookingSlugRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	bookingCodeRe = regexp.MustCompile(`^[2-9A-HJ-NP-Z]{8}$`)
	hhmmRe        = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
)

type fakeResource struct {
	*pb.BookingResource
	loc *time.Location
}

type fakeBooking struct {
	*pb.Booking
	seat int32 // the host's seat: which of the resource's capacity it takes
}

// slugRoom is how long the plugin's slugs may be, as the host prefixes
// them with the plugin's id.
func (h *Host) slugRoom() int {
	return 64 - len(strings.NewReplacer("-", "-h", "_", "-u").Replace(h.manifest.GetId())) - 2
}

func refusal(code codes.Code, r *pb.BookingRefusal, format string, args ...any) error {
	return &sdk.HostError{Code: code, Msg: fmt.Sprintf(format, args...), Refusal: r}
}

func clockOf(s string) (int, bool) {
	if !hhmmRe.MatchString(s) {
		return 0, false
	}
	var h, m int
	fmt.Sscanf(s, "%d:%d", &h, &m)
	return h*60 + m, true
}

func civil(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// checkResource refuses what the host refuses, and fills the defaults.
func (h *Host) checkResource(r *pb.BookingResource) (*fakeResource, error) {
	bad := func(format string, args ...any) error { return hostErr(codes.InvalidArgument, format, args...) }
	r = proto.Clone(r).(*pb.BookingResource)
	if !bookingSlugRe.MatchString(r.GetSlug()) || len(r.GetSlug()) > h.slugRoom() {
		return nil, bad("resource %q: lower-case letters, digits and inner hyphens, at most %d characters", r.GetSlug(), h.slugRoom())
	}
	if r.Kind == "" {
		r.Kind = "room"
	}
	if !contains([]string{"room", "desk", "expert"}, r.Kind) {
		return nil, bad("kind %q: want desk, room or expert", r.Kind)
	}
	if len(r.GetName()) == 0 {
		return nil, bad("resource %s: a name in at least one language", r.Slug)
	}
	for lang, n := range r.GetName() {
		if len(lang) != 2 || n == "" || len(n) > 200 {
			return nil, bad("resource %s: name[%q] must be 1-200 characters under a two-letter language code", r.Slug, lang)
		}
	}
	if r.Capacity == 0 {
		r.Capacity = 1
	}
	if r.Currency == "" {
		r.Currency = "EUR"
	}
	if r.SlotMinutes == 0 {
		r.SlotMinutes = 30
	}
	if r.HorizonDays == 0 {
		r.HorizonDays = 60
	}
	if r.TimeZone == "" {
		r.TimeZone = "Europe/Rome"
	}
	for _, f := range []struct {
		name      string
		v, lo, hi int32
	}{
		{"capacity", r.Capacity, 1, 1000}, {"slot_minutes", r.SlotMinutes, 5, 1440}, {"horizon_days", r.HorizonDays, 1, 730},
		{"min_notice_minutes", r.MinNoticeMinutes, 0, 43200}, {"cancel_deadline_minutes", r.CancelDeadlineMinutes, 0, 43200},
	} {
		if f.v < f.lo || f.v > f.hi {
			return nil, bad("resource %s: %s %d: want %d to %d", r.Slug, f.name, f.v, f.lo, f.hi)
		}
	}
	if r.PriceCents < 0 || !currencyRe.MatchString(r.Currency) {
		return nil, bad("resource %s: price must not be negative, currency an ISO 4217 code", r.Slug)
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return nil, bad("resource %s: time zone %q", r.Slug, r.TimeZone)
	}
	if len(r.Hours) > maxHoursRules || len(r.Closures) > maxClosures {
		return nil, bad("resource %s: at most %d opening-hour rules and %d closures", r.Slug, maxHoursRules, maxClosures)
	}
	names := map[string]bool{}
	for i, oh := range r.Hours {
		switch {
		case oh.Name == "" || len(oh.Name) > 80:
			return nil, bad("hours[%d]: a name of 1-80 characters", i)
		case names[oh.Name]:
			return nil, bad("hours[%d]: the name %q is used twice", i, oh.Name)
		case len(oh.Weekdays) == 0:
			return nil, bad("hours %q: no weekday", oh.Name)
		}
		names[oh.Name] = true
		for _, w := range oh.Weekdays {
			if w < 1 || w > 7 {
				return nil, bad("resource %s hours %q: weekday %d, want 1 (Monday) to 7 (Sunday)", r.Slug, oh.Name, w)
			}
		}
		o, ok1 := clockOf(oh.Opens)
		c, ok2 := clockOf(oh.Closes)
		if !ok1 || !ok2 || c <= o {
			return nil, bad("hours %q: want HH:MM times, closing after opening", oh.Name)
		}
		from, okF := civil(oh.ValidFrom)
		to, okT := civil(oh.ValidTo)
		if oh.ValidFrom != "" && !okF || oh.ValidTo != "" && !okT || okF && okT && to.Before(from) {
			return nil, bad("hours %q: valid_from and valid_to are dates (2026-03-12), in order", oh.Name)
		}
	}
	for _, cl := range r.Closures {
		from, ok1 := civil(cl.FirstDay)
		to, ok2 := civil(cl.LastDay)
		switch {
		case !ok1 || !ok2:
			return nil, bad("closure %s..%s: dates such as 2026-03-12", cl.FirstDay, cl.LastDay)
		case to.Before(from):
			return nil, bad("closure ends on %s, before it starts on %s", cl.LastDay, cl.FirstDay)
		case to.Sub(from) > 366*24*time.Hour:
			return nil, bad("a closure spans at most a year")
		}
		if err := text("closure reason", cl.Reason, false, 200); err != nil {
			return nil, err
		}
	}
	return &fakeResource{BookingResource: r, loc: loc}, nil
}

func (b *bound) DefineResources(ctx context.Context, resources []*pb.BookingResource) ([]*pb.BookingResource, error) {
	st, err := b.begin(ctx, "DefineResources")
	if err != nil {
		return nil, err
	}
	defer b.end()
	if len(resources) > maxResources {
		return nil, hostErr(codes.InvalidArgument, "at most %d resources, not %d", maxResources, len(resources))
	}
	checked := make([]*fakeResource, 0, len(resources))
	listed := map[string]bool{}
	for i, r := range resources {
		fr, err := b.h.checkResource(r)
		if err != nil {
			return nil, err
		}
		if listed[fr.Slug] {
			return nil, hostErr(codes.InvalidArgument, "resources[%d]: slug %q listed twice", i, fr.Slug)
		}
		listed[fr.Slug] = true
		checked = append(checked, fr)
	}
	if st.resources == nil {
		st.resources = map[string]*fakeResource{}
	}
	var out []*pb.BookingResource
	for _, fr := range checked {
		st.resources[fr.Slug] = fr
		out = append(out, proto.Clone(fr.BookingResource).(*pb.BookingResource))
	}
	for slug, fr := range st.resources {
		if !listed[slug] {
			fr.Disabled = true
		}
	}
	return out, nil
}

// resource is the plugin's resource slug, as declared.
func (b *bound) resource(st *tenant, slug string) (*fakeResource, error) {
	if r, ok := st.resources[slug]; ok {
		return r, nil
	}
	return nil, hostErr(codes.NotFound, "resource %q not found (declare it with DefineResources)", slug)
}

// slotStarts are the slot starts of the civil day d (closures and the
// booking window aside): the union of the rules valid that day, merged
// where they overlap or touch, cut into slots.
func (r *fakeResource) slotStarts(d time.Time) []time.Time {
	type iv struct{ from, to int }
	var ivs []iv
	isoDay := int32(d.Weekday())
	if isoDay == 0 {
		isoDay = 7
	}
	for _, oh := range r.Hours {
		from, okF := civil(oh.ValidFrom)
		to, okT := civil(oh.ValidTo)
		if !slices.Contains(oh.Weekdays, isoDay) || okF && d.Before(from) || okT && d.After(to) {
			continue
		}
		o, _ := clockOf(oh.Opens)
		c, _ := clockOf(oh.Closes)
		ivs = append(ivs, iv{o, c})
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].from < ivs[j].from })
	var merged []iv
	for _, x := range ivs {
		if n := len(merged); n > 0 && x.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, x.to)
			continue
		}
		merged = append(merged, x)
	}
	slot := time.Duration(r.SlotMinutes) * time.Minute
	var out []time.Time
	for _, x := range merged {
		start := time.Date(d.Year(), d.Month(), d.Day(), x.from/60, x.from%60, 0, 0, r.loc)
		end := time.Date(d.Year(), d.Month(), d.Day(), x.to/60, x.to%60, 0, 0, r.loc)
		for t := start; !t.Add(slot).After(end); t = t.Add(slot) {
			out = append(out, t)
		}
	}
	return out
}

func civilDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (r *fakeResource) closedOn(d time.Time) (*pb.ClosingDays, bool) {
	for _, cl := range r.Closures {
		from, _ := civil(cl.FirstDay)
		to, _ := civil(cl.LastDay)
		if !d.Before(from) && !d.After(to) {
			return cl, true
		}
	}
	return nil, false
}

func (r *fakeResource) lastDay(now time.Time) time.Time {
	return civilDay(now.In(r.loc)).AddDate(0, 0, int(r.HorizonDays))
}

// check refuses a slot start the calendar does not offer at now, as the
// engine does, naming the rule.
func (r *fakeResource) check(start, now time.Time) error {
	start = start.In(r.loc)
	first := now.Add(time.Duration(r.MinNoticeMinutes) * time.Minute)
	d := civilDay(start)
	refuse := func(rule string) *pb.BookingRefusal { return &pb.BookingRefusal{Rule: rule, StartUnix: start.Unix()} }
	switch {
	case r.Disabled:
		return refusal(codes.FailedPrecondition, refuse(sdk.RefusalInactive), "the resource takes no bookings")
	case start.Before(now):
		x := refuse(sdk.RefusalPast)
		x.LimitUnix = first.Unix()
		return refusal(codes.InvalidArgument, x, "%s has passed", start)
	case start.Before(first):
		x := refuse(sdk.RefusalNotice)
		x.LimitUnix = first.Unix()
		return refusal(codes.InvalidArgument, x, "%s is too soon", start)
	case d.After(r.lastDay(now)):
		last := r.lastDay(now)
		x := refuse(sdk.RefusalHorizon)
		x.LimitUnix = time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, r.loc).Unix()
		return refusal(codes.InvalidArgument, x, "%s is too far ahead", start)
	}
	if cl, closed := r.closedOn(d); closed {
		x := refuse(sdk.RefusalClosed)
		x.Reason = cl.Reason
		return refusal(codes.InvalidArgument, x, "%s is a closing day", start)
	}
	starts := r.slotStarts(d)
	if slices.ContainsFunc(starts, start.Equal) {
		return nil
	}
	slot := time.Duration(r.SlotMinutes) * time.Minute
	for _, s := range starts {
		// Inside the opening hours but off the grid: a slot is open.
		if start.After(s) && start.Before(s.Add(slot)) {
			return refusal(codes.InvalidArgument, refuse(sdk.RefusalGrid), "%s is not the start of a slot", start)
		}
	}
	return refusal(codes.InvalidArgument, refuse(sdk.RefusalHours), "%s is outside opening hours", start)
}

// liveAt reports whether bk holds its seat at now; a hold that has run
// out is marked expired, as the host's sweep and its next booking do.
func liveAt(bk *fakeBooking, now time.Time) bool {
	switch bk.Status {
	case "pending", "confirmed":
		return true
	case "held":
		if now.Unix() < bk.ExpiresUnix {
			return true
		}
		bk.Status = "expired"
	}
	return false
}

// seatsTaken are the seats live bookings of resource hold in [start, end).
func (st *tenant) seatsTaken(resource string, start, end int64, now time.Time) map[int32]bool {
	taken := map[int32]bool{}
	for _, bk := range st.bookings {
		if bk.Resource == resource && bk.StartUnix < end && start < bk.EndUnix && liveAt(bk, now) {
			taken[bk.seat] = true
		}
	}
	return taken
}

func (b *bound) BookingDays(ctx context.Context, resource string, from, to time.Time) ([]time.Time, error) {
	st, err := b.begin(ctx, "BookingDays")
	if err != nil {
		return nil, err
	}
	defer b.end()
	r, err := b.resource(st, resource)
	if err != nil {
		return nil, err
	}
	f, t := civilDay(from.In(sdk.Zone)), civilDay(to.In(sdk.Zone))
	if t.Before(f) || t.Sub(f) > maxDaysAtOnce*24*time.Hour {
		return nil, hostErr(codes.InvalidArgument, "from..to: at most %d days, in order", maxDaysAtOnce)
	}
	var out []time.Time
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		if len(b.freeSlots(st, r, d)) > 0 {
			out = append(out, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, sdk.Zone))
		}
	}
	return out, nil
}

func (b *bound) BookingSlots(ctx context.Context, resource string, day time.Time) ([]*pb.BookingSlot, error) {
	st, err := b.begin(ctx, "BookingSlots")
	if err != nil {
		return nil, err
	}
	defer b.end()
	r, err := b.resource(st, resource)
	if err != nil {
		return nil, err
	}
	return b.freeSlots(st, r, civilDay(day.In(sdk.Zone))), nil
}

func (b *bound) freeSlots(st *tenant, r *fakeResource, d time.Time) []*pb.BookingSlot {
	now := b.h.Now()
	if r.Disabled {
		return nil
	}
	if _, closed := r.closedOn(d); closed || d.After(r.lastDay(now)) {
		return nil
	}
	slot := time.Duration(r.SlotMinutes) * time.Minute
	first := now.Add(time.Duration(r.MinNoticeMinutes) * time.Minute)
	var out []*pb.BookingSlot
	for _, s := range r.slotStarts(d) {
		if s.Before(first) {
			continue
		}
		if free := r.Capacity - int32(len(st.seatsTaken(r.Slug, s.Unix(), s.Add(slot).Unix(), now))); free > 0 {
			out = append(out, &pb.BookingSlot{StartUnix: s.Unix(), EndUnix: s.Add(slot).Unix(), Free: free})
		}
	}
	return out
}

func (b *bound) Book(ctx context.Context, nb sdk.NewBooking) (*pb.Booking, error) {
	st, err := b.begin(ctx, "Book")
	if err != nil {
		return nil, err
	}
	defer b.end()
	switch {
	case b.actor.Kind == "anonymous":
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor cannot book; the citizen must log in")
	case nb.Start.IsZero() || nb.Start.Unix() <= 0:
		return nil, hostErr(codes.InvalidArgument, "start_unix: the first slot's start is required")
	case nb.Slots < 0 || nb.Slots > maxRunSlots:
		return nil, hostErr(codes.InvalidArgument, "slots must be 1 to %d (0 is 1)", maxRunSlots)
	case nb.HoldMinutes < 0 || nb.HoldMinutes > maxBookHold:
		return nil, hostErr(codes.InvalidArgument, "hold_minutes must be 0 (book at once) to %d", maxBookHold)
	case nb.DossierID < 0:
		return nil, hostErr(codes.InvalidArgument, "dossier_id must not be negative")
	}
	r, err := b.resource(st, nb.Resource)
	if err != nil {
		return nil, err
	}
	citizen := b.citizenID()
	if nb.DossierID != 0 {
		d, err := b.dossier(st, nb.DossierID)
		if err != nil {
			return nil, err
		}
		if citizen == 0 {
			citizen = d.GetCitizenId()
		}
	}
	if citizen == 0 && (strings.TrimSpace(nb.ContactName) == "" || nb.ContactEmail == "" && nb.ContactPhone == "") {
		return nil, hostErr(codes.InvalidArgument, "give a name and an e-mail address or a phone number")
	}
	slots := max(nb.Slots, 1)
	now := b.h.Now()
	slot := time.Duration(r.SlotMinutes) * time.Minute
	start := time.Unix(nb.Start.Unix(), 0).In(r.loc)
	for i := range slots {
		if err := r.check(start.Add(time.Duration(i)*slot), now); err != nil {
			return nil, err
		}
	}
	end := start.Add(time.Duration(slots) * slot)
	taken := st.seatsTaken(r.Slug, start.Unix(), end.Unix(), now)
	seat := int32(0)
	for s := int32(1); s <= r.Capacity; s++ {
		if !taken[s] {
			seat = s
			break
		}
	}
	if seat == 0 {
		return nil, refusal(codes.AlreadyExists, &pb.BookingRefusal{Rule: sdk.RefusalTaken}, "the slot is already taken")
	}
	id := b.nextID()
	bk := &fakeBooking{Booking: &pb.Booking{Id: id, Code: code(id), Resource: r.Slug, StartUnix: start.Unix(), EndUnix: end.Unix(),
		Status: "confirmed", CitizenId: citizen, DossierId: nb.DossierID, PriceCents: r.PriceCents * int64(slots),
		Currency: r.Currency, CancelDeadlineUnix: start.Add(-time.Duration(r.CancelDeadlineMinutes) * time.Minute).Unix()}}
	switch {
	case nb.HoldMinutes > 0:
		bk.Status, bk.ExpiresUnix = "held", now.Add(time.Duration(nb.HoldMinutes)*time.Minute).Unix()
	case r.ApprovalRequired:
		bk.Status = "pending"
	}
	bk.seat = seat
	st.bookings = append(st.bookings, bk)
	return proto.Clone(bk.Booking).(*pb.Booking), nil
}

// booking finds code as the actor may see it: staff any, a citizen their
// own, a visitor none.
func (b *bound) booking(st *tenant, code string) (*fakeBooking, error) {
	if b.actor.Kind == "anonymous" {
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor has no bookings; the citizen must log in")
	}
	c := strings.ToUpper(strings.TrimSpace(code))
	if !bookingCodeRe.MatchString(c) {
		return nil, hostErr(codes.InvalidArgument, "a booking code is 8 letters and digits, such as K7M2QX9P")
	}
	for _, bk := range st.bookings {
		if bk.Code == c && (b.privileged() || bk.CitizenId == b.actor.ID) {
			liveAt(bk, b.h.Now()) // a hold that ran out reads as expired
			return bk, nil
		}
	}
	return nil, hostErr(codes.NotFound, "booking %s not found", c)
}

func (b *bound) GetBooking(ctx context.Context, code string) (*pb.Booking, error) {
	st, err := b.begin(ctx, "GetBooking")
	if err != nil {
		return nil, err
	}
	defer b.end()
	bk, err := b.booking(st, code)
	if err != nil {
		return nil, err
	}
	return proto.Clone(bk.Booking).(*pb.Booking), nil
}

func (b *bound) ApproveBooking(ctx context.Context, code string) (*pb.Booking, error) {
	return b.decide(ctx, "ApproveBooking", code, "confirmed", "")
}

func (b *bound) DeclineBooking(ctx context.Context, code, reason string) (*pb.Booking, error) {
	return b.decide(ctx, "DeclineBooking", code, "cancelled", reason)
}

func (b *bound) decide(ctx context.Context, method, code, to, reason string) (*pb.Booking, error) {
	st, err := b.begin(ctx, method)
	if err != nil {
		return nil, err
	}
	defer b.end()
	if !b.privileged() {
		return nil, hostErr(codes.PermissionDenied, "only staff decide on a booking")
	}
	if err := text("reason", reason, false, 500); err != nil {
		return nil, err
	}
	bk, err := b.booking(st, code)
	if err != nil {
		return nil, err
	}
	switch bk.Status {
	case to:
	case "pending":
		bk.Status, bk.CancelReason = to, strings.TrimSpace(reason)
	default:
		return nil, refusal(codes.FailedPrecondition, &pb.BookingRefusal{Rule: sdk.RefusalState}, "booking %s is %s", bk.Code, bk.Status)
	}
	return proto.Clone(bk.Booking).(*pb.Booking), nil
}

func (b *bound) CancelBooking(ctx context.Context, code, reason string) (*pb.Booking, error) {
	st, err := b.begin(ctx, "CancelBooking")
	if err != nil {
		return nil, err
	}
	defer b.end()
	if err := text("reason", reason, false, 500); err != nil {
		return nil, err
	}
	bk, err := b.booking(st, code)
	if err != nil {
		return nil, err
	}
	switch bk.Status {
	case "cancelled", "expired":
		return proto.Clone(bk.Booking).(*pb.Booking), nil
	case "pending", "confirmed":
		if !b.privileged() && b.h.Now().Unix() > bk.CancelDeadlineUnix {
			return nil, refusal(codes.FailedPrecondition, &pb.BookingRefusal{Rule: sdk.RefusalDeadline, LimitUnix: bk.CancelDeadlineUnix},
				"the cancellation deadline of booking %s has passed", bk.Code)
		}
	}
	bk.Status, bk.ExpiresUnix, bk.CancelReason = "cancelled", 0, strings.TrimSpace(reason)
	return proto.Clone(bk.Booking).(*pb.Booking), nil
}

// bookingPayable checks booking id may be paid for now, as the host does
// when a payment names it, and returns the booking.
func (b *bound) bookingPayable(st *tenant, id int64) (*fakeBooking, error) {
	now := b.h.Now()
	for _, bk := range st.bookings {
		if bk.Id != id || b.actor.Kind == "citizen" && bk.CitizenId != b.actor.ID {
			continue
		}
		live := liveAt(bk, now)
		if !live || bk.Status != "held" && now.Unix() >= bk.StartUnix {
			return nil, hostErr(codes.FailedPrecondition, "booking %d is %s: nothing to pay for", id, bk.Status)
		}
		for pid, bid := range st.paidBookings {
			if bid == id && !contains([]string{"canceled", "expired", "creation_failed"}, st.payment(pid).GetStatus()) {
				return nil, hostErr(codes.AlreadyExists, "booking %d already has a payment under way or made", id)
			}
		}
		return bk, nil
	}
	return nil, hostErr(codes.NotFound, "booking %d not found", id)
}

func (st *tenant) payment(id int64) *pb.Payment {
	for _, p := range st.payments {
		if p.GetId() == id {
			return p
		}
	}
	return nil
}

// settleBooking does to a paid-for booking what the host's payment hold
// does when the payment's status changes: completed, a live hold is
// confirmed (pending where approval is needed); ended unpaid, the booking
// is freed.
func (st *tenant) settleBooking(paymentID int64, status string, now time.Time) {
	id, ok := st.paidBookings[paymentID]
	if !ok {
		return
	}
	for _, bk := range st.bookings {
		if bk.Id != id {
			continue
		}
		live := liveAt(bk, now)
		switch status {
		case "complete":
			if live && bk.Status == "held" {
				bk.Status, bk.ExpiresUnix = "confirmed", 0
				if r := st.resources[bk.Resource]; r != nil && r.ApprovalRequired {
					bk.Status = "pending"
				}
			}
		case "canceled", "expired", "creation_failed":
			switch bk.Status {
			case "held":
				bk.Status = "expired"
			case "pending", "confirmed":
				bk.Status, bk.CancelReason = "cancelled", "payment not completed"
			}
		}
	}
}

// Bookings of the tenant, as the plugin left them; resources likewise.
func (st *tenant) bookingCopies() []*pb.Booking {
	var out []*pb.Booking
	for _, bk := range st.bookings {
		out = append(out, proto.Clone(bk.Booking).(*pb.Booking))
	}
	return out
}
