// Package policies holds the casbin model and the default role grants that
// apply to every tenant. core/authz loads them; tenants' own rules live in
// the database.
package policies

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
)

//go:embed model.conf
var model string

//go:embed default.csv
var defaults string

// Model is the casbin model text (RBAC with domains, domain = tenant id).
func Model() string { return model }

// Defaults is the text of default.csv: casbin policy lines, domain "*".
func Defaults() string { return defaults }

// DefaultRules are the lines of default.csv, each starting with its ptype
// ("p" or "g"), blank lines and comments left out.
func DefaultRules() ([][]string, error) {
	r := csv.NewReader(strings.NewReader(defaults))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1 // p and g lines differ in length
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse default.csv: %w", err)
	}
	for i, row := range rows {
		for j := range row {
			row[j] = strings.TrimSpace(row[j])
		}
		switch {
		case row[0] == "p" && len(row) == 5, row[0] == "g" && len(row) == 4:
		default:
			return nil, fmt.Errorf("parse default.csv: rule %d %q: want p with 4 fields or g with 3", i+1, row)
		}
	}
	return rows, nil
}
