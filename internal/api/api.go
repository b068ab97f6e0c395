// Package api owns Livehouse's HTTP surface outside media delivery: the JSON
// API under /api/v1 (accounts, channels, directory, follows, notifications,
// webhooks, admin, the chat WebSocket and its moderation, emotes, the
// stream-clock replay) with its OpenAPI document, avatars, emotes,
// thumbnails, Prometheus metrics, /healthz and the embedded web UI. It
// routes /hls/ to the origin it is given.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/transcode"
	"github.com/livehouse/livehouse/web"
)

// LiveStatus reports and controls broadcasts on the air.
type LiveStatus interface {
	Status() []live.Status
	StatusOf(slug string) (live.Status, bool)
	Kick(channelID, reason string) bool
	SetLadder(l transcode.Ladder) error
	Ladder() transcode.Ladder
}

// ViewerCounter counts viewers from heartbeats. Beat gives
// channel.ErrNotLive for a channel off the air here, and
// channel.ErrNetworkFull when the heartbeat was not counted. Watching
// tells whether a viewer id is counted on the channel now.
type ViewerCounter interface {
	Beat(slug, viewerID, network string) error
	Count(slug string) (int, bool)
	Watching(slug, viewerID string) bool
}

// Config builds the router.
type Config struct {
	Origin   http.Handler
	Store    Store
	Accounts *account.Service
	Live     LiveStatus
	Viewers  ViewerCounter
	// Rooms serves chat; nil answers 503 on the chat endpoints.
	Rooms Rooms
	// ChatJoinLimit bounds chat connections per client network; zero
	// means 30 at once, then 2 per second.
	ChatJoinLimit account.Rate
	Avatars       channel.Avatars
	// Emotes stores chat emote images, checked like avatars.
	Emotes  channel.Avatars
	Metrics prometheus.Gatherer
	// ThumbnailDir holds <slug>.jpg for live channels.
	ThumbnailDir string
	// RTMPURL returns the publish URL shown with stream keys, e.g. rtmp://host/live.
	RTMPURL func() string
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests (as behind a TLS-terminating proxy). Requests over TLS always
	// get Secure cookies.
	SecureCookies bool
	// TrustedProxies are the proxies (CDN edges, load balancers) whose
	// X-Forwarded-For hops are believed. When the connection comes from
	// one of them, the client address for rate limits and viewer counts is
	// the rightmost X-Forwarded-For hop that is not in TrustedProxies (the
	// leftmost hop if all are). A connection from any other address is the
	// client itself, whatever headers it sends.
	TrustedProxies []netip.Prefix
	// TrustProxy, when TrustedProxies is empty, believes one hop: a
	// connection from a loopback or private address (a local proxy) is
	// answered for the last X-Forwarded-For hop. Set it only behind a proxy
	// that sets that header; behind a CDN and a proxy, list both in
	// TrustedProxies instead.
	TrustProxy bool
	// HeartbeatLimit bounds heartbeats per client address; zero means 120 at
	// once, then 10 per second (many viewers can share an address).
	HeartbeatLimit account.Rate
	// Money runs coins, gifts, tips, subscriptions, ads and payouts;
	// MoneyStore is what its endpoints read. Nil answers 503.
	Money      *money.Service
	MoneyStore MoneyStore
	// StripeWebhook verifies Stripe's webhooks; nil when Stripe is off.
	StripeWebhook WebhookParser
	// Clock tells the broadcast on the air (leaderboards per broadcast).
	Clock money.StreamClock
	// MoneyLimit bounds money requests per account; zero means 40 at
	// once, then 20 per second.
	MoneyLimit account.Rate
	// MaxChannelsPerUser caps the channels one user can create; default 5.
	MaxChannelsPerUser int
	Logger             *slog.Logger
}

// NewRouter returns the HTTP handler of the whole server.
func NewRouter(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HeartbeatLimit == (account.Rate{}) {
		cfg.HeartbeatLimit = account.Rate{Burst: 120, Every: 100 * time.Millisecond}
	}
	if cfg.ChatJoinLimit == (account.Rate{}) {
		cfg.ChatJoinLimit = account.Rate{Burst: 30, Every: 500 * time.Millisecond}
	}
	if cfg.MaxChannelsPerUser <= 0 {
		cfg.MaxChannelsPerUser = 5
	}
	if cfg.MoneyLimit == (account.Rate{}) {
		cfg.MoneyLimit = account.Rate{Burst: 40, Every: 50 * time.Millisecond}
	}
	a := &API{cfg: cfg, log: cfg.Logger, heartbeats: account.NewLimiter(cfg.HeartbeatLimit),
		chatJoins: account.NewLimiter(cfg.ChatJoinLimit), money: account.NewLimiter(cfg.MoneyLimit),
		impressions: account.NewLimiter(account.Rate{Burst: 200, Every: 20 * time.Millisecond})}
	mux := http.NewServeMux()
	mux.Handle("/hls/", cfg.Origin)
	mux.Handle("/api/", a.apiHandler())
	mux.HandleFunc("GET /thumbnails/{file}", a.thumbnail)
	mux.HandleFunc("GET /avatars/{file}", a.avatar)
	mux.HandleFunc("GET /emotes/{file}", a.emote)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n")) //nolint:errcheck
	})
	ui := web.Handler()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "only GET and HEAD are served here"})
			return
		}
		ui.ServeHTTP(w, r)
	})
	return securityHeaders(mux)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

// API serves /api/v1.
type API struct {
	cfg         Config
	log         *slog.Logger
	heartbeats  *account.Limiter
	chatJoins   *account.Limiter
	money       *account.Limiter
	impressions *account.Limiter
	spendChans  spendCache
}

// apiHandler routes /api/ through the route table; unknown paths and
// methods get JSON errors.
func (a *API) apiHandler() http.Handler {
	inner := http.NewServeMux()
	for _, rt := range a.routes() {
		inner.Handle(rt.Method+" "+apiPrefix+rt.Path, a.wrap(rt))
	}
	csrf := http.NewCrossOriginProtection()
	csrf.AddInsecureBypassPattern("POST " + apiPrefix + "/channels/{slug}/heartbeat")
	// Stripe's servers post webhooks; the signature authenticates them.
	csrf.AddInsecureBypassPattern("POST " + apiPrefix + "/payments/stripe/webhook")
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Status: http.StatusForbidden, Code: "csrf",
			Message: "cross-origin request refused: the API accepts state-changing requests only from its own pages"})
	}))
	return csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiHeaders(w)
		if _, pattern := inner.Handler(r); pattern != "" {
			inner.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		inner.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Message: r.Method + " is not allowed here; allowed: " + probe.header.Get("Allow")})
			return
		}
		writeError(w, &Error{Status: http.StatusNotFound, Code: "not_found",
			Message: "no such API endpoint; see " + apiPrefix + "/openapi.json"})
	}))
}

// apiHeaders forbid rendering API answers as documents: JSON is data,
// never a page, whatever text it carries.
func apiHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// headerProbe captures what the mux would answer for an unmatched request.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(status int)      { p.status = status }

// background returns a context for work that must finish even if the
// client goes away.
func background(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

func (a *API) rtmpURL() string {
	if a.cfg.RTMPURL == nil {
		return ""
	}
	return a.cfg.RTMPURL()
}
