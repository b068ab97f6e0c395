package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/bus"
	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
)

// openRooms builds the realtime hub on the in-process bus, or on NATS when
// the deployment has several nodes.
func (s *Server) openRooms(ctx context.Context, clock *streamClock) error {
	cfg := s.cfg
	var b interface {
		realtime.Bus
		Close() error
	}
	gapCheck := time.Duration(-1) // the in-process bus loses nothing
	if cfg.NATSURL != "" {
		gapCheck = 0 // the default: NATS is at most once
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		nb, err := bus.DialNATS(dctx, cfg.NATSURL, "livehouse "+cfg.HTTPAddr, cfg.Logger.With("component", "bus"))
		if err != nil {
			return fmt.Errorf("%w (check --nats-url)", err)
		}
		b = nb
	} else {
		b = bus.NewLocal()
	}
	perUser, perIP := cfg.ChatPerUser, cfg.ChatPerIP
	if perUser == (account.Rate{}) {
		perUser = account.Rate{Burst: 5, Every: time.Second}
	}
	if perIP == (account.Rate{}) {
		perIP = account.Rate{Burst: 60, Every: 50 * time.Millisecond}
	}
	hub, err := realtime.New(realtime.Config{
		Store:               s.store,
		Bus:                 b,
		Clock:               clock,
		Subscriptions:       subscriptions{s.store},
		PerUser:             account.NewLimiter(perUser),
		PerIP:               account.NewLimiter(perIP),
		GapCheck:            gapCheck,
		Linger:              cfg.ChatLinger,
		MaxLinger:           cfg.ChatMaxLinger,
		MaxSocketsPerClient: cfg.ChatMaxSockets,
		Logger:              cfg.Logger.With("component", "realtime"),
	})
	if err != nil {
		b.Close()
		return err
	}
	s.bus, s.rooms = b, hub
	return nil
}

// streamClock finds a channel's broadcast on the air from the store, so
// every node stamps events on the same timeline, whichever node ingests.
type streamClock struct {
	st  *store.Store
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]clockEntry
}

type clockEntry struct {
	id      string
	started time.Time
	ok      bool
	at      time.Time
}

func (c *streamClock) Broadcast(ctx context.Context, channelID string) (string, time.Time, bool) {
	c.mu.Lock()
	e, hit := c.m[channelID]
	c.mu.Unlock()
	if hit && time.Since(e.at) < c.ttl {
		return e.id, e.started, e.ok
	}
	e = clockEntry{at: time.Now()}
	if ss, err := c.st.ListSessions(ctx, channelID, 1); err == nil && len(ss) == 1 && ss[0].Live() {
		e.id, e.started, e.ok = ss[0].BroadcastID, ss[0].StartedAt, true
	}
	c.mu.Lock()
	if len(c.m) > 10_000 {
		clear(c.m)
	}
	c.m[channelID] = e
	c.mu.Unlock()
	return e.id, e.started, e.ok
}

// Rooms returns the realtime hub.
func (s *Server) Rooms() *realtime.Hub { return s.rooms }
