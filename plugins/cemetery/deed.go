package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// deedData is what the concession deed states.
type deedData struct {
	concession
	Number     string // the dossier's
	Heading    string // the town's heading, from the configuration
	Assigned   string // the place the office assigned
	Start, End time.Time
	Issued     time.Time
	Payment    *pb.Payment // nil: nothing was due
}

// deed writes the concession deed as a one-page PDF in the citizen's
// language. The host signs it with the town's certificate; nothing here
// is signed.
func deed(v deedData) ([]byte, error) {
	lang := v.Lang
	p := fpdf.New("P", "mm", "A4", "")
	p.SetMargins(22, 20, 22)
	p.SetAutoPageBreak(true, 20)
	// The core fonts speak Windows-1252: every Latin letter of Italian,
	// German, French and English, the euro sign.
	tr := latin(p.UnicodeTranslatorFromDescriptor("cp1252"))
	title := msg.Get(lang, "deed.title")
	p.SetTitle(title+" "+v.Number, true)
	p.SetSubject(msg.Get(lang, "deed.number", v.Number), true)
	if v.Heading != "" {
		p.SetAuthor(v.Heading, true)
	}
	p.SetCreator("Sportello", true)
	p.SetCreationDate(v.Issued)
	p.SetModificationDate(v.Issued)
	p.AddPage()

	if v.Heading != "" {
		p.SetFont("Helvetica", "B", 12)
		p.MultiCell(0, 6, tr(v.Heading), "", "L", false)
		p.Ln(6)
	}
	p.SetFont("Helvetica", "B", 18)
	p.MultiCell(0, 9, tr(title), "", "L", false)
	p.SetFont("Helvetica", "", 12)
	p.MultiCell(0, 7, tr(msg.Get(lang, "deed.number", v.Number)), "", "L", false)
	p.Ln(4)
	left, _, right, _ := p.GetMargins()
	pageW, _ := p.GetPageSize()
	p.SetDrawColor(120, 120, 120)
	p.Line(left, p.GetY(), pageW-right, p.GetY())
	p.Ln(6)

	place := msg.Get(lang, "place."+v.Place)
	fee := msg.Get(lang, "deed.fee_none")
	if v.FeeCents > 0 {
		fee = msg.Get(lang, "deed.fee_paid", sdk.Money(lang, v.FeeCents, v.Currency), v.Payment.GetNoticeCode())
	}
	var people []string
	for _, b := range v.Beneficiaries {
		people = append(people, personLine(lang, b))
	}
	rows := [][2]string{
		{msg.Get(lang, "deed.holder"), v.Applicant},
		{msg.Get(lang, "deed.cemetery"), v.Cemetery},
		{msg.Get(lang, "deed.place"), capitalized(place)},
		{msg.Get(lang, "deed.assigned"), v.Assigned},
		{msg.Get(lang, "deed.term"), msg.Get(lang, "deed.term_value", v.Years, sdk.Date(lang, v.Start), sdk.Date(lang, v.End))},
		{msg.Get(lang, "deed.people"), strings.Join(people, "\n")},
		{msg.Get(lang, "deed.relationship"), v.Relationship},
		{msg.Get(lang, "deed.fee"), fee},
	}
	const labelW = 52
	for _, r := range rows {
		if strings.TrimSpace(r[1]) == "" {
			continue
		}
		y := p.GetY()
		p.SetFont("Helvetica", "B", 11)
		p.MultiCell(labelW, 6, tr(r[0]), "", "L", false)
		labelEnd := p.GetY()
		p.SetXY(left+labelW, y)
		p.SetFont("Helvetica", "", 11)
		p.MultiCell(0, 6, tr(r[1]), "", "L", false)
		if p.GetY() < labelEnd {
			p.SetY(labelEnd)
		}
		p.Ln(2)
	}
	p.Ln(4)
	p.SetFont("Helvetica", "", 10)
	p.MultiCell(0, 5.5, tr(msg.Get(lang, "deed.terms")), "", "J", false)
	p.Ln(8)
	p.SetFont("Helvetica", "", 11)
	p.MultiCell(0, 6, tr(msg.Get(lang, "deed.issued_on", sdk.Date(lang, v.Issued.In(sdk.Zone)))), "", "L", false)
	p.Ln(10)
	p.SetFont("Helvetica", "I", 9)
	p.SetTextColor(80, 80, 80)
	p.MultiCell(0, 5, tr(msg.Get(lang, "deed.signed")), "", "L", false)

	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("write the deed: %w", err)
	}
	return buf.Bytes(), nil
}

// personLine is a person with their dates: "Giuseppe Bianchi (3 aprile
// 1941 – 12 febbraio 2026)".
func personLine(lang string, b person) string {
	date := func(s string) string {
		t, err := time.ParseInLocation(time.DateOnly, s, sdk.Zone)
		if err != nil {
			return s
		}
		return sdk.Date(lang, t)
	}
	switch {
	case b.BirthDate != "" && b.DeathDate != "":
		return fmt.Sprintf("%s (%s – %s)", b.Name, date(b.BirthDate), date(b.DeathDate))
	case b.BirthDate != "":
		return fmt.Sprintf("%s (%s)", b.Name, date(b.BirthDate))
	}
	return b.Name
}

// capitalized is s with its first letter in upper case.
func capitalized(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// latin wraps fpdf's Windows-1252 translator: a letter the code page lacks
// is written without its accents (č, ő, ș become c, o, s) rather than as
// the translator's dot, so that a name stays readable; what has no such
// base letter becomes a question mark.
func latin(tr func(string) string) func(string) string {
	return func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if _, ok := charmap.Windows1252.EncodeRune(r); ok || r == '\n' {
				b.WriteRune(r)
				continue
			}
			base := '?'
			for _, d := range norm.NFD.String(string(r)) {
				if _, ok := charmap.Windows1252.EncodeRune(d); ok {
					base = d
				}
				break
			}
			b.WriteRune(base)
		}
		return tr(b.String())
	}
}
