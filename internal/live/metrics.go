package live

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livehouse/livehouse/internal/store"
)

// ChannelLister lists every channel, for the offline series.
type ChannelLister interface {
	ListChannels(ctx context.Context) ([]store.Channel, error)
}

// listTimeout bounds the channel listing of one scrape.
const listTimeout = 2 * time.Second

// Collector exports the health of every broadcast to Prometheus. It reads
// Manager.Status (and the channel list) at scrape time, so it holds no state
// of its own.
type Collector struct {
	m        *Manager
	channels ChannelLister

	live, since, bitrate, fps, keyint     *prometheus.Desc
	speed, dropped, restarts, connections *prometheus.Desc
	renditionBandwidth, ingestInfo        *prometheus.Desc
}

// NewCollector returns a collector for m. With channels, every channel that
// is off the air reports livehouse_channel_live 0 with state "offline"; the
// list is read on each scrape.
func NewCollector(m *Manager, channels ChannelLister) *Collector {
	ch := []string{"channel"}
	return &Collector{
		m:           m,
		channels:    channels,
		live:        prometheus.NewDesc("livehouse_channel_live", "1 when the channel is on the air (state live, or reconnecting while waiting for its encoder), 0 when offline.", []string{"channel", "state"}, nil),
		since:       prometheus.NewDesc("livehouse_channel_live_since_seconds", "Unix time the current broadcast started.", ch, nil),
		bitrate:     prometheus.NewDesc("livehouse_ingest_bitrate_bits_per_second", "Bitrate the encoder sends, over the last 5 s.", ch, nil),
		fps:         prometheus.NewDesc("livehouse_ingest_frames_per_second", "Video frame rate the encoder sends.", ch, nil),
		keyint:      prometheus.NewDesc("livehouse_ingest_keyframe_interval_seconds", "Time between the last two key frames.", ch, nil),
		speed:       prometheus.NewDesc("livehouse_transcoder_speed_ratio", "ffmpeg speed (media seconds per wall second); below 1 means falling behind.", ch, nil),
		dropped:     prometheus.NewDesc("livehouse_transcoder_dropped_frames_total", "Frames ffmpeg dropped.", ch, nil),
		restarts:    prometheus.NewDesc("livehouse_transcoder_restarts_total", "Times ffmpeg was restarted after dying.", ch, nil),
		connections: prometheus.NewDesc("livehouse_encoder_connections_total", "Encoder connections in the current broadcast.", ch, nil),
		renditionBandwidth: prometheus.NewDesc("livehouse_rendition_bandwidth_bits_per_second",
			"Average bandwidth of a rendition over its playlist window.", []string{"channel", "rendition"}, nil),
		ingestInfo: prometheus.NewDesc("livehouse_ingest_info", "1 for each channel on the air, labelled with what its encoder sends.",
			[]string{"channel", "video_codec", "audio_codec", "width", "height"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.live, c.since, c.bitrate, c.fps, c.keyint, c.speed, c.dropped, c.restarts, c.connections, c.renditionBandwidth, c.ingestInfo} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	statuses := c.m.Status()
	c.collectOffline(ch, statuses)
	for _, s := range statuses {
		emit := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
			if m, err := prometheus.NewConstMetric(d, t, v, append([]string{s.Channel}, labels...)...); err == nil {
				ch <- m
			}
		}
		gauge := func(d *prometheus.Desc, v float64, labels ...string) { emit(d, prometheus.GaugeValue, v, labels...) }
		counter := func(d *prometheus.Desc, v float64) { emit(d, prometheus.CounterValue, v) }
		gauge(c.live, 1, s.State)
		gauge(c.since, float64(s.StartedAt.Unix()))
		gauge(c.bitrate, s.Ingest.BitrateKbps*1000)
		gauge(c.fps, s.Ingest.FPS)
		gauge(c.keyint, s.Ingest.KeyframeInterval)
		in := s.Ingest
		gauge(c.ingestInfo, 1, in.VideoCodec, in.AudioCodec, strconv.Itoa(in.Width), strconv.Itoa(in.Height))
		counter(c.connections, float64(s.Epochs))
		if t := s.Transcoder; t != nil {
			gauge(c.speed, t.Speed)
			counter(c.dropped, float64(t.DroppedFrames))
			counter(c.restarts, float64(t.Restarts))
		}
		for _, r := range s.Renditions {
			gauge(c.renditionBandwidth, float64(r.AverageBandwidth), r.Name)
		}
	}
}

// collectOffline reports livehouse_channel_live 0 for the channels not in on.
func (c *Collector) collectOffline(ch chan<- prometheus.Metric, on []Status) {
	if c.channels == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	all, err := c.channels.ListChannels(ctx)
	if err != nil {
		c.m.log.Warn("metrics: cannot list channels; offline channels are left out", "err", err)
		return
	}
	live := make(map[string]bool, len(on))
	for _, s := range on {
		live[s.Channel] = true
	}
	for _, channel := range all {
		if live[channel.Slug] {
			continue
		}
		if m, err := prometheus.NewConstMetric(c.live, prometheus.GaugeValue, 0, channel.Slug, "offline"); err == nil {
			ch <- m
		}
	}
}
