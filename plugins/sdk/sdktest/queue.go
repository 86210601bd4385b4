package sdktest

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// QueueEntry is a citizen the plugin queued at a live desk. The fake
// keeps them all: it runs no calls, so nobody ever leaves its queue.
type QueueEntry struct {
	ID        int64
	CitizenID int64
	sdk.Enqueue
}

// Enqueue refuses what the host refuses: anyone but a citizen, a dossier
// not theirs, an unknown mode, a second wait in the same town.
func (b *bound) Enqueue(ctx context.Context, e sdk.Enqueue) (*pb.QueueEntry, error) {
	st, err := b.begin(ctx, "Enqueue")
	if err != nil {
		return nil, err
	}
	defer b.end()
	if b.actor.Kind != "citizen" {
		return nil, hostErr(codes.PermissionDenied, "only a citizen waits in a queue")
	}
	if e.Desk == "" || len(e.Desk) > 64 {
		return nil, hostErr(codes.InvalidArgument, "desk: 1 to 64 characters")
	}
	if !slices.Contains([]string{"video", "voice", "chat"}, e.Mode) {
		return nil, hostErr(codes.InvalidArgument, "mode %q: video, voice or chat", e.Mode)
	}
	d, err := b.dossier(st, e.DossierID)
	if err != nil {
		return nil, err
	}
	if d.GetCitizenId() != b.actor.ID {
		return nil, hostErr(codes.NotFound, "dossier %d: not found", e.DossierID)
	}
	for _, q := range st.queue {
		if q.CitizenID == b.actor.ID {
			// As the host: the dossier opened for this wait is closed.
			d.Status = "withdrawn"
			return nil, hostErr(codes.AlreadyExists, "the citizen already waits (entry %d)", q.ID)
		}
	}
	q := &QueueEntry{ID: int64(len(st.queue) + 1), CitizenID: b.actor.ID, Enqueue: e}
	st.queue = append(st.queue, q)
	return &pb.QueueEntry{Id: q.ID, Position: int32(len(st.queue)), Url: fmt.Sprintf("/live/%d", q.ID)}, nil
}
