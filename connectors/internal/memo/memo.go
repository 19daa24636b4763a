// Package memo keeps values made from string keys, so that what a hot path derives from a
// setting (an endpoint's URL parsed, an HMAC keyed with its secret) is made once per
// setting rather than once per use. A Cache holds a bounded number of keys and then starts
// over, so that keys nothing uses any more (an endpoint's old URL, a rotated-out secret)
// don't pile up.
package memo

import (
	"sync"
	"sync/atomic"
)

// DefaultMax is how many keys a Cache with Max 0 keeps before it starts over.
const DefaultMax = 4096

// Cache maps keys to the values made from them. The zero value is ready to use; it is safe
// for concurrent use and must not be copied after first use.
type Cache[V any] struct {
	// Max is how many keys it keeps before it forgets them all and starts over; 0 means
	// DefaultMax.
	Max int64

	m sync.Map // string → V
	n atomic.Int64
}

// Get returns the value for key: the one kept, or else what build returns, which is kept
// unless build fails. Two callers making the same key at once both get the value kept first.
func (c *Cache[V]) Get(key string, build func(key string) (V, error)) (V, error) {
	if v, ok := c.m.Load(key); ok {
		return v.(V), nil
	}
	v, err := build(key)
	if err != nil {
		return v, err
	}
	max := c.Max
	if max <= 0 {
		max = DefaultMax
	}
	if c.n.Add(1) > max {
		c.m.Clear()
		c.n.Store(1)
	}
	if prev, loaded := c.m.LoadOrStore(key, v); loaded {
		return prev.(V), nil
	}
	return v, nil
}
