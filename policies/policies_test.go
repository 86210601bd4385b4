package policies_test

import (
	"testing"

	"github.com/casbin/casbin/v2/model"

	"github.com/sportello/sportello/policies"
)

func TestModelParses(t *testing.T) {
	m, err := model.NewModelFromString(policies.Model())
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{"r", "p", "g", "e", "m"} {
		if _, ok := m[sec]; !ok {
			t.Errorf("model lacks section %s", sec)
		}
	}
}

// The loader in core/authz relies on these shapes: every default line is for
// every tenant, and actions stay inside the documented vocabulary.
func TestDefaultRules(t *testing.T) {
	rules, err := policies.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("no default rules")
	}
	roles := map[string]bool{}
	for _, r := range rules {
		switch r[0] {
		case "p":
			if r[2] != "*" {
				t.Errorf("%v: default grant not for every tenant (domain %q)", r, r[2])
			}
			if a := r[4]; a != "read" && a != "write" && a != "*" {
				t.Errorf("%v: action %q outside the vocabulary", r, a)
			}
			roles[r[1]] = true
		case "g":
			if r[3] != "*" {
				t.Errorf("%v: default role link not for every tenant (domain %q)", r, r[3])
			}
		}
	}
	for _, role := range []string{"citizen", "operator", "office_manager", "tenant_admin", "platform_admin"} {
		if !roles[role] {
			t.Errorf("role %s has no default grant", role)
		}
	}
}
