package live

import (
	"testing"

	"github.com/sportello/sportello/core/store/pgtest"
)

// pg is the package's throwaway PostgreSQL, started once for all its
// tests; each test takes a fresh migrated database from it.
var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }
