package tenancy_test

import (
	"errors"
	"testing"

	"github.com/sportello/sportello/core/tenancy"
)

// A mistake in the appointments section is reported like any other: with
// the file, the field and the line.
func TestAppointmentSectionErrors(t *testing.T) {
	base := "slug: ok\nname: Ok\nlanguages: [it]\noffices:\n  - slug: anagrafe\n    name: {it: Anagrafe}\n" +
		"    hours:\n      - {days: [mon], open: \"09:00\", close: \"12:00\"}\n  - slug: closed\n    name: {it: Chiuso}\n"
	good := "appointments:\n  topics:\n    - {id: cie, name: {it: CIE}}\n  offices:\n    - office: anagrafe\n      topics: [cie]\n"
	if m, err := tenancy.ParseManifest("tenants/x.yaml", []byte(base+good), t.TempDir()); err != nil || m.Appointments.Zone() != "Europe/Rome" {
		t.Fatalf("a valid section: %v", err)
	}
	cases := []struct {
		name, yaml, field string
		line              int
	}{
		{"unknown zone", "appointments:\n  time_zone: Europe/Atlantis\n", "appointments.time_zone", 12},
		{"slot too long", "appointments:\n  slot_minutes: 600\n", "appointments.slot_minutes", 12},
		{"negative deadline", "appointments:\n  cancel_deadline_hours: -1\n", "appointments.cancel_deadline_hours", 12},
		{"no topics", "appointments:\n  offices:\n    - office: anagrafe\n      topics: [cie]\n", "appointments.topics", 0},
		{"bad topic id", "appointments:\n  topics:\n    - {id: Carta Identità, name: {it: CIE}}\n", "appointments.topics[0].id", 13},
		{"topic without a name", "appointments:\n  topics:\n    - {id: cie}\n", "appointments.topics[0].name", 0},
		{"unknown office", "appointments:\n  topics:\n    - {id: cie, name: {it: CIE}}\n  offices:\n    - office: nowhere\n      topics: [cie]\n", "appointments.offices[0].office", 15},
		{"unknown topic of an office", "appointments:\n  topics:\n    - {id: cie, name: {it: CIE}}\n  offices:\n    - office: anagrafe\n      topics: [cie, pasta]\n", "appointments.offices[0].topics[1]", 16},
		{"too many desks", "appointments:\n  topics:\n    - {id: cie, name: {it: CIE}}\n  offices:\n    - office: anagrafe\n      desks: 99\n      topics: [cie]\n", "appointments.offices[0].desks", 16},
		{"office without hours", "appointments:\n  topics:\n    - {id: cie, name: {it: CIE}}\n  offices:\n    - office: closed\n      topics: [cie]\n", "appointments.offices[0].hours", 0},
		{"bad closure date", good + "  closures:\n    - {from: \"24/12/2026\", to: \"2026-12-26\"}\n", "appointments.closures[0].from", 0},
		{"closure ends before it starts", good + "  closures:\n    - {from: \"2026-12-26\", to: \"2026-12-24\"}\n", "appointments.closures[0].to", 0},
		{"closure of an office without appointments", good + "  closures:\n    - {from: \"2026-12-24\", to: \"2026-12-24\", offices: [closed]}\n", "appointments.closures[0].offices[0]", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tenancy.ParseManifest("tenants/x.yaml", []byte(base+tc.yaml), t.TempDir())
			var me *tenancy.ManifestError
			if !errors.As(err, &me) || !errors.Is(err, tenancy.ErrInvalidManifest) {
				t.Fatalf("got %v, want a ManifestError", err)
			}
			if me.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", me.Field, tc.field, err)
			}
			if tc.line != 0 && me.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", me.Line, tc.line, err)
			}
		})
	}
}
