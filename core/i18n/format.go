package i18n

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// nbsp keeps an amount and its currency, or a day and its month, on one line.
const nbsp = "\u00a0"

// numberStyle is how a language writes numbers.
type numberStyle struct {
	group, decimal string
	// currencyFirst puts the symbol before the amount ("€1,234.56") instead of
	// after it ("1.234,56 €").
	currencyFirst bool
}

var numberStyles = map[string]numberStyle{
	"it": {group: ".", decimal: ","},
	"de": {group: ".", decimal: ","},
	"en": {group: ",", decimal: ".", currencyFirst: true},
}

func styleOf(lang string) numberStyle {
	if s, ok := numberStyles[base(lang)]; ok {
		return s
	}
	return numberStyles[Default]
}

var months = map[string][12]string{
	"it": {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// FormatDate writes the day of t in full, as people read it in lang:
// "3 marzo 2025", "3. März 2025", "3 March 2025". A zero time gives "".
func FormatDate(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	l := base(lang)
	names, ok := months[l]
	if !ok {
		l, names = Default, months[Default]
	}
	day, month, year := strconv.Itoa(t.Day()), names[t.Month()-1], strconv.Itoa(t.Year())
	if l == "de" {
		return day + "." + nbsp + month + " " + year
	}
	return day + nbsp + month + " " + year
}

// FormatDateTime writes the day and the 24-hour time of t: "3 marzo 2025,
// 14:05" (it), "3. März 2025, 14:05" (de), "3 March 2025, 14:05" (en).
func FormatDateTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return FormatDate(lang, t) + ", " + t.Format("15:04")
}

// FormatNumber writes f rounded to decimals places with lang's separators:
// 1234.5 with 2 decimals is "1.234,50" in it and de, "1,234.50" in en.
// NaN and infinities come out as Go writes them.
func FormatNumber(lang string, f float64, decimals int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	if decimals < 0 {
		decimals = 0
	}
	s := strconv.FormatFloat(f, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	out := group(intPart, styleOf(lang))
	if frac != "" {
		out += styleOf(lang).decimal + frac
	}
	if neg && strings.Trim(out, "0.,") != "" { // no "-0,00"
		out = "-" + out
	}
	return out
}

var currencySymbols = map[string]string{"EUR": "€", "CHF": "CHF", "USD": "US$", "GBP": "£"}

// FormatMoney writes an amount given in cents (hundredths of the currency's
// unit) with its currency, ISO 4217 code in currency ("EUR", "CHF"):
// 123456 EUR is "1.234,56 €" in it and de, "€1,234.56" in en. The space
// between amount and symbol is a no-break space. Integer arithmetic only, so
// no amount is ever off by a cent.
func FormatMoney(lang string, cents int64, currency string) string {
	st := styleOf(lang)
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = uint64(-(cents + 1)) + 1 // safe for math.MinInt64
	}
	amount := group(strconv.FormatUint(u/100, 10), st) + st.decimal + twoDigits(u%100)
	code := strings.ToUpper(currency)
	sym, ok := currencySymbols[code]
	if !ok {
		sym = code
	}
	var s string
	switch {
	case st.currencyFirst && len([]rune(sym)) == 1:
		s = sym + amount
	case st.currencyFirst:
		s = sym + nbsp + amount
	default:
		s = amount + nbsp + sym
	}
	if neg {
		s = "-" + s
	}
	return s
}

// group inserts st.group every three digits from the right of digits.
func group(digits string, st numberStyle) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(st.group)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func twoDigits(n uint64) string {
	if n < 10 {
		return "0" + strconv.FormatUint(n, 10)
	}
	return strconv.FormatUint(n, 10)
}

var weekdays = map[string][7]string{ // Sunday first, as time.Weekday
	"it": {"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"},
	"de": {"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// WeekdayName is the name of d in lang: "lunedì", "Montag", "Monday".
func WeekdayName(lang string, d time.Weekday) string {
	names, ok := weekdays[base(lang)]
	if !ok {
		names = weekdays[Default]
	}
	return names[d%7]
}

// FormatHours writes one line of opening hours: the days, runs of three or
// more consecutive days (Monday to Sunday) joined with a dash, then the
// times: "Lunedì–venerdì 08:30–12:00", "Lunedì, mercoledì 14:00–16:30",
// "Montag–Freitag 08:30–12:00". Days come in any order; repeats are ignored.
func FormatHours(lang string, days []time.Weekday, open, close string) string {
	var in [7]bool // Monday first
	for _, d := range days {
		in[(int(d)+6)%7] = true
	}
	var parts []string
	for i := 0; i < 7; {
		if !in[i] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && in[j+1] {
			j++
		}
		name := func(k int) string { return WeekdayName(lang, time.Weekday((k+1)%7)) }
		switch {
		case j-i >= 2:
			parts = append(parts, name(i)+"–"+name(j))
		case j > i:
			parts = append(parts, name(i), name(j))
		default:
			parts = append(parts, name(i))
		}
		i = j + 1
	}
	s := strings.Join(parts, ", ")
	if r, size := utf8.DecodeRuneInString(s); size > 0 {
		s = string(unicode.ToUpper(r)) + s[size:]
	}
	times := ""
	if open != "" || close != "" {
		times = open + "–" + close
	}
	return strings.TrimSpace(s + " " + times)
}
