package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// Stats counts the attempts made in the window per endpoint (successes, failures, ratio,
// percentiles of their durations on the Service's clock, the last error), what is queued
// and paused, and the totals; attempts before the window are left out.
func TestStatsPerEndpoint(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Now: clk.Now, Schedule: gateway.Schedule{0}}, rec)
	off := false
	newEP := func(events string, enabled bool) string {
		ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/" + events, Events: []string{events}, Enabled: &enabled})
		if err != nil {
			t.Fatal(err)
		}
		return ep.ID
	}
	good, bad, paused := newEP("a.x", true), newEP("b.x", true), newEP("c.x", off)
	n := 0
	rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		if m.Endpoint.ID == bad {
			clk.set(clk.Now().Add(100 * time.Millisecond))
			return gateway.Outcome{StatusCode: 503}
		}
		n++
		clk.set(clk.Now().Add(time.Duration(n) * 10 * time.Millisecond))
		return gateway.Outcome{StatusCode: 200}
	})
	for _, typ := range []string{"a.x", "a.x", "b.x", "a.x", "b.x", "a.x", "c.x"} {
		res, err := svc.Publish(ctx, gateway.PublishInput{Type: typ, Data: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		// One at a time, each recorded before the next: each attempt's duration is its own.
		gatewaytest.WaitFor(t, 5*time.Second, typ+" attempted", func() bool {
			_, dls, err := svc.GetEvent(ctx, res.ID)
			return err == nil && len(dls) == 1 && dls[0].Status != gateway.StatusPending
		})
	}
	var st *gateway.Stats
	gatewaytest.WaitFor(t, 5*time.Second, "six attempts recorded", func() bool {
		var err error
		if st, err = svc.Stats(ctx, start); err != nil {
			t.Fatal(err)
		}
		return st.Totals.Attempts == 6 && st.Totals.Pending == 0
	})
	by := map[string]*gateway.EndpointStats{}
	for _, e := range st.Endpoints {
		by[e.EndpointID] = e
	}
	g, b, p := by[good], by[bad], by[paused]
	if g == nil || b == nil || p == nil || len(st.Endpoints) != 3 {
		t.Fatalf("endpoints = %+v", st.Endpoints)
	}
	ms := func(v *int64) int64 {
		if v == nil {
			return -1
		}
		return *v
	}
	if g.Attempts != 4 || g.Successes != 4 || g.Failures != 0 || *g.SuccessRatio != 1 || ms(g.P50MS) != 20 || ms(g.P95MS) != 40 || g.State != "enabled" || g.LastError != "" {
		t.Errorf("good = %+v (p50 %d, p95 %d), want 4 successes, p50 20 ms, p95 40 ms", g, ms(g.P50MS), ms(g.P95MS))
	}
	if b.Attempts != 2 || b.Failures != 2 || b.GaveUp != 2 || *b.SuccessRatio != 0 || ms(b.P50MS) != 100 || b.LastError != "HTTP 503" || b.LastErrorAt == nil {
		t.Errorf("bad = %+v, want 2 failures, both given up, last error HTTP 503", b)
	}
	if p.State != "disabled" || p.Paused != 1 || p.Attempts != 0 || p.SuccessRatio != nil || p.P50MS != nil {
		t.Errorf("paused = %+v, want disabled with 1 paused delivery and no attempts", p)
	}
	tot := st.Totals
	if tot.Attempts != 6 || tot.Successes != 4 || tot.Failures != 2 || tot.GaveUp != 2 || tot.Paused != 1 || ms(tot.P95MS) != 100 || tot.LastError != bad+": HTTP 503" {
		t.Errorf("totals = %+v", tot)
	}
	if st.Scan.Truncated || st.Scan.Deliveries != 7 || !st.Scan.CreatedSince.Equal(start) {
		t.Errorf("scan = %+v, want 7 deliveries read from %s, not truncated", st.Scan, start)
	}
	// Two hours on, the last hour holds no attempt; what is paused still shows.
	clk.set(clk.Now().Add(2 * time.Hour))
	st, err := svc.Stats(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Totals.Attempts != 0 || st.Totals.Paused != 1 || !st.Since.Equal(clk.Now().Add(-time.Hour)) {
		t.Errorf("the last hour, 2 h later: since %s, totals %+v; want no attempts, 1 paused", st.Since, st.Totals)
	}
	if _, err := svc.Stats(ctx, clk.Now().Add(time.Minute)); err == nil {
		t.Error("Stats(since in the future) = nil error")
	}
}

// A Stats call reads a bounded number of deliveries, newest first, and says when it stopped
// short: the counts then cover only the newest ones.
func TestStatsSaysWhenTheScanWasCut(t *testing.T) {
	defer gateway.SetStatsScan(5)()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	svc := gatewaytest.New(t, gateway.Options{Now: clk.Now, Schedule: gateway.Schedule{0}}, gatewaytest.NewRecorder())
	if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	for range 8 {
		if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "x.y", Data: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	var st *gateway.Stats
	gatewaytest.WaitFor(t, 5*time.Second, "nothing pending", func() bool {
		var err error
		if st, err = svc.Stats(ctx, time.Time{}); err != nil {
			t.Fatal(err)
		}
		return st.Totals.Pending == 0
	})
	if !st.Scan.Truncated || st.Scan.Deliveries != 5 || st.Totals.Attempts != 5 || st.Scan.MaxScan != 5 {
		t.Errorf("scan %+v, %d attempts counted; want 5 of the 8 deliveries read, truncated", st.Scan, st.Totals.Attempts)
	}
	defer gateway.SetStatsScan(8)()
	if st, _ = svc.Stats(ctx, time.Time{}); st.Scan.Truncated || st.Scan.Deliveries != 8 || st.Totals.Attempts != 8 {
		t.Errorf("with room for all 8: scan %+v, %d attempts", st.Scan, st.Totals.Attempts)
	}
}

// Stats.Series counts the window's events, and its attempts, successes and failures apart,
// in at most 60 steps of whole minutes.
func TestStatsSeries(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Now: clk.Now, Schedule: gateway.Schedule{0}}, rec)
	if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		if m.Event.Type == "bad" {
			return gateway.Outcome{StatusCode: 500}
		}
		return gateway.Outcome{StatusCode: 200}
	})
	send := func(at time.Duration, typ string) {
		clk.set(start.Add(at))
		res, err := svc.Publish(ctx, gateway.PublishInput{Type: typ, Data: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		gatewaytest.WaitFor(t, 5*time.Second, typ+" attempted", func() bool {
			_, dls, err := svc.GetEvent(ctx, res.ID)
			return err == nil && len(dls) == 1 && dls[0].Status != gateway.StatusPending
		})
	}
	send(-time.Minute, "good") // before the window: neither its event nor its attempt counts
	send(10*time.Second, "good")
	send(20*time.Second, "good")
	send(5*time.Minute+time.Second, "bad")
	send(59*time.Minute, "good")
	clk.set(start.Add(time.Hour))
	st, err := svc.Stats(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Series) != 60 || st.StepSeconds != 60 || !st.Series[0].Start.Equal(start) {
		t.Fatalf("series of %d steps of %d s from %v, want 60 of 60 s from %v", len(st.Series), st.StepSeconds, st.Series[0].Start, start)
	}
	want := map[int]gateway.StatsPoint{0: {Events: 2, Successes: 2}, 5: {Events: 1, Failures: 1}, 59: {Events: 1, Successes: 1}}
	for i, p := range st.Series {
		w := want[i]
		if p.Events != w.Events || p.Successes != w.Successes || p.Failures != w.Failures {
			t.Errorf("step %d = %d events, %d ok, %d failed; want %d, %d, %d", i, p.Events, p.Successes, p.Failures, w.Events, w.Successes, w.Failures)
		}
	}
	if st.Events != 4 || st.Scan.Events != 4 || st.Scan.Truncated {
		t.Errorf("events = %d (scanned %d, truncated %v), want the window's 4", st.Events, st.Scan.Events, st.Scan.Truncated)
	}
	// "The last hour" asked a moment late is still 60 steps of a minute; the moment's
	// attempts count in the last one.
	clk.set(start.Add(time.Hour + 3*time.Millisecond))
	send(time.Hour+2*time.Millisecond, "bad")
	if st, err = svc.Stats(ctx, start); err != nil || len(st.Series) != 60 || st.StepSeconds != 60 || st.Series[59].Successes != 1 || st.Series[59].Failures != 1 {
		t.Fatalf("an hour and 3 ms = %d steps of %d s, last %+v (%v); want 60 of 60 s, the last with two attempts", len(st.Series), st.StepSeconds, st.Series[len(st.Series)-1], err)
	}
	// A day: 60 steps of 24 minutes.
	clk.set(start.Add(24 * time.Hour))
	st, err = svc.Stats(ctx, start)
	if err != nil || len(st.Series) != 60 || st.StepSeconds != 24*60 {
		t.Fatalf("a day's series = %d steps of %d s (%v); want 60 of 1440 s", len(st.Series), st.StepSeconds, err)
	}
	if p0, p2 := st.Series[0], st.Series[2]; p0.Successes != 2 || p0.Failures != 1 || p0.Events != 3 || p2.Successes != 1 || p2.Failures != 1 || p2.Events != 2 {
		t.Fatalf("a day's steps 0 and 2 = %+v, %+v; want the first three attempts, then the two at an hour", p0, p2)
	}
}
