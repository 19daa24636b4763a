package inbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/itchyny/gojq"
)

// maxCachedPrograms bounds the compiled-mapping cache; past it the cache starts over.
const maxCachedPrograms = 1024

// jqCache holds compiled mappings by program text. A *gojq.Code is safe to run from
// several goroutines at once.
var jqCache = struct {
	sync.Mutex
	code map[string]*gojq.Code
}{code: map[string]*gojq.Code{}}

// compileJQ compiles a mapping, once per program text. The program sees no environment
// ($ENV and env are empty: gojq reads the process's only when given an environ loader),
// and input, inputs and modules are not available.
func compileJQ(program string) (*gojq.Code, error) {
	jqCache.Lock()
	code, ok := jqCache.code[program]
	jqCache.Unlock()
	if ok {
		return code, nil
	}
	q, err := gojq.Parse(program)
	if err != nil {
		return nil, describeParseError(program, err)
	}
	code, err = gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("not a jq program: %w", err)
	}
	jqCache.Lock()
	if len(jqCache.code) >= maxCachedPrograms {
		clear(jqCache.code)
	}
	jqCache.code[program] = code
	jqCache.Unlock()
	return code, nil
}

// describeParseError says where in program a parse error is: line and column (in
// characters, from 1) of the offending token.
func describeParseError(program string, err error) error {
	var pe *gojq.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("not a jq program: %w", err)
	}
	at := pe.Offset - len(pe.Token)
	at = max(0, min(at, len(program)))
	line := 1 + strings.Count(program[:at], "\n")
	col := 1 + utf8.RuneCountInString(program[strings.LastIndexByte(program[:at], '\n')+1:at])
	if at == len(program) {
		return fmt.Errorf("not a jq program: %w at the end of the program (line %d, column %d)", err, line, col)
	}
	return fmt.Errorf("not a jq program: %w at line %d, column %d", err, line, col)
}

// mapJQ runs a generic source's mapping on body and reads its one output as an envelope.
func mapJQ(program string, body []byte) (*Envelope, error) {
	code, err := compileJQ(program)
	if err != nil {
		return nil, &MapError{Reason: "the source's mapping is invalid: " + err.Error(), Err: err}
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, mapErrorf("body is empty: want JSON")
	}
	var input any
	if !json.Valid(body) {
		err := json.Unmarshal(body, &input)
		return nil, &MapError{Reason: fmt.Sprintf("body is not JSON: %v", err), Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // ids beyond 2^53 stay exact
	if err := dec.Decode(&input); err != nil {
		return nil, &MapError{Reason: fmt.Sprintf("body is not JSON: %v", err), Err: err}
	}

	ctx, cancel := context.WithTimeout(context.Background(), MappingTimeout)
	defer cancel()
	iter := code.RunWithContext(ctx, input)
	out, ok := iter.Next()
	if !ok {
		return nil, mapErrorf("the mapping produced no output (select or empty dropped the payload); it must produce one object {type, id?, created?, data}")
	}
	if err := jqError(out); err != nil {
		return nil, err
	}
	if more, ok := iter.Next(); ok {
		if err := jqError(more); err != nil {
			return nil, err
		}
		return nil, mapErrorf("the mapping produced more than one output; it must produce one object {type, id?, created?, data}")
	}
	obj, ok := out.(map[string]any)
	if !ok {
		b, _ := gojq.Marshal(out)
		return nil, mapErrorf("the mapping must produce an object {type, id?, created?, data}, got %s", jsonKind(b))
	}
	b, err := gojq.Marshal(obj)
	if err != nil {
		return nil, &MapError{Reason: fmt.Sprintf("the mapping's output is not JSON: %v", err), Err: err}
	}
	m, err := decodeObject(b, "the mapping's output")
	if err != nil {
		return nil, err
	}
	return mapEnvelope(m, "the mapping's output", "the mapping must produce {type, id?, created?, data}", "")
}

// jqError turns an error a mapping emitted into a *MapError; other values give nil.
func jqError(v any) error {
	err, ok := v.(error)
	if !ok {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &MapError{Reason: fmt.Sprintf("the mapping ran longer than %s and was stopped", MappingTimeout), Err: err}
	}
	var halt *gojq.HaltError
	if errors.As(err, &halt) && halt.Value() == nil {
		return mapErrorf("the mapping halted without output; it must produce one object {type, id?, created?, data}")
	}
	return &MapError{Reason: "the mapping failed: " + err.Error(), Err: err}
}
