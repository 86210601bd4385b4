// Package relay carries the audio and video of live consultations between a
// citizen's and an operator's browser. The relay is a WebRTC peer of each
// browser and copies RTP from one side to the other, so neither browser learns
// the other's address.
//
// The server offers: Open returns a complete offer (two sendrecv m-lines,
// audio then video) for one side, the browser answers through Answer and may
// trickle candidates through Candidate. Because every offer already carries
// both tracks the side will receive, no renegotiation is needed whichever side
// connects first.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// ICE is the deployment's ICE setup for the server peers.
type ICE struct {
	Servers   []Server // STUN/TURN, e.g. coturn; may be empty
	Loopback  bool     // gather only loopback candidates (tests, single-machine demos)
	PublicIPs []string // 1:1 NAT addresses announced instead of host addresses; "public" or "public/local"
	// PortMin and PortMax bound the UDP ports of ICE; 0, 0 = any.
	PortMin, PortMax uint16
}

// Server is one STUN or TURN server.
type Server struct {
	URLs                 []string
	Username, Credential string
}

// Stats counts RTP packets delivered to a connected peer, per direction.
type Stats struct {
	CitizenToOperator, OperatorToCitizen uint64
	Calls                                int // calls open in the Hub
}

var (
	// ErrNoCall: the call is not open in this Hub, or the side has no peer.
	ErrNoCall = errors.New("relay: no such call or side")
	// ErrInvalid: a bad side name, ICE setting, SDP or candidate.
	ErrInvalid = errors.New("relay: invalid input")
)

// Limits on what a browser may send; real answers are a few kilobytes and
// candidates a couple of hundred bytes.
const (
	maxCallID      = 200
	maxSDP         = 64 << 10
	maxCandidate   = 4 << 10
	maxPendingCand = 64
)

// Hub holds the calls of one plugin process.
type Hub struct {
	log    *slog.Logger
	nextID atomic.Uint64 // peer generations, to tell a re-opened side from the one before

	mu    sync.Mutex
	calls map[string]*room
}

// New returns an empty Hub; log may be nil.
func New(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{log: log, calls: map[string]*room{}}
}

// Open creates (or re-creates, closing an earlier one) the peer of one side
// ("citizen" or "operator") of call, and returns the server's SDP offer with
// all its candidates. It waits for ICE gathering at most gatherTimeout; an
// offer with the candidates found by then is still returned, since host
// candidates come first and a slow STUN/TURN server should not stop the call.
func (h *Hub) Open(ctx context.Context, call, side string, ice ICE) (offer string, err error) {
	s, err := parseSide(side)
	if err != nil {
		return "", fmt.Errorf("open %s/%s: %w", call, side, err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("open %s/%s: %w", call, side, err)
	}
	if call == "" || len(call) > maxCallID {
		return "", fmt.Errorf("open %q: %w: call id must be 1-%d bytes", call, ErrInvalid, maxCallID)
	}
	api, err := newAPI(ice, h.log)
	if err != nil {
		return "", fmt.Errorf("open %s/%s: %w", call, side, err)
	}
	conf, err := configuration(ice)
	if err != nil {
		return "", fmt.Errorf("open %s/%s: %w", call, side, err)
	}
	pc, err := api.NewPeerConnection(conf)
	if err != nil {
		return "", fmt.Errorf("open %s/%s: new peer connection: %w", call, side, err)
	}

	h.mu.Lock()
	r := h.calls[call]
	if r == nil {
		r, err = newRoom(call)
		if err != nil {
			h.mu.Unlock()
			_ = pc.Close()
			return "", fmt.Errorf("open %s/%s: %w", call, side, err)
		}
		h.calls[call] = r
	}
	p := newPeer(h, r, s, pc)
	old := r.peers[s].Swap(p)
	h.mu.Unlock()

	if old != nil {
		old.close()
	}
	offer, err = p.start(ctx)
	if err != nil {
		h.drop(p)
		return "", fmt.Errorf("open %s/%s: %w", call, side, err)
	}
	return offer, nil
}

// Answer applies the browser's answer to the side's pending offer.
func (h *Hub) Answer(ctx context.Context, call, side, sdp string) (err error) {
	defer wrap(&err, "answer %s/%s", call, side)
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := h.peer(call, side)
	if err != nil {
		return err
	}
	if strings.TrimSpace(sdp) == "" || len(sdp) > maxSDP {
		return fmt.Errorf("%w: SDP must be 1-%d bytes", ErrInvalid, maxSDP)
	}
	return p.answer(sdp)
}

// Candidate adds a trickled browser candidate; body is the JSON of an
// RTCIceCandidateInit. An empty candidate string (end of candidates) is
// accepted. Candidates arriving before the answer are kept until it comes.
func (h *Hub) Candidate(ctx context.Context, call, side, body string) (err error) {
	defer wrap(&err, "candidate %s/%s", call, side)
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := h.peer(call, side)
	if err != nil {
		return err
	}
	if len(body) > maxCandidate {
		return fmt.Errorf("%w: candidate longer than %d bytes", ErrInvalid, maxCandidate)
	}
	var c webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return fmt.Errorf("%w: candidate is not an RTCIceCandidateInit: %v", ErrInvalid, err)
	}
	if v := strings.TrimPrefix(c.Candidate, "candidate:"); v != "" {
		if _, err := ice.UnmarshalCandidate(v); err != nil && !ignorable(err) {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	return p.candidate(c)
}

// ignorable reports candidate errors pion itself skips silently: a type or
// network it does not know is a browser extension, not a mistake.
func ignorable(err error) bool {
	return errors.Is(err, ice.ErrUnknownCandidateTyp) || errors.Is(err, ice.ErrDetermineNetworkType)
}

// Close ends a call: both peers closed and their goroutines stopped before it
// returns. Closing an unknown call does nothing.
func (h *Hub) Close(call string) {
	h.mu.Lock()
	r := h.calls[call]
	delete(h.calls, call)
	h.mu.Unlock()
	if r != nil {
		r.close()
	}
}

// CloseAll ends every call, in parallel.
func (h *Hub) CloseAll() {
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.calls))
	for id, r := range h.calls {
		rooms = append(rooms, r)
		delete(h.calls, id)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range rooms {
		wg.Go(r.close)
	}
	wg.Wait()
}

// Stats returns the packet counts of call.
func (h *Hub) Stats(call string) (Stats, bool) {
	h.mu.Lock()
	r := h.calls[call]
	n := len(h.calls)
	h.mu.Unlock()
	if r == nil {
		return Stats{Calls: n}, false
	}
	return Stats{
		CitizenToOperator: r.forwarded[citizen].Load(),
		OperatorToCitizen: r.forwarded[operator].Load(),
		Calls:             n,
	}, true
}

// Calls returns the number of open calls.
func (h *Hub) Calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

func (h *Hub) peer(call, side string) (*peer, error) {
	s, err := parseSide(side)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	r := h.calls[call]
	h.mu.Unlock()
	if r == nil {
		return nil, ErrNoCall
	}
	p := r.peers[s].Load()
	if p == nil {
		return nil, ErrNoCall
	}
	return p, nil
}

// drop removes a peer whose Open failed, and the call with it when the call
// has no peer left, so a failed first Open leaves nothing behind.
func (h *Hub) drop(p *peer) {
	h.mu.Lock()
	r := p.room
	r.peers[p.side].CompareAndSwap(p, nil)
	if r.peers[citizen].Load() == nil && r.peers[operator].Load() == nil && h.calls[r.id] == r {
		delete(h.calls, r.id)
	}
	h.mu.Unlock()
	p.close()
}

// wrap adds the operation to err and turns a panic inside pion's parsing of
// browser input into ErrInvalid: a hostile SDP must not take the process down.
func wrap(err *error, format string, args ...any) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("%w: rejected input (%v)", ErrInvalid, v)
	}
	if *err != nil {
		*err = fmt.Errorf(format+": %w", append(args, *err)...)
	}
}
