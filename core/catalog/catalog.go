// Package catalog holds the platform's catalogue of service plugins — which
// binaries are trusted, by SHA-256, and what each says of itself — and each
// town's path to a service: request, approval, configuration, publication.
package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Plugin statuses, as the platform console shows them.
const (
	StatusRegistered = "registered"
	StatusStarting   = "starting"
	StatusRunning    = "running"
	StatusRestarting = "restarting"
	StatusFailed     = "failed"  // crashed too often; not restarted
	StatusRefused    = "refused" // binary missing or its SHA-256 differs
	StatusStopped    = "stopped"
)

// ErrNotFound is an unknown plugin or service.
var ErrNotFound = errors.New("not in the catalogue")

var fileRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)

// Record is one plugin of the catalogue.
type Record struct {
	ID           string
	File         string
	SHA256       string
	Version      string
	Manifest     *pb.Manifest // nil until the plugin has started once
	Status       string
	StatusReason string
	PID          int
	UpdatedAt    time.Time
}

// Catalog reads and writes the catalogue.
type Catalog struct {
	db *store.DB

	// The records as last read, decoded, and the row versions they were
	// read at: pages read the catalogue on almost every request, and its
	// manifests are large (hundreds of kilobytes of jsonb to send and
	// decode), while it changes only when a plugin is registered, starts
	// or stops.
	mu    sync.Mutex
	stamp string
	recs  []Record
}

// stampQuery names every row's current version (xmin and ctid change with
// each insert and update) without reading the manifests.
const stampQuery = `SELECT coalesce(string_agg(id || ' ' || xmin::text || ' ' || ctid::text, ',' ORDER BY id), '') FROM catalog_plugins`

// New returns the catalogue on db.
func New(db *store.DB) *Catalog { return &Catalog{db: db} }

// FileSHA256 hashes a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Register trusts the binary dir/file as it is now: its SHA-256 becomes the
// catalogue record against which every start is checked. The plugin id is
// the file name. Registering again (a new build) records the new hash.
func (c *Catalog) Register(ctx context.Context, dir, file string) (*Record, error) {
	if !fileRe.MatchString(file) {
		return nil, fmt.Errorf("register %q: a plugin file is named like its id (lower-case letters, digits, - and _)", file)
	}
	sum, err := FileSHA256(filepath.Join(dir, file))
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", file, err)
	}
	_, err = c.db.ExecContext(ctx, `INSERT INTO catalog_plugins (id, file, sha256) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET file = excluded.file, sha256 = excluded.sha256,
			status = CASE WHEN catalog_plugins.sha256 = excluded.sha256 THEN catalog_plugins.status ELSE 'registered' END,
			updated_at = now()`, file, file, sum)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", file, err)
	}
	return c.Get(ctx, file)
}

type recordRow struct {
	ID           string    `bun:"id"`
	File         string    `bun:"file"`
	SHA256       string    `bun:"sha256"`
	Version      string    `bun:"version"`
	Manifest     []byte    `bun:"manifest"`
	Status       string    `bun:"status"`
	StatusReason string    `bun:"status_reason"`
	PID          int       `bun:"pid"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

const recordColumns = "id, file, sha256, version, manifest, status, status_reason, pid, updated_at"

func (r recordRow) record() (*Record, error) {
	rec := &Record{ID: r.ID, File: r.File, SHA256: r.SHA256, Version: r.Version, Status: r.Status,
		StatusReason: r.StatusReason, PID: r.PID, UpdatedAt: r.UpdatedAt}
	if len(r.Manifest) > 2 {
		rec.Manifest = &pb.Manifest{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(r.Manifest, rec.Manifest); err != nil {
			return nil, fmt.Errorf("manifest of %s: %w", r.ID, err)
		}
	}
	return rec, nil
}

// Get returns one plugin's record.
func (c *Catalog) Get(ctx context.Context, id string) (*Record, error) {
	recs, err := c.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", id, err)
	}
	for _, r := range recs {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, fmt.Errorf("plugin %s: %w", id, ErrNotFound)
}

// List returns every plugin, by id. Each call gets its own records (the
// manifests are shared: treat them as read-only).
func (c *Catalog) List(ctx context.Context) ([]*Record, error) {
	var stamp string
	if err := c.db.NewRaw(stampQuery).Scan(ctx, &stamp); err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	c.mu.Lock()
	if c.recs != nil && c.stamp == stamp {
		out := copies(c.recs)
		c.mu.Unlock()
		return out, nil
	}
	c.mu.Unlock()
	var rows []recordRow
	if err := c.db.NewRaw("SELECT "+recordColumns+" FROM catalog_plugins ORDER BY id").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	recs := make([]Record, 0, len(rows))
	for _, r := range rows {
		rec, err := r.record()
		if err != nil {
			return nil, err
		}
		recs = append(recs, *rec)
	}
	// Stored under the stamp read before them: a change in between
	// makes the next call read again.
	c.mu.Lock()
	c.recs, c.stamp = recs, stamp
	c.mu.Unlock()
	return copies(recs), nil
}

func copies(recs []Record) []*Record {
	out := make([]*Record, len(recs))
	for i := range recs {
		r := recs[i]
		out[i] = &r
	}
	return out
}

// SetStatus records what the supervisor sees of a plugin.
func (c *Catalog) SetStatus(ctx context.Context, id, status, reason string, pid int) error {
	_, err := c.db.ExecContext(ctx, "UPDATE catalog_plugins SET status = ?, status_reason = ?, pid = ?, updated_at = now() WHERE id = ?",
		status, reason, pid, id)
	if err != nil {
		return fmt.Errorf("status of plugin %s: %w", id, err)
	}
	return nil
}

// SetManifest records what a started plugin said of itself.
func (c *Catalog) SetManifest(ctx context.Context, id string, m *pb.Manifest) error {
	data, err := protojson.Marshal(m)
	if err != nil {
		return fmt.Errorf("manifest of plugin %s: %w", id, err)
	}
	_, err = c.db.ExecContext(ctx, "UPDATE catalog_plugins SET manifest = ?, version = ?, updated_at = now() WHERE id = ?",
		string(data), m.GetVersion(), id)
	if err != nil {
		return fmt.Errorf("manifest of plugin %s: %w", id, err)
	}
	return nil
}
