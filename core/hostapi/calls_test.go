package hostapi_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

func TestCallTokens(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	user := e.user(tid, "op@alpha.example")
	call := hostapi.Call{TenantID: tid, PluginID: "helpdesk", Actor: staff(user), RequestID: "r1"}

	live, end := e.srv.Begin(call)
	defer end()
	ended, endNow := e.srv.Begin(call)
	endNow()
	endNow() // ending twice is harmless
	malformed, endMalformed := e.srv.Begin(hostapi.Call{TenantID: 0, PluginID: "helpdesk", Actor: staff(user)})
	defer endMalformed()
	badActor, endBadActor := e.srv.Begin(hostapi.Call{TenantID: tid, PluginID: "helpdesk", Actor: hostapi.Actor{Kind: "root", ID: 1}})
	defer endBadActor()
	e.srv.SetCallTimeout(50 * time.Millisecond)
	expired, endExpired := e.srv.Begin(call)
	defer endExpired()
	time.Sleep(100 * time.Millisecond)

	put := func(ctx context.Context, c pb.HostAPIClient) error {
		_, err := c.PutSetting(ctx, &pb.PutSettingRequest{Key: "k", ValueJson: []byte(`1`)})
		return err
	}
	before := e.rows()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		plugin string
	}{
		{"no token", context.Background(), "helpdesk"},
		{"empty token", withToken(""), "helpdesk"},
		{"made-up token", withToken("bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtbm90LWF0LWFsbA"), "helpdesk"},
		{"ended token", withToken(ended), "helpdesk"},
		{"expired token", withToken(expired), "helpdesk"},
		{"call without tenant", withToken(malformed), "helpdesk"},
		{"call with unknown actor kind", withToken(badActor), "helpdesk"},
		{"another plugin's token", withToken(live), "cemetery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "PutSetting", put(tc.ctx, e.client(tc.plugin)), codes.PermissionDenied)
			_, err := e.client(tc.plugin).GetDossier(tc.ctx, &pb.GetDossierRequest{Id: 1})
			wantCode(t, "GetDossier", err, codes.PermissionDenied)
		})
	}
	e.sameRows(before)

	t.Run("the live token works for its own plugin", func(t *testing.T) {
		if err := put(withToken(live), e.client("helpdesk")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("two tokens in the metadata are refused", func(t *testing.T) {
		other, end := e.srv.Begin(call)
		defer end()
		ctx := withToken(live)
		ctx = withTokenAppended(ctx, other)
		wantCode(t, "PutSetting", put(ctx, e.client("helpdesk")), codes.PermissionDenied)
	})
	t.Run("a dossier is filed under the token's plugin", func(t *testing.T) {
		c := e.client("helpdesk")
		d, err := c.CreateDossier(withToken(live), &pb.CreateDossierRequest{Title: "via the plugin's view"})
		if err != nil {
			t.Fatal(err)
		}
		if d.ServiceId != "helpdesk" {
			t.Fatalf("service %q, want the token's plugin", d.ServiceId)
		}
		wantCode(t, "ended token", put(withToken(ended), c), codes.PermissionDenied)
	})
}

// A database failure reaches the plugin as Internal, without SQL or driver
// text in the message.
func TestDatabaseErrorsAreInternal(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	closed, err := store.Open(context.Background(), e.db.AppURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	srv := hostapi.New(closed, slog.New(slog.DiscardHandler))
	token, end := srv.Begin(hostapi.Call{TenantID: tid, PluginID: "helpdesk", Actor: anonymous(), RequestID: "req-42"})
	defer end()
	_, err = e.serve(srv.ForPlugin("helpdesk")).CreateDossier(withToken(token), &pb.CreateDossierRequest{Title: "t"})
	wantCode(t, "closed database", err, codes.Internal)
	if msg := status.Convert(err).Message(); msg != "internal error (request req-42)" {
		t.Fatalf("message %q", msg)
	}
}
