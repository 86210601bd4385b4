package hostapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

func system() hostapi.Actor { return hostapi.Actor{Kind: hostapi.ActorSystem} }

// The host, calling a plugin on an event (a payment's outcome), may do
// with the plugin's dossiers what staff may, within the plugin's service
// and tenant, and is recorded as the system, not as a person.
func TestSystemActor(t *testing.T) {
	e, _ := newDocEnv(t)
	tid, other := e.tenant("lugano"), e.tenant("venezia")
	anna := e.citizen(tid, "anna", "anna@example.org")
	cctx, capi := e.as("cemetery", tid, citizen(anna))
	d := must(capi.CreateDossier(cctx, &pb.CreateDossierRequest{Title: "Concessione loculo, 30 anni"}))(t)
	hctx, hapi := e.as("helpdesk", tid, citizen(anna))
	elsewhere := must(hapi.CreateDossier(hctx, &pb.CreateDossierRequest{Title: "Lampione rotto"}))(t)
	octx, oapi := e.as("cemetery", other, staff(e.user(other, "op@venezia.example")))
	abroad := must(oapi.CreateDossier(octx, &pb.CreateDossierRequest{Title: "Tomba di famiglia"}))(t)
	ctx, api := e.as("cemetery", tid, system())
	ctxOf := context.Background()

	t.Run("reads every dossier of its service, no other", func(t *testing.T) {
		if got := must(api.GetDossier(ctx, &pb.GetDossierRequest{Id: d.Id}))(t); got.CitizenId != anna {
			t.Errorf("read %v", got)
		}
		if list := must(api.ListDossiers(ctx, &pb.ListDossiersRequest{}))(t); len(list.Dossiers) != 1 || list.Dossiers[0].Id != d.Id {
			t.Errorf("listed %v", list.Dossiers)
		}
		for _, id := range []int64{elsewhere.Id, abroad.Id} {
			_, err := api.GetDossier(ctx, &pb.GetDossierRequest{Id: id})
			wantCode(t, "another service's or town's dossier", err, codes.NotFound)
			_, err = api.SetDossierStatus(ctx, &pb.SetDossierStatusRequest{Id: id, Status: "paid"})
			wantCode(t, "moving another service's or town's dossier", err, codes.NotFound)
		}
	})
	t.Run("does what staff do", func(t *testing.T) {
		moved := must(api.SetDossierStatus(ctx, &pb.SetDossierStatusRequest{Id: d.Id, Status: "paid", Note: "Pagamento ricevuto."}))(t)
		if moved.Status != "paid" {
			t.Errorf("moved %v", moved)
		}
		due := time.Now().AddDate(0, 1, 0).Truncate(time.Second)
		if got := must(api.SetDossierDue(ctx, &pb.SetDossierDueRequest{Id: d.Id, DueUnix: due.Unix()}))(t); got.DueUnix != due.Unix() {
			t.Errorf("due %v", got)
		}
		must(api.AddDossierMessage(ctx, &pb.AddDossierMessageRequest{DossierId: d.Id, Body: "Abbiamo ricevuto il pagamento."}))(t)
		must(api.AddDossierMessage(ctx, &pb.AddDossierMessageRequest{DossierId: d.Id, Body: "Pagato online.", Internal: true}))(t)
		must(api.IssueDocument(ctx, &pb.IssueDocumentRequest{DossierId: d.Id, Name: "ricevuta.pdf", Pdf: concessionPDF(t), Sign: true}))(t)
		p := must(api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 5000, Reason: "Diritti di segreteria", DossierId: d.Id}))(t)
		if got := must(api.GetPayment(ctx, &pb.GetPaymentRequest{Id: p.Id}))(t); got.DossierId != d.Id {
			t.Errorf("payment %v", got)
		}
		// The payment is the dossier's citizen's to make.
		var debtor int64
		if err := e.db.Owner.NewRaw("SELECT citizen_id FROM payments WHERE id = ?", p.Id).Scan(ctxOf, &debtor); err != nil || debtor != anna {
			t.Errorf("the debtor is %d (%v), want the dossier's citizen %d", debtor, err, anna)
		}
		must(api.Audit(ctx, &pb.AuditRequest{Action: "cemetery.paid", Object: "dossier:" + d.Number}))(t)
		must(api.PutSetting(ctx, &pb.PutSettingRequest{Key: "paid." + d.Number, ValueJson: []byte(`true`)}))(t)
	})
	t.Run("is recorded as the system", func(t *testing.T) {
		var actor, name string
		if err := e.db.Owner.NewRaw(`SELECT actor, actor_name FROM dossier_events WHERE dossier_id = ? AND status = 'paid'`, d.Id).
			Scan(ctxOf, &actor, &name); err != nil || actor != "plugin:cemetery/system:0" || name != "" {
			t.Errorf("history %q %q (%v)", actor, name, err)
		}
		var kinds int
		if err := e.db.Owner.NewRaw(`SELECT count(*) FROM dossier_messages WHERE dossier_id = ? AND author_kind = 'system'
			AND author_id = 0 AND plugin_id = 'cemetery'`, d.Id).Scan(ctxOf, &kinds); err != nil || kinds != 2 {
			t.Errorf("%d messages by the system (%v), want 2", kinds, err)
		}
		if err := e.db.Owner.NewRaw(`SELECT actor FROM audit_log WHERE action = 'cemetery.paid'`).Scan(ctxOf, &actor); err != nil ||
			actor != "plugin:cemetery/system:0" {
			t.Errorf("audit actor %q (%v)", actor, err)
		}
		// The public reply reaches the citizen as a member of staff's would.
		var mails int
		if err := e.db.Owner.NewRaw(`SELECT count(*) FROM notifications WHERE tenant_id = ? AND recipient = 'anna@example.org'`, tid).
			Scan(ctxOf, &mails); err != nil || mails != 1 {
			t.Errorf("%d e-mails to the citizen (%v), want 1", mails, err)
		}
	})
	t.Run("has no address of its own", func(t *testing.T) {
		_, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "email", Subject: "Pagamento", Body: "Ricevuto."})
		wantCode(t, "Notify without a recipient", err, codes.InvalidArgument)
		must(api.Notify(ctx, &pb.NotifyRequest{Channel: "email", To: "cimiteri@lugano.example", Subject: "Pagamento", Body: "Ricevuto."}))(t)
	})
	t.Run("is bound only as itself, with no id", func(t *testing.T) {
		token, end := e.srv.Begin(hostapi.Call{TenantID: tid, PluginID: "cemetery", Actor: hostapi.Actor{Kind: hostapi.ActorSystem, ID: 3}})
		defer end()
		_, err := api.GetDossier(withToken(token), &pb.GetDossierRequest{Id: d.Id})
		wantCode(t, "a system actor with an id", err, codes.PermissionDenied)
	})
}

// On an event the system may decide and cancel a booking of its service,
// as staff may.
func TestSystemActorBookings(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	op, anna := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", "")
	b.declare("roombooking", tid, op)
	ctx, api := b.as("roombooking", tid, citizen(anna))
	sctx, sapi := b.as("roombooking", tid, system())

	p := must(api.Book(ctx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 8, 0).Unix()}))(t)
	if got := must(sapi.GetBooking(sctx, &pb.GetBookingRequest{Code: p.Code}))(t); got.Status != "pending" {
		t.Fatalf("the system reads %v", got)
	}
	if ok := must(sapi.ApproveBooking(sctx, &pb.DecideBookingRequest{Code: p.Code}))(t); ok.Status != "confirmed" {
		t.Errorf("approved %v", ok)
	}
	if gone := must(sapi.CancelBooking(sctx, &pb.CancelBookingRequest{Code: p.Code, Reason: "Pagamento scaduto"}))(t); gone.Status != "cancelled" {
		t.Errorf("cancelled %v", gone)
	}
	q := must(api.Book(ctx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 10, 0).Unix()}))(t)
	if no := must(sapi.DeclineBooking(sctx, &pb.DecideBookingRequest{Code: q.Code, Reason: "Sala non disponibile"}))(t); no.Status != "cancelled" {
		t.Errorf("declined %v", no)
	}
}
