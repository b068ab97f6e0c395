package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/media"
	"github.com/livehouse/livehouse/internal/store"
	"github.com/livehouse/livehouse/internal/transcode"
)

// transcoderQueue bounds the units waiting for ffmpeg: about 4 s of 30 fps
// video plus audio.
const transcoderQueue = 512

// Broadcast is one channel on the air: from the first publish until the
// encoder has been gone longer than the grace window. Reconnects within the
// window continue the same broadcast, playlists and session.
type Broadcast struct {
	m         *Manager
	channel   store.Channel
	cfgLadder transcode.Ladder // the manager's ladder when the broadcast began
	log       *slog.Logger

	done chan struct{} // closed once ended is set

	mu           sync.Mutex
	hasPublisher bool
	ended        bool
	id           string
	sessionID    string
	ladder       *hls.Ladder
	plan         []transcode.Rendition
	leader       *hls.Rendition // nil when the first rendition is transcoded
	startedAt    time.Time
	grace        *time.Timer
	ep           *epoch
	timelineEnd  time.Duration // broadcast time at the end of the last epoch
	lastEnd      time.Time     // wall-clock end of the last epoch
	epochs       int
	ingest       ingestStats
	tx           *transcode.Transcoder
	txDone       chan struct{}
}

// epoch is one encoder connection within a broadcast.
type epoch struct {
	tracks   media.Tracks
	source   *media.Stream
	shiftSet bool
	shift    time.Duration // added to incoming timestamps
	lastTS   time.Duration // newest broadcast time written
	cancel   context.CancelFunc
}

// acceptPublisher is called with the manager lock held. It fails with
// errEnded when the broadcast is going off the air, and ErrAlreadyLive when
// another encoder feeds it.
func (b *Broadcast) acceptPublisher() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return errEnded
	}
	if b.hasPublisher {
		return ErrAlreadyLive
	}
	// The grace timer runs on until the encoder reaches Begin: a reconnect
	// that fails before sending media must not extend the window.
	b.hasPublisher = true
	return nil
}

func (b *Broadcast) hasLadder() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ladder != nil
}

func (b *Broadcast) info() BroadcastInfo {
	return BroadcastInfo{ChannelID: b.channel.ID, Slug: b.channel.Slug, BroadcastID: b.id, SessionID: b.sessionID,
		StartedAt: b.startedAt}
}

func (b *Broadcast) isEnded() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ended
}

// Publication is one encoder connection feeding a broadcast.
type Publication struct {
	b  *Broadcast
	ep *epoch
}

// Done is closed when the broadcast goes off the air for good (a kick, the
// grace window over, shutdown): the ingest then closes the connection.
func (p *Publication) Done() <-chan struct{} { return p.b.done }

// Begin starts the publication's media with tracks.
func (p *Publication) Begin(tracks media.Tracks) error {
	b := p.b
	if tracks.Video == nil {
		return errors.New("a video track is required")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return ErrClosed
	}
	if b.grace != nil {
		b.grace.Stop()
		b.grace = nil
	}
	if b.ladder == nil {
		if err := b.startLocked(tracks); err != nil {
			return err
		}
	} else {
		b.log.Info("encoder reconnected; continuing the broadcast", "broadcast", b.id)
	}
	b.epochs++
	ep := &epoch{tracks: tracks, source: media.NewStream(tracks)}
	b.ep, p.ep = ep, ep
	b.ingest.begin(tracks)
	if b.leader != nil {
		b.leader.Begin(tracks)
	}
	b.startTranscoderLocked(ep)
	return nil
}

func (b *Broadcast) startLocked(tracks media.Tracks) error {
	m := b.m
	b.id = newBroadcastID()
	b.plan = b.cfgLadder.Plan(tracks)
	names := make([]string, len(b.plan))
	for i, r := range b.plan {
		names[i] = r.Name
	}
	l, err := hls.NewLadder(b.id, names, m.cfg.HLS, b.log)
	if err != nil {
		return err
	}
	b.ladder = l
	if b.plan[0].Passthrough {
		b.leader = l.Renditions()[0]
	}
	b.startedAt = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sess, err := m.cfg.Store.StartSession(ctx, b.channel.ID, b.id, ladderJSON(b.cfgLadder, b.plan), b.startedAt)
	if err != nil {
		b.log.Error("cannot record the live session; the broadcast goes on", "err", err)
	}
	b.sessionID = sess.ID
	m.cfg.Origin.Publish(b.channel.Slug, l)
	if m.cfg.Events != nil {
		m.cfg.Events.BroadcastStarted(b.info())
	}
	v := tracks.Video
	b.log.Info("channel is live", "broadcast", b.id, "resolution", v.Width, "height", v.Height,
		"renditions", names, "playback", "/hls/"+b.channel.Slug+"/index.m3u8")
	return nil
}

func (b *Broadcast) startTranscoderLocked(ep *epoch) {
	m := b.m
	if b.txDone != nil {
		// The previous epoch's transcoder still owns the followers until it
		// has stopped; it stops as soon as its source closed.
		<-b.txDone
	}
	// The renditions are fixed for the whole broadcast; a reconnecting
	// encoder with a smaller picture loses the rungs that would upscale, and
	// an ended rendition stays ended.
	ladder := b.cfgLadder
	ladder.Renditions = nil
	for _, r := range b.cfgLadder.Renditions {
		if rend := b.ladder.Rendition(r.Name); rend != nil && !rend.Ended() {
			ladder.Renditions = append(ladder.Renditions, r)
		}
	}
	sinks := map[string]transcode.Sink{}
	for _, r := range ladder.Plan(ep.tracks) {
		if !r.Passthrough {
			sinks[r.Name] = b.ladder.Rendition(r.Name)
		}
	}
	// Rungs the new picture is too small for end (EXT-X-ENDLIST) and leave
	// the multivariant playlist, rather than stay listed with frozen
	// playlists. The last transcoder has stopped: nothing writes them.
	for _, rend := range b.ladder.Renditions() {
		if rend != b.leader && sinks[rend.Name()] == nil && !rend.Ended() {
			b.log.Info("rendition ended: the reconnected encoder's picture is too small for it", "rendition", rend.Name(),
				"width", ep.tracks.Video.Width, "height", ep.tracks.Video.Height)
			rend.End()
		}
	}
	tx, err := transcode.New(transcode.Config{
		FFmpegPath:    m.cfg.FFmpegPath,
		Ladder:        ladder,
		Source:        ep.tracks,
		Sinks:         sinks,
		ThumbnailPath: m.thumbnailPath(b.channel.Slug),
		Logger:        b.log,
	})
	if err != nil {
		// End the renditions it would feed, so that players and the
		// multivariant playlist do not wait for them.
		b.log.Error("cannot start the transcoder; only the source rendition is served", "err", err)
		for _, s := range sinks {
			s.(*hls.Rendition).End()
		}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	ep.cancel = cancel
	reader := ep.source.Subscribe(transcoderQueue)
	done := make(chan struct{})
	b.tx, b.txDone = tx, done
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(done)
		defer reader.Close()
		if err := tx.Run(ctx, reader); err != nil && ctx.Err() == nil {
			b.log.Warn("transcoder stopped", "err", err)
		}
		// The transcoder wrote the followers; now that it has stopped, close
		// their open segments so players are not left waiting.
		for _, s := range sinks {
			s.(*hls.Rendition).Flush()
		}
	}()
}

// Write feeds one unit from the encoder.
func (p *Publication) Write(u *media.Unit) {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	ep := p.ep
	if ep == nil || b.ep != ep {
		return
	}
	rate := unitRate(u, ep.tracks)
	ts := mediaTime(u.DTS, rate)
	if !ep.shiftSet {
		ep.shiftSet = true
		base := time.Duration(0)
		if b.epochs > 1 {
			base = b.timelineEnd + time.Since(b.lastEnd)
		}
		ep.shift = base - ts
	}
	shift := ticks(ep.shift, rate)
	out := *u
	out.PTS += shift
	out.DTS += shift
	if t := mediaTime(out.DTS, rate); t > ep.lastTS {
		ep.lastTS = t
	}
	b.ingest.add(&out)
	if b.leader != nil {
		b.leader.Write(&out)
	}
	ep.source.Write(&out)
}

// End is called once when the encoder leaves. A clean unpublish (err nil)
// ends the broadcast; a dropped connection waits for a reconnect within the
// grace window.
func (p *Publication) End(err error) {
	b := p.b
	b.mu.Lock()
	if p.ep != nil && b.ep == p.ep {
		b.finishEpochLocked()
	}
	if !b.hasPublisher || b.ended {
		b.mu.Unlock()
		return
	}
	b.hasPublisher = false
	if b.ladder == nil || err == nil {
		b.mu.Unlock()
		reason := "encoder stopped"
		if err != nil {
			reason = "encoder left before sending media"
		}
		b.end(reason, false)
		return
	}
	if b.grace != nil {
		// A reconnect that never sent media: the window set when the
		// encoder dropped still counts.
		b.log.Warn("reconnecting encoder left before sending media; still waiting", "err", err)
		b.mu.Unlock()
		return
	}
	b.log.Warn("encoder dropped; waiting for it to reconnect", "err", err, "grace", b.m.cfg.Grace)
	b.grace = time.AfterFunc(b.m.cfg.Grace, func() {
		b.end("encoder did not reconnect within the grace window", false)
	})
	b.mu.Unlock()
}

func (b *Broadcast) finishEpochLocked() {
	ep := b.ep
	b.ep = nil
	b.timelineEnd = ep.lastTS + 40*time.Millisecond
	b.lastEnd = time.Now()
	ep.source.Close()
	if ep.cancel != nil {
		ep.cancel()
	}
	if b.leader != nil {
		b.leader.Flush()
	}
}

// end takes the broadcast off the air for good. Unless force is set, a
// broadcast whose encoder came back and sends media in the meantime stays on;
// one that connected but has not begun does not hold the broadcast.
func (b *Broadcast) end(reason string, force bool) {
	b.mu.Lock()
	if b.ended || (b.ep != nil && !force) {
		b.mu.Unlock()
		return
	}
	b.ended = true
	close(b.done)
	if b.grace != nil {
		b.grace.Stop()
	}
	if b.ep != nil {
		b.finishEpochLocked()
	}
	done := b.txDone
	b.mu.Unlock()

	if done != nil {
		<-done
	}
	m := b.m
	// The session's end is stored before the playlists end and go: whoever
	// sees EXT-X-ENDLIST, or the channel gone, finds the session ended.
	endedAt := time.Now()
	if b.sessionID != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := m.cfg.Store.EndSession(ctx, b.sessionID, endedAt, reason); err != nil {
			b.log.Error("cannot record the end of the live session", "err", err)
		}
		cancel()
	}
	if b.ladder != nil {
		b.ladder.End()
		m.cfg.Origin.Unpublish(b.channel.Slug, b.ladder)
	}
	m.remove(b)
	if m.cfg.Events != nil && b.ladder != nil {
		info := b.info()
		info.EndedAt, info.Reason = endedAt, reason
		m.cfg.Events.BroadcastEnded(info)
	}
	b.log.Info("channel is offline", "broadcast", b.id, "reason", reason)
}
