package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/notify"
	"github.com/sportello/sportello/web"
)

// remindersCommand feeds the reminder job and words its messages:
//
//	reminders import-id-cards --tenant SLUG --csv FILE
//	reminders template list|set|reset --tenant SLUG [--kind K --lang L …]
//	reminders run
//
// A town's own texts are kept in the database rather than in its
// tenants/*.yaml: the manifest is re-applied whole by `tenant apply`, and
// an office that rewords a reminder should not need a deployment.
func remindersCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError("reminders needs import-id-cards, template or run")
	}
	switch args[0] {
	case "import-id-cards":
		return importIDCards(ctx, e, args[1:])
	case "template":
		if len(args) < 2 || (args[1] != "list" && args[1] != "set" && args[1] != "reset") {
			return usageError("reminders template needs list, set or reset")
		}
		return reminderTemplate(ctx, e, args[1], args[2:])
	case "run":
		return remindersRun(ctx, e)
	}
	return usageError("unknown reminders subcommand " + args[0])
}

// inTown opens the database and runs fn in the town slug.
func inTown(ctx context.Context, e env, slug string, fn func(ctx context.Context, tx bun.Tx, tenantID int64) error) error {
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	var tenantID int64
	if err := d.App.NewRaw("SELECT id FROM tenants WHERE slug = ?", slug).Scan(ctx, &tenantID); err != nil {
		return fmt.Errorf("tenant %s: not found", slug)
	}
	return d.App.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx, tenantID) })
}

func importIDCards(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("reminders import-id-cards", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "the town's slug")
	file := fs.String("csv", "", "the CSV: fiscal_code,expires_on[,email][,phone]")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if *tenant == "" || *file == "" {
		return usageError("reminders import-id-cards needs --tenant and --csv")
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	cards, err := notify.ParseIDCards(f)
	var rows notify.RowErrors
	if errors.As(err, &rows) {
		return fmt.Errorf("%s: nothing imported, %d line(s) to correct:\n%w", *file, len(rows), err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	var res notify.ImportResult
	err = inTown(ctx, e, *tenant, func(ctx context.Context, tx bun.Tx, tenantID int64) error {
		res, err = notify.ImportIDCards(ctx, tx, tenantID, cards)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d identity cards: %d added, %d updated, %d unchanged\n", *tenant, len(cards), res.Added, res.Updated, res.Unchanged)
	return nil
}

func reminderTemplate(ctx context.Context, e env, verb string, args []string) error {
	fs := flag.NewFlagSet("reminders template "+verb, flag.ContinueOnError)
	tenant := fs.String("tenant", "", "the town's slug")
	kind := fs.String("kind", "", "the message: "+strings.Join(notify.Kinds(), ", "))
	lang := fs.String("lang", "", "the language: it, de, en")
	subject := fs.String("subject", "", "the e-mail's subject (set)")
	bodyFile := fs.String("body-file", "", "a file with the e-mail's text (set)")
	sms := fs.String("sms", "", "the SMS text; empty keeps the default (set)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if *tenant == "" || (verb != "list" && (*kind == "" || *lang == "")) || (verb == "set" && (*subject == "" || *bodyFile == "")) {
		return usageError("reminders template list needs --tenant; reset needs --tenant, --kind, --lang; set also --subject and --body-file")
	}
	return inTown(ctx, e, *tenant, func(ctx context.Context, tx bun.Tx, tenantID int64) error {
		switch verb {
		case "list":
			list, err := notify.Templates(ctx, tx, tenantID)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Printf("%s uses the default texts for every kind (%s)\n", *tenant, strings.Join(notify.Kinds(), ", "))
			}
			for _, o := range list {
				fmt.Printf("%s/%s: %s\n", o.Kind, o.Lang, o.Subject)
			}
			return nil
		case "reset":
			had, err := notify.ResetTemplate(ctx, tx, tenantID, *kind, *lang)
			if err != nil {
				return err
			}
			if had {
				fmt.Printf("%s %s/%s: back to the default text\n", *tenant, *kind, *lang)
			} else {
				fmt.Printf("%s %s/%s: had no text of its own\n", *tenant, *kind, *lang)
			}
			return nil
		}
		body, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		o := notify.Override{Kind: *kind, Lang: *lang, Texts: notify.Texts{Subject: *subject, Body: string(body), SMS: *sms}}
		if err := notify.SetTemplate(ctx, tx, tenantID, o); err != nil {
			return err
		}
		fmt.Printf("%s %s/%s: own text stored\n", *tenant, *kind, *lang)
		return nil
	})
}

// remindersRun queues the reminders due now once; `serve` does it every
// few minutes by itself.
func remindersRun(ctx context.Context, e env) error {
	log := newLogger(e)
	d, err := openDatabase(ctx, e, log)
	if err != nil {
		return err
	}
	defer d.Close()
	cat, err := i18n.New(web.LocalesFS())
	if err != nil {
		return err
	}
	n, err := notify.NewReminders(d.App, notify.ReminderOptions{Catalog: cat, Log: log}).RunOnce(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%d reminders queued\n", n)
	return nil
}
