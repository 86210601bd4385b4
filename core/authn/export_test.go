package authn

// Internals the tests of package authn_test look at.
var (
	DummyHash      = dummyHash
	PasswordParams = passwordParams
	NeedsRehash    = needsRehash
)
