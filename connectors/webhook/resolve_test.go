package webhook_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/webhook"
)

// fakeDNS is a resolver that answers every AAAA question with addr and every other
// question with no records, over an in-memory connection: no DNS server is asked.
func fakeDNS(addr netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go answerDNS(server, addr)
		return client, nil
	}}
}

// answerDNS serves DNS over TCP framing (a 2-byte length before each message) on c.
func answerDNS(c net.Conn, addr netip.Addr) {
	defer c.Close()
	for {
		var n uint16
		if binary.Read(c, binary.BigEndian, &n) != nil {
			return
		}
		q := make([]byte, n)
		if _, err := io.ReadFull(c, q); err != nil || len(q) < 12 {
			return
		}
		// The question: a name (labels up to a zero byte), then type and class.
		end := 12
		for end < len(q) && q[end] != 0 {
			end += int(q[end]) + 1
		}
		end += 5
		if end > len(q) {
			return
		}
		qtype := binary.BigEndian.Uint16(q[end-4:])
		resp := append([]byte(nil), q[:end]...)
		binary.BigEndian.PutUint16(resp[2:], 0x8180) // a response, recursion available, no error
		binary.BigEndian.PutUint16(resp[4:], 1)      // one question
		binary.BigEndian.PutUint16(resp[8:], 0)      // no authority records
		binary.BigEndian.PutUint16(resp[10:], 0)     // no additional records
		if qtype == 28 {                             // AAAA
			binary.BigEndian.PutUint16(resp[6:], 1)
			rr := []byte{0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16}
			ip := addr.As16()
			resp = append(append(resp, rr...), ip[:]...)
		} else {
			binary.BigEndian.PutUint16(resp[6:], 0)
		}
		if binary.Write(c, binary.BigEndian, uint16(len(resp))) != nil {
			return
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// A name that resolves to a NAT64 address carrying 10.0.0.1 is refused when dialing, like
// 10.0.0.1 itself: the guard checks the IPv4 address the IPv6 one translates to. The
// address is refused in the dialer's Control hook, before any connection is attempted.
func TestDialRefusesNameResolvingToNAT64OfPrivateAddress(t *testing.T) {
	target := netip.MustParseAddr("64:ff9b::a00:1")
	s := webhook.New(webhook.Options{Resolver: fakeDNS(target)}) // the production policy
	out := s.Send(context.Background(), connectortest.Message("https://hooks.internal.example.com/hook", secret))
	if out.Err == nil || !strings.Contains(out.Err.Error(), "non-public address "+target.String()) || out.StatusCode != 0 {
		t.Fatalf("Send to a name resolving to %s = %+v, want refused as non-public", target, out)
	}
}
