package channel

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

// EventStore is what Events needs from the store.
type EventStore interface {
	ViewerStore
	ChannelByID(ctx context.Context, id string) (store.Channel, error)
	NotifyFollowers(ctx context.Context, kind, channelID, broadcastID string, at time.Time) (int, error)
	EnqueueDeliveries(ctx context.Context, channelID, event string, payload func(deliveryID string) []byte) (int, error)
}

// EventsConfig builds Events.
type EventsConfig struct {
	Store   EventStore
	Viewers *Viewers
	// Webhooks is woken when deliveries are queued; may be nil.
	Webhooks *Webhooks
	Logger   *slog.Logger
}

// Events turns broadcast starts and ends into viewer counting, follower
// notifications and webhook deliveries. It implements live.Events: the live
// layer's calls only queue work, which Run does.
type Events struct {
	cfg  EventsConfig
	log  *slog.Logger
	mu   sync.Mutex
	jobs []eventJob
	wake chan struct{}
}

type eventJob struct {
	info  live.BroadcastInfo
	ended bool
	final store.ViewerSample
	hasVS bool
}

// NewEvents returns Events; call Run to process them.
func NewEvents(cfg EventsConfig) *Events {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Events{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
}

var _ live.Events = (*Events)(nil)

// BroadcastStarted starts counting viewers and queues notifications and
// "live" webhooks.
func (e *Events) BroadcastStarted(info live.BroadcastInfo) {
	e.cfg.Viewers.Start(info)
	e.push(eventJob{info: info})
}

// BroadcastEnded records the final viewer figures and queues "offline" webhooks.
func (e *Events) BroadcastEnded(info live.BroadcastInfo) {
	s, ok := e.cfg.Viewers.End(info)
	e.push(eventJob{info: info, ended: true, final: s, hasVS: ok})
}

func (e *Events) push(j eventJob) {
	e.mu.Lock()
	e.jobs = append(e.jobs, j)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run processes events until ctx ends, then what is still queued, so that
// broadcasts ended by a shutdown are recorded. Each event gets up to 5 s of
// database work, even while ctx ends.
func (e *Events) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			e.process(ctx)
			return
		case <-e.wake:
			e.process(ctx)
		}
	}
}

// Flush processes what is queued now, on the caller's goroutine.
func (e *Events) Flush(ctx context.Context) { e.process(ctx) }

func (e *Events) process(ctx context.Context) {
	for {
		e.mu.Lock()
		jobs := e.jobs
		e.jobs = nil
		e.mu.Unlock()
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			e.handle(jctx, j)
			cancel()
		}
	}
}

func (e *Events) handle(ctx context.Context, j eventJob) {
	info := j.info
	log := e.log.With("channel", info.Slug, "broadcast", info.BroadcastID)
	if j.hasVS {
		if err := e.cfg.Store.RecordViewers(ctx, []store.ViewerSample{j.final}); err != nil {
			log.Warn("cannot record the final viewer figures", "err", err)
		}
	}
	ch, err := e.cfg.Store.ChannelByID(ctx, info.ChannelID)
	if err != nil {
		log.Warn("cannot read the channel for its events", "err", err)
		return
	}
	event := store.EventLive
	if j.ended {
		event = store.EventOffline
	} else {
		n, err := e.cfg.Store.NotifyFollowers(ctx, store.NotificationLive, info.ChannelID, info.BroadcastID, info.StartedAt)
		if err != nil {
			log.Warn("cannot notify followers", "err", err)
		} else if n > 0 {
			log.Info("followers notified", "followers", n)
		}
	}
	n, err := e.cfg.Store.EnqueueDeliveries(ctx, info.ChannelID, event, func(id string) []byte {
		return webhookPayload(id, event, ch, info, j.final)
	})
	if err != nil {
		log.Warn("cannot queue webhook deliveries", "event", event, "err", err)
		return
	}
	if n > 0 && e.cfg.Webhooks != nil {
		e.cfg.Webhooks.Wake()
	}
}

// Payload is the JSON body of a webhook delivery.
type Payload struct {
	ID        string           `json:"id"` // the delivery id, unique: use it to drop repeats
	Event     string           `json:"event"`
	CreatedAt time.Time        `json:"created_at"`
	Channel   PayloadChannel   `json:"channel"`
	Broadcast PayloadBroadcast `json:"broadcast"`
}

// PayloadChannel describes the channel in a Payload.
type PayloadChannel struct {
	Slug         string   `json:"slug"`
	DisplayName  string   `json:"display_name"`
	Title        string   `json:"title"`
	Category     string   `json:"category"`
	Tags         []string `json:"tags"`
	PlaybackPath string   `json:"playback_path"`
}

// PayloadBroadcast describes the broadcast in a Payload.
type PayloadBroadcast struct {
	ID          string     `json:"id"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	EndReason   string     `json:"end_reason,omitempty"`
	PeakViewers *int       `json:"peak_viewers,omitempty"`
	AvgViewers  *float64   `json:"avg_viewers,omitempty"`
}

func webhookPayload(id, event string, ch store.Channel, info live.BroadcastInfo, final store.ViewerSample) []byte {
	p := Payload{
		ID: id, Event: event, CreatedAt: time.Now().UTC(),
		Channel: PayloadChannel{Slug: ch.Slug, DisplayName: ch.DisplayName, Title: ch.Profile.Title,
			Category: ch.Profile.Category, Tags: ch.Profile.Tags, PlaybackPath: "/hls/" + ch.Slug + "/index.m3u8"},
		Broadcast: PayloadBroadcast{ID: info.BroadcastID, StartedAt: info.StartedAt.UTC()},
	}
	if event == store.EventOffline {
		end := info.EndedAt.UTC()
		p.Broadcast.EndedAt, p.Broadcast.EndReason = &end, info.Reason
		peak := final.PeakViewers
		avg := store.Session{StartedAt: info.StartedAt, EndedAt: info.EndedAt, ViewerMillis: final.ViewerMillis}.AvgViewers(end)
		p.Broadcast.PeakViewers, p.Broadcast.AvgViewers = &peak, &avg
	}
	b, _ := json.Marshal(p) // plain structs always marshal
	return b
}
