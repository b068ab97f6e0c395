package live

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/media"
	"github.com/livehouse/livehouse/internal/transcode"
)

// statsWindow is how far back ingest rates look.
const statsWindow = 5 * time.Second

// ingestStats measures what the encoder sends. It is guarded by the
// broadcast's lock.
type ingestStats struct {
	tracks      media.Tracks
	samples     []ingestSample // video and audio units in the window, oldest first
	lastKey     int64          // broadcast DTS of the newest key frame, video ticks
	keyInterval time.Duration
	bytes       uint64
}

type ingestSample struct {
	at    time.Time
	size  int
	video bool
}

func (s *ingestStats) begin(t media.Tracks) {
	s.tracks = t
	s.lastKey = -1
}

func (s *ingestStats) add(u *media.Unit) {
	now := time.Now()
	size := u.Size()
	s.bytes += uint64(size)
	s.samples = append(s.samples, ingestSample{at: now, size: size, video: u.Kind == media.KindVideo})
	s.trim(now)
	if u.Kind == media.KindVideo && u.Key {
		if s.lastKey >= 0 && u.DTS > s.lastKey {
			s.keyInterval = time.Duration(u.DTS-s.lastKey) * time.Second / media.VideoClockRate
		}
		s.lastKey = u.DTS
	}
}

func (s *ingestStats) trim(now time.Time) {
	i := 0
	for i < len(s.samples) && now.Sub(s.samples[i].at) > statsWindow {
		i++
	}
	if i > 0 {
		s.samples = append(s.samples[:0], s.samples[i:]...)
	}
}

// IngestStatus is the health of what the encoder sends.
type IngestStatus struct {
	BitrateKbps      float64 `json:"bitrate_kbps"`
	FPS              float64 `json:"fps"`
	KeyframeInterval float64 `json:"keyframe_interval_seconds"`
	VideoCodec       string  `json:"video_codec"`
	AudioCodec       string  `json:"audio_codec,omitempty"`
	Width            int     `json:"width"`
	Height           int     `json:"height"`
	AudioSampleRate  int     `json:"audio_sample_rate,omitempty"`
	AudioChannels    int     `json:"audio_channels,omitempty"`
	BytesReceived    uint64  `json:"bytes_received"`
}

func (s *ingestStats) status() IngestStatus {
	s.trim(time.Now())
	st := IngestStatus{KeyframeInterval: s.keyInterval.Seconds(), BytesReceived: s.bytes}
	if v := s.tracks.Video; v != nil {
		st.Width, st.Height = v.Width, v.Height
		if len(v.SPS) >= 4 {
			st.VideoCodec = fmt.Sprintf("avc1.%02x%02x%02x", v.SPS[1], v.SPS[2], v.SPS[3])
		}
	}
	if a := s.tracks.Audio; a != nil {
		st.AudioSampleRate, st.AudioChannels = a.SampleRate, a.Channels
		var cfg mpeg4audio.AudioSpecificConfig
		if cfg.Unmarshal(a.Config) == nil {
			st.AudioCodec = fmt.Sprintf("mp4a.40.%d", cfg.Type)
		}
	}
	if n := len(s.samples); n > 1 {
		span := s.samples[n-1].at.Sub(s.samples[0].at).Seconds()
		if span > 0.5 {
			var bytes, frames int
			for _, x := range s.samples[1:] {
				bytes += x.size
				if x.video {
					frames++
				}
			}
			st.BitrateKbps = float64(bytes*8) / span / 1000
			st.FPS = float64(frames) / span
		}
	}
	return st
}

// Status is the state of one channel on the air.
type Status struct {
	Channel     string                `json:"channel"`
	ChannelID   string                `json:"channel_id"`
	State       string                `json:"state"` // "live" or "reconnecting"
	BroadcastID string                `json:"broadcast_id"`
	StartedAt   time.Time             `json:"started_at"`
	Epochs      int                   `json:"encoder_connections"`
	Playback    string                `json:"playback_path"`
	Thumbnail   string                `json:"thumbnail_path,omitempty"`
	Ingest      IngestStatus          `json:"ingest"`
	Transcoder  *transcode.Stats      `json:"transcoder,omitempty"`
	Renditions  []hls.VariantInfo     `json:"renditions"`
	Ladder      []transcode.Rendition `json:"ladder"`
}

func (b *Broadcast) status() (Status, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended || b.ladder == nil {
		return Status{}, false
	}
	st := Status{
		Channel:     b.channel.Slug,
		ChannelID:   b.channel.ID,
		State:       "live",
		BroadcastID: b.id,
		StartedAt:   b.startedAt,
		Epochs:      b.epochs,
		Playback:    "/hls/" + b.channel.Slug + "/index.m3u8",
		Ingest:      b.ingest.status(),
		Renditions:  b.ladder.Variants(),
		Ladder:      b.plan,
	}
	if b.ep == nil {
		st.State = "reconnecting"
		st.Ingest.BitrateKbps, st.Ingest.FPS = 0, 0
	}
	if b.m.cfg.ThumbnailDir != "" {
		st.Thumbnail = "/thumbnails/" + b.channel.Slug + ".jpg"
	}
	if b.tx != nil {
		tx := b.tx.Stats()
		st.Transcoder = &tx
	}
	return st, true
}
