// Package inbox keeps the last messages a development catcher received
// (e-mails, texts) and lets a test wait for the one it expects.
package inbox

import (
	"sync"
	"time"
)

// Inbox holds the last messages of one kind, oldest first.
type Inbox[T any] struct {
	keep  int
	mu    sync.Mutex
	items []T
	wait  chan struct{} // closed and replaced at every new message
}

// New keeps the last keep messages.
func New[T any](keep int) *Inbox[T] {
	return &Inbox[T]{keep: keep, wait: make(chan struct{})}
}

// Add keeps m, dropping the oldest past the limit, and wakes the waiters.
func (b *Inbox[T]) Add(m T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items = append(b.items, m)
	if len(b.items) > b.keep {
		b.items = b.items[len(b.items)-b.keep:]
	}
	close(b.wait)
	b.wait = make(chan struct{})
}

// All are the messages kept, oldest first.
func (b *Inbox[T]) All() []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]T(nil), b.items...)
}

// WaitFor returns the first message for which match is true, waiting up
// to timeout for it to arrive.
func (b *Inbox[T]) WaitFor(timeout time.Duration, match func(T) bool) (T, bool) {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		for _, m := range b.items {
			if match(m) {
				b.mu.Unlock()
				return m, true
			}
		}
		wait := b.wait
		b.mu.Unlock()
		select {
		case <-wait:
		case <-deadline:
			var zero T
			return zero, false
		}
	}
}
