package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Relayer is implemented by a Service that relays the media of live calls
// (the consultation service). The host runs the queue and the signaling
// socket; it hands each signaling step of a call to Relay.
type Relayer interface {
	// Relay runs one step and returns its answer: for "open" the SDP
	// offer of the server's peer. Errors that match ErrInvalid or
	// ErrNotFound reach the host as such.
	Relay(ctx context.Context, step RelayStep) (string, error)
}

// RelayStep is one signaling step of one side of one call; see
// RelayRequest in the contract for the kinds.
type RelayStep struct {
	Call string
	Side string // "citizen" or "operator"
	Kind string // "open", "answer", "candidate", "close", "stats"
	Body string
}

// Enqueue asks the host to queue the request's citizen at a live desk.
type Enqueue struct {
	DossierID int64  // the citizen's dossier the call is about
	Desk      string // a desk id of the service's configuration
	Mode      string // "video", "voice" or "chat"
	Topic     string
	// AppointmentCode, when set, queues the citizen at their booked
	// appointment's time.
	AppointmentCode string
	// Lang is the citizen's language (the request's): the call's
	// transcript on the dossier is written in it.
	Lang string
}

func (h *hostClient) Enqueue(ctx context.Context, e Enqueue) (*pb.QueueEntry, error) {
	out, err := h.api.Enqueue(h.ctx(ctx), &pb.EnqueueRequest{DossierId: e.DossierID, Desk: e.Desk, Mode: e.Mode,
		Topic: e.Topic, AppointmentCode: e.AppointmentCode, Lang: e.Lang})
	return out, hostErr(err)
}

func (s *server) Relay(ctx context.Context, in *pb.RelayRequest) (_ *pb.RelayResponse, err error) {
	r, ok := s.svc.(Relayer)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this plugin relays no media")
	}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "panic in relay %s: %v\n%s", in.GetKind(), p, debug.Stack())
			err = status.Errorf(codes.Internal, "relay %s: panic: %v", in.GetKind(), p)
		}
	}()
	body, err := r.Relay(ctx, RelayStep{Call: in.GetCall(), Side: in.GetSide(), Kind: in.GetKind(), Body: in.GetBody()})
	if err != nil {
		var he *HostError
		if errors.As(err, &he) {
			return nil, status.Error(he.Code, err.Error())
		}
		return nil, status.Errorf(codes.Internal, "relay %s: %v", in.GetKind(), err)
	}
	return &pb.RelayResponse{Body: body}, nil
}
