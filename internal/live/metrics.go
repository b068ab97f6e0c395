package live

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the health of every broadcast to Prometheus. It reads
// Manager.Status at scrape time, so it holds no state of its own.
type Collector struct {
	m *Manager

	live, since, bitrate, fps, keyint     *prometheus.Desc
	speed, dropped, restarts, connections *prometheus.Desc
	renditionBandwidth                    *prometheus.Desc
}

// NewCollector returns a collector for m.
func NewCollector(m *Manager) *Collector {
	ch := []string{"channel"}
	return &Collector{
		m:           m,
		live:        prometheus.NewDesc("livehouse_channel_live", "1 when the channel is on the air (live or waiting for its encoder to reconnect).", []string{"channel", "state"}, nil),
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
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.live, c.since, c.bitrate, c.fps, c.keyint, c.speed, c.dropped, c.restarts, c.connections, c.renditionBandwidth} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.m.Status() {
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
