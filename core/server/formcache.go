package server

import (
	"crypto/sha256"
	"sync"

	"github.com/sportello/sportello/core/forms"
)

// formCache keeps the forms parsed from the plugins' JSON Schemas: a
// service page, an action and a back office step each need one, and
// compiling a schema took a fifth of the host's time on a booking. A form
// is safe for concurrent use, and a schema's bytes name it (a plugin's new
// manifest brings new bytes, so nothing has to be forgotten by hand).
type formCache struct {
	mu    sync.Mutex
	forms map[[sha256.Size]byte]*forms.Form
	opts  []forms.Option
}

// maxCachedForms bounds the cache; the catalogue's forms are a few dozen.
const maxCachedForms = 1000

func newFormCache(opts ...forms.Option) *formCache {
	return &formCache{forms: map[[sha256.Size]byte]*forms.Form{}, opts: opts}
}

// parse returns the form of schema, parsing it the first time. A schema
// that does not parse is not kept: its error comes again each time.
func (fc *formCache) parse(schema []byte) (*forms.Form, error) {
	key := sha256.Sum256(schema)
	fc.mu.Lock()
	f, ok := fc.forms[key]
	fc.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := forms.Parse(schema, fc.opts...)
	if err != nil {
		return nil, err
	}
	fc.mu.Lock()
	if len(fc.forms) >= maxCachedForms {
		fc.forms = map[[sha256.Size]byte]*forms.Form{}
	}
	fc.forms[key] = f
	fc.mu.Unlock()
	return f, nil
}
