package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/signature"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

// stop ends a hookgate serve with SIGTERM and waits for it, so its data folder is free.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		p.t.Fatalf("serve after SIGTERM: %v", err)
	}
}

// waitSeen waits until the receiver has seen id.
func (r *receiver) waitSeen(t *testing.T, id string) {
	t.Helper()
	gatewaytest.WaitFor(t, 10*time.Second, id+" to arrive", func() bool { return r.count([]string{id}) == 0 })
}

// hookgate export on one Badger folder and hookgate import into another carry the
// registry over: the endpoint still signs with the secret it was created with, the source
// still verifies its provider's signature, the custom type still validates; a second import
// changes nothing; export refuses a folder a gateway has open; import refuses a document of
// another version.
func TestExportImportBadgerToBadger(t *testing.T) {
	from, to := t.TempDir(), filepath.Join(t.TempDir(), "new")
	p := startServe(t, from)
	r := newReceiver(t)
	createEndpoint(t, p, r)
	const srcSecret = "whsec_c291cmNlLXNlY3JldC0wMTIzNDU2Nzg5"
	var src struct{ ID string }
	if st, err := p.call("POST", "/v1/sources", map[string]any{"name": "shop", "provider": "standard-webhooks", "secret": srcSecret}, &src); err != nil || st != 201 {
		t.Fatalf("create source = %d, %v", st, err)
	}
	schema := json.RawMessage(`{"type":"object","required":["order"],"properties":{"order":{"type":"string"}}}`)
	if st, err := p.call("POST", "/v1/event-types", map[string]any{"name": "order.paid", "schema": schema}, nil); err != nil || st != 201 {
		t.Fatalf("create event type = %d, %v", st, err)
	}

	code, _, errs := runCLI("export", "--data", from)
	if code == 0 || !strings.Contains(errs, "stop it first") {
		t.Fatalf("export of a folder in use: exit %d, %q; want a refusal", code, errs)
	}
	p.stop()

	doc := filepath.Join(t.TempDir(), "registry.json")
	code, out, errs := runCLI("export", "--data", from, "--output", doc)
	if code != 0 {
		t.Fatalf("export: exit %d %q %q", code, out, errs)
	}
	if fi, err := os.Stat(doc); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported document: %v %v, want mode 0600", fi, err)
	}
	code, out, errs = runCLI("import", "--data", to, doc)
	if code != 0 || !strings.Contains(out, "created   sources "+src.ID) ||
		!strings.Contains(out, "endpoints    1 created, 0 updated, 0 unchanged") ||
		!strings.Contains(out, "event_types  1 created, 0 updated, 0 unchanged") {
		t.Fatalf("import: exit %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI("import", "--data", to, doc)
	if code != 0 || strings.Contains(out, "created   ") || strings.Contains(out, "updated   ") || strings.Count(out, "0 created, 0 updated, 1 unchanged") != 3 {
		t.Fatalf("second import: exit %d %q %q, want everything unchanged", code, out, errs)
	}

	p = startServe(t, to)
	var res struct{ ID string }
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "order.paid", "data": map[string]any{"order": 7}}, &res); err != nil || st != 422 {
		t.Fatalf("publish against the imported schema = %d, %v; want 422", st, err)
	}
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "order.paid", "data": map[string]any{"order": "o-7"}}, &res); err != nil || st != 202 {
		t.Fatalf("publish = %d, %v", st, err)
	}
	r.waitSeen(t, res.ID) // the receiver checks the signature with the secret the endpoint was created with

	body := []byte(`{"type":"order.paid","id":"pay-1","data":{"order":"o-8"}}`)
	sig, err := signature.Header([]string{srcSecret}, "msg_pay-1", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", p.url+"/in/"+src.ID, bytes.NewReader(body))
	req.Header.Set("webhook-id", "msg_pay-1")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var hooked struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&hooked)
	resp.Body.Close()
	if resp.StatusCode != 200 || hooked.ID == "" {
		t.Fatalf("catch hook signed with the source's secret = %d %+v", resp.StatusCode, hooked)
	}
	r.waitSeen(t, hooked.ID)
	r.mu.Lock()
	if len(r.bad) > 0 {
		t.Errorf("receiver problems: %v", r.bad)
	}
	r.mu.Unlock()
	p.stop()

	newer := strings.Replace(readFile(t, doc), `"version": 1`, `"version": 99`, 1)
	if err := os.WriteFile(doc, []byte(newer), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI("import", "--data", to, doc)
	if code == 0 || !strings.Contains(errs, "registry document version 99") || out != "" {
		t.Fatalf("import of version 99: exit %d %q %q, want a refusal", code, out, errs)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The move of README "Running several nodes": the registry exported from a stopped Badger
// gateway is imported into a NATS store while a gateway runs on it; the running gateway
// picks the endpoint up by itself and signs with the secret it was created with.
func TestImportIntoARunningNATSGateway(t *testing.T) {
	from := t.TempDir()
	p := startServe(t, from)
	r := newReceiver(t)
	createEndpoint(t, p, r)
	p.stop()
	doc := filepath.Join(t.TempDir(), "registry.json")
	if code, out, errs := runCLI("export", "--data", from, "--output", doc); code != 0 {
		t.Fatalf("export: exit %d %q %q", code, out, errs)
	}

	nats := jstest.Start(t).URL()
	p = startServe(t, t.TempDir(), "--store", nats)
	code, out, errs := runCLI("import", "--store", nats, doc)
	if code != 0 || !strings.Contains(out, "endpoints    1 created") {
		t.Fatalf("import into NATS: exit %d %q %q", code, out, errs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct{ Data []struct{ ID string } }
		if st, err := p.call("GET", "/v1/endpoints", nil, &list); err == nil && st == 200 && len(list.Data) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running gateway never saw the imported endpoint")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var res struct{ ID string }
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "video.posted", "data": json.RawMessage(videoPosted)}, &res); err != nil || st != 202 {
		t.Fatalf("publish = %d, %v", st, err)
	}
	r.waitSeen(t, res.ID)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Fatalf("receiver problems: %v", r.bad)
	}
}
