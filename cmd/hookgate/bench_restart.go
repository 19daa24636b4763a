package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// RestartResult is what --overdue measures: a gateway stopped with a backlog of overdue
// deliveries and opened again on the same folder, and how fast the events published after
// the restart are delivered while that backlog drains. In bench's JSON its keys sit beside
// the others.
type RestartResult struct {
	// Overdue is how many deliveries were due (and never attempted) at the restart, spread
	// over OverdueEndpoints endpoints; OverdueLoadS how long storing them took.
	Overdue          int     `json:"overdue"`
	OverdueEndpoints int     `json:"overdue_endpoints"`
	OverdueLoadS     float64 `json:"overdue_load_s"`
	// StopMs is how long the loaded gateway took to stop (Stop, as serve on SIGTERM: the
	// store closed), OpenMs how long it took to open again on the same folder and start.
	StopMs float64 `json:"restart_stop_ms"`
	OpenMs float64 `json:"restart_open_ms"`
	// The publish → receipt latency of the run's events, all published after the restart.
	FreshP50ms float64 `json:"fresh_after_restart_p50_ms"`
	FreshP99ms float64 `json:"fresh_after_restart_p99_ms"`
	FreshMaxms float64 `json:"fresh_after_restart_max_ms"`
	// FreshUndelivered counts the deliveries of the run's events not received within
	// --timeout of the last publish: the latencies above leave them out.
	FreshUndelivered int64 `json:"fresh_undelivered"`
	// OverdueDrained counts the overdue deliveries received from the first publish to the
	// last receipt of the run's events, OverdueLeft those not received when the run ended:
	// 0 means the backlog ran out first, and the later fresh events were not measured
	// against it.
	OverdueDrained int64 `json:"overdue_drained"`
	OverdueLeft    int64 `json:"overdue_left"`
}

// checkOverdue refuses --overdue with what it cannot be measured with.
func checkOverdue(f benchFlags) error {
	switch {
	case f.overdue < 0 || f.overdueEndpoints <= 0 || f.overdueDelay < 0:
		return fmt.Errorf("--overdue and --overdue-delay must not be negative, --overdue-endpoints must be positive")
	case f.overdue == 0:
		return nil
	case f.store != "badger" && f.store != "":
		return fmt.Errorf("--overdue restarts the gateway on its data folder: it needs --store badger")
	case f.nodes != 1:
		return fmt.Errorf("--overdue measures one node's restart: --nodes 1")
	case f.rate <= 0 || f.duration > 0:
		return fmt.Errorf("--overdue publishes --events fresh events at a modest, steady --rate (and no --duration)")
	case f.pending > 0:
		return fmt.Errorf("--overdue and --pending: one backlog at a time")
	}
	return nil
}

// loadOverdue leaves in dir what a gateway that stopped with f.overdue overdue deliveries
// leaves (retries whose time came while it was down, say), with the run's endpoints, and
// reports how long storing and stopping took. It opens the store on its own and does not
// start the dispatcher, so nothing is sent while loading: it creates f.endpoints endpoints
// for the run's events at url and f.overdueEndpoints at overdueURL, publishes events of
// type bench.overdue that fan out to the latter (one stored event per overdueEndpoints
// deliveries, so f.overdue is rounded up to a multiple of it), all due at once, and stops
// the gateway as serve does on SIGTERM. The load is not measured, so it runs as fast as it
// can: without fsync (closing the store writes everything out) and without the memory
// limit, whose collections would cost it a third of its time.
func loadOverdue(ctx context.Context, f benchFlags, dir string, log *slog.Logger, url, overdueURL string, stderr io.Writer) (*RestartResult, error) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	start := time.Now()
	svc, err := openBenchService(f, dir, "", log, true)
	if err != nil {
		return nil, fmt.Errorf("open the gateway to load: %w", err)
	}
	stopped := false
	stop := func() error {
		stopped = true
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return svc.Stop(sctx)
	}
	defer func() {
		if !stopped {
			stop()
		}
	}()
	for range f.endpoints {
		if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: url, Events: []string{"bench.event"}}); err != nil {
			return nil, err
		}
	}
	for range f.overdueEndpoints {
		if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: overdueURL, Events: []string{"bench.overdue"}}); err != nil {
			return nil, err
		}
	}
	events := (f.overdue + f.overdueEndpoints - 1) / f.overdueEndpoints
	if err := publishAll(ctx, svc, events, gateway.PublishInput{Type: "bench.overdue", Data: backlogData(f.bodySize)}); err != nil {
		return nil, fmt.Errorf("load overdue deliveries: %w", err)
	}
	res := &RestartResult{Overdue: events * f.overdueEndpoints, OverdueEndpoints: f.overdueEndpoints, OverdueLoadS: time.Since(start).Seconds()}
	fmt.Fprintf(stderr, "overdue: %d deliveries to %d endpoints, loaded in %s\n", res.Overdue, f.overdueEndpoints, time.Since(start).Round(time.Millisecond))
	t := time.Now()
	if err := stop(); err != nil {
		return nil, fmt.Errorf("stop the loaded gateway: %w", err)
	}
	res.StopMs = float64(time.Since(t).Microseconds()) / 1000
	return res, nil
}

// backlogData is the payload of the backlogs' events: about size bytes of JSON.
func backlogData(size int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", max(0, size-40))))
}

// publishAll publishes n events like in (a generated id each) on svc from 64 goroutines,
// whose appends share the store's commits.
func publishAll(ctx context.Context, svc *gateway.Service, n int, in gateway.PublishInput) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				if _, err := svc.Publish(ctx, in); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
