package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/plugins/consultation/relay"
	"github.com/sportello/sportello/plugins/sdk"
)

var _ sdk.Relayer = (*service)(nil)

// ice is the host's ICE setup as it sends it with "open".
type ice struct {
	Servers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"servers"`
	Loopback  bool     `json:"loopback"`
	PublicIPs []string `json:"public_ips"`
	PortMin   uint16   `json:"port_min"`
	PortMax   uint16   `json:"port_max"`
}

// Relay runs the host's signaling steps on the relay's peers.
func (s *service) Relay(ctx context.Context, step sdk.RelayStep) (string, error) {
	var err error
	out := ""
	switch step.Kind {
	case "open":
		var in ice
		if err := json.Unmarshal([]byte(step.Body), &in); err != nil {
			return "", &sdk.HostError{Code: codes.InvalidArgument, Msg: "open: ICE setup: " + err.Error()}
		}
		cfg := relay.ICE{Loopback: in.Loopback, PublicIPs: in.PublicIPs, PortMin: in.PortMin, PortMax: in.PortMax}
		for _, sv := range in.Servers {
			cfg.Servers = append(cfg.Servers, relay.Server{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
		}
		out, err = s.relay.Open(ctx, step.Call, step.Side, cfg)
	case "answer":
		err = s.relay.Answer(ctx, step.Call, step.Side, step.Body)
	case "candidate":
		err = s.relay.Candidate(ctx, step.Call, step.Side, step.Body)
	case "close":
		s.relay.Close(step.Call)
	case "stats":
		st, ok := s.relay.Stats(step.Call)
		if !ok {
			return "", &sdk.HostError{Code: codes.NotFound, Msg: "stats: no call " + step.Call}
		}
		raw, _ := json.Marshal(st)
		out = string(raw)
	default:
		return "", &sdk.HostError{Code: codes.InvalidArgument, Msg: fmt.Sprintf("unknown relay step %q", step.Kind)}
	}
	switch {
	case errors.Is(err, relay.ErrInvalid):
		return "", &sdk.HostError{Code: codes.InvalidArgument, Msg: err.Error()}
	case errors.Is(err, relay.ErrNoCall):
		return "", &sdk.HostError{Code: codes.NotFound, Msg: err.Error()}
	case err != nil:
		return "", err
	}
	return out, nil
}
