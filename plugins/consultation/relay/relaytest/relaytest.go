// Package relaytest is a stand-in for a browser in tests and benchmarks of the
// consultation relay: a pion peer on loopback that answers the relay's offer,
// sends synthetic Opus and VP8 and counts what it receives.
package relaytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

const (
	gatherTimeout = 5 * time.Second
	audioEvery    = 20 * time.Millisecond
	videoEvery    = 33 * time.Millisecond
)

// opusSilence is a complete 20 ms Opus frame (TOC byte for CELT fullband
// 20 ms, then the silence pattern browsers send for a muted microphone).
func opusSilence() []byte { return []byte{0xf8, 0xff, 0xfe} }

// vp8Frame looks like a 16x16 VP8 keyframe to anything that peeks at it: a
// frame tag with the key-frame bit clear and show_frame set, the start code
// and the dimensions, then filler up to a typical small frame size.
func vp8Frame() []byte {
	f := make([]byte, 1000)
	copy(f, []byte{0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00})
	for i := 10; i < len(f); i++ {
		f[i] = byte(i)
	}
	return f
}

// Peer is one end of a media session, standing in for a browser.
type Peer struct {
	pc           *webrtc.PeerConnection
	audio, video *webrtc.TrackLocalStaticSample

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup

	sendOnce  sync.Once
	closeOnce sync.Once
	closeErr  error

	first, connected, ended             chan struct{}
	firstOnce, connectedOnce, endedOnce sync.Once
	gotAudio, gotVideo                  atomic.Uint64
	keyframeRequests                    atomic.Uint64
	videoSSRC                           atomic.Uint32 // of the video received, 0 until it starts
}

// NewPeer answers the relay's offer: it sets it as remote description, adds
// an Opus and a VP8 track on the offered transceivers, and returns the answer
// once ICE gathering is complete (at most 5 s), like a browser that does not
// trickle. ICE uses loopback addresses only.
func NewPeer(offer string) (p *Peer, answer string, err error) {
	p, err = newPeer()
	if err != nil {
		return nil, "", err
	}
	if answer, err = p.answer(offer); err != nil {
		_ = p.Close()
		return nil, "", err
	}
	return p, answer, nil
}

func (p *Peer) answer(offer string) (string, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("relaytest: set offer: %w", err)
	}
	if err := p.addTracks(); err != nil {
		return "", err
	}
	desc, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("relaytest: create answer: %w", err)
	}
	return p.setLocal(desc)
}

// DirectPair connects two Peers to each other with no relay in between, the
// reference a benchmark compares the relay with. The offerer's offer has the
// same shape as the relay's (audio then video, both sendrecv). Neither peer
// sends until Send is called; close both when done.
func DirectPair() (offerer, answerer *Peer, err error) {
	o, err := newPeer()
	if err != nil {
		return nil, nil, err
	}
	a, err := o.connect()
	if err != nil {
		_ = o.Close()
		return nil, nil, err
	}
	return o, a, nil
}

// connect offers to a new Peer and returns it once it has answered.
func (p *Peer) connect() (*Peer, error) {
	if err := p.addTracks(); err != nil {
		return nil, err
	}
	desc, err := p.pc.CreateOffer(nil)
	if err != nil {
		return nil, fmt.Errorf("relaytest: create offer: %w", err)
	}
	offer, err := p.setLocal(desc)
	if err != nil {
		return nil, err
	}
	other, answer, err := NewPeer(offer)
	if err != nil {
		return nil, err
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		_ = other.Close()
		return nil, fmt.Errorf("relaytest: set answer: %w", err)
	}
	return other, nil
}

func newPeer() (*Peer, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("relaytest: register opus: %w", err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("relaytest: register vp8: %w", err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, fmt.Errorf("relaytest: interceptors: %w", err)
	}
	var s webrtc.SettingEngine
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s))

	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("relaytest: new peer connection: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Peer{
		pc: pc, ctx: ctx, cancel: cancel,
		first: make(chan struct{}), connected: make(chan struct{}), ended: make(chan struct{}),
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !p.enter() {
			return
		}
		defer p.wg.Done()
		p.receive(t)
	})
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		switch state {
		case webrtc.PeerConnectionStateConnected:
			p.connectedOnce.Do(func() { close(p.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			p.endedOnce.Do(func() { close(p.ended) })
		}
	})
	return p, nil
}

// addTracks adds the audio and the video track, in that order; after a
// remote offer pion puts them on the offered transceivers.
func (p *Peer) addTracks() error {
	var err error
	if p.audio, err = webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "relaytest",
	); err != nil {
		return fmt.Errorf("relaytest: audio track: %w", err)
	}
	if p.video, err = webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "relaytest",
	); err != nil {
		return fmt.Errorf("relaytest: video track: %w", err)
	}
	for _, t := range []webrtc.TrackLocal{p.audio, p.video} {
		sender, err := p.pc.AddTrack(t)
		if err != nil {
			return fmt.Errorf("relaytest: add %s track: %w", t.Kind(), err)
		}
		// pion's interceptors (NACK, reports) only run while RTCP is read.
		p.run(func() { p.readRTCP(sender) })
	}
	return nil
}

// readRTCP drains a sender's RTCP, counting keyframe requests.
func (p *Peer) readRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.keyframeRequests.Add(1)
			}
		}
	}
}

func (p *Peer) setLocal(desc webrtc.SessionDescription) (string, error) {
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(desc); err != nil {
		return "", fmt.Errorf("relaytest: set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		return "", errors.New("relaytest: ICE gathering did not complete")
	}
	return p.pc.LocalDescription().SDP, nil
}

func (p *Peer) receive(t *webrtc.TrackRemote) {
	count := &p.gotAudio
	if t.Kind() == webrtc.RTPCodecTypeVideo {
		count = &p.gotVideo
		p.videoSSRC.Store(uint32(t.SSRC()))
	}
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
		count.Add(1)
		p.firstOnce.Do(func() { close(p.first) })
	}
}

// Send starts writing synthetic media until Close: a 20 ms Opus frame every
// 20 ms and a 1000-byte keyframe-looking VP8 frame every 33 ms. Calling it
// again does nothing.
func (p *Peer) Send() {
	p.sendOnce.Do(func() {
		p.run(func() { p.sendEvery(p.audio, opusSilence(), audioEvery) })
		p.run(func() { p.sendEvery(p.video, vp8Frame(), videoEvery) })
	})
}

func (p *Peer) sendEvery(t *webrtc.TrackLocalStaticSample, frame []byte, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-tick.C:
		}
		// Before the connection is up and after it is gone pion drops the
		// sample or reports a closed pipe; neither matters to a test source.
		_ = t.WriteSample(media.Sample{Data: frame, Duration: every})
	}
}

// FirstMedia is closed when the first RTP packet from the other end arrives.
func (p *Peer) FirstMedia() <-chan struct{} { return p.first }

// Connected is closed when the connection is established.
func (p *Peer) Connected() <-chan struct{} { return p.connected }

// Ended is closed when the connection fails or is closed, by either end.
func (p *Peer) Ended() <-chan struct{} { return p.ended }

// Received counts the RTP packets received so far, per kind.
func (p *Peer) Received() (audio, video uint64) {
	return p.gotAudio.Load(), p.gotVideo.Load()
}

// KeyframeRequests counts the PLI and FIR packets received for the video
// this peer sends.
func (p *Peer) KeyframeRequests() uint64 { return p.keyframeRequests.Load() }

// RequestKeyframe sends a PLI for the video this peer receives, as a browser
// does when it cannot decode; it fails before any video has arrived.
func (p *Peer) RequestKeyframe() error {
	ssrc := p.videoSSRC.Load()
	if ssrc == 0 {
		return errors.New("relaytest: no video received yet")
	}
	if err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		return fmt.Errorf("relaytest: send PLI: %w", err)
	}
	return nil
}

// Close ends the connection and waits for the peer's goroutines.
func (p *Peer) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.cancel()
		if err := p.pc.Close(); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			p.closeErr = fmt.Errorf("relaytest: close: %w", err)
		}
		p.wg.Wait()
	})
	return p.closeErr
}

func (p *Peer) run(f func()) {
	if !p.enter() {
		return
	}
	go func() {
		defer p.wg.Done()
		f()
	}()
}

func (p *Peer) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	return true
}
