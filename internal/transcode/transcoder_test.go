package transcode

import (
	"context"
	"image/jpeg"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

var src720 = sourceSpec{Width: 1280, Height: 720, FPS: 30, GOP: 30, Seconds: 6}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b))
	return len(b), nil
}

// harness runs a Transcoder over a source fed at a given speed.
type harness struct {
	tc     *Transcoder
	sinks  map[string]*recordingSink
	stream *media.Stream
	cancel context.CancelFunc
	done   chan error
	start  time.Time // first unit written
	fed    chan struct{}
}

func startHarness(t *testing.T, src *source, ladder Ladder, thumb string, speed float64) *harness {
	t.Helper()
	h := &harness{sinks: map[string]*recordingSink{}, done: make(chan error, 1), fed: make(chan struct{})}
	sinks := map[string]Sink{}
	for _, r := range scaled(ladder.Plan(src.Tracks)) {
		h.sinks[r.Name] = &recordingSink{}
		sinks[r.Name] = h.sinks[r.Name]
	}
	tc, err := New(Config{FFmpegPath: ffmpegPath, Ladder: ladder, Source: src.Tracks, Sinks: sinks,
		ThumbnailPath: thumb, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	h.tc = tc
	h.stream = media.NewStream(src.Tracks)
	reader := h.stream.Subscribe(1024)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- tc.Run(ctx, reader) }()
	// Give ffmpeg the time to start, as a live stream's source would.
	if !waitFor(2*time.Second, func() bool { return tc.Stats().Running }) {
		t.Fatal("ffmpeg not running")
	}
	time.Sleep(150 * time.Millisecond)
	stop := make(chan struct{})
	started := make(chan time.Time, 1)
	go func() {
		defer close(h.fed)
		src.feed(h.stream, speed, stop, started)
	}()
	h.start = <-started
	t.Cleanup(func() {
		close(stop)
		<-h.fed
		cancel()
		<-h.done
	})
	return h
}

func TestTranscodesLadderWithKeyFramesOnTheSourceKeyFrames(t *testing.T) {
	src := makeSource(t, src720)
	thumb := filepath.Join(t.TempDir(), "thumb.jpg")
	h := startHarness(t, src, DefaultLadder(), thumb, 1)
	<-h.fed
	h.stream.Close()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the source ended")
	}
	h.done <- nil // for Cleanup

	want := map[string][2]int{"480p": {854, 480}, "360p": {640, 360}}
	for name, size := range want {
		begins, units, first := h.sinks[name].snapshot()
		if len(begins) != 1 {
			t.Fatalf("%s: %d Begin calls, want 1", name, len(begins))
		}
		tr := begins[0].tracks
		if tr.Video == nil || tr.Video.Width != size[0] || tr.Video.Height != size[1] {
			t.Errorf("%s: video track %+v, want %dx%d", name, tr.Video, size[0], size[1])
		}
		if tr.Audio == nil {
			t.Errorf("%s: no audio track", name)
		}
		t.Logf("%s: startup (first source unit written -> first output unit) %v", name, first.Sub(h.start).Round(time.Millisecond))

		var keys []int64
		videos, audios := 0, 0
		for i, u := range units {
			switch u.Kind {
			case media.KindVideo:
				if videos == 0 && !u.Key {
					t.Fatalf("%s: first video unit is not a key frame", name)
				}
				videos++
				if !src.VideoPTS[u.PTS] {
					t.Fatalf("%s: output PTS %d is not a source PTS (timestamps shifted)", name, u.PTS)
				}
				if u.Key {
					keys = append(keys, u.PTS)
				}
			case media.KindAudio:
				audios++
				if i > 0 && u.PTS < units[i-1].PTS && units[i-1].Kind == media.KindAudio {
					t.Fatalf("%s: audio PTS goes back", name)
				}
			}
		}
		// Every source key frame from the first output one on, and only those.
		from := slices.Index(src.Keys, keys[0])
		if from < 0 || !slices.Equal(keys, src.Keys[from:]) {
			t.Errorf("%s: key frames at %v, source key frames at %v", name, keys, src.Keys)
		}
		if videos < 150 || audios < 200 {
			t.Errorf("%s: %d video and %d audio units, want about 180 and 280", name, videos, audios)
		}
		if from > 0 {
			t.Errorf("%s: first output key frame is source key frame #%d, want #0", name, from)
		}
	}

	f, err := os.Open(thumb)
	if err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 360 {
		t.Errorf("thumbnail %v, want 640x360", b)
	}
	st := h.tc.Stats()
	if st.Frames < 150 || st.Restarts != 0 || st.Running || st.CPUTime <= 0 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("ffmpeg CPU %.2f s for %.1f s of media (%.2f CPU-s per media-s), stats %+v",
		st.CPUTime.Seconds(), src720.Seconds, st.CPUTime.Seconds()/src720.Seconds, st)
}

func TestRestartsWithinASecondAfterFFmpegIsKilled(t *testing.T) {
	src := makeSource(t, src720)
	h := startHarness(t, src, DefaultLadder(), "", 1)
	allBegun := func(n int) bool {
		for _, s := range h.sinks {
			if b, _, _ := s.snapshot(); len(b) < n {
				return false
			}
		}
		return true
	}
	if !waitFor(3*time.Second, func() bool { return allBegun(1) }) {
		t.Fatal("no output")
	}
	time.Sleep(1200 * time.Millisecond)
	h.tc.mu.Lock()
	pid := h.tc.cur.cmd.Process.Pid
	h.tc.mu.Unlock()
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitFor(3*time.Second, func() bool { return allBegun(2) }) {
		t.Fatal("no new Begin after kill")
	}
	for name, s := range h.sinks {
		begins, units, _ := s.snapshot()
		gap := begins[1].at.Sub(killed)
		t.Logf("%s: new epoch %v after kill -9", name, gap.Round(time.Millisecond))
		if gap > 1500*time.Millisecond {
			t.Errorf("%s: new Begin %v after the kill, want within 1.5 s (restart delay + next key frame 1 s away + startup)", name, gap)
		}
		first := units[begins[1].index-1]
		_ = first
	}
	// Output resumes: wait for more units in the new epoch, key frame first.
	time.Sleep(700 * time.Millisecond)
	for name, s := range h.sinks {
		begins, units, _ := s.snapshot()
		epoch := units[begins[1].index:]
		if len(epoch) < 10 {
			t.Fatalf("%s: %d units after restart", name, len(epoch))
		}
		var firstVideo *media.Unit
		for _, u := range epoch {
			if u.Kind == media.KindVideo {
				firstVideo = u
				break
			}
		}
		if firstVideo == nil || !firstVideo.Key || !slices.Contains(src.Keys, firstVideo.PTS) {
			t.Errorf("%s: new epoch does not start on a source key frame: %+v", name, firstVideo)
		}
	}
	if st := h.tc.Stats(); st.Restarts != 1 || !st.Running || st.LastError == "" {
		t.Errorf("stats after kill: %+v", st)
	}
}

func TestCancelKillsFFmpegAndLeavesNoGoroutines(t *testing.T) {
	src := makeSource(t, src720)
	runtime.GC()
	baseG := runtime.NumGoroutine()
	baseChildren := childPIDs(t)

	sinks := map[string]Sink{"480p": &recordingSink{}, "360p": &recordingSink{}}
	tc, err := New(Config{FFmpegPath: ffmpegPath, Ladder: DefaultLadder(), Source: src.Tracks, Sinks: sinks,
		ThumbnailPath: filepath.Join(t.TempDir(), "t.jpg"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	st := media.NewStream(src.Tracks)
	reader := st.Subscribe(1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tc.Run(ctx, reader) }()
	stop := make(chan struct{})
	fed := make(chan struct{})
	go func() { defer close(fed); src.feed(st, 1, stop, nil) }()
	if !waitFor(3*time.Second, func() bool {
		_, u, _ := sinks["360p"].(*recordingSink).snapshot()
		return len(u) > 0
	}) {
		t.Fatal("no output")
	}
	if n := len(childPIDs(t)); n != len(baseChildren)+1 {
		t.Fatalf("%d children while running, want %d", n, len(baseChildren)+1)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if kids := childPIDs(t); len(kids) != len(baseChildren) {
		t.Errorf("children after Run: %v, want %v (ffmpeg or a zombie left)", kids, baseChildren)
	}
	if tc.Stats().Running {
		t.Error("Stats().Running after Run returned")
	}
	close(stop)
	<-fed
	st.Close()
	waitGoroutines(t, baseG)
}
