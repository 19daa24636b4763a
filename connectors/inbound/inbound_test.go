package inbound_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/inbound"
	"github.com/hookgate/hookgate/schemas"
)

// now is the receiving clock of every test: a few seconds after tinyposter's example
// post went live.
var now = time.Date(2026, 6, 24, 14, 0, 10, 0, time.UTC)

// The signing helpers below are written from the providers' documents, independently of
// the package: each says what the provider signs.

// hmacOf returns HMAC(h, key, msg).
func hmacOf(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// hexSHA256 is the hex HMAC-SHA256 of msg keyed with secret as text (TokPortal, Oktopost,
// tinyposter).
func hexSHA256(secret, msg string) string {
	return hex.EncodeToString(hmacOf(sha256.New, []byte(secret), msg))
}

// tinyposterHeader signs body as tinyposter's Node example does: HMAC-SHA256 over
// "{t}.{rawBody}", keyed with the secret string exactly as shown (whsec_… included).
func tinyposterHeader(secret string, t int64, body string) string {
	ts := strconv.FormatInt(t, 10)
	return "t=" + ts + ",v1=" + hexSHA256(secret, ts+"."+body)
}

// standardSignature signs as the Standard Webhooks specification says: base64 of
// HMAC-SHA256 over "{id}.{timestamp}.{body}", keyed with the base64 after "whsec_".
func standardSignature(secret, id string, ts int64, body string) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	msg := id + "." + strconv.FormatInt(ts, 10) + "." + body
	return "v1," + base64.StdEncoding.EncodeToString(hmacOf(sha256.New, key, msg))
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// checked runs Check on cfg and fails the test if it refuses it.
func checked(t *testing.T, cfg inbound.Config) *inbound.Config {
	t.Helper()
	if err := inbound.Check(&cfg); err != nil {
		t.Fatalf("Check(%+v) = %v", cfg, err)
	}
	return &cfg
}

// verifyCase is one call and what Verify should say: accepted when wantErr is empty, else
// refused with a *VerifyError whose reason contains wantErr.
type verifyCase struct {
	name    string
	header  http.Header
	body    string
	token   string
	wantErr string
}

func runVerify(t *testing.T, cfg *inbound.Config, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := inbound.Verify(cfg, inbound.Request{Header: tc.header, Body: []byte(tc.body), PathToken: tc.token}, now)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			var ve *inbound.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify = %v (%T), want a *VerifyError containing %q", err, err, tc.wantErr)
			}
			if !strings.Contains(ve.Reason, tc.wantErr) {
				t.Errorf("Verify reason = %q, want it to contain %q", ve.Reason, tc.wantErr)
			}
			if cfg.Secret != "" && strings.Contains(ve.Reason, cfg.Secret) {
				t.Errorf("Verify reason %q quotes the secret", ve.Reason)
			}
		})
	}
}

var (
	catOnce sync.Once
	cat     *schemas.Catalog
	catErr  error
)

// validate checks mapped data against the catalog's schema for the provider's type.
func validate(t *testing.T, provider string, env *inbound.Envelope) {
	t.Helper()
	catOnce.Do(func() { cat, catErr = schemas.New() })
	if catErr != nil {
		t.Fatal(catErr)
	}
	if err := cat.ValidateFrom(provider, env.Type, env.Data); err != nil {
		t.Errorf("data of %s %s does not validate: %v\n%s", provider, env.Type, err, env.Data)
	}
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// mapCase is one payload and the envelope MapRequest should make of it.
type mapCase struct {
	name     string
	header   http.Header
	body     string
	wantID   string // exact; see idPattern for derived ids
	wantType string
	wantTime time.Time
	wantData string
}

func runMap(t *testing.T, cfg *inbound.Config, cases []mapCase, idPattern *regexp.Regexp) map[string]*inbound.Envelope {
	t.Helper()
	got := map[string]*inbound.Envelope{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := inbound.MapRequest(cfg, inbound.Request{Header: tc.header, Body: []byte(tc.body)})
			if err != nil {
				t.Fatalf("MapRequest = %v", err)
			}
			got[tc.name] = env
			switch {
			case idPattern != nil && !idPattern.MatchString(env.ID):
				t.Errorf("ID = %q, want one matching %s", env.ID, idPattern)
			case idPattern == nil && env.ID != tc.wantID:
				t.Errorf("ID = %q, want %q", env.ID, tc.wantID)
			}
			if env.Type != tc.wantType {
				t.Errorf("Type = %q, want %q", env.Type, tc.wantType)
			}
			if !env.Created.Equal(tc.wantTime) || env.Created.Location() != time.UTC {
				t.Errorf("Created = %v, want %v in UTC", env.Created, tc.wantTime)
			}
			if !sameJSON(t, env.Data, []byte(tc.wantData)) {
				t.Errorf("Data = %s\nwant %s", env.Data, tc.wantData)
			}
			if cfg.Provider != inbound.StandardWebhooks && cfg.Provider != inbound.Generic {
				validate(t, cfg.Provider, env)
			}
		})
	}
	return got
}

// ---- TokPortal ----

const tokportalSecret = "tp_whsec_3f9a1c0d8e7b6a5f"

// tokportalPosted follows TokPortal's guide: event, event_id, timestamp and data (a
// video.posted carries the post URL, post_id, platform and posted_at).
const tokportalPosted = `{"event":"video.posted","event_id":"evt_01J0TP5V3K","timestamp":"2026-06-24T14:00:05.123Z","data":{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}}`

const tokportalFailed = `{
  "event": "video.failed",
  "event_id": "evt_01J0TP6W4L",
  "timestamp": 1782309605,
  "data": {"video_id": "v_51d0e2", "bundle_id": "b_8f2c1a", "platform": "tiktok", "error_code": "upload_rejected", "reason": "The platform rejected the video file"}
}`

func TestTokPortalVerify(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "tokportal", Secret: tokportalSecret})
	sig := hexSHA256(tokportalSecret, tokportalPosted)
	runVerify(t, cfg, []verifyCase{
		{name: "signed", header: headers("X-TokPortal-Signature", sig), body: tokportalPosted},
		{name: "pretty body signed as sent", header: headers("X-TokPortal-Signature", hexSHA256(tokportalSecret, tokportalFailed)), body: tokportalFailed},
		{name: "upper-case hex", header: headers("X-TokPortal-Signature", strings.ToUpper(sig)), body: tokportalPosted},
		{name: "sha256= prefix", header: headers("X-TokPortal-Signature", "sha256="+sig), body: tokportalPosted},
		{name: "header name in any case", header: http.Header{"x-tokportal-signature": {sig}}, body: tokportalPosted},
		{name: "tampered body", header: headers("X-TokPortal-Signature", sig), body: strings.Replace(tokportalPosted, "tiktok", "instagram", 1), wantErr: "signature does not match"},
		{name: "wrong secret", header: headers("X-TokPortal-Signature", hexSHA256("another secret", tokportalPosted)), body: tokportalPosted, wantErr: "signature does not match"},
		{name: "missing header", header: headers("X-Other", sig), body: tokportalPosted, wantErr: "missing X-TokPortal-Signature header"},
		{name: "no headers at all", body: tokportalPosted, wantErr: "missing X-TokPortal-Signature header"},
		{name: "not hex", header: headers("X-TokPortal-Signature", "zz"+sig[2:]), body: tokportalPosted, wantErr: "X-TokPortal-Signature is not a hex HMAC-SHA256"},
		{name: "truncated", header: headers("X-TokPortal-Signature", sig[:40]), body: tokportalPosted, wantErr: "want 64 hex digits"},
		{name: "base64 instead of hex", header: headers("X-TokPortal-Signature", base64.StdEncoding.EncodeToString(hmacOf(sha256.New, []byte(tokportalSecret), tokportalPosted))), body: tokportalPosted, wantErr: "is not a hex HMAC-SHA256"},
	})
}

func TestTokPortalMap(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "tokportal", Secret: tokportalSecret})
	runMap(t, cfg, []mapCase{
		{
			name: "video.posted", body: tokportalPosted,
			wantID: "evt_01J0TP5V3K", wantType: "video.posted",
			wantTime: time.Date(2026, 6, 24, 14, 0, 5, 123e6, time.UTC),
			wantData: `{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}`,
		},
		{
			name: "video.failed with unix timestamp", body: tokportalFailed,
			wantID: "evt_01J0TP6W4L", wantType: "video.failed",
			wantTime: time.Date(2026, 6, 24, 14, 0, 5, 0, time.UTC),
			wantData: `{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","error_code":"upload_rejected","reason":"The platform rejected the video file"}`,
		},
		{
			name: "bundle.ready without timestamp", body: `{"event":"bundle.ready","event_id":"evt_3","data":{"bundle_id":"b_8f2c1a","platform":"instagram"}}`,
			wantID: "evt_3", wantType: "bundle.ready",
			wantData: `{"bundle_id":"b_8f2c1a","platform":"instagram"}`,
		},
	}, nil)
}

// ---- tinyposter ----

const tinyposterSecret = "whsec_tP4nQ8rX2kVm7ZcY1bH5sL9d"

// tinyposterPublished is the payload of tinyposter's webhooks page, as it shows it (its
// "// event id" comment left out, which JSON can't hold).
const tinyposterPublished = `{
  "id": "f1e2d3c4-...",
  "type": "post.published",
  "created": "2026-06-24T14:00:00.000Z",
  "data": {
    "post": {
      "id": "9a8b7c6d-...",
      "status": "published",
      "text": "Friday recap ✨",
      "platforms": ["TWITTER", "LINKEDIN"],
      "title": null,
      "scheduled_at": "2026-06-24T14:00:00.000Z",
      "published_at": "2026-06-24T14:00:05.000Z",
      "error": null,
      "brand_id": "..."
    }
  }
}`

func TestTinyposterVerify(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "tinyposter", Secret: tinyposterSecret})
	fresh := now.Unix() - 3
	good := tinyposterHeader(tinyposterSecret, fresh, tinyposterPublished)
	v1 := good[strings.Index(good, "v1="):]
	decodedKey, _ := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(tinyposterSecret, "whsec_"))
	runVerify(t, cfg, []verifyCase{
		{name: "signed", header: headers("X-Tinyposter-Signature", good), body: tinyposterPublished},
		{name: "spaces after comma", header: headers("X-Tinyposter-Signature", strings.Replace(good, ",", ", ", 1)), body: tinyposterPublished},
		{name: "v1 before t", header: headers("X-Tinyposter-Signature", v1+",t="+strconv.FormatInt(fresh, 10)), body: tinyposterPublished},
		{name: "second v1 matches", header: headers("X-Tinyposter-Signature", "t="+strconv.FormatInt(fresh, 10)+",v1="+hexSHA256("old secret", "x")+","+v1), body: tinyposterPublished},
		{name: "unknown v0 entry ignored", header: headers("X-Tinyposter-Signature", good+",v0=abc"), body: tinyposterPublished},
		{name: "4 min in the future", header: headers("X-Tinyposter-Signature", tinyposterHeader(tinyposterSecret, now.Unix()+240, tinyposterPublished)), body: tinyposterPublished},
		{name: "stale by 412 s", header: headers("X-Tinyposter-Signature", tinyposterHeader(tinyposterSecret, now.Unix()-412, tinyposterPublished)), body: tinyposterPublished,
			wantErr: "timestamp " + strconv.FormatInt(now.Unix()-412, 10) + " is 412 s away from now (in the past); tolerance is 300 s"},
		{name: "the document's header, a year old", header: headers("X-Tinyposter-Signature", tinyposterHeader(tinyposterSecret, 1750772400, tinyposterPublished)), body: tinyposterPublished,
			wantErr: "timestamp 1750772400 is"},
		{name: "10 min in the future", header: headers("X-Tinyposter-Signature", tinyposterHeader(tinyposterSecret, now.Unix()+600, tinyposterPublished)), body: tinyposterPublished,
			wantErr: "600 s away from now (in the future); tolerance is 300 s"},
		{name: "t changed after signing", header: headers("X-Tinyposter-Signature", "t="+strconv.FormatInt(fresh+1, 10)+","+v1), body: tinyposterPublished, wantErr: "signature does not match"},
		{name: "tampered body", header: headers("X-Tinyposter-Signature", good), body: strings.Replace(tinyposterPublished, "published", "failed", 1), wantErr: "signature does not match"},
		{name: "re-serialized body", header: headers("X-Tinyposter-Signature", good), body: compact(t, tinyposterPublished), wantErr: "signature does not match"},
		{name: "wrong secret", header: headers("X-Tinyposter-Signature", tinyposterHeader("whsec_other", fresh, tinyposterPublished)), body: tinyposterPublished, wantErr: "signature does not match"},
		{name: "keyed with the base64-decoded secret", header: headers("X-Tinyposter-Signature", "t="+strconv.FormatInt(fresh, 10)+",v1="+hex.EncodeToString(hmacOf(sha256.New, decodedKey, strconv.FormatInt(fresh, 10)+"."+tinyposterPublished))), body: tinyposterPublished, wantErr: "signature does not match"},
		{name: "missing header", header: headers("X-Tinyposter-Event", "post.published"), body: tinyposterPublished, wantErr: "missing X-Tinyposter-Signature header"},
		{name: "no t", header: headers("X-Tinyposter-Signature", v1), body: tinyposterPublished, wantErr: "malformed X-Tinyposter-Signature header: no t"},
		{name: "no v1", header: headers("X-Tinyposter-Signature", "t=1782309607"), body: tinyposterPublished, wantErr: "no v1"},
		{name: "t not a number", header: headers("X-Tinyposter-Signature", "t=yesterday,"+v1), body: tinyposterPublished, wantErr: "t is not a unix time"},
		{name: "t twice", header: headers("X-Tinyposter-Signature", good+",t=1"), body: tinyposterPublished, wantErr: "t appears twice"},
		{name: "v1 not hex", header: headers("X-Tinyposter-Signature", "t=1782309607,v1=not-hex"), body: tinyposterPublished, wantErr: "v1 is not hex"},
	})
}

func TestTinyposterMap(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "tinyposter", Secret: tinyposterSecret})
	runMap(t, cfg, []mapCase{
		{
			name: "post.published (the document's example)", body: tinyposterPublished,
			wantID: "f1e2d3c4-...", wantType: "post.published",
			wantTime: time.Date(2026, 6, 24, 14, 0, 0, 0, time.UTC),
			wantData: `{"post":{"id":"9a8b7c6d-...","status":"published","text":"Friday recap ✨","platforms":["TWITTER","LINKEDIN"],"title":null,"scheduled_at":"2026-06-24T14:00:00.000Z","published_at":"2026-06-24T14:00:05.000Z","error":null,"brand_id":"..."}}`,
		},
		{
			name: "account.connected", body: `{"id":"0c9d8e7f-2a3b-4c5d-9e8f-1a2b3c4d5e6f","type":"account.connected","created":"2026-06-24T14:00:00.000Z","data":{"account":{"platform":"LINKEDIN","username":null,"status":"connected","brand_id":"brand_7f3e"}}}`,
			wantID: "0c9d8e7f-2a3b-4c5d-9e8f-1a2b3c4d5e6f", wantType: "account.connected",
			wantTime: time.Date(2026, 6, 24, 14, 0, 0, 0, time.UTC),
			wantData: `{"account":{"platform":"LINKEDIN","username":null,"status":"connected","brand_id":"brand_7f3e"}}`,
		},
		{
			name: "ping without data", body: `{"id":"evt_ping_1","type":"ping","created":1782309600}`,
			wantID: "evt_ping_1", wantType: "ping",
			wantTime: time.Date(2026, 6, 24, 14, 0, 0, 0, time.UTC),
			wantData: `{}`,
		},
	}, nil)
}

// compact returns s without insignificant spaces, as a re-serializing proxy would send it.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// ---- Upload-Post ----

// The four payloads of Upload-Post's "Webhooks & Notifications" page. The page as saved
// shows every user_email as "[email protected]" (an email-obfuscation artefact of the web
// page, which the catalog's "format": "email" rightly refuses); user@example.com stands in.
const (
	uploadCompleted = `{
"event": "upload_completed",
"job_id": "a1b2c3d4e5f6...",
"user_email": "user@example.com",
"profile_username": "your_profile_username",
"platform": "instagram",
"media_type": "video",
"title": "My Awesome Video",
"caption": "Check this out! #cool",
"result": {
"success": true,
"url": "https://www.instagram.com/p/C1234567890/",
"publish_id": "17987654321098765",
"post_id": "17987654321098765",
"error": null
},
"created_at": "2024-03-15T14:30:00.000000"
}`
	uploadConnected = `{
"event": "social_account_connected",
"user_email": "user@example.com",
"platform": "instagram",
"account_name": "my_instagram_handle",
"status": "connected",
"profile_username": "your_profile_username",
"created_at": "2024-03-15T14:30:00.000000"
}`
	uploadDisconnected = `{
"event": "social_account_disconnected",
"user_email": "user@example.com",
"platform": "tiktok",
"account_name": "my_tiktok_handle",
"status": "disconnected",
"profile_username": "your_profile_username",
"reason": "manual_disconnect",
"created_at": "2024-03-15T14:30:00.000000"
}`
	uploadReauth = `{
"event": "social_account_reauth_required",
"user_email": "user@example.com",
"platform": "youtube",
"account_name": "UCxxxxxxxxx",
"status": "reauth_required",
"reason": "token_refresh_threshold_exceeded",
"created_at": "2024-03-15T14:30:00.000000"
}`
)

func TestUploadPostVerify(t *testing.T) {
	const token = "Zk3q9LmV2pXc7RtY8wBn4HsJ"
	cfg := checked(t, inbound.Config{Provider: "uploadpost", Secret: token})
	runVerify(t, cfg, []verifyCase{
		{name: "token in the URL", token: token, body: uploadCompleted},
		{name: "token in the header", header: headers("X-Hookgate-Token", token), body: uploadCompleted},
		{name: "wrong token in the URL", token: "Zk3q9LmV2pXc7RtY8wBn4HsK", body: uploadCompleted, wantErr: "token does not match"},
		{name: "wrong token in the header", header: headers("X-Hookgate-Token", "nope"), body: uploadCompleted, wantErr: "token does not match"},
		{name: "prefix of the token", token: token[:10], body: uploadCompleted, wantErr: "token does not match"},
		{name: "no token", body: uploadCompleted, wantErr: "missing token: use the source's URL /in/{source_id}/{token}, or send the token in the X-Hookgate-Token header"},
	})
}

func TestUploadPostMap(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "uploadpost"})
	at := time.Date(2024, 3, 15, 14, 30, 0, 0, time.UTC)
	got := runMap(t, cfg, []mapCase{
		{
			name: "upload_completed", body: uploadCompleted, wantType: "upload_completed", wantTime: at,
			wantData: `{"job_id":"a1b2c3d4e5f6...","user_email":"user@example.com","profile_username":"your_profile_username","platform":"instagram","media_type":"video","title":"My Awesome Video","caption":"Check this out! #cool","result":{"success":true,"url":"https://www.instagram.com/p/C1234567890/","publish_id":"17987654321098765","post_id":"17987654321098765","error":null},"created_at":"2024-03-15T14:30:00.000000"}`,
		},
		{
			name: "social_account_connected", body: uploadConnected, wantType: "social_account_connected", wantTime: at,
			wantData: `{"user_email":"user@example.com","platform":"instagram","account_name":"my_instagram_handle","status":"connected","profile_username":"your_profile_username","created_at":"2024-03-15T14:30:00.000000"}`,
		},
		{
			name: "social_account_disconnected", body: uploadDisconnected, wantType: "social_account_disconnected", wantTime: at,
			wantData: `{"user_email":"user@example.com","platform":"tiktok","account_name":"my_tiktok_handle","status":"disconnected","profile_username":"your_profile_username","reason":"manual_disconnect","created_at":"2024-03-15T14:30:00.000000"}`,
		},
		{
			name: "social_account_reauth_required", body: uploadReauth, wantType: "social_account_reauth_required", wantTime: at,
			wantData: `{"user_email":"user@example.com","platform":"youtube","account_name":"UCxxxxxxxxx","status":"reauth_required","reason":"token_refresh_threshold_exceeded","created_at":"2024-03-15T14:30:00.000000"}`,
		},
	}, regexp.MustCompile(`^uploadpost_[0-9a-f]{32}$`))

	// data keeps Upload-Post's field order, without event.
	if env := got["upload_completed"]; env != nil && !bytes.HasPrefix(env.Data, []byte(`{"job_id":"a1b2c3d4e5f6...","user_email":`)) {
		t.Errorf("upload_completed data = %s, want Upload-Post's order without event", env.Data)
	}
	ids := map[string]string{}
	for name, env := range got {
		if other, dup := ids[env.ID]; dup {
			t.Errorf("%s and %s have the same id %s", name, other, env.ID)
		}
		ids[env.ID] = name
	}

	// The same event sent again (re-indented by a retry) has the same id; another job or
	// time does not.
	idOf := func(body string) string {
		t.Helper()
		env, err := inbound.Map(cfg, []byte(body))
		if err != nil {
			t.Fatalf("Map = %v", err)
		}
		return env.ID
	}
	base := idOf(uploadCompleted)
	if again := idOf(compact(t, uploadCompleted)); again != base {
		t.Errorf("id of the same upload_completed re-sent = %s, want %s", again, base)
	}
	if other := idOf(strings.Replace(uploadCompleted, "a1b2c3d4e5f6...", "b2c3d4e5f6a1...", 1)); other == base {
		t.Errorf("another job_id gives the same id %s", other)
	}
	if later := idOf(strings.Replace(uploadCompleted, "14:30:00.000000", "14:31:00.000000", 1)); later == base {
		t.Errorf("another created_at gives the same id %s", later)
	}
	if noJob := idOf(strings.Replace(uploadCompleted, `"job_id": "a1b2c3d4e5f6...",`, "", 1)); noJob == base {
		t.Errorf("an upload without job_id gives the same id as one with")
	}
}

// ---- Oktopost ----

const oktopostSecret = "a1b2c3d4e5f6a7b8c9d0e1f2"

// The payloads of Oktopost's Webhooks page, as JSON.stringify writes them (Oktopost's
// document signs JSON.stringify(payload)), and newAssignment as the page lays it out.
const (
	oktopostAssignment       = `{"event":"newAssignment","timestamp":1705315200,"webhookId":"0WA000000000001","data":{"conversationId":"123456","assignedTo":"user@example.com","assignedBy":"manager@example.com","assignedAt":"2024-01-15 10:30:00"}}`
	oktopostAssignmentPretty = `{
  "event": "newAssignment",
  "timestamp": 1705315200,
  "webhookId": "0WA000000000001",
  "data": {
    "conversationId": "123456",
    "assignedTo": "user@example.com",
    "assignedBy": "manager@example.com",
    "assignedAt": "2024-01-15 10:30:00"
  }
}`
	oktopostPostSent = `{"event":"postSent","timestamp":1705315200,"webhookId":"0WA000000000001","data":{"postId":"0PL000000000001","network":"LinkedIn","campaignId":"002000000000001","sentAt":"2024-01-15 10:30:00"}}`
)

func TestOktopostVerify(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "oktopost", Secret: oktopostSecret})
	if cfg.Verify == nil || cfg.Verify.Header != "X-Oktopost-Signature" {
		t.Fatalf("Check left verify = %+v, want the default header X-Oktopost-Signature", cfg.Verify)
	}
	sig := hexSHA256(oktopostSecret, oktopostAssignment)
	runVerify(t, cfg, []verifyCase{
		{name: "signed", header: headers("X-Oktopost-Signature", sig), body: oktopostAssignment},
		{name: "postSent", header: headers("X-Oktopost-Signature", hexSHA256(oktopostSecret, oktopostPostSent)), body: oktopostPostSent},
		{name: "pretty body, JSON.stringify signed", header: headers("X-Oktopost-Signature", sig), body: oktopostAssignmentPretty},
		{name: "pretty body signed as sent", header: headers("X-Oktopost-Signature", hexSHA256(oktopostSecret, oktopostAssignmentPretty)), body: oktopostAssignmentPretty},
		{name: "tampered body", header: headers("X-Oktopost-Signature", sig), body: strings.Replace(oktopostAssignment, "user@", "attacker@", 1), wantErr: "signature does not match"},
		{name: "wrong secret", header: headers("X-Oktopost-Signature", hexSHA256("not the secret", oktopostAssignment)), body: oktopostAssignment, wantErr: "signature does not match"},
		{name: "missing header", body: oktopostAssignment, wantErr: "missing X-Oktopost-Signature header"},
		{name: "not JSON and unsigned", header: headers("X-Oktopost-Signature", sig), body: "event=newAssignment", wantErr: "signature does not match"},
	})

	custom := checked(t, inbound.Config{Provider: "oktopost", Secret: oktopostSecret, Verify: &inbound.VerifyConfig{Header: "x-signature"}})
	runVerify(t, custom, []verifyCase{
		{name: "custom header", header: headers("X-Signature", sig), body: oktopostAssignment},
		{name: "default header ignored", header: headers("X-Oktopost-Signature", sig), body: oktopostAssignment, wantErr: "missing x-signature header"},
	})
}

func TestOktopostMap(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "oktopost", Secret: oktopostSecret})
	at := time.Date(2024, 1, 15, 10, 40, 0, 0, time.UTC) // 1705315200
	derived := regexp.MustCompile(`^oktopost_[0-9a-f]{32}$`)
	got := runMap(t, cfg, []mapCase{
		{
			name: "newAssignment", body: oktopostAssignment, wantType: "newAssignment", wantTime: at,
			wantData: `{"conversationId":"123456","assignedTo":"user@example.com","assignedBy":"manager@example.com","assignedAt":"2024-01-15 10:30:00","webhookId":"0WA000000000001"}`,
		},
		{
			name: "newAssignment pretty", body: oktopostAssignmentPretty, wantType: "newAssignment", wantTime: at,
			wantData: `{"conversationId":"123456","assignedTo":"user@example.com","assignedBy":"manager@example.com","assignedAt":"2024-01-15 10:30:00","webhookId":"0WA000000000001"}`,
		},
		{
			name: "postSent", body: oktopostPostSent, wantType: "postSent", wantTime: at,
			wantData: `{"postId":"0PL000000000001","network":"LinkedIn","campaignId":"002000000000001","sentAt":"2024-01-15 10:30:00","webhookId":"0WA000000000001"}`,
		},
		{
			name: "the log's payload: no timestamp or webhookId", body: `{"event":"newAssignment","data":{"conversationId":"123456","assignedTo":"user@example.com","assignedBy":"manager@example.com"}}`,
			wantType: "newAssignment",
			wantData: `{"conversationId":"123456","assignedTo":"user@example.com","assignedBy":"manager@example.com"}`,
		},
	}, derived)

	if a, b := got["newAssignment"], got["newAssignment pretty"]; a != nil && b != nil && a.ID != b.ID {
		t.Errorf("the same event laid out differently has ids %s and %s, want one", a.ID, b.ID)
	}
	if a, b := got["newAssignment"], got["postSent"]; a != nil && b != nil && a.ID == b.ID {
		t.Errorf("newAssignment and postSent share the id %s", a.ID)
	}
	later, err := inbound.Map(cfg, []byte(strings.Replace(oktopostAssignment, "1705315200", "1705315260", 1)))
	if err != nil || got["newAssignment"] == nil || later.ID == got["newAssignment"].ID {
		t.Errorf("a later newAssignment: %v, %v; want another id", later, err)
	}

	own, err := inbound.Map(cfg, []byte(`{"id":"okt_evt_1","event":"postDeleted","timestamp":1705315200,"webhookId":"0WA000000000001","data":{"postId":"0PL000000000001","webhookId":"0WA000000000009"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if own.ID != "okt_evt_1" || !sameJSON(t, own.Data, []byte(`{"postId":"0PL000000000001","webhookId":"0WA000000000009"}`)) {
		t.Errorf("payload with its own id and data.webhookId mapped to %s %s", own.ID, own.Data)
	}
}

// ---- Standard Webhooks ----

// The Standard Webhooks specification's test vector.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestStandardWebhooksSpecVector(t *testing.T) {
	if got := standardSignature(vecSecret, vecID, vecTS, vecBody); got != vecSig {
		t.Fatalf("the test's own signer gives %s, want the spec's %s", got, vecSig)
	}
	cfg := checked(t, inbound.Config{Provider: "standard-webhooks", Secret: vecSecret})
	h := headers("webhook-id", vecID, "webhook-timestamp", strconv.Itoa(vecTS), "webhook-signature", vecSig)
	if err := inbound.Verify(cfg, inbound.Request{Header: h, Body: []byte(vecBody)}, time.Unix(vecTS, 0)); err != nil {
		t.Errorf("Verify(spec vector) = %v", err)
	}
}

// hookgateEvent is an envelope as hookgate itself delivers it (hookgate to hookgate).
const hookgateEvent = `{"id":"evt_2Zq8H1","type":"video.posted","source":"tokportal","created":"2026-06-24T14:00:05.123Z","data":{"video_id":"v_51d0e2","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}}`

func TestStandardWebhooksVerify(t *testing.T) {
	const secret = "whsec_c2Vjb25kLXNlY3JldC1vZi0yNC1ieXRlcw=="
	cfg := checked(t, inbound.Config{Provider: "standard-webhooks", Secret: secret})
	ts := now.Unix() - 2
	sig := standardSignature(secret, "msg_1", ts, hookgateEvent)
	sw := func(id string, ts int64, sigs ...string) http.Header {
		return headers("webhook-id", id, "webhook-timestamp", strconv.FormatInt(ts, 10), "webhook-signature", strings.Join(sigs, " "))
	}
	runVerify(t, cfg, []verifyCase{
		{name: "signed", header: sw("msg_1", ts, sig), body: hookgateEvent},
		{name: "rotation: second entry matches", header: sw("msg_1", ts, standardSignature(vecSecret, "msg_1", ts, hookgateEvent), sig), body: hookgateEvent},
		{name: "v1a entry ignored", header: sw("msg_1", ts, "v1a,abc", sig), body: hookgateEvent},
		{name: "signature entries in two headers", header: headers("webhook-id", "msg_1", "webhook-timestamp", strconv.FormatInt(ts, 10), "webhook-signature", "v1,AAAA", "webhook-signature", sig), body: hookgateEvent},
		{name: "stale", header: sw("msg_1", now.Unix()-301, standardSignature(secret, "msg_1", now.Unix()-301, hookgateEvent)), body: hookgateEvent, wantErr: "301 s away from now (in the past); tolerance is 300 s"},
		{name: "other id", header: sw("msg_2", ts, sig), body: hookgateEvent, wantErr: "signature does not match"},
		{name: "tampered body", header: sw("msg_1", ts, sig), body: strings.Replace(hookgateEvent, "tiktok", "instagram", 1), wantErr: "signature does not match"},
		{name: "wrong secret", header: sw("msg_1", ts, standardSignature(vecSecret, "msg_1", ts, hookgateEvent)), body: hookgateEvent, wantErr: "signature does not match"},
		{name: "missing id", header: headers("webhook-timestamp", strconv.FormatInt(ts, 10), "webhook-signature", sig), body: hookgateEvent, wantErr: "missing webhook-id header"},
		{name: "missing everything", body: hookgateEvent, wantErr: "missing webhook-id, webhook-timestamp and webhook-signature headers"},
		{name: "timestamp not a number", header: headers("webhook-id", "msg_1", "webhook-timestamp", "soon", "webhook-signature", sig), body: hookgateEvent, wantErr: `webhook-timestamp "soon" is not a unix time in seconds`},
		{name: "no v1 entry", header: sw("msg_1", ts, "v2,abc"), body: hookgateEvent, wantErr: `webhook-signature has no "v1,<base64>" entry`},
	})
}

func TestStandardWebhooksMap(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "standard-webhooks", Secret: vecSecret})
	runMap(t, cfg, []mapCase{
		{
			name: "hookgate envelope", header: headers("webhook-id", "msg_1"), body: hookgateEvent,
			wantID: "evt_2Zq8H1", wantType: "video.posted",
			wantTime: time.Date(2026, 6, 24, 14, 0, 5, 123e6, time.UTC),
			wantData: `{"video_id":"v_51d0e2","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}`,
		},
		{
			name: "no id: webhook-id", header: headers("webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
			body:   `{"type":"invoice.paid","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"in_1","amount":1200}}`,
			wantID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", wantType: "invoice.paid",
			wantTime: time.Date(2022, 11, 3, 20, 26, 10, 344522000, time.UTC),
			wantData: `{"id":"in_1","amount":1200}`,
		},
	}, nil)
}

// ---- generic ----

func TestGenericVerify(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	const body = `{"action":"opened","number":42,"pull_request":{"id":1871,"title":"Fix the widget"},"repository":{"full_name":"acme/web"}}`

	// GitHub: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>.
	github := checked(t, inbound.Config{Provider: "generic", Secret: secret, Verify: &inbound.VerifyConfig{Header: "X-Hub-Signature-256", Prefix: "sha256="}})
	// GitHub's documented example: "Hello, World!" with this secret.
	const ghExample = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := hexSHA256(secret, "Hello, World!"); got != ghExample {
		t.Fatalf("the test's signer gives %s for GitHub's example, want %s", got, ghExample)
	}
	runVerify(t, github, []verifyCase{
		{name: "GitHub example", header: headers("X-Hub-Signature-256", "sha256="+ghExample), body: "Hello, World!"},
		{name: "GitHub", header: headers("X-Hub-Signature-256", "sha256="+hexSHA256(secret, body)), body: body},
		{name: "GitHub without prefix", header: headers("X-Hub-Signature-256", hexSHA256(secret, body)), body: body, wantErr: `X-Hub-Signature-256 is not "sha256=" followed by a hex signature`},
		{name: "GitHub tampered", header: headers("X-Hub-Signature-256", "sha256="+hexSHA256(secret, body)), body: body + " ", wantErr: `signature does not match: X-Hub-Signature-256 is not the HMAC-SHA256 of "{body}"`},
		{name: "GitHub missing", header: headers("X-Hub-Signature", "sha1=00"), body: body, wantErr: "missing X-Hub-Signature-256 header"},
	})

	sha1cfg := checked(t, inbound.Config{Provider: "generic", Secret: secret, Verify: &inbound.VerifyConfig{Header: "X-Hub-Signature", Algorithm: "SHA1", Prefix: "sha1="}})
	runVerify(t, sha1cfg, []verifyCase{
		{name: "sha1", header: headers("X-Hub-Signature", "sha1="+hex.EncodeToString(hmacOf(sha1.New, []byte(secret), body))), body: body},
		{name: "sha256 where sha1 is configured", header: headers("X-Hub-Signature", "sha1="+hexSHA256(secret, body)), body: body, wantErr: "HMAC-SHA1"},
	})

	b64 := checked(t, inbound.Config{Provider: "generic", Secret: secret, Verify: &inbound.VerifyConfig{Header: "X-Signature", Algorithm: "sha512", Encoding: "base64"}})
	sig512 := hmacOf(sha512.New, []byte(secret), body)
	runVerify(t, b64, []verifyCase{
		{name: "base64 sha512", header: headers("X-Signature", base64.StdEncoding.EncodeToString(sig512)), body: body},
		{name: "base64url unpadded", header: headers("X-Signature", base64.RawURLEncoding.EncodeToString(sig512)), body: body},
		{name: "hex where base64 is configured", header: headers("X-Signature", hex.EncodeToString(sig512)), body: body, wantErr: "signature does not match"},
		{name: "garbage", header: headers("X-Signature", "%%%"), body: body, wantErr: "X-Signature is not a base64 signature"},
	})

	// Slack: X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">.
	slack := checked(t, inbound.Config{Provider: "generic", Secret: secret, Verify: &inbound.VerifyConfig{
		Header: "X-Slack-Signature", Prefix: "v0=", Template: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp"}})
	ts := strconv.FormatInt(now.Unix()-10, 10)
	old := strconv.FormatInt(now.Unix()-3600, 10)
	runVerify(t, slack, []verifyCase{
		{name: "Slack", header: headers("X-Slack-Signature", "v0="+hexSHA256(secret, "v0:"+ts+":"+body), "X-Slack-Request-Timestamp", ts), body: body},
		{name: "Slack replayed an hour later", header: headers("X-Slack-Signature", "v0="+hexSHA256(secret, "v0:"+old+":"+body), "X-Slack-Request-Timestamp", old), body: body, wantErr: "is 3600 s away from now (in the past); tolerance is 300 s"},
		{name: "Slack timestamp changed", header: headers("X-Slack-Signature", "v0="+hexSHA256(secret, "v0:"+old+":"+body), "X-Slack-Request-Timestamp", ts), body: body, wantErr: "signature does not match"},
		{name: "Slack without timestamp", header: headers("X-Slack-Signature", "v0="+hexSHA256(secret, "v0:"+ts+":"+body)), body: body, wantErr: "missing X-Slack-Request-Timestamp header"},
	})

	basic := checked(t, inbound.Config{Provider: "generic", Secret: "s3cret-pass", Verify: &inbound.VerifyConfig{Type: "basic", Username: "zapier"}})
	auth := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	runVerify(t, basic, []verifyCase{
		{name: "basic", header: headers("Authorization", auth("zapier", "s3cret-pass")), body: body},
		{name: "basic wrong password", header: headers("Authorization", auth("zapier", "guess")), body: body, wantErr: "user name or password does not match"},
		{name: "basic wrong user", header: headers("Authorization", auth("root", "s3cret-pass")), body: body, wantErr: "user name or password does not match"},
		{name: "basic missing", body: body, wantErr: "missing Authorization header"},
		{name: "bearer instead", header: headers("Authorization", "Bearer s3cret-pass"), body: body, wantErr: "Authorization is not Basic credentials"},
	})

	apiKey := checked(t, inbound.Config{Provider: "generic", Secret: "key_8d7f6e5d4c3b", Verify: &inbound.VerifyConfig{Type: "api_key"}})
	runVerify(t, apiKey, []verifyCase{
		{name: "api key", header: headers("X-API-Key", "key_8d7f6e5d4c3b"), body: body},
		{name: "api key wrong", header: headers("X-API-Key", "key_8d7f6e5d4c3c"), body: body, wantErr: "X-API-Key does not match the source's API key"},
		{name: "api key missing", body: body, wantErr: "missing X-API-Key header"},
	})
	bearer := checked(t, inbound.Config{Provider: "generic", Secret: "key_8d7f6e5d4c3b", Verify: &inbound.VerifyConfig{Type: "api_key", APIKeyHeader: "authorization"}})
	runVerify(t, bearer, []verifyCase{
		{name: "bearer", header: headers("Authorization", "Bearer key_8d7f6e5d4c3b"), body: body},
		{name: "bearer wrong", header: headers("Authorization", "Bearer key"), body: body, wantErr: "does not match"},
	})

	none := checked(t, inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}})
	runVerify(t, none, []verifyCase{{name: "none", body: body}})
}

func TestGenericMap(t *testing.T) {
	const mapping = `{type: "pull_request.\(.action)", id: "gh-\(.pull_request.id)-\(.action)", data: {number, title: .pull_request.title, repo: .repository.full_name}}`
	cfg := checked(t, inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}, Mapping: mapping,
		Sample: json.RawMessage(`{"action":"closed","number":1,"pull_request":{"id":1,"title":"t"},"repository":{"full_name":"a/b"}}`)})
	runMap(t, cfg, []mapCase{{
		name:   "GitHub pull request",
		body:   `{"action":"opened","number":42,"pull_request":{"id":1871,"title":"Fix the widget"},"repository":{"full_name":"acme/web"}}`,
		wantID: "gh-1871-opened", wantType: "pull_request.opened",
		wantData: `{"number":42,"title":"Fix the widget","repo":"acme/web"}`,
	}}, nil)

	// Big numbers reach the mapping exact; created may be unix seconds.
	exact := checked(t, inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}, Mapping: `{type: .kind, id: .n, created: .at, data: {n}}`})
	runMap(t, exact, []mapCase{{
		name: "big id", body: `{"kind":"order.paid","n":12345678901234567890,"at":1782309605}`,
		wantID: "12345678901234567890", wantType: "order.paid", wantTime: time.Date(2026, 6, 24, 14, 0, 5, 0, time.UTC),
		wantData: `{"n":12345678901234567890}`,
	}}, nil)

	// Without a mapping, the body must be the envelope already.
	plain := checked(t, inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}})
	runMap(t, plain, []mapCase{{
		name: "envelope", body: `{"type":"order.paid","id":"ord_1","created":"2026-06-24T16:00:05+02:00","data":{"total":12}}`,
		wantID: "ord_1", wantType: "order.paid", wantTime: time.Date(2026, 6, 24, 14, 0, 5, 0, time.UTC),
		wantData: `{"total":12}`,
	}}, nil)
}

func TestMappingIsConcurrencySafe(t *testing.T) {
	cfg := checked(t, inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}, Mapping: `{type: "n.\(.n)", data: .}`})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				n := strconv.Itoa(i*100 + j)
				env, err := inbound.Map(cfg, []byte(`{"n":`+n+`}`))
				if err != nil || env.Type != "n."+n {
					t.Errorf("Map(n=%s) = %+v, %v", n, env, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// ---- errors of Map ----

func TestMapErrors(t *testing.T) {
	cfgs := map[string]*inbound.Config{
		"tokportal":  {Provider: "tokportal", Secret: "s"},
		"tinyposter": {Provider: "tinyposter", Secret: "s"},
		"uploadpost": {Provider: "uploadpost"},
		"oktopost":   {Provider: "oktopost", Secret: "s"},
		"standard":   {Provider: "standard-webhooks", Secret: vecSecret},
		"generic":    {Provider: "generic"},
		"jq":         {Provider: "generic", Mapping: `{type: .kind, data: .}`},
	}
	cases := []struct {
		cfg, name, body, wantErr string
	}{
		{"tokportal", "empty body", "", "body is empty: want a JSON object"},
		{"tokportal", "not JSON", "event=video.posted", "body is not JSON: invalid character 'e'"},
		{"tokportal", "truncated JSON", `{"event":"video.posted"`, "body is not JSON: unexpected end of JSON input"},
		{"tokportal", "array", `[{"event":"video.posted"}]`, "body is an array, not a JSON object"},
		{"tokportal", "no event", `{"type":"video.posted","data":{}}`, `body has no "event" field: TokPortal names the event type`},
		{"tokportal", "event null", `{"event":null}`, `body has no "event" field`},
		{"tokportal", "event empty", `{"event":"  "}`, `body has an empty "event" field`},
		{"tokportal", "event a number", `{"event":7}`, `"event" must be a string, got a number`},
		{"tokportal", "event_id an object", `{"event":"video.posted","event_id":{}}`, `"event_id" must be a string or a number, got an object`},
		{"tokportal", "timestamp not a time", `{"event":"video.posted","timestamp":"yesterday"}`, `"timestamp" is not a time: "yesterday" (want RFC 3339`},
		{"tokportal", "timestamp negative", `{"event":"video.posted","timestamp":-5}`, `"timestamp" is a negative unix time`},
		{"tokportal", "timestamp past 9999", `{"event":"video.posted","timestamp":1e300}`, `"timestamp" is out of range`},
		{"tokportal", "timestamp a boolean", `{"event":"video.posted","timestamp":true}`, `"timestamp" is not a time but a boolean`},
		{"tinyposter", "no type", `{"id":"1","event":"post.published"}`, `body has no "type" field: tinyposter names the event type`},
		{"tinyposter", "created past 9999 by its zone", `{"type":"ping","created":"9999-12-31T23:59:59-23:00"}`, `"created" is out of range`},
		{"uploadpost", "no event", `{"job_id":"1"}`, `body has no "event" field: Upload-Post names the event type`},
		{"uploadpost", "created_at not a time", `{"event":"upload_completed","created_at":"15/03/2024"}`, `"created_at" is not a time`},
		{"oktopost", "data an array", `{"event":"postSent","data":[1]}`, `"data" must be an object, got an array`},
		{"oktopost", "no event", `{"webhookId":"0WA1","data":{}}`, `body has no "event" field: Oktopost names the event type`},
		{"standard", "no type", `{"test": 2432232314}`, `body has no "type" field`},
		{"generic", "a string", `"video.posted"`, "body is a string, not a JSON object"},
		{"jq", "not JSON", `{"kind":`, "body is not JSON"},
		{"jq", "no type", `{"other":1}`, `the mapping's output has no "type" field`},
		{"jq", "type not a string", `{"kind":[1]}`, `"type" must be a string, got an array`},
	}
	for _, tc := range cases {
		t.Run(tc.cfg+"/"+tc.name, func(t *testing.T) {
			env, err := inbound.Map(cfgs[tc.cfg], []byte(tc.body))
			var me *inbound.MapError
			if !errors.As(err, &me) {
				t.Fatalf("Map = %+v, %v (%T); want a *MapError", env, err, err)
			}
			if !strings.Contains(me.Reason, tc.wantErr) {
				t.Errorf("Map reason = %q, want it to contain %q", me.Reason, tc.wantErr)
			}
		})
	}
}

func TestMappingFailures(t *testing.T) {
	cases := []struct {
		name, mapping, body, wantErr string
	}{
		{"runtime error", `{type: (.a + 1), data: .}`, `{"a":"x"}`, `the mapping failed: cannot add: string ("x") and number (1)`},
		{"error()", `error("no type here")`, `{}`, "the mapping failed: error: no type here"},
		{"no output", `select(.a == 2) | {type: "t", data: .}`, `{"a":1}`, "the mapping produced no output"},
		{"two outputs", `{type: "a", data: .}, {type: "b", data: .}`, `{}`, "the mapping produced more than one output"},
		{"not an object", `[.]`, `{}`, "the mapping must produce an object {type, id?, created?, data}, got an array"},
		{"halt", `halt`, `{}`, "the mapping halted without output"},
		{"no environment", `{type: ($ENV.HOME // "none"), data: {}}`, `{}`, ""},
		{"runs too long", `last(range(1e15)) | {type: "t", data: .}`, `{}`, "the mapping ran longer than 1s and was stopped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &inbound.Config{Provider: "generic", Mapping: tc.mapping}
			env, err := inbound.Map(cfg, []byte(tc.body))
			if tc.wantErr == "" {
				if err != nil || env.Type != "none" {
					t.Fatalf("Map = %+v, %v; want type none ($ENV is empty)", env, err)
				}
				return
			}
			var me *inbound.MapError
			if !errors.As(err, &me) || !strings.Contains(me.Reason, tc.wantErr) {
				t.Fatalf("Map = %+v, %v; want a *MapError containing %q", env, err, tc.wantErr)
			}
		})
	}
}

func TestNilConfig(t *testing.T) {
	if err := inbound.Verify(nil, inbound.Request{}, now); err == nil {
		t.Error("Verify(nil config) = nil")
	}
	if _, err := inbound.MapRequest(nil, inbound.Request{}); err == nil {
		t.Error("MapRequest(nil config) = nil error")
	}
	if err := inbound.Check(nil); err == nil {
		t.Error("Check(nil) = nil")
	}
	if err := inbound.Verify(&inbound.Config{Provider: "mailchimp"}, inbound.Request{}, now); err == nil || !strings.Contains(err.Error(), `"mailchimp" is not one hookgate knows`) {
		t.Errorf("Verify(unknown provider) = %v", err)
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := inbound.NewToken()
		if len(tok) < 22 || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(tok) {
			t.Fatalf("NewToken() = %q, want at least 22 URL-safe characters (128 bits)", tok)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
		cfg := &inbound.Config{Provider: "uploadpost", Secret: tok}
		if err := inbound.Check(cfg); err != nil {
			t.Fatalf("Check refuses NewToken's %q: %v", tok, err)
		}
	}
}
