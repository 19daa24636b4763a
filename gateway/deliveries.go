package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DeliveryFilter selects deliveries, of one endpoint or across all.
type DeliveryFilter struct {
	// Status keeps deliveries in this status; empty keeps all.
	Status DeliveryStatus
	// Type keeps deliveries of events whose type matches this type or pattern ("video.*");
	// empty keeps all.
	Type string
	// Since and Until bound when the deliveries were created (zero: unbounded).
	Since, Until time.Time
	// Limit caps the page; default 50, at most 1000.
	Limit int
	// Cursor is the next_cursor of the previous page.
	Cursor string
}

// DeliveryPage is one page of deliveries, newest first. Next is set, and More true, while
// deliveries are left to read: a page cut short by the bound on how many records one call
// reads may hold fewer than the limit, even none.
type DeliveryPage struct {
	Data []*Delivery `json:"data"`
	Next string      `json:"next_cursor,omitempty"`
	More bool        `json:"has_more"`
}

// typeScans is how many store reads a list filtered by event type makes at most, each of
// up to maxScan/typeScans records, so that one call reads at most maxScan records.
const typeScans = 20

// ListDeliveries lists deliveries newest first: an endpoint's, or every endpoint's when
// endpointID is empty.
func (s *Service) ListDeliveries(ctx context.Context, endpointID string, f DeliveryFilter) (*DeliveryPage, error) {
	if f.Status != "" && !f.Status.valid() {
		return nil, invalid("status", "must be one of pending, paused, succeeded, failed, canceled")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return nil, invalid("until", "is before since")
	}
	what := "list deliveries"
	if endpointID != "" {
		what += " of " + endpointID
		if _, ok := s.endpoint(endpointID); !ok {
			return nil, fmt.Errorf("endpoint %s: %w", endpointID, ErrNotFound)
		}
	}
	if f.Cursor != "" {
		d, err := s.store.Delivery(ctx, f.Cursor)
		if err != nil || endpointID != "" && d.EndpointID != endpointID {
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			return nil, invalid("cursor", "is not a cursor of this list")
		}
	}
	limit := ClampLimit(f.Limit)
	q := DeliveryQuery{Endpoint: endpointID, Status: f.Status, Since: f.Since, Until: f.Until, After: f.Cursor, Limit: limit, MaxScan: maxScan}
	page := &DeliveryPage{Data: []*Delivery{}}
	if f.Type == "" {
		r, err := s.store.ListDeliveries(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		page.Data = append(page.Data, r.Deliveries...)
		page.Next, page.More = r.Next, r.Next != ""
		return page, nil
	}
	// By event type: the store reads full pages, the Service keeps the matching ones.
	q.Limit, q.MaxScan = 1000, maxScan/typeScans
	for range typeScans {
		r, err := s.store.ListDeliveries(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		for _, d := range r.Deliveries {
			if !MatchType(f.Type, d.EventType) {
				continue
			}
			if len(page.Data) == limit {
				page.Next, page.More = page.Data[limit-1].ID, true
				return page, nil
			}
			page.Data = append(page.Data, d)
		}
		if r.Next == "" {
			return page, nil
		}
		q.After = r.Next
	}
	page.Next, page.More = q.After, true
	return page, nil
}

// GetDelivery returns a delivery with its attempts.
func (s *Service) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	d, err := s.store.Delivery(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("delivery %s: %w", id, err)
	}
	s.fillSentEnvelopes(ctx, d)
	return d, nil
}

// fillSentEnvelopes sets the RequestBody of d's attempts that sent the event's envelope
// unchanged (Attempt.RequestEnvelope) from the stored event. An event that can't be read
// leaves them empty: the delivery is still worth showing.
func (s *Service) fillSentEnvelopes(ctx context.Context, d *Delivery) {
	var body []byte
	for i := range d.Attempts {
		a := &d.Attempts[i]
		if !a.RequestEnvelope || a.RequestBody != "" {
			continue
		}
		if body == nil {
			ev, err := s.store.Event(ctx, d.EventID)
			if err != nil {
				s.log.Debug("the envelope an attempt sent can't be shown", "delivery", d.ID, "event", d.EventID, "err", err)
				return
			}
			body = ev.Body()
		}
		a.RequestBody = string(truncate(body, MaxRequestBody))
	}
}

// saveDelivery reads the delivery id, applies change and saves it if nothing changed it
// meanwhile; on a conflict it reads it again and re-applies change. change reports whether
// there is anything to save (false leaves the delivery as it is). It returns the delivery
// as saved (or as read, when change saved nothing) and whether it was saved.
func (s *Service) saveDelivery(ctx context.Context, id string, change func(d *Delivery) (bool, error)) (*Delivery, bool, error) {
	for range maxCASTries {
		d, err := s.store.Delivery(ctx, id)
		if err != nil {
			return nil, false, err
		}
		was := *d // as stored at d.Rev, for the store's indexes
		ok, err := change(d)
		if err != nil || !ok {
			return d, false, err
		}
		err = s.updateDelivery(ctx, &was, d)
		if err == nil {
			return d, true, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, false, err
		}
	}
	return nil, false, fmt.Errorf("delivery %s kept changing while it was updated: %w", id, ErrConflict)
}

// RetryDelivery queues a delivery for an attempt now, with a fresh retry schedule. It is
// for deliveries that failed or were canceled, and also hurries a pending one.
func (s *Service) RetryDelivery(ctx context.Context, id string) error {
	if err := s.admit(); err != nil {
		return err
	}
	_, _, err := s.saveDelivery(ctx, id, func(d *Delivery) (bool, error) {
		ep, ok := s.endpoint(d.EndpointID)
		if !ok {
			return false, fmt.Errorf("its endpoint %s was deleted: %w", d.EndpointID, ErrConflict)
		}
		if !ep.Enabled {
			return false, fmt.Errorf("its endpoint %s: %w: enable it to send its paused deliveries", d.EndpointID, ErrEndpointDisabled)
		}
		s.requeue(d)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("retry delivery %s: %w", id, err)
	}
	return nil
}

// requeue makes d pending now with a fresh schedule (saving it queues it). Caller checked
// the endpoint.
func (s *Service) requeue(d *Delivery) {
	now := s.now().UTC()
	d.Status, d.NextAttemptAt, d.Step, d.UpdatedAt = StatusPending, &now, 0, now
}

// resume sends a paused delivery now (its endpoint is enabled); a delivery no longer
// paused is left alone.
func (s *Service) resume(ctx context.Context, id string) error {
	_, _, err := s.saveDelivery(ctx, id, func(d *Delivery) (bool, error) {
		if d.Status != StatusPaused {
			return false, nil
		}
		now := s.now().UTC()
		d.Status, d.NextAttemptAt, d.UpdatedAt = StatusPending, &now, now
		return true, nil
	})
	return err
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
	n, err := s.moveAll(ctx, DeliveryQuery{Endpoint: id, Status: status, Since: since}, func(d *Delivery) bool {
		if d.Status != status {
			return false // moved since it was listed (an attempt, a retry)
		}
		s.requeue(d)
		return true
	})
	if err != nil {
		return n, fmt.Errorf("replay endpoint %s: %w", id, err)
	}
	return n, nil
}

// drainChunk is how many deliveries one save moves (paused ones resumed or canceled, a
// replay's).
const drainChunk = 500

// moveAll changes every delivery q lists, oldest first, a chunk per SaveDeliveries, and
// reports how many it saved. change returns false for a delivery to leave alone. A chunk
// that conflicts (something saved one of its deliveries meanwhile) is read again and
// changed again.
func (s *Service) moveAll(ctx context.Context, q DeliveryQuery, change func(d *Delivery) bool) (int, error) {
	q.Oldest, q.Limit, q.MaxScan = true, drainChunk, maxScan
	total := 0
	for {
		r, err := s.store.ListDeliveries(ctx, q)
		if err != nil {
			return total, err
		}
		n, err := s.moveChunk(ctx, r.Deliveries, change)
		total += n
		if err != nil {
			return total, err
		}
		if r.Next == "" {
			return total, nil
		}
		q.After = r.Next
	}
}

// moveChunk applies change to ds and saves the changed ones at once; on a conflict it
// reads them again, one by one, and saves each with its own compare-and-swap.
func (s *Service) moveChunk(ctx context.Context, ds []*Delivery, change func(d *Delivery) bool) (int, error) {
	var save []*Delivery
	for _, d := range ds {
		if change(d) {
			save = append(save, d)
		}
	}
	if len(save) == 0 {
		return 0, nil
	}
	err := s.saveDeliveries(ctx, save...)
	if err == nil {
		return len(save), nil
	}
	if !errors.Is(err, ErrConflict) {
		return 0, err
	}
	n := 0
	for _, d := range save {
		_, saved, err := s.saveDelivery(ctx, d.ID, func(d *Delivery) (bool, error) { return change(d), nil })
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if saved {
			n++
		}
	}
	return n, nil
}
