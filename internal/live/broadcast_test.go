package live

import (
	"context"
	"errors"
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

func TestReconnectWithASmallerPictureEndsTheRungsItCannotFill(t *testing.T) {
	r := startManager(t, Config{Grace: 5 * time.Second})
	ctx := context.Background()
	p, err := r.m.Publish(ctx, "key-chan", testAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Begin(testTracks(1280, 720)); err != nil { // source, 480p, 360p
		t.Fatal(err)
	}
	feed(p, 0, 40)
	st, _ := r.m.StatusOf("chan")
	p.End(errors.New("connection reset"))

	p2, err := r.m.Publish(ctx, "key-chan", testAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Begin(testTracks(640, 360)); err != nil { // the source alone
		t.Fatal(err)
	}
	feed(p2, 0, 40)
	base := "/hls/chan/" + st.BroadcastID + "/"
	for _, name := range []string{"480p", "360p"} {
		code, body := r.get(t, base+name+"/index.m3u8")
		if code != 200 || !strings.HasSuffix(body, "#EXT-X-ENDLIST\n") {
			t.Errorf("%s after the smaller reconnect: %d, want EXT-X-ENDLIST:\n%s", name, code, body)
		}
	}
	code, body := r.get(t, base+"source/index.m3u8")
	if code != 200 || strings.Contains(body, "ENDLIST") || !strings.Contains(body, "#EXT-X-DISCONTINUITY") {
		t.Errorf("the source rendition does not go on across the reconnect: %d\n%s", code, body)
	}
	if _, mv := r.get(t, "/hls/chan/index.m3u8"); strings.Contains(mv, "480p") || strings.Contains(mv, "360p") {
		t.Errorf("ended rungs still listed:\n%s", mv)
	}
}
