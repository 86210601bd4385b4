// Command malicious is a test plugin that tries to escape its tenant. It
// is no SDK service: a hostile author owns the whole binary, so it speaks
// go-plugin itself and holds the raw Host API connection. Action
// "remember" behaves, but keeps the call token and tries to write with it
// after the request has ended; "attack" tries every way into another
// tenant; both report what got through ("SUCCEEDED") and what did not.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

const manifest = `
id: malicious
version: 6.6.6
category: altro
texts:
  it: {name: Malevolo, summary: Prova a uscire dal suo comune}
actions:
  - {id: attack, label: {it: Attacca}, audience: staff}
`

// What it keeps between requests, as a hostile plugin would.
var (
	mu   sync.Mutex
	seen = map[int64]string{}  // tenant → a call token of that tenant, long ended
	late = map[string]string{} // outcome of writes after a request ended
)

type server struct {
	pb.UnimplementedPluginServer
	broker   *plugin.GRPCBroker
	manifest *pb.Manifest
	host     pb.HostAPIClient
}

func with(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), sdk.CallTokenKey, token)
}

func outcome(err error, detail string) string {
	if err == nil {
		return "SUCCEEDED " + detail
	}
	return "refused: " + status.Code(err).String()
}

func (s *server) Init(_ context.Context, r *pb.InitRequest) (*pb.Manifest, error) {
	conn, err := s.broker.Dial(r.GetHostApiBrokerId())
	if err != nil {
		return nil, err
	}
	s.host = pb.NewHostAPIClient(conn)
	return s.manifest, nil
}

func (s *server) Health(context.Context, *pb.HealthRequest) (*pb.HealthResponse, error) {
	return &pb.HealthResponse{Status: "ok"}, nil
}

func (s *server) Handle(ctx context.Context, in *pb.HandleRequest) (*pb.HandleResponse, error) {
	c := in.GetContext()
	token := c.GetCallToken()
	var v struct {
		VictimDossier int64 `json:"victim_dossier"`
		VictimTenant  int64 `json:"victim_tenant"`
	}
	if len(in.GetValuesJson()) > 0 {
		if err := json.Unmarshal(in.GetValuesJson(), &v); err != nil {
			return nil, err
		}
	}
	ended := make(chan struct{})
	defer close(ended)
	var data any
	switch in.GetAction() {
	case "remember":
		d, err := s.host.CreateDossier(with(token), &pb.CreateDossierRequest{Title: fmt.Sprintf("dossier of tenant %d", c.GetTenantId())})
		if err != nil {
			return nil, err
		}
		if _, err := s.host.PutSetting(with(token), &pb.PutSettingRequest{Key: "secret", ValueJson: fmt.Appendf(nil, `"of tenant %d"`, c.GetTenantId())}); err != nil {
			return nil, err
		}
		mu.Lock()
		seen[c.GetTenantId()] = token
		mu.Unlock()
		go func() {
			<-ended
			time.Sleep(100 * time.Millisecond) // the host has had the answer by now
			_, err := s.host.PutSetting(with(token), &pb.PutSettingRequest{Key: "late", ValueJson: []byte(`"after the end"`)})
			_, derr := s.host.SetDossierStatus(with(token), &pb.SetDossierStatusRequest{Id: d.GetId(), Status: "tampered"})
			mu.Lock()
			late[fmt.Sprintf("put setting after the request, tenant %d", c.GetTenantId())] = outcome(err, "")
			late[fmt.Sprintf("set dossier status after the request, tenant %d", c.GetTenantId())] = outcome(derr, "")
			mu.Unlock()
		}()
		return &pb.HandleResponse{Outcome: sdk.OutcomeOK, DossierId: d.GetId(), DossierNumber: d.GetNumber()}, nil
	case "attack":
		data = s.attack(ctx, c, token, v.VictimTenant, v.VictimDossier)
	case "report":
		mu.Lock()
		out := map[string]string{}
		for k, v := range late {
			out[k] = v
		}
		mu.Unlock()
		data = out
	default:
		return nil, errors.New("unknown action")
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	return &pb.HandleResponse{Outcome: sdk.OutcomeOK, DataJson: raw}, nil
}

func (s *server) attack(ctx context.Context, c *pb.Context, token string, victim, dossier int64) map[string]string {
	res := map[string]string{}
	mu.Lock()
	stale := seen[victim]
	mu.Unlock()
	if stale == "" {
		res["precondition"] = "no token of the victim tenant seen"
		return res
	}
	var forged [32]byte
	_, _ = rand.Read(forged[:])
	noToken := context.Background()

	got, err := s.host.GetSetting(noToken, &pb.GetSettingRequest{Key: "secret"})
	res["get setting without a token"] = outcome(err, string(got.GetValueJson()))
	_, err = s.host.PutSetting(noToken, &pb.PutSettingRequest{Key: "stolen", ValueJson: []byte(`1`)})
	res["put setting without a token"] = outcome(err, "")
	_, err = s.host.ListDossiers(with(base64.RawURLEncoding.EncodeToString(forged[:])), &pb.ListDossiersRequest{})
	res["list dossiers with a forged token"] = outcome(err, "")
	_, err = s.host.GetDossier(with(""), &pb.GetDossierRequest{Id: dossier})
	res["get dossier with an empty token"] = outcome(err, "")

	got, err = s.host.GetSetting(with(stale), &pb.GetSettingRequest{Key: "secret"})
	res["get setting with the victim's old token"] = outcome(err, string(got.GetValueJson()))
	_, err = s.host.PutSetting(with(stale), &pb.PutSettingRequest{Key: "stolen", ValueJson: []byte(`1`)})
	res["put setting with the victim's old token"] = outcome(err, "")
	d, err := s.host.GetDossier(with(stale), &pb.GetDossierRequest{Id: dossier})
	res["get dossier with the victim's old token"] = outcome(err, d.GetTitle())
	_, err = s.host.SetDossierStatus(with(stale), &pb.SetDossierStatusRequest{Id: dossier, Status: "tampered"})
	res["set dossier status with the victim's old token"] = outcome(err, "")

	d, err = s.host.GetDossier(with(token), &pb.GetDossierRequest{Id: dossier})
	res["get the victim's dossier by id"] = outcome(err, d.GetTitle())
	_, err = s.host.SetDossierStatus(with(token), &pb.SetDossierStatusRequest{Id: dossier, Status: "tampered"})
	res["set the victim's dossier status by id"] = outcome(err, "")
	list, err := s.host.ListDossiers(with(token), &pb.ListDossiersRequest{Limit: 200})
	res["list dossiers"] = "refused: listed no dossier of another tenant"
	if err != nil {
		res["list dossiers"] = outcome(err, "")
	}
	for _, d := range list.GetDossiers() {
		if d.GetId() == dossier || d.GetTitle() != fmt.Sprintf("dossier of tenant %d", c.GetTenantId()) {
			res["list dossiers"] = "SUCCEEDED listed " + d.GetTitle()
		}
	}
	both := metadata.AppendToOutgoingContext(ctx, sdk.CallTokenKey, token, sdk.CallTokenKey, stale)
	got, err = s.host.GetSetting(both, &pb.GetSettingRequest{Key: "secret"})
	res["get setting with its own and the victim's token"] = outcome(err, string(got.GetValueJson()))
	return res
}

// adapter serves the Plugin service with the broker in hand, as the SDK
// does, without the SDK's guard rails.
type adapter struct {
	plugin.NetRPCUnsupportedPlugin
	manifest *pb.Manifest
}

var _ plugin.GRPCPlugin = (*adapter)(nil)

func (a *adapter) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, &server{broker: b, manifest: a.manifest})
	return nil
}

func (a *adapter) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("plugin side only")
}

func main() {
	m, err := sdk.ParseManifest([]byte(manifest))
	if err != nil {
		panic(err)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginName: &adapter{manifest: m}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
