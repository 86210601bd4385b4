package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/tenancy"
)

// States of a service in a town.
const (
	StateRequested = "requested"
	StateApproved  = "approved"
	StateRejected  = "rejected"
	StatePublished = "published"
	StateDisabled  = "disabled"
)

// Errors of the lifecycle; the HTTP layer maps them to 409 and 422.
var (
	// ErrWrongState: the step does not apply to the service's current state
	// (publishing a service not approved, requesting one already enabled).
	ErrWrongState = errors.New("not possible in the service's current state")
	// ErrInvalid: the input is malformed (an empty or too long message).
	ErrInvalid = errors.New("invalid input")
)

// MaxMessage bounds a request's message and a rejection's reason.
const MaxMessage = 2000

// TenantService is a service as one town has it.
type TenantService struct {
	ServiceID string
	State     string
	Config    json.RawMessage
	UpdatedAt time.Time
	// Pending is the open request, if any.
	Pending *ServiceRequest
}

// ServiceRequest is a town's request for a service.
type ServiceRequest struct {
	TenantID  int64
	ID        int64
	ServiceID string
	Message   string
	Status    string // pending, approved, rejected
	Reason    string
	CreatedAt time.Time
	DecidedAt *time.Time
}

// Actor names who takes a step, for the audit log ("user:12", "platform:3").
type Actor string

// TenantServices lists the services a town has requested or enabled.
func (c *Catalog) TenantServices(ctx context.Context, tenantID int64) ([]TenantService, error) {
	var out []TenantService
	err := c.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT s.service_id, s.state, s.config, s.updated_at,
				r.id, r.message, r.created_at
			FROM tenant_services s
			LEFT JOIN service_requests r ON r.tenant_id = s.tenant_id AND r.service_id = s.service_id AND r.status = 'pending'
			WHERE s.tenant_id = ? ORDER BY s.service_id`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ts TenantService
			var cfg []byte
			var rid sql.NullInt64
			var msg sql.NullString
			var at sql.NullTime
			if err := rows.Scan(&ts.ServiceID, &ts.State, &cfg, &ts.UpdatedAt, &rid, &msg, &at); err != nil {
				return err
			}
			ts.Config = cfg
			if rid.Valid {
				ts.Pending = &ServiceRequest{TenantID: tenantID, ID: rid.Int64, ServiceID: ts.ServiceID,
					Message: msg.String, Status: "pending", CreatedAt: at.Time}
			}
			out = append(out, ts)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("services of tenant %d: %w", tenantID, err)
	}
	return out, nil
}

// TenantService returns one service of a town; ErrNotFound when the town
// has never asked for it.
func (c *Catalog) TenantService(ctx context.Context, tenantID int64, serviceID string) (*TenantService, error) {
	all, err := c.TenantServices(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ServiceID == serviceID {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("service %s of tenant %d: %w", serviceID, tenantID, ErrNotFound)
}

// RequestService asks the platform for a catalogue service on behalf of a
// town's admin. A service already approved, published or disabled needs no
// request; a pending one is not asked twice.
func (c *Catalog) RequestService(ctx context.Context, tenantID, userID int64, serviceID, message string) (*ServiceRequest, error) {
	message = strings.TrimSpace(message)
	if message == "" || utf8.RuneCountInString(message) > MaxMessage {
		return nil, fmt.Errorf("request %s: message must be 1 to %d characters: %w", serviceID, MaxMessage, ErrInvalid)
	}
	if _, err := c.Get(ctx, serviceID); err != nil {
		return nil, err
	}
	req := &ServiceRequest{TenantID: tenantID, ServiceID: serviceID, Message: message, Status: "pending"}
	err := c.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		state, err := lockState(ctx, tx, tenantID, serviceID)
		if err != nil {
			return err
		}
		if state != "" && state != StateRejected {
			return fmt.Errorf("request %s (state %s): %w", serviceID, state, ErrWrongState)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_services (tenant_id, service_id, enabled, state) VALUES (?, ?, false, 'requested')
			ON CONFLICT (tenant_id, service_id) DO UPDATE SET state = 'requested', enabled = false, updated_at = now()`, tenantID, serviceID); err != nil {
			return err
		}
		if err := tx.NewRaw(`INSERT INTO service_requests (tenant_id, service_id, message, requested_by) VALUES (?, ?, ?, ?)
			RETURNING id, created_at`, tenantID, serviceID, message, userID).Scan(ctx, &req.ID, &req.CreatedAt); err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, userSubject(userID), "service.request", serviceID, map[string]any{"request": req.ID})
	})
	if err != nil {
		return nil, fmt.Errorf("request service %s for tenant %d: %w", serviceID, tenantID, err)
	}
	return req, nil
}

// PendingRequests lists every town's open requests, for platform staff.
func (c *Catalog) PendingRequests(ctx context.Context) ([]ServiceRequest, error) {
	var rows []struct {
		TenantID  int64      `bun:"tenant_id"`
		ID        int64      `bun:"id"`
		ServiceID string     `bun:"service_id"`
		Message   string     `bun:"message"`
		Status    string     `bun:"status"`
		Reason    string     `bun:"reason"`
		CreatedAt time.Time  `bun:"created_at"`
		DecidedAt *time.Time `bun:"decided_at"`
	}
	if err := c.db.NewRaw("SELECT * FROM platform_service_requests('pending')").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("pending service requests: %w", err)
	}
	out := make([]ServiceRequest, 0, len(rows))
	for _, r := range rows {
		out = append(out, ServiceRequest{TenantID: r.TenantID, ID: r.ID, ServiceID: r.ServiceID, Message: r.Message,
			Status: r.Status, Reason: r.Reason, CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt})
	}
	return out, nil
}

// Decide approves or rejects a pending request; platform staff do it.
func (c *Catalog) Decide(ctx context.Context, tenantID, requestID, platformUserID int64, approve bool, reason string) error {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > MaxMessage || (!approve && reason == "") {
		return fmt.Errorf("decide request %d: a rejection needs a reason of at most %d characters: %w", requestID, MaxMessage, ErrInvalid)
	}
	status, state, action := "approved", StateApproved, "service.approve"
	if !approve {
		status, state, action = "rejected", StateRejected, "service.reject"
	}
	err := c.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var serviceID string
		err := tx.NewRaw(`UPDATE service_requests SET status = ?, reason = ?, decided_by = ?, decided_at = now()
			WHERE tenant_id = ? AND id = ? AND status = 'pending' RETURNING service_id`,
			status, reason, platformUserID, tenantID, requestID).Scan(ctx, &serviceID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("request %d: %w", requestID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE tenant_services SET state = ?, updated_at = now() WHERE tenant_id = ? AND service_id = ?",
			state, tenantID, serviceID); err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, "platform:"+strconv.FormatInt(platformUserID, 10), action, serviceID,
			map[string]any{"request": requestID, "reason": reason})
	})
	if err != nil {
		return fmt.Errorf("decide request %d of tenant %d: %w", requestID, tenantID, err)
	}
	return nil
}

// Configure stores a town's configuration of a service it may use. The
// caller has validated config against the plugin's config schema.
func (c *Catalog) Configure(ctx context.Context, tenantID int64, actor Actor, serviceID string, config json.RawMessage) error {
	if !json.Valid(config) {
		return fmt.Errorf("configure %s: %w", serviceID, ErrInvalid)
	}
	return c.step(ctx, tenantID, actor, serviceID, "service.configure", []string{StateApproved, StatePublished, StateDisabled},
		func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE tenant_services SET config = ?, updated_at = now() WHERE tenant_id = ? AND service_id = ?",
				string(config), tenantID, serviceID)
			return err
		})
}

// Publish shows an approved (or disabled) service to the town's citizens.
// check validates the stored configuration, so that a service whose
// required settings are missing cannot go live.
func (c *Catalog) Publish(ctx context.Context, tenantID int64, actor Actor, serviceID string, check func(config json.RawMessage) error) error {
	return c.step(ctx, tenantID, actor, serviceID, "service.publish", []string{StateApproved, StateDisabled},
		func(ctx context.Context, tx bun.Tx) error {
			var cfg []byte
			if err := tx.NewRaw("SELECT config FROM tenant_services WHERE tenant_id = ? AND service_id = ?", tenantID, serviceID).Scan(ctx, &cfg); err != nil {
				return err
			}
			if err := check(cfg); err != nil {
				return fmt.Errorf("configuration: %v: %w", err, ErrInvalid)
			}
			return setState(ctx, tx, tenantID, serviceID, StatePublished)
		})
}

// Disable hides a published service from citizens; its data stays.
func (c *Catalog) Disable(ctx context.Context, tenantID int64, actor Actor, serviceID string) error {
	return c.step(ctx, tenantID, actor, serviceID, "service.disable", []string{StatePublished},
		func(ctx context.Context, tx bun.Tx) error {
			return setState(ctx, tx, tenantID, serviceID, StateDisabled)
		})
}

// step runs one lifecycle step in a transaction: the service must be in
// one of the states from, and the step is audited.
func (c *Catalog) step(ctx context.Context, tenantID int64, actor Actor, serviceID, action string, from []string,
	fn func(ctx context.Context, tx bun.Tx) error) error {
	err := c.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		state, err := lockState(ctx, tx, tenantID, serviceID)
		if err != nil {
			return err
		}
		if state == "" {
			return fmt.Errorf("service %s: %w", serviceID, ErrNotFound)
		}
		ok := false
		for _, f := range from {
			ok = ok || state == f
		}
		if !ok {
			return fmt.Errorf("%s from state %s: %w", action, state, ErrWrongState)
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, string(actor), action, serviceID, nil)
	})
	if err != nil {
		return fmt.Errorf("%s %s for tenant %d: %w", action, serviceID, tenantID, err)
	}
	return nil
}

// lockState reads and locks a service's state; "" when the town has none.
func lockState(ctx context.Context, tx bun.Tx, tenantID int64, serviceID string) (string, error) {
	var state string
	err := tx.NewRaw("SELECT state FROM tenant_services WHERE tenant_id = ? AND service_id = ? FOR UPDATE", tenantID, serviceID).Scan(ctx, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return state, err
}

func setState(ctx context.Context, tx bun.Tx, tenantID int64, serviceID, state string) error {
	_, err := tx.ExecContext(ctx, "UPDATE tenant_services SET state = ?, enabled = ?, updated_at = now() WHERE tenant_id = ? AND service_id = ?",
		state, state == StatePublished, tenantID, serviceID)
	if err != nil {
		return err
	}
	// The portal's cached pages follow the tenant's update time.
	_, err = tx.ExecContext(ctx, "UPDATE tenants SET updated_at = now() WHERE id = ?", tenantID)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "SELECT pg_notify(?, slug) FROM tenants WHERE id = ?", tenancy.NotifyChannel, tenantID)
	return err
}

func audit(ctx context.Context, tx bun.Tx, tenantID int64, actor, action, object string, details map[string]any) error {
	d := "{}"
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return err
		}
		d = string(b)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO audit_log (tenant_id, actor, action, object, details) VALUES (?, ?, ?, ?, ?)",
		tenantID, actor, action, object, d)
	return err
}

func userSubject(id int64) string { return "user:" + strconv.FormatInt(id, 10) }
