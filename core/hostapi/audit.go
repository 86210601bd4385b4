package hostapi

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// audit records what a plugin did in the tenant's audit log. The actor is
// set by the host ("plugin:<id>/<kind>:<id>"), so a plugin's entries can
// neither pass for the host's nor for another plugin's.
func (s *Server) audit(ctx context.Context, c Call, r *pb.AuditRequest) (*pb.AuditResponse, error) {
	if !auditAction.MatchString(r.GetAction()) {
		return nil, invalid("action %q: 1-64 of a-z 0-9 _ . -, starting with a letter", r.GetAction())
	}
	if err := checkText("object", r.GetObject(), false, maxObject); err != nil {
		return nil, err
	}
	details, err := jsonObject("details_json", r.GetDetailsJson(), maxAuditDetail)
	if err != nil {
		return nil, err
	}
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO audit_log (tenant_id, actor, action, object, details) VALUES (?, ?, ?, ?, ?::jsonb)",
			c.TenantID, c.String(), r.GetAction(), r.GetObject(), details)
		if err != nil {
			return fmt.Errorf("write audit entry: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.AuditResponse{}, nil
}
