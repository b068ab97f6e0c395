// Package server wires Livehouse's components into one running process: the
// store, accounts, the live manager, the RTMP ingest, the HTTP origin, API
// and metrics, and the background workers (viewer counts, go-live
// notifications, webhook deliveries). cmd/livehouse and the end-to-end
// tests both start it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/api"
	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/ingest/rtmp"
	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
	"github.com/livehouse/livehouse/internal/transcode"
)

// Config is everything a Server needs. Zero fields take the embedded defaults.
type Config struct {
	HTTPAddr string // default 127.0.0.1:8080
	RTMPAddr string // default 127.0.0.1:1935
	// DataDir holds the SQLite database and thumbnails. Default ./data.
	DataDir string
	// DatabaseURL selects PostgreSQL (postgres://…); empty means SQLite in DataDir.
	DatabaseURL string
	Ladder      transcode.Ladder
	HLS         hls.Config
	FFmpegPath  string
	Grace       time.Duration
	// RTMPReadTimeout closes an encoder that sends nothing for this long.
	RTMPReadTimeout time.Duration
	// PublicRTMPURL is the publish URL shown with stream keys; default
	// rtmp://<bound RTMP address>/live.
	PublicRTMPURL string
	// SecureCookies marks session cookies Secure behind a TLS proxy.
	SecureCookies bool
	// TrustProxy reads client addresses from X-Forwarded-For (rate limits).
	TrustProxy bool
	// TrustedProxies are the CDN edges and proxies whose X-Forwarded-For
	// hops are believed (api.Config.TrustedProxies).
	TrustedProxies []netip.Prefix
	// ChatMaxSockets bounds the chat sockets one client network holds open
	// on this node; zero means no bound.
	ChatMaxSockets int
	// Passwords are the argon2id costs; zero means account.DefaultParams.
	Passwords account.Params
	// AuthLimits guard sign-in and sign-up; zero means the defaults.
	AuthLimits account.RateLimits
	// HeartbeatLimit bounds viewer heartbeats per client network.
	HeartbeatLimit account.Rate
	// ViewerSampleEvery is how often viewer counts are stored; default 5 s.
	ViewerSampleEvery time.Duration
	// WebhookAllowPrivate lets webhooks call loopback and private addresses.
	WebhookAllowPrivate bool
	// WebhookBackoff overrides the waits between webhook retries.
	WebhookBackoff []time.Duration
	// WebhookPoll is how often due webhook deliveries are looked for.
	WebhookPoll time.Duration
	// NATSURL selects NATS (nats://host:4222) as the bus between nodes;
	// empty means the in-process bus of a single node.
	NATSURL string
	// ChatLinger batches chat events into frames; zero means the default.
	ChatLinger time.Duration
	// ChatMaxLinger is the batching window of a 10,000-client room.
	ChatMaxLinger time.Duration
	// ChatPerUser and ChatPerIP bound chat actions; zero means 5 at once,
	// then 1 a second, per account; 60 at once, then 20 a second, per network.
	ChatPerUser, ChatPerIP account.Rate
	// ChatJoinLimit bounds chat connections per network; zero means the API's default.
	ChatJoinLimit account.Rate
	// NoSandbox turns off the sandbox payment provider (test cards).
	NoSandbox bool
	// Stripe enables the Stripe provider when its SecretKey is set.
	Stripe payment.Stripe
	// RenewEvery is how often subscription renewals run; default 30 s.
	RenewEvery time.Duration
	// MoneyLimit bounds money requests per account; zero means the API's default.
	MoneyLimit account.Rate
	Logger     *slog.Logger
}

// Server is a running Livehouse.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    *store.Store
	accounts *account.Service
	origin   *hls.Origin
	live     *live.Manager
	viewers  *channel.Viewers
	events   *channel.Events
	webhooks *channel.Webhooks
	bus      interface{ Close() error }
	rooms    *realtime.Hub
	money    *money.Service
	stripe   *payment.Stripe
	rtmp     *rtmp.Server
	http     *http.Server
	httpLn   net.Listener
	httpErr  chan error
	stopBG   context.CancelFunc
	bg       sync.WaitGroup
}

// New opens the store and builds every component, without listening yet.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:8080"
	}
	if cfg.RTMPAddr == "" {
		cfg.RTMPAddr = "127.0.0.1:1935"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.Ladder.Renditions) == 0 {
		cfg.Ladder = transcode.DefaultLadder()
	}
	thumbs := filepath.Join(cfg.DataDir, "thumbnails")
	if err := os.MkdirAll(thumbs, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dsn = filepath.Join(cfg.DataDir, "livehouse.db")
	}
	st, err := store.Open(ctx, dsn, cfg.Logger.With("component", "store"))
	if err != nil {
		return nil, err
	}
	if n, err := st.EndOpenSessions(ctx, time.Now(), "server restarted"); err != nil {
		st.Close()
		return nil, err
	} else if n > 0 {
		cfg.Logger.Warn("closed live sessions left open by an earlier run", "sessions", n)
	}
	cfg.Ladder = savedLadder(ctx, st, cfg.Ladder, cfg.Logger)
	s := &Server{cfg: cfg, log: cfg.Logger, store: st, httpErr: make(chan error, 1)}
	s.accounts, err = account.New(account.Config{Store: st, Params: cfg.Passwords, Limits: cfg.AuthLimits,
		Logger: cfg.Logger.With("component", "account")})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.viewers = channel.NewViewers(channel.ViewersConfig{Store: st, SampleEvery: cfg.ViewerSampleEvery,
		Logger: cfg.Logger.With("component", "viewers")})
	s.webhooks = channel.NewWebhooks(channel.WebhooksConfig{Store: st, AllowPrivate: cfg.WebhookAllowPrivate,
		Backoff: cfg.WebhookBackoff, Poll: cfg.WebhookPoll, Logger: cfg.Logger.With("component", "webhooks")})
	s.events = channel.NewEvents(channel.EventsConfig{Store: st, Viewers: s.viewers, Webhooks: s.webhooks,
		Logger: cfg.Logger.With("component", "events")})
	s.origin = hls.NewOrigin(cfg.Logger.With("component", "hls"))
	s.live, err = live.NewManager(live.Config{
		Store:        st,
		Origin:       s.origin,
		HLS:          cfg.HLS,
		Ladder:       cfg.Ladder,
		FFmpegPath:   cfg.FFmpegPath,
		ThumbnailDir: thumbs,
		Grace:        cfg.Grace,
		Events:       s.events,
		Logger:       cfg.Logger.With("component", "live"),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	clock := &streamClock{st: s.store, ttl: 2 * time.Second, m: map[string]clockEntry{}}
	if err := s.openRooms(ctx, clock); err != nil {
		s.live.Close()
		st.Close()
		return nil, err
	}
	if err := s.openMoney(ctx, clock); err != nil {
		s.rooms.Close()
		s.bus.Close()
		s.live.Close()
		st.Close()
		return nil, err
	}
	var stripeHook api.WebhookParser
	if s.stripe != nil {
		stripeHook = s.stripe
	}
	s.rtmp = &rtmp.Server{
		Addr:        cfg.RTMPAddr,
		Handler:     rtmpHandler{s.live},
		Logger:      cfg.Logger,
		ReadTimeout: cfg.RTMPReadTimeout,
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		live.NewCollector(s.live, st))
	s.http = &http.Server{
		Handler: api.NewRouter(api.Config{
			Origin:         s.origin,
			Store:          st,
			Accounts:       s.accounts,
			Live:           s.live,
			Viewers:        s.viewers,
			Rooms:          s.rooms,
			ChatJoinLimit:  cfg.ChatJoinLimit,
			Avatars:        channel.Avatars{Dir: filepath.Join(cfg.DataDir, "avatars")},
			Emotes:         channel.Avatars{Dir: filepath.Join(cfg.DataDir, "emotes")},
			Metrics:        reg,
			ThumbnailDir:   thumbs,
			RTMPURL:        s.publicRTMPURL,
			SecureCookies:  cfg.SecureCookies,
			TrustProxy:     cfg.TrustProxy,
			TrustedProxies: cfg.TrustedProxies,
			HeartbeatLimit: cfg.HeartbeatLimit,
			Money:          s.money,
			MoneyStore:     st,
			StripeWebhook:  stripeHook,
			Clock:          clock,
			MoneyLimit:     cfg.MoneyLimit,
			Logger:         cfg.Logger.With("component", "http"),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnContext:       hls.ConnContext, // lets the origin send media with sendfile
	}
	return s, nil
}

// Start listens on the HTTP and RTMP addresses.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http %s: %w (is another server running? change it with --http-addr)", s.cfg.HTTPAddr, err)
	}
	s.httpLn = ln
	if err := s.rtmp.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("listen rtmp %s: %w (change it with --rtmp-addr)", s.cfg.RTMPAddr, err)
	}
	s.startBackground()
	s.money.Start(context.Background())
	go func() { s.httpErr <- s.http.Serve(ln) }()
	s.log.Info("livehouse is serving", "http", "http://"+ln.Addr().String(), "rtmp", "rtmp://"+s.rtmp.ListenAddr().String()+"/live",
		"data", s.cfg.DataDir)
	return nil
}

// HTTPAddr returns the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// RTMPAddr returns the bound RTMP address.
func (s *Server) RTMPAddr() string { return s.rtmp.ListenAddr().String() }

// Store returns the server's store.
func (s *Server) Store() *store.Store { return s.store }

// Live returns the live manager.
func (s *Server) Live() *live.Manager { return s.live }

// Accounts returns the account service.
func (s *Server) Accounts() *account.Service { return s.accounts }

// Events returns the broadcast event processor.
func (s *Server) Events() *channel.Events { return s.events }

// Viewers returns the viewer counter.
func (s *Server) Viewers() *channel.Viewers { return s.viewers }

func (s *Server) publicRTMPURL() string {
	if s.cfg.PublicRTMPURL != "" {
		return s.cfg.PublicRTMPURL
	}
	if addr := s.rtmp.ListenAddr(); addr != nil {
		return "rtmp://" + addr.String() + "/live"
	}
	return "rtmp://" + s.cfg.RTMPAddr + "/live"
}

// startBackground runs the workers: go-live events, viewer sampling,
// webhook deliveries and housekeeping.
func (s *Server) startBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBG = cancel
	for _, run := range []func(context.Context){s.events.Run, s.viewers.Run, s.webhooks.Run, s.housekeeping} {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			run(ctx)
		}()
	}
}

// housekeeping deletes expired sign-in sessions and refreshes the query
// planner's statistics, at start and then hourly.
func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.store.DeleteExpiredAuthSessions(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot delete expired sign-in sessions", "err", err)
		} else if n > 0 {
			s.log.Info("expired sign-in sessions deleted", "count", n)
		}
		if err := s.store.Optimize(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot refresh query statistics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// savedLadder returns the ladder an admin saved, if any and valid, else def.
func savedLadder(ctx context.Context, st *store.Store, def transcode.Ladder, log *slog.Logger) transcode.Ladder {
	raw, err := st.Setting(ctx, api.SettingLadder)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Warn("cannot read the saved ladder; using the configured one", "err", err)
		}
		return def
	}
	l, err := transcode.ParseLadder([]byte(raw))
	if err != nil {
		log.Warn("the ladder saved by an admin is invalid; using the configured one", "err", err)
		return def
	}
	log.Info("using the transcoding ladder saved by an admin (admin settings override --ladder and --rendition)")
	return l
}

// Wait blocks until the HTTP server fails or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.httpErr:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// Close stops ingest, ends every broadcast (EXT-X-ENDLIST, sessions
// recorded), stops HTTP and closes the store.
func (s *Server) Close() error {
	var errs []error
	if s.rtmp != nil {
		errs = append(errs, s.rtmp.Close())
	}
	s.live.Close()
	if s.stopBG != nil {
		s.stopBG() // the events worker records what the broadcasts' ends queued, then stops
		s.bg.Wait()
	}
	if s.money != nil {
		errs = append(errs, s.money.Close())
	}
	if s.rooms != nil {
		errs = append(errs, s.rooms.Close(), s.bus.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if s.httpLn != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, s.http.Close())
		}
	}
	s.origin.Close()
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}

// rtmpHandler adapts the live manager to the RTMP server.
type rtmpHandler struct{ m *live.Manager }

func (h rtmpHandler) OnPublish(key string, remote net.Addr) (rtmp.Publication, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := h.m.Publish(ctx, key, remote)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DataDir returns the data directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }
