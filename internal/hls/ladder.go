package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/livehouse/livehouse/internal/media"
)

// boundary is where the leader started a segment.
type boundary struct {
	msn uint64
	pts int64
	pdt time.Time
}

const maxBoundaries = 512

// Ladder is the set of renditions of one broadcast, served under one
// multivariant playlist. Its ID appears in every media URL, so a CDN never
// mixes up two broadcasts of the same channel.
type Ladder struct {
	id         string
	cfg        Config
	log        *slog.Logger
	renditions []*Rendition
	// readerFiles bounds the memfd reader files open for serving, shared by
	// every ladder of an origin; set when it is published, nil: no bound.
	readerFiles chan struct{}

	mu         sync.Mutex
	ended      bool // End was called
	boundaries []boundary
	dateRanges []DateRange
}

// NewLadder returns a ladder with one rendition per name; the first leads.
func NewLadder(id string, names []string, cfg Config, logger *slog.Logger) (*Ladder, error) {
	if len(names) == 0 {
		return nil, errors.New("hls: a ladder needs at least one rendition")
	}
	if logger == nil {
		logger = slog.Default()
	}
	l := &Ladder{id: id, cfg: cfg.withDefaults(), log: logger.With("broadcast", id)}
	seen := map[string]bool{}
	for i, n := range names {
		if n == "" || seen[n] || strings.ContainsAny(n, "/?#\"") {
			return nil, fmt.Errorf("hls: bad rendition name %q", n)
		}
		seen[n] = true
		l.renditions = append(l.renditions, newRendition(n, l, i == 0))
	}
	return l, nil
}

// ID returns the broadcast id of the ladder.
func (l *Ladder) ID() string { return l.id }

// Renditions returns the renditions, leader first.
func (l *Ladder) Renditions() []*Rendition { return l.renditions }

// Rendition returns the rendition called name, or nil.
func (l *Ladder) Rendition(name string) *Rendition {
	for _, r := range l.renditions {
		if r.name == name {
			return r
		}
	}
	return nil
}

// Release frees the memory files that hold the ladder's media. Its
// playlists and media stay servable, from memory, until it is dropped.
func (l *Ladder) Release() {
	for _, r := range l.renditions {
		r.release()
	}
}

// End ends every rendition with EXT-X-ENDLIST.
func (l *Ladder) End() {
	l.mu.Lock()
	l.ended = true
	l.mu.Unlock()
	for _, r := range l.renditions {
		r.End()
	}
}

func (l *Ladder) addBoundary(b boundary) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.boundaries = append(l.boundaries, b)
	if len(l.boundaries) > maxBoundaries {
		l.boundaries = append(l.boundaries[:0], l.boundaries[len(l.boundaries)-maxBoundaries/2:]...)
	}
}

// boundaryAt finds the leader's segment start at pts, within a millisecond.
func (l *Ladder) boundaryAt(pts int64) (boundary, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	const tolerance = media.VideoClockRate / 1000
	for i := len(l.boundaries) - 1; i >= 0; i-- {
		b := l.boundaries[i]
		if d := b.pts - pts; d <= tolerance && d >= -tolerance {
			return b, true
		}
		if b.pts < pts-tolerance {
			break
		}
	}
	return boundary{}, false
}

// segmentDuration is the duration of the leader's segment msn, if known.
func (l *Ladder) segmentDuration(msn uint64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.boundaries) - 1; i > 0; i-- {
		if l.boundaries[i-1].msn == msn && l.boundaries[i].msn == msn+1 {
			return time.Duration((l.boundaries[i].pts - l.boundaries[i-1].pts) * int64(time.Second) / media.VideoClockRate)
		}
	}
	return 0
}

// VariantInfo describes a rendition in the multivariant playlist.
type VariantInfo struct {
	Name             string  `json:"name"`
	Bandwidth        int     `json:"bandwidth"`
	AverageBandwidth int     `json:"average_bandwidth"`
	Width            int     `json:"width"`
	Height           int     `json:"height"`
	FrameRate        float64 `json:"frame_rate"`
	Codecs           string  `json:"codecs"`
	// Ready is true once the rendition has its first part.
	Ready bool `json:"ready"`
}

// Variants describes every rendition as it stands.
func (l *Ladder) Variants() []VariantInfo {
	out := make([]VariantInfo, 0, len(l.renditions))
	for _, r := range l.renditions {
		out = append(out, r.variantInfo())
	}
	return out
}

// WaitReady waits until every rendition with a producer has a part, ctx
// ends, or the ladder's ReadyTimeout passes. Ended and idle renditions (see
// Rendition.Idle) are not waited for. It reports whether all were ready.
func (l *Ladder) WaitReady(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ReadyTimeout)
	defer cancel()
	for _, r := range l.renditions {
		if !r.waitFor(ctx, func() bool { return r.hasPartLocked() || r.ended || r.idle }) {
			return false
		}
	}
	return true
}

// Multivariant renders the multivariant playlist, listing the renditions
// that are ready, with URIs relative to the channel's index.m3u8. A
// rendition ended on its own while the ladder goes on is left out.
func (l *Ladder) Multivariant() []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	l.mu.Lock()
	ladderEnded := l.ended
	l.mu.Unlock()
	for i, v := range l.Variants() {
		if !v.Ready || (l.renditions[i].Ended() && !ladderEnded) {
			continue
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=\"%s\"",
			v.Bandwidth, v.AverageBandwidth, v.Codecs)
		if v.Width > 0 && v.Height > 0 {
			fmt.Fprintf(&b, ",RESOLUTION=%dx%d", v.Width, v.Height)
		}
		if v.FrameRate > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", v.FrameRate)
		}
		fmt.Fprintf(&b, "\n%s/%s/index.m3u8\n", l.id, v.Name)
	}
	return []byte(b.String())
}

func codecsOf(t media.Tracks) string {
	var c []string
	if v := t.Video; v != nil && len(v.SPS) >= 4 {
		c = append(c, fmt.Sprintf("avc1.%02x%02x%02x", v.SPS[1], v.SPS[2], v.SPS[3]))
	}
	if a := t.Audio; a != nil {
		var cfg mpeg4audio.AudioSpecificConfig
		if err := cfg.Unmarshal(a.Config); err == nil {
			c = append(c, fmt.Sprintf("mp4a.40.%d", cfg.Type))
		} else {
			c = append(c, "mp4a.40.2")
		}
	}
	return strings.Join(c, ",")
}
