package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestPublishIsRefusedWhileDeliveryIsBehind: with one worker held by a slow endpoint and
// MaxWaiting 2, two more events wait for a worker; the next publish waits BusyWait for room,
// then is answered 503 busy with Retry-After, and nothing is stored. Once the worker is free
// and the waiting deliveries are picked up, publishing works again.
func TestPublishIsRefusedWhileDeliveryIsBehind(t *testing.T) {
	release := make(chan struct{})
	rec := gatewaytest.NewRecorder()
	rec.Script(func(n int, m *gateway.Message) gateway.Outcome {
		<-release
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(t, gateway.Options{Concurrency: 1, MaxWaiting: 2, BusyWait: 20 * time.Millisecond}, rec)
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before the Service stops (cleanups run last first)
	if _, _, err := svc.CreateEndpoint(context.Background(), gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token}))
	defer srv.Close()
	publish := func(id string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(`{"type":"video.posted","id":"`+id+`","data":{"n":1}}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// The first event takes the only worker, which the endpoint holds.
	if resp, body := publish("e1"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish e1: %d %s", resp.StatusCode, body)
	}
	rec.Want(t, 5*time.Second, 1)
	for _, id := range []string{"e2", "e3"} {
		if resp, body := publish(id); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("publish %s: %d %s", id, resp.StatusCode, body)
		}
	}
	resp, body := publish("e4")
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != httpapi.CodeBusy || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("publish e4 with 2 deliveries waiting: %d, Retry-After %q, %s; want 503 busy with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if _, _, err := svc.GetEvent(context.Background(), "e4"); err == nil {
		t.Error("the refused event e4 was stored")
	}

	free()
	rec.Want(t, 5*time.Second, 3)
	gatewaytest.WaitFor(t, 5*time.Second, "a publish accepted again", func() bool {
		resp, _ := publish("e4")
		return resp.StatusCode == http.StatusAccepted
	})
}
