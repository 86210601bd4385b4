package server

import (
	"strings"
	"testing"
)

func TestTileSource(t *testing.T) {
	tests := []struct {
		tmpl, want, err string
	}{
		{"", "", ""},
		{"https://tile.example/{z}/{x}/{y}.png", "https://tile.example", ""},
		{"https://{s}.tile.openstreetmap.org/{z}/{x}/{y}{r}.png", "https://*.tile.openstreetmap.org", ""},
		{"http://127.0.0.1:8081/tiles/{z}/{x}/{-y}.png?key=abc", "http://127.0.0.1:8081", ""},
		{"https://tiles.example:8443/{z}/{x}/{y}.png", "https://tiles.example:8443", ""},
		{"https://tile.example/{z}/{x}.png", "", "{z}, {x} and {y} are needed"},
		{"https://tile.example/{z}/{x}/{y}.png?k={apikey}", "", "{apikey} is not filled in"},
		{"ftp://tile.example/{z}/{x}/{y}.png", "", "http:// or https://"},
		{"//tile.example/{z}/{x}/{y}.png", "", "http:// or https://"},
		{"/tiles/{z}/{x}/{y}.png", "", "http:// or https://"},
		{"https://user:pw@tile.example/{z}/{x}/{y}.png", "", "user or password"},
		{"https://{z}.tile.example/{x}/{y}.png", "", "before the host"},
		{"https://tile.example/{z}/{x}/{y}.png; script-src *", "", "spaces"},
		{"https://tile.example;/{z}/{x}/{y}.png", "", "semicolons"},
		{"https://tile_example/{z}/{x}/{y}.png", "", "no host name"},
		{"https:///{z}/{x}/{y}.png", "", "host name"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			got, err := tileSource(tt.tmpl)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one saying %q", err, tt.err)
			case got != tt.want:
				t.Errorf("source %q, want %q", got, tt.want)
			}
		})
	}
}
