package bench

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestOriginBenchmarkMeasuresThroughputAndAnswersEveryHeldRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg, wrk and a live server for about 15 s")
	}
	for _, bin := range []string{"wrk", "ffmpeg"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install -y %s)", bin, bin)
		}
	}
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	args := []string{"-duration", "1s", "-runs", "1", "-threads", "1", "-connections", "4",
		"-blocked", "300", "-source", "320x180"}
	// MediaMTX is not packaged by Debian; docs/bench/origin.md says how to
	// build one to compare with.
	mtx := os.Getenv("LIVEHOUSE_BENCH_MEDIAMTX")
	if mtx != "" {
		args = append(args, "-mediamtx", mtx)
	} else {
		t.Log("LIVEHOUSE_BENCH_MEDIAMTX is unset: the MediaMTX side-by-side runs are not checked")
	}
	err := Origin(ctx, args, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, kind := range []string{"playlist", "part", "segment"} {
		row := regexp.MustCompile(`(?m)^\| ` + kind + ` \| source \| [^|]+ \| 4 \| (\d+) \|`).FindStringSubmatch(report)
		if row == nil || row[1] == "0" {
			t.Errorf("no throughput row for %s", kind)
		}
	}
	if mtx != "" {
		for _, kind := range []string{"playlist", "part", "segment"} {
			if !regexp.MustCompile(`(?m)^\| ` + kind + ` \| source \| [^|]+ \| [^|]+ \| 4 \| \d+ \| [1-9]\d* \|`).MatchString(report) {
				t.Errorf("no MediaMTX row for %s", kind)
			}
		}
	}
	if !strings.Contains(report, "| held in a handler at once | 300 of 300 |") {
		t.Error("the report does not show all 300 requests held")
	}
	if !strings.Contains(report, "| answers: 200 / other / none | 300 / 0 / 0 |") {
		t.Error("the report does not show all 300 held requests answered 200")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Errorf("%d goroutines after the benchmark, %d before", n, base)
	}
}

func TestParseOriginFlagsRejectsBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{"-connections", "x"},
		{"-source", "1280"},
		{"-source", "641x360"},
		{"-runs", "0"},
		{"-duration", "10ms"},
	} {
		if _, err := parseOriginFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("parseOriginFlags(%q) accepted bad settings", args)
		}
	}
	o, err := parseOriginFlags([]string{"-connections", "16,64", "-threads", "2"}, &strings.Builder{})
	if err != nil || len(o.conns) != 2 || o.conns[1] != 64 || o.blocked != 10000 {
		t.Errorf("parseOriginFlags defaults: %+v, %v", o, err)
	}
}

// mediamtxPlaylist is a media playlist as MediaMTX v1.12.3 serves it (cut).
const mediamtxPlaylist = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.50000,CAN-SKIP-UNTIL=12.00000
#EXT-X-PART-INF:PART-TARGET=0.20000
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-MAP:URI="f84ed3efafdf_video1_init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T20:04:41.35Z
#EXTINF:2.00000,
f84ed3efafdf_video1_seg7.mp4
#EXT-X-PART:DURATION=0.20000,URI="f84ed3efafdf_video1_part10.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="f84ed3efafdf_video1_part11.mp4"
#EXTINF:2.00000,
f84ed3efafdf_video1_seg8.mp4
#EXT-X-PART:DURATION=0.20000,URI="f84ed3efafdf_video1_part20.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="f84ed3efafdf_video1_part21.mp4"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="f84ed3efafdf_video1_part22.mp4"
`

func TestMediaMTXPlaylistPicks(t *testing.T) {
	multivariant := "#EXTM3U\n#EXT-X-VERSION:9\n\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",URI=\"audio2_stream.m3u8\"\n\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=7643700,CODECS=\"avc1.42c01f,mp4a.40.2\",RESOLUTION=1280x720\nvideo1_stream.m3u8\n"
	tests := []struct {
		name string
		pick func(string) (string, bool)
		in   string
		want string
	}{
		{"variant", firstVariant, multivariant, "video1_stream.m3u8"},
		{"no variant", firstVariant, "#EXTM3U\n", ""},
		{"segment", newestSegmentURI, mediamtxPlaylist, "f84ed3efafdf_video1_seg8.mp4"},
		{"no segment yet", newestSegmentURI, "#EXTM3U\n#EXT-X-PART:DURATION=0.2,URI=\"p0.mp4\"\n", ""},
		{"part, not the preload hint", newestPartURI, mediamtxPlaylist, "f84ed3efafdf_video1_part21.mp4"},
		{"no part yet", newestPartURI, "#EXTM3U\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p0.mp4\"\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.pick(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("got %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}
