package schemas_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/schemas"
)

func TestValidationErrorsNamePointerAndKeyword(t *testing.T) {
	c := newCatalog(t)
	posted := `"video_id":"v","platform":"tiktok","post_id":"1","posted_at":"2026-06-24T14:00:05Z"`
	cases := []struct {
		typ, data, pointer, keyword, message string
	}{
		{"video.posted", `{` + posted + `}`, "/data/post_url", "required", "missing required property"},
		{"video.posted", `{` + posted + `,"post_url":"not a url"}`, "/data/post_url", "format", ""},
		{"video.posted", `{"video_id":"v","platform":"myspace","post_url":"https://x.y/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`, "/data/platform", "enum", ""},
		{"video.posted", `{"video_id":"v","platform":"tiktok","post_url":"https://x.y/1","post_id":"1","posted_at":"yesterday"}`, "/data/posted_at", "format", ""},
		{"video.posted", `{"video_id":7,"platform":"tiktok","post_url":"https://x.y/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`, "/data/video_id", "type", "expected string, got number"},
		{"video.posted", `[]`, "/data", "type", "expected object, got array"},
		{"video.posted", `{"a":`, "/data", "json", ""},
		{"analytics.snapshot", `{"video_id":"v","platform":"tiktok","views":"lots","likes":1,"comments":1,"shares":1,"reach":1}`, "/data/views", "type", "expected integer, got string"},
		{"analytics.snapshot", `{"video_id":"v","platform":"tiktok","views":1.5,"likes":1,"comments":1,"shares":1,"reach":1}`, "/data/views", "type", "expected integer, got number"},
		{"analytics.snapshot", `{"video_id":"v","platform":"tiktok","views":-1,"likes":1,"comments":1,"shares":1,"reach":1}`, "/data/views", "minimum", ""},
		{"analytics.snapshot", `{"video_id":"v","platform":"tiktok","views":1}`, "/data/likes", "required", "missing required property (also missing: comments, shares, reach)"},
		{"post.published", `{"post":{"id":"p","status":"published","platforms":"TWITTER","brand_id":"b"}}`, "/data/post/platforms", "type", "expected array, got string"},
		{"post.published", `{"post":{"id":"p","status":"published","platforms":[1],"brand_id":"b"}}`, "/data/post/platforms/0", "type", "expected string, got number"},
		{"post.published", `{"post":{"status":"published","platforms":[],"brand_id":"b"}}`, "/data/post/id", "required", "missing required property"},
		{"upload_completed", `{"user_email":"a@b.co","platform":"instagram","media_type":"video","created_at":"x","result":{}}`, "/data/result/success", "required", ""},
		{"upload_completed", `{"user_email":"a@b.co","platform":"instagram","media_type":"gif","created_at":"x","result":{"success":true}}`, "/data/media_type", "enum", ""},
		{"upload_completed", `{"user_email":"nobody","platform":"instagram","media_type":"video","created_at":"x","result":{"success":true}}`, "/data/user_email", "format", ""},
		{"social_account_connected", `{"user_email":"a@b.co","platform":"x","account_name":"n","status":"disconnected","created_at":"x"}`, "/data/status", "const", ""},
		{"postSent", `{"postId":"p","network":"LinkedIn","campaignId":"c","sentAt":"2024-01-15T10:30:00Z"}`, "/data/sentAt", "pattern", ""},
		{"endpoint.disabled", `{"endpoint_id":"nope","url":"https://x","reason":"r","disabled_at":"2026-06-24T14:10:00.000Z"}`, "/data/endpoint_id", "pattern", ""},
	}
	for _, tc := range cases {
		err := c.Validate(tc.typ, json.RawMessage(tc.data))
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) || ve.Pointer != tc.pointer || ve.Keyword != tc.keyword {
			t.Errorf("Validate(%s, %s) = %#v, want %s (%s)", tc.typ, tc.data, err, tc.pointer, tc.keyword)
			continue
		}
		if tc.message != "" && ve.Message != tc.message {
			t.Errorf("Validate(%s, %s) message = %q, want %q", tc.typ, tc.data, ve.Message, tc.message)
		}
		if err.Error() != ve.Pointer+": "+ve.Message || ve.FieldName() != tc.pointer {
			t.Errorf("Error() = %q, FieldName() = %q", err, ve.FieldName())
		}
	}
}

func TestValidationErrorReadsLikeTheDocs(t *testing.T) {
	c := newCatalog(t)
	err := c.Validate("analytics.snapshot", json.RawMessage(`{"video_id":"v","platform":"tiktok","views":"lots","likes":1,"comments":1,"shares":1,"reach":1}`))
	if err == nil || err.Error() != "/data/views: expected integer, got string" {
		t.Errorf("Validate = %v", err)
	}
}

func TestValidationErrorIsStable(t *testing.T) {
	// Several fields fail: the report must name the same one every time, although the
	// validator walks properties in map order.
	c := newCatalog(t)
	data := json.RawMessage(`{"video_id":1,"platform":"myspace","post_url":2,"post_id":3,"posted_at":4,"bundle_id":5}`)
	first := c.Validate("video.posted", data)
	if first == nil || first.Error() != "/data/bundle_id: expected string, got number" {
		t.Fatalf("Validate = %v", first)
	}
	for range 50 {
		if err := c.Validate("video.posted", data); err.Error() != first.Error() {
			t.Fatalf("Validate = %v, then %v", first, err)
		}
	}
}

func TestValidateUnknownType(t *testing.T) {
	c := newCatalog(t)
	for _, err := range []error{
		c.Validate("nope.never", json.RawMessage(`{}`)),
		c.ValidateFrom("tokportal", "nope.never", json.RawMessage(`{}`)),
	} {
		if !errors.Is(err, schemas.ErrUnknownType) || !strings.Contains(err.Error(), "nope.never") {
			t.Errorf("unknown type = %v, want ErrUnknownType naming it", err)
		}
	}
}

func TestValidateKeepsNumbersExact(t *testing.T) {
	// 2^63 is an integer; decoding it as float64 would still pass, but 1e400 must not crash.
	c := newCatalog(t)
	ok := `{"video_id":"v","platform":"tiktok","views":9223372036854775808,"likes":1,"comments":1,"shares":1,"reach":1}`
	if err := c.Validate("analytics.snapshot", json.RawMessage(ok)); err != nil {
		t.Errorf("big integer: %v", err)
	}
	huge := `{"video_id":"v","platform":"tiktok","views":1e400,"likes":1,"comments":1,"shares":1,"reach":1}`
	if err := c.Validate("analytics.snapshot", json.RawMessage(huge)); err != nil {
		t.Logf("1e400: %v", err) // either answer is fine; no panic is the point
	}
}
