package hostapi_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

func TestSettings(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	ctx, api := e.as("helpdesk", tid, anonymous())

	s := must(api.GetSetting(ctx, &pb.GetSettingRequest{Key: "queue.size"}))(t)
	if s.Found {
		t.Fatalf("unset key found: %+v", s)
	}
	must(api.PutSetting(ctx, &pb.PutSettingRequest{Key: "queue.size", ValueJson: []byte(`{"max": 3}`)}))(t)
	must(api.PutSetting(ctx, &pb.PutSettingRequest{Key: "queue.size", ValueJson: []byte(`{"max": 4}`)}))(t)
	s = must(api.GetSetting(ctx, &pb.GetSettingRequest{Key: "queue.size"}))(t)
	if !s.Found || string(s.ValueJson) != `{"max": 4}` {
		t.Fatalf("read back %+v", s)
	}

	t.Run("another plugin has its own settings", func(t *testing.T) {
		ctx, api := e.as("cemetery", tid, anonymous())
		if s := must(api.GetSetting(ctx, &pb.GetSettingRequest{Key: "queue.size"}))(t); s.Found {
			t.Fatalf("cemetery reads helpdesk's setting %s", s.ValueJson)
		}
	})
	t.Run("the largest value fits", func(t *testing.T) {
		big := `"` + strings.Repeat("x", 64<<10-2) + `"`
		must(api.PutSetting(ctx, &pb.PutSettingRequest{Key: "big", ValueJson: []byte(big)}))(t)
	})
}

func TestNotify(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna, bruno := e.citizen(tid, "anna", "anna@example.org"), e.citizen(tid, "bruno", "")
	op := e.user(tid, "op@alpha.example")

	// Anna lets the town text her; Bruno gave a number and no consent.
	for _, pref := range []struct {
		id    int64
		phone string
		sms   bool
	}{{anna, "+393331234567", true}, {bruno, "+393339999999", false}} {
		if _, err := e.db.Owner.ExecContext(context.Background(), `INSERT INTO notify_prefs (tenant_id, citizen_id, sms, phone) VALUES (?, ?, ?, ?)`,
			tid, pref.id, pref.sms, pref.phone); err != nil {
			t.Fatal(err)
		}
	}
	recipient := func(id int64) string {
		var to string
		if err := e.db.Owner.NewRaw("SELECT recipient || ' ' || status || ' ' || plugin_id FROM notifications WHERE id = ?", id).Scan(context.Background(), &to); err != nil {
			t.Fatal(err)
		}
		return to
	}
	for _, tc := range []struct {
		name  string
		actor func() (context.Context, pb.HostAPIClient)
		req   *pb.NotifyRequest
		want  string // "" : refused with code
		code  codes.Code
	}{
		{"a citizen's own e-mail", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, citizen(anna)) },
			&pb.NotifyRequest{Channel: "email", Subject: "Ricevuta", Body: "Grazie"}, "anna@example.org queued helpdesk", 0},
		{"a staff member's e-mail", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, staff(op)) },
			&pb.NotifyRequest{Channel: "email", Body: "New request"}, "op@alpha.example queued helpdesk", 0},
		{"an explicit address", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, anonymous()) },
			&pb.NotifyRequest{Channel: "email", To: "someone@example.org", Body: "x"}, "someone@example.org queued helpdesk", 0},
		{"an SMS to a consented number", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, staff(op)) },
			&pb.NotifyRequest{Channel: "sms", To: "+393331234567", Body: "Il suo turno"}, "+393331234567 queued helpdesk", 0},
		{"an SMS to the citizen acting", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, citizen(anna)) },
			&pb.NotifyRequest{Channel: "sms", Body: "Il suo turno"}, "+393331234567 queued helpdesk", 0},
		{"an SMS to a number without consent", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, staff(op)) },
			&pb.NotifyRequest{Channel: "sms", To: "+393339999999", Body: "x"}, "", codes.FailedPrecondition},
		{"an SMS to a number nobody gave", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, anonymous()) },
			&pb.NotifyRequest{Channel: "sms", To: "+393330000000", Body: "x"}, "", codes.FailedPrecondition},
		{"a citizen without e-mail", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, citizen(bruno)) },
			&pb.NotifyRequest{Channel: "email", Body: "x"}, "", codes.InvalidArgument},
		{"an anonymous visitor, no address", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, anonymous()) },
			&pb.NotifyRequest{Channel: "email", Body: "x"}, "", codes.InvalidArgument},
		{"an SMS to a citizen acting without consent", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, citizen(bruno)) },
			&pb.NotifyRequest{Channel: "sms", Body: "x"}, "", codes.FailedPrecondition},
		{"an SMS to staff (no phone on file)", func() (context.Context, pb.HostAPIClient) { return e.as("helpdesk", tid, staff(op)) },
			&pb.NotifyRequest{Channel: "sms", Body: "x"}, "", codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, api := tc.actor()
			before := e.rows()
			res, err := api.Notify(ctx, tc.req)
			if tc.want == "" {
				wantCode(t, "Notify", err, tc.code)
				e.sameRows(before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := recipient(res.Id); got != tc.want {
				t.Fatalf("queued %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCreatePayment(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna := e.citizen(tid, "anna", "anna@example.org")
	ctx, api := e.as("cemetery", tid, citizen(anna))
	d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Concession"}))(t)

	p := must(api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 15000, Reason: "Concessione loculo", DossierId: d.Id}))(t)
	if p.Status != "creation_pending" || p.Currency != "EUR" || p.AmountCents != 15000 || p.DossierId != d.Id {
		t.Fatalf("payment %+v", p)
	}
	if !regexp.MustCompile(`^[0-9]{17}$`).MatchString(p.Iuv) || p.NoticeCode != "3"+p.Iuv {
		t.Fatalf("IUV %q, notice code %q", p.Iuv, p.NoticeCode)
	}
	q := must(api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 1, Currency: "CHF", Reason: "Marca"}))(t)
	if q.Currency != "CHF" || q.DossierId != 0 || q.Iuv == p.Iuv {
		t.Fatalf("second payment %+v", q)
	}
	var debtor int64
	if err := e.db.Owner.NewRaw("SELECT citizen_id FROM payments WHERE id = ?", p.Id).Scan(context.Background(), &debtor); err != nil {
		t.Fatal(err)
	}
	if debtor != anna {
		t.Fatalf("debtor %d, want %d", debtor, anna)
	}
}

func TestAudit(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna := e.citizen(tid, "anna", "")
	ctx, api := e.as("helpdesk", tid, citizen(anna))
	must(api.Audit(ctx, &pb.AuditRequest{Action: "ticket.viewed", Object: "ticket:7", DetailsJson: []byte(`{"via":"portal"}`)}))(t)
	var got string
	err := e.db.Owner.NewRaw("SELECT actor || ' ' || action || ' ' || object || ' ' || details::text FROM audit_log WHERE tenant_id = ?", tid).
		Scan(context.Background(), &got)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`plugin:helpdesk/citizen:%d ticket.viewed ticket:7 {"via": "portal"}`, anna); got != want {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

// Every malformed request is refused with InvalidArgument, and writes
// nothing.
func TestInvalidInputs(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op := e.user(tid, "op@alpha.example")
	ctx, api := e.as("helpdesk", tid, staff(op))
	d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "ok"}))(t)
	now := time.Now().Unix()
	hour := int64(3600)

	before := e.rows()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"dossier without title", func() error { _, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "  "}); return err }},
		{"dossier title too long", func() error {
			_, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: strings.Repeat("a", 301)})
			return err
		}},
		{"dossier title with NUL", func() error { _, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "a\x00b"}); return err }},
		{"dossier status", func() error {
			_, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "t", Status: "Done!"})
			return err
		}},
		{"dossier channel", func() error {
			_, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "t", Channel: "fax"})
			return err
		}},
		{"dossier data not JSON", func() error {
			_, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "t", DataJson: []byte(`{`)})
			return err
		}},
		{"dossier data not an object", func() error {
			_, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "t", DataJson: []byte(`[1]`)})
			return err
		}},
		{"dossier data with a NUL escape", func() error {
			_, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "t", DataJson: []byte(`{"a":"\u0000"}`)})
			return err
		}},
		{"dossier id zero", func() error { _, err := api.GetDossier(ctx, &pb.GetDossierRequest{}); return err }},
		{"negative limit", func() error { _, err := api.ListDossiers(ctx, &pb.ListDossiersRequest{Limit: -1}); return err }},
		{"list status", func() error { _, err := api.ListDossiers(ctx, &pb.ListDossiersRequest{Status: "x y"}); return err }},
		{"new status empty", func() error {
			_, err := api.SetDossierStatus(ctx, &pb.SetDossierStatusRequest{Id: d.Id})
			return err
		}},
		{"note too long", func() error {
			_, err := api.SetDossierStatus(ctx, &pb.SetDossierStatusRequest{Id: d.Id, Status: "x", Note: strings.Repeat("n", 4001)})
			return err
		}},
		{"reserve without resource", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{StartUnix: now + hour, EndUnix: now + 2*hour})
			return err
		}},
		{"reserve a strange resource", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "room\n1", StartUnix: now + hour, EndUnix: now + 2*hour})
			return err
		}},
		{"reserve end before start", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "r", StartUnix: now + 2*hour, EndUnix: now + hour})
			return err
		}},
		{"reserve empty period", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "r", StartUnix: now + hour, EndUnix: now + hour})
			return err
		}},
		{"reserve in the past", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "r", StartUnix: now - hour, EndUnix: now + hour})
			return err
		}},
		{"reserve beyond a year", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "r", StartUnix: now + 366*24*hour, EndUnix: now + 367*24*hour})
			return err
		}},
		{"hold too long", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "r", StartUnix: now + hour, EndUnix: now + 2*hour, HoldMinutes: 61})
			return err
		}},
		{"negative hold", func() error {
			_, err := api.Reserve(ctx, &pb.ReserveRequest{Resource: "r", StartUnix: now + hour, EndUnix: now + 2*hour, HoldMinutes: -1})
			return err
		}},
		{"cancel id zero", func() error { _, err := api.CancelReservation(ctx, &pb.CancelReservationRequest{}); return err }},
		{"setting key upper-case", func() error {
			_, err := api.PutSetting(ctx, &pb.PutSettingRequest{Key: "Key", ValueJson: []byte(`1`)})
			return err
		}},
		{"setting key too long", func() error {
			_, err := api.GetSetting(ctx, &pb.GetSettingRequest{Key: strings.Repeat("k", 65)})
			return err
		}},
		{"setting key empty", func() error { _, err := api.GetSetting(ctx, &pb.GetSettingRequest{}); return err }},
		{"setting value empty", func() error { _, err := api.PutSetting(ctx, &pb.PutSettingRequest{Key: "k"}); return err }},
		{"setting value not JSON", func() error {
			_, err := api.PutSetting(ctx, &pb.PutSettingRequest{Key: "k", ValueJson: []byte(`nope`)})
			return err
		}},
		{"setting value too large", func() error {
			_, err := api.PutSetting(ctx, &pb.PutSettingRequest{Key: "k", ValueJson: []byte(`"` + strings.Repeat("x", 64<<10) + `"`)})
			return err
		}},
		{"notify channel", func() error {
			_, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "pigeon", To: "a@b.example", Body: "x"})
			return err
		}},
		{"notify bad e-mail", func() error {
			_, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "email", To: "a@b.example\r\nBcc: c@d.example", Body: "x"})
			return err
		}},
		{"notify display name", func() error {
			_, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "email", To: "Anna <a@b.example>", Body: "x"})
			return err
		}},
		{"notify bad phone", func() error {
			_, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "sms", To: "333 123", Body: "x"})
			return err
		}},
		{"notify subject with a line break", func() error {
			_, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "email", Subject: "a\nBcc: x@y.example", Body: "x"})
			return err
		}},
		{"notify without body", func() error { _, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "email"}); return err }},
		{"payment zero", func() error {
			_, err := api.CreatePayment(ctx, &pb.CreatePaymentRequest{Reason: "fee"})
			return err
		}},
		{"payment negative", func() error {
			_, err := api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: -5, Reason: "fee"})
			return err
		}},
		{"payment currency", func() error {
			_, err := api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 5, Currency: "eur", Reason: "fee"})
			return err
		}},
		{"payment without reason", func() error {
			_, err := api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 5})
			return err
		}},
		{"payment reason too long", func() error {
			_, err := api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 5, Reason: strings.Repeat("r", 141)})
			return err
		}},
		{"audit action", func() error { _, err := api.Audit(ctx, &pb.AuditRequest{Action: "Drop Table"}); return err }},
		{"audit details not an object", func() error {
			_, err := api.Audit(ctx, &pb.AuditRequest{Action: "x", DetailsJson: []byte(`"s"`)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.name, tc.call(), codes.InvalidArgument)
		})
	}
	e.sameRows(before)
}
