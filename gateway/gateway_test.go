package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

var ctx = context.Background()

func endpoint(t *testing.T, svc *gateway.Service, events ...string) *gateway.Endpoint {
	t.Helper()
	ep, secret, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: events})
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if len(secret) < 10 || secret[:6] != "whsec_" {
		t.Fatalf("secret = %q, want whsec_…", secret)
	}
	return ep
}

func publish(t *testing.T, svc *gateway.Service, typ, data string) *gateway.PublishResult {
	t.Helper()
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: typ, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatalf("Publish(%s): %v", typ, err)
	}
	return res
}

func deliveryStatus(t *testing.T, svc *gateway.Service, id string) func() gateway.DeliveryStatus {
	return func() gateway.DeliveryStatus {
		d, err := svc.GetDelivery(ctx, id)
		if err != nil {
			t.Fatalf("GetDelivery: %v", err)
		}
		return d.Status
	}
}

func TestPublishFansOutToMatchingEndpoints(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	exact := endpoint(t, svc, "video.posted")
	prefix := endpoint(t, svc, "video.*")
	all := endpoint(t, svc, "*")
	other := endpoint(t, svc, "bundle.ready")

	res := publish(t, svc, "video.posted", `{"url":"https://t.co/x"}`)
	if res.Deliveries != 3 {
		t.Fatalf("Deliveries = %d, want 3", res.Deliveries)
	}
	calls := rec.Want(t, 5*time.Second, 3)
	got := map[string]bool{}
	for _, c := range calls {
		got[c.EndpointID] = true
		var env map[string]any
		if err := json.Unmarshal(c.Body, &env); err != nil {
			t.Fatalf("body is not JSON: %s", c.Body)
		}
		if env["id"] != res.ID || env["type"] != "video.posted" || env["data"].(map[string]any)["url"] != "https://t.co/x" {
			t.Errorf("envelope = %s", c.Body)
		}
	}
	for _, ep := range []*gateway.Endpoint{exact, prefix, all} {
		if !got[ep.ID] {
			t.Errorf("endpoint %v (%v) got nothing", ep.ID, ep.Events)
		}
	}
	if got[other.ID] {
		t.Errorf("endpoint subscribed to bundle.ready got video.posted")
	}
	ev, dls, err := svc.GetEvent(ctx, res.ID)
	if err != nil || len(dls) != 3 || ev.Type != "video.posted" {
		t.Fatalf("GetEvent = %v, %d deliveries, %v", ev, len(dls), err)
	}
	for _, d := range dls {
		gatewaytest.WaitFor(t, 5*time.Second, "delivery succeeded", func() bool { return deliveryStatus(t, svc, d.ID)() == gateway.StatusSucceeded })
	}
}

func TestDuplicateIDIsNotSentTwice(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	endpoint(t, svc, "*")
	in := gateway.PublishInput{ID: "evt_same", Type: "post.published", Data: json.RawMessage(`{}`)}
	first, err := svc.Publish(ctx, in)
	if err != nil || first.Duplicate || first.Deliveries != 1 {
		t.Fatalf("first Publish = %+v, %v", first, err)
	}
	second, err := svc.Publish(ctx, in)
	if err != nil || !second.Duplicate || second.ID != "evt_same" {
		t.Fatalf("second Publish = %+v, %v; want duplicate", second, err)
	}
	// The id of an event stored without it as a dedupe key (a generated one) is a
	// duplicate too.
	gen := publish(t, svc, "post.published", `{}`)
	again, err := svc.Publish(ctx, gateway.PublishInput{ID: gen.ID, Type: "post.published", Data: json.RawMessage(`{}`)})
	if err != nil || !again.Duplicate || again.ID != gen.ID {
		t.Fatalf("Publish with a generated id = %+v, %v; want duplicate", again, err)
	}
	rec.Want(t, 5*time.Second, 2)
	time.Sleep(100 * time.Millisecond)
	if n := len(rec.Calls()); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
}

func TestConcurrentDuplicatesStoreOneEvent(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	endpoint(t, svc, "*")
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := svc.Publish(ctx, gateway.PublishInput{ID: "evt_race", Type: "x", Data: json.RawMessage(`1`)})
			if err != nil {
				t.Errorf("Publish: %v", err)
				return
			}
			if !res.Duplicate {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d publishes were stored, want exactly 1", fresh)
	}
}

func TestRetriesOnScheduleThenSucceeds(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	rec.Script(func(n int, m *gateway.Message) gateway.Outcome {
		if n <= 2 {
			return gateway.Outcome{StatusCode: 500, Body: []byte("boom")}
		}
		return gateway.Outcome{StatusCode: 200, Body: []byte("ok")}
	})
	step := 150 * time.Millisecond
	svc := gatewaytest.New(t, gateway.Options{Schedule: gateway.Schedule{0, step, step, step}}, rec)
	endpoint(t, svc, "*")
	res := publish(t, svc, "video.posted", `{}`)
	calls := rec.Want(t, 5*time.Second, 3)
	for i := 1; i < 3; i++ {
		if gap := calls[i].At.Sub(calls[i-1].At); gap < step*8/10 {
			t.Errorf("attempt %d came %s after the previous, want ≥ %s", i+1, gap, step*8/10)
		}
		if calls[i].Attempt != i+1 {
			t.Errorf("attempt number = %d, want %d", calls[i].Attempt, i+1)
		}
	}
	_, dls, _ := svc.GetEvent(ctx, res.ID)
	gatewaytest.WaitFor(t, 5*time.Second, "succeeded", func() bool { return deliveryStatus(t, svc, dls[0].ID)() == gateway.StatusSucceeded })
	d, _ := svc.GetDelivery(ctx, dls[0].ID)
	if len(d.Attempts) != 3 {
		t.Fatalf("attempts = %d, want 3: %+v", len(d.Attempts), d.Attempts)
	}
	want := []int{500, 500, 200}
	for i, a := range d.Attempts {
		if a.StatusCode != want[i] {
			t.Errorf("attempt %d status = %d, want %d", i, a.StatusCode, want[i])
		}
	}
	if d.Attempts[0].ResponseBody != "boom" || d.NextAttemptAt != nil {
		t.Errorf("attempt log = %+v, next = %v", d.Attempts[0], d.NextAttemptAt)
	}
}

func TestGivesUpAfterScheduleAndAutoDisables(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	rec.Script(func(int, *gateway.Message) gateway.Outcome {
		return gateway.Outcome{Err: errors.New("connection refused")}
	})
	svc := gatewaytest.New(t, gateway.Options{Schedule: gateway.Schedule{0, 10 * time.Millisecond}, DisableAfter: 3}, rec)
	ep := endpoint(t, svc, "video.*")
	watcher := endpoint(t, svc, "endpoint.disabled")
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, publish(t, svc, "video.posted", fmt.Sprintf(`{"n":%d}`, i)).ID)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "endpoint disabled", func() bool {
		e, _ := svc.GetEndpoint(ctx, ep.ID)
		return !e.Enabled
	})
	e, _ := svc.GetEndpoint(ctx, ep.ID)
	if e.DisabledReason == "" || e.FailureStreak != 3 {
		t.Fatalf("endpoint = %+v, want a reason and streak 3", e)
	}
	for _, id := range ids {
		_, dls, _ := svc.GetEvent(ctx, id)
		if dls[0].Status != gateway.StatusFailed || len(dls[0].Attempts) != 2 || dls[0].Attempts[0].Error != "connection refused" {
			t.Errorf("delivery = %+v", dls[0])
		}
	}
	// The meta event reaches the other endpoint.
	calls := rec.Want(t, 5*time.Second, 7)
	found := false
	for _, c := range calls {
		if c.EndpointID == watcher.ID && c.EventType == "endpoint.disabled" {
			found = true
		}
	}
	if !found {
		t.Errorf("no endpoint.disabled event reached the watcher")
	}

	// While disabled, matching events are kept as paused.
	rec.Script(nil)
	paused := publish(t, svc, "video.posted", `{"n":"paused"}`)
	_, dls, _ := svc.GetEvent(ctx, paused.ID)
	if dls[0].Status != gateway.StatusPaused {
		t.Fatalf("delivery while disabled = %s, want paused", dls[0].Status)
	}
	page, err := svc.ListDeliveries(ctx, ep.ID, gateway.DeliveryFilter{Status: gateway.StatusPaused})
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("paused list = %v, %v", page, err)
	}

	// Re-enabling resets the streak and sends what was kept.
	enabled := true
	e, err = svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Enabled: &enabled})
	if err != nil || !e.Enabled || e.FailureStreak != 0 || e.DisabledReason != "" {
		t.Fatalf("UpdateEndpoint = %+v, %v", e, err)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "paused delivery sent", func() bool {
		return deliveryStatus(t, svc, dls[0].ID)() == gateway.StatusSucceeded
	})
}

func TestDiscardPaused(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	off := false
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		res := publish(t, svc, "a", `{}`)
		_, dls, _ := svc.GetEvent(ctx, res.ID)
		ids = append(ids, dls[0].ID)
	}
	on := true
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Enabled: &on, DiscardPaused: true}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if s := deliveryStatus(t, svc, id)(); s != gateway.StatusCanceled {
			t.Errorf("delivery %s = %s, want canceled", id, s)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("%d discarded deliveries were sent", n)
	}
}

func TestGoneDisablesEndpoint(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	rec.Script(func(int, *gateway.Message) gateway.Outcome { return gateway.Outcome{StatusCode: 410} })
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	ep := endpoint(t, svc, "*")
	res := publish(t, svc, "post.failed", `{}`)
	gatewaytest.WaitFor(t, 5*time.Second, "disabled by 410", func() bool {
		e, _ := svc.GetEndpoint(ctx, ep.ID)
		return !e.Enabled
	})
	_, dls, _ := svc.GetEvent(ctx, res.ID)
	if dls[0].Status != gateway.StatusFailed || len(dls[0].Attempts) != 1 {
		t.Fatalf("delivery = %+v, want failed after one attempt", dls[0])
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	rec.Script(func(n int, _ *gateway.Message) gateway.Outcome {
		if n == 1 {
			return gateway.Outcome{StatusCode: 429, RetryAfter: 400 * time.Millisecond}
		}
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(t, gateway.Options{Schedule: gateway.Schedule{0, time.Millisecond}}, rec)
	endpoint(t, svc, "*")
	publish(t, svc, "x", `{}`)
	calls := rec.Want(t, 5*time.Second, 2)
	if gap := calls[1].At.Sub(calls[0].At); gap < 400*time.Millisecond {
		t.Fatalf("retry came after %s, want ≥ 400ms (Retry-After)", gap)
	}
}

func TestManualRetryAndReplay(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	failing := true
	var mu sync.Mutex
	rec.Script(func(int, *gateway.Message) gateway.Outcome {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return gateway.Outcome{StatusCode: 503}
		}
		return gateway.Outcome{StatusCode: 204}
	})
	svc := gatewaytest.New(t, gateway.Options{Schedule: gateway.Schedule{0}}, rec)
	ep := endpoint(t, svc, "*")
	start := time.Now()
	var dids []string
	for i := 0; i < 4; i++ {
		res := publish(t, svc, "x", `{}`)
		_, dls, _ := svc.GetEvent(ctx, res.ID)
		dids = append(dids, dls[0].ID)
	}
	for _, id := range dids {
		gatewaytest.WaitFor(t, 5*time.Second, "failed", func() bool { return deliveryStatus(t, svc, id)() == gateway.StatusFailed })
	}
	mu.Lock()
	failing = false
	mu.Unlock()

	if err := svc.RetryDelivery(ctx, dids[0]); err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "retried", func() bool { return deliveryStatus(t, svc, dids[0])() == gateway.StatusSucceeded })

	n, err := svc.ReplayEndpoint(ctx, ep.ID, start, gateway.StatusFailed)
	if err != nil || n != 3 {
		t.Fatalf("ReplayEndpoint = %d, %v; want 3", n, err)
	}
	for _, id := range dids[1:] {
		gatewaytest.WaitFor(t, 5*time.Second, "replayed", func() bool { return deliveryStatus(t, svc, id)() == gateway.StatusSucceeded })
	}
	if n, _ := svc.ReplayEndpoint(ctx, ep.ID, start, gateway.StatusFailed); n != 0 {
		t.Errorf("second replay = %d, want 0", n)
	}
	if err := svc.RetryDelivery(ctx, "dlv_nope"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("RetryDelivery(unknown) = %v, want ErrNotFound", err)
	}
}

func TestRotateSecretKeepsOldOneSigning(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	ep, first, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.RotateSecret(ctx, ep.ID)
	if err != nil || second == first {
		t.Fatalf("RotateSecret = %q, %v", second, err)
	}
	publish(t, svc, "x", `{}`)
	c := rec.Want(t, 5*time.Second, 1)[0]
	if len(c.Secrets) != 2 || c.Secrets[0] != second || c.Secrets[1] != first {
		t.Fatalf("signing secrets = %v, want [new old]", c.Secrets)
	}
	got, _ := svc.GetEndpoint(ctx, ep.ID)
	if len(got.Secrets) != 0 {
		t.Fatalf("GetEndpoint exposes secrets")
	}
}

func TestTestEndpointSendsPingToThatEndpointOnly(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	a := endpoint(t, svc, "video.posted")
	endpoint(t, svc, "*")
	did, err := svc.TestEndpoint(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Want(t, 5*time.Second, 1)[0]
	time.Sleep(50 * time.Millisecond)
	if len(rec.Calls()) != 1 || c.EndpointID != a.ID || c.EventType != "ping" || c.DeliveryID != did {
		t.Fatalf("calls = %+v", rec.Calls())
	}
	if _, err := svc.TestEndpoint(ctx, "ep_nope"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("TestEndpoint(unknown) = %v", err)
	}
}

func TestValidationNamesTheField(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	cases := []struct {
		in    gateway.EndpointInput
		field string
	}{
		{gateway.EndpointInput{Events: []string{"*"}}, "url"},
		{gateway.EndpointInput{URL: "ftp://x", Events: []string{"*"}}, "url"},
		{gateway.EndpointInput{URL: "https://example.com"}, "events"},
		{gateway.EndpointInput{URL: "https://example.com", Events: []string{"ok", ""}}, "events[1]"},
		{gateway.EndpointInput{URL: "https://example.com", Events: []string{"a b"}}, "events[0]"},
		{gateway.EndpointInput{URL: "https://example.com", Events: []string{"*"}, Kind: "fax"}, "kind"},
		{gateway.EndpointInput{URL: "https://example.com", Events: []string{"*"}, Headers: map[string]string{"webhook-signature": "x"}}, "headers.webhook-signature"},
		{gateway.EndpointInput{URL: "https://example.com", Events: []string{"*"}, Headers: map[string]string{"X-A": "a\nb"}}, "headers.X-A"},
	}
	for _, c := range cases {
		_, _, err := svc.CreateEndpoint(ctx, c.in)
		var ve *gateway.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("CreateEndpoint(%+v) = %v, want a ValidationError on %q", c.in, err, c.field)
		}
	}
	for _, c := range []struct {
		in    gateway.PublishInput
		field string
	}{
		{gateway.PublishInput{Data: json.RawMessage(`{}`)}, "type"},
		{gateway.PublishInput{Type: "x"}, "data"},
		{gateway.PublishInput{Type: "x", Data: json.RawMessage(`null`)}, "data"},
		{gateway.PublishInput{Type: "x", Data: json.RawMessage(`{`)}, "data"},
		{gateway.PublishInput{Type: "has space", Data: json.RawMessage(`{}`)}, "type"},
		{gateway.PublishInput{Type: "x", ID: "a/b", Data: json.RawMessage(`{}`)}, "id"},
	} {
		_, err := svc.Publish(ctx, c.in)
		var ve *gateway.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("Publish(%+v) = %v, want a ValidationError on %q", c.in, err, c.field)
		}
	}
}

func TestURLPolicyRefusesPrivateAddresses(t *testing.T) {
	var p gateway.URLPolicy
	for _, u := range []string{"http://example.com/x", "https://127.0.0.1/x", "https://10.0.0.8/x", "https://169.254.169.254/latest", "https://[::1]/x", "https://192.168.1.1/", "https://localhost/x", "https://0.0.0.0/", "https://100.64.1.1/"} {
		if err := p.CheckURL("url", u); err == nil {
			t.Errorf("CheckURL(%q) = nil, want refused", u)
		}
	}
	if err := p.CheckURL("url", "https://hooks.example.com/x"); err != nil {
		t.Errorf("CheckURL(public) = %v", err)
	}
	for _, a := range []string{"10.1.2.3:443", "169.254.169.254:80", "[::1]:443", "127.0.0.1:443", "[fe80::1]:443", "[::ffff:10.0.0.1]:443"} {
		if err := p.AllowDial("tcp", a); err == nil {
			t.Errorf("AllowDial(%q) = nil, want refused", a)
		}
	}
	if err := p.AllowDial("tcp", "93.184.216.34:443"); err != nil {
		t.Errorf("AllowDial(public) = %v", err)
	}
	dev := gateway.URLPolicy{AllowPrivate: true}
	if err := dev.CheckURL("url", "http://127.0.0.1:9/x"); err != nil {
		t.Errorf("dev CheckURL = %v", err)
	}
}

func TestRestartResumesQueuedDeliveries(t *testing.T) {
	dir := t.TempDir()
	rec := gatewaytest.NewRecorder()
	rec.Script(func(int, *gateway.Message) gateway.Outcome { return gateway.Outcome{StatusCode: 500} })
	svc, err := gateway.New(gateway.Options{Store: gatewaytest.Badger(t, dir), Senders: map[string]gateway.Sender{"webhook": rec}, Policy: gateway.URLPolicy{AllowPrivate: true}, Schedule: gateway.Schedule{0, 300 * time.Millisecond, 300 * time.Millisecond}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc.Start()
	endpoint(t, svc, "*")
	res := publish(t, svc, "x", `{"keep":true}`)
	rec.Want(t, 5*time.Second, 1)
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	rec2 := gatewaytest.NewRecorder()
	svc2 := gatewaytest.New(t, gateway.Options{Store: gatewaytest.Badger(t, dir), Schedule: gateway.Schedule{0, 300 * time.Millisecond, 300 * time.Millisecond}}, rec2)
	calls := rec2.Want(t, 5*time.Second, 1)
	if calls[0].EventID != res.ID {
		t.Fatalf("after restart got %s, want %s", calls[0].EventID, res.ID)
	}
	_, dls, _ := svc2.GetEvent(ctx, res.ID)
	gatewaytest.WaitFor(t, 5*time.Second, "succeeded after restart", func() bool {
		return deliveryStatus(t, svc2, dls[0].ID)() == gateway.StatusSucceeded
	})
	d, _ := svc2.GetDelivery(ctx, dls[0].ID)
	if len(d.Attempts) != 2 {
		t.Errorf("attempts = %d, want 2 (one before, one after the restart)", len(d.Attempts))
	}
}

func TestListEventsInArrivalOrderWithCursor(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	var ids []string
	for i := 0; i < 7; i++ {
		typ := "video.posted"
		if i%2 == 1 {
			typ = "bundle.ready"
		}
		ids = append(ids, publish(t, svc, typ, fmt.Sprintf(`{"i":%d}`, i)).ID)
	}
	var got []string
	after := ""
	for {
		page, err := svc.ListEvents(ctx, gateway.EventFilter{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Data {
			got = append(got, e.ID)
		}
		if !page.More {
			break
		}
		after = page.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("paged ids = %v, want %v", got, ids)
	}
	page, _ := svc.ListEvents(ctx, gateway.EventFilter{Type: "bundle.*"})
	if len(page.Data) != 3 {
		t.Errorf("type filter: %d events, want 3", len(page.Data))
	}
	// An event id works as a cursor; the next cursor is a sequence, and a poller that keeps
	// it sees the next event and nothing else.
	page, _ = svc.ListEvents(ctx, gateway.EventFilter{After: ids[6]})
	if len(page.Data) != 0 || page.Next == "" || page.Next == ids[6] {
		t.Errorf("after last = %d events, next %q, want none and a sequence cursor", len(page.Data), page.Next)
	}
	next := publish(t, svc, "video.posted", `{"i":7}`)
	page, _ = svc.ListEvents(ctx, gateway.EventFilter{After: page.Next})
	if len(page.Data) != 1 || page.Data[0].ID != next.ID || page.More {
		t.Errorf("after the cursor = %+v, want just %s", page, next.ID)
	}
	if _, err := svc.ListEvents(ctx, gateway.EventFilter{After: "evt_unknown"}); err == nil {
		t.Errorf("unknown cursor accepted")
	}
}

func TestScheduleParseAndJitter(t *testing.T) {
	s, err := gateway.ParseSchedule("0s,5s,5m,30m,2h,5h,10h,10h")
	if err != nil || len(s) != 8 || s.String() != gateway.DefaultSchedule.String() {
		t.Fatalf("ParseSchedule = %v, %v", s, err)
	}
	for _, bad := range []string{"", "5x", "-1s", "1s,,2s"} {
		if _, err := gateway.ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) = nil error", bad)
		}
	}
	for i := 0; i < 100; i++ {
		d, ok := s.Delay(1)
		if !ok || d < 4*time.Second || d > 6*time.Second {
			t.Fatalf("Delay(1) = %s, want 5s ±20%%", d)
		}
	}
	if _, ok := s.Delay(8); ok {
		t.Errorf("Delay past the end reports more attempts")
	}
}

func TestPublishRefusesInvalidUTF8NamingThePointer(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	for _, c := range []struct{ data, field string }{
		{"{\"title\":\"\xff\xfe\"}", "/data/title"},
		{"{\"a\":1,\"post\":{\"tags\":[\"ok\",\"caf\xe9\"]}}", "/data/post/tags/1"},
		{"{\"ok\":\"\u00e9\\u00e9\",\"k\xc3\":true}", "/data/k\uFFFD"},
		{"{\"a\\/b\":{\"c~d\": \"x\xffy\"}}", "/data/a~1b/c~0d"},
		{"[1, true, null, {\"x\":[\"\xed\xa0\x80\"]}]", "/data/3/x/0"},
		{"\"\xc0\xaf\"", "/data"},
	} {
		_, err := svc.Publish(ctx, gateway.PublishInput{Type: "x", Data: json.RawMessage(c.data)})
		var ve *gateway.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || !errors.Is(err, gateway.ErrMalformed) {
			t.Errorf("Publish(%q) = %v, want ErrMalformed on %q", c.data, err, c.field)
		}
	}
	// Valid UTF-8, escapes included, still goes in.
	publish(t, svc, "x", "{\"t\":\"caf\u00e9 \u2728 \\ud83d\\ude00 \\\" \\\\\",\"n\":[1.5e3,-2]}")
	page, err := svc.ListEvents(ctx, gateway.EventFilter{})
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("ListEvents = %v, %v: want only the valid event stored", page, err)
	}
}
