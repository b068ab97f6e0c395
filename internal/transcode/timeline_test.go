package transcode

import (
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

func TestUnwrapPicksTheValueNearestTheReference(t *testing.T) {
	tests := []struct{ raw, ref, want int64 }{
		{900000, 900000, 900000},
		{100, tsModulus - 200, tsModulus + 100},            // wrapped forward
		{tsModulus - 100, tsModulus + 50, tsModulus - 100}, // a little behind
		{5, 3 * tsModulus, 3*tsModulus + 5},
		{tsModulus - 3000, 0, -3000},
	}
	for _, tt := range tests {
		if got := unwrap(tt.raw, tt.ref); got != tt.want {
			t.Errorf("unwrap(%d, %d) = %d, want %d", tt.raw, tt.ref, got, tt.want)
		}
	}
}

func TestAudioTimestampsRoundTripThrough90kHz(t *testing.T) {
	for _, rate := range []int64{8000, 16000, 22050, 32000, 44100, 48000, 88200} {
		tl := timeline{base: 123456789}
		for _, ts := range []int64{0, 1, 1023, 1024, 44100*3600*30 + 7, -1024, -5, 987654321} {
			in := tl.toInput(rescale(ts, rate, media.VideoClockRate))
			back := rescale(tl.fromOutput(in), media.VideoClockRate, rate)
			if back != ts {
				t.Errorf("rate %d: %d -> %d -> %d", rate, ts, in, back)
			}
		}
	}
}

func TestWallClockRemembersRecentUnitsOnly(t *testing.T) {
	var w wallClock
	t0 := time.Unix(1000, 0)
	for i := range wallClockSize + 10 {
		w.put(media.KindVideo, int64(i), t0.Add(time.Duration(i)*time.Second))
	}
	if got := w.get(media.KindVideo, wallClockSize+5); !got.Equal(t0.Add((wallClockSize + 5) * time.Second)) {
		t.Errorf("recent unit: %v", got)
	}
	if got := w.get(media.KindVideo, 3); got.Before(time.Now().Add(-time.Minute)) {
		t.Errorf("evicted unit still found: %v", got)
	}
	if len(w.times) != wallClockSize {
		t.Errorf("%d entries, want %d", len(w.times), wallClockSize)
	}
}

func TestStartGateWritesTwoVideoFramesThenAudioThenTheRest(t *testing.T) {
	now := time.Now()
	v := func(i int64) *media.Unit { return &media.Unit{Kind: media.KindVideo, DTS: i} }
	a := func(i int64) *media.Unit { return &media.Unit{Kind: media.KindAudio, DTS: i} }
	name := func(us []*media.Unit) string {
		s := ""
		for _, u := range us {
			s += map[media.Kind]string{media.KindVideo: "v", media.KindAudio: "a"}[u.Kind] + string(rune('0'+u.DTS))
		}
		return s
	}
	tests := []struct {
		name      string
		needAudio bool
		in        []*media.Unit
		late      bool // the last unit arrives after the deadline
		want      []string
	}{
		{"audio burst after the key frame waits for two frames", true,
			[]*media.Unit{a(1), a(2), v(2), a(3), a(4), v(3), a(5)}, false, []string{"", "", "", "", "", "v2v3a1a2a3a4", "a5"}},
		{"late audio holds the video", true,
			[]*media.Unit{v(2), v(3), v(4), a(1), v(5)}, false, []string{"", "", "", "v2v3a1v4", "v5"}},
		{"no audio within the limit", true,
			[]*media.Unit{v(2), v(3), v(4)}, true, []string{"", "", "v2v3v4"}},
		{"video only source", false,
			[]*media.Unit{v(2), v(3), v(4)}, false, []string{"", "v2v3", "v4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGate{waiting: true, needAudio: tt.needAudio, until: now.Add(time.Second)}
			for i, u := range tt.in {
				at := now
				if tt.late && i == len(tt.in)-1 {
					at = now.Add(2 * time.Second)
				}
				if got := name(g.pass(u, at)); got != tt.want[i] {
					t.Fatalf("after unit %d: wrote %q, want %q", i, got, tt.want[i])
				}
			}
		})
	}
}
