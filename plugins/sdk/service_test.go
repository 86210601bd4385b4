package sdk_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// serviceFunc is a Service made of one function, one per test case.
type serviceFunc func(context.Context, *sdk.Request) (*sdk.Response, error)

func (f serviceFunc) Handle(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
	return f(ctx, r)
}

func TestHandleBeforeInit(t *testing.T) {
	srv := sdk.NewServer(&pb.Manifest{Id: "x"}, serviceFunc(func(context.Context, *sdk.Request) (*sdk.Response, error) {
		t.Error("the service ran before Init")
		return sdk.OK(""), nil
	}))
	_, err := srv.Handle(context.Background(), &pb.HandleRequest{Action: "submit"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Handle before Init: %v, want FailedPrecondition", err)
	}
	// Without go-plugin's broker there is no Host API to dial.
	_, err = srv.Init(context.Background(), &pb.InitRequest{HostProtocol: sdk.ProtocolVersion})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Init without a broker: %v, want FailedPrecondition", err)
	}
	if h, err := srv.Health(context.Background(), &pb.HealthRequest{}); err != nil || h.GetStatus() != "ok" {
		t.Fatalf("Health: %v, %v", h, err)
	}
}

// hostAPI is a Host API server that records the call tokens it is sent.
type hostAPI struct {
	pb.UnimplementedHostAPIServer
	mu     sync.Mutex
	tokens []string
	// assignees is what each CreateDossier asked to be assigned to.
	assignees []string
}

func (h *hostAPI) token(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	h.mu.Lock()
	h.tokens = append(h.tokens, md.Get(sdk.CallTokenKey)...)
	h.mu.Unlock()
}

func (h *hostAPI) CreateDossier(ctx context.Context, r *pb.CreateDossierRequest) (*pb.Dossier, error) {
	h.token(ctx)
	h.mu.Lock()
	h.assignees = append(h.assignees, r.GetAssigneeEmail())
	h.mu.Unlock()
	return &pb.Dossier{Id: 7, Number: "2026-000007", Title: r.GetTitle(), DataJson: r.GetDataJson()}, nil
}

func (h *hostAPI) GetDossier(ctx context.Context, r *pb.GetDossierRequest) (*pb.Dossier, error) {
	h.token(ctx)
	return nil, status.Errorf(codes.NotFound, "dossier %d not found", r.GetId())
}

func (h *hostAPI) PutSetting(ctx context.Context, r *pb.PutSettingRequest) (*pb.Setting, error) {
	h.token(ctx)
	if len(r.GetValueJson()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "value_json is empty")
	}
	return &pb.Setting{Key: r.GetKey(), ValueJson: r.GetValueJson(), Found: true}, nil
}

// connect runs svc behind go-plugin's in-memory gRPC connection, serves
// the Host API to it over the broker and calls Init, as the host does.
func connect(t *testing.T, svc sdk.Service) (pb.PluginClient, *hostAPI) {
	t.Helper()
	ps := sdk.VersionedPlugins(sdk.NewServer(&pb.Manifest{Id: "test", Version: "1.0.0"}, svc))[sdk.ProtocolVersion]
	// Closing the client asks the server to stop, as a host's shutdown does.
	client, _ := plugin.TestPluginGRPCConn(t, false, ps)
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	conn := raw.(*sdk.Conn)
	api := &hostAPI{}
	id := conn.Broker.NextId()
	go conn.Broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterHostAPIServer(s, api)
		return s
	})
	if _, err := conn.Plugin.Handle(context.Background(), &pb.HandleRequest{}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Handle before Init: %v", err)
	}
	if _, err := conn.Plugin.Init(context.Background(), &pb.InitRequest{HostApiBrokerId: id, HostProtocol: 0}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Init from an older host: %v", err)
	}
	m, err := conn.Plugin.Init(context.Background(), &pb.InitRequest{HostApiBrokerId: id, HostProtocol: sdk.ProtocolVersion})
	if err != nil || m.GetId() != "test" {
		t.Fatalf("Init: %v, %v", m, err)
	}
	return conn.Plugin, api
}

func TestHandleMapping(t *testing.T) {
	tests := []struct {
		name string
		svc  serviceFunc
		code codes.Code // of the gRPC error; OK for a response
		want *pb.HandleResponse
		// assignees are the addresses the Host API was sent, one per
		// dossier created.
		assignees []string
	}{
		{
			name: "ok through the Host API",
			svc: func(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
				var v struct{ Subject string }
				if err := r.Decode(&v); err != nil {
					return nil, err
				}
				d, err := r.Host.CreateDossier(ctx, sdk.NewDossier{Title: v.Subject + " (" + r.Lang + ", " + r.TenantSlug + ")",
					Data: map[string]string{"actor": r.Actor.Kind}, Assignee: "mario.rossi@trezzo.example"})
				if err != nil {
					return nil, err
				}
				return &sdk.Response{Message: d.GetTitle(), DossierID: d.GetId(), DossierNumber: d.GetNumber(),
					Data: map[string]any{"data": string(d.GetDataJson())}}, nil
			},
			want: &pb.HandleResponse{Outcome: "ok", Message: "Buche (de, trezzo)", DossierId: 7, DossierNumber: "2026-000007",
				DataJson: []byte(`{"data":"{\"actor\":\"citizen\"}"}`)},
			assignees: []string{"mario.rossi@trezzo.example"},
		},
		{
			name: "invalid",
			svc: func(context.Context, *sdk.Request) (*sdk.Response, error) {
				return sdk.Invalid("/subject", "Scegli un argomento."), nil
			},
			want: &pb.HandleResponse{Outcome: "invalid", Errors: []*pb.FieldError{{Field: "/subject", Message: "Scegli un argomento."}}},
		},
		{
			name: "refused",
			svc: func(context.Context, *sdk.Request) (*sdk.Response, error) {
				return sdk.Refused("Termine scaduto."), nil
			},
			want: &pb.HandleResponse{Outcome: "refused", Message: "Termine scaduto."},
		},
		{
			name: "a Host API refusal the plugin passes on keeps its code",
			svc: func(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
				_, err := r.Host.GetDossier(ctx, 99)
				if !errors.Is(err, sdk.ErrNotFound) {
					t.Errorf("GetDossier: %v, want ErrNotFound", err)
				}
				return nil, err
			},
			code: codes.NotFound,
		},
		{
			name: "nil PutSetting is JSON null",
			svc: func(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
				return sdk.OK(""), r.Host.PutSetting(ctx, "k", nil)
			},
			want: &pb.HandleResponse{Outcome: "ok"},
		},
		{
			name: "plain error",
			svc:  func(context.Context, *sdk.Request) (*sdk.Response, error) { return nil, errors.New("boom") },
			code: codes.Internal,
		},
		{
			name: "no response",
			svc:  func(context.Context, *sdk.Request) (*sdk.Response, error) { return nil, nil },
			code: codes.Internal,
		},
		{
			name: "unknown outcome",
			svc: func(context.Context, *sdk.Request) (*sdk.Response, error) {
				return &sdk.Response{Outcome: "maybe"}, nil
			},
			code: codes.Internal,
		},
		{
			name: "invalid without field errors",
			svc: func(context.Context, *sdk.Request) (*sdk.Response, error) {
				return &sdk.Response{Outcome: sdk.OutcomeInvalid}, nil
			},
			code: codes.Internal,
		},
		{
			name: "data that does not encode",
			svc: func(context.Context, *sdk.Request) (*sdk.Response, error) {
				return &sdk.Response{Data: func() {}}, nil
			},
			code: codes.Internal,
		},
		{
			name: "panic",
			svc:  func(context.Context, *sdk.Request) (*sdk.Response, error) { panic("nil map") },
			code: codes.Internal,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, api := connect(t, tc.svc)
			in := &pb.HandleRequest{
				Context: &pb.Context{TenantId: 3, TenantSlug: "trezzo", Lang: "de", RequestId: "r1", CallToken: "tok-1",
					Actor: &pb.Actor{Kind: "citizen", Id: 5}},
				Action: "submit", ValuesJson: []byte(`{"Subject":"Buche"}`),
			}
			got, err := client.Handle(context.Background(), in)
			if status.Code(err) != tc.code {
				t.Fatalf("Handle: %v, want code %s", err, tc.code)
			}
			if tc.code != codes.OK {
				return
			}
			if got.GetOutcome() != tc.want.GetOutcome() || got.GetMessage() != tc.want.GetMessage() ||
				got.GetDossierId() != tc.want.GetDossierId() || got.GetDossierNumber() != tc.want.GetDossierNumber() ||
				string(got.GetDataJson()) != string(tc.want.GetDataJson()) || len(got.GetErrors()) != len(tc.want.GetErrors()) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
			for i, e := range tc.want.GetErrors() {
				if got.GetErrors()[i].GetField() != e.GetField() || got.GetErrors()[i].GetMessage() != e.GetMessage() {
					t.Errorf("error %d: %v, want %v", i, got.GetErrors()[i], e)
				}
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if !slices.Equal(api.assignees, tc.assignees) {
				t.Errorf("assignees sent %q, want %q", api.assignees, tc.assignees)
			}
			for _, tok := range api.tokens {
				if tok != "tok-1" {
					t.Errorf("Host API call with token %q, want the request's", tok)
				}
			}
		})
	}
}

// A panic fails its own request, and the plugin goes on serving others.
func TestPanicIsContained(t *testing.T) {
	client, _ := connect(t, serviceFunc(func(_ context.Context, r *sdk.Request) (*sdk.Response, error) {
		if r.Action == "crash" {
			var m map[string]int
			m["x"]++
		}
		return sdk.OK("still here"), nil
	}))
	if _, err := client.Handle(context.Background(), &pb.HandleRequest{Action: "crash"}); status.Code(err) != codes.Internal {
		t.Fatalf("crash: %v", err)
	}
	res, err := client.Handle(context.Background(), &pb.HandleRequest{Action: "next"})
	if err != nil || res.GetMessage() != "still here" {
		t.Fatalf("after the crash: %v, %v", res, err)
	}
}
