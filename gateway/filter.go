package gateway

import (
	"context"
	"fmt"

	"github.com/hookgate/hookgate/schemas/jq"
)

// Endpoint filters: an endpoint's Filter is a jq boolean over the envelope (package
// schemas/jq: its deadline, its "must produce true or false" errors). It is checked when
// the endpoint is saved, on the catalog sample of every type the endpoint subscribes to, and
// run at publish fan-out, before the event and its deliveries are appended: an event for
// which it is false creates no delivery for that endpoint. Programs are compiled once per
// text (jq.Compile caches them), so the write path only runs them.

// maxFilterLen bounds the text of an endpoint filter.
const maxFilterLen = 4096

// checkFilter compiles ep's filter and runs it on the sample of every catalog type the
// endpoint subscribes to, so that a filter that can't work (a syntax error, a value that is
// not true or false, a run-time error on the type's own example) is refused at registration.
func (s *Service) checkFilter(ep *Endpoint) error {
	if ep.Filter == "" {
		return nil
	}
	if len(ep.Filter) > maxFilterLen {
		return invalid("filter", "must be at most %d bytes", maxFilterLen)
	}
	p, err := jq.Compile(ep.Filter)
	if err != nil {
		return invalid("filter", "%s", err)
	}
	for _, t := range s.subscribedTypes(ep) {
		if _, err := p.Bool(context.Background(), t.Sample()); err != nil {
			return invalid("filter", "on a %s %s event (its schema's example): the filter %s", t.Provider, t.Name, err)
		}
	}
	return nil
}

// passFilters returns the endpoints of targets whose filter accepts ev (those without one
// included). A filter that fails on ev (a run-time error, a non-boolean, its deadline)
// makes no delivery, and says so in the log.
func (s *Service) passFilters(ctx context.Context, ev *Event, targets []*Endpoint) []*Endpoint {
	var body []byte
	out := targets[:0:0]
	for _, ep := range targets {
		if ep.Filter == "" {
			out = append(out, ep)
			continue
		}
		if body == nil {
			body = ev.Body()
		}
		ok, err := runFilter(ctx, ep.Filter, body)
		if err != nil {
			s.log.Warn("endpoint filter failed; no delivery made", "endpoint", ep.ID, "event", ev.ID, "type", ev.Type, "err", err)
			continue
		}
		if ok {
			out = append(out, ep)
		}
	}
	return out
}

// runFilter runs the filter program on an envelope.
func runFilter(ctx context.Context, program string, envelope []byte) (bool, error) {
	p, err := jq.Compile(program)
	if err != nil {
		return false, fmt.Errorf("the filter: %w", err)
	}
	ok, err := p.Bool(ctx, envelope)
	if err != nil {
		return false, fmt.Errorf("the filter %w", err)
	}
	return ok, nil
}
