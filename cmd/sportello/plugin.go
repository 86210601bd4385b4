package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/pluginhost"
)

// pluginDir is where the plugin binaries are: SPORTELLO_PLUGIN_DIR, else
// bin/plugins (where `make build` puts them).
func pluginDir() string {
	if d := strings.TrimSpace(os.Getenv("SPORTELLO_PLUGIN_DIR")); d != "" {
		return d
	}
	return "bin/plugins"
}

// pluginCommand is `sportello plugin list|register`.
func pluginCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError("plugin needs a subcommand: list or register")
	}
	switch args[0] {
	case "list":
		return pluginList(ctx, e, args[1:])
	case "register":
		return pluginRegister(ctx, e, args[1:])
	}
	return usageError("unknown plugin subcommand " + args[0])
}

// pluginRow is a plugin as `plugin list` shows it.
type pluginRow struct {
	ID        string    `json:"id"`
	File      string    `json:"file"`
	Version   string    `json:"version"`
	SHA256    string    `json:"sha256"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	PID       int       `json:"pid"`
	UpdatedAt time.Time `json:"updated_at"`
}

// pluginList prints the catalogue. Status and pid are what the host running
// the plugins recorded. A host refreshes a live plugin's record every
// pluginhost.Heartbeat; a live status (starting, running, restarting) that
// has not been refreshed for three heartbeats was left by a host that is
// gone without saying so (killed, or its machine lost), and shows as
// "stopped" with no pid: its plugins died with it.
func pluginList(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("plugin list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	recs, err := catalog.New(d.App).List(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	rows := []pluginRow{}
	for _, r := range recs {
		row := pluginRow{ID: r.ID, File: r.File, Version: r.Version, SHA256: r.SHA256, Status: r.Status,
			Reason: r.StatusReason, PID: r.PID, UpdatedAt: r.UpdatedAt}
		if r.Status != catalog.StatusRunning && r.Status != catalog.StatusStarting && r.Status != catalog.StatusRestarting {
			row.PID = 0
		} else if !pluginhost.Live(r, now) {
			row.Status, row.PID = catalog.StatusStopped, 0
			row.Reason = fmt.Sprintf("recorded %s by a host not heard from since %s", r.Status, r.UpdatedAt.Format(time.RFC3339))
		}
		rows = append(rows, row)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tVERSION\tSHA256\tSTATUS\tPID\tREASON")
	for _, r := range rows {
		pid := "-"
		if r.PID > 0 {
			pid = fmt.Sprint(r.PID)
		}
		version := r.Version
		if version == "" {
			version = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, version, r.SHA256[:12], r.Status, pid, r.Reason)
	}
	return w.Flush()
}

var pluginFileRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`) // as catalog_plugins.id

// pluginRegister pins the binaries of the plugin folder: their SHA-256
// becomes what every start is checked against. Registering a binary again
// (a new build) pins the new one; a running host picks it up at the
// plugin's next Restart.
func pluginRegister(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("plugin register", flag.ContinueOnError)
	all := fs.Bool("all", false, "register every binary in the plugin folder")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	ids := fs.Args()
	if *all == (len(ids) > 0) {
		return usageError("plugin register needs either --all or plugin ids")
	}
	dir := pluginDir()
	if *all {
		var err error
		if ids, err = pluginFiles(dir); err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("no plugin binaries in %s (build them with make build, or set SPORTELLO_PLUGIN_DIR)", dir)
		}
	}
	// All or nothing: a typo in the last id should not leave the first
	// ones pinned.
	for _, id := range ids {
		if !pluginFileRe.MatchString(id) {
			return fmt.Errorf("plugin %q: an id is lower-case letters, digits, - and _ (the binary's file name)", id)
		}
		if _, err := os.Stat(filepath.Join(dir, id)); err != nil {
			return fmt.Errorf("plugin %s: %w (SPORTELLO_PLUGIN_DIR is %s)", id, err, dir)
		}
	}
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	cat := catalog.New(d.App)
	for _, id := range ids {
		verb, rec, err := registerPlugin(ctx, cat, dir, id)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %s (sha256 %s)\n", rec.ID, verb, rec.SHA256)
	}
	return nil
}

// registerPlugin pins dir/id and says whether that was new, an update or
// no change.
func registerPlugin(ctx context.Context, cat *catalog.Catalog, dir, id string) (string, *catalog.Record, error) {
	before, err := cat.Get(ctx, id)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return "", nil, err
	}
	rec, err := cat.Register(ctx, dir, id)
	if err != nil {
		return "", nil, err
	}
	switch {
	case before == nil:
		return "registered", rec, nil
	case before.SHA256 != rec.SHA256:
		return "updated", rec, nil
	}
	return "unchanged", rec, nil
}

// pluginFiles are the executable files of dir named like plugin ids.
func pluginFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugin folder: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if !pluginFileRe.MatchString(e.Name()) {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			continue
		}
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	return ids, nil
}
