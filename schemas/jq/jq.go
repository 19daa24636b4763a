// Package jq runs the jq programs (github.com/itchyny/gojq) that hookgate's users write:
// endpoint mappings, catch-hook mappings and await_event filters. All of them follow the
// same rules:
//
//   - Compile caches programs by their text (at most 1024; past that the cache starts over),
//     and a syntax error says its line and column.
//   - A program sees its input and nothing else: $ENV is empty, and input, inputs and
//     modules are refused when it is compiled.
//   - One run lasts at most Timeout. The interpreter checks the deadline at every step, so a
//     program that loops (until(false; .)) is stopped, its goroutine returns and the CPU is
//     free again; the run fails with ErrTimeout.
//   - Numbers arrive as sent. The input is decoded with every number kept as its literal
//     text (json.Number), and a number that a program passes through comes out as that same
//     text: 7383920011122334455, -98765432109876543210987, 0.1, 1.0, 1e400 and -0 are written
//     back byte for byte. A number the program computes with keeps its precision when it is
//     a whole number (.n + 1 of 7383920011122334455 is 7383920011122334456, at any size) and
//     is a float64 otherwise (0.1 * 3 is 0.30000000000000004, 1.0 + 0 is 1, 1e400 + 0 is
//     1.7976931348623157e+308). Comparisons follow the numbers' values: .n ==
//     7383920011122334455 is false for 7383920011122334456 and 1.0 == 1 is true. Numbers
//     inside strings stay strings; tonumber reads them under the same rules.
//
// A filter is a program run with Bool: it must produce true or false. A mapping is a
// program run with First (its first output) or Only (its one output).
//
// # Example
//
//	m, err := jq.Compile(`{id: .data.id, at: .created}`)
//	if err != nil {
//		return err // not a jq program: unexpected token "}" at line 1, column 30
//	}
//	out, err := m.First(ctx, envelope) // {"at":"2026-06-24T14:00:05.123Z","id":7383920011122334455}
//
//	f, err := jq.Compile(`.data.bundle_id == "b_42"`)
//	ok, err := f.Bool(ctx, envelope) // true or false; .data.bundle_id = "b_42" is an error
//
// Errors of a run read as what the program did ("ran longer than 1s and was stopped",
// "failed: cannot add: string ("x") and number (1)"), so that the caller says whose program
// it was: fmt.Errorf("the mapping %w", err).
package jq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookgate/hookgate/schemas"
	"github.com/itchyny/gojq"
)

// Timeout bounds one run of a program: a mapping on one event, a filter on one event.
const Timeout = time.Second

// maxCached bounds the compiled-program cache; past it the cache starts over.
const maxCached = 1024

// The ways a run can fail besides the program's own errors (*RuntimeError) and a filter's
// non-boolean output (*NotBooleanError). Their messages complete "the mapping …".
var (
	// ErrTimeout is returned when a run took longer than Timeout and was stopped.
	ErrTimeout = fmt.Errorf("ran longer than %s and was stopped", Timeout)
	// ErrNoOutput is returned by First and Only when the program produced nothing (a
	// select that dropped the input, empty).
	ErrNoOutput = errors.New("produced no output")
	// ErrHalted is returned by First and Only when the program called halt before it
	// produced anything.
	ErrHalted = errors.New("halted without output")
	// ErrSeveralOutputs is returned by Only when the program produced a second value.
	ErrSeveralOutputs = errors.New("produced more than one output")
)

// RuntimeError is an error the program raised on its input: a type mismatch (.a + 1 on a
// string), error("…"), halt_error. Another input may well succeed.
type RuntimeError struct {
	// Err is gojq's error.
	Err error
}

// Error says the program failed and why.
func (e *RuntimeError) Error() string { return "failed: " + e.Err.Error() }

// Unwrap returns gojq's error.
func (e *RuntimeError) Unwrap() error { return e.Err }

// NotBooleanError is a filter's output that is not true or false.
type NotBooleanError struct {
	// Kind is what the filter produced instead: "an object", "a string", "null"…
	Kind string
	// Preview is the start of that value as JSON.
	Preview string
}

// Error says what the filter should have produced and what it produced.
func (e *NotBooleanError) Error() string {
	msg := fmt.Sprintf("must produce true or false, got %s", e.Kind)
	if e.Kind != "null" {
		msg += " (" + e.Preview + ")"
	}
	if e.Kind == "an object" {
		msg += `: compare with == (a single = assigns, and gives back the whole object)`
	}
	return msg
}

// Program is a compiled jq program. It is safe to run from several goroutines at once.
type Program struct {
	text string
	code *gojq.Code
}

// String returns the program's text.
func (p *Program) String() string { return p.text }

var cache = struct {
	sync.Mutex
	programs map[string]*Program
}{programs: map[string]*Program{}}

// Compile compiles a jq program, once per program text. A syntax error reads "not a jq
// program: unexpected token "," at line 1, column 11" (columns count characters, from 1);
// other refusals (an undefined function, input) read "not a jq program: function not
// defined: nosuch/0".
func Compile(program string) (*Program, error) {
	cache.Lock()
	p, ok := cache.programs[program]
	cache.Unlock()
	if ok {
		return p, nil
	}
	q, err := gojq.Parse(program)
	if err != nil {
		return nil, describeParseError(program, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("not a jq program: %w", err)
	}
	p = &Program{text: program, code: code}
	cache.Lock()
	if len(cache.programs) >= maxCached {
		clear(cache.programs)
	}
	cache.programs[program] = p
	cache.Unlock()
	return p, nil
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

// First runs the program on input (one JSON document) and returns its first output as JSON;
// the program is stopped there. No output is ErrNoOutput (ErrHalted after halt).
func (p *Program) First(ctx context.Context, input []byte) (json.RawMessage, error) {
	var out any
	got := false
	err := p.run(ctx, input, func(v any) (bool, error) {
		out, got = v, true
		return false, nil
	})
	return p.one(out, got, err)
}

// Only runs the program on input and returns its one output as JSON. No output is
// ErrNoOutput (ErrHalted after halt); a second output is ErrSeveralOutputs, unless the
// program fails first.
func (p *Program) Only(ctx context.Context, input []byte) (json.RawMessage, error) {
	var out any
	got := false
	err := p.run(ctx, input, func(v any) (bool, error) {
		if got {
			return false, ErrSeveralOutputs
		}
		out, got = v, true
		return true, nil
	})
	return p.one(out, got, err)
}

// one turns what First and Only collected into their result.
func (p *Program) one(out any, got bool, err error) (json.RawMessage, error) {
	switch {
	case errors.Is(err, errHalt) && !got:
		return nil, ErrHalted
	case errors.Is(err, errHalt):
	case err != nil:
		return nil, err
	case !got:
		return nil, ErrNoOutput
	}
	b, err := gojq.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode the output: %w", err)
	}
	return b, nil
}

// Bool runs the program as a filter on input: every output must be true or false (anything
// else is a *NotBooleanError), and the input matches when one of them is true; the program
// is stopped at the first true. A program that produces nothing does not match.
func (p *Program) Bool(ctx context.Context, input []byte) (bool, error) {
	matched := false
	err := p.run(ctx, input, func(v any) (bool, error) {
		b, ok := v.(bool)
		if !ok {
			return false, &NotBooleanError{Kind: kind(v), Preview: gojq.Preview(v)}
		}
		matched = b
		return !b, nil
	})
	if err != nil && !errors.Is(err, errHalt) {
		return false, err
	}
	return matched, nil
}

// errHalt is how run reports that the program called halt: its outputs end there.
var errHalt = errors.New("halted")

// run decodes input and runs the program on it within Timeout, handing each output to
// yield until yield says to stop or fails. It returns yield's error, the program's, or
// errHalt.
func (p *Program) run(ctx context.Context, input []byte, yield func(v any) (more bool, err error)) error {
	in, err := schemas.DecodeJSON(input)
	if err != nil {
		return fmt.Errorf("decode the input: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, Timeout, ErrTimeout)
	defer cancel()
	iter := p.code.RunWithContext(ctx, in)
	for {
		v, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, isErr := v.(error); isErr {
			return runError(ctx, err)
		}
		if more, err := yield(v); err != nil || !more {
			return err
		}
	}
}

// runError classifies an error the program emitted.
func runError(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		cause := context.Cause(ctx)
		if errors.Is(cause, ErrTimeout) {
			return ErrTimeout
		}
		return fmt.Errorf("was stopped: %w", cause)
	}
	var halt *gojq.HaltError
	if errors.As(err, &halt) && halt.Value() == nil {
		return errHalt
	}
	return &RuntimeError{Err: err}
}

// kind names the JSON type of a value as errors say it: "an object", "a number", "null".
func kind(v any) string {
	switch t := gojq.TypeOf(v); t {
	case "null":
		return t
	case "object", "array":
		return "an " + t
	default:
		return "a " + t
	}
}
