package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

type side int

const (
	citizen side = iota
	operator
)

func (s side) String() string {
	if s == citizen {
		return "citizen"
	}
	return "operator"
}

func (s side) other() side { return 1 - s }

func parseSide(name string) (side, error) {
	switch name {
	case "citizen":
		return citizen, nil
	case "operator":
		return operator, nil
	}
	return 0, fmt.Errorf("%w: side %q is neither citizen nor operator", ErrInvalid, name)
}

type kind int

const (
	audio kind = iota
	video
)

const (
	// gatherTimeout bounds the wait for ICE gathering in Open.
	gatherTimeout = 5 * time.Second
	// keyframeEvery repeats the keyframe request while a newly connected side
	// has not yet received any video, in case the first request was lost.
	keyframeEvery = 3 * time.Second
	// minPLIGap keeps a receiver that asks for keyframes in a burst (or two
	// receivers asking at once) from making the sender emit one per request.
	minPLIGap = 300 * time.Millisecond
)

// room is one call: the four tracks the relay sends, which outlive any
// single peer, and the current peer of each side.
type room struct {
	id string
	// tracks[s][k] carries media of kind k to side s; a re-opened side binds
	// the same tracks again.
	tracks [2][2]*webrtc.TrackLocalStaticRTP
	// seq[s][k] keeps sequence numbers and timestamps on tracks[s][k]
	// continuous when the sending side is re-opened.
	seq       [2][2]rewriter
	peers     [2]atomic.Pointer[peer]
	forwarded [2]atomic.Uint64 // RTP packets delivered, by the side they came from
}

func newRoom(id string) (*room, error) {
	r := &room{id: id}
	for s := citizen; s <= operator; s++ {
		from := s.other().String() // what a side receives is the other side's media
		var err error
		if r.tracks[s][audio], err = webrtc.NewTrackLocalStaticRTP(opus(), from+"-audio", from); err != nil {
			return nil, fmt.Errorf("audio track: %w", err)
		}
		if r.tracks[s][video], err = webrtc.NewTrackLocalStaticRTP(vp8(), from+"-video", from); err != nil {
			return nil, fmt.Errorf("video track: %w", err)
		}
		r.seq[s][audio].clock = opus().ClockRate
		r.seq[s][video].clock = vp8().ClockRate
	}
	return r, nil
}

func (r *room) close() {
	var wg sync.WaitGroup
	for s := range r.peers {
		if p := r.peers[s].Swap(nil); p != nil {
			wg.Go(p.close)
		}
	}
	wg.Wait()
}

// peer is the server's PeerConnection with one side's browser.
type peer struct {
	id   uint64
	room *room
	side side
	pc   *webrtc.PeerConnection
	log  *slog.Logger

	ctx    context.Context // done when the peer is closed
	cancel context.CancelFunc
	once   sync.Once

	mu       sync.Mutex
	closed   bool // no goroutine may start once set
	answered bool
	pending  []webrtc.ICECandidateInit
	wg       sync.WaitGroup

	pumping   atomic.Bool   // requestKeyframes has been started
	videoSSRC atomic.Uint32 // the browser's outgoing video SSRC, 0 until its track starts
	gotVideo  atomic.Bool   // a video packet has been delivered to this side
	lastPLI   atomic.Int64  // unix nanoseconds of the last keyframe request sent to this side
	wake      chan struct{} // the other side's video started: ask for a keyframe now
}

func newPeer(h *Hub, r *room, s side, pc *webrtc.PeerConnection) *peer {
	ctx, cancel := context.WithCancel(context.Background())
	return &peer{
		id:     h.nextID.Add(1),
		room:   r,
		side:   s,
		pc:     pc,
		log:    h.log.With("call", r.id, "side", s.String()),
		ctx:    ctx,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
	}
}

// goroutine runs f unless the peer is closed, counted so close can wait.
func (p *peer) goroutine(f func()) {
	if !p.enter() {
		return
	}
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// enter registers a goroutine (possibly one pion started) with the peer; it
// fails once the peer is closed, so close's Wait never races an Add.
func (p *peer) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	return true
}

// close tears the PeerConnection down and waits for every goroutine of the
// peer; closing the connection is what unblocks their reads.
func (p *peer) close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.cancel()
		if err := p.pc.Close(); err != nil {
			p.log.Debug("relay: close peer connection", "err", err)
		}
		p.wg.Wait()
	})
}

// start adds the side's two tracks and returns the gathered offer.
func (p *peer) start(ctx context.Context) (string, error) {
	p.pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !p.enter() {
			return
		}
		defer p.wg.Done()
		p.forward(t)
	})
	p.pc.OnConnectionStateChange(p.stateChanged)

	for k, t := range p.room.tracks[p.side] {
		sender, err := p.pc.AddTrack(t)
		if err != nil {
			return "", p.failure(fmt.Errorf("add track: %w", err))
		}
		p.goroutine(func() { p.readRTCP(sender, kind(k)) })
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return "", p.failure(fmt.Errorf("create offer: %w", err))
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return "", p.failure(fmt.Errorf("set offer: %w", err))
	}
	timer := time.NewTimer(gatherTimeout)
	defer timer.Stop()
	select {
	case <-gathered:
	case <-timer.C:
		p.log.Warn("relay: ICE gathering incomplete, offering the candidates found so far", "after", gatherTimeout)
	case <-ctx.Done():
		return "", ctx.Err()
	case <-p.ctx.Done():
		return "", fmt.Errorf("%w: closed while opening", ErrNoCall)
	}
	desc := p.pc.LocalDescription()
	if desc == nil {
		return "", p.failure(errors.New("no local description"))
	}
	return desc.SDP, nil
}

// failure reports a pion error, or ErrNoCall when the cause is that the call
// was closed (or the side re-opened) meanwhile.
func (p *peer) failure(err error) error {
	if p.ctx.Err() != nil {
		return fmt.Errorf("%w: closed while opening", ErrNoCall)
	}
	return err
}

func (p *peer) answer(sdp string) error {
	err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
	if err != nil {
		if p.ctx.Err() != nil {
			return ErrNoCall
		}
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	p.mu.Lock()
	p.answered = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, c := range pending {
		if err := p.pc.AddICECandidate(c); err != nil {
			p.log.Info("relay: early candidate refused", "err", err)
		}
	}
	return nil
}

func (p *peer) candidate(c webrtc.ICECandidateInit) error {
	p.mu.Lock()
	if !p.answered {
		defer p.mu.Unlock()
		if len(p.pending) >= maxPendingCand {
			return fmt.Errorf("%w: more than %d candidates before the answer", ErrInvalid, maxPendingCand)
		}
		p.pending = append(p.pending, c)
		return nil
	}
	p.mu.Unlock()
	if err := p.pc.AddICECandidate(c); err != nil {
		if p.ctx.Err() != nil {
			return ErrNoCall
		}
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

func (p *peer) stateChanged(state webrtc.PeerConnectionState) {
	p.log.Debug("relay: peer connection state", "state", state.String())
	if state == webrtc.PeerConnectionStateConnected && !p.pumping.Swap(true) {
		p.goroutine(p.requestKeyframes)
	}
}

// forward copies one incoming track of this side to the other side's track of
// the same kind until the connection closes.
func (p *peer) forward(t *webrtc.TrackRemote) {
	k := audio
	if t.Kind() == webrtc.RTPCodecTypeVideo {
		k = video
	}
	to := p.side.other()
	out := p.room.tracks[to][k]
	seq := &p.room.seq[to][k]
	if k == video {
		p.videoSSRC.Store(uint32(t.SSRC()))
		if dst := p.room.peers[to].Load(); dst != nil {
			dst.kick()
		}
	}
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		// Header extensions were negotiated with this side's browser (the
		// transport-wide sequence numbers above all) and mean nothing to the
		// other one.
		pkt.Extension = false
		pkt.Extensions = nil
		seq.rewrite(p.id, &pkt.Header)
		if err := out.WriteRTP(&pkt); err != nil {
			if !errors.Is(err, io.ErrClosedPipe) {
				p.log.Debug("relay: forward", "err", err)
			}
			continue
		}
		// A write with the other side absent or not yet connected goes
		// nowhere, so it is not counted.
		dst := p.room.peers[to].Load()
		if dst == nil || dst.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			continue
		}
		p.room.forwarded[p.side].Add(1)
		if k == video && !dst.gotVideo.Load() {
			dst.gotVideo.Store(true)
		}
	}
}

// readRTCP drains the RTCP the browser sends about a track it receives from
// the relay (pion's interceptors need that), and passes its keyframe requests
// on to the side that sends the video.
func (p *peer) readRTCP(sender *webrtc.RTPSender, k kind) {
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		if k != video {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if src := p.room.peers[p.side.other()].Load(); src != nil {
					src.keyframe()
				}
			}
		}
	}
}

// requestKeyframes runs once this side is connected. It asks the other side
// for a keyframe at once, again whenever the other side's video (re)starts,
// and every keyframeEvery until video has reached this side, so the picture
// shows without waiting for the sender's next periodic keyframe.
func (p *peer) requestKeyframes() {
	tick := time.NewTicker(keyframeEvery)
	defer tick.Stop()
	for {
		if src := p.room.peers[p.side.other()].Load(); src != nil {
			src.keyframe()
		}
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		case <-tick.C:
			if p.gotVideo.Load() {
				return
			}
		}
	}
}

func (p *peer) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// keyframe asks this side's browser for a video keyframe.
func (p *peer) keyframe() {
	ssrc := p.videoSSRC.Load()
	if ssrc == 0 { // no video from this side (yet): nothing to refresh
		return
	}
	now := time.Now().UnixNano()
	last := p.lastPLI.Load()
	if now-last < int64(minPLIGap) || !p.lastPLI.CompareAndSwap(last, now) {
		return
	}
	if err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil &&
		!errors.Is(err, io.ErrClosedPipe) {
		p.log.Debug("relay: keyframe request", "err", err)
	}
}

// rewriter keeps one outgoing track's sequence numbers and timestamps
// continuous across senders: when a side is re-opened its browser starts a
// new stream with random numbers, which the receiving browser, still on the
// same SSRC, would take for a huge jump (or for old packets) and drop.
type rewriter struct {
	clock uint32

	mu       sync.Mutex
	source   uint64 // peer id of the sender the offsets belong to; 0 = none yet
	seqDelta uint16
	tsDelta  uint32
	lastSeq  uint16
	lastTS   uint32
	lastAt   time.Time
}

func (w *rewriter) rewrite(source uint64, h *rtp.Header) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.source != source {
		if w.source != 0 {
			// Carry on one step after the last packet sent, with the
			// timestamp advanced by the real time that passed.
			elapsed := uint32(now.Sub(w.lastAt).Seconds()*float64(w.clock)) + 1
			w.seqDelta = w.lastSeq + 1 - h.SequenceNumber
			w.tsDelta = w.lastTS + elapsed - h.Timestamp
		}
		w.source = source
		w.lastSeq = h.SequenceNumber + w.seqDelta - 1
	}
	h.SequenceNumber += w.seqDelta
	h.Timestamp += w.tsDelta
	// Only packets newer than the last one move the reference point;
	// reordered and retransmitted ones keep their place.
	if int16(h.SequenceNumber-w.lastSeq) > 0 {
		w.lastSeq = h.SequenceNumber
		w.lastTS = h.Timestamp
		w.lastAt = now
	}
}
