package gateway_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/badger"
)

// volume is an injected free-space probe: a 10 GiB volume whose free space the test sets.
type volume struct{ free atomic.Uint64 }

const (
	gib        = 1 << 30
	mib        = 1 << 20
	volumeSize = 10 * gib
)

func (v *volume) probe(string) (free, total uint64, err error) { return v.free.Load(), volumeSize, nil }

func TestStorageFullRefusesNewDataAndDrainsStoredDeliveries(t *testing.T) {
	vol := &volume{}
	vol.free.Store(4 * gib)
	recv := connectortest.NewReceiver(t)
	recv.Queue(connectortest.Response{Status: 500}) // the first attempt fails: a retry stays queued
	policy := gateway.URLPolicy{AllowPrivate: true}
	svc := gatewaytest.New(t, gateway.Options{
		FreeSpace: vol.probe,
		Inbound:   connectors.Inbound(),
		Senders:   map[string]gateway.Sender{gateway.KindWebhook: webhook.New(webhook.Options{Policy: policy})},
		Schedule:  gateway.Schedule{0, 300 * time.Millisecond},
	}, nil)
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: recv.URL() + "/hook", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	src, err := svc.CreateSource(ctx, gateway.SourceInput{Name: "shop", Provider: "generic", Verify: json.RawMessage(`{"type":"none"}`), Mapping: "{type: .t, data: .}"})
	if err != nil {
		t.Fatal(err)
	}
	stored := publish(t, svc, "video.posted", `{"n":1}`)
	recv.Want(t, 5*time.Second, 1)
	if r := svc.Ready(); !r.Ready {
		t.Fatalf("Ready = %+v with 4 GiB free, want ready", r)
	}

	// 300 MiB free on 10 GiB: below the default watermark of min(512 MiB, 5 %) = 512 MiB.
	vol.free.Store(300 * mib)
	wantFull := func(what string, err error) {
		t.Helper()
		var sf *gateway.StorageFullError
		if !errors.Is(err, gateway.ErrStorageFull) || !errors.As(err, &sf) {
			t.Fatalf("%s below the watermark = %v, want ErrStorageFull", what, err)
		}
		if sf.Free != 300*mib || sf.Watermark != 512*mib {
			t.Fatalf("%s: %+v, want 300 MiB free under a 512 MiB watermark", what, sf)
		}
	}
	_, err = svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", ID: "evt_refused", Data: json.RawMessage(`{"n":2}`)})
	wantFull("Publish", err)
	_, _, err = svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: recv.URL() + "/other", Events: []string{"*"}})
	wantFull("CreateEndpoint", err)
	_, err = svc.Receive(ctx, src.ID, &gateway.InboundRequest{Header: http.Header{}, Body: []byte(`{"t":"order.paid","id":"o1"}`)})
	wantFull("Receive", err)
	_, err = svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Description: ptr("x")})
	wantFull("UpdateEndpoint", err)
	_, err = svc.CreateSource(ctx, gateway.SourceInput{Name: "other", Provider: "generic", Verify: json.RawMessage(`{"type":"none"}`), Mapping: "{type: .t, data: .}"})
	wantFull("CreateSource", err)
	_, err = svc.AddEventType(ctx, gateway.EventTypeInput{Name: "order.paid", Schema: json.RawMessage(`{"type":"object"}`)})
	wantFull("AddEventType", err)
	wantFull("RetryDelivery", svc.RetryDelivery(ctx, stored.DeliveryID[0]))
	_, err = svc.TestEndpoint(ctx, ep.ID)
	wantFull("TestEndpoint", err)
	if msg := err.Error(); !strings.HasPrefix(msg, "storage full: 300 MiB free, below the 512 MiB watermark") {
		t.Fatalf("error text = %q", msg)
	}

	// Nothing of it was stored.
	if _, _, err := svc.GetEvent(ctx, "evt_refused"); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("GetEvent(refused) = %v, want ErrNotFound", err)
	}
	events, err := svc.ListEvents(ctx, gateway.EventFilter{})
	if err != nil || len(events.Data) != 1 {
		t.Fatalf("ListEvents = %d events, %v; want only the one stored before", len(events.Data), err)
	}
	eps, err := svc.ListEndpoints(ctx, gateway.EndpointFilter{})
	if err != nil || len(eps.Data) != 1 || eps.Data[0].Description != "" {
		t.Fatalf("ListEndpoints = %+v, %v; want the one endpoint, unchanged", eps, err)
	}
	if reqs, err := svc.ListSourceRequests(ctx, src.ID, 10); err != nil || len(reqs) != 0 {
		t.Fatalf("ListSourceRequests = %d, %v; want nothing logged", len(reqs), err)
	}

	// The queued retry is still delivered, and its outcome recorded, on the full disk.
	recv.Want(t, 5*time.Second, 2)
	gatewaytest.WaitFor(t, 5*time.Second, "the stored delivery to succeed", func() bool {
		return deliveryStatus(t, svc, stored.DeliveryID[0])() == gateway.StatusSucceeded
	})
	r := svc.Ready()
	if r.Ready || len(r.Reasons) != 1 || r.Reasons[0] != "storage_full: 300 MiB free, below the 512 MiB watermark" || !r.Disk.Full {
		t.Fatalf("Ready below the watermark = %+v", r)
	}

	// Space comes back: writes resume without a restart.
	vol.free.Store(600 * mib)
	res := publish(t, svc, "video.posted", `{"n":3}`)
	recv.Want(t, 5*time.Second, 3)
	if _, err := svc.Receive(ctx, src.ID, &gateway.InboundRequest{Header: http.Header{}, Body: []byte(`{"t":"order.paid","id":"o1"}`)}); err != nil {
		t.Fatalf("Receive after space came back: %v", err)
	}
	if _, _, err := svc.GetEvent(ctx, res.ID); err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if r := svc.Ready(); !r.Ready {
		t.Fatalf("Ready after space came back = %+v", r)
	}
}

func TestStorageFullWatermark(t *testing.T) {
	for _, tc := range []struct {
		name        string
		min         int64
		free, total uint64
		full        bool
		watermark   uint64
	}{
		{"default on a large volume is 512 MiB", 0, 511 * mib, 100 * gib, true, 512 * mib},
		{"default on a 4 GiB volume is 5 %", 0, 210 * mib, 4 * gib, false, 4 * gib / 20},
		{"default never below the store's own headroom", 0, 50 * mib, 200 * mib, true, badger.Headroom(badger.Options{})},
		{"explicit", 64 * mib, 63 * mib, 100 * gib, true, 64 * mib},
		{"off", -1, 0, 100 * gib, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := gatewaytest.New(t, gateway.Options{MinFreeDisk: tc.min, FreeSpace: func(string) (uint64, uint64, error) {
				return tc.free, tc.total, nil
			}}, nil)
			r := svc.Ready()
			if r.Disk.Full != tc.full {
				t.Fatalf("Ready = %+v, want full %v", r, tc.full)
			}
			if r.Disk.Watermark != tc.watermark {
				t.Fatalf("watermark = %d, want %d", r.Disk.Watermark, tc.watermark)
			}
		})
	}
}

// A start on a volume already below the watermark opens the store and refuses writes at once.
func TestStartBelowWatermarkRefusesAtOnce(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{FreeSpace: func(string) (uint64, uint64, error) { return 100 * mib, volumeSize, nil }}, nil)
	if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{}`)}); !errors.Is(err, gateway.ErrStorageFull) {
		t.Fatalf("Publish = %v, want ErrStorageFull", err)
	}
	if _, err := svc.ListEvents(ctx, gateway.EventFilter{}); err != nil {
		t.Fatalf("ListEvents on a full disk: %v", err)
	}
}

// With less free than opening the store itself needs, CheckOpenSpace refuses with
// ErrStorageFull rather than letting Badger write into an unbacked mapped page.
func TestOpenWithoutRoomToOpenIsAnError(t *testing.T) {
	dir := t.TempDir()
	need, err := badger.OpenSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = gateway.CheckOpenSpace(dir, need, func(string) (uint64, uint64, error) { return 64 << 10, volumeSize, nil })
	var sf *gateway.StorageFullError
	if !errors.Is(err, gateway.ErrStorageFull) || !errors.As(err, &sf) || !sf.Opening {
		t.Fatalf("CheckOpenSpace with 64 KiB free = %v, want a StorageFullError while opening", err)
	}
	if err := gateway.CheckOpenSpace(dir, need, func(string) (uint64, uint64, error) { return 4 * gib, volumeSize, nil }); err != nil {
		t.Fatalf("CheckOpenSpace with 4 GiB free = %v", err)
	}
	if r := sf.Reason(); r != "storage_full: 64 KiB free, below the 2 MiB the store needs to open" {
		t.Fatalf("Reason = %q", r)
	}
}

func ptr[T any](v T) *T { return &v }

func TestFormatBytes(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 300 * mib: "300 MiB",
		24*mib - 45056: "23.9 MiB", 512 * mib: "512 MiB", 1000 * mib: "1000 MiB", 3*gib + gib/2: "3.5 GiB",
	} {
		if got := gateway.FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// Below the reserve (here: the store's headroom, under half the 512 MiB watermark) the
// dispatcher leases nothing, so nothing but Badger's own work writes; deliveries stay
// queued and go out once space comes back.
func TestDeliveriesPauseBelowTheReserve(t *testing.T) {
	var free, probes atomic.Uint64
	free.Store(4 * gib)
	probe := func(string) (uint64, uint64, error) { probes.Add(1); return free.Load(), volumeSize, nil }
	recv := connectortest.NewReceiver(t)
	svc := gatewaytest.New(t, gateway.Options{
		FreeSpace: probe,
		Senders:   map[string]gateway.Sender{gateway.KindWebhook: webhook.New(webhook.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})},
	}, nil)
	if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: recv.URL() + "/hook", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(300 * time.Millisecond)
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{}`), DeliverAt: due})
	if err != nil {
		t.Fatal(err)
	}

	reserve := badger.Headroom(badger.Options{})
	free.Store(reserve - mib)
	r := svc.Ready()
	if !r.Disk.Paused || r.Disk.Reserve != reserve || len(r.Reasons) != 2 || !strings.HasPrefix(r.Reasons[1], "deliveries_paused: ") {
		t.Fatalf("Ready below the reserve = %+v", r)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "the delivery to come due", func() bool { return time.Now().After(due) })
	// Only the dispatcher probes now: two more probes are two loop turns past the due time.
	seen := probes.Load()
	gatewaytest.WaitFor(t, 10*time.Second, "the paused dispatcher to look twice", func() bool { return probes.Load() >= seen+2 })
	if n := recv.Count(); n != 0 {
		t.Fatalf("%d deliveries sent below the reserve, want 0", n)
	}
	if st := deliveryStatus(t, svc, res.DeliveryID[0])(); st != gateway.StatusPending {
		t.Fatalf("delivery status below the reserve = %s, want pending", st)
	}

	free.Store(4 * gib)
	recv.Want(t, 5*time.Second, 1)
}

// The dispatcher's own changes pass the guard: a platform's subscription that answers 410 on
// a full disk is still removed, as it would be with space.
func TestGoneSubscriptionIsRemovedOnAFullDisk(t *testing.T) {
	vol := &volume{}
	vol.free.Store(4 * gib)
	rec := gatewaytest.NewRecorder()
	rec.Script(func(int, *gateway.Message) gateway.Outcome { return gateway.Outcome{StatusCode: 410} })
	svc := gatewaytest.New(t, gateway.Options{FreeSpace: vol.probe}, rec)
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: []string{"*"}, ManagedBy: "zapier"})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(200 * time.Millisecond)
	if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{}`), DeliverAt: due}); err != nil {
		t.Fatal(err)
	}
	vol.free.Store(300 * mib) // full, but above the reserve: deliveries go on
	rec.Want(t, 5*time.Second, 1)
	gatewaytest.WaitFor(t, 5*time.Second, "the 410'd subscription to be deleted", func() bool {
		_, err := svc.GetEndpoint(ctx, ep.ID)
		return errors.Is(err, gateway.ErrNotFound)
	})
}
