package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestSchemasExportFromServerAndOffline(t *testing.T) {
	p := startServe(t, t.TempDir())
	for _, f := range []string{"jsonschema", "sample", "zapier", "make"} {
		code, out, errs := cli(t, p, "schemas", "export", "--format", f, "--type", "video.posted")
		if code != 0 || !json.Valid([]byte(out)) {
			t.Fatalf("export %s: exit %d, %q %q", f, code, out, errs)
		}
		var offline bytes.Buffer
		if run(context.Background(), []string{"schemas", "export", "--offline", "--format", f, "--type", "video.posted"}, &offline, &bytes.Buffer{}) != 0 {
			t.Fatalf("offline export %s failed", f)
		}
		if offline.String() != out {
			t.Errorf("%s: the server's export and the built-in one differ", f)
		}
	}
	code, out, _ := cli(t, p, "schemas", "export", "--format", "zapier", "--type", "video.posted")
	if code != 0 || !strings.Contains(out, `"key": "data__post_url"`) {
		t.Errorf("zapier export lacks data__post_url: %s", out)
	}
	code, out, _ = cli(t, p, "schemas", "export", "--format", "make", "--type", "ping", "--provider", "tinyposter")
	if code != 0 || !strings.HasPrefix(out, "[") {
		t.Errorf("make export of tinyposter ping: %s", out)
	}
	code, out, _ = cli(t, p, "schemas", "export", "--format", "sample", "--provider", "tokportal")
	var all map[string]map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &all) != nil || len(all) != 15 || all["bundle.ready"]["type"] != "bundle.ready" {
		t.Errorf("every tokportal sample: exit %d, %d types", code, len(all))
	}
	code, out, _ = cli(t, p, "schemas", "export", "--format", "openapi")
	if code != 0 || !strings.Contains(out, `"openapi": "3.1.0"`) || !strings.Contains(out, p.url) {
		t.Errorf("openapi export: exit %d, %.200s", code, out)
	}
	code, _, errs := cli(t, p, "schemas", "export", "--format", "xml", "--type", "video.posted")
	if code == 0 || !strings.Contains(errs, "format") {
		t.Errorf("bad format: exit %d, %q", code, errs)
	}
	code, _, errs = cli(t, p, "schemas", "export", "--type", "nope.never")
	if code == 0 || !strings.Contains(errs, "404") {
		t.Errorf("unknown type: exit %d, %q", code, errs)
	}
}

func TestEventTypesCLI(t *testing.T) {
	p := startServe(t, t.TempDir())
	code, out, errs := cli(t, p, "event-types", "add", "--name", "order.paid", "--description", "An order was paid",
		"--schema", `{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer"}},"examples":[{"amount":3}]}`)
	if code != 0 || !strings.Contains(out, "order.paid") {
		t.Fatalf("add: exit %d %q %q", code, out, errs)
	}
	code, out, _ = cli(t, p, "event-types", "list", "--provider", "custom")
	if code != 0 || !strings.Contains(out, "order.paid") {
		t.Fatalf("list: %q", out)
	}
	code, out, _ = cli(t, p, "schemas", "export", "--format", "zapier", "--type", "order.paid")
	if code != 0 || !strings.Contains(out, `"data__amount"`) {
		t.Errorf("custom type export: %q", out)
	}
	code, _, errs = cli(t, p, "events", "publish", "--type", "order.paid", "--data", `{"amount":"3"}`)
	if code == 0 || !strings.Contains(errs, "/data/amount") {
		t.Errorf("invalid custom event: exit %d %q", code, errs)
	}
	code, _, errs = cli(t, p, "event-types", "add", "--name", "bad.schema", "--schema", `{"type":"object","properties":{"n":{"minimum":"x"}}}`)
	if code == 0 || !strings.Contains(errs, "422") || !strings.Contains(errs, "properties/n") {
		t.Errorf("broken schema: exit %d %q", code, errs)
	}
	if code, _, errs = cli(t, p, "event-types", "delete", "video.posted"); code == 0 || !strings.Contains(errs, "409") {
		t.Errorf("delete built-in: exit %d %q", code, errs)
	}
	if code, _, _ = cli(t, p, "event-types", "delete", "order.paid"); code != 0 {
		t.Errorf("delete custom: exit %d", code)
	}
}
