package authz

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The roles of policies/default.csv. Tenants may name further roles in their
// own rules.
const (
	RoleCitizen       = "citizen"
	RoleOperator      = "operator"
	RoleOfficeManager = "office_manager"
	RoleTenantAdmin   = "tenant_admin"
	RolePlatformAdmin = "platform_admin"
)

// The actions a tenant rule may grant (policies/default.csv documents them).
const (
	ActionRead  = "read"
	ActionWrite = "write"
)

var (
	// ErrInvalidRule: a rule's role, object or action is not acceptable.
	ErrInvalidRule = errors.New("invalid authorization rule")
	// ErrInvalidSubject: a subject is neither a principal nor a role name.
	ErrInvalidSubject = errors.New("invalid authorization subject")
	// ErrNotFound: no such rule in the tenant.
	ErrNotFound = errors.New("authorization rule not found")
)

// Rule is one of a tenant's own grants: Role may do Action on Object.
type Rule struct {
	ID     int64
	Role   string
	Object string
	Action string
}

// Subject prefixes: the principals callers name.
const (
	userPrefix     = "user:"
	citizenPrefix  = "citizen:"
	platformPrefix = "platform:"
)

// UserSubject is the subject of a tenant's staff user.
func UserSubject(id int64) string { return userPrefix + strconv.FormatInt(id, 10) }

// CitizenSubject is the subject of a tenant's citizen.
func CitizenSubject(id int64) string { return citizenPrefix + strconv.FormatInt(id, 10) }

// PlatformSubject is the subject of a platform staff member.
func PlatformSubject(id int64) string { return platformPrefix + strconv.FormatInt(id, 10) }

var (
	roleName = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)
	// Path segments of lower-case words, keyMatch2 parameters (":id") and a
	// trailing "/*"; nothing a regular expression could read otherwise.
	objectPath = regexp.MustCompile(`^[a-z][a-z0-9_-]*(/([a-z0-9][a-z0-9_-]*|:[a-z][a-z0-9_]*))*(/\*)?$`)
)

const maxObjectLen = 128

// validateRule checks a tenant rule. A tenant may grant read or write on
// its own objects to any role but platform_admin; it may not grant "*" nor
// anything under "platform", which is the platform's, not the tenant's.
func validateRule(role, object, action string) error {
	if !roleName.MatchString(role) {
		return ruleError("role", "role %q: want %s", role, roleName)
	}
	if role == RolePlatformAdmin {
		return ruleError("role", "role %s is the platform's", role)
	}
	if len(object) > maxObjectLen || !objectPath.MatchString(object) {
		return ruleError("object", "object %q: want a path like backoffice/office/* or requests/:id", object)
	}
	if object == "platform" || strings.HasPrefix(object, "platform/") {
		return ruleError("object", "object %q is the platform's", object)
	}
	if action != ActionRead && action != ActionWrite {
		return ruleError("action", "action %q: want %s or %s", action, ActionRead, ActionWrite)
	}
	return nil
}

// RuleError says which field of a rule is wrong; it wraps ErrInvalidRule.
type RuleError struct {
	Field string // role, object or action
	Msg   string
}

func (e *RuleError) Error() string { return ErrInvalidRule.Error() + ": " + e.Msg }
func (e *RuleError) Unwrap() error { return ErrInvalidRule }

func ruleError(field, format string, args ...any) error {
	return &RuleError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Actions are the actions a tenant rule may grant.
func Actions() []string { return []string{ActionRead, ActionWrite} }

// casbinSubject maps a caller's subject to the name the policies know.
// Citizens and platform staff have exactly one role each, so they are
// checked as that role: no per-citizen role links to load (a tenant may
// have hundreds of thousands) and one memoised g() result for all of them.
// Anything else is refused rather than handed to casbin, so that no subject
// string can ever act as a pattern.
func casbinSubject(subject string) (string, error) {
	kind, id, ok := strings.Cut(subject, ":")
	if !ok {
		if roleName.MatchString(subject) {
			return subject, nil
		}
		return "", fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
	}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return "", fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
	}
	switch kind + ":" {
	case userPrefix:
		return subject, nil
	case citizenPrefix:
		return RoleCitizen, nil
	case platformPrefix:
		return RolePlatformAdmin, nil
	}
	return "", fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
}
