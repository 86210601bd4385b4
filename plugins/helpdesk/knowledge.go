package main

import (
	"sort"
	"strings"
	"unicode"
)

// The knowledge base: a town's answers to the questions it is asked most.
// An information request whose words hold an entry's keywords gets that
// entry's answer at once; the office still receives the request. The match
// is plain and predictable, so that a town can tell why an answer came up:
// a keyword matches whole words of the text, ignoring case and accents;
// one ending in "*" matches words starting with it ("rifiut*").

// maxSuggestions is how many answers a request gets at most.
const maxSuggestions = 3

// suggest returns the entries whose keywords the text holds, the ones
// matching more keywords first, ties in the town's order.
func suggest(answers []answer, text string) []answer {
	words := " " + fold(text) + " "
	type hit struct {
		i, n int
	}
	var hits []hit
	for i, a := range answers {
		n := 0
		for _, k := range a.Keywords {
			if stem, ok := strings.CutSuffix(k, "*"); ok {
				if strings.Contains(words, " "+stem) {
					n++
				}
			} else if strings.Contains(words, " "+k+" ") {
				n++
			}
		}
		if n > 0 {
			hits = append(hits, hit{i, n})
		}
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].n > hits[b].n })
	var out []answer
	for _, h := range hits {
		if len(out) == maxSuggestions {
			break
		}
		out = append(out, answers[h.i])
	}
	return out
}

// fold is s in lower case, without accents, with every run of what is not
// a letter or a digit made one space: "L'Identità!" is "l identita".
// A trailing "*" is kept, for keywords.
func fold(s string) string {
	star := strings.HasSuffix(strings.TrimSpace(s), "*")
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		if f, ok := plain[r]; ok {
			r = f
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	out := strings.TrimSpace(b.String())
	if star && out != "" {
		out += "*"
	}
	return out
}

// plain maps the accented letters of Italian, German and French to their
// base letter, so that "identita" finds "identità".
var plain = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ä': 'a', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'ö': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ç': 'c',
}
