package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// sprintfBody is how bench built event i's body before eventBodies: the figures of runs
// before and after compare only if the bodies are the same bytes.
func sprintfBody(i int64, size int) string {
	id := fmt.Sprintf("evt_bench_%d", i)
	pad := strings.Repeat("x", max(0, size-120))
	return fmt.Sprintf(`{"type":"bench.event","id":%q,"data":{"n":%d,"video_id":"v_%d","platform":"tiktok","pad":%q}}`, id, i, i, pad)
}

// The producers' bodies are the JSON they always were, byte for byte, sent with their
// length, and the same again from GetBody (a resend on a fresh connection).
func TestEventBodiesAreTheSprintfBodies(t *testing.T) {
	for _, size := range []int{0, 100, 1024, 16384} {
		e := newEventBodies(size)
		for _, i := range []int64{1, 42, 1234567890} {
			want := sprintfBody(i, size)
			req := httptest.NewRequest(http.MethodPost, "/v1/events", nil)
			e.set(req, i)
			if req.ContentLength != int64(len(want)) {
				t.Errorf("size %d event %d: Content-Length %d, want %d", size, i, req.ContentLength, len(want))
			}
			got, err := io.ReadAll(iotest.OneByteReader(req.Body))
			if err != nil || string(got) != want {
				t.Errorf("size %d event %d: body %s (%v), want %s", size, i, short(got), err, short([]byte(want)))
			}
			again, _ := req.GetBody()
			got, err = io.ReadAll(again)
			if err != nil || string(got) != want {
				t.Errorf("size %d event %d: GetBody %s (%v), want %s", size, i, short(got), err, short([]byte(want)))
			}
		}
	}
}

// short shows a body by its length and its first 120 bytes.
func short(b []byte) string {
	return fmt.Sprintf("%d B %q", len(b), b[:min(len(b), 120)])
}

// allocatedPerCall is the heap bytes one call of f allocates, on average over n calls.
func allocatedPerCall(n int, f func(i int)) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		f(i)
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// writeCounter counts the writes made on the connections it dials.
type writeCounter struct {
	n atomic.Int64
}

func (w *writeCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, n: &w.n}, nil
}

type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// A producer's request goes out in one write, headers and a 1 KiB body together, as
// relaybench's do: a body net/http does not know to be in memory gets its headers flushed
// in a write of their own, a second write and read per publish in the CPU the run counts.
func TestEventBodyGoesOutInOneWrite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	var wc writeCounter
	tr := &http.Transport{DialContext: wc.dial}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	e := newEventBodies(1024)
	const n = 5
	for i := range int64(n) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		e.set(req, i)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if got := wc.n.Load(); got != n {
		t.Errorf("%d requests took %d writes, want one each", n, got)
	}
}

// envelope is a delivered body as the webhook sender sends it, the event id first.
func envelope(id string, pad int) string {
	return fmt.Sprintf(`{"id":%q,"type":"bench.event","created":"2026-11-28T12:00:00.000Z","data":{"n":1,"pad":%q}}`, id, strings.Repeat("x", pad))
}

// The receiver finds the event id however the body arrives (in one piece, a byte at a
// time, the id past the first buffer), reads the body to its end, and says so when there
// is no id of ours.
func TestReadEventIDFindsTheIDInAStream(t *testing.T) {
	long := strings.Repeat("y", 5000)
	cases := []struct {
		name, body, id string
		found          bool
	}{
		{"envelope", envelope("evt_bench_7", 16384), "evt_bench_7", true},
		{"id after 10 KiB", `{"data":{"pad":"` + strings.Repeat("x", 10000) + `"},"id":"evt_bench_8"}`, "evt_bench_8", true},
		{"marker across reads", strings.Repeat("x", 4093) + `"id":"evt_bench_9"}`, "evt_bench_9", true},
		{"id across reads", strings.Repeat("x", 4080) + `"id":"evt_bench_123456789"}`, "evt_bench_123456789", true},
		{"no id", `{"type":"bench.event","data":{}}`, "", false},
		{"id not ended", `{"id":"evt_bench_1`, "", false},
		{"id longer than the buffer", `{"id":"` + long + `"}`, "", false},
		{"empty", "", "", false},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"halves":   iotest.HalfReader,
	}
	for _, c := range cases {
		for rn, wrap := range readers {
			r := strings.NewReader(c.body)
			id, found := readEventID(wrap(r))
			if id != c.id || found != c.found {
				t.Errorf("%s, %s: readEventID = %q, %v; want %q, %v", c.name, rn, id, found, c.id, c.found)
			}
			if r.Len() != 0 {
				t.Errorf("%s, %s: %d bytes left unread, want the body read to its end", c.name, rn, r.Len())
			}
		}
	}
}

// A 16 KiB delivery is timed and counted once, and costs the receiver no buffer that grows
// with the body (io.ReadAll's doubling made ~64 KiB of garbage of each).
func TestReceiverReadsWithoutGrowingBuffers(t *testing.T) {
	rcv := &benchReceiver{sent: &sync.Map{}}
	rcv.sent.Store("evt_bench_1", time.Now())
	body := []byte(envelope("evt_bench_1", 16384))
	serve := func(delivery string) int {
		req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		req.Header.Set("X-Hookgate-Delivery", delivery)
		w := httptest.NewRecorder()
		rcv.ServeHTTP(w, req)
		return w.Code
	}
	if code := serve("dlv_1"); code != http.StatusNoContent {
		t.Fatalf("receipt answered %d, want 204", code)
	}
	serve("dlv_1") // the same delivery again: not counted twice
	if n, lat := rcv.count.Load(), rcv.latencies(); n != 1 || len(lat) != 1 {
		t.Fatalf("count %d, %d latencies after one delivery received twice; want 1, 1", n, len(lat))
	}

	// The request and its recorder cost the same before and after; the read is what changed.
	reqs := make([]*http.Request, 200)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		reqs[i].Header.Set("X-Hookgate-Delivery", "dlv_1")
	}
	w := httptest.NewRecorder()
	per := allocatedPerCall(len(reqs), func(i int) { rcv.ServeHTTP(w, reqs[i]) })
	if per > 4096 {
		t.Errorf("a 16 KiB receipt allocates %.0f B, want under 4 KiB (a fixed buffer, not the body)", per)
	}
}

// BenchmarkEventBody is a producer's cost of one 16 KiB body.
func BenchmarkEventBody(b *testing.B) {
	e := newEventBodies(16384)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req := &http.Request{}
		e.set(req, int64(i))
		io.Copy(io.Discard, req.Body)
	}
}

// BenchmarkReceiver is the receiver's cost of one 16 KiB delivery.
func BenchmarkReceiver(b *testing.B) {
	rcv := &benchReceiver{sent: &sync.Map{}}
	rcv.sent.Store("evt_bench_1", time.Now())
	body := []byte(envelope("evt_bench_1", 16384))
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/hook", rd)
	req.Header.Set("X-Hookgate-Delivery", "dlv_1")
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		rcv.ServeHTTP(w, req)
	}
}

// A 503 counts as busy only when its error is the gateway's busy (slow down), not when the
// store is unavailable or the answer is not the API's error at all.
func TestBenchTellsBusyFromOtherRefusals(t *testing.T) {
	for body, want := range map[string]bool{
		`{"error":{"code":"busy","message":"deliveries are behind publishing; retry after Retry-After","field":""}}`: true,
		`{"error":{"code":"store_unavailable","message":"the store cannot be reached right now","field":""}}`:        false,
		`{"error":{"code":"unavailable","message":"shutting down","field":""}}`:                                      false,
		`<html>503 Service Unavailable</html>`:                                                                       false,
		``:                                                                                                           false,
	} {
		if got := isBusy(strings.NewReader(body)); got != want {
			t.Errorf("isBusy(%q) = %v, want %v", body, got, want)
		}
	}
}
