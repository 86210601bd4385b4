package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sportello/sportello/core/open311"
)

// open311Command manages the keys of the apps a town lets file reports
// through its Open311 interface: a key is issued for one town and printed
// once; only its hash is kept.
func open311Command(ctx context.Context, e env, args []string) error {
	if len(args) < 2 || args[0] != "api-key" || (args[1] != "create" && args[1] != "revoke") {
		return usageError("open311 needs api-key create or api-key revoke")
	}
	fs := flag.NewFlagSet("open311 api-key "+args[1], flag.ContinueOnError)
	tenant := fs.String("tenant", "", "the town's slug")
	label := fs.String("label", "", "what the key is for, e.g. the app's name (create)")
	id := fs.Int64("id", 0, "the key's id (revoke)")
	if err := fs.Parse(args[2:]); err != nil {
		return usageError(err.Error())
	}
	if *tenant == "" || (args[1] == "revoke" && *id <= 0) {
		return usageError("open311 api-key create needs --tenant; revoke needs --tenant and --id")
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
	keys := open311.NewKeys(d.App)
	if args[1] == "revoke" {
		err := keys.Revoke(ctx, tenantID, *id)
		if errors.Is(err, open311.ErrKeyUnknown) {
			return fmt.Errorf("key %d of %s: not found", *id, *tenant)
		}
		if err != nil {
			return err
		}
		fmt.Printf("key %d of %s revoked\n", *id, *tenant)
		return nil
	}
	key, keyID, err := keys.Issue(ctx, tenantID, *label)
	if err != nil {
		return err
	}
	fmt.Printf("key %d for %s (shown only now; send it as the api_key parameter):\n%s\n", keyID, *tenant, key)
	return nil
}
