package n8n_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/signature"
	"github.com/hookgate/hookgate/gateway"
)

// runCodeNode runs docs/n8n-verify-signature.js with node the way n8n runs a Code node (in
// an async function, with $input and this.helpers.getBinaryDataBuffer) on one request, with
// secret in place of the placeholder. It returns the node's output and whether it threw.
func runCodeNode(t *testing.T, secret string, headers map[string]string, body []byte) (string, bool) {
	t.Helper()
	code, err := os.ReadFile("../../docs/n8n-verify-signature.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(code)
	if !strings.Contains(src, "'whsec_…'") {
		t.Fatal("the snippet has no 'whsec_…' placeholder for the secret")
	}
	src = strings.Replace(src, "'whsec_…'", strconv.Quote(secret), 1)
	in, _ := json.Marshal(map[string]any{"headers": headers, "body": base64.StdEncoding.EncodeToString(body)})
	harness := `
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const rawBody = Buffer.from(input.body, 'base64');
const $input = { first: () => ({ json: { headers: input.headers, body: JSON.parse(rawBody.toString('utf8')) } }) };
const helpers = { getBinaryDataBuffer: async (i, name) => { if (i !== 0 || name !== 'data') throw new Error('no binary ' + name); return rawBody; } };
(async function () {
` + src + `
}).call({ helpers }).then(
  (out) => { console.log(JSON.stringify(out)); },
  (err) => { console.log('THREW ' + err.message); });
`
	cmd := exec.Command("node", "-e", harness)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out)), strings.HasPrefix(string(out), "THREW")
}

// TestVerifySnippetInNode checks the n8n Code node snippet of docs/n8n-verify-signature.js
// against signatures made by connectors/signature, hookgate's own, over a body with "&", "<"
// and ">" (which hookgate escapes and a re-serialised body does not), and refuses a changed
// body, a stale timestamp and another secret.
func TestVerifySnippetInNode(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	current, old := gateway.NewSecret(), gateway.NewSecret()
	body, _ := json.Marshal(map[string]any{"id": "evt_1", "type": "video.posted", "data": map[string]any{"title": "Tom & Jerry <3 > all", "platform": "tiktok", "views": 7383920011122334455}})
	if !bytes.Contains(body, []byte(`\u0026`)) {
		t.Fatalf("hookgate's body %s does not escape &: the test checks nothing", body)
	}
	now := time.Now()
	headers := func(b []byte, at time.Time) map[string]string {
		sig, err := signature.Header([]string{current, old}, "evt_1", at, b)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"webhook-id": "evt_1", "webhook-timestamp": strconv.FormatInt(at.Unix(), 10), "webhook-signature": sig, "content-type": "application/json"}
	}

	for _, secret := range []string{current, old} {
		out, threw := runCodeNode(t, secret, headers(body, now), body)
		if threw || !strings.Contains(out, `"title":"Tom & Jerry <3 > all"`) || !strings.Contains(out, `"webhook-id":"evt_1"`) {
			t.Fatalf("a genuine delivery: %s", out)
		}
	}
	reserialised := bytes.NewBuffer(nil)
	enc := json.NewEncoder(reserialised)
	enc.SetEscapeHTML(false) // what JSON.stringify of n8n's parsed body gives
	var v any
	json.Unmarshal(body, &v)
	enc.Encode(v)
	cases := map[string]struct {
		secret  string
		headers map[string]string
		body    []byte
	}{
		"re-serialised body": {current, headers(body, now), bytes.TrimSpace(reserialised.Bytes())},
		"stale timestamp":    {current, headers(body, now.Add(-10*time.Minute)), body},
		"another secret":     {"whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), headers(body, now), body},
		"unsigned":           {current, map[string]string{"content-type": "application/json"}, body},
	}
	for name, c := range cases {
		if out, threw := runCodeNode(t, c.secret, c.headers, c.body); !threw {
			t.Errorf("%s: accepted: %s", name, out)
		}
	}
}
