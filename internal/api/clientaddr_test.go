package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientKeyWalksForwardedForPastTrustedProxiesOnly(t *testing.T) {
	cdnAndProxy := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		name string
		cfg  Config
		peer string
		xff  []string
		want string
	}{
		{"no trust: the peer", Config{}, "198.51.100.7:5000", []string{"1.1.1.1"}, "198.51.100.7"},
		{"CDN then proxy: the client before the edge", Config{TrustedProxies: cdnAndProxy},
			"10.0.0.2:5000", []string{"192.0.2.44, 203.0.113.9"}, "192.0.2.44"},
		{"two clients of one edge differ", Config{TrustedProxies: cdnAndProxy},
			"10.0.0.2:5000", []string{"192.0.2.45, 203.0.113.9"}, "192.0.2.45"},
		{"a spoofed hop left of the real client is ignored", Config{TrustedProxies: cdnAndProxy},
			"10.0.0.2:5000", []string{"6.6.6.6, 192.0.2.44, 203.0.113.9"}, "192.0.2.44"},
		{"headers from an untrusted peer are ignored", Config{TrustedProxies: cdnAndProxy},
			"198.51.100.7:5000", []string{"192.0.2.44"}, "198.51.100.7"},
		{"several header lines are one list", Config{TrustedProxies: cdnAndProxy},
			"10.0.0.2:5000", []string{"192.0.2.44", "203.0.113.9"}, "192.0.2.44"},
		{"all hops trusted: the leftmost", Config{TrustedProxies: cdnAndProxy},
			"10.0.0.2:5000", []string{"10.1.1.1, 203.0.113.9"}, "10.1.1.1"},
		{"no header: the proxy itself", Config{TrustedProxies: cdnAndProxy}, "10.0.0.2:5000", nil, "10.0.0.2"},
		{"IPv6 client: its /64", Config{TrustedProxies: cdnAndProxy},
			"10.0.0.2:5000", []string{"2001:db8:1:2:3:4:5:6, 203.0.113.9"}, "2001:db8:1:2::/64"},
		{"TrustProxy: one hop from a local peer", Config{TrustProxy: true},
			"127.0.0.1:5000", []string{"6.6.6.6, 192.0.2.44"}, "192.0.2.44"},
		{"TrustProxy: a public peer is the client", Config{TrustProxy: true},
			"198.51.100.7:5000", []string{"192.0.2.44"}, "198.51.100.7"},
		{"TrustedProxies win over TrustProxy", Config{TrustProxy: true, TrustedProxies: cdnAndProxy},
			"127.0.0.1:5000", []string{"192.0.2.44"}, "127.0.0.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := (&API{cfg: c.cfg}).clientKey(r); got != c.want {
			t.Errorf("%s: clientKey = %q, want %q", c.name, got, c.want)
		}
	}
}
