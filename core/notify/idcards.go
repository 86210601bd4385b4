package notify

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// IDCard is one identity card the town imported: whose, and when it
// expires. Email and Phone are what the registry has; the reminder still
// goes only by the channels the citizen consented to (prefs.go), and
// Email only stands in for an account without an address.
type IDCard struct {
	FiscalCode string
	Expires    time.Time // a date
	Email      string
	Phone      string // international form, or ""
}

// RowError is a line of an import that cannot be taken as it is.
type RowError struct {
	Line   int // 1 is the header
	Field  string
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d, %s: %s", e.Line, e.Field, e.Reason) }

// RowErrors are all the bad lines of a file: nothing is imported while
// there is one, so that a town fixes the file and imports it again.
type RowErrors []RowError

func (e RowErrors) Error() string {
	var b strings.Builder
	for i, r := range e {
		if i == 10 {
			fmt.Fprintf(&b, "\n… and %d more", len(e)-10)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.Error())
	}
	return b.String()
}

var (
	// Other than an Italian code: a numeric one (a Swiss AHV number).
	fiscalCodeRe = regexp.MustCompile(`^[0-9]{11,13}$`)
	// An Italian codice fiscale (with omocodia's letters for digits).
	italianCFRe = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)
)

// normalizeFiscalCode upper-cases a code and drops the spaces and dots
// people type. An Italian code must carry its check letter, which catches
// most typos of a registry export; a town across the border (Lugano) keys
// its people by a numeric one.
func normalizeFiscalCode(raw string) (string, error) {
	fc := strings.ToUpper(strings.NewReplacer(" ", "", ".", "", "-", "").Replace(strings.TrimSpace(raw)))
	if len(fc) != 16 && !fiscalCodeRe.MatchString(fc) {
		return "", errors.New("an Italian fiscal code (16 characters) or a number of 11 to 13 digits")
	}
	if len(fc) == 16 {
		if !italianCFRe.MatchString(fc) {
			return "", errors.New("not a valid Italian fiscal code")
		}
		if cfCheck(fc[:15]) != fc[15] {
			return "", errors.New("the check letter does not match: a typo?")
		}
	}
	return fc, nil
}

// cfCheck is the check letter of the first 15 characters of a codice
// fiscale (DM 23/12/1976): odd and even positions weigh differently.
func cfCheck(s string) byte {
	odd := [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v int
		if c >= '0' && c <= '9' {
			v = int(c - '0')
		} else {
			v = int(c-'A') + 10
		}
		if i%2 == 0 { // positions 1, 3, 5… counted from one
			sum += odd[v]
		} else if v >= 10 {
			sum += v - 10
		} else {
			sum += v
		}
	}
	return byte('A' + sum%26)
}

// ParseIDCards reads a CSV with the header fiscal_code,expires_on and
// optionally email and phone (in any order; ";" also separates). Dates are
// 2027-01-31 or 31/01/2027. Every bad line is reported, as RowErrors.
func ParseIDCards(r io.Reader) ([]IDCard, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read CSV: %w", err)
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	// A spreadsheet of Italian or German locale saves with ";".
	if header, _, _ := bytes.Cut(raw, []byte("\n")); bytes.Contains(header, []byte(";")) && !bytes.Contains(header, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	all, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read CSV: %w", err)
	}
	if len(all) == 0 {
		return nil, RowErrors{{Line: 1, Field: "header", Reason: "empty file: want fiscal_code,expires_on[,email][,phone]"}}
	}
	col := map[string]int{}
	for i, h := range all[0] {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup {
			return nil, RowErrors{{Line: 1, Field: h, Reason: "column named twice"}}
		}
		switch h {
		case "fiscal_code", "expires_on", "email", "phone":
			col[h] = i
		default:
			return nil, RowErrors{{Line: 1, Field: h, Reason: "unknown column: want fiscal_code, expires_on, email, phone"}}
		}
	}
	for _, need := range []string{"fiscal_code", "expires_on"} {
		if _, ok := col[need]; !ok {
			return nil, RowErrors{{Line: 1, Field: need, Reason: "missing column"}}
		}
	}
	var errs RowErrors
	var out []IDCard
	seen := map[string]int{}
	for n, rec := range all[1:] {
		line := n + 2
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		var c IDCard
		var err error
		bad := func(field, reason string) { errs = append(errs, RowError{Line: line, Field: field, Reason: reason}) }
		if c.FiscalCode, err = normalizeFiscalCode(get("fiscal_code")); err != nil {
			bad("fiscal_code", err.Error())
		} else if first, dup := seen[c.FiscalCode]; dup {
			bad("fiscal_code", fmt.Sprintf("already on line %d", first))
		} else {
			seen[c.FiscalCode] = line
		}
		d := get("expires_on")
		if c.Expires, err = time.Parse(time.DateOnly, d); err != nil {
			if c.Expires, err = time.Parse("02/01/2006", d); err != nil {
				bad("expires_on", fmt.Sprintf("%q: a date, 2027-01-31 or 31/01/2027", d))
			}
		}
		if c.Email = get("email"); c.Email != "" && !validEmail(c.Email) {
			bad("email", fmt.Sprintf("%q: not an e-mail address", c.Email))
		}
		if c.Phone, err = NormalizePhone(get("phone")); err != nil {
			bad("phone", fmt.Sprintf("%q: a number with its country code, +39…", get("phone")))
		}
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// ImportResult counts what an import changed.
type ImportResult struct{ Added, Updated, Unchanged int }

// ImportIDCards stores cards in the town tx is bound to. A card already
// there with the same values is left alone, so importing a file twice
// changes nothing; a renewed card's new expiry replaces the old one (and
// is reminded of in its turn).
func ImportIDCards(ctx context.Context, tx bun.IDB, tenantID int64, cards []IDCard) (ImportResult, error) {
	var res ImportResult
	for _, c := range cards {
		var inserted bool
		err := tx.QueryRowContext(ctx, `INSERT INTO id_card_expiries AS e (tenant_id, fiscal_code, expires_on, email, phone)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, fiscal_code) DO UPDATE SET expires_on = EXCLUDED.expires_on, email = EXCLUDED.email,
				phone = EXCLUDED.phone, imported_at = now()
			WHERE (e.expires_on, e.email, e.phone) IS DISTINCT FROM (EXCLUDED.expires_on, EXCLUDED.email, EXCLUDED.phone)
			RETURNING xmax = 0`, tenantID, c.FiscalCode, c.Expires.Format(time.DateOnly), c.Email, c.Phone).Scan(&inserted)
		switch {
		case err == nil && inserted:
			res.Added++
		case err == nil:
			res.Updated++
		case errors.Is(err, sql.ErrNoRows):
			res.Unchanged++
		default:
			return res, fmt.Errorf("import identity card %s: %w", c.FiscalCode, err)
		}
	}
	return res, nil
}
