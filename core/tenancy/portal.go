package tenancy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Office is a town office as its portal shows it.
type Office struct {
	ID      int64
	Slug    string
	Name    Text
	Address string
	Phone   string
	Email   string
	Hours   []Hours
}

// Service is a service a tenant has enabled.
type Service struct {
	ID     string
	Config map[string]any
}

// Portal is what a tenant's home page shows besides its branding.
type Portal struct {
	Offices  []Office
	Services []Service
}

// LoadPortal reads a tenant's offices and enabled services.
func LoadPortal(ctx context.Context, db *store.DB, tenantID int64) (*Portal, error) {
	p := &Portal{}
	err := db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, slug, name, address, phone, email, hours FROM offices WHERE tenant_id = ? ORDER BY id", tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o Office
			var name, hours []byte
			if err := rows.Scan(&o.ID, &o.Slug, &name, &o.Address, &o.Phone, &o.Email, &hours); err != nil {
				return err
			}
			if err := json.Unmarshal(name, &o.Name); err != nil {
				return fmt.Errorf("office %s name: %w", o.Slug, err)
			}
			if err := json.Unmarshal(hours, &o.Hours); err != nil {
				return fmt.Errorf("office %s hours: %w", o.Slug, err)
			}
			p.Offices = append(p.Offices, o)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		srows, err := tx.QueryContext(ctx, "SELECT service_id, config FROM tenant_services WHERE tenant_id = ? AND state = 'published' ORDER BY service_id", tenantID)
		if err != nil {
			return err
		}
		defer srows.Close()
		for srows.Next() {
			var s Service
			var cfg []byte
			if err := srows.Scan(&s.ID, &cfg); err != nil {
				return err
			}
			if err := json.Unmarshal(cfg, &s.Config); err != nil {
				return fmt.Errorf("service %s config: %w", s.ID, err)
			}
			p.Services = append(p.Services, s)
		}
		return srows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("load portal of tenant %d: %w", tenantID, err)
	}
	return p, nil
}
