package live

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMultivariantListsOnlyTheSourceQuicklyWhenTheTranscoderCannotRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"ffmpeg missing", Config{FFmpegPath: "/nonexistent/ffmpeg"}, "start ffmpeg"},
		{"transcoder refused", Config{FFmpegPath: "/nonexistent/ffmpeg", ThumbnailDir: "/nonexistent/dir"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startManager(t, tc.cfg)
			p, err := r.m.Publish(context.Background(), "key-chan", testAddr)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Begin(testTracks(1280, 720)); err != nil { // plans 480p and 360p
				t.Fatal(err)
			}
			feed(p, 0, 10)
			start := time.Now()
			status, body := r.get(t, "/hls/chan/index.m3u8")
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("multivariant took %v, waiting for renditions ffmpeg cannot produce", took)
			}
			if status != 200 || strings.Count(body, "#EXT-X-STREAM-INF") != 1 || !strings.Contains(body, "/source/index.m3u8") {
				t.Fatalf("status %d, want the source alone:\n%s", status, body)
			}
			st, _ := r.m.StatusOf("chan")
			if tc.err != "" && (st.Transcoder == nil || !strings.Contains(st.Transcoder.LastError, tc.err)) {
				t.Errorf("transcoder status %+v, want %q", st.Transcoder, tc.err)
			}
		})
	}
}
