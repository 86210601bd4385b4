package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Request is one action of one person in one tenant, for a plugin.
type Request struct {
	TenantID   int64
	TenantSlug string
	Lang       string
	RequestID  string
	Actor      Actor
	Action     string
	// Values is the submitted form, already valid against its schema.
	Values []byte
	// Config is the tenant's configuration of the service.
	Config []byte
	// DossierID is the dossier an action of scope "dossier" is about; the
	// caller has checked it is one of this service's dossiers in the tenant.
	DossierID int64
	// Files are the files uploaded with the form, already checked and
	// stored as attachments.
	Files []*pb.FileRef
}

// Actor is who acts: what the Host API binds the call to (kind and id),
// and what the plugin may show or check (name, roles).
type Actor struct {
	hostapi.Actor
	Name  string
	Roles []string
}

// Refusals a plugin answers Handle with (a gRPC status of its own, or a
// Host API refusal it passed on), as a *PluginError that matches one of
// these with errors.Is; the HTTP layer maps them like the core's own:
//
//	InvalidArgument, OutOfRange                  ErrInvalid   422
//	PermissionDenied, Unauthenticated            ErrForbidden 403
//	NotFound                                     ErrMissing   404
//	AlreadyExists, Aborted, FailedPrecondition   ErrConflict  409
//	Unavailable, ResourceExhausted, DeadlineExceeded  ErrUnavailable 503
//	anything else (Internal, Unknown, Unimplemented, …): none, i.e. 500
//
// A form the plugin finds wrong is no error: it answers outcome "invalid"
// with field errors, which the host renders.
var (
	ErrInvalid   = errors.New("the plugin found the request invalid")
	ErrForbidden = errors.New("the plugin denied permission")
	ErrMissing   = errors.New("the plugin found no such object")
	ErrConflict  = errors.New("the plugin reported a conflict")
)

// PluginError is a gRPC status a plugin answered Handle with.
type PluginError struct {
	Plugin  string
	Action  string
	Code    codes.Code
	Message string
}

func (e *PluginError) Error() string {
	return fmt.Sprintf("plugin %s, action %s: %s: %s", e.Plugin, e.Action, e.Code, e.Message)
}

// Unwrap is the sentinel the code maps to, or nil.
func (e *PluginError) Unwrap() error {
	switch e.Code {
	case codes.InvalidArgument, codes.OutOfRange:
		return ErrInvalid
	case codes.PermissionDenied, codes.Unauthenticated:
		return ErrForbidden
	case codes.NotFound:
		return ErrMissing
	case codes.AlreadyExists, codes.Aborted, codes.FailedPrecondition:
		return ErrConflict
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded:
		return ErrUnavailable
	}
	return nil
}

// lostGrace is how long a call whose connection broke waits for the
// supervisor's verdict, to report why (the exit status) rather than how.
const lostGrace = 200 * time.Millisecond

// Dispatch runs req's action in plugin pluginID. It binds a Host API call
// token to the request's tenant and actor for exactly the duration of the
// call, and bounds the call by CallTimeout. It fails at once, never waits,
// when the plugin is not running (ErrUnavailable, ErrFailed), and a call in
// flight when the plugin crashes fails as soon as the connection breaks.
func (s *Supervisor) Dispatch(ctx context.Context, pluginID string, req Request) (*pb.HandleResponse, error) {
	u := s.unit(pluginID)
	if u == nil {
		return nil, fmt.Errorf("plugin %s: %w", pluginID, ErrNotFound)
	}
	if req.TenantID <= 0 {
		return nil, fmt.Errorf("plugin %s, action %s: %w", pluginID, req.Action, store.ErrNoTenant)
	}
	inst, err := u.ready()
	if err != nil {
		return nil, err
	}
	token, end := s.api.Begin(hostapi.Call{TenantID: req.TenantID, PluginID: pluginID, Actor: req.Actor.Actor,
		RequestID: req.RequestID, DossierID: req.DossierID})
	// Ended when Handle returns: a plugin that keeps the token acts for no
	// one afterwards.
	defer end()

	cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	// The connection breaks by itself when a process dies, but a plugin
	// the supervisor kills for not answering health checks may still hold
	// it: the call must end with the process either way.
	defer context.AfterFunc(inst.ctx, cancel)()
	res, err := inst.conn.Plugin.Handle(cctx, &pb.HandleRequest{
		Context: &pb.Context{
			TenantId:   req.TenantID,
			TenantSlug: req.TenantSlug,
			Lang:       req.Lang,
			Actor: &pb.Actor{Kind: req.Actor.Kind, Id: req.Actor.ID, Name: req.Actor.Name,
				Roles: req.Actor.Roles},
			RequestId:  req.RequestID,
			CallToken:  token,
			ConfigJson: req.Config,
		},
		Action:     req.Action,
		ValuesJson: req.Values,
		DossierId:  req.DossierID,
		Files:      req.Files,
	})
	if err != nil {
		return nil, s.callError(ctx, cctx, inst, pluginID, req.Action, err)
	}
	return res, nil
}

// callError says why a Handle call failed, in the terms of the package's
// errors.
func (s *Supervisor) callError(ctx, cctx context.Context, inst *instance, pluginID, action string, err error) error {
	st := status.Convert(err)
	switch {
	case inst.ctx.Err() != nil:
		return fmt.Errorf("plugin %s, action %s: %w: %v", pluginID, action, ErrUnavailable, context.Cause(inst.ctx))
	case errors.Is(ctx.Err(), context.Canceled):
		// The caller went away (a closed browser tab); nothing to report.
		return fmt.Errorf("plugin %s, action %s: %w", pluginID, action, ctx.Err())
	case cctx.Err() != nil || st.Code() == codes.DeadlineExceeded:
		return fmt.Errorf("plugin %s, action %s: %w: no answer in time (call timeout %s): %w", pluginID, action,
			ErrUnavailable, s.opts.CallTimeout, context.DeadlineExceeded)
	case st.Code() == codes.Unavailable || st.Code() == codes.Canceled:
		// Most likely the process died this instant: wait a moment for the
		// exit, to say why rather than how.
		for deadline := time.Now().Add(lostGrace); ; {
			if inst.ctx.Err() != nil {
				return fmt.Errorf("plugin %s, action %s: %w: %v", pluginID, action, ErrUnavailable, context.Cause(inst.ctx))
			}
			if inst.client.Exited() {
				return fmt.Errorf("plugin %s, action %s: %w: crashed during the call: %s", pluginID, action,
					ErrUnavailable, inst.exitReason())
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return fmt.Errorf("plugin %s, action %s: %w: %s", pluginID, action, ErrUnavailable, st.Message())
	}
	return &PluginError{Plugin: pluginID, Action: action, Code: st.Code(), Message: st.Message()}
}

// Relay hands one signaling step of a live call to plugin pluginID, which
// relays the call's media, and returns its answer (for "open", the SDP
// offer of its peer). Like Dispatch it fails at once when the plugin is
// not running.
func (s *Supervisor) Relay(ctx context.Context, pluginID string, step sdk.RelayStep) (string, error) {
	u := s.unit(pluginID)
	if u == nil {
		return "", fmt.Errorf("plugin %s: %w", pluginID, ErrNotFound)
	}
	inst, err := u.ready()
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	defer context.AfterFunc(inst.ctx, cancel)()
	res, err := inst.conn.Plugin.Relay(cctx, &pb.RelayRequest{Call: step.Call, Side: step.Side, Kind: step.Kind, Body: step.Body})
	if err != nil {
		return "", s.callError(ctx, cctx, inst, pluginID, "relay "+step.Kind, err)
	}
	return res.GetBody(), nil
}
