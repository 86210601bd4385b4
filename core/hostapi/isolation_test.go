package hostapi_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// A call of tenant A reaches nothing of tenant B, whatever ids it names.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	a, b := e.tenant("alpha"), e.tenant("beta")
	opA, opB := e.user(a, "op@alpha.example"), e.user(b, "op@beta.example")
	annaB := e.citizen(b, "anna", "anna@beta.example")

	bCtx, bAPI := e.as("helpdesk", b, staff(opB))
	bDossier := must(bAPI.CreateDossier(bCtx, &pb.CreateDossierRequest{Title: "B's dossier"}))(t)
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	bRes := must(bAPI.Reserve(bCtx, &pb.ReserveRequest{Resource: "desk-1", StartUnix: start.Unix(), EndUnix: start.Add(time.Hour).Unix()}))(t)
	must(bAPI.PutSetting(bCtx, &pb.PutSettingRequest{Key: "secret", ValueJson: []byte(`"beta's"`)}))(t)

	aCtx, aAPI := e.as("helpdesk", a, staff(opA))
	before := e.rows()
	t.Run("read B's dossier by id", func(t *testing.T) {
		_, err := aAPI.GetDossier(aCtx, &pb.GetDossierRequest{Id: bDossier.Id})
		wantCode(t, "GetDossier", err, codes.NotFound)
	})
	t.Run("list B's dossiers", func(t *testing.T) {
		list := must(aAPI.ListDossiers(aCtx, &pb.ListDossiersRequest{}))(t)
		if len(list.Dossiers) != 0 {
			t.Fatalf("tenant A lists %v", list.Dossiers)
		}
	})
	t.Run("update B's dossier", func(t *testing.T) {
		_, err := aAPI.SetDossierStatus(aCtx, &pb.SetDossierStatusRequest{Id: bDossier.Id, Status: "closed"})
		wantCode(t, "SetDossierStatus", err, codes.NotFound)
	})
	t.Run("read B's settings", func(t *testing.T) {
		s := must(aAPI.GetSetting(aCtx, &pb.GetSettingRequest{Key: "secret"}))(t)
		if s.Found || len(s.ValueJson) != 0 {
			t.Fatalf("tenant A read %q", s.ValueJson)
		}
	})
	t.Run("cancel B's reservation", func(t *testing.T) {
		_, err := aAPI.CancelReservation(aCtx, &pb.CancelReservationRequest{Id: bRes.Id})
		wantCode(t, "CancelReservation", err, codes.NotFound)
	})
	t.Run("refer to B's dossier", func(t *testing.T) {
		_, err := aAPI.Reserve(aCtx, &pb.ReserveRequest{Resource: "desk-9", StartUnix: start.Unix(), EndUnix: start.Add(time.Hour).Unix(), DossierId: bDossier.Id})
		wantCode(t, "Reserve", err, codes.NotFound)
		_, err = aAPI.CreatePayment(aCtx, &pb.CreatePaymentRequest{AmountCents: 100, Reason: "fee", DossierId: bDossier.Id})
		wantCode(t, "CreatePayment", err, codes.NotFound)
	})
	t.Run("notify B's citizen by id", func(t *testing.T) {
		// Tenant A's call for a citizen id that only exists in B finds no
		// address: the actor's e-mail is looked up in A.
		ctx, api := e.as("helpdesk", a, citizen(annaB))
		_, err := api.Notify(ctx, &pb.NotifyRequest{Channel: "email", Body: "hi"})
		wantCode(t, "Notify", err, codes.InvalidArgument)
	})
	t.Run("a booked slot of B does not block A", func(t *testing.T) {
		// The same resource name in two towns is two resources.
		must(aAPI.Reserve(aCtx, &pb.ReserveRequest{Resource: "desk-1", StartUnix: start.Unix(), EndUnix: start.Add(time.Hour).Unix()}))(t)
		before["reservations"]++
	})
	e.sameRows(before)

	again := must(bAPI.GetDossier(bCtx, &pb.GetDossierRequest{Id: bDossier.Id}))(t)
	if again.Status != bDossier.Status {
		t.Fatalf("B's dossier changed to %q", again.Status)
	}
	s := must(bAPI.GetSetting(bCtx, &pb.GetSettingRequest{Key: "secret"}))(t)
	if string(s.ValueJson) != `"beta's"` {
		t.Fatalf("B's setting is %s", s.ValueJson)
	}
}
