package hostapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Settings are a plugin's own state in a tenant, shared by all actors of
// that tenant: every actor kind may read and write them, and what they
// mean is the plugin's business.

func (s *Server) getSetting(ctx context.Context, c Call, r *pb.GetSettingRequest) (*pb.Setting, error) {
	if !settingKey.MatchString(r.GetKey()) {
		return nil, invalid("key %q: 1-64 of a-z 0-9 _ . -", r.GetKey())
	}
	out := &pb.Setting{Key: r.GetKey()}
	// The hottest call plugins make: one round trip, not a transaction.
	row, err := s.db.QueryRowInTenant(ctx, c.TenantID,
		"SELECT value::text FROM plugin_settings WHERE tenant_id = ? AND plugin_id = ? AND key = ?",
		c.TenantID, c.PluginID, r.GetKey())
	if err != nil {
		return nil, err
	}
	var v string
	switch err := row.Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("read setting %s: %w", r.GetKey(), err)
	default:
		out.ValueJson, out.Found = []byte(v), true
	}
	return out, nil
}

func (s *Server) putSetting(ctx context.Context, c Call, r *pb.PutSettingRequest) (*pb.Setting, error) {
	if !settingKey.MatchString(r.GetKey()) {
		return nil, invalid("key %q: 1-64 of a-z 0-9 _ . -", r.GetKey())
	}
	raw := r.GetValueJson()
	switch {
	case len(raw) == 0:
		return nil, invalid("value_json is empty (store null to clear)")
	case len(raw) > maxSettingSize:
		return nil, invalid("value_json: %d bytes, at most %d", len(raw), maxSettingSize)
	case !json.Valid(raw):
		return nil, invalid("value_json: not valid JSON")
	}
	out := &pb.Setting{Key: r.GetKey(), Found: true}
	err := s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var v string
		err := tx.QueryRowContext(ctx, `INSERT INTO plugin_settings (tenant_id, plugin_id, key, value) VALUES (?, ?, ?, ?::jsonb)
			ON CONFLICT (tenant_id, plugin_id, key) DO UPDATE SET value = excluded.value, updated_at = now()
			RETURNING value::text`, c.TenantID, c.PluginID, r.GetKey(), string(raw)).Scan(&v)
		if err != nil {
			return fmt.Errorf("store setting %s: %w", r.GetKey(), err)
		}
		out.ValueJson = []byte(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
