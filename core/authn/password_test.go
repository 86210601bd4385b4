package authn_test

import (
	"testing"

	"github.com/alexedwards/argon2id"

	"github.com/sportello/sportello/core/authn"
)

func TestHashAndVerifyPassword(t *testing.T) {
	h := hash(t, "correct horse battery staple")
	for _, tc := range []struct {
		name     string
		password string
		hash     string
		match    bool
		err      bool
	}{
		{"right password", "correct horse battery staple", h, true, false},
		{"wrong password", "correct horse battery stapler", h, false, false},
		{"empty password", "", h, false, false},
		{"dummy hash matches nothing typed", "", authn.DummyHash, false, false},
		{"empty hash", "x", "", false, true},
		{"garbage hash", "x", "$argon2id$nonsense", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := authn.VerifyPassword(tc.password, tc.hash)
			if (err != nil) != tc.err || ok != tc.match {
				t.Fatalf("VerifyPassword = %v, %v; want match %v, error %v", ok, err, tc.match, tc.err)
			}
		})
	}
	if h2 := hash(t, "correct horse battery staple"); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

// The dummy hash must cost what a real one costs, or timing tells which
// accounts exist.
func TestDummyHashHasCurrentParameters(t *testing.T) {
	p, _, _, err := argon2id.DecodeHash(authn.DummyHash)
	if err != nil {
		t.Fatal(err)
	}
	if *p != *authn.PasswordParams() {
		t.Fatalf("dummy hash parameters %+v, new hashes use %+v", *p, *authn.PasswordParams())
	}
	if authn.NeedsRehash(hash(t, "x")) {
		t.Fatal("a fresh hash needs rehashing")
	}
	old, _ := argon2id.CreateHash("x", &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if !authn.NeedsRehash(old) {
		t.Fatal("a hash with other costs does not need rehashing")
	}
}

// The cost a login pays; passwordParams' comment quotes it.
func BenchmarkVerifyPassword(b *testing.B) {
	h, _ := authn.HashPassword("correct horse battery staple")
	for b.Loop() {
		_, _ = authn.VerifyPassword("correct horse battery staple", h)
	}
}
