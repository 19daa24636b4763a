package signature_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/signature"
	"github.com/hookgate/hookgate/gateway"
)

// The Standard Webhooks specification's test vector.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// otherSecret is a valid secret that is not the vector's.
const otherSecret = "whsec_c2Vjb25kLXNlY3JldC1vZi0yNC1ieXRlcw=="

func TestSignSpecVector(t *testing.T) {
	for _, secret := range []string{vecSecret, strings.TrimPrefix(vecSecret, "whsec_")} {
		got, err := signature.Sign(secret, vecID, time.Unix(vecTS, 0), []byte(vecBody))
		if err != nil || got != vecSig {
			t.Errorf("Sign(%q) = %q, %v; want %q", secret, got, err, vecSig)
		}
	}
}

func TestSignInvalidSecret(t *testing.T) {
	for _, secret := range []string{"", "whsec_", "whsec_!!!not-base64", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"} {
		_, err := signature.Sign(secret, vecID, time.Unix(vecTS, 0), []byte(vecBody))
		if !errors.Is(err, signature.ErrInvalidSecret) {
			t.Errorf("Sign(%q) = %v, want ErrInvalidSecret", secret, err)
		}
		if k := strings.TrimPrefix(secret, "whsec_"); k != "" && err != nil && strings.Contains(err.Error(), k) {
			t.Errorf("Sign(%q) error %q quotes the secret", secret, err)
		}
	}
}

func TestHeaderSignsWithEverySecret(t *testing.T) {
	ts := time.Unix(vecTS, 0)
	h, err := signature.Header([]string{otherSecret, vecSecret}, vecID, ts, []byte(vecBody))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := signature.Sign(otherSecret, vecID, ts, []byte(vecBody))
	if want := first + " " + vecSig; h != want {
		t.Fatalf("Header = %q, want %q", h, want)
	}
	if _, err := signature.Header(nil, vecID, ts, nil); !errors.Is(err, signature.ErrInvalidSecret) {
		t.Errorf("Header(no secrets) = %v, want ErrInvalidSecret", err)
	}
	if _, err := signature.Header([]string{vecSecret, "whsec_%%"}, vecID, ts, nil); !errors.Is(err, signature.ErrInvalidSecret) {
		t.Errorf("Header(bad second secret) = %v, want ErrInvalidSecret", err)
	}
}

func headers(id, ts string, sigs ...string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(signature.HeaderID, id)
	}
	if ts != "" {
		h.Set(signature.HeaderTimestamp, ts)
	}
	for _, s := range sigs {
		h.Add(signature.HeaderSignature, s)
	}
	return h
}

func TestVerify(t *testing.T) {
	now := time.Unix(vecTS, 0)
	ts := strconv.Itoa(vecTS)
	otherSig, _ := signature.Sign(otherSecret, vecID, now, []byte(vecBody))
	cases := []struct {
		name      string
		secrets   []string
		h         http.Header
		body      string
		tolerance time.Duration
		now       time.Time
		want      error
	}{
		{"valid", []string{vecSecret}, headers(vecID, ts, vecSig), vecBody, 0, now, nil},
		{"valid without prefix", []string{vecSecret[len("whsec_"):]}, headers(vecID, ts, vecSig), vecBody, 0, now, nil},
		{"second of several entries", []string{vecSecret}, headers(vecID, ts, "v1,Zm9v "+vecSig), vecBody, 0, now, nil},
		{"entries in two header lines", []string{vecSecret}, headers(vecID, ts, "v1,Zm9v", vecSig), vecBody, 0, now, nil},
		{"rotation: old secret still configured", []string{otherSecret, vecSecret}, headers(vecID, ts, vecSig), vecBody, 0, now, nil},
		{"rotation: both entries sent", []string{vecSecret}, headers(vecID, ts, otherSig+" "+vecSig), vecBody, 0, now, nil},
		{"just within tolerance", []string{vecSecret}, headers(vecID, ts, vecSig), vecBody, 0, now.Add(5 * time.Minute), nil},
		{"custom tolerance", []string{vecSecret}, headers(vecID, ts, vecSig), vecBody, time.Hour, now.Add(30 * time.Minute), nil},

		{"tampered body", []string{vecSecret}, headers(vecID, ts, vecSig), `{"test": 2432232315}`, 0, now, signature.ErrInvalidSignature},
		{"tampered id", []string{vecSecret}, headers("msg_other", ts, vecSig), vecBody, 0, now, signature.ErrInvalidSignature},
		{"tampered timestamp", []string{vecSecret}, headers(vecID, strconv.Itoa(vecTS+1), vecSig), vecBody, 0, now, signature.ErrInvalidSignature},
		{"wrong secret", []string{otherSecret}, headers(vecID, ts, vecSig), vecBody, 0, now, signature.ErrInvalidSignature},
		{"other version", []string{vecSecret}, headers(vecID, ts, "v2"+vecSig[2:]), vecBody, 0, now, signature.ErrInvalidSignature},
		{"bare base64 without v1,", []string{vecSecret}, headers(vecID, ts, vecSig[3:]), vecBody, 0, now, signature.ErrInvalidSignature},
		{"truncated signature", []string{vecSecret}, headers(vecID, ts, vecSig[:len(vecSig)-2]), vecBody, 0, now, signature.ErrInvalidSignature},
		{"stale", []string{vecSecret}, headers(vecID, ts, vecSig), vecBody, 0, now.Add(5*time.Minute + time.Second), signature.ErrTimestampTooOld},
		{"future", []string{vecSecret}, headers(vecID, ts, vecSig), vecBody, 0, now.Add(-5*time.Minute - time.Second), signature.ErrTimestampTooNew},
		{"far future", []string{vecSecret}, headers(vecID, "9223372036854775807", vecSig), vecBody, 0, now, signature.ErrTimestampTooNew},
		{"negative", []string{vecSecret}, headers(vecID, "-9223372036854775808", vecSig), vecBody, 0, now, signature.ErrTimestampTooOld},
		{"timestamp in ms", []string{vecSecret}, headers(vecID, ts+"000", vecSig), vecBody, 0, now, signature.ErrTimestampTooNew},
		{"timestamp not a number", []string{vecSecret}, headers(vecID, "soon", vecSig), vecBody, 0, now, signature.ErrInvalidHeader},
		{"no id", []string{vecSecret}, headers("", ts, vecSig), vecBody, 0, now, signature.ErrMissingHeader},
		{"no timestamp", []string{vecSecret}, headers(vecID, "", vecSig), vecBody, 0, now, signature.ErrMissingHeader},
		{"no signature", []string{vecSecret}, headers(vecID, ts), vecBody, 0, now, signature.ErrMissingHeader},
		{"blank signature", []string{vecSecret}, headers(vecID, ts, "   "), vecBody, 0, now, signature.ErrMissingHeader},
		{"bad secret", []string{"whsec_!!!"}, headers(vecID, ts, vecSig), vecBody, 0, now, signature.ErrInvalidSecret},
		{"no secrets", nil, headers(vecID, ts, vecSig), vecBody, 0, now, signature.ErrInvalidSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := signature.Verify(c.secrets, c.h, []byte(c.body), c.tolerance, c.now)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	secret := gateway.NewSecret()
	now := time.Now()
	body := []byte(`{"id":"evt_1","type":"video.posted"}`)
	sig, err := signature.Header([]string{secret, vecSecret}, "evt_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	h := headers("evt_1", strconv.FormatInt(now.Unix(), 10), sig)
	for _, secrets := range [][]string{{secret}, {vecSecret}} {
		if err := signature.Verify(secrets, h, body, 0, now); err != nil {
			t.Errorf("Verify(%v) = %v", secrets, err)
		}
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	cases := []struct {
		ts        int64
		tolerance time.Duration
		want      error
	}{
		{1_000_000, 0, nil},
		{1_000_000 - 300, 0, nil},
		{1_000_000 + 300, 0, nil},
		{1_000_000 - 301, 0, signature.ErrTimestampTooOld},
		{1_000_000 + 301, 0, signature.ErrTimestampTooNew},
		{1_000_000 - 301, -time.Second, signature.ErrTimestampTooOld}, // negative: default
		{1_000_000 - 11, 10 * time.Second, signature.ErrTimestampTooOld},
		{1_000_000 + 10, 10 * time.Second, nil},
	}
	for _, c := range cases {
		if err := signature.CheckTimestamp(c.ts, c.tolerance, now); c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("CheckTimestamp(%d, %s) = %v, want %v", c.ts, c.tolerance, err, c.want)
		}
	}
}

func TestHMAC(t *testing.T) {
	// RFC 2202 / RFC 4231 test case 2.
	key, msg := []byte("Jefe"), []byte("what do ya want for nothing?")
	cases := []struct {
		alg  string
		want string
	}{
		{"sha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"SHA256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"sha512", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
	}
	for _, c := range cases {
		got, err := signature.HMAC(c.alg, key, msg)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("HMAC(%s) = %x, %v; want %s", c.alg, got, err, c.want)
		}
	}
	for _, alg := range []string{"", "md5", "sha384"} {
		if _, err := signature.HMAC(alg, key, msg); !errors.Is(err, signature.ErrUnknownAlgorithm) {
			t.Errorf("HMAC(%q) = %v, want ErrUnknownAlgorithm", alg, err)
		}
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
		{vecSig, vecSig, true},
	}
	for _, c := range cases {
		if got := signature.Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestParseTV(t *testing.T) {
	good := []struct {
		in   string
		ts   int64
		v1   []string
		name string
	}{
		{"t=1750772400,v1=abc", 1750772400, []string{"abc"}, "one"},
		{"t=1750772400,v1=abc,v1=def", 1750772400, []string{"abc", "def"}, "two v1"},
		{" t = 5 , v1 = abc ", 5, []string{"abc"}, "spaces"},
		{"v1=abc,t=5", 5, []string{"abc"}, "any order"},
		{"t=5,v0=old,v1=abc,v2=new,junk", 5, []string{"abc"}, "unknown keys ignored"},
		{"t=5,v1=,v1=abc", 5, []string{"abc"}, "empty v1 skipped"},
		{"t=5,v1=a=b", 5, []string{"a=b"}, "= in value"},
	}
	for _, c := range good {
		tv, err := signature.ParseTV(c.in)
		if err != nil || tv.Timestamp != c.ts || strings.Join(tv.V1, "|") != strings.Join(c.v1, "|") {
			t.Errorf("%s: ParseTV(%q) = %+v, %v; want t=%d v1=%v", c.name, c.in, tv, err, c.ts, c.v1)
		}
	}
	for _, bad := range []string{"", "t=1", "v1=abc", "t=x,v1=abc", "t=-5,v1=a", ",,,", "t=1,v1=", "t=1,t=2,v1=a", "t=99999999999999999999,v1=a", "t,v1"} {
		if tv, err := signature.ParseTV(bad); !errors.Is(err, signature.ErrInvalidHeader) {
			t.Errorf("ParseTV(%q) = %+v, %v; want ErrInvalidHeader", bad, tv, err)
		}
	}
}

func FuzzParseTV(f *testing.F) {
	for _, s := range []string{
		"t=1750772400,v1=9f86d081884c7d659a2feaa0c55ad015",
		"t=1,v1=a,v1=b", "", "=,=", "t==,v1===", " t = 1 , v1 = x ", "t=1,t=1,v1=a",
		"t=-1,v1=a", "v1=a,t=18446744073709551616", "\x00t=1,v1=\xff", strings.Repeat("v1=a,", 100) + "t=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tv, err := signature.ParseTV(s)
		if err != nil {
			if !errors.Is(err, signature.ErrInvalidHeader) {
				t.Fatalf("ParseTV(%q) = %v, not an ErrInvalidHeader", s, err)
			}
			if tv.Timestamp != 0 || tv.V1 != nil {
				t.Fatalf("ParseTV(%q) failed but returned %+v", s, tv)
			}
			return
		}
		if len(tv.V1) == 0 || tv.Timestamp < 0 {
			t.Fatalf("ParseTV(%q) = %+v: accepted without v1 or with a negative t", s, tv)
		}
		for _, v := range tv.V1 {
			if v == "" || !strings.Contains(s, v) {
				t.Fatalf("ParseTV(%q) = %+v: v1 %q is not from the input", s, tv, v)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add(vecID, strconv.Itoa(vecTS), vecSig, vecBody)
	f.Add("", "", "", "")
	f.Add(vecID, "-1", "v1, v1,, ,v1,===", "")
	f.Add(vecID, "9223372036854775807", vecSig+" "+vecSig, vecBody)
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{}
		h.Set(signature.HeaderID, id)
		h.Set(signature.HeaderTimestamp, ts)
		h.Set(signature.HeaderSignature, sig)
		now := time.Unix(vecTS, 0)
		err := signature.Verify([]string{vecSecret}, h, []byte(body), 0, now)
		if err != nil {
			return
		}
		// Accepted: it must be the genuine signature of exactly this message.
		n, perr := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		want, serr := signature.Sign(vecSecret, id, time.Unix(n, 0), []byte(body))
		if perr != nil || serr != nil || !strings.Contains(" "+strings.Join(strings.Fields(sig), " ")+" ", " "+want+" ") {
			t.Fatalf("Verify accepted id=%q ts=%q sig=%q body=%q", id, ts, sig, body)
		}
	})
}

// Sign gives the specification's own test vector.
func ExampleSign() {
	sig, err := signature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(sig)
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// A receiver checks the three headers against its secret; a changed body fails.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sent := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	sig, _ := signature.Header([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body)

	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", sig)

	received := sent.Add(2 * time.Second)
	fmt.Println(signature.Verify([]string{secret}, h, body, 0, received))
	err := signature.Verify([]string{secret}, h, []byte(`{"test": 1}`), 0, received)
	fmt.Println(errors.Is(err, signature.ErrInvalidSignature))
	err = signature.Verify([]string{secret}, h, body, 0, sent.Add(time.Hour))
	fmt.Println(errors.Is(err, signature.ErrTimestampTooOld))
	// Output:
	// <nil>
	// true
	// true
}

// ParseTV reads tinyposter-style headers; the preset then checks each v1 with HMAC and Equal.
func ExampleParseTV() {
	tv, err := signature.ParseTV("t=1750772400,v1=bb9eea15645eb4ec69bc096322042b0fc1658a127d7fc24328fdc704159ac1e5")
	if err != nil {
		panic(err)
	}
	mac, _ := signature.HMAC("sha256", []byte("tp_secret"), []byte(fmt.Sprintf("%d.%s", tv.Timestamp, `{"ok":true}`)))
	fmt.Println(tv.Timestamp, len(tv.V1), signature.Equal(tv.V1[0], hex.EncodeToString(mac)))
	// Output: 1750772400 1 true
}

// independentSign is the Standard Webhooks signature computed here, with the standard
// library alone, to check Sign against.
func independentSign(t testing.TB, secret, id string, ts int64, body []byte) string {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, k)
	fmt.Fprintf(mac, "%s.%d.%s", id, ts, body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Sign is right whatever it signed before: many goroutines sign with more secrets than it
// keeps keyed states for, each message under several secrets in turn, ids longer and
// shorter than its scratch space, and every signature matches one computed anew.
func TestSignManySecretsConcurrently(t *testing.T) {
	const secrets, workers = 5000, 8
	secret := func(i int) string {
		return "whsec_" + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("secret-number-%08d", i)))
	}
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < secrets; i += workers / 2 { // the halves overlap: shared secrets
				id := fmt.Sprintf("msg_%d_%s", i, strings.Repeat("x", i%100))
				body := []byte(fmt.Sprintf(`{"n":%d}`, i))
				ts := int64(1700000000 + i)
				for _, s := range []string{secret(i), secret((i + 1) % secrets), secret(0)} {
					got, err := signature.Sign(s, id, time.Unix(ts, 0), body)
					if want := independentSign(t, s, id, ts, body); err != nil || got != want {
						select {
						case errs <- fmt.Sprintf("Sign(secret %q, %s) = %q, %v; want %q", s, id, got, err, want):
						default:
						}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkSign is one delivery's signature of a 1 KiB body.
func BenchmarkSign(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	ts := time.Unix(vecTS, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := signature.Sign(vecSecret, vecID, ts, body); err != nil {
			b.Fatal(err)
		}
	}
}
