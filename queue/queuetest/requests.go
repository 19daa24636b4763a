package queuetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// request builds the i-th logged call of a source; all have the same encoded size.
func (s *suite) request(i int) *gateway.SourceRequest {
	return &gateway.SourceRequest{
		ID: id("req_", i), ReceivedAt: s.at(time.Duration(i) * time.Second), Verified: true, Result: gateway.ResultAccepted,
		EventID: id("evt_", i), EventType: "test.happened", Headers: map[string]string{"Content-Type": "application/json"},
		BodySize: 200, Body: fmt.Sprintf(`{"n":%05d,"pad":"%s"}`, i, strings.Repeat("x", 180)),
	}
}

func (s *suite) logRequests(t *testing.T, st gateway.Store, source string, bound gateway.LogBound, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := st.LogRequest(ctx, source, s.request(i), bound); err != nil {
			t.Fatalf("LogRequest(%s, %d): %v", source, i, err)
		}
	}
}

// wantRequests fails t unless source's log, read with limit, holds the calls numbered want.
func (s *suite) wantRequests(t *testing.T, st gateway.Store, source string, limit int, want ...int) {
	t.Helper()
	got, err := st.Requests(ctx, source, limit)
	if err != nil {
		t.Fatalf("Requests(%s): %v", source, err)
	}
	wantReqs := make([]*gateway.SourceRequest, len(want))
	for i, n := range want {
		wantReqs[i] = s.request(n)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	sameJSON(t, fmt.Sprintf("Requests(%s, %d)", source, limit), got, wantReqs)
}

var roomy = gateway.LogBound{Entries: 1000, Bytes: 1 << 20, MaxAge: time.Hour}

// Requests returns a source's calls newest first, up to limit, and only that source's.
func (s *suite) testRequestOrder(t *testing.T) {
	st, _ := s.fresh(t)
	s.logRequests(t, st, "src_1", roomy, 0, 5)
	s.logRequests(t, st, "src_2", roomy, 10, 12)
	s.wantRequests(t, st, "src_1", 10, 4, 3, 2, 1, 0)
	s.wantRequests(t, st, "src_1", 2, 4, 3)
	s.wantRequests(t, st, "src_2", 10, 11, 10)
	s.wantRequests(t, st, "src_none", 10)
}

// A source keeps at most bound.Entries calls, dropping the oldest.
func (s *suite) testRequestEntries(t *testing.T) {
	st, _ := s.fresh(t)
	bound := gateway.LogBound{Entries: 3, Bytes: 1 << 20, MaxAge: time.Hour}
	s.logRequests(t, st, "src_1", bound, 0, 5)
	s.logRequests(t, st, "src_2", bound, 10, 12)
	s.wantRequests(t, st, "src_1", 10, 4, 3, 2)
	s.wantRequests(t, st, "src_2", 10, 11, 10)
	s.logRequests(t, st, "src_1", bound, 5, 6)
	s.wantRequests(t, st, "src_1", 10, 5, 4, 3)
}

// A source keeps at most bound.Bytes bytes of calls, dropping the oldest.
func (s *suite) testRequestBytes(t *testing.T) {
	st, _ := s.fresh(t)
	b, err := json.Marshal(s.request(0))
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(b))
	bound := gateway.LogBound{Entries: 1000, Bytes: 3*size + size/2, MaxAge: time.Hour}
	s.logRequests(t, st, "src_1", bound, 0, 6)
	s.wantRequests(t, st, "src_1", 10, 5, 4, 3)
	s.logRequests(t, st, "src_1", roomy, 6, 7)
	s.wantRequests(t, st, "src_1", 10, 6, 5, 4, 3)
}

// Calls older than bound.MaxAge are not returned.
func (s *suite) testRequestMaxAge(t *testing.T) {
	st, _ := s.fresh(t)
	short := gateway.LogBound{Entries: 1000, Bytes: 1 << 20, MaxAge: 300 * time.Millisecond}
	s.logRequests(t, st, "src_short", short, 0, 3)
	s.logRequests(t, st, "src_long", roomy, 10, 12)
	waitFor(t, 10*time.Second, "calls logged with a MaxAge of 300 ms to expire", func() bool {
		got, err := st.Requests(ctx, "src_short", 10)
		if err != nil {
			t.Fatalf("Requests: %v", err)
		}
		return len(got) == 0
	})
	s.wantRequests(t, st, "src_long", 10, 11, 10)
}

// DropRequests removes one source's log and nothing else.
func (s *suite) testRequestDrop(t *testing.T) {
	st, _ := s.fresh(t)
	s.logRequests(t, st, "src_1", roomy, 0, 3)
	s.logRequests(t, st, "src_2", roomy, 10, 12)
	if err := st.DropRequests(ctx, "src_1"); err != nil {
		t.Fatalf("DropRequests: %v", err)
	}
	s.wantRequests(t, st, "src_1", 10)
	s.wantRequests(t, st, "src_2", 10, 11, 10)
	if err := st.DropRequests(ctx, "src_none"); err != nil {
		t.Errorf("DropRequests of a source without a log = %v, want nil", err)
	}
	s.logRequests(t, st, "src_1", roomy, 5, 6)
	s.wantRequests(t, st, "src_1", 10, 5)
}
