package hostapi_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// fakeQueue is a queuer that keeps what the Host API asked of it, and
// refuses a citizen's second wait as the real one does.
type fakeQueue struct {
	mu   sync.Mutex
	got  []hostapi.QueueRequest
	busy map[int64]bool
}

func (q *fakeQueue) Enqueue(_ context.Context, r hostapi.QueueRequest) (*pb.QueueEntry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.busy[r.CitizenID] {
		return nil, fmt.Errorf("citizen %d: %w", r.CitizenID, hostapi.ErrAlreadyQueued)
	}
	q.busy[r.CitizenID] = true
	q.got = append(q.got, r)
	return &pb.QueueEntry{Id: int64(len(q.got)), Position: 1, Url: fmt.Sprintf("/live/%d", len(q.got))}, nil
}

func (q *fakeQueue) last() hostapi.QueueRequest {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.got[len(q.got)-1]
}

func (q *fakeQueue) free(citizen int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.busy, citizen)
}

func TestEnqueue(t *testing.T) {
	q := &fakeQueue{busy: map[int64]bool{}}
	b := newBookingEnv(t, hostapi.WithQueue(q))
	tid := b.tenant("alpha")
	op, anna, bruno := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", ""), b.citizen(tid, "bruno", "")
	b.declare("roombooking", tid, op)
	annaCtx, annaAPI := b.as("consultation", tid, citizen(anna))
	brunoCtx, brunoAPI := b.as("consultation", tid, citizen(bruno))
	opCtx, opAPI := b.as("consultation", tid, staff(op))
	bookCtx, bookAPI := b.as("roombooking", tid, citizen(anna))

	// Anna's appointment at 10:00 of the first Monday.
	start := b.at(0, 10, 0)
	appt := must(bookAPI.Book(bookCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()}))(t)
	dossier := func(ctx context.Context, api pb.HostAPIClient) int64 {
		d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Sportello online", Status: "queued", Channel: "consultation"}))(t)
		return d.GetId()
	}
	annas, brunos := dossier(annaCtx, annaAPI), dossier(brunoCtx, brunoAPI)

	cases := []struct {
		name string
		now  time.Time
		ctx  context.Context
		api  pb.HostAPIClient
		req  *pb.EnqueueRequest
		code codes.Code
	}{
		{"staff do not queue", start, opCtx, opAPI, &pb.EnqueueRequest{DossierId: annas, Desk: "urp", Mode: "video"}, codes.PermissionDenied},
		{"an unknown mode", start, annaCtx, annaAPI, &pb.EnqueueRequest{DossierId: annas, Desk: "urp", Mode: "fax"}, codes.InvalidArgument},
		{"no desk", start, annaCtx, annaAPI, &pb.EnqueueRequest{DossierId: annas, Mode: "chat"}, codes.InvalidArgument},
		{"a language the town has not", start, annaCtx, annaAPI,
			&pb.EnqueueRequest{DossierId: annas, Desk: "urp", Mode: "chat", Lang: "xx"}, codes.InvalidArgument},
		{"another's dossier", start, annaCtx, annaAPI, &pb.EnqueueRequest{DossierId: brunos, Desk: "urp", Mode: "chat"}, codes.NotFound},
		{"another's appointment", start, brunoCtx, brunoAPI,
			&pb.EnqueueRequest{DossierId: brunos, Desk: "urp", Mode: "chat", AppointmentCode: appt.GetCode()}, codes.NotFound},
		{"an appointment two hours away", start.Add(-2 * time.Hour), annaCtx, annaAPI,
			&pb.EnqueueRequest{DossierId: annas, Desk: "urp", Mode: "video", AppointmentCode: appt.GetCode()}, codes.FailedPrecondition},
		{"an appointment long past", start.Add(time.Hour), annaCtx, annaAPI,
			&pb.EnqueueRequest{DossierId: annas, Desk: "urp", Mode: "video", AppointmentCode: appt.GetCode()}, codes.FailedPrecondition},
		{"a little early for the appointment", start.Add(-10 * time.Minute), annaCtx, annaAPI,
			&pb.EnqueueRequest{DossierId: annas, Desk: "urp", Mode: "video", AppointmentCode: appt.GetCode()}, codes.OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b.clock.Set(c.now)
			_, err := c.api.Enqueue(c.ctx, c.req)
			if status.Code(err) != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
	// She queues at her appointment's time, not when she came.
	if got := q.last(); !got.AppointmentAt.Equal(start) || got.CitizenID != anna || got.DossierID != annas ||
		got.PluginID != "consultation" || got.TenantID != tid || got.Mode != "video" {
		t.Fatalf("queued %+v", got)
	}

	// A second wait is refused, and the dossier opened for it closed.
	second := dossier(annaCtx, annaAPI)
	_, err := annaAPI.Enqueue(annaCtx, &pb.EnqueueRequest{DossierId: second, Desk: "urp", Mode: "chat"})
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second wait: %v", err)
	}
	if d := must(annaAPI.GetDossier(annaCtx, &pb.GetDossierRequest{Id: second}))(t); d.GetStatus() != "withdrawn" {
		t.Fatalf("the second wait's dossier: %s", d.GetStatus())
	}
	q.free(anna)
	if _, err := annaAPI.Enqueue(annaCtx, &pb.EnqueueRequest{DossierId: second, Desk: "urp", Mode: "chat"}); err != nil {
		t.Fatalf("after the first wait ended: %v", err)
	}
	if got := q.last(); !got.AppointmentAt.IsZero() {
		t.Fatalf("a wait without appointment queued at %v", got.AppointmentAt)
	}
}
