package main_test

import (
	"regexp"
	"strings"
	"testing"
)

// An operator issues a key for a town's Open311 apps and revokes it; the
// key is printed once and the command refuses what it cannot do.
func TestOpen311APIKeyCommands(t *testing.T) {
	c := newCLI(t)
	if _, stderr, code := c.run("migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	if out, stderr, code := c.run("tenant", "apply", "-f", "tenants"); code != 0 {
		t.Fatalf("apply: %d %s %s", code, out, stderr)
	}
	out, stderr, code := c.run("open311", "api-key", "create", "--tenant", "venezia", "--label", "Segnalazioni app")
	key := regexp.MustCompile(`(?m)^o311_[A-Za-z0-9_-]{43}$`).FindString(out)
	id := regexp.MustCompile(`key (\d+) for venezia`).FindStringSubmatch(out)
	if code != 0 || key == "" || id == nil {
		t.Fatalf("create: %d %q %s", code, out, stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown town", []string{"api-key", "create", "--tenant", "atlantide"}, 1, "atlantide"},
		{"no town", []string{"api-key", "create", "--label", "x"}, 2, "--tenant"},
		{"a label too long", []string{"api-key", "create", "--tenant", "venezia", "--label", strings.Repeat("x", 101)}, 1, "label"},
		{"no subcommand", []string{"keys"}, 2, "api-key"},
		{"revoke without an id", []string{"api-key", "revoke", "--tenant", "venezia"}, 2, "--id"},
		{"revoke another town's key", []string{"api-key", "revoke", "--tenant", "lugano", "--id", id[1]}, 1, "not found"},
		{"revoke", []string{"api-key", "revoke", "--tenant", "venezia", "--id", id[1]}, 0, "revoked"},
		{"revoke again", []string{"api-key", "revoke", "--tenant", "venezia", "--id", id[1]}, 0, "revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := c.run(append([]string{"open311"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+stderr, tc.want) {
				t.Errorf("exit %d (want %d), output %q %q, want it to mention %q", code, tc.code, out, stderr, tc.want)
			}
		})
	}
}
