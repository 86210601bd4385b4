package sdk

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // the zone must load on hosts without a zoneinfo database
)

// Zone is the wall-clock time of every town Sportello serves: Italy's,
// which Switzerland keeps too. A date or time a citizen types ("the 12th
// at 18:00") means this zone, and so does "today" for a deadline.
var Zone = mustZone("Europe/Rome")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var months = map[string][12]string{
	"it": {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// Date writes t's day in Zone as a sentence in lang would: "7 giugno
// 2026", "7. Juni 2026", "7 June 2026".
func Date(lang string, t time.Time) string {
	t = t.In(Zone)
	lang = base(lang)
	m, ok := months[lang]
	if !ok {
		lang, m = "it", months["it"]
	}
	if lang == "de" {
		return fmt.Sprintf("%d. %s %d", t.Day(), m[t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m[t.Month()-1], t.Year())
}

// Money writes an amount as people read it where it is paid: euro the
// Italian way in Italian and German ("€ 1.500,00"), the English way in
// English ("€1,500.00"); Swiss francs the Swiss way in every language
// ("CHF 1'500.00"). Other currencies show their code.
func Money(lang string, cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units, rest := cents/100, cents%100
	switch {
	case currency == "CHF":
		return fmt.Sprintf("%sCHF %s.%02d", sign, group(units, "'"), rest)
	case currency != "" && currency != "EUR":
		return fmt.Sprintf("%s%s %s.%02d", sign, currency, group(units, ","), rest)
	case base(lang) == "en":
		return fmt.Sprintf("%s€%s.%02d", sign, group(units, ","), rest)
	}
	return fmt.Sprintf("%s€ %s,%02d", sign, group(units, "."), rest)
}

func group(n int64, sep string) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// base is the language of a tag: "de-CH" is "de".
func base(lang string) string {
	l, _, _ := strings.Cut(strings.ToLower(lang), "-")
	return l
}
