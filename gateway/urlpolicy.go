package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// URLPolicy decides which endpoint URLs and addresses hookgate may send to. The zero value
// is the production policy: https only, and never a private, loopback, link-local,
// unspecified or otherwise non-public address. AllowPrivate (the --dev flag) lifts both rules
// for local work.
//
// CheckURL runs when an endpoint is registered; AllowAddr must also run when dialing (see
// connectors/webhook), so that DNS answers and redirects can't reach a forbidden address.
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
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return invalid(field, "must not point at localhost (run the server with --dev to allow it)")
	}
	if ip, err := netip.ParseAddr(host); err == nil && !p.AllowAddr(ip) {
		return invalid(field, "must not point at a private, loopback or link-local address (%s)", ip)
	}
	return nil
}

// AllowAddr reports whether a connection to ip is allowed.
func (p URLPolicy) AllowAddr(ip netip.Addr) bool {
	if p.AllowPrivate {
		return true
	}
	ip = ip.Unmap()
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
