package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

// cli runs the hookgate command line in-process against the gateway at p.
func cli(t *testing.T, p *proc, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cliAs(t, p, e2eToken, args...)
}

func TestCLIAgainstARealServer(t *testing.T) {
	p := startServe(t, t.TempDir())
	r := newReceiver(t)

	code, out, errs := cli(t, p, "endpoints", "create", "--url", r.srv.URL+"/hook", "--events", "video.*,bundle.ready", "--header", "X-Team=growth", "--json")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errs)
	}
	var ep struct {
		ID, Secret string
		Events     []string
		Headers    map[string]string
	}
	if err := json.Unmarshal([]byte(out), &ep); err != nil || !strings.HasPrefix(ep.Secret, "whsec_") || len(ep.Events) != 2 || ep.Headers["X-Team"] != "****" {
		t.Fatalf("create --json = %q (%v)", out, err)
	}
	r.secret.Store(ep.Secret)

	code, out, _ = cli(t, p, "endpoints", "list")
	if code != 0 || !strings.Contains(out, ep.ID) || !strings.Contains(out, "FAILURES") {
		t.Fatalf("list table = %q", out)
	}

	payload := filepath.Join(t.TempDir(), "payload.json")
	os.WriteFile(payload, []byte(videoPosted), 0o600)
	code, out, errs = cli(t, p, "events", "publish", "--type", "video.posted", "--id", "evt_cli_1", "--data", "@"+payload)
	if code != 0 || !strings.Contains(out, "published evt_cli_1 to 1 endpoint") {
		t.Fatalf("publish: exit %d %q %q", code, out, errs)
	}
	code, out, _ = cli(t, p, "events", "publish", "--type", "video.posted", "--id", "evt_cli_1", "--data", videoPosted)
	if code != 0 || !strings.Contains(out, "duplicate") {
		t.Fatalf("duplicate publish = %q", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.count([]string{"evt_cli_1"}) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("event never arrived")
		}
		time.Sleep(10 * time.Millisecond)
	}

	var page struct {
		Data []struct {
			ID, Status string
			Attempts   []struct {
				StatusCode int `json:"status_code"`
			}
		}
	}
	for {
		code, out, _ = cli(t, p, "deliveries", "list", "--endpoint", ep.ID, "--json")
		if code != 0 {
			t.Fatalf("deliveries list: exit %d", code)
		}
		json.Unmarshal([]byte(out), &page)
		if len(page.Data) == 1 && page.Data[0].Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries = %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, out, _ = cli(t, p, "deliveries", "get", page.Data[0].ID)
	if code != 0 || !strings.Contains(out, "succeeded") || !strings.Contains(out, "200") {
		t.Fatalf("deliveries get = %q", out)
	}
	code, out, _ = cli(t, p, "events", "get", "evt_cli_1")
	if code != 0 || !strings.Contains(out, "video.posted") || !strings.Contains(out, page.Data[0].ID) {
		t.Fatalf("events get = %q", out)
	}
	code, out, _ = cli(t, p, "endpoints", "update", ep.ID, "--disable", "--json")
	if code != 0 || !strings.Contains(out, `"enabled": false`) {
		t.Fatalf("update --disable = %q", out)
	}
	code, out, _ = cli(t, p, "endpoints", "rotate-secret", ep.ID)
	if code != 0 || !strings.Contains(out, "whsec_") {
		t.Fatalf("rotate = %q", out)
	}
	if code, _, _ = cli(t, p, "endpoints", "delete", ep.ID); code != 0 {
		t.Fatalf("delete: exit %d", code)
	}
}

// videoPosted is a TokPortal video.posted payload that satisfies the catalog.
const videoPosted = `{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}`

func TestCLIReportsServerErrors(t *testing.T) {
	p := startServe(t, t.TempDir())
	code, _, errs := cli(t, p, "endpoints", "get", "ep_nope")
	if code == 0 || !strings.Contains(errs, "not found") {
		t.Fatalf("get unknown: exit %d, stderr %q", code, errs)
	}
	code, _, errs = cli(t, p, "endpoints", "create", "--url", "ftp://x", "--events", "*")
	if code == 0 || !strings.Contains(errs, "url") || !strings.Contains(errs, "422") {
		t.Fatalf("bad url: exit %d, stderr %q", code, errs)
	}
	code, _, errs = cli(t, p, "events", "publish", "--type", "video.posted", "--data", `{"video_id":"v_1","bundle_id":"b_1","platform":"tiktok","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`)
	if code == 0 || !strings.Contains(errs, "422") || !strings.Contains(errs, "post_url") {
		t.Fatalf("video.posted without post_url: exit %d, stderr %q", code, errs)
	}
	code, _, errs = cli(t, p, "events", "publish", "--type", "x", "--data", "{not json")
	if code == 0 || !strings.Contains(errs, "not valid JSON") {
		t.Fatalf("bad data: exit %d, stderr %q", code, errs)
	}
	var out, errb bytes.Buffer
	code = run(context.Background(), []string{"events", "list", "--server", p.url, "--token", "wrong"}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "invalid bearer token") {
		t.Fatalf("bad token: exit %d, stderr %q", code, errb.String())
	}
}

func TestRetentionFlag(t *testing.T) {
	cmd := newServeCmd()
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := cmd.Flags().GetDuration("retention"); got != 30*24*time.Hour {
		t.Fatalf("--retention default = %s, want 720h (30 days)", got)
	}
	for _, tc := range []struct {
		in      time.Duration
		wantErr bool
	}{{0, false}, {time.Hour, false}, {-time.Hour, true}} {
		f := serveFlags{retrySchedule: "0s", retention: tc.in}
		opts, err := f.options(nil, "")
		if (err != nil) != tc.wantErr || err == nil && opts.Retention != tc.in {
			t.Errorf("--retention %s = %v, %v; want error %v", tc.in, opts.Retention, err, tc.wantErr)
		}
	}
}

// benchJSON runs bench with args and --memory-limit off --json, and returns what it printed:
// the result, as read and as printed, and its stderr.
func benchJSON(t *testing.T, args ...string) (res benchResult, stdout []byte, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(append([]string{"bench"}, args...), "--memory-limit", "off", "--json"), &out, &errb)
	if code != 0 {
		t.Fatalf("bench %v: exit %d: %s", args, code, errb.String())
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("bench %v --json = %q: %v", args, out.String(), err)
	}
	return res, out.Bytes(), errb.String()
}

// bench --duration publishes at --rate for that long; --report-every samples the totals and
// the data folder (du and ls sizes) along the way, and --json carries them.
func TestBenchSoakReportsTheDataFolder(t *testing.T) {
	res, _, errs := benchJSON(t, "--duration", "1500ms", "--rate", "40", "--concurrency", "4",
		"--retention", "300ms", "--retention-every", "100ms", "--report-every", "500ms")
	if res.Events == 0 || res.Delivered != int64(res.Events) || res.Errors != 0 || res.DurationS < 1.5 {
		t.Errorf("bench = %d events, %d delivered, %d errors in %.1fs; want all delivered after at least 1.5s", res.Events, res.Delivered, res.Errors, res.DurationS)
	}
	if res.Folder == nil || res.Folder.AllocatedMiB <= 0 || res.Folder.ApparentMiB < res.Folder.AllocatedMiB || res.Folder.Files == 0 {
		t.Errorf("folder = %+v, want a measured Badger folder (apparent ≥ allocated > 0)", res.Folder)
	}
	if len(res.Samples) < 2 {
		t.Fatalf("samples = %+v, want one every 500ms of a run of 1.5s or more", res.Samples)
	}
	for i, s := range res.Samples {
		if s.Folder.AllocatedMiB <= 0 || i > 0 && s.Published < res.Samples[i-1].Published {
			t.Errorf("sample %d = %+v, want a measured folder and totals that only grow", i, s)
		}
	}
	if !strings.Contains(errs, "allocated (du)") {
		t.Errorf("stderr = %q, want the reports there with --json", errs)
	}
}

// bench --store nats://… measures a gateway on a JetStream cluster, and --nodes 2 two of
// them on it, the load split between them: every event is delivered once, and the run's
// own stream is gone afterwards. --nodes 2 on Badger is refused: two nodes need a store
// they share.
func TestBenchOnNATSWithTwoNodes(t *testing.T) {
	c := jstest.StartCluster(t, 3)
	for _, nodes := range []string{"1", "2"} {
		res, _, _ := benchJSON(t, "--store", c.URL(), "--nats-replicas", "3", "--nodes", nodes, "--events", "300", "--concurrency", "8")
		if res.Events != 300 || res.Delivered != 300 || res.Errors != 0 || strconv.Itoa(res.Nodes) != nodes || res.CPUusPerEvent <= 0 || res.P99ms <= 0 {
			t.Errorf("bench --nodes %s = %+v; want 300 events delivered on %s nodes, with CPU and latency measured", nodes, res, nodes)
		}
	}
	for name := range jstest.JetStream(t, c.URL()).StreamNames(context.Background()).Name() {
		t.Errorf("stream %s left after the bench", name)
	}

	code, _, errs := runCLI("bench", "--nodes", "2", "--events", "10")
	if code == 0 || !strings.Contains(errs, "need a store they share") {
		t.Errorf("bench --nodes 2 on Badger: exit %d %q; want a refusal", code, errs)
	}
}

// bench --overdue stores a backlog of deliveries due at once, restarts the gateway on its
// folder and publishes fresh events while the backlog drains: the JSON reports the fresh
// events' latency and what drained meanwhile. (Sane numbers, not a performance bound: the
// backlog's endpoints answer after 200 ms, so it outlasts the second of fresh events.)
func TestBenchOverdueMeasuresFreshEventsAfterARestart(t *testing.T) {
	res, out, _ := benchJSON(t, "--overdue", "3000", "--overdue-endpoints", "4", "--overdue-delay", "200ms",
		"--events", "20", "--rate", "20", "--concurrency", "2")
	var keys map[string]any
	if err := json.Unmarshal(out, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"overdue", "overdue_endpoints", "overdue_load_s", "restart_stop_ms", "restart_open_ms",
		"fresh_after_restart_p50_ms", "fresh_after_restart_p99_ms", "fresh_after_restart_max_ms", "fresh_undelivered", "overdue_drained", "overdue_left",
		"published_per_s", "p50_ms", "peak_anon_mib"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("bench --overdue --json has no %q: %s", k, out)
		}
	}
	r := res.RestartResult
	if r == nil {
		t.Fatal("no restart figures")
	}
	if res.Events != 20 || res.Delivered != 20 || res.Errors != 0 || r.FreshUndelivered != 0 {
		t.Errorf("bench = %d events, %d delivered (%d not), %d errors; want the 20 fresh events delivered", res.Events, res.Delivered, r.FreshUndelivered, res.Errors)
	}
	if r.Overdue != 3000 || r.OverdueEndpoints != 4 || r.OverdueLoadS <= 0 || r.StopMs <= 0 || r.OpenMs <= 0 {
		t.Errorf("restart = %+v; want 3000 overdue deliveries to 4 endpoints, with the load, stop and open timed", *r)
	}
	if !(0 < r.FreshP50ms && r.FreshP50ms <= r.FreshP99ms && r.FreshP99ms <= r.FreshMaxms) || r.FreshP50ms != res.P50ms {
		t.Errorf("fresh latency p50 %v, p99 %v, max %v (run p50 %v); want 0 < p50 ≤ p99 ≤ max, p50 the run's", r.FreshP50ms, r.FreshP99ms, r.FreshMaxms, res.P50ms)
	}
	if r.OverdueDrained <= 0 || r.OverdueLeft < 0 || r.OverdueDrained+r.OverdueLeft > int64(r.Overdue) {
		t.Errorf("overdue drained %d, left %d of %d; want some drained during the run, none counted twice", r.OverdueDrained, r.OverdueLeft, r.Overdue)
	}

	// What --overdue cannot measure is refused.
	for _, args := range [][]string{
		{"--overdue", "10", "--rate", "10", "--store", "memory"},
		{"--overdue", "10"},
		{"--overdue", "10", "--rate", "10", "--pending", "10"},
		{"--overdue", "10", "--rate", "10", "--overdue-endpoints", "0"},
	} {
		if code, _, errs := runCLI(append([]string{"bench", "--events", "1"}, args...)...); code == 0 || errs == "" {
			t.Errorf("bench %v: exit %d %q; want a refusal", args, code, errs)
		}
	}
}
