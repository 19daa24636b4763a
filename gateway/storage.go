package gateway

import (
	"context"
	"time"
)

// The store is a set of domain interfaces that the Service uses and that each backend under
// queue/ implements (queue/badger, the embedded default; queue/memory, for tests and
// --store memory; queue/jetstream, several nodes on one NATS cluster). They speak of events,
// deliveries, registered things and work, not of keys and bytes, so that a log-and-queue
// engine can honour them as naturally as an embedded key-value store:
//
//   - EventLog: an append-only log of events in a store-assigned order (Seq), with dedupe
//     keys and a notification when it grows. Appending an event also creates its fan-out
//     (its deliveries), so that a 2xx to the producer means both are durable.
//   - Deliveries: one record per event × endpoint, updated by compare-and-swap on Rev, and
//     listed per endpoint or across endpoints, newest or oldest first, by cursor.
//   - WorkQueue: the deliveries that are due. It follows the delivery records: a delivery
//     saved as pending with NextAttemptAt is queued for that time, anything else leaves the
//     queue. The dispatcher leases due work with a visibility timeout (Lease), backs off
//     (Hold) or gives it back (Release); saving the delivery acks or retries it.
//   - Registry: endpoints, sources, custom event types, API keys, OAuth clients and grants, each a collection of records
//     updated by compare-and-swap, with a Watch so that every process sees every change.
//   - RequestLog: what each catch hook received, bounded per source.
//   - Trim: retention, removing finished events with their deliveries.
//
// queue/queuetest.Run is the suite every backend passes.

// Seq is an event's place in the event log: assigned by the store when the event is
// appended, strictly increasing in the order appends become durable, never reused. Cursors
// over events are sequences, so that with several writers no event is skipped or repeated.
type Seq uint64

// Store is everything the Service keeps: a backend implements all of it on one engine.
//
// Errors are the gateway's sentinels, so that callers (the API) need no backend: a missing
// record wraps ErrNotFound, a lost compare-and-swap ErrConflict, a call after Close
// ErrClosed, and a write that is too large for the backend to store in one piece
// ErrTooLarge (nothing is written then). Every backend takes at least 1,000 deliveries in
// one Append or SaveDeliveries call; callers that write more at once split them.
type Store interface {
	EventLog
	Deliveries
	WorkQueue
	Registry
	RequestLog
	// Trim removes up to max events received before before whose deliveries are all
	// finished (succeeded, failed or canceled), together with those deliveries, and reports
	// how many events it removed. Events with a pending or paused delivery are never removed.
	// The dedupe key of a removed event stays until its DedupeFor window ends (one with
	// DedupeFor 0 goes with its event).
	Trim(ctx context.Context, before time.Time, max int) (int, error)
	// Close releases the store. Calls after Close fail with an error wrapping ErrClosed;
	// those that return no error do nothing, and the channels of Watch are closed. Closing
	// twice returns nil.
	Close() error
}

// EventLog is the durable, ordered log of events.
type EventLog interface {
	// Append stores a.Event and its deliveries a.Deliveries and returns once all of them
	// are durable (a 2xx to the producer waits for this). It assigns the event's Seq (the
	// caller sets everything else, ReceivedAt included: the clock is the Service's), sets
	// each delivery's Rev to its first revision, and queues every pending delivery for its
	// NextAttemptAt. When a.Dedupe is set and an event was appended under the same key less
	// than a.DedupeFor ago (0: for as long as that event is kept), nothing is written and the
	// result names that earlier event, with Duplicate set. The window is measured between
	// the ReceivedAt of the two events (the Service's clock, not the store's): a key stored
	// at ReceivedAt r dedupes an event received before r+DedupeFor, where DedupeFor is the
	// one given when the key was stored. An event id that is already stored is ErrConflict.
	Append(ctx context.Context, a *Append) (*Appended, error)
	// AddDeliveries adds ds to the fan-out of the stored event eventID, all or none, as if
	// Append had stored them with it (an MCP Events subscription replaying from a cursor):
	// they are listed in the event's Deliveries, keep it from Trim while pending or paused,
	// and go with it. Each d must not exist yet (ErrConflict) and have EventID eventID; each
	// d.Rev is set to its first revision and each pending one queued for its NextAttemptAt.
	// An event that is not stored (trimmed meanwhile) is ErrNotFound, and nothing is written.
	AddDeliveries(ctx context.Context, eventID string, ds ...*Delivery) error
	// Event returns the event with id (ErrNotFound when there is none).
	Event(ctx context.Context, id string) (*StoredEvent, error)
	// Events reads the log in order (see EventQuery).
	Events(ctx context.Context, q EventQuery) (*EventRange, error)
	// Appended returns a channel that is closed when the next event is appended, in this
	// process or (for a shared backend) any other. A waiter reads after its cursor, then
	// waits on a fresh channel.
	Appended() <-chan struct{}
}

// Append is one event to append with its fan-out.
type Append struct {
	Event      *StoredEvent
	Deliveries []*Delivery
	// Dedupe is the event's dedupe key: the caller's id for the publish API, the source and
	// the provider's id for a catch hook. Empty: no dedupe.
	Dedupe    string
	DedupeFor time.Duration
}

// Appended says what Append stored.
type Appended struct {
	// ID is the event's id, or the earlier event's for a duplicate.
	ID        string
	Seq       Seq
	Duplicate bool
}

// EventQuery selects a range of the event log.
type EventQuery struct {
	// After is the sequence to read after (0: from the oldest); when Newest, the sequence
	// to read before (0: from the newest), so that Next pages newest first too.
	After Seq
	// Since skips events received before it (when After is 0; ignored when Newest).
	Since time.Time
	// Newest reads from the newest event backwards.
	Newest bool
	// Match, when set, keeps only the events it accepts; the others still count towards
	// MaxScan and move Next.
	Match func(*StoredEvent) bool
	// Limit caps the events returned; MaxScan how many are read at most in one call
	// (0: no limit).
	Limit, MaxScan int
}

// EventRange is what Events read.
type EventRange struct {
	Events []*StoredEvent
	// Next is the sequence of the last event read (matching or not), to pass as After, in
	// either order; After itself when nothing was read.
	Next Seq
	// More is true when the range stopped before the end of the log.
	More bool
}

// Deliveries keeps the delivery records.
type Deliveries interface {
	// Delivery returns the delivery with id (ErrNotFound when there is none).
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// SaveDeliveries writes every d whose stored revision is still d.Rev (0 for a delivery
	// that must not exist yet), all or none: a changed one fails the call with ErrConflict.
	// On success each d.Rev is the new revision. The work queue follows: a pending delivery
	// is due at its NextAttemptAt (or now when nil), any other status leaves the queue.
	SaveDeliveries(ctx context.Context, ds ...*Delivery) error
	// ListDeliveries lists deliveries (see DeliveryQuery).
	ListDeliveries(ctx context.Context, q DeliveryQuery) (*DeliveryRange, error)
}

// DeliveryUpdater is a Deliveries that saves one delivery without reading back the record
// the save replaces. It is optional: when the store has it, the Service saves through it
// every delivery it changes after reading it (an attempt recorded, a retry, a cancel), and
// through SaveDeliveries otherwise.
type DeliveryUpdater interface {
	// UpdateDelivery is SaveDeliveries(ctx, d) for a delivery whose stored record at
	// revision d.Rev the caller holds as was (was.ID == d.ID, was.Rev == d.Rev): the store
	// takes what its indexes were made of (the endpoint, the creation time, the status) from
	// was instead of reading and decoding that record again. It is still a compare-and-swap
	// on d.Rev: when the stored revision is another, nothing is written and the error wraps
	// ErrConflict. A was that doesn't match d (nil, another id or revision, or Rev 0) makes
	// it SaveDeliveries(ctx, d).
	UpdateDelivery(ctx context.Context, was, d *Delivery) error
}

// DeliveryQuery selects deliveries, ordered by creation.
type DeliveryQuery struct {
	// Endpoint keeps one endpoint's deliveries; empty lists across all endpoints.
	Endpoint string
	// Status keeps one status; empty keeps all.
	Status DeliveryStatus
	// Since and Until bound the creation time (zero: unbounded).
	Since, Until time.Time
	// Oldest lists oldest first; the default is newest first.
	Oldest bool
	// After is the id of the last delivery of the previous page (ErrNotFound when no
	// delivery has that id).
	After string
	// Limit caps the page (0: 50; at most 1000); MaxScan how many records one call reads at
	// most (0: no limit). Records outside Since and Until are not read.
	Limit, MaxScan int
}

// DeliveryRange is one page of deliveries.
type DeliveryRange struct {
	Deliveries []*Delivery
	// Next is the id to pass as After for the next page: the last delivery read, matching
	// or not, whenever records are left past the page (MaxScan may have cut it short);
	// empty at the end.
	Next string
}

// WorkQueue hands out due deliveries to the dispatcher.
type WorkQueue interface {
	// Lease returns up to max jobs due at or before now, oldest due first, each hidden from
	// every other Lease for ttl (or until its delivery is saved, held or released). A job
	// whose lease or hold ended is due again at its delivery's time.
	Lease(ctx context.Context, now time.Time, max int, ttl time.Duration) ([]Job, error)
	// Hold keeps a leased job hidden until until (a backoff, a rate limit's slot), without
	// changing its delivery. After a restart the job is due at its delivery's time again.
	// A job that is not leased is left alone.
	Hold(id string, until time.Time)
	// Release gives a leased job back, due at once. A job that is not leased is left alone.
	Release(id string)
	// NextDue reports when Lease may next return something; ok is false when nothing is
	// queued or leased.
	NextDue(now time.Time) (next time.Time, ok bool)
	// Wake returns a channel that receives a value whenever work is queued (by Append or
	// SaveDeliveries) or released. It never blocks the writer: one value may stand for many.
	Wake() <-chan struct{}
	// Backlog counts the queued deliveries (leased and held ones included) per endpoint and
	// reports the earliest due time among them, for metrics read at every scrape: one pass
	// over the queue, without reading delivery records.
	Backlog(ctx context.Context) (Backlog, error)
}

// IDLeaser is a WorkQueue that also leases given jobs by id. It is optional: a backend may
// implement it, and the dispatcher then gives the deliveries of new events (which it knows
// from their publish) a quarter of its free workers ahead of older due work, so that fresh
// events are not starved by a backlog of overdue retries (after a restart, say). Without
// it every job is leased oldest due first.
type IDLeaser interface {
	// LeaseIDs leases those of ids that are queued, due at or before now and not leased,
	// hidden for ttl as Lease does, whatever older jobs are due. Ids it does not find
	// (not queued, leased, not due, or not at hand without a search) are skipped.
	LeaseIDs(ctx context.Context, now time.Time, ids []string, ttl time.Duration) ([]Job, error)
}

// Job is a delivery that is due: its id, its endpoint's, and the time it was due.
type Job struct {
	Delivery string
	Endpoint string
	Due      time.Time
}

// Registry keeps what users register.
type Registry interface {
	Endpoints() Records[*Endpoint]
	Sources() Records[*Source]
	EventTypes() Records[*EventTypeRecord]
	// Keys are the named API keys (hashed), by key id.
	Keys() Records[*APIKey]
	// OAuthClients are the OAuth clients that registered themselves, by client id.
	OAuthClients() Records[*OAuthClient]
	// Grants are OAuth grants with their codes and tokens (hashed), by grant id.
	Grants() Records[*Grant]
	// (Ids: endpoint and source ids; an event type's name.)
}

// Records is one collection of the registry: records by id, each with a revision.
type Records[T any] interface {
	// Get returns the record id and its revision (ErrNotFound when there is none).
	Get(ctx context.Context, id string) (T, uint64, error)
	// Put writes v as id if the stored revision is still rev (0: id must not exist) and
	// returns the new revision, greater than any earlier one of id; ErrConflict when it
	// changed meanwhile.
	Put(ctx context.Context, id string, v T, rev uint64) (uint64, error)
	// Delete removes id (ErrNotFound when there is none).
	Delete(ctx context.Context, id string) error
	// List returns every record, by id.
	List(ctx context.Context) ([]T, error)
	// Watch reports every change after the call, from this process or any other, until
	// ctx ends: a put (Value set) or a delete (Deleted).
	Watch(ctx context.Context) <-chan Change[T]
}

// Change is one change of a registry record.
type Change[T any] struct {
	ID      string
	Rev     uint64
	Value   T
	Deleted bool
}

// RequestLog keeps what catch hooks received.
type RequestLog interface {
	// LogRequest adds e to source's log, dropping the oldest entries past the bound.
	LogRequest(ctx context.Context, source string, e *SourceRequest, bound LogBound) error
	// Requests returns source's latest entries, newest first, up to limit (0: all), none
	// older than the MaxAge it was logged with.
	Requests(ctx context.Context, source string, limit int) ([]*SourceRequest, error)
	// DropRequests removes source's log (the source was deleted).
	DropRequests(ctx context.Context, source string) error
}

// LogBound bounds a source's request log: entries and bytes (of the stored JSON), whichever
// comes first, and age, counted on the wall clock from when an entry was logged. A zero
// field is no bound.
type LogBound struct {
	Entries int
	Bytes   int64
	MaxAge  time.Duration
}
