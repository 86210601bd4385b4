package notify_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/notify"
)

// FuzzParseIDCards reads arbitrary bytes as the identity cards a town
// imports (`sportello reminders import-id-cards`). Reading must never
// panic; a file it refuses says why, every bad line as a RowError with its
// line and column; the cards of a file it takes are normalised, so that
// writing them out and reading them again gives the same cards.
func FuzzParseIDCards(f *testing.F) {
	for _, s := range []string{
		"fiscal_code,expires_on,email,phone\nRSSMRA85T10A562S,2027-01-31,anna@example.org,+39 333 1234567\n",
		"fiscal_code;expires_on;phone\nrssmra85t10a562s;31/01/2027;+41 79 123 45 67\n756.1234.5678.97;2027-03-01;\n",
		"\ufefffiscal_code,expires_on\nRSSMRA80A01H501U,2027-01-31\n\n,\n",
		"fiscal_code,expires_on,email,phone\nRSSMRA85T10A562X,2027-01-31,,\nRSSMRA80A01H501U,31.01.2027,,\n" +
			"MRTMTT25D09F205Z,2027-01-31,not-an-address,\nBNCGLI85M41F205B,2027-01-31,,333 1234\nRSSMRA80A01H501U,2027-01-31,,\n",
		"codice,scadenza\nX,Y\n",
		"fiscal_code,fiscal_code\n",
		"expires_on\n2027-01-31\n",
		"fiscal_code,expires_on\n\"RSSMRA85T10A562S\n,2027-01-31\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cards, err := notify.ParseIDCards(bytes.NewReader(data))
		if err != nil {
			var rows notify.RowErrors
			if cards != nil {
				t.Fatalf("cards and an error (%v)", err)
			}
			if errors.As(err, &rows) {
				if len(rows) == 0 {
					t.Fatal("RowErrors without a row")
				}
				for _, r := range rows {
					if r.Line < 1 || r.Field == "" && r.Line != 1 || r.Reason == "" {
						t.Fatalf("row error %+v does not say where and why", r)
					}
				}
			} else if !strings.HasPrefix(err.Error(), "read CSV: ") {
				t.Fatalf("error %q is neither the lines' nor the file's", err)
			}
			return
		}
		seen := map[string]bool{}
		var out bytes.Buffer
		w := csv.NewWriter(&out)
		_ = w.Write([]string{"fiscal_code", "expires_on", "email", "phone"})
		for _, c := range cards {
			if c.FiscalCode == "" || seen[c.FiscalCode] || c.FiscalCode != strings.ToUpper(c.FiscalCode) {
				t.Fatalf("fiscal code %q: empty, twice, or not normalised", c.FiscalCode)
			}
			seen[c.FiscalCode] = true
			if c.Expires.IsZero() || c.Expires.Location() != time.UTC || c.Expires.Truncate(24*time.Hour) != c.Expires {
				t.Fatalf("expiry %v is no date", c.Expires)
			}
			if p, err := notify.NormalizePhone(c.Phone); err != nil || p != c.Phone {
				t.Fatalf("phone %q is not normalised (%q, %v)", c.Phone, p, err)
			}
			_ = w.Write([]string{c.FiscalCode, c.Expires.Format(time.DateOnly), c.Email, c.Phone})
		}
		w.Flush()
		again, err := notify.ParseIDCards(&out)
		if err != nil {
			t.Fatalf("the cards taken, written out, are refused: %v\n%s", err, out.String())
		}
		if len(cards) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(cards, again) {
			t.Fatalf("the cards changed when written out and read again:\n%+v\n%+v", cards, again)
		}
	})
}
