package gateway

import "sync"

// broadcast tells waiters that new events were stored, without polling: each waiter holds
// the channel of the current generation, which is closed (and replaced) when events arrive.
type broadcast struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool
}

func newBroadcast() *broadcast { return &broadcast{ch: make(chan struct{})} }

// wait returns a channel that is closed when the next event arrives (or on close).
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// notify wakes every waiter.
func (b *broadcast) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	close(b.ch)
	b.ch = make(chan struct{})
}

func (b *broadcast) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.ch)
	}
}

// EventsChanged returns a channel that is closed when the next event is stored. A waiter
// reads what it needs (ListEvents after its cursor), then waits on a fresh EventsChanged
// taken before that read, so nothing stored in between is missed.
func (s *Service) EventsChanged() <-chan struct{} { return s.events.wait() }
