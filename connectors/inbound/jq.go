package inbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookgate/hookgate/schemas/jq"
)

// envelopeShape is what a generic source's mapping must produce.
const envelopeShape = "one object {type, id?, created?, data}"

// mapJQ runs a generic source's mapping (package schemas/jq: at most jq.Timeout, numbers
// kept as sent) on body and reads its one output as an envelope.
func mapJQ(program string, body []byte) (*Envelope, error) {
	p, err := jq.Compile(program)
	if err != nil {
		return nil, &MapError{Reason: "the source's mapping is invalid: " + err.Error(), Err: err}
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, mapErrorf("body is empty: want JSON")
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return nil, &MapError{Reason: fmt.Sprintf("body is not JSON: %v", err), Err: err}
	}
	out, err := p.Only(context.Background(), body)
	switch {
	case errors.Is(err, jq.ErrNoOutput):
		return nil, mapErrorf("the mapping %s (select or empty dropped the payload); it must produce %s", err, envelopeShape)
	case errors.Is(err, jq.ErrHalted), errors.Is(err, jq.ErrSeveralOutputs):
		return nil, mapErrorf("the mapping %s; it must produce %s", err, envelopeShape)
	case err != nil:
		return nil, &MapError{Reason: "the mapping " + err.Error(), Err: err}
	}
	if k := jsonKind(out); k != "an object" {
		return nil, mapErrorf("the mapping must produce an object {type, id?, created?, data}, got %s", k)
	}
	m, err := decodeObject(out, "the mapping's output")
	if err != nil {
		return nil, err
	}
	return mapEnvelope(m, "the mapping's output", "the mapping must produce {type, id?, created?, data}", "")
}
