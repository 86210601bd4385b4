package hostapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// notify queues a message in the outbox; a sender delivers it later, so a
// slow mail server never holds up a request.
func (s *Server) notify(ctx context.Context, c Call, r *pb.NotifyRequest) (*pb.NotifyResponse, error) {
	ch := r.GetChannel()
	maxBody := maxEmailBody
	switch ch {
	case "email":
	case "sms":
		maxBody = maxSMSBody
	default:
		return nil, invalid("channel %q: email or sms", ch)
	}
	if err := checkText("subject", r.GetSubject(), false, maxSubject); err != nil {
		return nil, err
	}
	if containsLineBreak(r.GetSubject()) {
		return nil, invalid("subject: one line")
	}
	if err := checkText("body", r.GetBody(), true, maxBody); err != nil {
		return nil, err
	}
	to := r.GetTo()
	switch {
	case to == "":
	case ch == "email" && !email(to):
		return nil, invalid("to %q: not an e-mail address", to)
	case ch == "sms" && !phoneE164.MatchString(to):
		return nil, invalid("to %q: not a phone number in international form (+39…)", to)
	}
	out := &pb.NotifyResponse{}
	err := s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		if to == "" {
			var err error
			if to, err = actorRecipient(ctx, tx, c, ch); err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO notifications (tenant_id, plugin_id, channel, recipient, subject, body)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, c.TenantID, c.PluginID, ch, to, r.GetSubject(), r.GetBody()).Scan(&out.Id)
		if err != nil {
			return fmt.Errorf("queue notification: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// actorRecipient is the address of the call's actor on channel ch. Only
// e-mail is known for now (citizens.email, users.email); nobody has a
// phone number on file.
func actorRecipient(ctx context.Context, tx bun.Tx, c Call, ch string) (string, error) {
	// Nobody stands behind a visitor or the system: no address to use.
	if ch != "email" || c.Actor.Kind == ActorAnonymous || c.Actor.Kind == ActorSystem {
		return "", invalid("to is required: the actor has no known %s address", ch)
	}
	table := "citizens"
	if c.Actor.Kind == ActorStaff {
		table = "users"
	}
	var addr string
	err := tx.QueryRowContext(ctx, "SELECT email FROM "+table+" WHERE tenant_id = ? AND id = ?", c.TenantID, c.Actor.ID).Scan(&addr)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("look up the actor's e-mail: %w", err)
	}
	if !email(addr) {
		return "", invalid("to is required: the actor has no e-mail address on file")
	}
	return addr, nil
}

func containsLineBreak(v string) bool {
	for _, r := range v {
		if r == '\r' || r == '\n' || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}
