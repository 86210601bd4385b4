package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/sportello/sportello/plugins/sdk"
)

// review is the electoral office's decision on one offer: approve (the
// person is on the list of available people) or reject, with a reason the
// citizen receives.
func (s *service) review(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind != "staff" {
		return sdk.Refused(msg.Get(lang, "staff_only")), nil
	}
	if req.DossierID <= 0 {
		return nil, fmt.Errorf("%s: no dossier in the request", req.Action)
	}
	var form struct {
		Reason string `json:"reason"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	if d.GetStatus() != statusSubmitted {
		return sdk.Refused(msg.Get(lang, "already_decided", d.GetNumber(), msg.Get(lang, "status."+d.GetStatus()))), nil
	}
	od, err := dossierData(d)
	if err != nil {
		return nil, err
	}
	// The reply is in the citizen's language, as they wrote the offer.
	to := od.Lang
	if to == "" {
		to = "it"
	}
	roleName := msg.Get(to, "role."+od.Role)
	status, reply, note := statusApproved, msg.Get(to, "approved."+od.Role, roleName, od.Round), ""
	if req.Action == "reject" {
		reason := sentence(form.Reason)
		status, reply, note = statusRejected, msg.Get(to, "rejected", roleName, od.Round, reason), reason
	}
	// The reply goes first: if it fails nothing has changed and the
	// office can try again; if the status change then fails, trying again
	// repeats the reply, which is better than a decision the citizen never
	// hears of.
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), reply, false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), status, note); err != nil {
		return nil, fmt.Errorf("set %s %s: %w", d.GetNumber(), status, err)
	}
	if err := req.Host.Audit(ctx, "scrutineer."+req.Action, "dossier:"+d.GetNumber(),
		map[string]any{"role": od.Role, "round_id": od.RoundID}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: msg.Get(lang, "decided."+status, d.GetNumber()),
		DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
}

// sentence is s trimmed, ending with a full stop if it ends with none, to
// sit inside a message followed by another sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.ContainsRune(".!?…", []rune(s)[len([]rune(s))-1]) {
		s += "."
	}
	return s
}
