package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

// appointmentsCommand manages the keys of the offices' queue-management
// systems: a key is issued for one office of one town and printed once;
// only its hash is kept.
func appointmentsCommand(ctx context.Context, e env, args []string) error {
	if len(args) < 2 || args[0] != "api-key" || (args[1] != "create" && args[1] != "revoke") {
		return usageError("appointments needs api-key create or api-key revoke")
	}
	fs := flag.NewFlagSet("appointments api-key "+args[1], flag.ContinueOnError)
	tenant := fs.String("tenant", "", "the town's slug")
	office := fs.String("office", "", "the office's slug (create)")
	label := fs.String("label", "", "what the key is for, e.g. the totem at the entrance (create)")
	id := fs.Int64("id", 0, "the key's id (revoke)")
	if err := fs.Parse(args[2:]); err != nil {
		return usageError(err.Error())
	}
	if *tenant == "" || (args[1] == "create" && *office == "") || (args[1] == "revoke" && *id <= 0) {
		return usageError("appointments api-key create needs --tenant and --office; revoke needs --tenant and --id")
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
	messages, err := i18n.New(web.LocalesFS())
	if err != nil {
		return err
	}
	secret, err := d.App.Secret(ctx, "appointments", 32)
	if err != nil {
		return err
	}
	svc, err := appointment.New(d.App, booking.New(d.App, nil), appointment.Options{Secret: secret, Messages: messages})
	if err != nil {
		return err
	}
	if args[1] == "revoke" {
		if err := svc.RevokeKey(ctx, tenantID, *id); err != nil {
			return err
		}
		fmt.Printf("key %d of %s revoked\n", *id, *tenant)
		return nil
	}
	key, keyID, err := svc.IssueKey(ctx, tenantID, *office, *label)
	if err != nil {
		return err
	}
	fmt.Printf("key %d for %s/%s (shown only now; send it as \"Authorization: Bearer <key>\"):\n%s\n", keyID, *tenant, *office, key)
	return nil
}
