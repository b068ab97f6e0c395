package live

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// scrape returns the collector's series of the named metrics as
// `name{label="value",...} value` lines, sorted.
func scrape(t *testing.T, c prometheus.Collector, names ...string) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if !slices.Contains(names, f.GetName()) {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out = append(out, fmt.Sprintf("%s{%s} %g", f.GetName(), strings.Join(labels, ","), m.GetGauge().GetValue()))
		}
	}
	sort.Strings(out)
	return out
}

func TestMetricsReportCodecsResolutionAndOfflineChannels(t *testing.T) {
	r := startManager(t, Config{})
	r.goLive(t)
	got := scrape(t, NewCollector(r.m, r.store), "livehouse_channel_live", "livehouse_ingest_info")
	want := []string{
		`livehouse_channel_live{channel="chan",state="live"} 1`,
		`livehouse_channel_live{channel="other",state="offline"} 0`,
		`livehouse_ingest_info{audio_codec="mp4a.40.2",channel="chan",height="360",video_codec="avc1.42c01e",width="640"} 1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
