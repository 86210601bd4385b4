// Package migrations holds the numbered SQL migrations, embedded in the
// binary. Each file runs in its own transaction, in the order of its number.
package migrations

import "embed"

// Files are the migrations, named NNNN_description.sql.
//
//go:embed *.sql
var Files embed.FS
