package server

import (
	"bytes"
	"sync"
	"time"
)

// pageCache keeps rendered anonymous pages: a town's home page is the same
// for every visitor who is not signed in, and rendering it is most of what
// serving it costs. Entries live for ttl, the same bound the portal cache
// keeps on the content, and are keyed by the tenant's update time so that
// a changed tenant is never served stale from here.
type pageCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[pageKey]cachedPage
	swept   time.Time
}

type pageKey struct {
	tenantID int64
	version  int64
	lang     string
	path     string
	query    string
}

type cachedPage struct {
	body   []byte
	stored time.Time
}

// csrfPlaceholder stands in for the visitor's CSRF token in a cached page;
// it is swapped for the real token when served. Only characters that
// html/template writes as they are (a NUL would come out as U+FFFD and never
// be found again), and no token's shape (those have one dot).
const csrfPlaceholder = "sportello.csrf.placeholder.5f1c9a"

func newPageCache(ttl time.Duration, max int) *pageCache {
	return &pageCache{ttl: ttl, max: max, entries: map[pageKey]cachedPage{}}
}

// get returns the page with the visitor's CSRF token, asked of token only
// when the page holds a form.
func (pc *pageCache) get(k pageKey, token func() string) ([]byte, bool) {
	pc.mu.Lock()
	e, ok := pc.entries[k]
	pc.mu.Unlock()
	if !ok || time.Since(e.stored) > pc.ttl {
		return nil, false
	}
	return withCSRF(e.body, token), true
}

func withCSRF(body []byte, token func() string) []byte {
	if !bytes.Contains(body, []byte(csrfPlaceholder)) {
		return body
	}
	return bytes.ReplaceAll(body, []byte(csrfPlaceholder), []byte(token()))
}

func (pc *pageCache) put(k pageKey, body []byte) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	now := time.Now()
	// Expired pages go once per ttl: what stays is what was served lately,
	// not every town a crawler ever walked through (7,904 home pages are
	// some 150 MB).
	if now.Sub(pc.swept) > pc.ttl {
		for k, e := range pc.entries {
			if now.Sub(e.stored) > pc.ttl {
				delete(pc.entries, k)
			}
		}
		pc.swept = now
	}
	if len(pc.entries) >= pc.max {
		// Rare (thousands of towns × languages): start afresh rather than
		// keep bookkeeping for an LRU on the hot path.
		pc.entries = map[pageKey]cachedPage{}
	}
	pc.entries[k] = cachedPage{body: body, stored: now}
}
