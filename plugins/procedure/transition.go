package procedure

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sportello/sportello/plugins/sdk"
)

// paid is pagoPA's status of a position that has been paid.
const paid = "complete"

// transition moves one dossier on, as a member of staff asks: from one of
// the states it leaves, to its target, with the applicant told why.
func (p *Procedure) transition(ctx context.Context, req *sdk.Request, t *Transition) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind != "staff" {
		return sdk.Refused(msg.Get(lang, "transition.staff_only")), nil
	}
	if req.DossierID <= 0 {
		return sdk.Refused(msg.Get(lang, "transition.no_dossier")), nil
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, fmt.Errorf("%s: values: %w", p.def.ID, err)
	}
	note := strings.TrimSpace(in.Note)
	if t.Note == noteRequired && note == "" {
		return sdk.Invalid("/note", msg.Get(lang, "note.missing")), nil
	}
	if t.Note == noteNone || t.Note == "" {
		note = ""
	}
	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	if !slices.Contains(t.From, d.GetStatus()) {
		return sdk.Refused(msg.Get(lang, "transition.wrong_state", d.GetNumber(), p.statusLabel(d.GetStatus(), lang),
			t.Label.In(lang))), nil
	}
	var data dossierData
	if len(d.GetDataJson()) > 0 {
		if err := json.Unmarshal(d.GetDataJson(), &data); err != nil {
			return nil, fmt.Errorf("dossier %s: data: %w", d.GetNumber(), err)
		}
	}
	if data.Answers == nil {
		data.Answers = map[string]any{}
	}
	// The reply is in the applicant's language, which may not be the
	// language the member of staff reads.
	to := langOf(data.Lang)

	if t.RequiresPayment {
		var ref paymentRef
		found, err := req.Host.GetSetting(ctx, paymentKey(d.GetId()), &ref)
		if err != nil {
			return nil, fmt.Errorf("read payment of %s: %w", d.GetNumber(), err)
		}
		// Recorded paid when the host told the outcome; otherwise (an
		// outcome not told: the plugin was down) the host is asked.
		if found && ref.Status != paid {
			pay, err := req.Host.GetPayment(ctx, ref.ID)
			if err != nil {
				return nil, fmt.Errorf("read payment %d: %w", ref.ID, err)
			}
			if pay.GetStatus() != paid {
				return sdk.Refused(msg.Get(lang, "transition.unpaid", d.GetNumber(), ref.Notice)), nil
			}
		}
		// No payment recorded: the application was free (amount 0).
	}

	var cfg config
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, fmt.Errorf("%s: config: %w", p.def.ID, err)
	}
	// The fee, if this is the step that asks for it, comes first: a
	// dossier must not show as approved with nothing to pay on it.
	var reply []string
	if m := t.Message.In(to); m != "" {
		reply = append(reply, m)
	}
	if f := p.def.Fee; f != nil && f.On == t.ID {
		values, _ := decodeValues(mustJSON(data.Answers))
		currency := cfg.currency(f)
		if cents := p.feeCents(values, cfg); cents > 0 {
			pay, err := p.charge(ctx, req, to, d.GetId(), d.GetNumber(), cents, currency)
			if err != nil {
				return nil, err
			}
			reply = append(reply, msg.Get(to, "pay.now", sdk.Money(to, cents, currency), pay.Notice))
		}
	}
	moved, err := req.Host.SetDossierStatus(ctx, d.GetId(), t.To, note)
	if err != nil {
		return nil, fmt.Errorf("move %s to %s: %w", d.GetNumber(), t.To, err)
	}
	if note != "" {
		reply = append(reply, note)
	}
	if len(reply) > 0 {
		p.note(ctx, req, d.GetId(), strings.Join(reply, "\n\n"), false)
	}
	if err := req.Host.Audit(ctx, p.def.ID+"."+t.ID, "dossier:"+d.GetNumber(),
		map[string]any{"from": d.GetStatus(), "to": t.To}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: moved.GetId(), DossierNumber: moved.GetNumber(),
		Message: msg.Get(lang, "transition.done", moved.GetNumber(), p.statusLabel(t.To, lang)),
		Data:    map[string]any{"status": t.To, "final": p.statuses[t.To].Final}}, nil
}

func (p *Procedure) statusLabel(id, lang string) string {
	if s := p.statuses[id]; s != nil {
		return s.Label.In(lang)
	}
	return id
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}
