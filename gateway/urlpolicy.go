package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// URLPolicy decides which endpoint URLs and addresses hookgate may send to. The zero value
// is the production policy: https only, and never a private, loopback, link-local,
// unspecified or otherwise non-public address. AllowPrivate (the --dev flag) lifts both rules
// for local work.
//
// CheckURL runs when an endpoint is registered; AllowAddr must also run when dialing (see
// connectors/webhook), so that DNS answers and redirects can't reach a forbidden address.
//
// An address is forbidden however it is spelled: a host that ends in a number is read the
// way resolvers read it (inet_aton: 127.1, 0x7f000001, 2130706433, 0177.0.0.1) and is
// accepted only as a canonical, public dotted quad; an IPv6 address that carries an IPv4
// address (IPv4-mapped, -compatible and -translated, NAT64, 6to4, Teredo) is checked on the
// IPv4 address it carries too.
type URLPolicy struct {
	AllowPrivate bool
}

// CheckURL validates an endpoint URL at registration. It returns a *ValidationError naming
// field when the URL is malformed, not https, or names a forbidden address literally.
func (p URLPolicy) CheckURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return invalid(field, "must be an absolute http(s) URL")
	}
	if p.AllowPrivate {
		return nil
	}
	if u.Scheme != "https" {
		return invalid(field, "must use https (run the server with --dev to allow http for local work)")
	}
	// A trailing dot names the same host from the DNS root: "localhost." is localhost.
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return invalid(field, "must not point at localhost (run the server with --dev to allow it)")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil && endsInNumber(host) {
		// Not a canonical address but read as one: resolvers disagree on these spellings
		// (octal or decimal "0177"), so none is accepted, forbidden or not.
		v4, ok := parseInetAton(host)
		if !ok {
			return invalid(field, "host %q ends in a number but is not an IPv4 address", u.Hostname())
		}
		if !p.AllowAddr(v4) {
			return invalid(field, "must not point at a private, loopback or link-local address (%s is %s)", u.Hostname(), v4)
		}
		return invalid(field, "host %q is an unusual spelling of %s; write the address as %s", u.Hostname(), v4, v4)
	}
	if err == nil && !p.AllowAddr(ip) {
		for _, v4 := range embeddedIPv4(ip.Unmap()) {
			if !publicAddr(v4) && publicAddr(ip.Unmap()) {
				return invalid(field, "must not point at a private, loopback or link-local address (%s carries %s)", ip, v4)
			}
		}
		return invalid(field, "must not point at a private, loopback or link-local address (%s)", ip)
	}
	return nil
}

// AllowAddr reports whether a connection to ip is allowed: for an IPv6 address that carries
// an IPv4 address, both must be allowed.
func (p URLPolicy) AllowAddr(ip netip.Addr) bool {
	if p.AllowPrivate {
		return true
	}
	ip = ip.Unmap()
	if !publicAddr(ip) {
		return false
	}
	for _, v4 := range embeddedIPv4(ip) {
		if !publicAddr(v4) {
			return false
		}
	}
	return true
}

// publicAddr reports whether ip itself is outside every non-public range.
func publicAddr(ip netip.Addr) bool {
	switch {
	case !ip.IsValid(),
		ip.IsUnspecified(),
		ip.IsLoopback(),
		ip.IsPrivate(),
		ip.IsLinkLocalUnicast(),
		ip.IsLinkLocalMulticast(),
		ip.IsInterfaceLocalMulticast(),
		ip.IsMulticast():
		return false
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// IPv6 prefixes whose addresses carry an IPv4 address.
var (
	v4Compatible = netip.MustParsePrefix("::/96")           // IPv4-compatible (RFC 4291, deprecated)
	v4Translated = netip.MustParsePrefix("::ffff:0:0:0/96") // IPv4-translated (SIIT, RFC 2765)
	nat64        = netip.MustParsePrefix("64:ff9b::/96")    // NAT64 well-known prefix (RFC 6052)
	sixToFour    = netip.MustParsePrefix("2002::/16")       // 6to4 (RFC 3056): bits 16-48
	teredo       = netip.MustParsePrefix("2001::/32")       // Teredo (RFC 4380): server, client
)

// embeddedIPv4 returns the IPv4 addresses an IPv6 address carries, by the translation
// scheme its prefix names. (64:ff9b:1::/48, local-use NAT64, is forbidden whole.)
func embeddedIPv4(ip netip.Addr) []netip.Addr {
	if !ip.Is6() {
		return nil
	}
	b := ip.As16()
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte(b[i : i+4])) }
	switch {
	case v4Compatible.Contains(ip), v4Translated.Contains(ip), nat64.Contains(ip):
		return []netip.Addr{v4(12)}
	case sixToFour.Contains(ip):
		return []netip.Addr{v4(2)}
	case teredo.Contains(ip):
		// The server's address as is; the client's, the last 32 bits, inverted.
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return []netip.Addr{v4(4), netip.AddrFrom4(client)}
	}
	return nil
}

// endsInNumber reports whether a host's last label is a number, decimal or 0x hex (the
// WHATWG URL rule): such a host is an IPv4 address to URL parsers and resolvers, or
// invalid, never a DNS name.
func endsInNumber(host string) bool {
	labels := strings.Split(host, ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if h, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// parseInetAton reads host as inet_aton(3) does: one to four parts, each decimal, octal
// (leading 0) or hex (0x); the last part fills the remaining bytes ("127.1" is 127.0.0.1,
// "2130706433" too).
func parseInetAton(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var out uint64
	for i, part := range parts {
		n, ok := parseInetPart(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			out |= n << (8 * (3 - i))
			continue
		}
		// The last part fills the bytes the others left: 32, 24, 16 or 8 bits.
		if n >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		out |= n
	}
	return netip.AddrFrom4([4]byte{byte(out >> 24), byte(out >> 16), byte(out >> 8), byte(out)}), true
}

// parseInetPart reads one part of an inet_aton address: 0x hex, 0-prefixed octal, or
// decimal, at most 32 bits.
func parseInetPart(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
		if s == "" {
			return 0, true // "0x" alone is 0 to WHATWG parsers
		}
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 32)
	return n, err == nil
}

// forbiddenPrefixes are non-public ranges that netip's predicates don't cover.
var forbiddenPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",          // "this network"
		"100.64.0.0/10",      // carrier-grade NAT
		"192.0.0.0/24",       // IETF protocol assignments
		"192.0.2.0/24",       // TEST-NET-1
		"198.18.0.0/15",      // benchmarking
		"198.51.100.0/24",    // TEST-NET-2
		"203.0.113.0/24",     // TEST-NET-3
		"240.0.0.0/4",        // reserved
		"255.255.255.255/32", // broadcast
		"64:ff9b:1::/48",     // local-use NAT64
		"2001:db8::/32",      // documentation
		"fc00::/7",           // unique local (also IsPrivate)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// AllowDial is a net.Dialer Control-compatible check: it refuses a connection to a
// forbidden address after DNS resolution, so rebinding and redirects can't get around it.
func (p URLPolicy) AllowDial(network, address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: not an IP address", address)
	}
	if !p.AllowAddr(ip) {
		return fmt.Errorf("refusing to connect to non-public address %s", ip)
	}
	return nil
}
