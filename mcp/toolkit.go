package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/gateway"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// maxResultBytes bounds a tool result's structured content, serialized. Claude Code cuts a
// tool result at 25,000 tokens by default; JSON runs 3 to 4 bytes a token, so 80,000 bytes
// stays under it with room for the text summary.
const maxResultBytes = 80_000

// effect says what a tool does to hookgate, for the annotations a host shows and acts on
// (Cursor's Ask mode runs only read-only tools; hosts confirm destructive ones).
type effect int

const (
	// reads changes nothing: readOnlyHint true.
	reads effect = iota
	// adds creates or changes something (a setting changed can be changed back):
	// destructiveHint false.
	adds
	// destroys deletes something: destructiveHint true.
	destroys
)

// toolDef is one tool as an agent host sees it.
type toolDef struct {
	name  string
	title string
	// description is what the model reads to decide when and how to call the tool.
	description string
	effect      effect
	// idempotent: calling again with the same arguments changes nothing more.
	idempotent bool
	// input adjusts the generated input schema (bounds, per-kind requirements).
	input func(schema map[string]any)
}

// output is a tool's structured result: it bounds itself to maxResultBytes and says what
// it holds in a line or two of text, so the text doesn't repeat the JSON.
type output interface {
	summary() string
}

// boundable is an output that can shrink itself (drop list items, cut payloads) to fit
// within max bytes serialized; it returns a note saying what it cut, or "".
type boundable interface {
	bound(max int) string
}

// addTool registers a tool whose arguments are In and whose result is Out (a *O): the
// input schema is generated from In and adjusted by def.input, the output schema from O;
// arguments are checked against the input schema before f runs (unknown, missing,
// mistyped or out-of-range arguments are errors naming the argument); f's result is
// bounded and returned as structured content with its summary as the text.
func addTool[In, O any, Out interface {
	*O
	output
}](s *server.MCPServer, def toolDef, f func(ctx context.Context, req mcp.CallToolRequest, in In) (Out, error)) {
	tool := mcp.NewTool(def.name,
		mcp.WithDescription(def.description),
		mcp.WithInputSchema[In](),
		mcp.WithOutputSchema[O](),
		mcp.WithToolAnnotation(annotations(def)),
		mcp.WithToolTitle(def.title),
	)
	tool.RawInputSchema = mustAdjust(def.name, tool.RawInputSchema, def.input)
	out, err := json.Marshal(tool.OutputSchema)
	if err != nil {
		panic(fmt.Sprintf("mcp: %s output schema: %v", def.name, err))
	}
	tool.OutputSchema = mcp.ToolOutputSchema{}
	tool.RawOutputSchema = mustAdjust(def.name, out, nil)
	args, err := newArgSchema(def.name, tool.RawInputSchema)
	if err != nil {
		panic(fmt.Sprintf("mcp: %v", err))
	}
	s.AddTool(tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in In
		if err := args.decode(req.Params.Arguments, &in); err != nil {
			return failure(err), nil
		}
		res, err := f(ctx, req, in)
		if err != nil {
			return failure(err), nil
		}
		text := res.summary()
		if b, ok := any(res).(boundable); ok {
			if note := b.bound(maxResultBytes); note != "" {
				text += "\n" + note
			}
		}
		return mcp.NewToolResultStructured(res, text), nil
	})
}

// annotations are the hints a host reads: hookgate's tools only touch hookgate itself
// (openWorldHint false; deliveries to webhooks happen later, from the gateway).
func annotations(def toolDef) mcp.ToolAnnotation {
	readOnly, destructive := def.effect == reads, def.effect == destroys
	a := mcp.ToolAnnotation{
		Title:         def.title,
		ReadOnlyHint:  &readOnly,
		OpenWorldHint: mcp.ToBoolPtr(false),
	}
	if !readOnly { // the spec defines these only for tools that write
		a.DestructiveHint = &destructive
		a.IdempotentHint = mcp.ToBoolPtr(def.idempotent)
	}
	return a
}

// mustAdjust decodes a generated schema, applies adjust, and turns every json.RawMessage
// (which the generator describes as an array of bytes) back into "any JSON value".
func mustAdjust(tool string, raw json.RawMessage, adjust func(map[string]any)) json.RawMessage {
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		panic(fmt.Sprintf("mcp: %s schema: %v", tool, err))
	}
	fixRawJSON(schema)
	if adjust != nil {
		adjust(schema)
	}
	b, err := json.Marshal(schema)
	if err != nil {
		panic(fmt.Sprintf("mcp: %s schema: %v", tool, err))
	}
	return b
}

// fixRawJSON replaces, anywhere in schema, the description of a []byte (an array of
// integers 0..255, which is how a json.RawMessage field is generated) with {}, any JSON.
func fixRawJSON(schema map[string]any) {
	for key, v := range schema {
		switch v := v.(type) {
		case map[string]any:
			if isByteArray(v) {
				fixed := map[string]any{}
				if d, ok := v["description"]; ok {
					fixed["description"] = d
				}
				schema[key] = fixed
				continue
			}
			fixRawJSON(v)
		case []any:
			for _, x := range v {
				if m, ok := x.(map[string]any); ok {
					fixRawJSON(m)
				}
			}
		}
	}
}

func isByteArray(s map[string]any) bool {
	items, ok := s["items"].(map[string]any)
	return ok && items["type"] == "integer" && items["maximum"] == float64(255) && items["minimum"] == float64(0)
}

// failure turns an error into a tool result the agent can read and act on.
func failure(err error) *mcp.CallToolResult {
	var (
		ae *argError
		nf *notFoundError
		ve *gateway.ValidationError
	)
	switch {
	case errors.As(err, &ae), errors.As(err, &nf):
		return mcp.NewToolResultError(err.Error())
	case errors.As(err, &ve) && strings.HasPrefix(ve.Message, "is required"):
		return mcp.NewToolResultError(fmt.Sprintf("`%s` %s", ve.Field, ve.Message))
	case errors.As(err, &ve) && ve.Field != "":
		return mcp.NewToolResultError(fmt.Sprintf("invalid %s: %s", ve.Field, ve.Message))
	case errors.Is(err, gateway.ErrNotFound):
		return mcp.NewToolResultError("not found: " + err.Error())
	}
	return mcp.NewToolResultError(err.Error())
}

// notFoundError says which thing was looked for, under which argument, and where to find
// the ones that exist.
type notFoundError struct {
	what, arg, id, hint string
	err                 error
}

func (e *notFoundError) Error() string {
	return fmt.Sprintf("not found: no %s with %s %q (%s)", e.what, e.arg, e.id, e.hint)
}

func (e *notFoundError) Unwrap() error { return e.err }

// lookup names what an id was looked up as when err is gateway.ErrNotFound; other errors
// pass through.
func lookup(err error, what, arg, id, hint string) error {
	if errors.Is(err, gateway.ErrNotFound) {
		return &notFoundError{what: what, arg: arg, id: id, hint: hint, err: err}
	}
	return err
}

// setRange returns an input-schema adjustment that bounds a numeric argument.
func setRange(name string, lo, hi int) func(map[string]any) {
	return func(s map[string]any) {
		p := s["properties"].(map[string]any)[name].(map[string]any)
		p["minimum"], p["maximum"] = lo, hi
	}
}

// setEnum restricts a string argument of an input schema to values.
func setEnum(s map[string]any, name string, values ...string) {
	p := s["properties"].(map[string]any)[name].(map[string]any)
	p["enum"] = values
}

// fit returns how many of items, from the start, fit in budget bytes serialized.
func fit[T any](items []T, budget int) int {
	n := 2
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return i
		}
		n += len(b) + 1
		if n > budget {
			return i
		}
	}
	return len(items)
}

// size is v's serialized length.
func size(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}
