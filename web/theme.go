package web

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// DefaultPrimary is Bootstrap Italia's own primary colour, used when a tenant
// has none or an unreadable one.
const DefaultPrimary = "#0066cc"

// minContrast is WCAG 2 level AA for normal text: white text on the primary
// colour (buttons, header) and primary text on white (links) both need it.
const minContrast = 4.5

// Palette is the set of colours a tenant's pages are drawn with, all derived
// from its primary colour in the way Bootstrap Italia derives its own blues
// (same hue and saturation, lower lightness).
type Palette struct {
	Primary  string // "#0066cc"; white on it reaches 4.5:1
	Dark     string // slim header, hover states
	Darker   string // footer
	Darkest  string // footer's small prints
	Light    string // tinted backgrounds under dark text
	RGB      string // Primary as "0, 102, 204", for rgba() in Bootstrap's CSS
	Adjusted bool   // the requested colour was too light and was darkened
	Fallback bool   // the requested colour did not parse; DefaultPrimary used
}

// NewPalette derives the palette of a primary colour given as "#rgb" or
// "#rrggbb". A colour on which white text would not reach WCAG AA contrast
// (4.5:1) is darkened, keeping its hue, until it does; a colour that does not
// parse falls back to DefaultPrimary.
func NewPalette(primary string) Palette {
	c, ok := parseHex(primary)
	var p Palette
	if !ok {
		c, _ = parseHex(DefaultPrimary)
		p.Fallback = true
	}
	h, s, l := c.hsl()
	for contrast(c, white) < minContrast {
		l -= 0.005
		if l <= 0 {
			l = 0
		}
		c = fromHSL(h, s, l)
		p.Adjusted = true
		if l == 0 {
			break
		}
	}
	p.Primary = c.hex()
	p.Dark = fromHSL(h, s, max(l-0.05, 0)).hex()
	p.Darker = fromHSL(h, s, max(l-0.10, 0)).hex()
	p.Darkest = fromHSL(h, s, max(l-0.20, 0)).hex()
	p.Light = fromHSL(h, min(s, 0.6), 0.96).hex()
	p.RGB = fmt.Sprintf("%d, %d, %d", c.r, c.g, c.b)
	return p
}

// CSS is the stylesheet that applies the palette: it sets the custom
// properties read by static/css/sportello.css and by Bootstrap Italia.
func (p Palette) CSS() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, ":root{--sp-primary:%s;--sp-primary-rgb:%s;--sp-primary-dark:%s;--sp-primary-darker:%s;--sp-primary-darkest:%s;--sp-primary-light:%s;",
		p.Primary, p.RGB, p.Dark, p.Darker, p.Darkest, p.Light)
	fmt.Fprintf(&b, "--bs-primary:%s;--bs-primary-rgb:%s;--bs-link-color:%s;--bs-link-hover-color:%s}\n",
		p.Primary, p.RGB, p.Primary, p.Dark)
	return b.Bytes()
}

// ContrastRatio is the WCAG 2 contrast ratio of two colours given as "#rgb"
// or "#rrggbb" (1 to 21); 0 when either does not parse.
func ContrastRatio(a, b string) float64 {
	ca, ok1 := parseHex(a)
	cb, ok2 := parseHex(b)
	if !ok1 || !ok2 {
		return 0
	}
	return contrast(ca, cb)
}

type rgb struct{ r, g, b uint8 }

var white = rgb{255, 255, 255}

func parseHex(s string) (rgb, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(s) == 3 {
		s = string([]byte{s[0], s[0], s[1], s[1], s[2], s[2]})
	}
	if len(s) != 6 {
		return rgb{}, false
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return rgb{}, false
	}
	return rgb{uint8(v >> 16), uint8(v >> 8), uint8(v)}, true
}

func (c rgb) hex() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// luminance is the WCAG relative luminance.
func (c rgb) luminance() float64 {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func (c rgb) hsl() (h, s, l float64) {
	r, g, b := float64(c.r)/255, float64(c.g)/255, float64(c.b)/255
	hi, lo := max(r, g, b), min(r, g, b)
	l = (hi + lo) / 2
	if hi == lo {
		return 0, 0, l
	}
	d := hi - lo
	if l > 0.5 {
		s = d / (2 - hi - lo)
	} else {
		s = d / (hi + lo)
	}
	switch hi {
	case r:
		h = (g - b) / d
		if g < b {
			h += 6
		}
	case g:
		h = (b-r)/d + 2
	default:
		h = (r-g)/d + 4
	}
	return h / 6, s, l
}

func fromHSL(h, s, l float64) rgb {
	if s == 0 {
		v := uint8(math.Round(l * 255))
		return rgb{v, v, v}
	}
	var q float64
	if l < 0.5 {
		q = l * (1 + s)
	} else {
		q = l + s - l*s
	}
	p := 2*l - q
	hue := func(t float64) float64 {
		if t < 0 {
			t++
		}
		if t > 1 {
			t--
		}
		switch {
		case t < 1.0/6:
			return p + (q-p)*6*t
		case t < 0.5:
			return q
		case t < 2.0/3:
			return p + (q-p)*(2.0/3-t)*6
		}
		return p
	}
	to8 := func(x float64) uint8 { return uint8(math.Round(math.Max(0, math.Min(1, x)) * 255)) }
	return rgb{to8(hue(h + 1.0/3)), to8(hue(h)), to8(hue(h - 1.0/3))}
}

// themeDir is the folder of StaticFS whose stylesheets are made on request:
// theme/a3151b.css is the palette of primary colour #a3151b.
const themeDir = "theme"

// StaticFS returns the static files to serve at /static/: the embedded
// static/ folder (our stylesheet, and Bootstrap Italia under vendor/ once
// vendor.sh has run) plus the tenants' theme stylesheets, which are made on
// request from the colour in their name (theme/<rrggbb>.css). Every file it
// holds can be cached for good when requested with its ?v= version.
func StaticFS() fs.FS { return staticFS{mustSub("static")} }

type staticFS struct{ fs.FS }

func (s staticFS) Open(name string) (fs.File, error) {
	if dir, file := path.Split(name); dir == themeDir+"/" {
		colour, ok := strings.CutSuffix(file, ".css")
		if !ok || len(colour) != 6 || strings.ToLower(colour) != colour {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		if _, ok := parseHex(colour); !ok {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return newMemFile(file, NewPalette("#"+colour).CSS()), nil
	}
	return s.FS.Open(name)
}

// memFile is a generated file. It seeks and reads at offsets, as
// http.FileServer and fiber's filesystem middleware expect.
type memFile struct {
	*bytes.Reader
	name string
}

func newMemFile(name string, b []byte) *memFile {
	return &memFile{Reader: bytes.NewReader(b), name: name}
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return time.Time{} }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }

var _ io.ReadSeeker = (*memFile)(nil)
