package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Known event types: what a subscription to an exact type is checked against, and what the
// suggestions of "did you mean …?" are drawn from. A type is known when the event catalog
// has it (built in, a provider's, or custom) or when an event of that type was published.
// A Service without a catalog checks nothing.

// seenScan is how many of the newest stored events New reads to learn which types were
// published before this start. The event log has no index by type; this bounds the start-up
// cost. Older types that were not published since are not "seen".
const seenScan = 2000

// maxSeenTypes bounds the set of published types a Service remembers, so a publisher
// inventing a type per event can't grow it without end.
const maxSeenTypes = 10000

// seenTypes is the set of event types published (since start, plus those of the newest
// seenScan stored events).
type seenTypes struct {
	mu    sync.RWMutex
	names map[string]struct{}
}

func (t *seenTypes) add(name string) {
	t.mu.RLock()
	_, ok := t.names[name]
	t.mu.RUnlock()
	if ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]struct{}{}
	}
	if len(t.names) < maxSeenTypes {
		t.names[name] = struct{}{}
	}
}

func (t *seenTypes) has(name string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.names[name]
	return ok
}

func (t *seenTypes) list() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.names))
	for n := range t.names {
		out = append(out, n)
	}
	return out
}

// loadSeenTypes reads the types of the newest seenScan stored events.
func (s *Service) loadSeenTypes(ctx context.Context) error {
	if s.opts.Catalog == nil {
		return nil
	}
	r, err := s.store.Events(ctx, EventQuery{Newest: true, Limit: seenScan, MaxScan: seenScan})
	if err != nil {
		return fmt.Errorf("read the types of recent events: %w", err)
	}
	for _, ev := range r.Events {
		s.seen.add(ev.Type)
	}
	return nil
}

// knownType reports whether name is in the catalog or was published. Without a catalog
// every type is known.
func (s *Service) knownType(name string) bool {
	c := s.opts.Catalog
	if c == nil {
		return true
	}
	if _, ok := c.Lookup(name); ok {
		return true
	}
	return s.seen.has(name)
}

// closestTypes returns up to three known type names nearest to name by edit distance, the
// nearest first; none when nothing is close.
func (s *Service) closestTypes(name string) []string {
	type cand struct {
		name string
		d    int
	}
	var cands []cand
	consider := func(n string) {
		if n == name || slices.ContainsFunc(cands, func(c cand) bool { return c.name == n }) {
			return
		}
		d := editDistance(name, n)
		if d <= max(2, len(name)/3) {
			cands = append(cands, cand{n, d})
		}
	}
	if c := s.opts.Catalog; c != nil {
		for _, t := range c.List("") {
			consider(t.Name)
		}
	}
	for _, n := range s.seen.list() {
		consider(n)
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, 0, 3)
	for i := 0; i < len(cands) && i < 3; i++ {
		out = append(out, cands[i].name)
	}
	return out
}

// didYouMean is "; did you mean a, b or c?" for the closest known types, or "".
func (s *Service) didYouMean(name string) string {
	near := s.closestTypes(name)
	switch len(near) {
	case 0:
		return ""
	case 1:
		return "; did you mean " + near[0] + "?"
	}
	return "; did you mean " + strings.Join(near[:len(near)-1], ", ") + " or " + near[len(near)-1] + "?"
}

// checkTypes refuses a subscription to an exact type that is not known (knownType).
// Patterns ("video.*", "*") are not checked, nor the types of had (an endpoint's current
// subscriptions, which stay editable).
func (s *Service) checkTypes(events, had []string) error {
	for i, p := range events {
		if p == "*" || strings.HasSuffix(p, ".*") || slices.Contains(had, p) || s.knownType(p) {
			continue
		}
		return invalid(fmt.Sprintf("events[%d]", i),
			"unknown event type %q: not in the event catalog, not a custom type and never published%s "+
				"To subscribe to a type of your own, register it first (POST /v1/event-types, or hookgate event-types add --name %s --schema @schema.json), "+
				"or subscribe to a pattern such as %q",
			p, sentenceEnd(s.didYouMean(p)), p, patternOf(p))
	}
	return nil
}

// sentenceEnd ends a message part: the suggestion, or a full stop.
func sentenceEnd(suggestion string) string {
	if suggestion == "" {
		return "."
	}
	return suggestion
}

// patternOf is the prefix pattern of a type: "video.*" for "video.postd", "*" for "ping".
func patternOf(t string) string {
	if i := strings.LastIndexByte(t, '.'); i > 0 {
		return t[:i] + ".*"
	}
	return "*"
}

// unknownTypeWarnings is what a publish of an unknown type is told: a warning naming the
// closest known types. Nothing when the type is known.
func (s *Service) unknownTypeWarnings(name string) []string {
	if s.knownType(name) {
		return nil
	}
	return []string{"unknown type " + name + s.didYouMean(name)}
}

// editDistance is the Levenshtein distance between a and b, in bytes (type names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
