package gateway

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

// namePattern is the regexp validName replaced: the two must agree on every string.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@+=\-]{0,199}$`)

var nameSeeds = []string{"", "a", "video.posted", "evt_01HZ", "-a", ".a", "a-b_c.d:e@f+g=h", "a b", "a/b", "é",
	"a\n", "\na", "A" + strings.Repeat("x", 199), "A" + strings.Repeat("x", 200), "0", "_", "a\x00", "a~", "a#"}

func TestValidNameIsThePattern(t *testing.T) {
	for _, s := range nameSeeds {
		if got, want := validName(s), namePattern.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, the pattern says %v", s, got, want)
		}
	}
	for c := 0; c < 256; c++ { // every byte, first and later
		for _, s := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)})} {
			if got, want := validName(s), namePattern.MatchString(s); got != want {
				t.Errorf("validName(%q) = %v, the pattern says %v", s, got, want)
			}
		}
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validName(s), namePattern.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}

func BenchmarkValidName(b *testing.B) {
	b.Run("loop", func(b *testing.B) {
		for b.Loop() {
			validName("evt_bench_1234567")
		}
	})
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			namePattern.MatchString("evt_bench_1234567")
		}
	})
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatalf("NewSecret returned %q twice", a)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(k) != 24 {
		t.Fatalf("NewSecret = %q: want whsec_ + base64 of 24 bytes", a)
	}
}
