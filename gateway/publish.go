package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/hookgate/queue"
)

// PublishInput is an event to publish, as the publish API takes it.
type PublishInput struct {
	// Type is the event type ("video.posted"). Required.
	Type string `json:"type"`
	// Data is the payload: any JSON value, validated against the type's schema. Required.
	Data json.RawMessage `json:"data"`
	// ID is the dedupe key; generated ("evt_…") when empty.
	ID string `json:"id,omitempty"`
	// Source names the producer ("tokportal"); empty for the publish API.
	Source string `json:"source,omitempty"`
	// Created is when the event happened; default now.
	Created time.Time `json:"created,omitzero"`
	// DeliverAt, when in the future, holds the deliveries until then (a scheduled event).
	DeliverAt time.Time `json:"deliver_at,omitzero"`

	// sourceEventID is the provider's id of an event a catch hook received (Event.SourceEventID).
	sourceEventID string
}

// MaxDeliverDelay is how far in the future PublishInput.DeliverAt may be.
const MaxDeliverDelay = 30 * 24 * time.Hour

// PublishResult says what Publish stored.
type PublishResult struct {
	ID         string   `json:"id"`
	Deliveries int      `json:"deliveries"`
	Duplicate  bool     `json:"duplicate,omitempty"`
	DeliveryID []string `json:"-"`
}

// Publish validates an event, stores it with one delivery per matching endpoint, and
// returns once both are durable. An event whose ID is already stored is not stored or sent
// again: the result has Duplicate set.
func (s *Service) Publish(ctx context.Context, in PublishInput) (*PublishResult, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	if err := s.checkPublish(&in); err != nil {
		return nil, err
	}
	return s.publish(ctx, in, nil)
}

// checkPublish validates and normalises a publish request.
func (s *Service) checkPublish(in *PublishInput) error {
	if in.Type == "" {
		return invalid("type", "is required")
	}
	if !validName.MatchString(in.Type) {
		return invalid("type", "must be 1-200 letters, digits or . _ : - (starting with a letter or digit)")
	}
	if in.ID != "" && !validName.MatchString(in.ID) {
		return invalid("id", "must be 1-200 letters, digits or . _ : - (starting with a letter or digit)")
	}
	if in.Source != "" && !validName.MatchString(in.Source) {
		return invalid("source", "must be 1-200 letters, digits or . _ : -")
	}
	data := bytes.TrimSpace(in.Data)
	if len(data) == 0 || string(data) == "null" {
		return invalid("data", "is required: the event's payload as a JSON value, usually an object")
	}
	if !json.Valid(data) {
		return invalid("data", "must be valid JSON")
	}
	if ptr, isName, found := invalidUTF8(data, "/data"); found {
		what := "a string"
		if isName {
			what = "a member name"
		}
		return &ValidationError{Field: ptr, Message: what + " that is not valid UTF-8 (JSON text must be UTF-8, RFC 8259)", Err: ErrMalformed}
	}
	in.Data = data
	if in.DeliverAt.After(s.now().Add(MaxDeliverDelay)) {
		return invalid("deliver_at", "must be within %s from now", MaxDeliverDelay)
	}
	if s.opts.Validator != nil {
		err := s.opts.Validator.ValidateFrom(in.Source, in.Type, data)
		var fe FieldError
		switch {
		case err == nil:
		case errors.Is(err, ErrUnknownType):
			if s.opts.StrictTypes {
				return &ValidationError{Field: "type", Message: fmt.Sprintf("unknown event type %q (the server runs with --strict-types)", in.Type), Err: err}
			}
		case errors.As(err, &fe):
			msg := strings.TrimPrefix(err.Error(), fe.FieldName()+": ")
			return &ValidationError{Field: fe.FieldName(), Message: msg, Err: err}
		default:
			return &ValidationError{Field: "data", Message: err.Error(), Err: err}
		}
	}
	return nil
}

// publish stores a checked event. only, when set, limits the fan-out to that one endpoint
// (a test event) regardless of its subscriptions.
func (s *Service) publish(ctx context.Context, in PublishInput, only *Endpoint) (*PublishResult, error) {
	return s.publishWith(ctx, in, only, nil, nil)
}

// publishWith is publish with two hooks inside its transaction: dup, before anything is
// written, may declare the event a duplicate (nothing is stored or sent; it may set res.ID
// to the event it duplicates); after runs once the outcome is known, to write more records
// atomically with it.
func (s *Service) publishWith(ctx context.Context, in PublishInput, only *Endpoint,
	dup func(tx *queue.Txn, res *PublishResult) (bool, error),
	after func(tx *queue.Txn, res *PublishResult) error) (*PublishResult, error) {
	now := s.now()
	if in.ID == "" {
		in.ID = newID("evt", now)
	}
	if in.Created.IsZero() {
		in.Created = now
	}
	ev := &StoredEvent{Event: Event{ID: in.ID, Type: in.Type, Source: in.Source, Created: in.Created.UTC(), Data: in.Data, SourceEventID: in.sourceEventID}}

	res := &PublishResult{ID: ev.ID}
	err := s.db.Update(ctx, func(tx *queue.Txn) error {
		res.ID, res.Duplicate, res.Deliveries, res.DeliveryID = ev.ID, false, 0, nil
		if _, err := tx.Get(eventKey(ev.ID)); err == nil {
			res.Duplicate = true
		} else if !errors.Is(err, queue.ErrNotFound) {
			return err
		}
		if !res.Duplicate && dup != nil {
			d, err := dup(tx, res)
			if err != nil {
				return err
			}
			res.Duplicate = d
		}
		if res.Duplicate {
			if after != nil {
				return after(tx, res)
			}
			return nil
		}
		// Match inside the transaction: endpoint changes committed in earlier batches are
		// already in memory, so an endpoint enabled or disabled concurrently is seen either
		// here or by the change's own follow-up (resuming paused deliveries).
		targets := []*Endpoint{only}
		if only == nil {
			targets = s.matching(&ev.Event)
		}
		ns := s.arrival()
		ev.ReceivedAt = time.Unix(0, ns).UTC()
		ev.Deliveries = ev.Deliveries[:0]
		for _, ep := range targets {
			d := &Delivery{ID: newID("dlv", now), EventID: ev.ID, EndpointID: ep.ID, EventType: ev.Type, Attempts: []Attempt{}, CreatedAt: now, UpdatedAt: now}
			if ep.Enabled || only != nil {
				due, _ := s.opts.Schedule.Delay(0)
				next := now.Add(due)
				if in.DeliverAt.After(next) {
					next = in.DeliverAt
				}
				d.Status, d.NextAttemptAt = StatusPending, &next
				tx.Schedule(d.ID, next, []byte(ep.ID))
			} else {
				d.Status, d.NextAttemptAt = StatusPaused, nil
				tx.Set(epPausedKey(ep.ID, d.ID), nil)
			}
			if err := save(tx, deliveryKey(d.ID), d); err != nil {
				return err
			}
			tx.Set(epDeliveryKey(ep.ID, d.CreatedAt, d.ID), nil)
			ev.Deliveries = append(ev.Deliveries, d.ID)
		}
		if err := saveEvent(tx, ev); err != nil {
			return err
		}
		tx.Set(eventTimeKey(ns, ev.ID), nil)
		res.Deliveries = len(targets)
		res.DeliveryID = ev.Deliveries
		tx.OnCommit(s.events.notify)
		if after != nil {
			return after(tx, res)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", in.Type, err)
	}
	return res, nil
}

// matching returns the endpoints subscribed to ev, enabled or not (a disabled endpoint's
// deliveries are kept as paused).
func (s *Service) matching(ev *Event) []*Endpoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Endpoint
	for _, ep := range s.endpoints {
		if ep.matches(ev) {
			out = append(out, ep)
		}
	}
	return out
}

// matches reports whether ep subscribes to ev.
func (ep *Endpoint) matches(ev *Event) bool {
	if ep.Source != "" && ep.Source != ev.Source {
		return false
	}
	for _, p := range ep.Events {
		if MatchType(p, ev.Type) {
			return true
		}
	}
	return false
}

// MatchType reports whether the subscription pattern p matches the event type t: "*"
// matches everything, "post.*" every type starting with "post.", anything else itself.
func MatchType(p, t string) bool {
	switch {
	case p == "*":
		return true
	case strings.HasSuffix(p, ".*"):
		return strings.HasPrefix(t, p[:len(p)-1])
	default:
		return p == t
	}
}

// EventFilter selects events for ListEvents.
type EventFilter struct {
	// Type is an exact type or a pattern ("video.*", "*"); empty means all.
	Type string
	// Source, when set, keeps only events from that source.
	Source string
	// After is an event id: only events stored after it are listed. Empty starts at the oldest.
	After string
	// Since, when set, skips events received before it (used when After is empty).
	Since time.Time
	// Limit caps the page; default 50, at most 1000.
	Limit int
	// Newest lists the most recent events first (After and Since are then ignored and
	// there is no next page).
	Newest bool
}

// EventPage is one page of events, oldest first. Next is the id to pass as After for the
// next page; it is set whenever the page is non-empty, so a poller never loses its place.
type EventPage struct {
	Data []*StoredEvent `json:"data"`
	Next string         `json:"next_cursor"`
	More bool           `json:"has_more"`
}

// ListEvents lists stored events in the order they arrived.
func (s *Service) ListEvents(ctx context.Context, f EventFilter) (*EventPage, error) {
	limit := clampLimit(f.Limit)
	page := &EventPage{Data: []*StoredEvent{}, Next: f.After}
	err := s.db.View(func(r *queue.Reader) error {
		start := pEventTime
		if f.After != "" {
			ev, err := loadEvent(r, f.After)
			if errors.Is(err, ErrNotFound) {
				return invalid("after", "no event with id %q", f.After)
			}
			if err != nil {
				return err
			}
			start = eventTimeKey(ev.ReceivedAt.UnixNano()+1, "")
		} else if !f.Since.IsZero() {
			start = eventTimeKey(f.Since.UnixNano(), "")
		}
		if f.Newest {
			start = nil
		}
		scanned := 0
		return r.Scan(pEventTime, start, f.Newest, func(k, _ []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			_, id := splitTimeKey(pEventTime, k)
			if len(page.Data) == limit || scanned == maxScan {
				page.More = !f.Newest
				return false, nil
			}
			scanned++
			ev, err := loadEvent(r, id)
			if err != nil {
				return false, err
			}
			if !f.Newest {
				page.Next = id
			}
			if f.Type != "" && !MatchType(f.Type, ev.Type) || f.Source != "" && f.Source != ev.Source {
				return true, nil
			}
			page.Data = append(page.Data, ev)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return page, nil
}

// GetEvent returns an event and its deliveries.
func (s *Service) GetEvent(ctx context.Context, id string) (*StoredEvent, []*Delivery, error) {
	var (
		ev  *StoredEvent
		dls []*Delivery
	)
	err := s.db.View(func(r *queue.Reader) error {
		var err error
		if ev, err = loadEvent(r, id); err != nil {
			return err
		}
		for _, did := range ev.Deliveries {
			var d Delivery
			if err := load(r, deliveryKey(did), &d); err != nil {
				return err
			}
			dls = append(dls, &d)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("get event %s: %w", id, err)
	}
	return ev, dls, nil
}

// maxScan bounds how many records one filtered list call reads; past it the page comes back
// short with has_more set and a cursor to continue from.
const maxScan = 20000

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}
