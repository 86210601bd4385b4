package hostapi_test

import (
	"context"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

func TestReservations(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna, bruno := e.citizen(tid, "anna", "anna@example.org"), e.citizen(tid, "bruno", "")
	ctx, api := e.as("roombooking", tid, citizen(anna))
	brunoCtx, brunoAPI := e.as("roombooking", tid, citizen(bruno))
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	slot := func(resource string, from, to time.Duration, hold int32) *pb.ReserveRequest {
		return &pb.ReserveRequest{Resource: resource, StartUnix: start.Add(from).Unix(), EndUnix: start.Add(to).Unix(), HoldMinutes: hold}
	}

	first := must(api.Reserve(ctx, slot("room-a", 0, time.Hour, 0)))(t)
	if first.Status != "confirmed" || first.ExpiresUnix != 0 || first.StartUnix != start.Unix() || first.Resource != "room-a" {
		t.Fatalf("reserved %+v", first)
	}
	if !regexp.MustCompile(`^[2-9A-HJ-NP-Z]{8}$`).MatchString(first.Code) {
		t.Fatalf("code %q", first.Code)
	}

	t.Run("an overlapping period is taken", func(t *testing.T) {
		for _, r := range []*pb.ReserveRequest{
			slot("room-a", 0, time.Hour, 0),
			slot("room-a", 30*time.Minute, 90*time.Minute, 0),
			slot("room-a", -30*time.Minute, 5*time.Minute, 5),
		} {
			_, err := brunoAPI.Reserve(brunoCtx, r)
			wantCode(t, "overlap", err, codes.AlreadyExists)
		}
	})
	t.Run("back to back is no overlap", func(t *testing.T) {
		must(brunoAPI.Reserve(brunoCtx, slot("room-a", time.Hour, 2*time.Hour, 0)))(t)
	})
	t.Run("another service's resource of the same name is another resource", func(t *testing.T) {
		ctx, api := e.as("helpdesk", tid, citizen(anna))
		must(api.Reserve(ctx, slot("room-a", 0, time.Hour, 0)))(t)
	})
	t.Run("a live hold blocks, an expired one does not", func(t *testing.T) {
		hold := must(api.Reserve(ctx, slot("room-b", 0, time.Hour, 10)))(t)
		if hold.Status != "held" || hold.ExpiresUnix < time.Now().Add(9*time.Minute).Unix() {
			t.Fatalf("hold %+v", hold)
		}
		_, err := brunoAPI.Reserve(brunoCtx, slot("room-b", 0, time.Hour, 0))
		wantCode(t, "while held", err, codes.AlreadyExists)

		if _, err := e.db.Owner.ExecContext(context.Background(),
			"UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = ?", hold.Id); err != nil {
			t.Fatal(err)
		}
		taken := must(brunoAPI.Reserve(brunoCtx, slot("room-b", 0, time.Hour, 0)))(t)
		if taken.Status != "confirmed" {
			t.Fatalf("after expiry: %+v", taken)
		}
		var st string
		if err := e.db.Owner.NewRaw("SELECT status FROM reservations WHERE id = ?", hold.Id).Scan(context.Background(), &st); err != nil {
			t.Fatal(err)
		}
		if st != "cancelled" {
			t.Fatalf("the expired hold is %q, want cancelled", st)
		}
	})
	t.Run("cancelling frees the slot", func(t *testing.T) {
		r := must(api.Reserve(ctx, slot("room-c", 0, time.Hour, 0)))(t)
		_, err := brunoAPI.CancelReservation(brunoCtx, &pb.CancelReservationRequest{Id: r.Id})
		wantCode(t, "another citizen's reservation", err, codes.NotFound)
		c := must(api.CancelReservation(ctx, &pb.CancelReservationRequest{Id: r.Id}))(t)
		if c.Status != "cancelled" || c.Code != r.Code {
			t.Fatalf("cancelled %+v", c)
		}
		must(api.CancelReservation(ctx, &pb.CancelReservationRequest{Id: r.Id}))(t) // twice is fine
		must(brunoAPI.Reserve(brunoCtx, slot("room-c", 0, time.Hour, 0)))(t)
	})
	t.Run("staff cancel any reservation of the service", func(t *testing.T) {
		r := must(api.Reserve(ctx, slot("room-d", 0, time.Hour, 0)))(t)
		opCtx, opAPI := e.as("roombooking", tid, staff(e.user(tid, "op@alpha.example")))
		must(opAPI.CancelReservation(opCtx, &pb.CancelReservationRequest{Id: r.Id}))(t)
		otherCtx, otherAPI := e.as("helpdesk", tid, staff(e.user(tid, "op2@alpha.example")))
		_, err := otherAPI.CancelReservation(otherCtx, &pb.CancelReservationRequest{Id: first.Id})
		wantCode(t, "another service's reservation", err, codes.NotFound)
	})
	t.Run("a reservation on a dossier takes its citizen", func(t *testing.T) {
		d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Room for a wedding"}))(t)
		opCtx, opAPI := e.as("roombooking", tid, staff(e.user(tid, "op3@alpha.example")))
		r := must(opAPI.Reserve(opCtx, &pb.ReserveRequest{Resource: "room-e", StartUnix: start.Unix(), EndUnix: start.Add(time.Hour).Unix(), DossierId: d.Id}))(t)
		// anna, the dossier's citizen, may now cancel it herself.
		must(api.CancelReservation(ctx, &pb.CancelReservationRequest{Id: r.Id}))(t)
		_, err := brunoAPI.Reserve(brunoCtx, &pb.ReserveRequest{Resource: "room-e", StartUnix: start.Unix(), EndUnix: start.Add(time.Hour).Unix(), DossierId: d.Id})
		wantCode(t, "on another citizen's dossier", err, codes.NotFound)
	})
	t.Run("an anonymous visitor cannot reserve", func(t *testing.T) {
		ctx, api := e.as("roombooking", tid, anonymous())
		_, err := api.Reserve(ctx, slot("room-f", 0, time.Hour, 0))
		wantCode(t, "anonymous", err, codes.PermissionDenied)
	})
}

// Many requests for one slot at once: exactly one gets it.
func TestConcurrentReservationsOfOneSlot(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	var won, taken atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		ctx, api := e.as("roombooking", tid, citizen(e.citizen(tid, string(rune('a'+i)), "")))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "hall", StartUnix: start.Unix(), EndUnix: start.Add(time.Hour).Unix()})
			switch status.Code(err) {
			case codes.OK:
				won.Add(1)
			case codes.AlreadyExists:
				taken.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 || taken.Load() != 9 {
		t.Fatalf("%d won, %d refused; want 1 and 9", won.Load(), taken.Load())
	}
}
