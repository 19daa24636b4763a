package n8n_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/n8n"
	"github.com/hookgate/hookgate/gateway"
)

func dev() *n8n.Sender {
	return n8n.New(n8n.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
}

func TestSenderSuite(t *testing.T) {
	connectortest.RunSenderSuite(t, func(*testing.T, string) gateway.Sender { return dev() })
}

// webhookNode answers as an n8n Webhook node at /webhook/hookgate-video-posted (the
// production URL; the test URL /webhook-test/… is not listening) whose Authentication is
// auth: 401 when the credential is missing, 403 when it is wrong, else 200 "Workflow was
// started". It passes on each body it accepts.
func webhookNode(t *testing.T, auth *gateway.EndpointAuth) (string, <-chan string) {
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/webhook/hookgate-video-posted" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":404,"message":"The requested webhook \"POST hookgate-video-posted\" is not registered."}`)
			return
		}
		if auth != nil {
			var present, ok bool
			switch auth.Type {
			case "header":
				v := r.Header.Get(auth.Name)
				present, ok = v != "", v == auth.Value
			case "basic":
				var user, pass string
				user, pass, present = r.BasicAuth()
				ok = present && user == auth.Username && pass == auth.Password
			}
			if !present {
				w.Header().Set("WWW-Authenticate", `Basic realm="Webhook"`)
				http.Error(w, "Authorization is required!", http.StatusUnauthorized)
				return
			}
			if !ok {
				http.Error(w, "Authorization data is wrong!", http.StatusForbidden)
				return
			}
		}
		got <- string(body)
		io.WriteString(w, `{"message":"Workflow was started"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func TestWebhookNodeAuth(t *testing.T) {
	header := &gateway.EndpointAuth{Type: "header", Name: "X-N8N-Key", Value: "n8n-s3cret"}
	basic := &gateway.EndpointAuth{Type: "basic", Username: "hookgate", Password: "pa55"}
	cases := []struct {
		name       string
		node, sent *gateway.EndpointAuth
		path       string
		status     int
	}{
		{"no auth", nil, nil, "/webhook/hookgate-video-posted", http.StatusOK},
		{"header auth", header, header, "/webhook/hookgate-video-posted", http.StatusOK},
		{"header auth missing", header, nil, "/webhook/hookgate-video-posted", http.StatusUnauthorized},
		{"header auth wrong", header, &gateway.EndpointAuth{Type: "header", Name: "X-N8N-Key", Value: "nope"}, "/webhook/hookgate-video-posted", http.StatusForbidden},
		{"basic auth", basic, basic, "/webhook/hookgate-video-posted", http.StatusOK},
		{"basic auth wrong", basic, &gateway.EndpointAuth{Type: "basic", Username: "hookgate", Password: "nope"}, "/webhook/hookgate-video-posted", http.StatusForbidden},
		{"test URL not listening", nil, nil, "/webhook-test/hookgate-video-posted", http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, got := webhookNode(t, c.node)
			m := connectortest.Message(url+c.path, connectortest.Secret)
			m.Endpoint.Kind, m.Endpoint.Auth = n8n.Kind, c.sent
			out := dev().Send(context.Background(), m)
			if out.Err != nil || out.StatusCode != c.status {
				t.Fatalf("Send = {%d %s %v}, want %d", out.StatusCode, out.Body, out.Err, c.status)
			}
			if c.status == http.StatusOK {
				if body := <-got; body != string(m.Body) {
					t.Errorf("node got %s, want the envelope %s", body, m.Body)
				}
			}
		})
	}
}

func TestAuthNotLeaked(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	rcv.Close()
	for _, auth := range []*gateway.EndpointAuth{
		{Type: "header", Name: "X-N8N-Key", Value: "n8n-s3cret"},
		{Type: "header", Name: "X-N8N-Key", Value: "n8n-s3cret\r\nX-Evil: 1"},
		{Type: "basic", Username: "hookgate", Password: "n8n-s3cret"},
	} {
		m := connectortest.Message(rcv.URL()+"/webhook/hookgate-video-posted", connectortest.Secret)
		m.Endpoint.Auth = auth
		out := dev().Send(context.Background(), m)
		if out.Err == nil {
			t.Fatalf("Send with %s auth to a closed server = %+v, want an error", auth.Type, out)
		}
		connectortest.AssertNoSecretLeak(t, out, "n8n-s3cret", "hookgate-video-posted")
	}
}

func TestCheckEndpoint(t *testing.T) {
	cases := []struct {
		name     string
		settings gateway.EndpointSettings
		kind     json.RawMessage // the kind's settings
		field    string          // "" when valid
	}{
		{"no auth", gateway.EndpointSettings{}, nil, ""},
		{"header auth", gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "header", Name: "X-N8N-Key", Value: "v"}}, nil, ""},
		{"basic auth", gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "basic", Username: "u", Password: "p"}}, nil, ""},
		{"jwt auth", gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "jwt", Value: "v"}}, nil, "auth.type"},
		{"empty auth type", gateway.EndpointSettings{Auth: &gateway.EndpointAuth{}}, nil, "auth.type"},
		{"header auth without a value", gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "header", Name: "X-N8N-Key"}}, nil, "auth"},
		{"basic auth without a user", gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "basic", Password: "p"}}, nil, "auth.username"},
		{"template", gateway.EndpointSettings{}, connectortest.Settings("template", "{{.id}}"), "template"},
		{"api key", gateway.EndpointSettings{}, connectortest.Settings("api_key", "k"), "api_key"},
	}
	for _, c := range cases {
		for _, url := range []string{"https://n8n.example.com/webhook/hookgate-video-posted", "https://n8n.example.com/webhook-test/hookgate-video-posted"} {
			ep := &gateway.Endpoint{Kind: n8n.Kind, URL: url, EndpointSettings: c.settings, Settings: c.kind}
			err := dev().CheckEndpoint(ep)
			var ve *gateway.ValidationError
			switch {
			case c.field == "" && err != nil:
				t.Errorf("%s: CheckEndpoint(%s) = %v, want nil", c.name, url, err)
			case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field):
				t.Errorf("%s: CheckEndpoint(%s) = %v, want a ValidationError on %s", c.name, url, err, c.field)
			}
		}
	}
}

// workflow is the part of an n8n workflow export the test reads.
type workflow struct {
	Name  string `json:"name"`
	Nodes []struct {
		Name        string          `json:"name"`
		Type        string          `json:"type"`
		TypeVersion float64         `json:"typeVersion"`
		Position    []float64       `json:"position"`
		Parameters  json.RawMessage `json:"parameters"`
		Credentials json.RawMessage `json:"credentials"`
	} `json:"nodes"`
	Connections map[string]struct {
		Main [][]struct {
			Node string `json:"node"`
		} `json:"main"`
	} `json:"connections"`
}

// condition is one condition of an If or Switch node (version 2 conditions).
type condition struct {
	LeftValue  string `json:"leftValue"`
	RightValue string `json:"rightValue"`
	Operator   struct {
		Type, Operation string
	} `json:"operator"`
}

// TestWorkflowExport checks docs/n8n-workflow.json: it works on import, with no credential
// to attach (a Webhook node without authentication, no node naming a credential); the
// Webhook node takes POST /hookgate-video-posted, keeps the raw body (for the signature
// check of docs/n8n-verify-signature.js) and answers when the workflow has finished
// (responseMode lastNode), so a failed run is a 500 that hookgate retries; an If node checks
// that the event's type is video.posted before a Switch branches on data.platform, with an
// output each for tiktok, instagram and youtube, each leading to a node of the workflow.
func TestWorkflowExport(t *testing.T) {
	raw, err := os.ReadFile("../../docs/n8n-workflow.json")
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := json.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("docs/n8n-workflow.json: %v", err)
	}
	if wf.Name == "" || len(wf.Nodes) == 0 || len(wf.Connections) == 0 {
		t.Fatalf("workflow has name %q, %d nodes, %d connections; want all three", wf.Name, len(wf.Nodes), len(wf.Connections))
	}
	nodes := map[string]string{} // name → type
	var hook, typeCheck, platform string
	var rules struct {
		Rules struct {
			Values []struct {
				Conditions struct {
					Conditions []condition `json:"conditions"`
				} `json:"conditions"`
			} `json:"values"`
		} `json:"rules"`
	}
	for _, n := range wf.Nodes {
		if n.Name == "" || n.TypeVersion == 0 || len(n.Position) != 2 {
			t.Errorf("node %q (%s) lacks a name, typeVersion or position", n.Name, n.Type)
		}
		if len(n.Credentials) > 0 {
			t.Errorf("node %q names a credential %s: the import can't create it, and every call fails until one is attached by hand", n.Name, n.Credentials)
		}
		nodes[n.Name] = n.Type
		switch n.Type {
		case "n8n-nodes-base.webhook":
			var p struct {
				HTTPMethod, Path, Authentication, ResponseMode string
				Options                                        struct{ RawBody bool }
			}
			if err := json.Unmarshal(n.Parameters, &p); err != nil || p.HTTPMethod != "POST" || p.Path != "hookgate-video-posted" {
				t.Errorf("webhook node %q parameters = %+v (%v), want POST hookgate-video-posted", n.Name, p, err)
			}
			if p.Authentication != "" && p.Authentication != "none" {
				t.Errorf("webhook node %q authentication = %q: it needs a credential the import doesn't create", n.Name, p.Authentication)
			}
			if p.ResponseMode != "lastNode" {
				t.Errorf("webhook node %q responseMode = %q, want lastNode: an answer before the workflow ran hides its failures from hookgate's retries", n.Name, p.ResponseMode)
			}
			if !p.Options.RawBody {
				t.Errorf("webhook node %q does not keep the raw body: the signature can't be checked", n.Name)
			}
			hook = n.Name
		case "n8n-nodes-base.if":
			var p struct {
				Conditions struct {
					Conditions []condition `json:"conditions"`
				} `json:"conditions"`
			}
			if err := json.Unmarshal(n.Parameters, &p); err != nil {
				t.Fatalf("if node %q: %v", n.Name, err)
			}
			c := p.Conditions.Conditions
			if len(c) != 1 || !strings.Contains(c[0].LeftValue, "$json.body.type") || c[0].RightValue != "video.posted" || c[0].Operator.Operation != "equals" {
				t.Errorf("if node %q conditions = %+v, want $json.body.type equals video.posted", n.Name, c)
			}
			typeCheck = n.Name
		case "n8n-nodes-base.switch":
			if err := json.Unmarshal(n.Parameters, &rules); err != nil {
				t.Fatalf("switch node %q: %v", n.Name, err)
			}
			platform = n.Name
		}
	}
	if hook == "" || typeCheck == "" || platform == "" {
		t.Fatalf("workflow nodes = %v, want a webhook node, an if node and a switch node", nodes)
	}
	if next := wf.Connections[hook].Main; len(next) != 1 || len(next[0]) != 1 || next[0][0].Node != typeCheck {
		t.Errorf("webhook node connects to %+v, want the type check %q", next, typeCheck)
	}
	if next := wf.Connections[typeCheck].Main; len(next) < 1 || len(next[0]) != 1 || next[0][0].Node != platform {
		t.Errorf("the type check's true output leads to %+v, want the switch %q", next, platform)
	}
	outputs := wf.Connections[platform].Main
	want := []string{"tiktok", "instagram", "youtube"}
	if len(rules.Rules.Values) != len(want) || len(outputs) < len(want) {
		t.Fatalf("switch has %d rules and %d outputs, want %d of each", len(rules.Rules.Values), len(outputs), len(want))
	}
	for i, v := range rules.Rules.Values {
		c := v.Conditions.Conditions
		if len(c) != 1 || !strings.Contains(c[0].LeftValue, "$json.body.data.platform") || c[0].RightValue != want[i] {
			t.Errorf("switch rule %d = %+v, want $json.body.data.platform equals %q", i, c, want[i])
		}
		if len(outputs[i]) != 1 || nodes[outputs[i][0].Node] == "" {
			t.Errorf("switch output %d (%s) leads to %+v, want a node of the workflow", i, want[i], outputs[i])
		}
	}
}
