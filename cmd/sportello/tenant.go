package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func tenantApply(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("tenant apply", flag.ContinueOnError)
	var files stringList
	fs.Var(&files, "f", "manifest file or folder (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 {
		return usageError("tenant apply needs -f FILE")
	}
	log := newLogger(e)
	// Every manifest is checked before anything is written.
	paths, err := manifestFiles(files)
	if err != nil {
		return err
	}
	manifests, err := loadManifests(paths)
	if err != nil {
		return err
	}
	d, err := openDatabase(ctx, e, log)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, m := range manifests {
		res, err := tenancy.Apply(ctx, d.App, authn.Argon2{}, m)
		if err != nil {
			return err
		}
		if err := appointment.Apply(ctx, d.App, booking.New(d.App, nil), m); err != nil {
			return err
		}
		verb := "unchanged"
		switch {
		case res.Created:
			verb = "created"
		case res.Changed:
			verb = "updated"
		}
		fmt.Printf("%s: %s (id %d)\n", m.Slug, verb, res.TenantID)
	}
	return nil
}

func loadManifests(paths []string) ([]*tenancy.Manifest, error) {
	var out []*tenancy.Manifest
	for _, p := range paths {
		m, err := tenancy.LoadManifest(p)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// applyDir applies every manifest of dir, for the demo.
func applyDir(ctx context.Context, e env, db *store.DB, dir string, log *slog.Logger) ([]*tenancy.Manifest, error) {
	paths, err := manifestFiles([]string{dir})
	if err != nil {
		return nil, err
	}
	manifests, err := loadManifests(paths)
	if err != nil {
		return nil, err
	}
	for _, m := range manifests {
		res, err := tenancy.Apply(ctx, db, authn.Argon2{}, m)
		if err != nil {
			return nil, err
		}
		if err := appointment.Apply(ctx, db, booking.New(db, nil), m); err != nil {
			return nil, err
		}
		if res.Changed {
			log.Info("tenant applied", "tenant", m.Slug, "created", res.Created)
		}
	}
	return manifests, nil
}

func tenantList(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("tenant list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	reg := tenancy.NewRegistry(d.App, e.baseDomain)
	if err := reg.Reload(ctx); err != nil {
		return err
	}
	type row struct {
		ID      int64    `json:"id"`
		Slug    string   `json:"slug"`
		Name    string   `json:"name"`
		Domains []string `json:"domains"`
	}
	rows := []row{}
	for _, t := range reg.List() {
		domains := append([]string{t.Slug + "." + e.baseDomain}, t.Domains...)
		rows = append(rows, row{ID: t.ID, Slug: t.Slug, Name: t.Name, Domains: domains})
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSLUG\tNAME\tDOMAINS")
	for _, r := range rows {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", r.ID, r.Slug, r.Name, strings.Join(r.Domains, " "))
	}
	return w.Flush()
}

func platformUserAdd(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("platform-user add", flag.ContinueOnError)
	email := fs.String("email", "", "e-mail address (the login)")
	name := fs.String("name", "", "full name")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if *email == "" || *name == "" {
		return usageError("platform-user add needs --email and --name")
	}
	password := os.Getenv("SPORTELLO_PASSWORD")
	if password == "" {
		fmt.Fprint(os.Stderr, "password: ")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		password = strings.TrimRight(line, "\r\n")
	}
	if len(password) < 12 {
		return fmt.Errorf("the password must be at least 12 characters")
	}
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	return ensurePlatformUser(ctx, d.App, *email, *name, password)
}

// ensurePlatformUser creates the account, or sets its name and password.
func ensurePlatformUser(ctx context.Context, db *store.DB, email, name, password string) error {
	email = authn.NormalizeEmail(email)
	var hash string
	err := db.NewRaw("SELECT password_hash FROM platform_users WHERE email = ?", email).Scan(ctx, &hash)
	if err == nil && (authn.Argon2{}).Verify(password, hash) {
		return nil
	}
	if hash, err = authn.HashPassword(password); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO platform_users (email, name, password_hash) VALUES (?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash`, email, name, hash)
	if err != nil {
		return fmt.Errorf("save platform user %s: %w", email, err)
	}
	return nil
}
