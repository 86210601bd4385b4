package authn

import (
	"context"
	"fmt"

	"github.com/alexedwards/argon2id"
)

// passwordParams are the argon2id costs of new hashes. Sized for a 2-core
// server: OWASP's first recommended set (19 MiB, 2 passes, 1 lane) costs
// about 25 ms of one core (BenchmarkVerifyPassword), so the two cores
// verify ~80 logins a second while an offline guesser pays 19 MiB and two
// passes over it per guess. One lane rather than two: two logins at once
// then each get a core instead of fighting over both.
// Changing these is safe: old hashes keep their own parameters (they are in
// the PHC string) and are rehashed at the next successful login.
func passwordParams() *argon2id.Params {
	return &argon2id.Params{
		Memory:      19 * 1024,
		Iterations:  2,
		Parallelism: 1,
		SaltLength:  16,
		KeyLength:   32,
	}
}

// dummyHash has passwordParams' cost and matches no password anyone types:
// verifying against it when the account does not exist takes as long as a
// real check, so response times do not tell which e-mails have accounts.
// A test keeps its parameters in step with passwordParams.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c3BvcnRlbGxvLmR1bW15IQ$UPCT4k6AnAxJg2ztfItQiAVYB/Q1SNDMafUX8zkoQms"

// HashPassword returns the argon2id hash of password as a PHC string, the
// form the password_hash columns hold.
func HashPassword(password string) (string, error) {
	h, err := argon2id.CreateHash(password, passwordParams())
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// VerifyPassword reports whether password matches hash. An error means the
// hash itself is unusable, not that the password is wrong.
func VerifyPassword(password, hash string) (bool, error) {
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}

// needsRehash reports whether hash was made with other costs than today's.
func needsRehash(hash string) bool {
	p, _, _, err := argon2id.DecodeHash(hash)
	return err != nil || *p != *passwordParams()
}

// verify checks a password while holding one of the hashing slots: each
// check takes 19 MiB and a core for ~25 ms, and a flood of logins must queue
// rather than exhaust the server's memory.
func (a *Authenticator) verify(ctx context.Context, password, hash string) (bool, error) {
	select {
	case a.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.hashSlots }()
	return VerifyPassword(password, hash)
}

// Argon2 is HashPassword and VerifyPassword as a value, for code that is
// handed a hasher (tenancy.Apply writes staff accounts with it).
type Argon2 struct{}

// Hash is HashPassword.
func (Argon2) Hash(password string) (string, error) { return HashPassword(password) }

// Verify reports whether password matches hash; a malformed hash matches nothing.
func (Argon2) Verify(password, hash string) bool {
	ok, err := VerifyPassword(password, hash)
	return err == nil && ok
}
