package web

import (
	"math"
	"strings"
	"testing"
)

func TestContrastRatio(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"#000", "#fff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#0066cc", "#fff", 5.57},
		{"#767676", "#fff", 4.54}, // the classic lightest AA grey
		{"#xyz", "#fff", 0},
		{"#0066cc", "", 0},
	}
	for _, tt := range tests {
		if got := ContrastRatio(tt.a, tt.b); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("ContrastRatio(%q, %q) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNewPalette(t *testing.T) {
	tests := []struct {
		in           string
		wantPrimary  string // "" means: anything that passes AA
		wantAdjusted bool
		wantFallback bool
	}{
		{"#0066cc", "#0066cc", false, false},
		{"#a3151b", "#a3151b", false, false}, // Lugano: dark enough as it is
		{"#0B5394", "#0b5394", false, false}, // case does not matter
		{"#06c", "#0066cc", false, false},    // short form
		{"#ffd700", "", true, false},         // gold: far too light for white text
		{"#ffffff", "", true, false},         // white: becomes a dark grey
		{"#3399ff", "", true, false},         // a light blue
		{"#767676", "#767676", false, false}, // exactly at the limit
		{"", DefaultPrimary, false, true},
		{"red", DefaultPrimary, false, true},
		{"#12345g", DefaultPrimary, false, true},
	}
	for _, tt := range tests {
		p := NewPalette(tt.in)
		if tt.wantPrimary != "" && p.Primary != tt.wantPrimary {
			t.Errorf("NewPalette(%q).Primary = %s, want %s", tt.in, p.Primary, tt.wantPrimary)
		}
		if p.Adjusted != tt.wantAdjusted || p.Fallback != tt.wantFallback {
			t.Errorf("NewPalette(%q): Adjusted=%v Fallback=%v, want %v %v", tt.in, p.Adjusted, p.Fallback, tt.wantAdjusted, tt.wantFallback)
		}
		for name, c := range map[string]string{"Primary": p.Primary, "Dark": p.Dark, "Darker": p.Darker, "Darkest": p.Darkest} {
			if r := ContrastRatio(c, "#ffffff"); r < minContrast {
				t.Errorf("NewPalette(%q).%s = %s: contrast with white %.2f < %.1f", tt.in, name, c, r, minContrast)
			}
		}
		// Dark text on the light tint must stay readable too.
		if r := ContrastRatio(p.Light, "#1a1a1a"); r < minContrast {
			t.Errorf("NewPalette(%q).Light = %s: contrast with body text %.2f", tt.in, p.Light, r)
		}
		// Darker shades really are darker.
		if !(lum(p.Primary) >= lum(p.Dark) && lum(p.Dark) >= lum(p.Darker) && lum(p.Darker) >= lum(p.Darkest)) {
			t.Errorf("NewPalette(%q): shades not in order: %s %s %s %s", tt.in, p.Primary, p.Dark, p.Darker, p.Darkest)
		}
	}
}

func TestNewPaletteKeepsHue(t *testing.T) {
	in, _ := parseHex("#ffd700")
	out, _ := parseHex(NewPalette("#ffd700").Primary)
	h1, _, _ := in.hsl()
	h2, _, _ := out.hsl()
	if math.Abs(h1-h2) > 0.02 {
		t.Errorf("hue moved from %.3f to %.3f", h1, h2)
	}
}

func TestPaletteCSS(t *testing.T) {
	css := string(NewPalette("#a3151b").CSS())
	for _, want := range []string{":root{", "--sp-primary:#a3151b;", "--sp-primary-rgb:163, 21, 27;", "--bs-primary:#a3151b;", "--bs-link-color:#a3151b;"} {
		if !strings.Contains(css, want) {
			t.Errorf("CSS lacks %q:\n%s", want, css)
		}
	}
}

func TestHSLRoundTrip(t *testing.T) {
	for _, hex := range []string{"#0066cc", "#a3151b", "#ffd700", "#000000", "#ffffff", "#808080", "#00ff00", "#ff00ff"} {
		c, _ := parseHex(hex)
		h, s, l := c.hsl()
		if got := fromHSL(h, s, l).hex(); got != hex {
			t.Errorf("HSL round trip of %s gave %s", hex, got)
		}
	}
}

func lum(hex string) float64 {
	c, _ := parseHex(hex)
	return c.luminance()
}
