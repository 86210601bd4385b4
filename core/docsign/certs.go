package docsign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"software.sslmate.com/src/go-pkcs12"
)

// oidDocumentSigning is id-kp-documentSigning (RFC 9336). Readers that
// predate it look for e-mail protection, which the certificate also names.
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// authority is the deployment's signing CA.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// CA is the deployment's signing CA, made on first use: publish it for
// readers to trust the towns' platform certificates.
func (s *Signer) CA(ctx context.Context) (*x509.Certificate, error) {
	ca, err := s.authority(ctx)
	if err != nil {
		return nil, err
	}
	return ca.cert, nil
}

// authority reads the platform CA, making it the first time. Like
// store.DB.Secret, concurrent first uses across instances agree on one:
// the first insert wins and everyone reads it back.
func (s *Signer) authority(ctx context.Context) (*authority, error) {
	raw, err := s.secret(ctx, caName)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		fresh, err := s.newAuthority()
		if err != nil {
			return nil, err
		}
		if _, err := s.db.ExecContext(ctx, "INSERT INTO deployment_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
			caName, fresh); err != nil {
			return nil, fmt.Errorf("store the signing CA: %w", err)
		}
		if raw, err = s.secret(ctx, caName); err != nil {
			return nil, err
		}
	}
	certs, key, err := parsePEM(raw)
	if err != nil || len(certs) != 1 || key == nil {
		return nil, fmt.Errorf("signing CA in deployment_secrets is damaged (%v)", err)
	}
	return &authority{cert: certs[0], key: key}, nil
}

func (s *Signer) secret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM deployment_secrets WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	return v, nil
}

// newAuthority makes a CA certificate and key, as PEM.
func (s *Signer) newAuthority() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, caBits)
	if err != nil {
		return nil, fmt.Errorf("signing CA key: %w", err)
	}
	now := s.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Sportello platform CA", Organization: []string{"Sportello"}},
		NotBefore:             now.Add(-time.Hour), // a reader's clock a little behind
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	_ = pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return buf.Bytes(), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) // never fails
	return n.Add(n, big.NewInt(1))
}

// EnsureCertificate returns the tenant's certificate in use, having the
// platform CA issue one if the tenant has none valid (or only a platform
// one about to expire).
func (s *Signer) EnsureCertificate(ctx context.Context, tenantID int64) (*Certificate, error) {
	k, err := s.ensure(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return k.Certificate, nil
}

func (s *Signer) ensure(ctx context.Context, tenantID int64) (*keyed, error) {
	seal, err := s.db.Secret(ctx, sealName, 32)
	if err != nil {
		return nil, err
	}
	now := s.now()
	k, err := s.current(ctx, tenantID, seal, now)
	if err != nil || (k != nil && (k.Source == SourceImported || k.NotAfter.Sub(now) > renewBefore)) {
		return k, err
	}
	ca, err := s.authority(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		// One issuer per tenant at a time: two first documents signed at
		// once must not leave the tenant with two certificates.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('docsign:' || ?::text, 0))", tenantID); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		var again *keyed
		if again, err = currentTx(ctx, tx, tenantID, seal, now); err != nil {
			return err
		}
		if again != nil && (k == nil || again.ID != k.ID) {
			k = again // another instance has just issued it
			return nil
		}
		var name, slug string
		if err := tx.QueryRowContext(ctx, "SELECT name, slug FROM tenants WHERE id = ?", tenantID).Scan(&name, &slug); err != nil {
			return fmt.Errorf("tenant %d: %w", tenantID, err)
		}
		key, err := rsa.GenerateKey(rand.Reader, tenantBits)
		if err != nil {
			return fmt.Errorf("tenant key: %w", err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			// CN and O name the town as its documents do ("Comune di
			// Venezia"); the slug tells apart towns of the same name.
			Subject:               pkix.Name{CommonName: name, Organization: []string{name}, SerialNumber: slug},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(tenantValidity),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidDocumentSigning},
			BasicConstraintsValid: true,
		}
		if tmpl.NotAfter.After(ca.cert.NotAfter) {
			tmpl.NotAfter = ca.cert.NotAfter
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
		if err != nil {
			return fmt.Errorf("tenant certificate: %w", err)
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		k, err = insert(ctx, tx, tenantID, seal, SourcePlatform, []*x509.Certificate{leaf, ca.cert}, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("issue a certificate to tenant %d: %w", tenantID, err)
	}
	return k, nil
}

// current is the tenant's certificate valid at now, newest first; nil if
// none.
func (s *Signer) current(ctx context.Context, tenantID int64, seal []byte, now time.Time) (*keyed, error) {
	var k *keyed
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		k, err = currentTx(ctx, tx, tenantID, seal, now)
		return err
	})
	return k, err
}

func currentTx(ctx context.Context, tx bun.Tx, tenantID int64, seal []byte, now time.Time) (*keyed, error) {
	var (
		c      = &Certificate{TenantID: tenantID}
		chain  string
		sealed []byte
	)
	err := tx.QueryRowContext(ctx, `SELECT id, subject, source, sha256, not_before, not_after, certificate_pem, private_key
		FROM tenant_certificates WHERE tenant_id = ? AND not_before <= ? AND not_after > ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, tenantID, now, now).
		Scan(&c.ID, &c.Subject, &c.Source, &c.SHA256, &c.NotBefore, &c.NotAfter, &chain, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	certs, _, err := parsePEM([]byte(chain))
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("certificate %d of tenant %d is damaged (%v)", c.ID, tenantID, err)
	}
	c.Chain = certs
	der, err := openKey(seal, tenantID, c.SHA256, sealed)
	if err != nil {
		return nil, fmt.Errorf("key of certificate %d of tenant %d: %w", c.ID, tenantID, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("key of certificate %d of tenant %d: %w", c.ID, tenantID, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key of certificate %d of tenant %d cannot sign", c.ID, tenantID)
	}
	return &keyed{Certificate: c, key: signer}, nil
}

func insert(ctx context.Context, tx bun.Tx, tenantID int64, seal []byte, source string, chain []*x509.Certificate, key crypto.Signer) (*keyed, error) {
	leaf := chain[0]
	sum := sha256.Sum256(leaf.Raw)
	c := &Certificate{TenantID: tenantID, Subject: leaf.Subject.String(), Source: source, SHA256: hex.EncodeToString(sum[:]),
		NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, Chain: chain}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	sealed, err := sealKey(seal, tenantID, c.SHA256, pkcs8)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, cert := range chain {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO tenant_certificates
		(tenant_id, subject, certificate_pem, sha256, private_key, source, not_before, not_after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		-- The same certificate imported again becomes the one in use again.
		ON CONFLICT (tenant_id, sha256) DO UPDATE SET private_key = EXCLUDED.private_key, created_at = now()
		RETURNING id`,
		tenantID, c.Subject, buf.String(), c.SHA256, sealed, source, c.NotBefore, c.NotAfter).Scan(&c.ID)
	if err != nil {
		return nil, fmt.Errorf("store certificate: %w", err)
	}
	return &keyed{Certificate: c, key: key}, nil
}

// sealAAD binds a sealed key to its tenant and certificate: moved to
// another tenant's row, or beside another certificate, it does not open.
func sealAAD(tenantID int64, fingerprint string) []byte {
	aad := binary.BigEndian.AppendUint64([]byte("sportello docsign key v1\x00"), uint64(tenantID))
	return append(aad, fingerprint...)
}

func sealKey(seal []byte, tenantID int64, fingerprint string, plain []byte) ([]byte, error) {
	aead, err := gcm(seal)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, sealAAD(tenantID, fingerprint)), nil
}

func openKey(seal []byte, tenantID int64, fingerprint string, sealed []byte) ([]byte, error) {
	aead, err := gcm(seal)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("sealed key too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], sealAAD(tenantID, fingerprint))
	if err != nil {
		return nil, errors.New("sealed key does not open (wrong deployment secret, tenant or certificate)")
	}
	return plain, nil
}

func gcm(seal []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(seal)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return cipher.NewGCM(block)
}

// Import makes the town's own certificate the tenant's certificate in use:
// data is a PKCS #12 file (with its password) or PEM holding the
// certificate, its private key and, optionally, its issuers. The
// certificate must be valid now, allow digital signatures, and match the
// key; ErrBadCertificate says which of these fails.
func (s *Signer) Import(ctx context.Context, tenantID int64, data []byte, password string) (*Certificate, error) {
	var (
		certs []*x509.Certificate
		key   crypto.Signer
		err   error
	)
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		certs, key, err = parsePEM(data)
	} else {
		certs, key, err = parsePKCS12(data, password)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	chain, err := s.checkImport(certs, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	seal, err := s.db.Secret(ctx, sealName, 32)
	if err != nil {
		return nil, err
	}
	var k *keyed
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		k, err = insert(ctx, tx, tenantID, seal, SourceImported, chain, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("import certificate for tenant %d: %w", tenantID, err)
	}
	return k.Certificate, nil
}

// checkImport finds the certificate of key among certs and orders the
// others after it as its chain, as far as they go.
func (s *Signer) checkImport(certs []*x509.Certificate, key crypto.Signer) ([]*x509.Certificate, error) {
	if key == nil {
		return nil, errors.New("no private key")
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits, at least 2048 needed", k.N.BitLen())
		}
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			return nil, errors.New("elliptic curve not supported by PDF readers (P-256, P-384, P-521 are)")
		}
	default:
		return nil, fmt.Errorf("%T keys are not supported by PDF readers (RSA and ECDSA are)", key)
	}
	var leaf *x509.Certificate
	var rest []*x509.Certificate
	for _, c := range certs {
		if leaf == nil && publicKeyEqual(c.PublicKey, key.Public()) {
			leaf = c
		} else {
			rest = append(rest, c)
		}
	}
	if leaf == nil {
		return nil, errors.New("no certificate matches the private key")
	}
	now := s.now()
	if now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		return nil, fmt.Errorf("certificate valid from %s to %s", leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly))
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, errors.New("certificate does not allow digital signatures (key usage)")
	}
	chain := []*x509.Certificate{leaf}
	for {
		last := chain[len(chain)-1]
		if bytes.Equal(last.RawIssuer, last.RawSubject) {
			break
		}
		i := -1
		for j, c := range rest {
			if bytes.Equal(c.RawSubject, last.RawIssuer) && last.CheckSignatureFrom(c) == nil {
				i = j
				break
			}
		}
		if i < 0 {
			break
		}
		chain = append(chain, rest[i])
		rest = append(rest[:i], rest[i+1:]...)
	}
	return chain, nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

// parsePEM reads the certificates and the (first) private key of PEM data.
func parsePEM(data []byte) ([]*x509.Certificate, crypto.Signer, error) {
	var (
		certs []*x509.Certificate
		key   crypto.Signer
	)
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch {
		case block.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("certificate: %w", err)
			}
			certs = append(certs, c)
		case strings.HasSuffix(block.Type, "PRIVATE KEY") && key == nil:
			if x509.IsEncryptedPEMBlock(block) || block.Type == "ENCRYPTED PRIVATE KEY" { //nolint:staticcheck // only to refuse it clearly
				return nil, nil, errors.New("encrypted PEM key: give it unencrypted, or as PKCS #12 with its password")
			}
			k, err := parseKey(block.Bytes)
			if err != nil {
				return nil, nil, err
			}
			key = k
		}
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("no certificate")
	}
	return certs, key, nil
}

func parseKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("%T key cannot sign", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("private key: not PKCS #8, PKCS #1 or SEC 1")
}

func parsePKCS12(data []byte, password string) ([]*x509.Certificate, crypto.Signer, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, nil, fmt.Errorf("PKCS #12: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%T key cannot sign", key)
	}
	return append([]*x509.Certificate{leaf}, cas...), signer, nil
}
