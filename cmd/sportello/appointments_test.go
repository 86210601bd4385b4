package main_test

import (
	"regexp"
	"strings"
	"testing"
)

// An operator issues a key for an office's queue system and revokes it;
// the key is printed once and the command refuses what it cannot do.
func TestAppointmentsAPIKeyCommands(t *testing.T) {
	c := newCLI(t)
	if _, stderr, code := c.run("migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	if out, stderr, code := c.run("tenant", "apply", "-f", "tenants"); code != 0 {
		t.Fatalf("apply: %d %s %s", code, out, stderr)
	}
	out, stderr, code := c.run("appointments", "api-key", "create", "--tenant", "trezzo-sull-adda", "--office", "anagrafe", "--label", "Totem")
	key := regexp.MustCompile(`(?m)^spq_[A-Za-z0-9_-]{43}$`).FindString(out)
	id := regexp.MustCompile(`key (\d+) for trezzo-sull-adda/anagrafe`).FindStringSubmatch(out)
	if code != 0 || key == "" || id == nil {
		t.Fatalf("create: %d %q %s", code, out, stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an office without appointments", []string{"api-key", "create", "--tenant", "trezzo-sull-adda", "--office", "nowhere"}, 1, "nowhere"},
		{"an unknown town", []string{"api-key", "create", "--tenant", "atlantide", "--office", "anagrafe"}, 1, "atlantide"},
		{"no office", []string{"api-key", "create", "--tenant", "trezzo-sull-adda"}, 2, "--office"},
		{"no subcommand", []string{"keys"}, 2, "api-key"},
		{"revoke", []string{"api-key", "revoke", "--tenant", "trezzo-sull-adda", "--id", id[1]}, 0, "revoked"},
		{"revoke another town's key", []string{"api-key", "revoke", "--tenant", "lugano", "--id", id[1]}, 1, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := c.run(append([]string{"appointments"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+stderr, tc.want) {
				t.Errorf("exit %d (want %d), output %q %q, want it to mention %q", code, tc.code, out, stderr, tc.want)
			}
		})
	}
}
