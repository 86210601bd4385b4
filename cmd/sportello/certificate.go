package main

import (
	"context"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/tenancy"
)

// tenantCertificate shows the certificate a tenant signs its documents
// with (issuing one from the platform CA if it has none), or imports the
// town's own: a PKCS #12 file whose password is in the environment
// variable --password-env, or a PEM file with the certificate, its key
// and its issuers.
func tenantCertificate(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("tenant certificate", flag.ContinueOnError)
	importFile := fs.String("import", "", "PKCS #12 or PEM file to import")
	passwordEnv := fs.String("password-env", "", "environment variable holding the PKCS #12 password")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() != 1 {
		return usageError("tenant certificate needs one tenant slug")
	}
	slug := fs.Arg(0)
	var data []byte
	if *importFile != "" {
		var err error
		if data, err = os.ReadFile(*importFile); err != nil {
			return err
		}
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
	var tenantID int64
	for _, t := range reg.List() {
		if t.Slug == slug {
			tenantID = t.ID
		}
	}
	if tenantID == 0 {
		return fmt.Errorf("no tenant %q", slug)
	}
	signer := docsign.New(d.App, nil)
	var c *docsign.Certificate
	if data != nil {
		c, err = signer.Import(ctx, tenantID, data, os.Getenv(*passwordEnv))
	} else {
		c, err = signer.EnsureCertificate(ctx, tenantID)
	}
	if err != nil {
		return err
	}
	fmt.Printf("tenant:     %s\nsubject:    %s\nsource:     %s\nvalid:      %s to %s\nsha256:     %s\n",
		slug, c.Subject, c.Source, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), c.SHA256)
	for _, issuer := range c.Chain[1:] {
		fmt.Printf("issued by:  %s\n", issuer.Subject)
	}
	return nil
}

// signingCA prints the platform's signing CA as PEM: PDF readers that
// trust it show the towns' platform certificates as trusted.
func signingCA(ctx context.Context, e env) error {
	d, err := openDatabase(ctx, e, newLogger(e))
	if err != nil {
		return err
	}
	defer d.Close()
	ca, err := docsign.New(d.App, nil).CA(ctx)
	if err != nil {
		return err
	}
	return pem.Encode(os.Stdout, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
}
