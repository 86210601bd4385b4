package forms

import (
	"fmt"
	"math/big"
	"slices"
)

// mapWidget draws an object of coordinates as a fieldset with a map beside
// its inputs: the inputs post the answer (and work without JavaScript or
// tiles), the map and the "use my position" button only fill them in.
const mapWidget = "map"

// mapZoom is the zoom of "x-center" without "x-zoom": a few streets.
const mapZoom = 15

// mapSpec is where the map of a "map" field starts.
type mapSpec struct {
	center string // "lat,lon" of "x-center"; "" for none
	zoom   int    // with center
}

// mapLimit is the bound of each coordinate a map's object holds, which its
// schema must keep within, so that the schema itself refuses a point off
// the globe.
func mapLimit(name string) int64 {
	if name == "lat" {
		return 90
	}
	return 180
}

// readMap checks a "map" object, whose fields fd.children were read from
// sch: lat and lon numbers within the globe, an optional address string and
// nothing else; and reads "x-center" and "x-zoom", which mean nothing on
// other fields and are refused there.
func (fd *field) readMap(sch map[string]any, widget string) error {
	_, hasCenter := sch["x-center"]
	_, hasZoom := sch["x-zoom"]
	bad := func(format string, args ...any) error {
		return &SchemaError{Field: fd.name, Reason: fmt.Sprintf(format, args...)}
	}
	if widget != mapWidget {
		if hasCenter || hasZoom {
			return bad(`"x-center" and "x-zoom" belong to "x-widget": "map"`)
		}
		return nil
	}
	props, _ := sch["properties"].(map[string]any)
	for _, c := range fd.children {
		own := lastName(c.name)
		if own != "lat" && own != "lon" && own != "address" {
			return bad(`a map holds "lat", "lon" and optionally "address": %q is none of them`, own)
		}
		csch, _ := props[own].(map[string]any)
		if own == "address" {
			if c.kind != kindString || c.file != nil || len(c.options) > 0 || (c.widget != "input" && c.widget != "textarea") {
				return &SchemaError{Field: c.name, Reason: `a map's "address" is a string drawn as input or textarea`}
			}
			continue
		}
		lim := mapLimit(own)
		if c.kind != kindNumber || c.widget != "input" || len(c.options) > 0 {
			return &SchemaError{Field: c.name, Reason: fmt.Sprintf(`a map's %q is a "number" drawn as input`, own)}
		}
		if !within(csch, lim) {
			return &SchemaError{Field: c.name, Reason: fmt.Sprintf(`a map's %q needs "minimum": -%d and "maximum": %d (or bounds within them), so that the schema refuses a point off the globe`, own, lim, lim)}
		}
	}
	for _, want := range []string{"lat", "lon"} {
		if !slices.ContainsFunc(fd.children, func(c *field) bool { return lastName(c.name) == want }) {
			return bad(`a map needs the number %q`, want)
		}
	}
	if hasCenter {
		list, ok := sch["x-center"].([]any)
		var lat, lon *big.Rat
		if ok && len(list) == 2 {
			lat, lon = ratOf(list[0]), ratOf(list[1])
		}
		if lat == nil || lon == nil || !inRange(lat, 90) || !inRange(lon, 180) {
			return bad(`"x-center" must be [latitude, longitude], such as [45.5, 9.4]`)
		}
		fd.mapView = &mapSpec{center: attrNumber(lat) + "," + attrNumber(lon), zoom: mapZoom}
	}
	if hasZoom {
		z, ok := intOf(sch["x-zoom"])
		switch {
		case !hasCenter:
			return bad(`"x-zoom" is the zoom at "x-center", which is missing`)
		case !ok || z < 1 || z > 19:
			return bad(`"x-zoom" must be a whole number from 1 (the world) to 19 (a building)`)
		}
		fd.mapView.zoom = z
	}
	if fd.mapView == nil {
		fd.mapView = &mapSpec{}
	}
	return nil
}

// within reports whether a coordinate's schema bounds it to [-limit, limit].
func within(sch map[string]any, limit int64) bool {
	lo, hi := ratOf(sch["minimum"]), ratOf(sch["maximum"])
	if lo == nil {
		lo = ratOf(sch["exclusiveMinimum"])
	}
	if hi == nil {
		hi = ratOf(sch["exclusiveMaximum"])
	}
	return lo != nil && hi != nil && inRange(lo, limit) && inRange(hi, limit)
}

func inRange(r *big.Rat, limit int64) bool {
	l := big.NewRat(limit, 1)
	return r.Cmp(l) <= 0 && r.Cmp(new(big.Rat).Neg(l)) >= 0
}
