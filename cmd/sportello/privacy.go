package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/privacy"
)

// privacyCommand runs the retention purge by hand: a town's closed
// dossiers older than their service's retention are deleted now rather
// than at the next periodic run.
//
//	sportello privacy purge --tenant SLUG
func privacyCommand(ctx context.Context, e env, args []string) error {
	if len(args) < 1 || args[0] != "purge" {
		return usageError("privacy needs purge")
	}
	fs := flag.NewFlagSet("privacy purge", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "the town's slug")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	if *tenant == "" {
		return usageError("privacy purge needs --tenant")
	}
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	var tenantID int64
	if err := d.App.NewRaw("SELECT id FROM tenants WHERE slug = ?", *tenant).Scan(ctx, &tenantID); err != nil {
		return fmt.Errorf("tenant %s: not found", *tenant)
	}
	recs, err := catalog.New(d.App).List(ctx)
	if err != nil {
		return err
	}
	n, err := privacy.New(d.App).Purge(ctx, tenantID, privacy.FinalStatuses(recs))
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d closed dossiers past their retention deleted\n", *tenant, n)
	return nil
}
