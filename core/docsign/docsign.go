// Package docsign signs the PDF documents a tenant issues (a concession, a
// certificate) with the tenant's own certificate, as PAdES baseline B-B
// signatures that any PDF reader verifies: SubFilter ETSI.CAdES.detached,
// a CMS signature with the signing-certificate-v2 attribute and the
// certificate chain embedded.
//
// Each tenant has a signing certificate. Unless an operator imports the
// town's own (Import), the deployment's signing CA, made the first time it
// is needed, issues one to the tenant the first time the tenant signs
// (EnsureCertificate). A reader trusts such a signature once it trusts the
// platform CA (CA gives its certificate to publish).
//
// Private keys are sealed with a deployment secret before they are stored
// in the tenant's rows, so that a tenant's data alone never carries a key.
package docsign

import (
	"crypto"
	"crypto/x509"
	"errors"
	"time"

	"github.com/sportello/sportello/core/store"
)

// Errors of the package; wrapped with context, test with errors.Is.
var (
	// ErrNotPDF: the document is not a PDF file the signer can read.
	ErrNotPDF = errors.New("not a readable PDF document")
	// ErrTooLarge: the document exceeds MaxPDFSize.
	ErrTooLarge = errors.New("document too large to sign")
	// ErrBadCertificate: an imported certificate or key is unusable: not
	// parseable, not matching, expired, or not for signing.
	ErrBadCertificate = errors.New("certificate or key not usable for signing")
)

// MaxPDFSize bounds a document to sign: it is read and rewritten in
// memory, twice.
const MaxPDFSize = 20 << 20

// Sources of a tenant's certificate.
const (
	SourcePlatform = "platform" // issued by the deployment's signing CA
	SourceImported = "imported" // the town's own, imported by an operator
)

const (
	// caName names the platform CA in deployment_secrets.
	caName = "docsign.ca"
	// sealName names the deployment secret that seals tenants' keys.
	sealName = "docsign.seal"

	caValidity     = 20 * 365 * 24 * time.Hour
	tenantValidity = 3 * 365 * 24 * time.Hour
	// renewBefore: a platform certificate this close to its end is
	// replaced, so that a document never carries one about to expire.
	renewBefore = 30 * 24 * time.Hour
	// RSA keys: readers everywhere verify them. The CA's outlives many
	// tenant certificates, hence the longer key.
	caBits     = 3072
	tenantBits = 2048
)

// Signer signs documents for every tenant of a deployment.
type Signer struct {
	db  *store.DB
	now func() time.Time
}

// New is a Signer storing certificates in db (the application role's
// pool). now is the clock (nil: time.Now).
func New(db *store.DB, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{db: db, now: now}
}

// Certificate is a tenant's signing certificate.
type Certificate struct {
	ID        int64
	TenantID  int64
	Subject   string
	Source    string // SourcePlatform or SourceImported
	SHA256    string // hex fingerprint of the signing certificate
	NotBefore time.Time
	NotAfter  time.Time
	// Chain is the signing certificate first, then its issuers.
	Chain []*x509.Certificate
}

// Leaf is the signing certificate.
func (c *Certificate) Leaf() *x509.Certificate { return c.Chain[0] }

// Meta is what the signature says besides who signed: the signer's name
// (default: the tenant's name), the reason ("Concessione cimiteriale n.
// 2026-000042"), the place and how to reach the signer. All optional.
type Meta struct {
	Name        string
	Reason      string
	Location    string
	ContactInfo string
}

// keyed is a certificate with its private key, ready to sign.
type keyed struct {
	*Certificate
	key crypto.Signer
}
