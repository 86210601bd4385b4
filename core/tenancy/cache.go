package tenancy

import (
	"context"
	"sync"
	"time"

	"github.com/sportello/sportello/core/store"
)

// PortalCache keeps each tenant's portal content in memory, so a home page
// costs no database round trip. An entry is rebuilt when the tenant's
// update time moves (the registry reloads on every change) or when it is
// older than maxAge, which bounds staleness for changes that do not touch
// the tenant row.
type PortalCache struct {
	db     *store.DB
	maxAge time.Duration

	mu      sync.Mutex
	entries map[int64]portalEntry
	swept   time.Time
}

type portalEntry struct {
	portal  *Portal
	version time.Time
	loaded  time.Time
}

// NewPortalCache makes an empty cache.
func NewPortalCache(db *store.DB, maxAge time.Duration) *PortalCache {
	return &PortalCache{db: db, maxAge: maxAge, entries: map[int64]portalEntry{}}
}

// Get returns t's portal, from memory when fresh.
func (pc *PortalCache) Get(ctx context.Context, t *Tenant) (*Portal, error) {
	pc.mu.Lock()
	e, ok := pc.entries[t.ID]
	pc.mu.Unlock()
	if ok && e.version.Equal(t.UpdatedAt) && time.Since(e.loaded) < pc.maxAge {
		return e.portal, nil
	}
	p, err := LoadPortal(ctx, pc.db, t.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	pc.mu.Lock()
	// Entries past maxAge go once per maxAge, so memory follows the towns
	// visited lately rather than every town since start.
	if now.Sub(pc.swept) > pc.maxAge {
		for id, e := range pc.entries {
			if now.Sub(e.loaded) >= pc.maxAge {
				delete(pc.entries, id)
			}
		}
		pc.swept = now
	}
	pc.entries[t.ID] = portalEntry{portal: p, version: t.UpdatedAt, loaded: now}
	pc.mu.Unlock()
	return p, nil
}

// Forget drops a tenant's entry after a change made on this instance.
func (pc *PortalCache) Forget(tenantID int64) {
	pc.mu.Lock()
	delete(pc.entries, tenantID)
	pc.mu.Unlock()
}
