package gateway_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway"
)

// Every spelling a common resolver (glibc's inet_aton, WHATWG URL parsers, curl) reads as a
// forbidden address is refused at registration. Nothing here is dialed.
func TestCheckURLRefusesEverySpellingOfAForbiddenHost(t *testing.T) {
	var p gateway.URLPolicy
	refused := []string{
		// numeric IPv4 spellings of 127.0.0.1, 0.0.0.0 and 10.0.0.1
		"127.1", "0x7f000001", "0X7F000001", "2130706433", "0177.0.0.1", "0", "0x7f.1", "127.000.000.001",
		"0x7f.0.0.1", "127.0.1", "017700000001", "0x0", "00", "0.0", "10.1", "012.0.0.1", "167772161",
		"127.0.0.1.", "2130706433.",
		// a public address in a non-canonical spelling: resolvers disagree on what it means
		"0x5db8d822", "1572395042", "93.184.216.034",
		// names ending in a number that no resolver reads as an address
		"1.2.3.4.5", "256.1.1.1", "127.0.0.1.2", "4294967296", "0x100000000", "example.09", "foo.0x10", "1.2.3.0x",
		// localhost, with the root's trailing dot
		"localhost", "localhost.", "LOCALHOST.", "api.localhost", "api.localhost.",
		// IPv6 forms that embed a forbidden IPv4
		"[64:ff9b::a00:1]", "[64:ff9b::7f00:1]", "[64:ff9b::169.254.169.254]",
		"[64:ff9b:1::a00:1]", "[64:ff9b:1:abcd::1]",
		"[2002:a00:1::]", "[2002:7f00:1::1]", "[2002:a9fe:a9fe::]",
		"[2001:0:a00:1::1]",                    // Teredo, server 10.0.0.1
		"[2001:0:5db8:d822::80ff:fffe]",        // Teredo, client 127.0.0.1 (inverted)
		"[::ffff:127.0.0.1]", "[::ffff:a00:1]", // IPv4-mapped
		"[::127.0.0.1]", "[::a00:1]", // IPv4-compatible (deprecated)
		"[::ffff:0:a00:1]", // IPv4-translated (SIIT)
		"[::1]", "[::]", "[fe80::1]", "[fc00::1]",
	}
	for _, host := range refused {
		err := p.CheckURL("url", "https://"+host+"/hook")
		var ve *gateway.ValidationError
		if !errors.As(err, &ve) || ve.Field != "url" {
			t.Errorf("CheckURL(https://%s/hook) = %v, want a ValidationError on url", host, err)
		}
	}
	allowed := []string{
		"93.184.216.34", "hooks.example.com", "hooks.example.com.", "1.example", "0x.example.com", "v1.2.example.com",
		"[2606:2800:220:1:248:1893:25c8:1946]",
		"[64:ff9b::5db8:d822]",          // NAT64 of a public address
		"[2002:5db8:d822::1]",           // 6to4 of a public address
		"[2001:0:5db8:d822::a247:27dd]", // Teredo, server and client public
	}
	for _, host := range allowed {
		if err := p.CheckURL("url", "https://"+host+"/hook"); err != nil {
			t.Errorf("CheckURL(https://%s/hook) = %v, want allowed", host, err)
		}
	}
}

// The same decision at dial time, on the address a name resolved to.
func TestAllowAddrRefusesEmbeddedForbiddenIPv4(t *testing.T) {
	var p gateway.URLPolicy
	for _, s := range []string{
		"64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::c0a8:101", "64:ff9b::a9fe:a9fe", "64:ff9b::",
		"64:ff9b:1::5db8:d822", "2002:a00:1::", "2002:7f00:1::", "2002:6440:1::",
		"2001:0:a00:1::1", "2001:0:5db8:d822::80ff:fffe", "2001:0:5db8:d822::f5ff:fffe",
		"::ffff:10.0.0.1", "::10.0.0.1", "::ffff:0:10.0.0.1",
		"127.0.0.1", "10.0.0.1", "0.0.0.0", "169.254.169.254", "::1", "fe80::1",
	} {
		if p.AllowAddr(netip.MustParseAddr(s)) {
			t.Errorf("AllowAddr(%s) = true, want refused", s)
		}
		if err := p.AllowDial("tcp", netip.AddrPortFrom(netip.MustParseAddr(s), 443).String()); err == nil || !strings.Contains(err.Error(), "non-public") {
			t.Errorf("AllowDial(%s) = %v, want refused", s, err)
		}
	}
	for _, s := range []string{"93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::", "2001:0:5db8:d822::a247:27dd", "2606:2800:220:1:248:1893:25c8:1946"} {
		if !p.AllowAddr(netip.MustParseAddr(s)) {
			t.Errorf("AllowAddr(%s) = false, want allowed", s)
		}
	}
	dev := gateway.URLPolicy{AllowPrivate: true}
	if !dev.AllowAddr(netip.MustParseAddr("64:ff9b::a00:1")) || dev.CheckURL("url", "http://127.1:9/x") != nil {
		t.Error("--dev refuses a private address")
	}
}
