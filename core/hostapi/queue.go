package hostapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Queuer runs the waiting queues of live desks (core/live's hub): the
// Host API checks who asks and for which dossier, the queuer keeps the
// place and the call.
type Queuer interface {
	Enqueue(ctx context.Context, r QueueRequest) (*pb.QueueEntry, error)
}

// QueueRequest is a checked Enqueue: the citizen, their dossier of the
// plugin's service, and when they queue (now, or their appointment's
// start).
type QueueRequest struct {
	TenantID  int64
	PluginID  string
	CitizenID int64
	DossierID int64
	Desk      string
	Mode      string
	Topic     string
	Lang      string // it, de or en; "" is Italian
	// AppointmentAt is the start of the citizen's booked appointment,
	// zero when they queue now.
	AppointmentAt time.Time
}

// withdrawn is the status of the dossier of a wait that ended before a
// call, or never began.
const withdrawn = "withdrawn"

// ErrAlreadyQueued is what a Queuer returns, wrapped, for a citizen who
// already waits or talks at a desk of the town.
var ErrAlreadyQueued = errors.New("already queued")

// WithQueue lets plugins queue citizens at live desks; without it Enqueue
// is unavailable.
func WithQueue(q Queuer) Option { return func(s *Server) { s.queue = q } }

// An appointment lets its citizen in a little early (they are told their
// time; the queue orders them by it) and until a while after its start.
const (
	appointmentEarly = 15 * time.Minute
	appointmentLate  = 30 * time.Minute
)

func (v *view) Enqueue(ctx context.Context, r *pb.EnqueueRequest) (*pb.QueueEntry, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.enqueue)
}

func (s *Server) enqueue(ctx context.Context, c Call, r *pb.EnqueueRequest) (*pb.QueueEntry, error) {
	if s.queue == nil {
		return nil, status.Error(codes.Unavailable, "this host runs no live desks")
	}
	if c.Actor.Kind != ActorCitizen {
		return nil, denied("only a citizen waits in a queue")
	}
	switch {
	case r.GetDesk() == "" || len(r.GetDesk()) > 64:
		return nil, invalid("desk: 1 to 64 characters")
	case r.GetMode() != "video" && r.GetMode() != "voice" && r.GetMode() != "chat":
		return nil, invalid("mode %q: video, voice or chat", r.GetMode())
	case len([]rune(r.GetTopic())) > 200:
		return nil, invalid("topic: at most 200 characters")
	case r.GetLang() != "" && r.GetLang() != "it" && r.GetLang() != "de" && r.GetLang() != "en":
		return nil, invalid("lang %q: it, de or en", r.GetLang())
	}
	d, err := s.visible(ctx, c, r.GetDossierId())
	if err != nil {
		return nil, err
	}
	q := QueueRequest{TenantID: c.TenantID, PluginID: c.PluginID, CitizenID: c.Actor.ID, DossierID: d.ID,
		Desk: r.GetDesk(), Mode: r.GetMode(), Topic: r.GetTopic(), Lang: r.GetLang()}
	if code := r.GetAppointmentCode(); code != "" {
		b, err := s.bookings.Get(ctx, c.TenantID, code, booking.Actor{Citizen: c.Actor.ID})
		if err != nil {
			if errors.Is(err, booking.ErrNotFound) || errors.Is(err, booking.ErrInvalid) {
				return nil, status.Errorf(codes.NotFound, "appointment %s not found", code)
			}
			return nil, fmt.Errorf("read appointment %s: %w", code, err)
		}
		now := s.bookingNow()
		switch {
		case b.Status != booking.Confirmed:
			return nil, status.Errorf(codes.FailedPrecondition, "appointment %s is %s", code, b.Status)
		case now.Before(b.Start.Add(-appointmentEarly)) || now.After(b.Start.Add(appointmentLate)):
			return nil, status.Errorf(codes.FailedPrecondition, "appointment %s is at %s, not now", code,
				b.Start.Format(time.RFC3339))
		}
		q.AppointmentAt = b.Start
	}
	e, err := s.queue.Enqueue(ctx, q)
	if errors.Is(err, ErrAlreadyQueued) {
		// The dossier was opened for this wait: closed, so that it does
		// not read as a second one.
		by := dossier.Actor{Kind: dossier.ActorSystem, Plugin: c.PluginID}
		if _, err := s.dossiers.SetStatus(ctx, c.TenantID, d.ID, dossier.AnyVersion, by, withdrawn, ""); err != nil {
			return nil, fmt.Errorf("withdraw dossier %d: %w", d.ID, err)
		}
		return nil, status.Error(codes.AlreadyExists, "the citizen already waits or talks at a desk of the town")
	}
	return e, err
}
