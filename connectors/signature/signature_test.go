package signature_test

import (
	"errors"
	"fmt"
	"net/http"
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

func TestSpecVector(t *testing.T) {
	got, err := signature.Sign(vecSecret, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil || got != vecSig {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vecSig)
	}
	noPrefix, _ := signature.Sign(vecSecret[len("whsec_"):], vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if noPrefix != vecSig {
		t.Fatalf("Sign without prefix = %q", noPrefix)
	}
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set("webhook-id", id)
	}
	if ts != 0 {
		h.Set("webhook-timestamp", fmt.Sprint(ts))
	}
	if sig != "" {
		h.Set("webhook-signature", sig)
	}
	return h
}

func TestVerify(t *testing.T) {
	now := time.Unix(vecTS, 0)
	other := gateway.NewSecret()
	cases := []struct {
		name    string
		secrets []string
		h       http.Header
		body    string
		now     time.Time
		want    error
	}{
		{"valid", []string{vecSecret}, headers(vecID, vecTS, vecSig), vecBody, now, nil},
		{"second of several entries", []string{vecSecret}, headers(vecID, vecTS, "v1,Zm9v "+vecSig), vecBody, now, nil},
		{"second secret", []string{other, vecSecret}, headers(vecID, vecTS, vecSig), vecBody, now, nil},
		{"tampered body", []string{vecSecret}, headers(vecID, vecTS, vecSig), `{"test": 2432232315}`, now, signature.ErrNoMatch},
		{"tampered id", []string{vecSecret}, headers("msg_other", vecTS, vecSig), vecBody, now, signature.ErrNoMatch},
		{"tampered timestamp", []string{vecSecret}, headers(vecID, vecTS+1, vecSig), vecBody, now, signature.ErrNoMatch},
		{"wrong secret", []string{other}, headers(vecID, vecTS, vecSig), vecBody, now, signature.ErrNoMatch},
		{"v2 prefix", []string{vecSecret}, headers(vecID, vecTS, "v2"+vecSig[2:]), vecBody, now, signature.ErrNoMatch},
		{"stale", []string{vecSecret}, headers(vecID, vecTS, vecSig), vecBody, now.Add(6 * time.Minute), signature.ErrTimestampTooOld},
		{"future", []string{vecSecret}, headers(vecID, vecTS, vecSig), vecBody, now.Add(-6 * time.Minute), signature.ErrTimestampTooNew},
		{"no id", []string{vecSecret}, headers("", vecTS, vecSig), vecBody, now, signature.ErrMissingHeader},
		{"no timestamp", []string{vecSecret}, headers(vecID, 0, vecSig), vecBody, now, signature.ErrMissingHeader},
		{"no signature", []string{vecSecret}, headers(vecID, vecTS, ""), vecBody, now, signature.ErrMissingHeader},
		{"bad secret", []string{"whsec_!!!"}, headers(vecID, vecTS, vecSig), vecBody, now, signature.ErrInvalidSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := signature.Verify(c.secrets, c.h, []byte(c.body), 0, c.now)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	h := headers(vecID, vecTS, vecSig)
	h.Set("webhook-timestamp", "soon")
	if err := signature.Verify([]string{vecSecret}, h, []byte(vecBody), 0, now); !errors.Is(err, signature.ErrInvalidHeader) {
		t.Errorf("non-numeric timestamp: %v", err)
	}
}

func TestHeaderSignsWithEverySecret(t *testing.T) {
	other := gateway.NewSecret()
	h, err := signature.Header([]string{other, vecSecret}, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := signature.Sign(other, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if h != first+" "+vecSig {
		t.Fatalf("Header = %q", h)
	}
	if _, err := signature.Header(nil, vecID, time.Unix(vecTS, 0), nil); err == nil {
		t.Fatal("Header with no secrets succeeded")
	}
}

func TestParseTV(t *testing.T) {
	tv, err := signature.ParseTV("t=1750772400,v1=abc,v1=def")
	if err != nil || tv.Timestamp != 1750772400 || len(tv.V1) != 2 || tv.V1[1] != "def" {
		t.Fatalf("ParseTV = %+v, %v", tv, err)
	}
	for _, bad := range []string{"", "t=1", "v1=abc", "t=x,v1=abc", "t=-5,v1=a", ",,,", "t=1,v1="} {
		if _, err := signature.ParseTV(bad); !errors.Is(err, signature.ErrInvalidHeader) {
			t.Errorf("ParseTV(%q) = %v, want ErrInvalidHeader", bad, err)
		}
	}
}

func TestHMAC(t *testing.T) {
	for alg, n := range map[string]int{"sha1": 20, "sha256": 32, "SHA512": 64} {
		got, err := signature.HMAC(alg, []byte("k"), []byte("m"))
		if err != nil || len(got) != n {
			t.Errorf("HMAC(%s) = %d bytes, %v", alg, len(got), err)
		}
	}
	if _, err := signature.HMAC("md5", nil, nil); !errors.Is(err, signature.ErrUnknownAlgorithm) {
		t.Errorf("HMAC(md5) = %v", err)
	}
}

func FuzzParseTV(f *testing.F) {
	for _, s := range []string{"t=1750772400,v1=9f86d08", "t=1,v1=a,v1=b", "", "=,=", "t==,v1==="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tv, err := signature.ParseTV(s)
		if err == nil && len(tv.V1) == 0 {
			t.Fatalf("ParseTV(%q) accepted a header with no v1", s)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add(vecID, "1614265330", vecSig, vecBody)
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		signature.Verify([]string{vecSecret}, h, []byte(body), 0, time.Unix(vecTS, 0))
	})
}

func ExampleSign() {
	sig, _ := signature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	fmt.Println(sig)
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}
