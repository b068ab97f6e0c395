package rtmp

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

// maxStartup is the asserted bound from ffmpeg start to Begin; the headline
// figure (first byte to playable HLS <= 1.5 s) needs ingest well under it.
const maxStartup = 1500 * time.Millisecond

func TestFFmpegPublisherBeginsFastAndDeliversH264AndAAC(t *testing.T) {
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{})
	baseline := runtime.NumGoroutine()

	ff := startFFmpeg(t, ffmpegPublishArgs(publishURL(srv, testKey), "-t", "3")...)
	pub := rec.next(t, 5*time.Second)
	pub.waitBegin(t, 5*time.Second)
	startup := pub.begun.Sub(ff.started)
	t.Logf("ffmpeg start -> Begin: %s", startup.Round(time.Millisecond))
	if startup > maxStartup {
		t.Errorf("startup %s, want < %s", startup, maxStartup)
	}
	logs.waitLog(t, time.Second, "rtmp publish started")
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "publish started") || strings.Contains(l, "publish accepted") {
			t.Log(l) // since_connect: server-side share of the startup
		}
	}

	if err := ff.wait(t, 15*time.Second); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if err := pub.waitEnd(t, 5*time.Second); err != nil {
		t.Fatalf("End(%v), want nil after ffmpeg unpublished", err)
	}

	tr := pub.tracks
	if tr.Video == nil || tr.Video.Width != 640 || tr.Video.Height != 360 || tr.Video.FPS != 30 ||
		len(tr.Video.SPS) == 0 || len(tr.Video.PPS) == 0 {
		t.Fatalf("video track = %+v, want H.264 640x360 at 30 fps with SPS/PPS", tr.Video)
	}
	if tr.Audio == nil || tr.Audio.SampleRate != 48000 || tr.Audio.Channels != 1 || len(tr.Audio.Config) == 0 {
		t.Fatalf("audio track = %+v, want AAC 48000 Hz mono", tr.Audio)
	}

	video, audio := splitUnits(pub.units)
	checkVideoUnits(t, video, 3*time.Second)
	checkAudioUnits(t, audio, 48000, 3*time.Second)

	waitGoroutines(t, baseline)
	assertNoChildren(t)
}

func TestFFmpegVideoOnlyPublisherBeginsWithoutWaitingForAudio(t *testing.T) {
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{})
	baseline := runtime.NumGoroutine()

	ff := startFFmpeg(t, "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25",
		"-pix_fmt", "yuv420p", "-f", "flv", publishURL(srv, testKey))
	pub := rec.next(t, 5*time.Second)
	pub.waitBegin(t, 5*time.Second)
	t.Logf("ffmpeg start -> Begin (video only): %s", pub.begun.Sub(ff.started).Round(time.Millisecond))
	if err := ff.wait(t, 10*time.Second); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if err := pub.waitEnd(t, 5*time.Second); err != nil {
		t.Fatalf("End(%v), want nil", err)
	}
	if pub.tracks.Audio != nil || pub.tracks.Video.Width != 320 || pub.tracks.Video.FPS != 25 {
		t.Fatalf("tracks = %+v / %+v, want 320x240@25 video only", pub.tracks.Video, pub.tracks.Audio)
	}
	if pub.begun.Sub(ff.started) > maxStartup {
		t.Errorf("video-only startup %s, want < %s", pub.begun.Sub(ff.started), maxStartup)
	}
	video, audio := splitUnits(pub.units)
	if len(audio) != 0 {
		t.Fatalf("%d audio units in a video-only stream", len(audio))
	}
	checkVideoUnits(t, video, time.Second)
	if strings.Contains(logs.String(), "starting video-only") {
		t.Errorf("metadata said video-only, but the server waited for audio")
	}
	waitGoroutines(t, baseline)
	assertNoChildren(t)
}

func TestSecondPublisherWithSameKeyIsRefusedWhileFirstKeepsFlowing(t *testing.T) {
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{})
	baseline := runtime.NumGoroutine()

	first := startFFmpeg(t, ffmpegPublishArgs(publishURL(srv, testKey))...)
	pub := rec.next(t, 5*time.Second)
	pub.waitBegin(t, 5*time.Second)

	second := startFFmpeg(t, ffmpegPublishArgs(publishURL(srv, testKey), "-t", "5")...)
	if err := second.wait(t, 10*time.Second); err == nil {
		t.Fatal("second publisher exited cleanly, want it refused")
	}
	logs.waitLog(t, time.Second, "rtmp publish refused by handler", "stream already live")
	if n := rec.count(); n != 1 {
		t.Fatalf("%d publications, want only the first", n)
	}

	before := pub.unitCount()
	time.Sleep(700 * time.Millisecond)
	if after := pub.unitCount(); after < before+20 {
		t.Fatalf("first publisher stopped flowing: %d -> %d units", before, after)
	}

	first.stop(t)
	if err := pub.waitEnd(t, 5*time.Second); err != nil {
		t.Fatalf("End(%v), want nil after SIGINT unpublish", err)
	}
	video, _ := splitUnits(pub.units)
	checkVideoUnits(t, video, 0)
	waitGoroutines(t, baseline)
	assertNoChildren(t)
}

func TestFFmpegPublishersWithUnsupportedCodecsAreRefusedWithReason(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
		wantLog string
	}{
		{
			name: "AAC audio without video",
			args: []string{"-re", "-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "2",
				"-vn", "-c:a", "aac", "-f", "flv"},
			wantErr: ErrNoVideo,
			wantLog: "no video track",
		},
		{
			name: "MP3 audio",
			args: []string{"-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
				"-f", "lavfi", "-i", "sine=sample_rate=44100", "-t", "2",
				"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libmp3lame", "-f", "flv"},
			wantErr: ErrUnsupportedCodec,
			wantLog: "unsupported audio codec MP3",
		},
		{
			name: "Speex audio",
			args: []string{"-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
				"-f", "lavfi", "-i", "sine=sample_rate=16000", "-t", "2",
				"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libspeex", "-ar", "16000", "-f", "flv"},
			wantErr: ErrUnsupportedCodec,
			wantLog: "unsupported audio codec Speex",
		},
		{
			name: "Sorenson Spark video",
			args: []string{"-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2",
				"-c:v", "flv", "-f", "flv"},
			wantErr: ErrUnsupportedCodec,
			wantLog: "unsupported video codec Sorenson Spark",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			srv, logs := startServer(t, rec, serverOpts{})
			baseline := runtime.NumGoroutine()

			ff := startFFmpeg(t, append(tc.args, publishURL(srv, testKey))...)
			pub := rec.next(t, 5*time.Second)
			err := pub.waitEnd(t, 5*time.Second)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("End(%v), want %v", err, tc.wantErr)
			}
			if pub.begins != 0 || len(pub.units) != 0 {
				t.Fatalf("refused publisher got Begin x%d and %d units", pub.begins, len(pub.units))
			}
			logs.waitLog(t, time.Second, "rtmp publisher refused", tc.wantLog,
				"set encoder to x264/H.264 and audio to AAC")
			ff.wait(t, 10*time.Second) //nolint:errcheck // refused: ffmpeg fails, exit status is irrelevant
			waitGoroutines(t, baseline)
			assertNoChildren(t)
		})
	}
}

func splitUnits(us []*media.Unit) (video, audio []*media.Unit) {
	for _, u := range us {
		if u.Kind == media.KindVideo {
			video = append(video, u)
		} else {
			audio = append(audio, u)
		}
	}
	return video, audio
}

// checkVideoUnits checks key-frame start, monotonic DTS, PTS >= DTS, payload
// and ~30 (or the stream's) fps over dur (0: do not check duration).
func checkVideoUnits(t *testing.T, us []*media.Unit, dur time.Duration) {
	t.Helper()
	if len(us) < 10 {
		t.Fatalf("only %d video units", len(us))
	}
	if !us[0].Key {
		t.Fatal("first video unit is not a key frame")
	}
	keys := 0
	for i, u := range us {
		if u.Key {
			keys++
		}
		if u.PTS < u.DTS || u.Size() == 0 || u.NTP.IsZero() {
			t.Fatalf("video unit %d: PTS %d DTS %d size %d", i, u.PTS, u.DTS, u.Size())
		}
		if i > 0 && u.DTS <= us[i-1].DTS {
			t.Fatalf("video DTS not increasing at %d: %d after %d", i, u.DTS, us[i-1].DTS)
		}
	}
	span := float64(us[len(us)-1].DTS-us[0].DTS) / media.VideoClockRate
	fps := float64(len(us)-1) / span
	t.Logf("video: %d units, %d key, %.2f fps over %.2fs", len(us), keys, fps, span)
	if dur > 0 {
		want := dur.Seconds() * fps
		if float64(len(us)) < want*0.9 {
			t.Fatalf("%d video units, want about %.0f", len(us), want)
		}
		if fps < 24 || fps > 31 {
			t.Fatalf("fps %.2f", fps)
		}
	}
}

// checkAudioUnits checks that AAC frames are exactly 1024 ticks apart.
func checkAudioUnits(t *testing.T, us []*media.Unit, rate int, dur time.Duration) {
	t.Helper()
	want := dur.Seconds() * float64(rate) / 1024
	if float64(len(us)) < want*0.9 {
		t.Fatalf("%d audio units, want about %.0f", len(us), want)
	}
	for i, u := range us {
		if len(u.Payload) != 1 || len(u.Payload[0]) == 0 || u.PTS != u.DTS {
			t.Fatalf("audio unit %d malformed: %+v", i, u)
		}
		if i > 0 && u.DTS-us[i-1].DTS != 1024 {
			t.Fatalf("audio unit %d: DTS step %d, want 1024", i, u.DTS-us[i-1].DTS)
		}
	}
	t.Logf("audio: %d units, first DTS %d", len(us), us[0].DTS)
}
