package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
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
	// compact says checkPublish validated and compacted Data (Event.compact).
	compact bool
}

// MaxDeliverDelay is how far in the future PublishInput.DeliverAt may be.
const MaxDeliverDelay = 30 * 24 * time.Hour

// PublishResult says what Publish stored.
type PublishResult struct {
	ID         string `json:"id"`
	Deliveries int    `json:"deliveries"`
	Duplicate  bool   `json:"duplicate,omitempty"`
	// Warnings are about an event that was stored all the same: its type is unknown to
	// the catalog and was never published ("unknown type vidoe.posted; did you mean
	// video.posted?").
	Warnings   []string `json:"warnings,omitempty"`
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
	if err := s.backpressure(ctx); err != nil {
		return nil, err
	}
	warnings := s.unknownTypeWarnings(in.Type)
	res, err := s.publish(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	res.Warnings = warnings
	return res, nil
}

// checkPublish validates and normalises a publish request.
func (s *Service) checkPublish(in *PublishInput) error {
	if in.Type == "" {
		return invalid("type", "is required")
	}
	if !validName(in.Type) {
		return invalid("type", "must be 1-200 letters, digits or . _ : - (starting with a letter or digit)")
	}
	if in.ID != "" && !validName(in.ID) {
		return invalid("id", "must be 1-200 letters, digits or . _ : - (starting with a letter or digit)")
	}
	if in.Source != "" && !validName(in.Source) {
		return invalid("source", "must be 1-200 letters, digits or . _ : -")
	}
	data := bytes.TrimSpace(in.Data)
	if len(data) == 0 || string(data) == "null" {
		return invalid("data", "is required: the event's payload as a JSON value, usually an object")
	}
	data, utf8OK, err := compactJSON(data)
	if err != nil {
		return invalid("data", "must be valid JSON")
	}
	if !utf8OK {
		ptr, isName, _ := invalidUTF8(data, "/data") // where: the compaction found that
		what := "a string"
		if isName {
			what = "a member name"
		}
		return &ValidationError{Field: ptr, Message: what + " that is not valid UTF-8 (JSON text must be UTF-8, RFC 8259)", Err: ErrMalformed}
	}
	in.Data, in.compact = data, true
	if in.DeliverAt.After(s.now().Add(MaxDeliverDelay)) {
		return invalid("deliver_at", "must be within %s from now", MaxDeliverDelay)
	}
	if s.opts.Validator != nil {
		err = s.opts.Validator.ValidateFrom(in.Source, in.Type, data)
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
// (a test event) regardless of its subscriptions. Events published through the API are
// deduplicated on their id.
func (s *Service) publish(ctx context.Context, in PublishInput, only *Endpoint) (*PublishResult, error) {
	dedupe := ""
	if in.ID != "" {
		dedupe = in.ID
	}
	return s.publishWith(ctx, in, only, dedupe, 0)
}

// publishWith appends a checked event and its deliveries to the event log in one Append,
// under the dedupe key dedupe (none when empty) for dedupeFor (0: for as long as the
// event is kept). A duplicate stores nothing; the result names the earlier event.
func (s *Service) publishWith(ctx context.Context, in PublishInput, only *Endpoint, dedupe string, dedupeFor time.Duration) (*PublishResult, error) {
	now := s.now()
	if in.ID == "" {
		in.ID = newID("evt", now)
	}
	if in.Created.IsZero() {
		in.Created = now
	}
	ev := &StoredEvent{
		Event:      Event{ID: in.ID, Type: in.Type, Source: in.Source, Created: in.Created.UTC(), Data: in.Data, SourceEventID: in.sourceEventID, compact: in.compact},
		ReceivedAt: now.UTC(),
		Deliveries: []string{},
	}
	targets := []*Endpoint{only}
	if only == nil {
		targets = s.passFilters(ctx, &ev.Event, s.matching(&ev.Event))
	}
	var (
		dls    = make([]*Delivery, 0, len(targets))
		paused []*Delivery
	)
	for _, ep := range targets {
		d := &Delivery{ID: newID("dlv", now), EventID: ev.ID, EndpointID: ep.ID, EventType: ev.Type, Attempts: []Attempt{}, CreatedAt: now, UpdatedAt: now}
		if ep.Enabled || only != nil {
			due, _ := s.opts.Schedule.Delay(0)
			next := now.Add(due)
			if in.DeliverAt.After(next) {
				next = in.DeliverAt
			}
			d.Status, d.NextAttemptAt = StatusPending, &next
		} else {
			d.Status, d.NextAttemptAt = StatusPaused, nil
			paused = append(paused, d)
		}
		dls = append(dls, d)
		ev.Deliveries = append(ev.Deliveries, d.ID)
	}
	ticket := s.handoff.put(ev, dls, now)
	res, err := s.store.Append(ctx, &Append{Event: ev, Deliveries: dls, Dedupe: dedupe, DedupeFor: dedupeFor})
	ticket.done(&s.handoff, dls, err == nil && !res.Duplicate)
	if errors.Is(err, ErrConflict) && dedupe == in.ID {
		// The id is stored already, as an event that was not published under it as a
		// dedupe key (a catch hook's, or one whose id was generated): the same event.
		s.obs.Duplicate(in.Source)
		return &PublishResult{ID: in.ID, Duplicate: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", in.Type, err)
	}
	if res.Duplicate {
		s.obs.Duplicate(in.Source)
		return &PublishResult{ID: res.ID, Duplicate: true}, nil
	}
	s.noteSeq(res.Seq)
	s.obs.Published(in.Source, in.Type)
	s.seen.add(ev.Type)
	s.waiters.route(ev) // wake the awaits it matches
	s.changes.fire()
	// An endpoint enabled while the event was being appended resumed its paused deliveries
	// before these were stored: send them now.
	for _, d := range paused {
		if ep, ok := s.endpoint(d.EndpointID); ok && ep.Enabled {
			if err := s.resume(ctx, d.ID); err != nil {
				s.log.Error("resume a delivery of an endpoint enabled meanwhile", "delivery", d.ID, "endpoint", d.EndpointID, "err", err)
			}
		}
	}
	return &PublishResult{ID: ev.ID, Deliveries: len(dls), DeliveryID: ev.Deliveries}, nil
}

// matching returns the endpoints subscribed to ev, enabled or not (a disabled endpoint's
// deliveries are kept as paused), but not those past their ExpiresAt.
func (s *Service) matching(ev *Event) []*Endpoint {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Endpoint
	for _, ep := range s.endpoints {
		if ep.ExpiresAt != nil && !now.Before(*ep.ExpiresAt) {
			continue // an expired subscription, not swept yet
		}
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
	// After is a cursor (the next_cursor of a previous page: an event log sequence) or an
	// event id: only events stored after it are listed (before it when Newest). Empty
	// starts at the oldest (the newest when Newest). An all-digit value is read as a
	// sequence.
	After string
	// Since, when set, skips events received before it (used when After is empty).
	Since time.Time
	// Limit caps the page; default 50, at most 1000.
	Limit int
	// Newest lists the most recent events first, paged by After like oldest first (Since
	// is then ignored).
	Newest bool
}

// EventPage is one page of events, in the order asked for. Next is the cursor to pass as
// After for the next page (the event log sequence of the last event read, in decimal); it
// is set whenever the page is non-empty, so a poller never loses its place. More says
// whether the listing stopped before the end of the log (the start, newest first).
type EventPage struct {
	Data []*StoredEvent `json:"data"`
	Next string         `json:"next_cursor"`
	More bool           `json:"has_more"`
}

// ListEvents lists stored events in the order they were stored.
func (s *Service) ListEvents(ctx context.Context, f EventFilter) (*EventPage, error) {
	limit := ClampLimit(f.Limit)
	page := &EventPage{Data: []*StoredEvent{}, Next: f.After}
	q := EventQuery{Newest: f.Newest, Limit: limit, MaxScan: maxScan}
	if f.Type != "" || f.Source != "" {
		q.Match = func(ev *StoredEvent) bool {
			return (f.Type == "" || MatchType(f.Type, ev.Type)) && (f.Source == "" || f.Source == ev.Source)
		}
	}
	after, err := s.cursor(ctx, f.After)
	if err != nil {
		return nil, err
	}
	q.After = after
	if f.After == "" && !f.Newest {
		q.Since = f.Since
	}
	r, err := s.store.Events(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	page.Data = append(page.Data, r.Events...)
	if r.Next != 0 {
		page.Next = strconv.FormatUint(uint64(r.Next), 10)
	}
	page.More = r.More
	return page, nil
}

// cursor reads an After value: a sequence, or an event id (its sequence); empty is 0.
func (s *Service) cursor(ctx context.Context, after string) (Seq, error) {
	if after == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(after, 10, 64); err == nil {
		return Seq(n), nil
	}
	ev, err := s.store.Event(ctx, after)
	if errors.Is(err, ErrNotFound) {
		return 0, invalid("after", "no event with id %q (a cursor is a next_cursor or an event id)", after)
	}
	if err != nil {
		return 0, fmt.Errorf("list events: %w", err)
	}
	return ev.Seq, nil
}

// GetEvent returns an event and its deliveries.
func (s *Service) GetEvent(ctx context.Context, id string) (*StoredEvent, []*Delivery, error) {
	ev, err := s.store.Event(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("get event %s: %w", id, err)
	}
	dls := make([]*Delivery, 0, len(ev.Deliveries))
	for _, did := range ev.Deliveries {
		d, err := s.store.Delivery(ctx, did)
		if err != nil {
			return nil, nil, fmt.Errorf("get event %s: %w", id, err)
		}
		dls = append(dls, d)
	}
	return ev, dls, nil
}

// maxScan bounds how many records one filtered list call reads; past it the page comes back
// short with has_more set and a cursor to continue from.
const maxScan = 20000

// ClampLimit is the page size a list with limit n returns: 50 when n is 0 or less, at
// most 1000. The Service's lists and the backends' ListDeliveries share it.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}
