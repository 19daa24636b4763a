package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
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

// validName matches event ids, event types and sources: printable, no spaces or slashes.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@+=\-]{0,199}$`)
