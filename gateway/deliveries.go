package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/queue"
)

// DeliveryFilter selects an endpoint's deliveries.
type DeliveryFilter struct {
	// Status keeps deliveries in this status; empty keeps all.
	Status DeliveryStatus
	// Limit caps the page; default 50, at most 1000.
	Limit int
	// Cursor is the next_cursor of the previous page.
	Cursor string
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Data []*Delivery `json:"data"`
	Next string      `json:"next_cursor,omitempty"`
}

// ListDeliveries lists an endpoint's deliveries, newest first.
func (s *Service) ListDeliveries(ctx context.Context, endpointID string, f DeliveryFilter) (*DeliveryPage, error) {
	if f.Status != "" && !f.Status.valid() {
		return nil, invalid("status", "must be one of pending, paused, succeeded, failed, canceled")
	}
	if _, ok := s.endpoint(endpointID); !ok {
		return nil, fmt.Errorf("endpoint %s: %w", endpointID, ErrNotFound)
	}
	limit := clampLimit(f.Limit)
	page := &DeliveryPage{Data: []*Delivery{}}
	prefix := epDeliveryPrefix(endpointID)
	err := s.db.View(func(r *queue.Reader) error {
		var start []byte
		if f.Cursor != "" {
			var d Delivery
			if err := load(r, deliveryKey(f.Cursor), &d); err != nil || d.EndpointID != endpointID {
				return invalid("cursor", "is not a cursor of this list")
			}
			// Reverse scans start at the given key inclusive: step just below the cursor.
			start = epDeliveryKey(endpointID, d.CreatedAt, d.ID)
		}
		scanned := 0
		return r.Scan(prefix, start, true, func(k, _ []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			_, id := splitTimeKey(prefix, k)
			if id == f.Cursor {
				return true, nil
			}
			if len(page.Data) == limit || scanned == maxScan {
				if n := len(page.Data); n > 0 {
					page.Next = page.Data[n-1].ID
				}
				return false, nil
			}
			scanned++
			var d Delivery
			if err := load(r, deliveryKey(id), &d); err != nil {
				return false, err
			}
			if f.Status == "" || d.Status == f.Status {
				page.Data = append(page.Data, &d)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", endpointID, err)
	}
	return page, nil
}

// GetDelivery returns a delivery with its attempts.
func (s *Service) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	err := s.db.View(func(r *queue.Reader) error { return load(r, deliveryKey(id), &d) })
	if err != nil {
		return nil, fmt.Errorf("delivery %s: %w", id, err)
	}
	return &d, nil
}

// RetryDelivery queues a delivery for an attempt now, with a fresh retry schedule. It is
// for deliveries that failed or were canceled, and also hurries a pending one.
func (s *Service) RetryDelivery(ctx context.Context, id string) error {
	if err := s.admit(); err != nil {
		return err
	}
	err := s.db.Update(ctx, func(tx *queue.Txn) error {
		var d Delivery
		if err := load(tx, deliveryKey(id), &d); err != nil {
			return err
		}
		ep, ok := s.endpoint(d.EndpointID)
		if !ok {
			return fmt.Errorf("its endpoint %s was deleted: %w", d.EndpointID, ErrConflict)
		}
		if !ep.Enabled {
			return fmt.Errorf("its endpoint %s: %w: enable it to send its paused deliveries", d.EndpointID, ErrEndpointDisabled)
		}
		return s.requeue(tx, &d)
	})
	if err != nil {
		return fmt.Errorf("retry delivery %s: %w", id, err)
	}
	return nil
}

// requeue makes d pending now with a fresh schedule. Caller checked the endpoint.
func (s *Service) requeue(tx *queue.Txn, d *Delivery) error {
	now := s.now().UTC()
	if d.Status == StatusPaused {
		tx.Delete(epPausedKey(d.EndpointID, d.ID))
	}
	d.Status, d.NextAttemptAt, d.Step, d.UpdatedAt = StatusPending, &now, 0, now
	tx.Schedule(d.ID, now, []byte(d.EndpointID))
	return save(tx, deliveryKey(d.ID), d)
}

// ReplayEndpoint queues again every delivery of an endpoint created at or after since whose
// status is status (failed by default; also canceled or succeeded), and reports how many.
func (s *Service) ReplayEndpoint(ctx context.Context, id string, since time.Time, status DeliveryStatus) (int, error) {
	if err := s.admit(); err != nil {
		return 0, err
	}
	if status == "" {
		status = StatusFailed
	}
	switch status {
	case StatusFailed, StatusCanceled, StatusSucceeded:
	default:
		return 0, invalid("status", "must be failed, canceled or succeeded")
	}
	ep, ok := s.endpoint(id)
	if !ok {
		return 0, fmt.Errorf("endpoint %s: %w", id, ErrNotFound)
	}
	if !ep.Enabled {
		return 0, fmt.Errorf("endpoint %s: %w: enable it first", id, ErrEndpointDisabled)
	}
	prefix := epDeliveryPrefix(id)
	start := epDeliveryKey(id, since, "")
	total := 0
	for {
		// Find the next chunk in a snapshot, outside the write path: the endpoint's
		// deliveries that don't match may be many, and publishes share the transaction.
		var (
			ids  []string
			next []byte
		)
		done := true
		err := s.db.View(func(r *queue.Reader) error {
			return r.Scan(prefix, start, false, func(k, _ []byte) (bool, error) {
				if len(ids) == drainChunk {
					done = false
					return false, nil
				}
				next = append(append(next[:0], k...), 0) // continue just after the last key read
				_, did := splitTimeKey(prefix, k)
				var d Delivery
				if err := load(r, deliveryKey(did), &d); err != nil {
					if errors.Is(err, ErrNotFound) {
						return true, nil
					}
					return false, err
				}
				if d.Status == status {
					ids = append(ids, did)
				}
				return true, nil
			})
		})
		if err != nil {
			return total, fmt.Errorf("replay endpoint %s: %w", id, err)
		}
		n := 0
		err = s.db.Update(ctx, func(tx *queue.Txn) error {
			n = 0
			for _, did := range ids {
				var d Delivery
				if err := load(tx, deliveryKey(did), &d); errors.Is(err, ErrNotFound) {
					continue
				} else if err != nil {
					return err
				}
				if d.Status != status {
					continue // moved since the scan (an attempt, a retry)
				}
				if err := s.requeue(tx, &d); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("replay endpoint %s: %w", id, err)
		}
		total += n
		if done {
			return total, nil
		}
		start = next
	}
}
