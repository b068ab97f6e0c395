package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
)

func TestLatencyReadsTheFrameNumberOfEveryPartInEveryRendition(t *testing.T) {
	needFFmpeg(t)
	checkNoLeaks(t)
	ctx := context.Background()
	rig, err := startRig(ctx, rigConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	res, err := rig.latencyRun(ctx, livetest.Source{Width: 1280, Height: 720, FPS: 30, FrameCode: true},
		time.Second, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.base.IsZero() {
		t.Fatal("no segment start was calibrated")
	}
	if len(res.follow) != 3 {
		t.Fatalf("followed %d renditions, want 3", len(res.follow))
	}
	for _, f := range res.follow {
		lat := res.partLatencies(f, res.base)
		if f.misaligned > 0 {
			t.Errorf("%s: %d parts misaligned; want none", f.name, f.misaligned)
		}
		if f.holdBack <= 0 {
			t.Errorf("%s: no PART-HOLD-BACK read", f.name)
		}
		if f.name != "source" && probeMissed(res.complaints) {
			// A transcoder defect, not the benchmark's: x264 ran without
			// a frame rate, so the picture is corrupt and most frame
			// numbers unreadable. The report flags it.
			t.Logf("%s: %d parts unreadable after the transcoder's probe missed: %v", f.name, f.unread, res.complaints)
			continue
		}
		// 3 s of 200 ms parts; CI machines may lose a few to startup.
		if len(lat) < 8 || f.unread > 0 {
			t.Errorf("%s: %d parts measured, %d unreadable; want about 15 and none", f.name, len(lat), f.unread)
		}
		// A frame cannot be served before it was sent, nor (on loopback)
		// seconds later: either means the calibration is wrong.
		if m := lat.quantile(0.5); m <= 0 || m > 3*time.Second {
			t.Errorf("%s: median latency %v out of range", f.name, m)
		}
	}
	var out bytes.Buffer
	writeLatencyReport(&out, rig, res, "livehouse bench latency -duration 3s")
	t.Log("\n" + out.String())
	for _, want := range []string{"source", "480p", "360p", "player latency", "calibration: frame N"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestMediaPlaylistParsingFindsTheNextPartToBlockFor(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n" +
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.00000,PART-HOLD-BACK=0.60000\n" +
		"#EXT-X-PART-INF:PART-TARGET=0.20000\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-MAP:URI=\"init1.mp4\"\n"
	const seg7 = "#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.678Z\n" +
		"#EXT-X-PART:DURATION=0.20000,URI=\"part7.0.m4s\",INDEPENDENT=YES\n" +
		"#EXT-X-PART:DURATION=0.20000,URI=\"part7.1.m4s\"\n#EXTINF:1.00000,\nseg7.m4s\n"
	tests := []struct {
		name      string
		body      string
		next      [2]uint64
		last      [2]uint64
		segments  int
		firstPart string
	}{
		{"open segment: the next part of it", head + seg7 +
			"#EXT-X-PART:DURATION=0.20000,URI=\"part8.0.m4s\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part8.1.m4s\"\n",
			[2]uint64{8, 1}, [2]uint64{8, 0}, 2, "part7.0.m4s"},
		{"closed segment: part 0 of the next", head + seg7, [2]uint64{8, 0}, [2]uint64{7, 1}, 1, "part7.0.m4s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pl, err := parseMediaPlaylist(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if msn, part := pl.next(); msn != tc.next[0] || uint64(part) != tc.next[1] {
				t.Errorf("next = %d.%d, want %d.%d", msn, part, tc.next[0], tc.next[1])
			}
			if msn, idx, ok := pl.lastPart(); !ok || msn != tc.last[0] || uint64(idx) != tc.last[1] {
				t.Errorf("lastPart = %d.%d %v, want %d.%d", msn, idx, ok, tc.last[0], tc.last[1])
			}
			if len(pl.segments) != tc.segments || pl.firstPart().uri != tc.firstPart {
				t.Errorf("%d segments, first part %q", len(pl.segments), pl.firstPart().uri)
			}
			s := pl.segments[0]
			want := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
			if s.msn != 7 || !s.complete || s.duration != time.Second || !s.pdt.Equal(want) || !s.parts[0].independent {
				t.Errorf("segment 7 = %+v", s)
			}
			if pl.partHoldBack != 600*time.Millisecond || pl.partTarget != 200*time.Millisecond || pl.mapURI != "init1.mp4" {
				t.Errorf("hold back %v, part target %v, map %q", pl.partHoldBack, pl.partTarget, pl.mapURI)
			}
		})
	}
}

func TestAttributeListsKeepQuotedCommas(t *testing.T) {
	got := attr(`BANDWIDTH=1,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360`, "RESOLUTION")
	if got != "640x360" {
		t.Fatalf("RESOLUTION = %q", got)
	}
	if got := attr(`BANDWIDTH=1,CODECS="avc1.64001f,mp4a.40.2"`, "CODECS"); got != "avc1.64001f,mp4a.40.2" {
		t.Fatalf("CODECS = %q", got)
	}
}
