package inbox

import (
	"slices"
	"testing"
	"time"
)

func TestInbox(t *testing.T) {
	b := New[int](3)
	for i := 1; i <= 5; i++ {
		b.Add(i)
	}
	if got := b.All(); !slices.Equal(got, []int{3, 4, 5}) {
		t.Fatalf("kept %v, want the last three", got)
	}
	// A waiter wakes when its message arrives, not before.
	done := make(chan int)
	go func() {
		m, ok := b.WaitFor(10*time.Second, func(m int) bool { return m == 7 })
		if !ok {
			m = -1
		}
		done <- m
	}()
	b.Add(6)
	select {
	case m := <-done:
		t.Fatalf("woke with %d before 7 came", m)
	case <-time.After(50 * time.Millisecond):
	}
	b.Add(7)
	if m := <-done; m != 7 {
		t.Fatalf("waited for 7, got %d", m)
	}
	if _, ok := b.WaitFor(20*time.Millisecond, func(m int) bool { return m == 99 }); ok {
		t.Fatal("found a message never sent")
	}
	// What All returns is a copy.
	all := b.All()
	all[0] = 100
	if b.All()[0] == 100 {
		t.Fatal("All shares the inbox's memory")
	}
}
