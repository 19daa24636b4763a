package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hookgate/hookgate/schemas"
	"github.com/hookgate/hookgate/schemas/jq"
)

// Per-endpoint payload mappings: a jq program (package schemas/jq, which sets the deadline of
// a run and keeps numbers as sent) that reshapes the envelope before delivery, optionally
// checked against an output JSON Schema. A mapping and its schema are compiled once and
// cached by their text, so an attempt only runs them.

// maxCachedMappings bounds mappingCache; past it the cache starts over.
const maxCachedMappings = 1024

// mappingCache holds compiled mappings: mapping text + "\x00" + output_schema → *endpointMapping.
var mappingCache = struct {
	sync.Mutex
	m map[string]*endpointMapping
}{m: map[string]*endpointMapping{}}

// endpointMapping is an endpoint's compiled mapping and output schema.
type endpointMapping struct {
	program *jq.Program
	output  *schemas.Type
}

// mappingOf returns ep's compiled mapping and output schema (nil when it has neither),
// compiling them the first time they are seen.
func mappingOf(ep *Endpoint) (*endpointMapping, error) {
	if ep.Mapping == "" && len(ep.OutputSchema) == 0 {
		return nil, nil
	}
	key := ep.Mapping + "\x00" + string(ep.OutputSchema)
	mappingCache.Lock()
	m, ok := mappingCache.m[key]
	mappingCache.Unlock()
	if ok {
		return m, nil
	}
	m, err := compileEndpointMapping(ep)
	if err != nil {
		return nil, err
	}
	mappingCache.Lock()
	if len(mappingCache.m) >= maxCachedMappings {
		clear(mappingCache.m)
	}
	mappingCache.m[key] = m
	mappingCache.Unlock()
	return m, nil
}

func compileEndpointMapping(ep *Endpoint) (*endpointMapping, error) {
	m := &endpointMapping{}
	if ep.Mapping != "" {
		p, err := jq.Compile(ep.Mapping)
		if err != nil {
			return nil, invalid("mapping", "%s", err)
		}
		m.program = p
	}
	if len(ep.OutputSchema) > 0 {
		t, err := schemas.Compile("output_schema", ep.OutputSchema)
		if err != nil {
			var se *schemas.SchemaError
			if errors.As(err, &se) {
				return nil, &ValidationError{Field: "output_schema" + se.Pointer, Message: se.Error(), Err: err}
			}
			return nil, invalid("output_schema", "%s", err)
		}
		m.output = t
	}
	return m, nil
}

// payload is what ep receives for ev: its envelope, through ep's mapping if it has one.
func payload(ctx context.Context, ep *Endpoint, ev *Event) ([]byte, error) {
	m, err := mappingOf(ep)
	if err != nil || m == nil {
		return ev.Body(), err
	}
	return m.apply(ctx, ev.Body())
}

// apply maps an envelope and checks the result against the output schema.
func (m *endpointMapping) apply(ctx context.Context, envelope []byte) (json.RawMessage, error) {
	out := json.RawMessage(envelope)
	if m.program != nil {
		var err error
		if out, err = m.program.First(ctx, envelope); err != nil {
			if errors.Is(err, jq.ErrNoOutput) {
				return nil, fmt.Errorf("the mapping %w (a select() that filtered everything out?)", err)
			}
			return nil, fmt.Errorf("the mapping %w", err)
		}
	}
	if m.output != nil {
		if err := m.output.ValidateDocument(out); err != nil {
			return nil, fmt.Errorf("the mapped payload fails output_schema: %w", err)
		}
	}
	return out, nil
}

// checkMapping compiles ep's mapping and runs it on the sample of every catalog type the
// endpoint subscribes to, so a mapping that can't work is refused at registration.
func (s *Service) checkMapping(ep *Endpoint) error {
	m, err := mappingOf(ep)
	if err != nil || m == nil {
		return err
	}
	for _, t := range s.subscribedTypes(ep) {
		if _, err := m.apply(context.Background(), t.Sample()); err != nil {
			field := "mapping"
			if m.program == nil || strings.Contains(err.Error(), "output_schema") {
				field = "output_schema"
			}
			return invalid(field, "on a %s %s event (its schema's example): %s", t.Provider, t.Name, err)
		}
	}
	return nil
}

// subscribedTypes returns the catalog types ep subscribes to (its events and source), whose
// samples its mapping and filter are checked on.
func (s *Service) subscribedTypes(ep *Endpoint) []*schemas.Type {
	if s.opts.Catalog == nil {
		return nil
	}
	var out []*schemas.Type
	for _, t := range s.opts.Catalog.List("") {
		ev := &Event{Type: t.Name, Source: t.Provider}
		if t.Provider == schemas.CustomProvider {
			ev.Source = ep.Source
		}
		if ep.matches(ev) {
			out = append(out, t)
		}
	}
	return out
}

// ExportEventTypeForEndpoint is ExportEventType for what endpointID receives: the sample
// run through the endpoint's mapping, described by its output_schema or, without one, by a
// schema inferred from the mapped sample. An endpoint without a mapping gets the plain export.
func (s *Service) ExportEventTypeForEndpoint(ctx context.Context, name, provider, format, endpointID string) (json.RawMessage, error) {
	if endpointID == "" {
		return s.ExportEventType(ctx, name, provider, format)
	}
	ep, ok := s.endpoint(endpointID)
	if !ok {
		return nil, fmt.Errorf("endpoint %s: %w", endpointID, ErrNotFound)
	}
	if ep.Mapping == "" {
		return s.ExportEventType(ctx, name, provider, format)
	}
	f, err := schemas.ParseFormat(format)
	if err != nil {
		return nil, invalid("format", "%s", err)
	}
	t, err := s.GetEventType(ctx, name, provider)
	if err != nil {
		return nil, err
	}
	m, err := mappingOf(ep)
	if err != nil {
		return nil, err
	}
	sample, err := m.apply(ctx, t.Sample())
	if err != nil {
		return nil, invalid("endpoint", "the endpoint's mapping fails on the %s sample: %s", name, err)
	}
	return schemas.ExportSchema(ep.OutputSchema, sample, f)
}
