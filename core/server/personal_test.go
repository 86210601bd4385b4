package server

import (
	"testing"
	"time"

	"github.com/sportello/sportello/web"
)

func TestAgeOf(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		code string
		want int
	}{
		{"RSSMRA80A01H501U", 46}, // 1 January 1980
		{"RSSNNA80A41F205X", 46}, // a woman: day 41 is the 1st
		{"BNCLRA60T12F205Z", 65}, // 12 December 1960: not yet 66
		{"BNCLRA60S02F205Z", 66}, // 2 November 1960
		{"VRDGPP10E20H501K", 16}, // 20 May 2010
		{"VRDGPP27E20H501K", 99}, // a year ahead of now is 1927
		{"RSSMRAULALMH501U", 46}, // omocodia: U=8, L=0, M=1
		{"RSSMRA80Z01H501U", -1}, // no month Z
		{"RSSMRA80B30H501U", -1}, // no 30 February
		{"RSSMRA80A00H501U", -1}, // no day 0
		{"short", -1},
		{"", -1},
	}
	for _, tt := range tests {
		if got := ageOf(tt.code, now); got != tt.want {
			t.Errorf("ageOf(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	svc := func(id, category string) categorised {
		return categorised{Service: web.Service{ID: id, Name: id}, category: category}
	}
	catalogue := []categorised{
		svc("helpdesk", "ambiente"), svc("certificates", "anagrafe-e-stato-civile"), svc("homecare", "salute-benessere-e-assistenza"),
		svc("summercamp", "educazione-e-formazione"), svc("kindergarten", "educazione-e-formazione"), svc("tari", "tributi-finanze-e-contravvenzioni"),
		svc("noisyworks", "ambiente"), svc("socialtransport", "mobilita-e-trasporti"),
	}
	ids := func(s []web.Service) []string {
		var out []string
		for _, v := range s {
			out = append(out, v.ID)
		}
		return out
	}
	tests := []struct {
		name string
		used map[string]int
		age  int
		want []string
	}{
		{"nobody known: the catalogue's order", nil, -1, []string{"helpdesk", "certificates", "homecare", "summercamp", "kindergarten", "tari"}},
		{"a parent's age", nil, 38, []string{"summercamp", "kindergarten", "helpdesk", "certificates", "homecare", "tari"}},
		{"an elderly person", nil, 78, []string{"homecare", "socialtransport", "helpdesk", "certificates", "summercamp", "kindergarten"}},
		{"history first", map[string]int{"noisyworks": 1}, 38, []string{"noisyworks", "helpdesk", "summercamp", "kindergarten", "certificates", "homecare"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(suggest(catalogue, tt.used, tt.age))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
