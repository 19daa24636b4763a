// Verify hookgate's signature in an n8n Code node ("Run Once for All Items"), placed right
// after the Webhook node. Needs:
//   - the Webhook node's option "Raw Body" on (docs/n8n-workflow.json has it), so that the
//     bytes hookgate signed arrive as the binary property "data";
//   - n8n started with NODE_FUNCTION_ALLOW_BUILTIN=crypto, so that a Code node may
//     require('crypto').
// Checking JSON.stringify($json.body) instead of the raw body fails: hookgate sends "&", "<"
// and ">" in strings as \u0026, \u003c and \u003e, which n8n's re-serialised body doesn't.
//
// hookgate signs like Standard Webhooks: webhook-signature is "v1,<base64 HMAC-SHA256 of
// webhook-id + "." + webhook-timestamp + "." + body>", keyed with the base64-decoded part of
// the endpoint's secret after "whsec_"; during a rotation it carries one "v1,…" per secret,
// space-separated.
const crypto = require('crypto');

// verifyHookgate returns the delivered payload when the request is signed with secret
// (whsec_…) and its timestamp is within 5 minutes of now; it throws otherwise, which fails
// the workflow: n8n answers 500 and hookgate tries again later.
function verifyHookgate(secret, headers, rawBody, now = Date.now()) {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const signatures = String(headers['webhook-signature'] || '').split(' ');
  if (!id || !ts) throw new Error('not signed by hookgate: no webhook-id or webhook-timestamp header');
  if (!/^\d+$/.test(ts) || Math.abs(now / 1000 - Number(ts)) > 5 * 60) {
    throw new Error('webhook-timestamp is more than 5 minutes off');
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${ts}.`).update(rawBody).digest();
  const ok = signatures.some((s) => {
    if (!s.startsWith('v1,')) return false;
    const got = Buffer.from(s.slice(3), 'base64');
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
  if (!ok) throw new Error('bad webhook-signature: not signed with this secret, or the body was changed');
  return JSON.parse(rawBody.toString('utf8'));
}

// --- the Code node's own part: your endpoint's secret, the raw body, the check. n8n runs a
// Code node's code in an async function, so await and return work here.
const SECRET = 'whsec_…'; // the secret hookgate showed when the endpoint was created
const item = $input.first();
const raw = await this.helpers.getBinaryDataBuffer(0, 'data');
return [{ json: { ...item.json, body: verifyHookgate(SECRET, item.json.headers, raw) } }];
