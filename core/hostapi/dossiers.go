package hostapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Dossier defaults and limits of a list.
const (
	defaultDossierStatus = "submitted"
	defaultListLimit     = 50
	maxListLimit         = 200
)

// The year of a protocol number is the calendar year in Italy (and
// Ticino): a dossier opened at 00:30 on 1 January belongs to the new year.
const numberYear = `extract(year FROM now() AT TIME ZONE 'Europe/Rome')::int`

const dossierCols = `id, number, service_id, status, title, data::text, coalesce(citizen_id, 0), channel,
	extract(epoch FROM created_at)::bigint`

func channel(v string) bool {
	switch v {
	case "web", "phone", "counter", "consultation":
		return true
	}
	return false
}

type scanner interface{ Scan(dest ...any) error }

func scanDossier(row scanner) (*pb.Dossier, error) {
	d := &pb.Dossier{}
	var data string
	if err := row.Scan(&d.Id, &d.Number, &d.ServiceId, &d.Status, &d.Title, &data, &d.CitizenId, &d.Channel, &d.CreatedUnix); err != nil {
		return nil, err
	}
	d.DataJson = []byte(data)
	return d, nil
}

// dossierScope is the WHERE clause limiting dossiers to those c may see:
// its tenant (on top of row-level security), its plugin's service, and for
// a citizen their own.
func dossierScope(c Call) (string, []any, error) {
	switch c.Actor.Kind {
	case ActorStaff:
		return "tenant_id = ? AND service_id = ?", []any{c.TenantID, c.PluginID}, nil
	case ActorCitizen:
		return "tenant_id = ? AND service_id = ? AND citizen_id = ?", []any{c.TenantID, c.PluginID, c.Actor.ID}, nil
	}
	return "", nil, denied("an anonymous visitor has no dossiers to read")
}

// dossierCitizen checks that c may see dossier id and returns its citizen.
// Reservations and payments use it to refer to a dossier.
func dossierCitizen(ctx context.Context, tx bun.Tx, c Call, id int64) (*int64, error) {
	where, args, err := dossierScope(c)
	if err != nil {
		return nil, err
	}
	var citizen sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT citizen_id FROM dossiers WHERE "+where+" AND id = ?", append(args, id)...).Scan(&citizen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("dossier", id)
	}
	if err != nil {
		return nil, fmt.Errorf("look up dossier %d: %w", id, err)
	}
	if !citizen.Valid {
		return nil, nil
	}
	return &citizen.Int64, nil
}

func (s *Server) createDossier(ctx context.Context, c Call, r *pb.CreateDossierRequest) (*pb.Dossier, error) {
	title := strings.TrimSpace(r.GetTitle())
	if err := checkText("title", title, true, maxTitle); err != nil {
		return nil, err
	}
	st := r.GetStatus()
	if st == "" {
		st = defaultDossierStatus
	} else if !statusName.MatchString(st) {
		return nil, invalid("status %q: lower-case letters, digits and _, at most 32", st)
	}
	ch := r.GetChannel()
	if ch == "" {
		ch = "web"
	} else if !channel(ch) {
		return nil, invalid("channel %q: one of web, phone, counter, consultation", ch)
	}
	data, err := jsonObject("data_json", r.GetDataJson(), maxDossierData)
	if err != nil {
		return nil, err
	}
	// An anonymous visitor may open a dossier (an anonymous report), which
	// then belongs to no citizen; staff opening one on a citizen's behalf
	// is for the dossier model to link.
	var citizen *int64
	if c.Actor.Kind == ActorCitizen {
		citizen = &c.Actor.ID
	}
	var d *pb.Dossier
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var year int
		var last int64
		err := tx.QueryRowContext(ctx, `INSERT INTO dossier_counters (tenant_id, year, last) VALUES (?, `+numberYear+`, 1)
			ON CONFLICT (tenant_id, year) DO UPDATE SET last = dossier_counters.last + 1
			RETURNING year, last`, c.TenantID).Scan(&year, &last)
		if err != nil {
			return fmt.Errorf("next dossier number: %w", err)
		}
		d, err = scanDossier(tx.QueryRowContext(ctx, `INSERT INTO dossiers
			(tenant_id, number, service_id, citizen_id, status, title, data, channel)
			VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?) RETURNING `+dossierCols,
			c.TenantID, fmt.Sprintf("%04d-%06d", year, last), c.PluginID, citizen, st, title, data, ch))
		if err != nil {
			return fmt.Errorf("insert dossier: %w", err)
		}
		return addEvent(ctx, tx, c, d.Id, st, "")
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func addEvent(ctx context.Context, tx bun.Tx, c Call, dossierID int64, st, note string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO dossier_events (tenant_id, dossier_id, actor, status, note) VALUES (?, ?, ?, ?, ?)",
		c.TenantID, dossierID, c.String(), st, note)
	if err != nil {
		return fmt.Errorf("record status of dossier %d: %w", dossierID, err)
	}
	return nil
}

func (s *Server) getDossier(ctx context.Context, c Call, r *pb.GetDossierRequest) (*pb.Dossier, error) {
	if r.GetId() <= 0 {
		return nil, invalid("id must be positive")
	}
	where, args, err := dossierScope(c)
	if err != nil {
		return nil, err
	}
	var d *pb.Dossier
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		d, err = scanDossier(tx.QueryRowContext(ctx, "SELECT "+dossierCols+" FROM dossiers WHERE "+where+" AND id = ?",
			append(args, r.GetId())...))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("dossier", r.GetId())
		}
		if err != nil {
			return fmt.Errorf("read dossier %d: %w", r.GetId(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) listDossiers(ctx context.Context, c Call, r *pb.ListDossiersRequest) (*pb.ListDossiersResponse, error) {
	limit := int(r.GetLimit())
	switch {
	case limit < 0:
		return nil, invalid("limit must not be negative")
	case limit == 0:
		limit = defaultListLimit
	case limit > maxListLimit:
		limit = maxListLimit
	}
	where, args, err := dossierScope(c)
	if err != nil {
		return nil, err
	}
	if st := r.GetStatus(); st != "" {
		if !statusName.MatchString(st) {
			return nil, invalid("status %q: lower-case letters, digits and _, at most 32", st)
		}
		where += " AND status = ?"
		args = append(args, st)
	}
	out := &pb.ListDossiersResponse{}
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+dossierCols+" FROM dossiers WHERE "+where+
			" ORDER BY created_at DESC, id DESC LIMIT ?", append(args, limit)...)
		if err != nil {
			return fmt.Errorf("list dossiers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDossier(rows)
			if err != nil {
				return fmt.Errorf("list dossiers: %w", err)
			}
			out.Dossiers = append(out.Dossiers, d)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list dossiers: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) setDossierStatus(ctx context.Context, c Call, r *pb.SetDossierStatusRequest) (*pb.Dossier, error) {
	if c.Actor.Kind != ActorStaff {
		return nil, denied("only staff change a dossier's status")
	}
	if r.GetId() <= 0 {
		return nil, invalid("id must be positive")
	}
	if !statusName.MatchString(r.GetStatus()) {
		return nil, invalid("status %q: lower-case letters, digits and _, at most 32", r.GetStatus())
	}
	if err := checkText("note", r.GetNote(), false, maxNote); err != nil {
		return nil, err
	}
	var d *pb.Dossier
	err := s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		d, err = scanDossier(tx.QueryRowContext(ctx, `UPDATE dossiers SET status = ?, updated_at = now()
			WHERE tenant_id = ? AND service_id = ? AND id = ? RETURNING `+dossierCols,
			r.GetStatus(), c.TenantID, c.PluginID, r.GetId()))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("dossier", r.GetId())
		}
		if err != nil {
			return fmt.Errorf("update dossier %d: %w", r.GetId(), err)
		}
		return addEvent(ctx, tx, c, d.Id, d.Status, r.GetNote())
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
