package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// newID returns prefix + "_" + a ULID: unique, and sorting by creation time.
func newID(prefix string, now time.Time) string {
	return prefix + "_" + ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
}

// NewSecret returns a fresh endpoint signing secret: "whsec_" + base64 of 24 random bytes.
func NewSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// validName reports whether s is a valid event id, event type or source name: 1 to 200
// bytes, a letter or digit first, then letters, digits and . _ : @ + = - (printable, no
// spaces or slashes; ASCII only). A loop rather than a regexp: a publish checks two or
// three names, and the regexp cost a microsecond each.
func validName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == ':' || c == '@' || c == '+' || c == '=' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// maxNameLen is the longest valid name (validName), in bytes.
const maxNameLen = 200
