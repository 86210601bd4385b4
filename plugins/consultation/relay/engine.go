package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// The only codecs a consultation uses, with the payload types browsers
// commonly pick, so both sides of a call negotiate the same numbers.
func opus() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
}

func vp8() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
}

const (
	opusPayloadType = 111
	vp8PayloadType  = 96
)

// newAPI builds the webrtc.API for one peer. Building it per Open costs a
// couple of microseconds, against milliseconds for the rest of Open, so no
// cache of APIs by ICE setting is kept. pion copies the MediaEngine and builds
// fresh interceptors for each PeerConnection either way.
func newAPI(cfg ICE, log *slog.Logger) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opus(), PayloadType: opusPayloadType},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8(), PayloadType: vp8PayloadType},
		webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register vp8: %w", err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}

	s := webrtc.SettingEngine{LoggerFactory: pionLogs{log}}
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	// A server cannot resolve a browser's .local name unless they share a LAN,
	// and the browser's checks reach us anyway (peer-reflexive), so mDNS
	// would only cost a multicast socket per peer.
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if cfg.Loopback {
		s.SetIncludeLoopbackCandidate(true)
		s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if err := s.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("%w: UDP port range %d-%d", ErrInvalid, cfg.PortMin, cfg.PortMax)
		}
	}
	if len(cfg.PublicIPs) > 0 {
		rules, err := rewriteRules(cfg.PublicIPs)
		if err != nil {
			return nil, err
		}
		if err := s.SetICEAddressRewriteRules(rules...); err != nil {
			return nil, fmt.Errorf("%w: public IPs: %v", ErrInvalid, err)
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(s)), nil
}

// rewriteRules turns 1:1 NAT addresses into host-candidate replacements, the
// non-deprecated form of SettingEngine.SetNAT1To1IPs. Like that setting it
// takes "public" (for every local address of that IP family) or
// "public/local" (for one local address).
func rewriteRules(ips []string) ([]webrtc.ICEAddressRewriteRule, error) {
	rules := make([]webrtc.ICEAddressRewriteRule, 0, len(ips))
	for _, entry := range ips {
		public, local, pinned := strings.Cut(entry, "/")
		if net.ParseIP(public) == nil || (pinned && net.ParseIP(local) == nil) {
			return nil, fmt.Errorf("%w: public IP %q is not an address or address/local-address", ErrInvalid, entry)
		}
		rules = append(rules, webrtc.ICEAddressRewriteRule{
			External:        []string{public},
			Local:           local,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
	}
	return rules, nil
}

// configuration checks the STUN/TURN servers up front so that a bad URL is
// reported as the caller's mistake rather than as a failure to create a peer.
func configuration(cfg ICE) (webrtc.Configuration, error) {
	var c webrtc.Configuration
	for _, s := range cfg.Servers {
		if len(s.URLs) == 0 {
			return c, fmt.Errorf("%w: ICE server without URLs", ErrInvalid)
		}
		for _, u := range s.URLs {
			uri, err := stun.ParseURI(u)
			if err != nil {
				return c, fmt.Errorf("%w: ICE server URL %q: %v", ErrInvalid, u, err)
			}
			turn := uri.Scheme == stun.SchemeTypeTURN || uri.Scheme == stun.SchemeTypeTURNS
			if turn && (s.Username == "" || s.Credential == "") {
				return c, fmt.Errorf("%w: TURN server %q needs a username and a credential", ErrInvalid, u)
			}
		}
		server := webrtc.ICEServer{URLs: slices.Clone(s.URLs), Username: s.Username}
		if s.Credential != "" {
			server.Credential = s.Credential
		}
		c.ICEServers = append(c.ICEServers, server)
	}
	return c, nil
}

// pionLogs sends pion's logging into the Hub's logger. pion reports routine
// connection events at Info and recoverable trouble (a discarded candidate,
// a lost packet) at Warn, so both are lowered one step.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLog{f.log.With("pion", scope)}
}

type pionLog struct{ log *slog.Logger }

func (l pionLog) emit(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l pionLog) emitf(level slog.Level, format string, args []any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (pionLog) Trace(string)                        {}
func (pionLog) Tracef(string, ...any)               {}
func (l pionLog) Debug(msg string)                  { l.emit(slog.LevelDebug, msg) }
func (l pionLog) Debugf(format string, args ...any) { l.emitf(slog.LevelDebug, format, args) }
func (l pionLog) Info(msg string)                   { l.emit(slog.LevelDebug, msg) }
func (l pionLog) Infof(format string, args ...any)  { l.emitf(slog.LevelDebug, format, args) }
func (l pionLog) Warn(msg string)                   { l.emit(slog.LevelInfo, msg) }
func (l pionLog) Warnf(format string, args ...any)  { l.emitf(slog.LevelInfo, format, args) }
func (l pionLog) Error(msg string)                  { l.emit(slog.LevelWarn, msg) }
func (l pionLog) Errorf(format string, args ...any) { l.emitf(slog.LevelWarn, format, args) }
