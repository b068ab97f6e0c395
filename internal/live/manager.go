// Package live owns the lifecycle of broadcasts: it admits publishers by
// stream key, turns each channel's stream into a ladder of renditions
// (passthrough plus a supervised transcoder), keeps a broadcast alive across
// encoder reconnects within a grace window, records sessions in the store, and
// reports stream health.
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/media"
	"github.com/livehouse/livehouse/internal/store"
	"github.com/livehouse/livehouse/internal/transcode"
)

// Errors returned by Publish.
var (
	ErrWrongKey    = errors.New("unknown stream key: copy the key from `livehouse channel create` or rotate it with `livehouse channel rotate-key`")
	ErrAlreadyLive = errors.New("channel is already live from another encoder: stop it first")
	ErrSuspended   = errors.New("channel or its owner is suspended: ask an admin")
	ErrClosed      = errors.New("server is shutting down")

	errEnded = errors.New("broadcast ended")
)

// Store is what the live layer needs from the store.
type Store interface {
	ChannelByKey(ctx context.Context, key string) (store.Channel, error)
	StartSession(ctx context.Context, channelID, broadcastID, ladderJSON string, startedAt time.Time) (store.Session, error)
	EndSession(ctx context.Context, sessionID string, endedAt time.Time, reason string) error
}

// Events hears when broadcasts start and end, for viewer counting,
// notifications and webhooks. Both methods are called on the broadcast's
// goroutines, BroadcastStarted with the broadcast's lock held: they must
// return quickly and must not call back into the Manager.
type Events interface {
	BroadcastStarted(BroadcastInfo)
	BroadcastEnded(BroadcastInfo)
}

// BroadcastInfo identifies a broadcast in Events.
type BroadcastInfo struct {
	ChannelID   string
	Slug        string
	BroadcastID string
	SessionID   string // "" when the session could not be recorded
	StartedAt   time.Time
	EndedAt     time.Time // zero in BroadcastStarted
	Reason      string    // why it ended
}

// Origin is where ladders are put on the air.
type Origin interface {
	Publish(slug string, l *hls.Ladder)
	Unpublish(slug string, l *hls.Ladder)
}

// Config builds a Manager.
type Config struct {
	Store  Store
	Origin Origin
	HLS    hls.Config
	Ladder transcode.Ladder
	// FFmpegPath is the ffmpeg binary; empty means "ffmpeg" on PATH.
	FFmpegPath string
	// ThumbnailDir receives <slug>.jpg for each live channel.
	ThumbnailDir string
	// Grace is how long a broadcast waits for its encoder to reconnect
	// before it ends. Default 10 s.
	Grace time.Duration
	// Events, if set, hears broadcasts start and end.
	Events Events
	Logger *slog.Logger
}

// kickHold is how long a kicked channel's key stays refused by the
// manager itself, covering a publisher that looked its key up just before
// the store marked the channel suspended.
const kickHold = 10 * time.Second

// Manager tracks every broadcast. It is safe for concurrent use.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu         sync.Mutex
	broadcasts map[string]*Broadcast // by channel ID
	ladder     transcode.Ladder      // for broadcasts that start from now on
	kicked     map[string]time.Time  // channel ID -> refused until
	closed     bool
	wg         sync.WaitGroup
}

// NewManager returns a Manager.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Origin == nil {
		return nil, errors.New("live: Store and Origin are required")
	}
	if err := cfg.Ladder.Validate(); err != nil {
		return nil, fmt.Errorf("live: ladder: %w", err)
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = "ffmpeg"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg, log: cfg.Logger, broadcasts: map[string]*Broadcast{}, ladder: cfg.Ladder,
		kicked: map[string]time.Time{}}, nil
}

// Publish admits an encoder that presented key. It returns the publication
// to feed, or ErrWrongKey / ErrAlreadyLive. The key is never logged.
func (m *Manager) Publish(ctx context.Context, key string, remote net.Addr) (*Publication, error) {
	ch, err := m.cfg.Store.ChannelByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return nil, ErrWrongKey
	}
	if errors.Is(err, store.ErrSuspended) {
		return nil, fmt.Errorf("%w (%v)", ErrSuspended, err)
	}
	if err != nil {
		return nil, fmt.Errorf("look up stream key: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if until, ok := m.kicked[ch.ID]; ok && time.Now().Before(until) {
		return nil, fmt.Errorf("channel %s was just taken off the air: %w", ch.Slug, ErrSuspended)
	}
	b := m.broadcasts[ch.ID]
	if b != nil {
		switch err := b.acceptPublisher(); {
		case errors.Is(err, errEnded):
			// The last broadcast is still tearing down (storing its end,
			// stopping its transcoder): the encoder starts a new one.
			b = nil
		case err != nil:
			return nil, fmt.Errorf("channel %s: %w", ch.Slug, err)
		}
	}
	if b == nil {
		b = &Broadcast{m: m, channel: ch, cfgLadder: m.ladder, log: m.log.With("channel", ch.Slug), done: make(chan struct{})}
		_ = b.acceptPublisher() // a new broadcast accepts its first publisher
		m.broadcasts[ch.ID] = b
	}
	b.log.Info("encoder connected", "remote", remote.String())
	return &Publication{b: b}, nil
}

func (m *Manager) remove(b *Broadcast) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.broadcasts[b.channel.ID] == b {
		delete(m.broadcasts, b.channel.ID)
	}
}

// Kick ends the channel's broadcast at once, whatever its encoder does (its
// publication's Done closes, so the ingest drops the connection), and
// refuses the channel's publishers for a few seconds (the store refuses them
// for good once the channel is suspended). It reports whether the channel
// was on the air.
func (m *Manager) Kick(channelID, reason string) bool {
	m.mu.Lock()
	m.kicked[channelID] = time.Now().Add(kickHold)
	for id, until := range m.kicked {
		if time.Now().After(until) {
			delete(m.kicked, id)
		}
	}
	b := m.broadcasts[channelID]
	m.mu.Unlock()
	if b == nil {
		return false
	}
	b.log.Warn("broadcast kicked off the air", "reason", reason)
	b.end(reason, true)
	return true
}

// SetLadder validates l and uses it for broadcasts that start afterwards;
// broadcasts on the air keep their ladder.
func (m *Manager) SetLadder(l transcode.Ladder) error {
	if err := l.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	m.ladder = l
	m.mu.Unlock()
	m.log.Info("transcoding ladder changed; it applies to broadcasts that start from now on")
	return nil
}

// Ladder returns the ladder that new broadcasts use.
func (m *Manager) Ladder() transcode.Ladder {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ladder
}

// IsLive reports whether the channel is on the air (also while waiting
// for its encoder to reconnect). It is cheaper than StatusOf.
func (m *Manager) IsLive(channelID string) bool {
	m.mu.Lock()
	b := m.broadcasts[channelID]
	m.mu.Unlock()
	return b != nil && !b.isEnded() && b.hasLadder()
}

// Status returns the state of every broadcast, by slug.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	bs := make([]*Broadcast, 0, len(m.broadcasts))
	for _, b := range m.broadcasts {
		bs = append(bs, b)
	}
	m.mu.Unlock()
	out := make([]Status, 0, len(bs))
	for _, b := range bs {
		if s, ok := b.status(); ok {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out
}

// StatusOf returns the state of the channel slug, if it is on the air.
func (m *Manager) StatusOf(slug string) (Status, bool) {
	m.mu.Lock()
	var found *Broadcast
	for _, b := range m.broadcasts {
		if b.channel.Slug == slug {
			found = b
			break
		}
	}
	m.mu.Unlock()
	if found == nil {
		return Status{}, false
	}
	return found.status()
}

// Close ends every broadcast at once and waits for their transcoders.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	bs := make([]*Broadcast, 0, len(m.broadcasts))
	for _, b := range m.broadcasts {
		bs = append(bs, b)
	}
	m.mu.Unlock()
	for _, b := range bs {
		b.end("server shutdown", true)
	}
	m.wg.Wait()
}

func (m *Manager) thumbnailPath(slug string) string {
	if m.cfg.ThumbnailDir == "" {
		return ""
	}
	return filepath.Join(m.cfg.ThumbnailDir, slug+".jpg")
}

func newBroadcastID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ladderJSON(cfg transcode.Ladder, plan []transcode.Rendition) string {
	type rend struct {
		transcode.Rendition
		Width int `json:"width"`
	}
	rec := struct {
		Encoder    string `json:"encoder"`
		Preset     string `json:"preset,omitempty"`
		Renditions []rend `json:"renditions"`
	}{Encoder: cfg.Encoder, Preset: cfg.Preset}
	for _, r := range plan {
		rec.Renditions = append(rec.Renditions, rend{r, r.Width})
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

// mediaTime converts ticks of rate to a duration.
func mediaTime(ticks int64, rate int) time.Duration {
	return time.Duration(ticks) * time.Second / time.Duration(rate)
}

func ticks(d time.Duration, rate int) int64 {
	return int64(d) * int64(rate) / int64(time.Second)
}

func unitRate(u *media.Unit, t media.Tracks) int {
	if u.Kind == media.KindAudio && t.Audio != nil {
		return t.Audio.SampleRate
	}
	return media.VideoClockRate
}
