package relaytest_test

import (
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/consultation/relay/relaytest"
)

const within = 10 * time.Second

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(within):
		t.Fatalf("%s: nothing within %s", what, within)
	}
}

func TestDirectPair(t *testing.T) {
	offerer, answerer, err := relaytest.DirectPair()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = answerer.Close() }()
	defer func() { _ = offerer.Close() }()
	offerer.Send()
	answerer.Send()
	offerer.Send() // a second call changes nothing
	wait(t, offerer.Connected(), "offerer connected")
	wait(t, offerer.FirstMedia(), "offerer's first media")
	wait(t, answerer.FirstMedia(), "answerer's first media")

	deadline := time.Now().Add(within)
	for _, p := range []*relaytest.Peer{offerer, answerer} {
		for a, v := p.Received(); a == 0 || v == 0; a, v = p.Received() {
			if time.Now().After(deadline) {
				t.Fatalf("received audio %d, video %d: want both", a, v)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := offerer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := offerer.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	wait(t, answerer.Ended(), "answerer noticing the offerer left")
}

func TestNewPeerRejectsGarbage(t *testing.T) {
	if p, _, err := relaytest.NewPeer("not an offer"); err == nil {
		_ = p.Close()
		t.Fatal("NewPeer accepted a garbage offer")
	}
}
