package docsign_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/sportello/sportello/core/docsign"
)

func (e *env) certificates(tenant int64) int {
	e.t.Helper()
	var n int
	err := e.db.App.InTenant(ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM tenant_certificates").Scan(&n)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// A tenant's certificate is made once, on first use, even when its first
// documents are signed at the same moment; it is renewed shortly before
// it expires.
func TestEnsureCertificate(t *testing.T) {
	e := newEnv(t)
	venezia := e.tenant("venezia", "Comune di Venezia")
	if n := e.certificates(venezia); n != 0 {
		t.Fatalf("%d certificates before any use", n)
	}

	var wg sync.WaitGroup
	got := make([]*docsign.Certificate, 4)
	errs := make([]error, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.s.EnsureCertificate(ctx, venezia)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i].ID != got[0].ID {
			t.Errorf("concurrent first uses made certificates %d and %d", got[0].ID, got[i].ID)
		}
	}
	if n := e.certificates(venezia); n != 1 {
		t.Errorf("%d certificates, want 1", n)
	}
	c := got[0]
	if c.Source != docsign.SourcePlatform || c.Subject != "SERIALNUMBER=venezia,CN=Comune di Venezia,O=Comune di Venezia" ||
		len(c.Chain) != 2 || c.Leaf().NotAfter.Sub(c.Leaf().NotBefore) < 2*365*24*time.Hour {
		t.Errorf("certificate %+v", c)
	}
	again, err := e.s.EnsureCertificate(ctx, venezia)
	if err != nil || again.ID != c.ID {
		t.Errorf("second use: %v, %v; want certificate %d again", again, err, c.ID)
	}

	// A month before it ends, the next document gets a new certificate.
	e.now = c.NotAfter.Add(-20 * 24 * time.Hour)
	renewed, err := e.s.EnsureCertificate(ctx, venezia)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.ID == c.ID || !renewed.NotAfter.After(c.NotAfter) {
		t.Errorf("near its end: certificate %d until %s, before %d until %s", renewed.ID, renewed.NotAfter, c.ID, c.NotAfter)
	}
}

// Tenants are kept apart: a tenant's signature is made with its own
// certificate; another tenant's certificate rows are invisible and cannot
// be written (row-level security); a sealed key copied into another
// tenant does not open there.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	lugano := e.tenant("lugano", "Città di Lugano")
	venezia := e.tenant("venezia", "Comune di Venezia")
	a, err := e.s.EnsureCertificate(ctx, lugano)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.s.Sign(ctx, venezia, document(t, concession), docsign.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if p7 := lastCMS(t, out); p7.Certificates[0].Subject.CommonName != "Comune di Venezia" || p7.Certificates[0].Equal(a.Leaf()) {
		t.Errorf("Venezia signed with %s", p7.Certificates[0].Subject)
	}

	err = e.db.App.InTenant(ctx, venezia, func(ctx context.Context, tx bun.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tenant_certificates WHERE tenant_id = ?", lugano).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("Venezia sees %d of Lugano's certificates", n)
		}
		res, err := tx.ExecContext(ctx, "UPDATE tenant_certificates SET not_after = now() WHERE tenant_id = ?", lugano)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 0 {
			t.Errorf("Venezia changed %d of Lugano's certificates", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.db.App.InTenant(ctx, venezia, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_certificates
			(tenant_id, subject, certificate_pem, sha256, private_key, source, not_before, not_after)
			VALUES (?, 'x', '-----BEGIN CERTIFICATE-----', repeat('a', 64), repeat('k', 40)::bytea, 'imported', now(), now() + interval '1 day')`, lugano)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("Venezia wrote a certificate for Lugano: %v", err)
	}

	// Lugano's row, key included, lands in a third tenant (a bad restore,
	// a hand-made copy): the key does not open, nothing is signed.
	trezzo := e.tenant("trezzo", "Comune di Trezzo sull'Adda")
	if _, err := e.db.Owner.ExecContext(ctx, `INSERT INTO tenant_certificates
		(tenant_id, subject, certificate_pem, sha256, private_key, source, not_before, not_after)
		SELECT ?, subject, certificate_pem, sha256, private_key, 'imported', not_before, not_after
		FROM tenant_certificates WHERE tenant_id = ?`, trezzo, lugano); err != nil {
		t.Fatal(err)
	}
	if out, err := e.s.Sign(ctx, trezzo, document(t, concession), docsign.Meta{}); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("signed with a key copied from another tenant: %d bytes, %v", len(out), err)
	}
}

// issuer is a certification authority of a test: a town's own provider.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Qualified CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &issuer{cert: cert, key: key}
}

// issue makes a certificate for key, changed by edit.
func (is *issuer) issue(t *testing.T, key crypto.Signer, edit func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "Comune di Lugano – Sigillo"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, is.cert, key.Public(), is.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func pemOf(t *testing.T, key crypto.Signer, certs ...*x509.Certificate) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		_ = pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	return buf.Bytes()
}

// An operator imports the town's own certificate (PEM or PKCS #12); it
// signs from then on, with its chain. What cannot sign is refused.
func TestImport(t *testing.T) {
	is := newIssuer(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	weakKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := is.issue(t, ecKey, nil)
	goodRSA := is.issue(t, rsaKey, nil)
	p12, err := pkcs12.Modern.Encode(rsaKey, goodRSA, []*x509.Certificate{is.cert}, "segreto")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		data     []byte
		password string
		bad      string // part of the error; "" imports
	}{
		{name: "PEM, issuer first, ECDSA", data: pemOf(t, ecKey, is.cert, good)},
		{name: "PKCS #12, RSA", data: p12, password: "segreto"},
		{name: "PKCS #12, wrong password", data: p12, password: "sbagliato", bad: "PKCS #12"},
		{name: "key of another certificate", data: pemOf(t, otherKey, good, is.cert), bad: "no certificate matches"},
		{name: "no key", data: pemOf(t, nil, good), bad: "no private key"},
		{name: "expired", data: pemOf(t, ecKey, is.issue(t, ecKey, func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
		})), bad: "valid from"},
		{name: "not for signing", data: pemOf(t, ecKey, is.issue(t, ecKey, func(c *x509.Certificate) {
			c.KeyUsage = x509.KeyUsageKeyEncipherment
		})), bad: "digital signatures"},
		{name: "weak RSA key", data: pemOf(t, weakKey, is.issue(t, weakKey, nil)), bad: "at least 2048"},
		{name: "not a certificate", data: []byte("-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n"), bad: "no certificate"},
		{name: "garbage", data: []byte{0x30, 0x03, 0x02, 0x01}, bad: "PKCS #12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			lugano := e.tenant("lugano", "Città di Lugano")
			before, err := e.s.EnsureCertificate(ctx, lugano)
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.s.Import(ctx, lugano, tc.data, tc.password)
			if tc.bad != "" {
				if !errors.Is(err, docsign.ErrBadCertificate) || !strings.Contains(err.Error(), tc.bad) {
					t.Errorf("got %v, want ErrBadCertificate with %q", err, tc.bad)
				}
				if n := e.certificates(lugano); n != 1 {
					t.Errorf("%d certificates after a refused import", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != docsign.SourceImported || len(c.Chain) != 2 || !c.Chain[1].Equal(is.cert) {
				t.Fatalf("imported %+v", c)
			}
			now, err := e.s.EnsureCertificate(ctx, lugano)
			if err != nil || now.ID != c.ID || now.ID == before.ID {
				t.Fatalf("in use: %+v, %v; want the imported %d", now, err, c.ID)
			}
			out, err := e.s.Sign(ctx, lugano, document(t, concession), concessionMeta)
			if err != nil {
				t.Fatal(err)
			}
			p7 := lastCMS(t, out)
			if !p7.Certificates[0].Equal(c.Leaf()) || len(p7.Certificates) != 2 {
				t.Errorf("signed with %s", p7.Certificates[0].Subject)
			}
			if sig := pdfsigFields(pdfsig(t, out, "-nocert")); len(sig) != 1 || sig[0]["Signature Validation"] != "Signature is Valid." {
				t.Errorf("pdfsig: %v", sig)
			}
			// Imported again after another one: in use again, not twice.
			if _, err := e.s.Import(ctx, lugano, pemOf(t, rsaKey, goodRSA, is.cert), ""); err != nil {
				t.Fatal(err)
			}
			again, err := e.s.Import(ctx, lugano, tc.data, tc.password)
			if err != nil || again.ID != c.ID {
				t.Fatalf("imported again: %+v, %v; want certificate %d", again, err, c.ID)
			}
			if now, err := e.s.EnsureCertificate(ctx, lugano); err != nil || now.ID != c.ID {
				t.Errorf("in use after importing it again: %+v, %v", now, err)
			}
		})
	}
}
