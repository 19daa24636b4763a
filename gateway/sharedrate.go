package gateway

import (
	"context"
	"time"
)

// SharedRates is implemented by a Store that several processes share (queue/jetstream), so
// that an endpoint's rate_limit_per_s holds for all of them together rather than for each.
// It keeps a few times by key where every process reads and updates them atomically: per
// rate-limited endpoint, the theoretical arrival time of its next delivery, and per
// delivery deferred to a later slot, that slot (so that whichever process leases the
// delivery when the slot comes sends it without taking another). A Store without it
// (queue/badger, queue/memory: one process) is limited by each dispatcher's own state. The
// rate computation is the gateway's, the same for both (gcra).
type SharedRates interface {
	// UpdateRate applies f to the time stored under key (zero when there is none) and
	// stores what f returns (a zero time removes key), atomically with respect to every
	// process: when another changed it meanwhile, it reads it again and applies f again,
	// so f may run several times. Keys are made of letters, digits, '_', '-' and '.'. A
	// time more than an hour past may be forgotten (read as zero).
	UpdateRate(ctx context.Context, key string, f func(t time.Time) time.Time) error
}

// sharedRateTimeout bounds the store calls for one delivery's slot: past it the
// dispatcher limits that delivery with its own state rather than stall the lease loop.
const sharedRateTimeout = 2 * time.Second

// sharedSlot decides, with the store's shared state, when the delivery job to an endpoint
// limited to rate per second may go: at or before now (go), or later (the slot it holds,
// kept for it whichever process leases it then). ok is false when the store could not be
// asked; the caller limits with its own state instead.
func (d *dispatcher) sharedSlot(rates SharedRates, job Job, rate float64, now time.Time) (slot time.Time, ok bool) {
	ctx, cancel := context.WithTimeout(d.attempts, sharedRateTimeout)
	defer cancel()
	held := job.Endpoint + "." + job.Delivery
	// A slot this delivery holds from an earlier lease (here or on another node): due,
	// it is used up; not yet due, the delivery waits for it.
	err := rates.UpdateRate(ctx, held, func(t time.Time) time.Time {
		slot = t
		if !t.IsZero() && !now.Before(t) {
			return time.Time{}
		}
		return t
	})
	if err == nil && !slot.IsZero() {
		return slot, true
	}
	if err == nil {
		err = rates.UpdateRate(ctx, job.Endpoint, func(tat time.Time) time.Time {
			var next time.Time
			next, slot = gcra(tat, now, rate)
			return next
		})
	}
	if err == nil && slot.After(now) {
		err = rates.UpdateRate(ctx, held, func(time.Time) time.Time { return slot })
	}
	if err != nil {
		d.s.log.Warn("shared rate limit unavailable: limiting on this node alone", "endpoint", job.Endpoint, "delivery", job.Delivery, "err", err)
		return time.Time{}, false
	}
	return slot, true
}
