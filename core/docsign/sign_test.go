package docsign_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/digitorus/pdfsign/verify"
	"github.com/digitorus/pkcs7"

	"github.com/sportello/sportello/core/docsign"
)

// verified is what the library's verifier says of doc's signatures.
func verified(t *testing.T, doc []byte) *verify.Response {
	t.Helper()
	opts := verify.DefaultVerifyOptions()
	opts.AllowUntrustedRoots = true // the platform CA is no system root
	res, err := verify.VerifyWithOptions(bytes.NewReader(doc), int64(len(doc)), opts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

// trusting is an NSS certificate store (what pdfsig, Firefox and
// Thunderbird read) that trusts ca for signed documents.
func trusting(t *testing.T, ca *x509.Certificate) string {
	t.Helper()
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Fatal("certutil not found: install libnss3-tools (.ci/run does)")
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	store := "sql:" + dir
	for _, args := range [][]string{
		{"-N", "-d", store, "--empty-password"},
		{"-A", "-d", store, "-n", "Sportello platform CA", "-t", "C,C,C", "-i", caFile},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return store
}

var contentsRe = regexp.MustCompile(`/Contents\s*<([0-9a-fA-F]+)>`)

// lastCMS is the CMS of the document's last signature.
func lastCMS(t *testing.T, doc []byte) *pkcs7.PKCS7 {
	t.Helper()
	all := contentsRe.FindAllSubmatch(doc, -1)
	if len(all) == 0 {
		t.Fatal("no /Contents in the document")
	}
	raw, err := hex.DecodeString(string(all[len(all)-1][1]))
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(bytes.TrimRight(raw, "\x00"))
	if err != nil {
		t.Fatalf("parse CMS: %v", err)
	}
	return p7
}

var (
	oidSigningTime          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidAdobeRevocationInfo  = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 8}
	oidDocumentSigning      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
	ctx                     = context.Background()
	concession              = "Atto di concessione cimiteriale n. 2026-000042 – loculo, 30 anni"
	concessionMeta          = docsign.Meta{Reason: "Concessione cimiteriale 2026-000042", Location: "Lugano"}
)

// A signed document is PAdES B-B, valid for the library's verifier and
// for poppler, covers the whole file, and is trusted by a reader that
// trusts the platform CA.
func TestSign(t *testing.T) {
	e := newEnv(t)
	lugano := e.tenant("lugano", "Città di Lugano")
	doc := document(t, concession)
	out, err := e.s.Sign(ctx, lugano, doc, concessionMeta)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, doc) {
		t.Error("the signed document does not keep the original bytes (no incremental update)")
	}

	res := verified(t, out)
	if len(res.Signers) != 1 || !res.Signers[0].ValidSignature || res.Error != "" {
		t.Fatalf("library verifier: %+v", res)
	}
	s := res.Signers[0]
	if s.Name != "Città di Lugano" || s.Reason != concessionMeta.Reason || s.Location != "Lugano" {
		t.Errorf("signature dictionary: name %q, reason %q, location %q", s.Name, s.Reason, s.Location)
	}

	// The CMS: signing-certificate-v2, no signing-time (PAdES puts the
	// time in /M), no Adobe revocation attribute, and the whole chain.
	p7 := lastCMS(t, out)
	var attrs []string
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		attrs = append(attrs, a.Type.String())
	}
	has := func(oid asn1.ObjectIdentifier) bool { return strings.Contains(strings.Join(attrs, " "), oid.String()) }
	if !has(oidSigningCertificateV2) || has(oidSigningTime) || has(oidAdobeRevocationInfo) || len(attrs) != 3 {
		t.Errorf("signed attributes %v: want content type, message digest, signing-certificate-v2", attrs)
	}
	ca, err := e.s.CA(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p7.Certificates) != 2 || !p7.Certificates[1].Equal(ca) {
		t.Errorf("chain in the CMS: %d certificates, want the tenant's and the CA", len(p7.Certificates))
	}

	// The tenant's certificate names the town, is for signing, and
	// chains to the platform CA.
	leaf := p7.Certificates[0]
	if leaf.Subject.CommonName != "Città di Lugano" || leaf.Subject.SerialNumber != "lugano" ||
		len(leaf.Subject.Organization) != 1 || leaf.Subject.Organization[0] != "Città di Lugano" {
		t.Errorf("subject %s", leaf.Subject)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage %b", leaf.KeyUsage)
	}
	if len(leaf.UnknownExtKeyUsage) != 1 || !leaf.UnknownExtKeyUsage[0].Equal(oidDocumentSigning) {
		t.Errorf("extended key usage %v %v", leaf.ExtKeyUsage, leaf.UnknownExtKeyUsage)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Errorf("tenant certificate does not chain to the CA: %v", err)
	}
	if ca.Subject.CommonName != "Sportello platform CA" || !ca.IsCA {
		t.Errorf("CA %s", ca.Subject)
	}

	// poppler, as a desktop reader: valid, whole document, PAdES; with
	// the CA trusted, the certificate is trusted too.
	sig := pdfsigFields(pdfsig(t, out, "-nocert"))
	if len(sig) != 1 || sig[0]["Signature Validation"] != "Signature is Valid." || sig[0]["Signature Type"] != "ETSI.CAdES.detached" ||
		sig[0]["Signer Certificate Common Name"] != "Città di Lugano" {
		t.Fatalf("pdfsig: %v", sig)
	}
	if _, ok := sig[0]["Total document signed"]; !ok && !strings.Contains(pdfsig(t, out, "-nocert"), "Total document signed") {
		t.Errorf("pdfsig does not see the whole document signed: %v", sig)
	}
	// (No -no-ocsp: with it, poppler 22 reports a trusted chain as an
	// "unknown issue". The certificates name no OCSP responder, so
	// nothing is asked over the network.)
	trusted := pdfsigFields(pdfsig(t, out, "-nssdir", trusting(t, ca)))
	if len(trusted) != 1 || trusted[0]["Certificate Validation"] != "Certificate is Trusted." {
		t.Errorf("pdfsig with the CA trusted: %v", trusted)
	}
}

// Any change to a signed document shows: a changed byte breaks the
// signature for both verifiers; bytes added after it leave the signature
// valid but no longer covering the whole document.
func TestTampered(t *testing.T) {
	e := newEnv(t)
	lugano := e.tenant("lugano", "Città di Lugano")
	signed, err := e.s.Sign(ctx, lugano, document(t, concession), concessionMeta)
	if err != nil {
		t.Fatal(err)
	}
	change := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			i := bytes.Index(b, []byte(old))
			if i < 0 {
				t.Fatalf("%q not in the document", old)
			}
			return append(append(append([]byte{}, b[:i]...), new...), b[i+len(old):]...)
		}
	}
	tests := []struct {
		name   string
		tamper func([]byte) []byte
		valid  bool // the signature still verifies, for less than the whole file
	}{
		// The page's text comes first in the file, the signature's
		// reason after it.
		{name: "the concession's number on the page", tamper: change("2026-000042", "2026-000043")},
		{name: "one byte of the signature dictionary", tamper: change("/Reason (Concessione", "/Reason (Concessiona")},
		{name: "one byte of the signature value", tamper: func(b []byte) []byte {
			// The signature value ends the CMS, which the zeros pad.
			m := contentsRe.FindSubmatchIndex(b)
			end := m[2] + len(bytes.TrimRight(b[m[2]:m[3]], "0"))
			out := append([]byte{}, b...)
			i := end - 20
			out[i] = '0' // another hex digit
			if b[i] == '0' {
				out[i] = '1'
			}
			return out
		}},
		{name: "an update appended", valid: true, tamper: func(b []byte) []byte {
			return append(append([]byte{}, b...), "\n1 0 obj\n<< /Changed true >>\nendobj\n"...)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.tamper(signed)
			report := pdfsig(t, doc, "-nocert")
			sig := pdfsigFields(report)
			if len(sig) != 1 {
				t.Fatalf("pdfsig: %s", report)
			}
			if tc.valid {
				if sig[0]["Signature Validation"] != "Signature is Valid." || strings.Contains(report, "Total document signed") {
					t.Errorf("pdfsig: %s", report)
				}
				return
			}
			if sig[0]["Signature Validation"] == "Signature is Valid." {
				t.Errorf("pdfsig still finds it valid: %s", report)
			}
			opts := verify.DefaultVerifyOptions()
			opts.AllowUntrustedRoots = true
			res, err := verify.VerifyWithOptions(bytes.NewReader(doc), int64(len(doc)), opts)
			if err == nil && len(res.Signers) > 0 && res.Signers[0].ValidSignature {
				t.Errorf("library verifier still finds it valid: %+v", res)
			}
		})
	}
}

// A signed document signed again (an officer countersigns) carries both
// signatures, both valid, the second covering the whole file.
func TestSignTwice(t *testing.T) {
	e := newEnv(t)
	lugano := e.tenant("lugano", "Città di Lugano")
	once, err := e.s.Sign(ctx, lugano, document(t, concession), concessionMeta)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := e.s.Sign(ctx, lugano, once, docsign.Meta{Name: "Ufficio servizi cimiteriali", Reason: "Visto"})
	if err != nil {
		t.Fatal(err)
	}
	res := verified(t, twice)
	if len(res.Signers) != 2 || !res.Signers[0].ValidSignature || !res.Signers[1].ValidSignature {
		t.Fatalf("library verifier: %+v", res)
	}
	report := pdfsig(t, twice, "-nocert")
	sig := pdfsigFields(report)
	if len(sig) != 2 || sig[0]["Signature Validation"] != "Signature is Valid." || sig[1]["Signature Validation"] != "Signature is Valid." ||
		strings.Count(report, "Total document signed") != 1 {
		t.Errorf("pdfsig: %s", report)
	}
}

func TestSignRefuses(t *testing.T) {
	e := newEnv(t)
	lugano := e.tenant("lugano", "Città di Lugano")
	tests := []struct {
		name string
		doc  []byte
		want error
	}{
		{name: "empty", doc: nil, want: docsign.ErrNotPDF},
		{name: "not a PDF", doc: []byte("<html>certificate</html>"), want: docsign.ErrNotPDF},
		{name: "a header and nothing else", doc: []byte("%PDF-1.7\n%%EOF\n"), want: docsign.ErrNotPDF},
		{name: "a PDF cut short", doc: document(t, concession)[:900], want: docsign.ErrNotPDF},
		{name: "too large", doc: append([]byte("%PDF-1.7\n"), make([]byte, docsign.MaxPDFSize)...), want: docsign.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.s.Sign(ctx, lugano, tc.doc, docsign.Meta{})
			if !errors.Is(err, tc.want) || out != nil {
				t.Errorf("got %d bytes, %v; want %v", len(out), err, tc.want)
			}
		})
	}
}
