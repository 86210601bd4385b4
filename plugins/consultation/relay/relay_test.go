package relay_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/consultation/relay"
	"github.com/sportello/sportello/plugins/consultation/relay/relaytest"
)

// flowWithin bounds how long media may take to start on loopback; it is a
// failure limit, not a measurement.
const flowWithin = 10 * time.Second

var loopback = relay.ICE{Loopback: true}

// join opens side of call on h and answers with a fresh test peer.
func join(t *testing.T, h *relay.Hub, call, side string) *relaytest.Peer {
	t.Helper()
	ctx := context.Background()
	offer, err := h.Open(ctx, call, side, loopback)
	if err != nil {
		t.Fatalf("open %s/%s: %v", call, side, err)
	}
	p, answer, err := relaytest.NewPeer(offer)
	if err != nil {
		t.Fatalf("peer %s/%s: %v", call, side, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if err := h.Answer(ctx, call, side, answer); err != nil {
		t.Fatalf("answer %s/%s: %v", call, side, err)
	}
	return p
}

func connect(t *testing.T, h *relay.Hub, call string) (citizen, operator *relaytest.Peer) {
	t.Helper()
	citizen = join(t, h, call, "citizen")
	operator = join(t, h, call, "operator")
	citizen.Send()
	operator.Send()
	return citizen, operator
}

func newHub(t *testing.T) *relay.Hub {
	t.Helper()
	h := relay.New(nil)
	t.Cleanup(h.CloseAll)
	return h
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(flowWithin):
		t.Fatalf("%s: nothing within %s", what, flowWithin)
	}
}

// eventually polls cond until it holds or flowWithin passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(flowWithin)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, flowWithin)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bothKinds reports whether p has received audio and video.
func bothKinds(p *relaytest.Peer) bool {
	a, v := p.Received()
	return a > 0 && v > 0
}

func TestOfferShape(t *testing.T) {
	h := newHub(t)
	offer, err := h.Open(context.Background(), "shape", "citizen", loopback)
	if err != nil {
		t.Fatal(err)
	}
	var media, dirs, candidates []string
	for line := range strings.Lines(offer) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "m="):
			media = append(media, strings.Fields(line)[0])
		case line == "a=sendrecv" || line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive":
			dirs = append(dirs, line)
		case strings.HasPrefix(line, "a=candidate:"):
			candidates = append(candidates, line)
		}
	}
	if want := []string{"m=audio", "m=video"}; fmt.Sprint(media) != fmt.Sprint(want) {
		t.Errorf("m-lines %v, want %v", media, want)
	}
	if want := []string{"a=sendrecv", "a=sendrecv"}; fmt.Sprint(dirs) != fmt.Sprint(want) {
		t.Errorf("directions %v, want %v", dirs, want)
	}
	if len(candidates) == 0 {
		t.Error("offer has no candidates; gathering was not awaited")
	}
	for _, c := range candidates {
		if !strings.Contains(c, " 127.0.0.1 ") && !strings.Contains(c, " ::1 ") {
			t.Errorf("loopback ICE announced a non-loopback candidate: %s", c)
		}
	}
	for _, codec := range []string{"opus/48000/2", "VP8/90000"} {
		if !strings.Contains(offer, codec) {
			t.Errorf("offer lacks %s", codec)
		}
	}
	for _, codec := range []string{"H264", "VP9", "AV1", "G722", "PCMU"} {
		if strings.Contains(offer, codec) {
			t.Errorf("offer has %s; only Opus and VP8 are allowed", codec)
		}
	}
}

func TestMediaFlowsBothWays(t *testing.T) {
	h := newHub(t)
	citizen, operator := connect(t, h, "flow")
	waitClosed(t, citizen.FirstMedia(), "citizen's first media")
	waitClosed(t, operator.FirstMedia(), "operator's first media")
	eventually(t, "audio and video at the citizen", func() bool { return bothKinds(citizen) })
	eventually(t, "audio and video at the operator", func() bool { return bothKinds(operator) })

	var first relay.Stats
	eventually(t, "packets counted both ways", func() bool {
		s, ok := h.Stats("flow")
		if !ok {
			t.Fatal("no stats for an open call")
		}
		first = s
		return s.CitizenToOperator > 0 && s.OperatorToCitizen > 0
	})
	if first.Calls != 1 {
		t.Fatalf("stats %+v, want 1 call", first)
	}
	eventually(t, "counts growing both ways", func() bool {
		s, _ := h.Stats("flow")
		return s.CitizenToOperator > first.CitizenToOperator && s.OperatorToCitizen > first.OperatorToCitizen
	})
}

// The side that connects first must get media too once the other joins,
// whichever it is: no renegotiation happens.
func TestEitherSideFirst(t *testing.T) {
	for _, order := range [][2]string{{"citizen", "operator"}, {"operator", "citizen"}} {
		t.Run(order[0]+" first", func(t *testing.T) {
			h := newHub(t)
			first := join(t, h, "order", order[0])
			first.Send()
			waitClosed(t, first.Connected(), order[0]+" connected")
			second := join(t, h, "order", order[1])
			second.Send()
			waitClosed(t, first.FirstMedia(), order[0]+"'s first media")
			waitClosed(t, second.FirstMedia(), order[1]+"'s first media")
			eventually(t, "video to the first side", func() bool { return bothKinds(first) })
			eventually(t, "a keyframe request to the first side when the second connects",
				func() bool { return first.KeyframeRequests() > 0 })
		})
	}
}

// A keyframe request from the browser receiving the video reaches the one
// sending it.
func TestKeyframeRequestForwarded(t *testing.T) {
	h := newHub(t)
	citizen, operator := connect(t, h, "pli")
	eventually(t, "video at the operator", func() bool { return bothKinds(operator) })
	before := citizen.KeyframeRequests()
	eventually(t, "the operator's PLI at the citizen", func() bool {
		if err := operator.RequestKeyframe(); err != nil {
			t.Fatal(err)
		}
		return citizen.KeyframeRequests() > before
	})
}

func TestOpenAgainReplacesPeer(t *testing.T) {
	h := newHub(t)
	oldCitizen, operator := connect(t, h, "again")
	waitClosed(t, oldCitizen.FirstMedia(), "first citizen's media")
	waitClosed(t, operator.FirstMedia(), "operator's media from the first citizen")

	newCitizen := join(t, h, "again", "citizen")
	newCitizen.Send()
	waitClosed(t, oldCitizen.Ended(), "the replaced citizen peer's end")
	waitClosed(t, newCitizen.FirstMedia(), "new citizen's first media")
	if n := h.Calls(); n != 1 {
		t.Fatalf("%d calls after re-opening a side, want 1", n)
	}

	// The operator keeps its connection and sees the new citizen's media.
	_, before := operator.Received()
	eventually(t, "video from the new citizen at the operator", func() bool {
		_, v := operator.Received()
		return v > before+10
	})
	select {
	case <-operator.Ended():
		t.Fatal("re-opening the citizen ended the operator's connection")
	default:
	}
}

func TestOpenInvalid(t *testing.T) {
	h := newHub(t)
	tests := []struct {
		name, call, side string
		ice              relay.ICE
	}{
		{"bad side", "c", "mayor", loopback},
		{"empty side", "c", "", loopback},
		{"empty call", "", "citizen", loopback},
		{"long call", strings.Repeat("x", 201), "citizen", loopback},
		{"ports reversed", "c", "citizen", relay.ICE{Loopback: true, PortMin: 50010, PortMax: 50000}},
		{"public IP not an address", "c", "citizen", relay.ICE{Loopback: true, PublicIPs: []string{"relay.example"}}},
		{"bad server URL", "c", "citizen", relay.ICE{Loopback: true, Servers: []relay.Server{{URLs: []string{"http://x"}}}}},
		{"server without URLs", "c", "citizen", relay.ICE{Loopback: true, Servers: []relay.Server{{}}}},
		{"TURN without credential", "c", "citizen",
			relay.ICE{Loopback: true, Servers: []relay.Server{{URLs: []string{"turn:turn.example:3478"}, Username: "u"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Open(context.Background(), tt.call, tt.side, tt.ice)
			if !errors.Is(err, relay.ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
		})
	}
	if n := h.Calls(); n != 0 {
		t.Fatalf("%d calls after refused opens, want 0", n)
	}
}

func TestOpenWithSettings(t *testing.T) {
	h := newHub(t)
	ice := relay.ICE{Loopback: true, PortMin: 40000, PortMax: 40100, PublicIPs: []string{"203.0.113.7"}}
	offer, err := h.Open(context.Background(), "settings", "operator", ice)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offer, " 203.0.113.7 ") {
		t.Errorf("offer does not announce the public IP:\n%s", offer)
	}
	if strings.Contains(offer, " 127.0.0.1 ") {
		t.Errorf("offer announces the local address behind the public one:\n%s", offer)
	}
	for line := range strings.Lines(offer) {
		f := strings.Fields(line)
		if !strings.HasPrefix(line, "a=candidate:") || len(f) < 6 {
			continue
		}
		if port, err := strconv.Atoi(f[5]); err != nil || port < 40000 || port > 40100 {
			t.Errorf("candidate outside the port range 40000-40100: %s", line)
		}
	}
}

// A TURN server that never answers must not keep Open from returning: the
// offer comes after the gathering bound, with the host candidates.
func TestOpenUnreachableTURN(t *testing.T) {
	h := newHub(t)
	ice := relay.ICE{
		Loopback: true,
		Servers:  []relay.Server{{URLs: []string{"turn:127.0.0.1:9"}, Username: "u", Credential: "p"}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	offer, err := h.Open(ctx, "turn", "citizen", ice)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offer, "typ host") {
		t.Fatalf("offer without host candidates:\n%s", offer)
	}
}

func TestAnswerErrors(t *testing.T) {
	h := newHub(t)
	if _, err := h.Open(context.Background(), "a", "citizen", loopback); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, call, side, sdp string
		want                  error
	}{
		{"garbage", "a", "citizen", "this is not SDP", relay.ErrInvalid},
		{"empty", "a", "citizen", "", relay.ErrInvalid},
		{"truncated", "a", "citizen", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio", relay.ErrInvalid},
		{"huge", "a", "citizen", strings.Repeat("a=x\r\n", 20000), relay.ErrInvalid},
		{"unknown call", "nope", "citizen", "v=0", relay.ErrNoCall},
		{"side not opened", "a", "operator", "v=0", relay.ErrNoCall},
		{"bad side", "a", "mayor", "v=0", relay.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.Answer(context.Background(), tt.call, tt.side, tt.sdp)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCandidate(t *testing.T) {
	h := newHub(t)
	if _, err := h.Open(context.Background(), "c", "citizen", loopback); err != nil {
		t.Fatal(err)
	}
	valid := `{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}`
	tests := []struct {
		name, call, side, body string
		want                   error
	}{
		{"valid before answer", "c", "citizen", valid, nil},
		{"end of candidates", "c", "citizen", `{"candidate":"","sdpMid":"0","sdpMLineIndex":0}`, nil},
		{"not JSON", "c", "citizen", "candidate:1 1 udp", relay.ErrInvalid},
		{"wrong JSON type", "c", "citizen", `{"candidate":42}`, relay.ErrInvalid},
		{"garbage candidate", "c", "citizen", `{"candidate":"candidate:what is this","sdpMid":"0"}`, relay.ErrInvalid},
		{"bad port", "c", "citizen", `{"candidate":"candidate:1 1 udp 1 127.0.0.1 99999 typ host","sdpMid":"0"}`, relay.ErrInvalid},
		{"too long", "c", "citizen", `{"candidate":"` + strings.Repeat("x", 5000) + `"}`, relay.ErrInvalid},
		{"unknown call", "nope", "citizen", valid, relay.ErrNoCall},
		{"side not opened", "c", "operator", valid, relay.ErrNoCall},
		{"bad side", "c", "", valid, relay.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.Candidate(context.Background(), tt.call, tt.side, tt.body)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// Candidates trickled before and after the answer are accepted and the call
// still connects.
func TestCandidateAroundAnswer(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	offer, err := h.Open(ctx, "trickle", "citizen", loopback)
	if err != nil {
		t.Fatal(err)
	}
	early := `{"candidate":"candidate:9 1 udp 2130706431 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}`
	if err := h.Candidate(ctx, "trickle", "citizen", early); err != nil {
		t.Fatalf("early candidate: %v", err)
	}
	p, answer, err := relaytest.NewPeer(offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if err := h.Answer(ctx, "trickle", "citizen", answer); err != nil {
		t.Fatal(err)
	}
	late := `{"candidate":"candidate:8 1 udp 2130706431 127.0.0.1 8 typ host","sdpMid":"0","sdpMLineIndex":0}`
	if err := h.Candidate(ctx, "trickle", "citizen", late); err != nil {
		t.Fatalf("late candidate: %v", err)
	}
	if err := h.Answer(ctx, "trickle", "citizen", answer); !errors.Is(err, relay.ErrInvalid) {
		t.Fatalf("second answer: err %v, want ErrInvalid", err)
	}
	operator := join(t, h, "trickle", "operator")
	operator.Send()
	waitClosed(t, p.FirstMedia(), "citizen's first media")
}

func TestCloseStopsForwarding(t *testing.T) {
	before := runtime.NumGoroutine()
	h := relay.New(nil)
	citizen, operator := connect(t, h, "close")
	waitClosed(t, citizen.FirstMedia(), "citizen's first media")
	waitClosed(t, operator.FirstMedia(), "operator's first media")

	h.Close("close")
	if n := h.Calls(); n != 0 {
		t.Fatalf("%d calls after Close, want 0", n)
	}
	if _, ok := h.Stats("close"); ok {
		t.Fatal("stats still there for a closed call")
	}
	waitClosed(t, citizen.Ended(), "citizen's connection end")
	waitClosed(t, operator.Ended(), "operator's connection end")
	if err := h.Answer(context.Background(), "close", "citizen", "v=0"); !errors.Is(err, relay.ErrNoCall) {
		t.Fatalf("answer after close: err %v, want ErrNoCall", err)
	}
	h.Close("close") // closing twice is harmless

	_ = citizen.Close()
	_ = operator.Close()
	// pion ends a few goroutines of its own shortly after Close returns.
	const slack = 3
	deadline := time.Now().Add(flowWithin)
	for runtime.NumGoroutine() > before+slack {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after close, %d before:\n%s",
				runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConcurrentCalls(t *testing.T) {
	const calls = 10
	h := newHub(t)
	peers := make([][2]*relaytest.Peer, calls)
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
			call := fmt.Sprintf("call-%d", i)
			for s, side := range []string{"citizen", "operator"} {
				offer, err := h.Open(context.Background(), call, side, loopback)
				if err != nil {
					errs <- err
					return
				}
				p, answer, err := relaytest.NewPeer(offer)
				if err != nil {
					errs <- err
					return
				}
				peers[i][s] = p
				if err := h.Answer(context.Background(), call, side, answer); err != nil {
					errs <- err
					return
				}
				p.Send()
			}
		})
	}
	wg.Wait()
	close(errs)
	t.Cleanup(func() {
		for _, pair := range peers {
			for _, p := range pair {
				if p != nil {
					_ = p.Close()
				}
			}
		}
	})
	for err := range errs {
		t.Fatal(err)
	}
	if n := h.Calls(); n != calls {
		t.Fatalf("%d calls, want %d", n, calls)
	}
	for i, pair := range peers {
		waitClosed(t, pair[0].FirstMedia(), fmt.Sprintf("call %d citizen", i))
		waitClosed(t, pair[1].FirstMedia(), fmt.Sprintf("call %d operator", i))
	}
	for i := range calls {
		eventually(t, fmt.Sprintf("call %d counting packets both ways", i), func() bool {
			s, _ := h.Stats(fmt.Sprintf("call-%d", i))
			return s.CitizenToOperator > 0 && s.OperatorToCitizen > 0
		})
	}
	h.CloseAll()
	if n := h.Calls(); n != 0 {
		t.Fatalf("%d calls after CloseAll, want 0", n)
	}
}

func TestOpenCanceled(t *testing.T) {
	h := newHub(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Open(ctx, "canceled", "citizen", loopback); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := h.Calls(); n != 0 {
		t.Fatalf("%d calls after a canceled open, want 0", n)
	}
}
