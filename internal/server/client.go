package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
)

// ctxKeys of the request's client address and the log's record of it.
const (
	clientKey ctxKey = iota + 100
	logInfoKey
)

// clientAddr finds the client's address once per request. Headers are
// believed only as configured: with TrustProxy the peer is a reverse
// proxy (when ProxyNets is set, only a peer inside them), and the client
// is read from the one header the proxy sets (ProxyHeader): the last
// address in X-Forwarded-For that is not itself a trusted proxy (addresses
// to its left were written by the client and prove nothing), or X-Real-IP.
// The other header is never read: a proxy that sets one passes the other
// through as the client wrote it. chi's RealIP took the leftmost address
// of either, which any client can write.
func (s *Server) clientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := peerIP(r)
		if s.cfg.TrustProxy && s.trustedProxy(ip) {
			ip = s.forwardedFor(r, ip)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey, ip)))
	})
}

func peerIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// trustedProxy reports whether ip may set the forwarding headers.
func (s *Server) trustedProxy(ip string) bool {
	if len(s.cfg.ProxyNets) == 0 {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.cfg.ProxyNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Server) forwardedFor(r *http.Request, peer string) string {
	if strings.EqualFold(s.cfg.ProxyHeader, "X-Real-IP") {
		if a, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
			return a.Unmap().String()
		}
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(part))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return peer // a malformed chain: keep what we know
		}
		if i > 0 && len(s.cfg.ProxyNets) > 0 && s.trustedProxy(a.String()) {
			continue
		}
		return a.Unmap().String()
	}
	return peer
}

// clientIP is the request's client address as clientAddr found it.
func clientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientKey).(string); ok {
		return ip
	}
	return peerIP(r)
}

// logInfo is filled in while a request is served, for its log line: the
// session is read further in than the logging middleware.
type logInfo struct{ user string }

func noteUser(r *http.Request, name string) {
	if li, ok := r.Context().Value(logInfoKey).(*logInfo); ok {
		li.user = name
	}
}

// idLike is an ID number (15 to 18 characters, digits and a final X) in
// a path or query; logs show it masked.
var idLike = regexp.MustCompile(`[0-9]{6}[0-9]{8}[0-9]{1,3}[0-9Xx]?`)

// redactIDs masks ID numbers in s.
func redactIDs(s string) string {
	if len(s) < 15 {
		return s
	}
	return idLike.ReplaceAllStringFunc(s, maskID)
}
