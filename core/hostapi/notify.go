package hostapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
		if ch == "sms" {
			// Texts go only to a number a citizen of the town gave with
			// their consent: the actor's own when none is named.
			var err error
			if to, err = consentedNumber(ctx, tx, c, to); err != nil {
				return err
			}
		}
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

// consentedNumber is the number an SMS may go to: to, when some citizen
// of the town consented to texts on it, or with to empty the number the
// citizen acting consented with. Anything else is refused.
func consentedNumber(ctx context.Context, tx bun.Tx, c Call, to string) (string, error) {
	var phone string
	var err error
	if to == "" {
		if c.Actor.Kind != ActorCitizen {
			return "", invalid("to is required: the actor has no phone number on file")
		}
		err = tx.QueryRowContext(ctx, "SELECT phone FROM notify_prefs WHERE tenant_id = ? AND citizen_id = ? AND sms",
			c.TenantID, c.Actor.ID).Scan(&phone)
	} else {
		err = tx.QueryRowContext(ctx, "SELECT phone FROM notify_prefs WHERE tenant_id = ? AND phone = ? AND sms LIMIT 1",
			c.TenantID, to).Scan(&phone)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", status.Error(codes.FailedPrecondition, "no consent to text messages on this number: the citizen gives it on their profile")
	}
	if err != nil {
		return "", fmt.Errorf("look up the consent to texts: %w", err)
	}
	return phone, nil
}

// actorRecipient is the e-mail address of the call's actor
// (citizens.email, users.email); texts have consentedNumber.
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
