package jq_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/schemas/jq"
)

// numbers holds numbers that a float64 would change, or that JSON can write several ways.
const numbers = `{"n":7383920011122334455,"d":0.1,"one":1.0,"big":1e400,"neg":-98765432109876543210987,"z":-0,"e":1E2,"s":"7383920011122334455","arr":[10,20,30]}`

func TestNumbersArriveAsSent(t *testing.T) {
	cases := []struct{ program, want string }{
		// Passed through: the number's text as sent.
		{".", `{"arr":[10,20,30],"big":1e400,"d":0.1,"e":1E2,"n":7383920011122334455,"neg":-98765432109876543210987,"one":1.0,"s":"7383920011122334455","z":-0}`},
		{"{id: .n, d, one, big, neg, z, e}", `{"big":1e400,"d":0.1,"e":1E2,"id":7383920011122334455,"neg":-98765432109876543210987,"one":1.0,"z":-0}`},
		{"[.n, .d] | sort", `[0.1,7383920011122334455]`},
		{`"id \(.n)"`, `"id 7383920011122334455"`},
		{".n | tojson", `"7383920011122334455"`},
		{".s", `"7383920011122334455"`},
		// Computed: whole numbers exact at any size, others float64.
		{".n + 1", "7383920011122334456"},
		{".neg - 1", "-98765432109876543210988"},
		{"-.n", "-7383920011122334455"},
		{".s | tonumber", "7383920011122334455"},
		{".d * 3", "0.30000000000000004"},
		{".one + 0", "1"},
		{".big + 0", "1.7976931348623157e+308"},
		{".arr[.one]", "20"},
		// Compared by value.
		{".n == 7383920011122334455", "true"},
		{".n == 7383920011122334456", "false"},
		{".n > 7383920011122334454", "true"},
		{".d == 0.1", "true"},
		{".one == 1", "true"},
	}
	for _, tc := range cases {
		p, err := jq.Compile(tc.program)
		if err != nil {
			t.Fatalf("Compile(%q) = %v", tc.program, err)
		}
		got, err := p.First(context.Background(), []byte(numbers))
		if err != nil || string(got) != tc.want {
			t.Errorf("First(%q) = %s, %v; want %s", tc.program, got, err, tc.want)
		}
	}
}

func TestCompileSaysWhere(t *testing.T) {
	cases := []struct{ program, want string }{
		{`{type: .a,, data: .}`, `not a jq program: unexpected token "," at line 1, column 11`},
		{"{\n  type: .kind\n  data: .\n}", `not a jq program: unexpected token "data" at line 3, column 3`},
		{`{type: "x`, "not a jq program: unterminated string literal at the end of the program (line 1, column 10)"},
		{`{type: "é",, data: .}`, `unexpected token "," at line 1, column 12`}, // columns count characters, not bytes
		{`nosuch`, "not a jq program: function not defined: nosuch/0"},
		{`input`, "not a jq program: input(s)/0 is not allowed"},
	}
	for _, tc := range cases {
		_, err := jq.Compile(tc.program)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want %q", tc.program, err, tc.want)
		}
	}
}

func TestCompileCachesByText(t *testing.T) {
	a, err := jq.Compile(`.data.id`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := jq.Compile(`.data.id`)
	if a != b || a.String() != ".data.id" {
		t.Errorf("Compile twice = %p, %p; want the same program", a, b)
	}
}

func TestFirstAndOnly(t *testing.T) {
	ctx := context.Background()
	in := []byte(`{"a":"x","items":[1,2]}`)
	cases := []struct {
		program           string
		first, only       string // wanted output, or "error: <text>" for an error containing text
		firstErr, onlyErr error
	}{
		{program: ".items[]", first: "1", onlyErr: jq.ErrSeveralOutputs},
		{program: "empty", firstErr: jq.ErrNoOutput, onlyErr: jq.ErrNoOutput},
		{program: "halt", firstErr: jq.ErrHalted, onlyErr: jq.ErrHalted},
		{program: "1, halt", first: "1", only: "1"},
		{program: "{b: .a}", first: `{"b":"x"}`, only: `{"b":"x"}`},
		{program: "1, error(\"boom\")", first: "1", only: "error: failed: error: boom"},
		{program: ".a + 1", first: "error: failed: cannot add: string (\"x\") and number (1)", only: "error: failed: cannot add"},
		{program: `$ENV | length`, first: "0", only: "0"},
	}
	for _, tc := range cases {
		p, err := jq.Compile(tc.program)
		if err != nil {
			t.Fatal(err)
		}
		check := func(name string, got []byte, err error, want string, wantErr error) {
			t.Helper()
			switch {
			case wantErr != nil:
				if !errors.Is(err, wantErr) {
					t.Errorf("%s(%q) = %s, %v; want %v", name, tc.program, got, err, wantErr)
				}
			case strings.HasPrefix(want, "error: "):
				var re *jq.RuntimeError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), strings.TrimPrefix(want, "error: ")) {
					t.Errorf("%s(%q) = %s, %v; want a *RuntimeError containing %q", name, tc.program, got, err, want)
				}
			case err != nil || string(got) != want:
				t.Errorf("%s(%q) = %s, %v; want %s", name, tc.program, got, err, want)
			}
		}
		got, err := p.First(ctx, in)
		check("First", got, err, tc.first, tc.firstErr)
		got, err = p.Only(ctx, in)
		check("Only", got, err, tc.only, tc.onlyErr)
	}
	p, _ := jq.Compile(".")
	if _, err := p.First(ctx, []byte(`{"a":`)); err == nil || !strings.Contains(err.Error(), "decode the input") {
		t.Errorf("First(not JSON) = %v, want a decode error", err)
	}
}

func TestBool(t *testing.T) {
	in := []byte(`{"id":"evt_1","type":"video.posted","data":{"bundle_id":"b_42","n":7383920011122334455,"tags":["a","b"]}}`)
	cases := []struct {
		filter  string
		want    bool
		wantErr string // "" for none; "runtime" for a *RuntimeError
	}{
		{filter: `.data.bundle_id == "b_42"`, want: true},
		{filter: `.data.bundle_id == "b_7"`, want: false},
		{filter: `.data.n == 7383920011122334455`, want: true},
		{filter: `.data.n == 7383920011122334456`, want: false},
		{filter: `.data.tags[] == "b"`, want: true}, // any output true
		{filter: `.data.tags[] == "c"`, want: false},
		{filter: `empty`, want: false},
		{filter: `false, halt`, want: false},
		{filter: `.data.missing.deeper | test("x")`, wantErr: "runtime"},
		{filter: `.data.bundle_id = "b_42"`, wantErr: `must produce true or false, got an object ({"data":{"bundle_id":"b_4 ...})`},
		{filter: `.data.bundle_id = "b_42"`, wantErr: `compare with == (a single = assigns`},
		{filter: `.data.bundle_id`, wantErr: `must produce true or false, got a string ("b_42")`},
		{filter: `.data.missing`, wantErr: `must produce true or false, got null`},
		{filter: `false, 1`, wantErr: `got a number (1)`},
	}
	for _, tc := range cases {
		p, err := jq.Compile(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Bool(context.Background(), in)
		var re *jq.RuntimeError
		var nb *jq.NotBooleanError
		switch {
		case tc.wantErr == "":
			if err != nil || got != tc.want {
				t.Errorf("Bool(%q) = %v, %v; want %v", tc.filter, got, err, tc.want)
			}
		case tc.wantErr == "runtime":
			if !errors.As(err, &re) || got {
				t.Errorf("Bool(%q) = %v, %v; want a *RuntimeError", tc.filter, got, err)
			}
		default:
			if !errors.As(err, &nb) || !strings.Contains(err.Error(), tc.wantErr) || got {
				t.Errorf("Bool(%q) = %v, %v; want a *NotBooleanError containing %q", tc.filter, got, err, tc.wantErr)
			}
		}
	}
}

// TestRunawayProgramIsStopped: a program that never ends is stopped at the deadline and its
// run returns, for filters and mappings alike.
func TestRunawayProgramIsStopped(t *testing.T) {
	for _, program := range []string{`until(false; .)`, `last(range(1e15))`} {
		p, err := jq.Compile(program)
		if err != nil {
			t.Fatal(err)
		}
		for name, run := range map[string]func() error{
			"Bool":  func() error { _, err := p.Bool(context.Background(), []byte(`{}`)); return err },
			"First": func() error { _, err := p.First(context.Background(), []byte(`{}`)); return err },
		} {
			done := make(chan error, 1)
			go func() { done <- run() }()
			select {
			case err := <-done:
				if !errors.Is(err, jq.ErrTimeout) || err.Error() != "ran longer than 1s and was stopped" {
					t.Errorf("%s(%q) = %v, want ErrTimeout", name, program, err)
				}
			case <-time.After(30 * jq.Timeout): // generous: the machine is shared
				t.Fatalf("%s(%q) still running after %s", name, program, 30*jq.Timeout)
			}
		}
	}
}

// TestCancelledRunIsNotATimeout: when the caller's context ends first, the run says so
// rather than blaming the program.
func TestCancelledRunIsNotATimeout(t *testing.T) {
	p, err := jq.Compile(`until(false; .)`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("the client went away"))
	_, err = p.Bool(ctx, []byte(`{}`))
	if err == nil || errors.Is(err, jq.ErrTimeout) || !strings.Contains(err.Error(), "the client went away") {
		t.Errorf("Bool(canceled) = %v, want the cancellation's cause", err)
	}
}

func BenchmarkFirst(b *testing.B) {
	p, err := jq.Compile(`{id: .data.n, d: .data.d, at: .created}`)
	if err != nil {
		b.Fatal(err)
	}
	in := []byte(`{"id":"evt_1","type":"video.posted","source":"tokportal","created":"2026-06-24T14:00:05.123Z","data":{"n":7383920011122334455,"d":0.1,"title":"a video","tags":["a","b","c"]}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.First(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleProgram_First() {
	p, err := jq.Compile(`{id: .data.n, price: .data.price, next: (.data.n + 1)}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := p.First(context.Background(), []byte(`{"data":{"n":7383920011122334455,"price":0.10}}`))
	fmt.Println(string(out), err)
	// Output: {"id":7383920011122334455,"next":7383920011122334456,"price":0.10} <nil>
}

func ExampleProgram_Bool() {
	envelope := []byte(`{"type":"video.posted","data":{"bundle_id":"b_42"}}`)
	for _, filter := range []string{`.data.bundle_id == "b_42"`, `.data.bundle_id = "b_42"`} {
		p, err := jq.Compile(filter)
		if err != nil {
			fmt.Println(err)
			return
		}
		ok, err := p.Bool(context.Background(), envelope)
		fmt.Println(ok, err)
	}
	// Output:
	// true <nil>
	// false must produce true or false, got an object ({"data":{"bundle_id":"b_4 ...}): compare with == (a single = assigns, and gives back the whole object)
}
