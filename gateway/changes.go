package gateway

import "sync"

// changes is a broadcast of "something changed": each waiter takes the current channel,
// and the next change closes it (and starts a new one), so that any number of waiters are
// woken without the writer blocking or knowing them.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns the channel the next change closes.
func (c *changes) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// fire wakes every waiter. Without waiters it costs a lock.
func (c *changes) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// Changed returns a channel that is closed at the next change this Service makes to what
// event and delivery lists show: an event appended (published or caught), or a delivery
// saved (an attempt recorded, a retry, a replay, paused deliveries resumed or canceled).
// A watcher reads what it shows after taking the channel, then waits on it and takes a
// fresh one, so that nothing in between is missed; one close may stand for many changes.
// Events appended by other processes sharing the store are not included: WaitFor("*", "")
// reports those.
func (s *Service) Changed() <-chan struct{} { return s.changes.wait() }
