package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientKey identifies the caller's network for rate limits: the IP
// address, or its /64 for IPv6 (one subscriber's usual allocation).
func (a *API) clientKey(r *http.Request) string {
	addr := a.clientAddr(r)
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// clientAddr is the caller's address: the connection's peer, or, when the
// peer is a trusted proxy, the nearest X-Forwarded-For hop that is not one
// (see Config.TrustedProxies and Config.TrustProxy).
func (a *API) clientAddr(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	peerIP, err := netip.ParseAddr(peer)
	if err != nil {
		return peer
	}
	peerIP = peerIP.Unmap()
	trusted, oneHop := a.cfg.TrustedProxies, false
	if len(trusted) == 0 && a.cfg.TrustProxy {
		trusted, oneHop = localNetworks, true
	}
	if !inPrefixes(peerIP, trusted) {
		return peerIP.String()
	}
	hops := forwardedHops(r.Header)
	client := peerIP.String()
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(hops[i])
		if err != nil {
			return hops[i] // not an address; whatever it is, it is not a proxy of ours
		}
		client = ip.Unmap().String()
		if oneHop || !inPrefixes(ip.Unmap(), trusted) {
			break
		}
	}
	return client
}

// forwardedHops are the X-Forwarded-For addresses, leftmost first, over
// every copy of the header, with ports stripped.
func forwardedHops(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for hop := range strings.SplitSeq(v, ",") {
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue
			}
			if host, _, err := net.SplitHostPort(hop); err == nil {
				hop = host
			}
			hops = append(hops, strings.Trim(hop, "[]"))
		}
	}
	return hops
}

func inPrefixes(ip netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// localNetworks are the peers TrustProxy believes: loopback, private and
// link-local addresses, where a proxy on the same host or network sits.
var localNetworks = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}
