package hostapi_test

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/uptrace/bun"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

// env is one test's database and Host API, served over real gRPC on
// loopback, one listener per plugin as the supervisor does per broker.
type env struct {
	t       *testing.T
	db      *pgtest.DB
	srv     *hostapi.Server
	clients map[string]pb.HostAPIClient
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pg.NewDB(t)
	return &env{t: t, db: db, srv: hostapi.New(db.App, slog.New(slog.NewTextHandler(t.Output(), nil))), clients: map[string]pb.HostAPIClient{}}
}

// client is the Host API as plugin sees it (its ForPlugin view).
func (e *env) client(plugin string) pb.HostAPIClient {
	e.t.Helper()
	if c, ok := e.clients[plugin]; ok {
		return c
	}
	c := e.serve(e.srv.ForPlugin(plugin))
	e.clients[plugin] = c
	return c
}

func (e *env) serve(api pb.HostAPIServer) pb.HostAPIClient {
	e.t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	g := grpc.NewServer()
	pb.RegisterHostAPIServer(g, api)
	go func() { _ = g.Serve(lis) }()
	e.t.Cleanup(g.Stop)
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	return pb.NewHostAPIClient(conn)
}

// as begins a call of plugin in tenant for actor and returns that plugin's
// client and a context carrying the call token. The call ends with the test.
func (e *env) as(plugin string, tenant int64, actor hostapi.Actor) (context.Context, pb.HostAPIClient) {
	e.t.Helper()
	token, end := e.srv.Begin(hostapi.Call{TenantID: tenant, PluginID: plugin, Actor: actor, RequestID: "test"})
	e.t.Cleanup(end)
	return withToken(token), e.client(plugin)
}

func withToken(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), sdk.CallTokenKey, token)
}

func withTokenAppended(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, sdk.CallTokenKey, token)
}

func citizen(id int64) hostapi.Actor { return hostapi.Actor{Kind: hostapi.ActorCitizen, ID: id} }
func staff(id int64) hostapi.Actor   { return hostapi.Actor{Kind: hostapi.ActorStaff, ID: id} }

func anonymous() hostapi.Actor { return hostapi.Actor{Kind: hostapi.ActorAnonymous} }

func (e *env) tenant(slug string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(context.Background(), &id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) insert(tenant int64, query string, args ...any) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.InTenant(context.Background(), tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(&id)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) citizen(tenant int64, subject, email string) int64 {
	return e.insert(tenant, "INSERT INTO citizens (tenant_id, issuer, subject, name, email) VALUES (?, 'test', ?, ?, ?) RETURNING id",
		tenant, subject, subject, email)
}

func (e *env) user(tenant int64, email string) int64 {
	return e.insert(tenant, "INSERT INTO users (tenant_id, email, name) VALUES (?, ?, ?) RETURNING id", tenant, email, email)
}

// rows counts the rows of every table the Host API writes, across tenants.
func (e *env) rows() map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"dossiers", "dossier_counters", "dossier_events", "reservations", "plugin_settings",
		"notifications", "payments", "audit_log", "dossier_messages", "dossier_attachments"} {
		var n int
		if err := e.db.Owner.NewRaw("SELECT count(*) FROM "+table).Scan(context.Background(), &n); err != nil {
			e.t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func (e *env) sameRows(before map[string]int) {
	e.t.Helper()
	for table, n := range e.rows() {
		if n != before[table] {
			e.t.Errorf("%s: %d rows, %d before: a refused call wrote", table, n, before[table])
		}
	}
}

func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: got %v (%v), want %v", what, got, err, want)
	}
}

// must(api.X(ctx, req))(t) is the result of a call that has to succeed.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
