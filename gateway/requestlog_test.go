package gateway_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// refusingInbound refuses every call's signature.
type refusingInbound struct{}

func (refusingInbound) CheckSource(*gateway.Source) error { return nil }

func (refusingInbound) Open(*gateway.Source, *gateway.InboundRequest, time.Time) (*gateway.InboundEvent, error) {
	return nil, fmt.Errorf("signature does not match: %w", gateway.ErrUnverified)
}

func TestRequestLogOverItsBoundIsTrimmedAfterARestart(t *testing.T) {
	dir := t.TempDir()
	open := func(entries int) *gateway.Service {
		svc, err := gateway.New(gateway.Options{Store: gatewaytest.Badger(t, dir), Inbound: refusingInbound{}, RequestLogEntries: entries, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		svc.Start()
		return svc
	}
	call := func(svc *gateway.Service, id string, n int) {
		for range n {
			if _, err := svc.Receive(ctx, id, &gateway.InboundRequest{Body: []byte(`{}`)}); !errors.Is(err, gateway.ErrUnverified) {
				t.Fatalf("Receive = %v, want ErrUnverified", err)
			}
		}
	}
	count := func(svc *gateway.Service, id string) int {
		reqs, err := svc.ListSourceRequests(ctx, id, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(reqs)
	}
	svc := open(100)
	src, err := svc.CreateSource(ctx, gateway.SourceInput{Name: "s", Provider: "generic"})
	if err != nil {
		t.Fatal(err)
	}
	call(svc, src.ID, 60)
	if n := count(svc, src.ID); n != 60 {
		t.Fatalf("%d entries, want 60", n)
	}
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Restarted with a smaller bound: the next call trims the log to it.
	svc = open(25)
	defer svc.Stop(ctx)
	call(svc, src.ID, 1)
	if n := count(svc, src.ID); n != 25 {
		t.Fatalf("%d entries after the restart, want the new bound, 25", n)
	}
}
