// Command sportello is the one binary of the platform: it serves the
// portals, migrates the database, and manages tenants.
//
//	sportello serve [--demo]          serve on SPORTELLO_ADDR (127.0.0.1:8080)
//	sportello migrate                 apply the database migrations
//	sportello tenant apply -f FILE    create or update tenants from manifests
//	sportello tenant import --csv F   create the municipalities of an ISTAT list
//	sportello tenant list [--json]    list tenants
//	sportello tenant certificate SLUG the tenant's signing certificate
//	sportello signing-ca              the platform's signing CA
//	sportello platform-user add ...   create a platform staff account
//	sportello plugin register|list    the catalogue of plugin binaries
//	sportello appointments api-key …  keys of the offices' queue systems
//	sportello open311 api-key …       keys of the apps filing Open311 reports
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: sportello <command> [flags]

commands:
  serve [--demo]                 serve the portals (the demo also loads tenants/ and
                                 starts the development identity provider)
  migrate                        apply the database migrations
  tenant apply -f FILE|DIR ...   create or update tenants from YAML manifests
  tenant import --csv FILE       create or update towns from a list of municipalities
                                 (istat_code,name,province,region,population); a re-run
                                 resumes an interrupted import and changes nothing twice
  tenant list [--json]           list the tenants
  tenant certificate SLUG [--import FILE [--password-env VAR]]
                                 show the certificate a tenant signs documents with, or
                                 import the town's own (PKCS #12, or PEM with the key)
  signing-ca                     print the platform's signing CA (PEM), for PDF readers
                                 to trust
  platform-user add --email E --name N
                                 create a platform staff account (password from
                                 SPORTELLO_PASSWORD or standard input)
  plugin register --all | ID...  trust the plugin binaries of SPORTELLO_PLUGIN_DIR as
                                 they are now (their SHA-256 is pinned)
  plugin list [--json]           id, version, sha256, status and pid of each plugin
  appointments api-key create --tenant T --office O [--label L]
                                 issue a key for an office's queue system (printed once)
  appointments api-key revoke --tenant T --id N
                                 stop a queue system's key from working
  open311 api-key create --tenant T [--label L]
                                 issue a key for an app filing Open311 reports (printed once)
  open311 api-key revoke --tenant T --id N
                                 stop an Open311 app's key from working
  reminders import-id-cards --tenant T --csv FILE
                                 import identity cards' expiry dates
                                 (fiscal_code,expires_on[,email][,phone]); a re-run changes
                                 nothing twice
  reminders template list|set|reset --tenant T [--kind K --lang L --subject S
                                 --body-file F [--sms S]]
                                 a town's own texts of its reminders, per kind and language
  reminders run                  queue the reminders due now (serve does it by itself)
  privacy purge --tenant T       delete a town's closed requests past their retention
                                 (serve does it by itself every 6 hours)

environment: see README.md (SPORTELLO_ADDR, SPORTELLO_DATABASE_URL, ...)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:])
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "sportello: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "sportello: %v\n", err)
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("no command")
	}
	env := loadEnv()
	switch args[0] {
	case "serve":
		return serve(ctx, env, args[1:])
	case "migrate":
		return migrate(ctx, env)
	case "tenant":
		if len(args) < 2 {
			return usageError("tenant needs a subcommand: apply, import, list or certificate")
		}
		switch args[1] {
		case "apply":
			return tenantApply(ctx, env, args[2:])
		case "import":
			return tenantImport(ctx, env, args[2:])
		case "list":
			return tenantList(ctx, env, args[2:])
		case "certificate":
			return tenantCertificate(ctx, env, args[2:])
		}
		return usageError("unknown tenant subcommand " + args[1])
	case "plugin":
		return pluginCommand(ctx, env, args[1:])
	case "appointments":
		return appointmentsCommand(ctx, env, args[1:])
	case "open311":
		return open311Command(ctx, env, args[1:])
	case "reminders":
		return remindersCommand(ctx, env, args[1:])
	case "privacy":
		return privacyCommand(ctx, env, args[1:])
	case "platform-user":
		if len(args) < 2 || args[1] != "add" {
			return usageError("platform-user needs the subcommand add")
		}
		return platformUserAdd(ctx, env, args[2:])
	case "signing-ca":
		return signingCA(ctx, env)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return usageError("unknown command " + args[0])
}
