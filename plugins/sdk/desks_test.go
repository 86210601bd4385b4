package sdk

import (
	"reflect"
	"testing"
	"time"
)

func TestParseDesks(t *testing.T) {
	text := "urp: Ufficio relazioni con il pubblico\r\n" +
		"anagrafe: Anagrafe | Anna@Comune.it, luca@comune.it | mon wed 14:00-16:30\n" +
		"\n" +
		"senza nome\n" +
		"urp: Doppione\n" +
		"tributi: Tributi || sat 09:00-12:00 noon\n"
	got := ParseDesks(text)
	want := []Desk{
		{ID: "urp", Name: "Ufficio relazioni con il pubblico"},
		{ID: "anagrafe", Name: "Anagrafe", Operators: []string{"anna@comune.it", "luca@comune.it"}, Days: []string{"mon", "wed"},
			Opens: "14:00", Closes: "16:30"},
		{ID: "tributi", Name: "Tributi", Days: []string{"sat"}, Opens: "09:00", Closes: "12:00"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestDeskOpenAt(t *testing.T) {
	week := []string{"mon", "tue", "wed", "thu", "fri"}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, Zone)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	own := Desk{Days: []string{"wed"}, Opens: "14:00", Closes: "16:30"}
	cases := []struct {
		name string
		desk Desk
		t    string
		want bool
	}{
		{"the service's hours", Desk{}, "2026-03-04 10:00", true}, // a Wednesday
		{"before opening", Desk{}, "2026-03-04 08:59", false},
		{"at closing", Desk{}, "2026-03-04 12:30", false},
		{"on Saturday", Desk{}, "2026-03-07 10:00", false},
		{"its own hours", own, "2026-03-04 15:00", true},
		{"not the service's", own, "2026-03-04 10:00", false},
		{"its own day only", own, "2026-03-05 15:00", false},
		{"closing at midnight", Desk{Opens: "00:00", Closes: "00:00"}, "2026-03-04 23:59", true},
	}
	for _, c := range cases {
		if got := c.desk.OpenAt(at(c.t), week, "09:00", "12:30"); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
