// Package tenancy holds the towns: their manifests, how one is written to
// the database, and the in-memory registry that resolves a request's
// tenant from its host or path in constant time.
package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/sportello/sportello/core/store"
)

// Tenant is a town as the app needs it on every request. Values are shared
// between requests: treat them as read-only.
type Tenant struct {
	ID           int64
	Slug         string
	Name         string
	Languages    []string
	Domains      []string
	Branding     Branding
	CitizenLogin CitizenLogin
	HasLogo      bool
	UpdatedAt    time.Time
}

// Offers reports whether lang is one of the tenant's languages.
func (t *Tenant) Offers(lang string) bool {
	for _, l := range t.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Registry resolves tenants from memory. It is loaded whole at start
// (8,000 towns are a few megabytes) and refreshed when a tenant changes.
type Registry struct {
	db         *store.DB
	baseDomain string

	mu       sync.RWMutex
	bySlug   map[string]*Tenant
	byID     map[int64]*Tenant
	byDomain map[string]*Tenant
}

// NewRegistry makes an empty registry; call Reload before use. baseDomain
// is the deployment's domain: "{slug}.{baseDomain}" is a tenant's host.
func NewRegistry(db *store.DB, baseDomain string) *Registry {
	return &Registry{db: db, baseDomain: strings.ToLower(strings.TrimSpace(baseDomain))}
}

type tenantRow struct {
	ID           int64     `bun:"id"`
	Slug         string    `bun:"slug"`
	Name         string    `bun:"name"`
	Languages    []string  `bun:"languages,array"`
	Domains      []string  `bun:"domains,array"`
	Branding     []byte    `bun:"branding"`
	CitizenLogin []byte    `bun:"citizen_login"`
	HasLogo      bool      `bun:"has_logo"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

// Reload reads every tenant and swaps the maps in at once.
func (r *Registry) Reload(ctx context.Context) error {
	var rows []tenantRow
	err := r.db.NewRaw(`SELECT t.id, t.slug, t.name, t.languages, t.branding, t.citizen_login,
			t.logo IS NOT NULL AS has_logo, t.updated_at,
			COALESCE(array_agg(d.domain ORDER BY d.domain) FILTER (WHERE d.domain IS NOT NULL), '{}') AS domains
		FROM tenants t LEFT JOIN tenant_domains d ON d.tenant_id = t.id
		GROUP BY t.id`).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("load tenants: %w", err)
	}
	bySlug := make(map[string]*Tenant, len(rows))
	byID := make(map[int64]*Tenant, len(rows))
	byDomain := make(map[string]*Tenant)
	for _, row := range rows {
		t := &Tenant{ID: row.ID, Slug: row.Slug, Name: row.Name, Languages: row.Languages, Domains: row.Domains,
			HasLogo: row.HasLogo, UpdatedAt: row.UpdatedAt}
		if err := json.Unmarshal(row.Branding, &t.Branding); err != nil {
			return fmt.Errorf("tenant %s: branding: %w", row.Slug, err)
		}
		if err := json.Unmarshal(row.CitizenLogin, &t.CitizenLogin); err != nil {
			return fmt.Errorf("tenant %s: citizen login: %w", row.Slug, err)
		}
		bySlug[t.Slug] = t
		byID[t.ID] = t
		for _, d := range t.Domains {
			byDomain[d] = t
		}
	}
	r.mu.Lock()
	r.bySlug, r.byID, r.byDomain = bySlug, byID, byDomain
	r.mu.Unlock()
	return nil
}

// BySlug finds a tenant by its slug.
func (r *Registry) BySlug(slug string) (*Tenant, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.bySlug[slug]
	return t, ok
}

// ByID finds a tenant by its id.
func (r *Registry) ByID(id int64) (*Tenant, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.byID[id]
	return t, ok
}

// List returns every tenant, by slug.
func (r *Registry) List() []*Tenant {
	r.mu.RLock()
	out := make([]*Tenant, 0, len(r.bySlug))
	for _, t := range r.bySlug {
		out = append(out, t)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out
}

// Len is the number of tenants.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.bySlug)
}

// Resolution says where a request's tenant came from.
type Resolution int

const (
	// NoTenant: the platform's own host, no tenant named.
	NoTenant Resolution = iota
	// FromHost: {slug}.localhost, {slug}.{base} or a custom domain.
	FromHost
	// FromPath: the /t/{slug}/ prefix.
	FromPath
	// Unknown: a tenant was named, and there is no such tenant.
	Unknown
)

// Resolve finds the tenant of a request from its path prefix /t/{slug}/
// or its Host header. It does no I/O.
func (r *Registry) Resolve(host, path string) (*Tenant, Resolution) {
	if slug, ok := PathSlug(path); ok {
		if t, ok := r.BySlug(slug); ok {
			return t, FromPath
		}
		return nil, Unknown
	}
	h := strings.ToLower(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || h == "localhost" || h == r.baseDomain || net.ParseIP(h) != nil {
		return nil, NoTenant
	}
	for _, suffix := range []string{".localhost", "." + r.baseDomain} {
		if suffix == "." {
			continue
		}
		if slug, ok := strings.CutSuffix(h, suffix); ok && !strings.Contains(slug, ".") {
			if t, ok := r.BySlug(slug); ok {
				return t, FromHost
			}
			return nil, Unknown
		}
	}
	r.mu.RLock()
	t, ok := r.byDomain[h]
	r.mu.RUnlock()
	if ok {
		return t, FromHost
	}
	return nil, Unknown
}

// PathSlug extracts slug from a path of the form /t/{slug} or /t/{slug}/...
func PathSlug(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/t/")
	if !ok {
		return "", false
	}
	slug, _, _ := strings.Cut(rest, "/")
	return slug, slug != ""
}

// Listen refreshes the registry whenever a tenant changes on any instance,
// until ctx ends. A notification sent while the listening connection is
// down (the database restarting, say) reaches nobody, so the registry is
// reloaded whole each time the listener connects again, and every `every`
// in any case.
func (r *Registry) Listen(ctx context.Context, log *slog.Logger, every time.Duration) {
	ln := pgdriver.NewListener(r.db.DB)
	defer ln.Close()
	// Closing the listener ends a wait for a notification; ctx does not.
	defer context.AfterFunc(ctx, func() { _ = ln.Close() })()
	reload := func() {
		if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
			log.Warn("reload tenants", "err", err)
		}
	}
	listening, failing := false, false
	var next time.Time
	for ctx.Err() == nil {
		if !listening {
			if err := ln.Listen(ctx, NotifyChannel); err != nil {
				if !failing && ctx.Err() == nil {
					log.Warn("listen for tenant changes: trying again every second", "err", err)
				}
				failing = true
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
				continue
			}
			if failing {
				log.Info("listening for tenant changes again")
			}
			listening, failing = true, false
			reload() // whatever changed while nobody listened
			next = time.Now().Add(every)
		}
		wait := time.Until(next)
		if wait <= 0 { // 0 would wait for ever
			reload()
			next = time.Now().Add(every)
			continue
		}
		_, _, err := ln.ReceiveTimeout(ctx, wait)
		var ne net.Error
		switch {
		case err == nil:
			reload()
		case errors.As(err, &ne) && ne.Timeout():
			reload()
			next = time.Now().Add(every)
		default:
			// The listener drops a broken connection by itself; listening
			// again dials a new one, after a pause lest a connection that
			// keeps failing at once spin this loop.
			listening = false
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// Logo returns a tenant's logo and its media type.
func Logo(ctx context.Context, db *store.DB, tenantID int64) ([]byte, string, error) {
	var logo []byte
	var typ string
	err := db.NewRaw("SELECT logo, logo_type FROM tenants WHERE id = ? AND logo IS NOT NULL", tenantID).Scan(ctx, &logo, &typ)
	if err != nil {
		return nil, "", fmt.Errorf("logo of tenant %d: %w", tenantID, err)
	}
	return logo, typ, nil
}
