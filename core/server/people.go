package server

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/web"
)

type staffInfo struct {
	name, email string
	roles       []string
	offices     []string
}

// staffProfile reads a staff member's name, roles and offices in the
// request's tenant.
func (s *Server) staffProfile(c *fiber.Ctx, userID int64) (*staffInfo, error) {
	rs := state(c)
	info := &staffInfo{}
	err := s.DB.InTenant(c.UserContext(), rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw("SELECT name, email FROM users WHERE tenant_id = ? AND id = ?", rs.tenant.ID, userID).Scan(ctx, &info.name, &info.email); err != nil {
			return err
		}
		if err := tx.NewRaw("SELECT coalesce(array_agg(role ORDER BY role), '{}') FROM user_roles WHERE tenant_id = ? AND user_id = ?", rs.tenant.ID, userID).Scan(ctx, bunArray(&info.roles)); err != nil {
			return err
		}
		return tx.NewRaw(`SELECT coalesce(array_agg(o.name->>? ORDER BY o.id) FILTER (WHERE o.id IS NOT NULL), '{}')
			FROM user_offices uo JOIN offices o ON o.tenant_id = uo.tenant_id AND o.id = uo.office_id
			WHERE uo.tenant_id = ? AND uo.user_id = ?`, rs.lang, rs.tenant.ID, userID).Scan(ctx, bunArray(&info.offices))
	})
	if err != nil {
		return nil, fmt.Errorf("staff %d: %w", userID, err)
	}
	return info, nil
}

// currentUser describes who is signed in, for the page header.
func (s *Server) currentUser(c *fiber.Ctx) *web.User {
	rs := state(c)
	ctx := c.UserContext()
	switch {
	case rs.platform != nil:
		var u web.User
		if err := s.DB.NewRaw("SELECT name, email FROM platform_users WHERE id = ?", rs.platform.UserID).Scan(ctx, &u.Name, &u.Email); err != nil {
			return nil
		}
		u.Kind = "platform"
		return &u
	case rs.session != nil && rs.session.Subject.UserID != 0:
		info, err := s.staffProfile(c, rs.session.Subject.UserID)
		if err != nil {
			s.log.Warn("staff profile", "err", err)
			return nil
		}
		u := &web.User{Name: info.name, Email: info.email, Kind: "staff", Roles: info.roles}
		// The menu leads to the administration whoever the town's rules let in.
		u.Admin, err = s.Authz.Enforce(ctx, rs.tenant.ID, rs.subject, "admin/home", "read")
		if err != nil {
			s.log.Warn("staff admin grant", "err", err)
		}
		return u
	case rs.session != nil:
		var u web.User
		err := s.DB.InTenant(ctx, rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw("SELECT name, email, fiscal_code FROM citizens WHERE tenant_id = ? AND id = ?",
				rs.tenant.ID, rs.session.Subject.CitizenID).Scan(ctx, &u.Name, &u.Email, &u.FiscalCode)
		})
		if err != nil {
			s.log.Warn("citizen profile", "err", err)
			return nil
		}
		u.Kind = "citizen"
		return &u
	}
	return nil
}

// audit records a tenant admin's change. Its failure is logged, not shown:
// the change itself has been made.
func (s *Server) audit(c *fiber.Ctx, action, object string) {
	rs := state(c)
	err := s.DB.InTenant(c.UserContext(), rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO audit_log (tenant_id, actor, action, object) VALUES (?, ?, ?, ?)",
			rs.tenant.ID, rs.subject, action, object)
		return err
	})
	if err != nil {
		s.log.Error("audit", "err", err, "action", action)
	}
}
