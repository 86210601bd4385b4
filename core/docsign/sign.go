package docsign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf16"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/digitorus/pdfsign/verify"
)

// Sign signs pdf with the tenant's certificate (issuing one first if the
// tenant has none) and returns the signed document: the original bytes
// followed by an incremental update that adds the signature, so that the
// document shows unchanged and any change after signing breaks it.
//
// The signature is a certification signature (DocMDP level 2): the town
// certifies the document as issued; forms may be filled in and further
// signatures added (an officer's countersignature), nothing else changed.
func (s *Signer) Sign(ctx context.Context, tenantID int64, doc []byte, meta Meta) ([]byte, error) {
	if len(doc) > MaxPDFSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(doc), MaxPDFSize)
	}
	if !bytes.HasPrefix(doc, []byte("%PDF-")) {
		return nil, fmt.Errorf("%w: no %%PDF- header", ErrNotPDF)
	}
	k, err := s.ensure(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if meta.Name == "" {
		meta.Name = k.Leaf().Subject.CommonName
	}
	signed, err := s.sign(doc, k, meta)
	if err != nil {
		return nil, err
	}
	return signed, nil
}

// sign lays out the signature with pdfsign, which writes the incremental
// update (signature dictionary and field, catalogue, cross-reference) for
// any PDF, classic or with cross-reference streams. pdfsign writes only
// the SubFilter adbe.pkcs7.detached, with a CMS of its own that carries a
// signing-time attribute PAdES forbids; so the dictionary is given the
// name of PAdES, ETSI.CAdES.detached, which has the same length, and the
// signature is made again over the new bytes, as CAdES B-B (cades).
func (s *Signer) sign(doc []byte, k *keyed, meta Meta) (out []byte, err error) {
	// The PDF reader panics on some malformed files.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: %v", ErrNotPDF, r)
		}
	}()
	rdr, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	var buf lastWrite
	err = sign.Sign(bytes.NewReader(doc), &buf, rdr, int64(len(doc)), sign.SignData{
		Signature: sign.SignDataSignature{
			CertType:   sign.CertificationSignature,
			DocMDPPerm: sign.AllowFillingExistingFormFieldsAndSignaturesPerms,
			Info: sign.SignDataSignatureInfo{
				Name: pdfText(meta.Name), Reason: pdfText(meta.Reason), Location: pdfText(meta.Location),
				ContactInfo: pdfText(meta.ContactInfo), Date: s.now(),
			},
		},
		Signer:            k.key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       k.Leaf(),
		CertificateChains: [][]*x509.Certificate{k.Chain},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	out = buf.b
	if err := pades(out, len(doc), k); err != nil {
		return nil, fmt.Errorf("sign as PAdES: %w", err)
	}
	// What was written is checked as a reader would: a document pdfsign
	// lays out in a way this package did not foresee fails here, not in
	// the citizen's PDF reader.
	if err := check(out); err != nil {
		return nil, fmt.Errorf("signed document does not verify: %w", err)
	}
	return out, nil
}

// lastWrite keeps what was written last. pdfsign writes the document in one
// Write; when its first guess of the signature's size was short, it lays
// the document out again and writes it a second time, after the first.
type lastWrite struct{ b []byte }

func (w *lastWrite) Write(p []byte) (int, error) {
	w.b = append(w.b[:0], p...)
	return len(p), nil
}

var (
	subFilterAdobe = []byte("/SubFilter /adbe.pkcs7.detached")
	subFilterPAdES = []byte("/SubFilter /ETSI.CAdES.detached")
	byteRangeRe    = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
)

// pades turns the signature pdfsign appended after the first orig bytes of
// doc into a PAdES one, in place.
func pades(doc []byte, orig int, k *keyed) error {
	tail := doc[orig:]
	if bytes.Count(tail, subFilterAdobe) != 1 || len(subFilterAdobe) != len(subFilterPAdES) {
		return errors.New("no single signature dictionary in the update")
	}
	at := bytes.Index(tail, subFilterAdobe)
	copy(tail[at:], subFilterPAdES)
	m := byteRangeRe.FindSubmatch(tail[at:])
	if m == nil {
		return errors.New("no /ByteRange after the SubFilter")
	}
	var r [4]int
	for i := range r {
		n, err := strconv.Atoi(string(m[i+1]))
		if err != nil {
			return fmt.Errorf("/ByteRange: %w", err)
		}
		r[i] = n
	}
	// [0 a b c]: everything but the hex string <…> from a to b.
	if r[0] != 0 || r[1] < orig || r[2] <= r[1]+2 || r[2]+r[3] != len(doc) || doc[r[1]] != '<' || doc[r[2]-1] != '>' {
		return fmt.Errorf("/ByteRange %v does not frame the signature", r)
	}
	content := make([]byte, 0, r[1]+r[3])
	content = append(append(content, doc[:r[1]]...), doc[r[2]:]...)
	cms, err := cades(content, k.Chain, k.key)
	if err != nil {
		return err
	}
	room := doc[r[1]+1 : r[2]-1]
	if hex.EncodedLen(len(cms)) > len(room) {
		return fmt.Errorf("signature of %d bytes does not fit %d", len(cms), len(room)/2)
	}
	n := hex.Encode(room, cms)
	for i := n; i < len(room); i++ {
		room[i] = '0'
	}
	return nil
}

// check verifies every signature of doc, cryptographically (not whether
// a reader trusts the issuer).
func check(doc []byte) error {
	opts := verify.DefaultVerifyOptions()
	opts.AllowUntrustedRoots = true
	res, err := verify.VerifyWithOptions(bytes.NewReader(doc), int64(len(doc)), opts)
	if err != nil {
		return err
	}
	if len(res.Signers) == 0 {
		return errors.New("no signature found")
	}
	for _, s := range res.Signers {
		if !s.ValidSignature {
			return fmt.Errorf("signature of %q invalid: %s", s.Name, res.Error)
		}
	}
	return nil
}

// pdfText keeps what pdfsign can write of s. It writes a text with
// characters beyond ASCII as UTF-16 inside (…) without escaping, so a
// code unit with a byte that is a parenthesis, a backslash or a line end
// would end the string early or change under a reader's line-end rule:
// such characters are dropped, which leaves every Latin letter with its
// accents ("Città", "Müller", "Ñ") whole.
func pdfText(s string) string {
	ascii := true
	for _, r := range s {
		if r >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	risky := func(b uint16) bool {
		switch byte(b) {
		case '(', ')', '\\', '\r', '\n':
			return true
		}
		switch byte(b >> 8) {
		case '(', ')', '\\', '\r', '\n':
			return true
		}
		return false
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		keep := true
		for _, u := range utf16.Encode([]rune{r}) {
			if risky(u) {
				keep = false
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	return string(out)
}
