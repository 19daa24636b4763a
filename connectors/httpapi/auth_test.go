package httpapi_test

import (
	"testing"

	"github.com/hookgate/hookgate/gateway"
)

// The Authorization scheme is case-insensitive (RFC 7235 §2.1), and one or more spaces may
// separate it from the token.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	for _, h := range []string{"Bearer " + token, "bearer " + token, "BEARER " + token, "bEaReR  " + token} {
		if st, body := a.do("GET", "/v1/endpoints", "", "Authorization", h); st != 200 {
			t.Errorf("Authorization: %q = %d %v, want 200", h, st, body)
		}
	}
	for _, h := range []string{"Bearer", "Bearertest-token", "bearer nope", "Basic " + token, token} {
		st, body := a.do("GET", "/v1/endpoints", "", "Authorization", h)
		if code, _, _ := errorOf(t, body); st != 401 || code != "unauthorized" {
			t.Errorf("Authorization: %q = %d %v, want 401 unauthorized", h, st, body)
		}
	}
}
