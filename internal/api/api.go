// Package api owns Livehouse's HTTP surface outside media delivery: the JSON
// API under /api/v1, Prometheus metrics, thumbnails and the embedded web UI.
// It routes /hls/ to the origin it is given.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
	"github.com/livehouse/livehouse/web"
)

// Channels is what the API reads about channels.
type Channels interface {
	ListChannels(ctx context.Context) ([]store.Channel, error)
	ChannelBySlug(ctx context.Context, slug string) (store.Channel, error)
	ListSessions(ctx context.Context, channelID string, limit int) ([]store.Session, error)
}

// LiveStatus reports broadcasts on the air.
type LiveStatus interface {
	Status() []live.Status
	StatusOf(slug string) (live.Status, bool)
}

// Config builds the router.
type Config struct {
	Origin       http.Handler
	Channels     Channels
	Live         LiveStatus
	Metrics      prometheus.Gatherer
	ThumbnailDir string
	Logger       *slog.Logger
}

// NewRouter returns the HTTP handler of the whole server.
func NewRouter(cfg Config) http.Handler {
	a := &handlers{cfg: cfg}
	mux := http.NewServeMux()
	mux.Handle("/hls/", cfg.Origin)
	mux.HandleFunc("GET /api/v1/channels", a.listChannels)
	mux.HandleFunc("GET /api/v1/channels/{slug}", a.getChannel)
	mux.HandleFunc("GET /api/v1/channels/{slug}/sessions", a.listSessions)
	mux.HandleFunc("GET /api/v1/live", a.listLive)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such API endpoint; see /api/v1/channels")
	})
	mux.HandleFunc("GET /thumbnails/{file}", a.thumbnail)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n")) //nolint:errcheck
	})
	ui := web.Handler()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "only GET and HEAD are served here")
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

type handlers struct{ cfg Config }

// ChannelView is a channel as the API shows it. It never carries the key.
type ChannelView struct {
	Slug        string       `json:"slug"`
	DisplayName string       `json:"display_name"`
	CreatedAt   time.Time    `json:"created_at"`
	Live        bool         `json:"live"`
	Playback    string       `json:"playback_path"`
	Status      *live.Status `json:"status,omitempty"`
}

func (a *handlers) view(ch store.Channel) ChannelView {
	v := ChannelView{Slug: ch.Slug, DisplayName: ch.DisplayName, CreatedAt: ch.CreatedAt,
		Playback: "/hls/" + ch.Slug + "/index.m3u8"}
	if st, ok := a.cfg.Live.StatusOf(ch.Slug); ok {
		v.Live, v.Status = true, &st
	}
	return v
}

func (a *handlers) listChannels(w http.ResponseWriter, r *http.Request) {
	chs, err := a.cfg.Channels.ListChannels(r.Context())
	if err != nil {
		a.internal(w, err)
		return
	}
	out := make([]ChannelView, 0, len(chs))
	for _, ch := range chs {
		out = append(out, a.view(ch))
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": out})
}

func (a *handlers) getChannel(w http.ResponseWriter, r *http.Request) {
	ch, ok := a.channel(w, r)
	if ok {
		writeJSON(w, http.StatusOK, a.view(ch))
	}
}

func (a *handlers) listSessions(w http.ResponseWriter, r *http.Request) {
	ch, ok := a.channel(w, r)
	if !ok {
		return
	}
	ss, err := a.cfg.Channels.ListSessions(r.Context(), ch.ID, 50)
	if err != nil {
		a.internal(w, err)
		return
	}
	type sessionView struct {
		BroadcastID string          `json:"broadcast_id"`
		StartedAt   time.Time       `json:"started_at"`
		EndedAt     *time.Time      `json:"ended_at,omitempty"`
		EndReason   string          `json:"end_reason,omitempty"`
		Ladder      json.RawMessage `json:"ladder"`
	}
	out := make([]sessionView, 0, len(ss))
	for _, s := range ss {
		v := sessionView{BroadcastID: s.BroadcastID, StartedAt: s.StartedAt, EndReason: s.EndReason, Ladder: json.RawMessage(s.Ladder)}
		if !s.EndedAt.IsZero() {
			t := s.EndedAt
			v.EndedAt = &t
		}
		if !json.Valid(v.Ladder) {
			v.Ladder = json.RawMessage("null")
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (a *handlers) listLive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"live": a.cfg.Live.Status()})
}

func (a *handlers) channel(w http.ResponseWriter, r *http.Request) (store.Channel, bool) {
	slug := r.PathValue("slug")
	if err := store.ValidateSlug(slug); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_slug", err.Error())
		return store.Channel{}, false
	}
	ch, err := a.cfg.Channels.ChannelBySlug(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "channel_not_found", "no channel "+slug+"; create it with `livehouse channel create "+slug+"`")
		return store.Channel{}, false
	}
	if err != nil {
		a.internal(w, err)
		return store.Channel{}, false
	}
	return ch, true
}

func (a *handlers) thumbnail(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	slug := file[:max(0, len(file)-len(".jpg"))]
	if filepath.Ext(file) != ".jpg" || store.ValidateSlug(slug) != nil || a.cfg.ThumbnailDir == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=5")
	w.Header().Set("Content-Type", "image/jpeg")
	http.ServeFile(w, r, filepath.Join(a.cfg.ThumbnailDir, slug+".jpg"))
}

func (a *handlers) internal(w http.ResponseWriter, err error) {
	a.cfg.Logger.Error("request failed", "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "internal error; the server log has details")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck
}

// ErrorBody is the shape of every API error.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}
