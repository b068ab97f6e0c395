package channel

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

// ViewerStore records viewer figures.
type ViewerStore interface {
	RecordViewers(ctx context.Context, samples []store.ViewerSample) error
}

// ViewersConfig builds Viewers.
type ViewersConfig struct {
	Store ViewerStore
	// Window is how long a heartbeat counts a viewer; default 30 s.
	Window time.Duration
	// SampleEvery is how often counts are written to the store; default 5 s.
	SampleEvery time.Duration
	// MaxPerChannel caps the viewer ids tracked per broadcast; default 1,000,000.
	MaxPerChannel int
	// MaxPerNetwork caps the viewer ids counted per client network (an
	// IPv4 address, an IPv6 /64) per broadcast: a household's screens,
	// not a script's made-up ids. Default 5.
	MaxPerNetwork int
	Logger        *slog.Logger
}

// Viewers counts the viewers of live broadcasts from player heartbeats: a
// viewer is a distinct random id seen within the window. It keeps the peak
// and the time-weighted average per broadcast and writes them to the store
// every SampleEvery and when the broadcast ends. Counting by heartbeat,
// not by playlist request, stays right behind a CDN.
type Viewers struct {
	cfg ViewersConfig
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	bySlug map[string]*audience
}

type audience struct {
	info       live.BroadcastInfo
	seen       map[string]seenViewer // by viewer id
	perNetwork map[string]int        // ids in seen by network
	current    int                   // len(seen): ids within the window at the last prune, and those seen since
	peak       int
	viewerMs   int64
	lastSample time.Time
}

// NewViewers returns Viewers; call Run to write samples.
func NewViewers(cfg ViewersConfig) *Viewers {
	if cfg.Window <= 0 {
		cfg.Window = 30 * time.Second
	}
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = 5 * time.Second
	}
	if cfg.MaxPerChannel <= 0 {
		cfg.MaxPerChannel = 1_000_000
	}
	if cfg.MaxPerNetwork <= 0 {
		cfg.MaxPerNetwork = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Viewers{cfg: cfg, log: cfg.Logger, now: time.Now, bySlug: map[string]*audience{}}
}

// Start begins counting a broadcast.
func (v *Viewers) Start(info live.BroadcastInfo) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.bySlug[info.Slug] = &audience{info: info, seen: map[string]seenViewer{}, perNetwork: map[string]int{}, lastSample: v.now()}
}

// End stops counting a broadcast and returns its final figures.
func (v *Viewers) End(info live.BroadcastInfo) (store.ViewerSample, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a := v.bySlug[info.Slug]
	if a == nil || a.info.BroadcastID != info.BroadcastID {
		return store.ViewerSample{}, false
	}
	delete(v.bySlug, info.Slug)
	s := a.sample(v.now(), v.cfg.Window)
	s.Viewers = 0
	return s, a.info.SessionID != ""
}

// Beat errors.
var (
	// ErrNotLive: the channel is not on the air on this node.
	ErrNotLive = errors.New("the channel is not live here")
	// ErrNetworkFull: the caller's network already has MaxPerNetwork
	// viewers of this broadcast; the heartbeat is not counted.
	ErrNetworkFull = errors.New("too many viewers from one network")
)

type seenViewer struct {
	at      time.Time // last heartbeat
	network string
}

// Beat records a heartbeat of viewerID, from the client network network,
// on the channel. Heartbeats for channels off the air give ErrNotLive; a
// new id from a network that has MaxPerNetwork viewers, or once
// MaxPerChannel are tracked, is not counted (ErrNetworkFull, nil).
func (v *Viewers) Beat(slug, viewerID, network string) error {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	a := v.bySlug[slug]
	if a == nil {
		return ErrNotLive
	}
	if seen, ok := a.seen[viewerID]; ok {
		seen.at = now
		a.seen[viewerID] = seen
		return nil // still counted, even if back after the window and not yet pruned
	}
	if a.perNetwork[network] >= v.cfg.MaxPerNetwork {
		return ErrNetworkFull
	}
	if len(a.seen) >= v.cfg.MaxPerChannel {
		return nil
	}
	a.seen[viewerID] = seenViewer{at: now, network: network}
	a.perNetwork[network]++
	a.current = len(a.seen)
	a.peak = max(a.peak, a.current)
	return nil
}

// Watching reports whether viewerID is counted on the channel's broadcast:
// its heartbeats arrive (within the window) and were not refused.
func (v *Viewers) Watching(slug, viewerID string) bool {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	a := v.bySlug[slug]
	if a == nil {
		return false
	}
	seen, ok := a.seen[viewerID]
	return ok && now.Sub(seen.at) <= v.cfg.Window
}

// Count returns the channel's current viewers and whether it is live.
func (v *Viewers) Count(slug string) (int, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a := v.bySlug[slug]
	if a == nil {
		return 0, false
	}
	return a.current, true
}

// sample prunes expired viewers and accumulates viewer time up to now.
func (a *audience) sample(now time.Time, window time.Duration) store.ViewerSample {
	if d := now.Sub(a.lastSample); d > 0 {
		a.viewerMs += int64(a.current) * d.Milliseconds()
		a.lastSample = now
	}
	for id, seen := range a.seen {
		if now.Sub(seen.at) > window {
			delete(a.seen, id)
			if a.perNetwork[seen.network]--; a.perNetwork[seen.network] <= 0 {
				delete(a.perNetwork, seen.network)
			}
		}
	}
	a.current = len(a.seen)
	return store.ViewerSample{SessionID: a.info.SessionID, Viewers: a.current, PeakViewers: a.peak, ViewerMillis: a.viewerMs}
}

// Sample updates every live broadcast's figures and writes them to the store.
func (v *Viewers) Sample(ctx context.Context) error {
	now := v.now()
	v.mu.Lock()
	samples := make([]store.ViewerSample, 0, len(v.bySlug))
	for _, a := range v.bySlug {
		if s := a.sample(now, v.cfg.Window); s.SessionID != "" {
			samples = append(samples, s)
		}
	}
	v.mu.Unlock()
	return v.cfg.Store.RecordViewers(ctx, samples)
}

// Run samples every SampleEvery until ctx ends.
func (v *Viewers) Run(ctx context.Context) {
	t := time.NewTicker(v.cfg.SampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			wctx, cancel := context.WithTimeout(ctx, v.cfg.SampleEvery)
			if err := v.Sample(wctx); err != nil && ctx.Err() == nil {
				v.log.Warn("cannot record viewer counts", "err", err)
			}
			cancel()
		}
	}
}
