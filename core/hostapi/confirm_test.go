package hostapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

func TestGetAndConfirmReservation(t *testing.T) {
	e := newEnv(t)
	tid, other := e.tenant("alpha"), e.tenant("beta")
	anna, bruno := e.citizen(tid, "anna", ""), e.citizen(tid, "bruno", "")
	ctx, api := e.as("roombooking", tid, citizen(anna))
	brunoCtx, brunoAPI := e.as("roombooking", tid, citizen(bruno))
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	hold := must(api.Reserve(ctx, &pb.ReserveRequest{Resource: "hall", StartUnix: start.Unix(),
		EndUnix: start.Add(time.Hour).Unix(), HoldMinutes: 10}))(t)

	byCode := must(api.GetReservation(ctx, &pb.GetReservationRequest{Code: hold.Code}))(t)
	if byCode.Id != hold.Id || byCode.Status != "held" {
		t.Fatalf("by code %+v", byCode)
	}
	for _, tc := range []struct {
		what string
		ctx  context.Context
		api  pb.HostAPIClient
		req  *pb.GetReservationRequest
		want codes.Code
	}{
		{"another citizen's", brunoCtx, brunoAPI, &pb.GetReservationRequest{Id: hold.Id}, codes.NotFound},
		{"another citizen's by code", brunoCtx, brunoAPI, &pb.GetReservationRequest{Code: hold.Code}, codes.NotFound},
		{"a malformed code", ctx, api, &pb.GetReservationRequest{Code: "0000-OOO"}, codes.InvalidArgument},
		{"neither id nor code", ctx, api, &pb.GetReservationRequest{}, codes.InvalidArgument},
	} {
		_, err := tc.api.GetReservation(tc.ctx, tc.req)
		wantCode(t, tc.what, err, tc.want)
	}
	otherCtx, otherAPI := e.as("roombooking", other, staff(e.user(other, "op@beta.example")))
	_, err := otherAPI.GetReservation(otherCtx, &pb.GetReservationRequest{Id: hold.Id})
	wantCode(t, "another tenant's staff", err, codes.NotFound)
	svcCtx, svcAPI := e.as("helpdesk", tid, staff(e.user(tid, "op@alpha.example")))
	_, err = svcAPI.GetReservation(svcCtx, &pb.GetReservationRequest{Id: hold.Id})
	wantCode(t, "another service's staff", err, codes.NotFound)

	_, err = brunoAPI.ConfirmReservation(brunoCtx, &pb.ConfirmReservationRequest{Id: hold.Id})
	wantCode(t, "confirming another citizen's hold", err, codes.NotFound)
	done := must(api.ConfirmReservation(ctx, &pb.ConfirmReservationRequest{Id: hold.Id}))(t)
	if done.Status != "confirmed" || done.ExpiresUnix != 0 {
		t.Fatalf("confirmed %+v", done)
	}
	must(api.ConfirmReservation(ctx, &pb.ConfirmReservationRequest{Id: hold.Id}))(t) // twice is fine

	late := must(api.Reserve(ctx, &pb.ReserveRequest{Resource: "hall", StartUnix: start.Add(time.Hour).Unix(),
		EndUnix: start.Add(2 * time.Hour).Unix(), HoldMinutes: 10}))(t)
	if _, err := e.db.Owner.ExecContext(context.Background(),
		"UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = ?", late.Id); err != nil {
		t.Fatal(err)
	}
	_, err = api.ConfirmReservation(ctx, &pb.ConfirmReservationRequest{Id: late.Id})
	wantCode(t, "an expired hold", err, codes.FailedPrecondition)
	cancelled := must(api.Reserve(ctx, &pb.ReserveRequest{Resource: "hall", StartUnix: start.Add(3 * time.Hour).Unix(),
		EndUnix: start.Add(4 * time.Hour).Unix(), HoldMinutes: 10}))(t)
	must(api.CancelReservation(ctx, &pb.CancelReservationRequest{Id: cancelled.Id}))(t)
	_, err = api.ConfirmReservation(ctx, &pb.ConfirmReservationRequest{Id: cancelled.Id})
	wantCode(t, "a cancelled hold", err, codes.FailedPrecondition)
}

func TestGetPayment(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna, bruno := e.citizen(tid, "anna", ""), e.citizen(tid, "bruno", "")
	ctx, api := e.as("cemetery", tid, citizen(anna))
	p := must(api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 120000, Reason: "Concessione loculo"}))(t)
	got := must(api.GetPayment(ctx, &pb.GetPaymentRequest{Id: p.Id}))(t)
	if got.Iuv != p.Iuv || got.Status != "creation_pending" || got.AmountCents != 120000 {
		t.Fatalf("payment %+v", got)
	}
	brunoCtx, brunoAPI := e.as("cemetery", tid, citizen(bruno))
	_, err := brunoAPI.GetPayment(brunoCtx, &pb.GetPaymentRequest{Id: p.Id})
	wantCode(t, "another citizen's payment", err, codes.NotFound)
	opCtx, opAPI := e.as("cemetery", tid, staff(e.user(tid, "op@alpha.example")))
	must(opAPI.GetPayment(opCtx, &pb.GetPaymentRequest{Id: p.Id}))(t)
	svcCtx, svcAPI := e.as("roombooking", tid, staff(e.user(tid, "op2@alpha.example")))
	_, err = svcAPI.GetPayment(svcCtx, &pb.GetPaymentRequest{Id: p.Id})
	wantCode(t, "another service's payment", err, codes.NotFound)
	anonCtx, anonAPI := e.as("cemetery", tid, anonymous())
	_, err = anonAPI.GetPayment(anonCtx, &pb.GetPaymentRequest{Id: p.Id})
	wantCode(t, "anonymous", err, codes.PermissionDenied)
}
