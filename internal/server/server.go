// Package server wires Livehouse's components into one running process: the
// store, the live manager, the RTMP ingest and the HTTP origin, API and
// metrics. cmd/livehouse and the end-to-end tests both start it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/livehouse/livehouse/internal/api"
	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/ingest/rtmp"
	"github.com/livehouse/livehouse/internal/live"
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
	Logger          *slog.Logger
}

// Server is a running Livehouse.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	origin  *hls.Origin
	live    *live.Manager
	rtmp    *rtmp.Server
	http    *http.Server
	httpLn  net.Listener
	httpErr chan error
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
	s := &Server{cfg: cfg, log: cfg.Logger, store: st, httpErr: make(chan error, 1)}
	s.origin = hls.NewOrigin(cfg.Logger.With("component", "hls"))
	s.live, err = live.NewManager(live.Config{
		Store:        st,
		Origin:       s.origin,
		HLS:          cfg.HLS,
		Ladder:       cfg.Ladder,
		FFmpegPath:   cfg.FFmpegPath,
		ThumbnailDir: thumbs,
		Grace:        cfg.Grace,
		Logger:       cfg.Logger.With("component", "live"),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.rtmp = &rtmp.Server{
		Addr:        cfg.RTMPAddr,
		Handler:     rtmpHandler{s.live},
		Logger:      cfg.Logger,
		ReadTimeout: cfg.RTMPReadTimeout,
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		live.NewCollector(s.live))
	s.http = &http.Server{
		Handler: api.NewRouter(api.Config{
			Origin:       s.origin,
			Channels:     st,
			Live:         s.live,
			Metrics:      reg,
			ThumbnailDir: thumbs,
			Logger:       cfg.Logger.With("component", "http"),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if s.httpLn != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, s.http.Close())
		}
	}
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
