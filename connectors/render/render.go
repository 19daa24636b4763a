// Package render writes the text of a chat message (Slack, Telegram) for a delivery, with
// a Go text/template: the endpoint's own Template over the delivered payload (the envelope,
// or the endpoint's mapped payload), or, when it has none, a default template for the
// event's type over the envelope.
//
// The payload is decoded from JSON before the template runs: objects are map[string]any,
// numbers json.Number (they print as written), and null members are dropped, so that
// {{.data.post.title.x}} on a null title renders "<no value>" instead of failing. Besides
// text/template's builtins, templates may call join (join .data.post.platforms ", ").
//
// # Example
//
//	text, err := render.Text(m, render.Options{Limit: 40000, Escape: slackEscape})
//	// "Video posted on tiktok: https://www.tiktok.com/@acme.daily/video/7383920011122334455"
package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/hookgate/hookgate/gateway"
)

// Options says how Text renders for one kind of target.
type Options struct {
	// Limit caps the text in characters; longer text is cut and ends with "…". 0: no cap
	// beyond MaxOutput.
	Limit int
	// Escape, when set, is applied to every string in the payload before the template runs
	// (Slack's &, <, >), so that data can't inject markup; the template's own text is kept.
	Escape func(string) string
}

// MaxTemplate is the longest template an endpoint may have, in bytes.
const MaxTemplate = 10 << 10

// MaxOutput bounds what a template may write, in bytes, whatever Options.Limit says.
const MaxOutput = 1 << 20

// Fallback is the default template of an event type that has no default of its own.
const Fallback = `hookgate: {{.type}} {{.id}}`

// defaults are the default templates by event type, written for the envelope.
var defaults = map[string]string{
	"video.posted":      `Video posted on {{.data.platform}}: {{.data.post_url}}`,
	"video.failed":      `Video failed on {{.data.platform}}: {{.data.reason}}{{with .data.error_code}} ({{.}}){{end}}`,
	"bundle.ready":      `Bundle {{.data.bundle_id}} is ready to post on {{.data.platform}}`,
	"post.published":    `Post published on {{join .data.post.platforms ", "}}{{with .data.post.text}}: {{.}}{{end}}`,
	"post.failed":       `Post failed on {{join .data.post.platforms ", "}}{{with .data.post.error}}: {{.}}{{end}}`,
	"upload_completed":  `{{if .data.result.success}}Upload completed on {{.data.platform}}{{with .data.result.url}}: {{.}}{{end}}{{else}}Upload failed on {{.data.platform}}{{with .data.result.error}}: {{.}}{{end}}{{end}}`,
	"postSent":          `Post sent on {{.data.network}}`,
	"endpoint.disabled": `hookgate disabled endpoint {{.data.endpoint_id}} ({{.data.url}}): {{.data.reason}}`,
}

// parsedDefaults are the default templates parsed once.
var parsedDefaults = func() map[string]*template.Template {
	out := make(map[string]*template.Template, len(defaults)+1)
	for typ, text := range defaults {
		out[typ] = template.Must(parse(text))
	}
	out[""] = template.Must(parse(Fallback))
	return out
}()

var funcs = template.FuncMap{"join": join}

// join joins a list's items with sep; a missing list is "".
func join(list any, sep string) string {
	items, ok := list.([]any)
	if !ok {
		if list == nil {
			return ""
		}
		return fmt.Sprint(list)
	}
	parts := make([]string, len(items))
	for i, v := range items {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, sep)
}

func parse(text string) (*template.Template, error) {
	return template.New("template").Funcs(funcs).Parse(text)
}

// sample is the envelope Check runs templates on: a video.posted as TokPortal sends it.
var sample = []byte(`{"id":"evt_sample_video_posted","type":"video.posted","source":"tokportal","created":"2026-06-24T14:00:05.123Z",` +
	`"data":{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}}`)

// Check validates tmpl, the template of the endpoint ep: it must be at most MaxTemplate
// bytes, parse and, unless ep has a mapping (which gives the payload another shape), run
// on a sample video.posted envelope. The error is a *gateway.ValidationError on "template".
func Check(tmpl string, ep *gateway.Endpoint) error {
	if tmpl == "" {
		return nil
	}
	if len(tmpl) > MaxTemplate {
		return &gateway.ValidationError{Field: "template", Message: fmt.Sprintf("must be at most %d bytes", MaxTemplate)}
	}
	t, err := parse(tmpl)
	if err != nil {
		return &gateway.ValidationError{Field: "template", Message: "is not a valid Go template: " + strings.TrimPrefix(err.Error(), "template: "), Err: err}
	}
	if ep.Mapping != "" {
		return nil
	}
	if _, err := execute(t, sample, Options{}); err != nil {
		return &gateway.ValidationError{Field: "template", Message: "fails on a sample video.posted envelope: " + strings.TrimPrefix(err.Error(), "template: "), Err: err}
	}
	return nil
}

// Text renders the message text of m: tmpl, the endpoint's template, over m.Body or, when
// it is empty, the default template of the event's type over the envelope. An error says
// why the template could not run, or that it wrote nothing but spaces.
func Text(m *gateway.Message, tmpl string, opts Options) (string, error) {
	if tmpl == "" {
		body, t := m.Body, parsedDefaults[""]
		if m.Event != nil {
			body = m.Event.Body()
			if d, ok := parsedDefaults[m.Event.Type]; ok {
				t = d
			}
		}
		return execute(t, body, opts)
	}
	t, err := parse(tmpl)
	if err != nil {
		return "", err
	}
	return execute(t, m.Body, opts)
}

// execute decodes payload and runs t over it.
func execute(t *template.Template, payload []byte, opts Options) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return "", fmt.Errorf("decode the payload: %w", err)
	}
	data = prepare(data, opts.Escape)
	w := &capped{max: MaxOutput}
	if opts.Limit > 0 {
		w.max = min(w.max, (opts.Limit+1)*utf8.UTFMax) // room to see that the text runs over
	}
	if err := t.Execute(w, data); err != nil {
		return "", err
	}
	text := strings.TrimSpace(string(w.buf))
	if text == "" {
		return "", errors.New("the template wrote no text")
	}
	return truncate(text, opts.Limit), nil
}

// prepare drops null members of objects and escapes strings, in place.
func prepare(v any, escape func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
			} else {
				v[k] = prepare(e, escape)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = prepare(e, escape)
		}
	case string:
		if escape != nil {
			return escape(v)
		}
	}
	return v
}

// truncate cuts text to at most limit characters, ending it with "…" when cut.
func truncate(text string, limit int) string {
	if limit <= 0 || utf8.RuneCountInString(text) <= limit {
		return text
	}
	n := 0
	for i := range text {
		if n == limit-1 {
			return text[:i] + "…"
		}
		n++
	}
	return text
}

// capped is a writer that keeps the first max bytes and discards the rest, so that a
// template looping over a large payload can't use unbounded memory.
type capped struct {
	buf []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}
