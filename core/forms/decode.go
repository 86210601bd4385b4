package forms

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decode turns what an HTML form posted into the form's JSON document:
// integers, numbers, booleans, arrays and nested objects, as the schema
// types them. A value that does not parse stays in the document as the
// string that was typed, with an error in lang, so that the form can show it
// again; only a document without errors is valid. Empty optional fields are
// left out; posted keys that are no field are ignored.
func (f *Form) Decode(values url.Values, lang string) (map[string]any, FieldErrors) {
	doc := map[string]any{}
	errs := FieldErrors{}
	for _, fd := range f.fields {
		if fd.kind == kindObject {
			sub, filled := map[string]any{}, false
			for _, c := range fd.children {
				if f.decodeField(c, values, sub, errs, lang) {
					filled = true
				}
			}
			if filled || fd.required {
				doc[lastName(fd.name)] = sub
			}
			continue
		}
		f.decodeField(fd, values, doc, errs, lang)
	}
	if len(errs) == 0 {
		errs = nil
	}
	return doc, errs
}

// Submit decodes values and validates the result: the document and every
// error, those of Decode first (a value that did not parse is reported as
// such, not as a wrong type).
func (f *Form) Submit(values url.Values, lang string) (map[string]any, FieldErrors) {
	doc, errs := f.Decode(values, lang)
	for name, msg := range f.Validate(doc, lang) {
		if _, ok := errs[name]; !ok {
			if errs == nil {
				errs = FieldErrors{}
			}
			errs[name] = msg
		}
	}
	return doc, errs
}

// decodeField puts fd's posted value into dst, under fd's own name, and
// reports whether the person filled it in (an unticked box is not filling
// in: it must not make an untouched fieldset count as answered).
func (f *Form) decodeField(fd *field, values url.Values, dst map[string]any, errs FieldErrors, lang string) bool {
	key := lastName(fd.name)
	if fd.kind == kindChoices {
		var list []any
		for _, v := range values[fd.name] {
			if v = clean(v); v != "" {
				list = append(list, v)
			}
		}
		if len(list) == 0 {
			return false
		}
		dst[key] = list
		return true
	}
	raw := ""
	if vs := values[fd.name]; len(vs) > 0 {
		raw = clean(vs[0])
	}
	switch fd.kind {
	case kindBoolean:
		switch strings.ToLower(raw) {
		case "", "false", "off", "0":
			dst[key] = false
			return false
		case "true", "on", "1":
			dst[key] = true
		default:
			dst[key] = raw
			errs[f.errorKey(fd.name)] = f.cat.T(lang, "forms.invalid", nil)
		}
		return true
	case kindInteger:
		if raw == "" {
			return false
		}
		if n, ok := parseInteger(raw); ok {
			dst[key] = n
		} else {
			dst[key] = raw
			errs[f.errorKey(fd.name)] = f.cat.T(lang, "forms.integer", nil)
		}
		return true
	case kindNumber:
		if raw == "" {
			return false
		}
		if n, ok := parseNumber(raw); ok {
			dst[key] = n
		} else {
			dst[key] = raw
			errs[f.errorKey(fd.name)] = f.cat.T(lang, "forms.number", nil)
		}
		return true
	}
	if raw == "" {
		return false
	}
	dst[key] = raw
	return true
}

// clean trims what was posted and makes line ends "\n", as a textarea's
// CRLF would otherwise count twice against maxLength. Bytes that are no
// UTF-8 and NULs, which no browser posts and the database refuses, go.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.TrimSpace(s)
}

// parseInteger accepts an optional sign and decimal digits only: no
// grouping, no exponent, nothing strconv would read beyond what people type.
func parseInteger(s string) (int64, bool) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	return n, err == nil
}

// parseNumber accepts a decimal number with "." or a decimal comma and an
// optional exponent; never NaN or an infinity, which JSON cannot hold.
func parseNumber(s string) (float64, bool) {
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	mant := 0
	for ; i < len(s) && (s[i] >= '0' && s[i] <= '9'); i++ {
		mant++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && (s[i] >= '0' && s[i] <= '9'); i++ {
			mant++
		}
	}
	if mant == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && (s[i] >= '0' && s[i] <= '9'); i++ {
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, false
	}
	return n, true
}

// lastName is a field's own name within its object: "zip" of "address.zip".
func lastName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}
