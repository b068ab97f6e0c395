package transcode

import (
	"context"
	"image/jpeg"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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

func startHarness(t *testing.T, src *source, ladder Ladder, thumb string, speed float64, opts ...func(*Transcoder)) *harness {
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
	for _, o := range opts {
		o(tc)
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

	for _, r := range h.tc.Plan()[1:] {
		name := r.Name
		first := checkRendition(t, src, h.sinks[name], r, true)
		lat := h.sinks[name].latencies()
		t.Logf("%s: startup (first source unit written -> first output unit) %v; per-frame latency median %v, p95 %v, max %v",
			name, first.Sub(h.start).Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond),
			lat[len(lat)*95/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
		if lat[0] < 0 || lat[len(lat)/2] > time.Second {
			t.Errorf("%s: per-frame latency %v..%v: NTP not carried through, or far too slow", name, lat[0], lat[len(lat)-1])
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

func TestKilledFFmpegRestartsWithANewEpochOnEverySink(t *testing.T) {
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
		begins, _, _ := s.snapshot()
		gap := begins[1].at.Sub(killed)
		t.Logf("%s: new epoch %v after kill -9", name, gap.Round(time.Millisecond))
		if gap > 1500*time.Millisecond {
			t.Errorf("%s: new Begin %v after the kill, want within 1.5 s (restart delay + next key frame 1 s away + startup)", name, gap)
		}
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
	baseFDs := openFDs(t)

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
	if fds := openFDs(t); fds != baseFDs {
		t.Errorf("%d open files after Run, %d before: pipes leaked", fds, baseFDs)
	}
}

// checkRendition checks one rendition's single epoch: size, audio, every
// video PTS a source PTS, key frames exactly on the source's, audio copied
// with its timestamps. complete asks for every source frame and audio frame.
// It returns the wall clock of the first output unit.
func checkRendition(t *testing.T, src *source, sink *recordingSink, want Rendition, complete bool) time.Time {
	t.Helper()
	name, w, h := want.Name, want.Width, want.Height
	begins, units, first := sink.snapshot()
	if len(begins) != 1 {
		t.Fatalf("%s: %d Begin calls, want 1", name, len(begins))
	}
	tr := begins[0].tracks
	if tr.Video == nil || tr.Video.Width != w || tr.Video.Height != h || len(tr.Video.SPS) == 0 || len(tr.Video.PPS) == 0 {
		t.Errorf("%s: video track %+v, want %dx%d with SPS and PPS", name, tr.Video, w, h)
	}
	if tr.Audio == nil {
		t.Errorf("%s: no audio track", name)
	}
	var keys []int64
	videos, audios, videoBytes := 0, 0, 0
	prevPTS, span := int64(-1), int64(0) // span: encoded time, skipping gaps
	frame := int64(media.VideoClockRate / src.Tracks.Video.FPS)
	lastAudio := int64(-1)
	for _, u := range units {
		switch u.Kind {
		case media.KindVideo:
			if videos == 0 && !u.Key {
				t.Fatalf("%s: first video unit is not a key frame", name)
			}
			videos++
			videoBytes += u.Size()
			if prevPTS >= 0 {
				span += min(u.PTS-prevPTS, 4*frame)
			}
			prevPTS = u.PTS
			if !src.VideoPTS[u.PTS] {
				t.Fatalf("%s: output PTS %d is not a source PTS (timestamps shifted)", name, u.PTS)
			}
			if u.DTS != u.PTS {
				t.Fatalf("%s: DTS %d != PTS %d: B-frames in the output", name, u.DTS, u.PTS)
			}
			if u.Key {
				keys = append(keys, u.PTS)
			}
		case media.KindAudio:
			audios++
			if !src.AudioPTS[u.PTS] {
				t.Fatalf("%s: audio PTS %d is not a source audio PTS", name, u.PTS)
			}
			if lastAudio >= 0 && (u.PTS <= lastAudio || complete && u.PTS != lastAudio+1024) {
				t.Fatalf("%s: audio PTS %d after %d, want +1024", name, u.PTS, lastAudio)
			}
			lastAudio = u.PTS
		}
	}
	// Key frames only where the source has them (all of them if complete).
	for _, k := range keys {
		if !slices.Contains(src.Keys, k) {
			t.Errorf("%s: key frame at %d, source key frames at %v", name, k, src.Keys)
		}
	}
	// A broken rate control (ffmpeg guessing 90000 fps) starves the picture.
	if secs := float64(span+frame) / media.VideoClockRate; want.VideoKbps > 0 && videos > 30 {
		kbps := float64(videoBytes) * 8 / secs / 1000
		if kbps < 0.6*float64(want.VideoKbps) || kbps > 1.5*float64(want.VideoKbps) {
			t.Errorf("%s: video at %.0f kbps, want about %d", name, kbps, want.VideoKbps)
		}
	}
	if complete {
		if !slices.Equal(keys, src.Keys) {
			t.Errorf("%s: output key frames %v, want all of the source's %v", name, keys, src.Keys)
		}
		if videos != len(src.VideoPTS) || audios < len(src.AudioPTS)-3 {
			t.Errorf("%s: %d video and %d audio units, want %d and about %d", name, videos, audios, len(src.VideoPTS), len(src.AudioPTS))
		}
	}
	return first
}

// runToEnd feeds the whole source and waits for Run to return after the
// source closes.
func runToEnd(t *testing.T, h *harness) {
	t.Helper()
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
}

var ladder240 = Ladder{Renditions: []Rendition{
	{Name: "source", Passthrough: true},
	{Name: "240p", Height: 240, VideoKbps: 400, MaxFPS: 30},
}}

func TestSourceWithBFramesKeepsKeyFramesAligned(t *testing.T) {
	src := makeSource(t, sourceSpec{Width: 640, Height: 360, FPS: 30, GOP: 30, BFrames: 2, Seconds: 3})
	reordered := 0
	for _, u := range src.Units {
		if u.Kind == media.KindVideo && u.PTS != u.DTS {
			reordered++
		}
	}
	if reordered == 0 {
		t.Fatal("test source has no B-frames")
	}
	h := startHarness(t, src, ladder240, "", 2)
	runToEnd(t, h)
	checkRendition(t, src, h.sinks["240p"], h.tc.Plan()[1], true)
}

func TestFPSCapHalvesA60FPSSourceKeepingItsKeyFrames(t *testing.T) {
	src := makeSource(t, sourceSpec{Width: 640, Height: 360, FPS: 60, GOP: 60, Seconds: 3})
	h := startHarness(t, src, ladder240, "", 2)
	runToEnd(t, h)
	checkRendition(t, src, h.sinks["240p"], h.tc.Plan()[1], false)
	begins, units, _ := h.sinks["240p"].snapshot()
	var keys []int64
	for _, u := range units {
		if u.Key {
			keys = append(keys, u.PTS)
		}
	}
	if !slices.Equal(keys, src.Keys) {
		t.Errorf("key frames %v, want every source key frame %v", keys, src.Keys)
	}
	if fps := begins[0].tracks.Video.FPS; fps != 30 {
		t.Errorf("output FPS %v, want 30", fps)
	}
	var pts []int64
	for _, u := range units {
		if u.Kind == media.KindVideo {
			pts = append(pts, u.PTS)
		}
	}
	if n := len(pts); n < 85 || n > 95 {
		t.Errorf("%d frames from 180 at 60 fps, want about 90", n)
	}
	for i := 1; i < len(pts); i++ {
		if d := pts[i] - pts[i-1]; d < 2700 { // 30 ms
			t.Fatalf("frames %d ms apart at %d, want >= 30 ms", d/90, pts[i])
		}
	}
}

func TestFallingBehindSkipsToTheNextKeyFrame(t *testing.T) {
	src := makeSource(t, src720)
	// A 0.3 s input queue, and ffmpeg frozen for 0.8 s mid-stream.
	h := startHarness(t, src, DefaultLadder(), "", 2, func(tc *Transcoder) { tc.queueLen = 24 })
	if !waitFor(3*time.Second, func() bool { _, u, _ := h.sinks["360p"].snapshot(); return len(u) > 0 }) {
		t.Fatal("no output")
	}
	h.tc.mu.Lock()
	pid := h.tc.cur.cmd.Process.Pid
	h.tc.mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	runToEnd(t, h)
	st := h.tc.Stats()
	if st.QueueOverflows == 0 || st.Restarts != 0 {
		t.Fatalf("want queue overflows and no restart, stats %+v", st)
	}
	order := map[int64]int{} // source video PTS -> decode order
	for _, u := range src.Units {
		if u.Kind == media.KindVideo {
			order[u.PTS] = len(order)
		}
	}
	for _, name := range []string{"480p", "360p"} {
		checkRendition(t, src, h.sinks[name], rendition(h.tc, name), false)
		_, units, _ := h.sinks[name].snapshot()
		prev, gaps := -1, 0
		for _, u := range units {
			if u.Kind != media.KindVideo {
				continue
			}
			i := order[u.PTS]
			if prev >= 0 && i != prev+1 {
				gaps++
				if !u.Key {
					t.Fatalf("%s: output resumes after a gap on a non-key frame (source frame %d after %d)", name, i, prev)
				}
			}
			prev = i
		}
		if gaps == 0 {
			t.Errorf("%s: no gap although %d units were skipped", name, st.SkippedUnits)
		}
		t.Logf("%s: %d gaps, stats %+v", name, gaps, st)
	}
}

func TestCrashingFFmpegIsRestartedWithBackoff(t *testing.T) {
	src := makeSource(t, src720)
	sinks := map[string]Sink{"480p": &recordingSink{}, "360p": &recordingSink{}}
	tc, err := New(Config{FFmpegPath: "/bin/false", Ladder: DefaultLadder(), Source: src.Tracks, Sinks: sinks,
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	st := media.NewStream(src.Tracks)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tc.Run(ctx, st.Subscribe(1024)) }()
	time.Sleep(2 * time.Second)
	stats := tc.Stats()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Restarts after 0.2, 0.6, 1.4, 3.0 s; a fixed 200 ms delay would give 9.
	if stats.Restarts < 2 || stats.Restarts > 4 {
		t.Errorf("%d restarts in 2 s, want 3 (200, 400, 800 ms backoff)", stats.Restarts)
	}
	if stats.LastError != "ffmpeg exited (exit status 1)" {
		t.Errorf("LastError %q", stats.LastError)
	}
}

func TestUnstartableFFmpegIsRetriedUntilItAppears(t *testing.T) {
	src := makeSource(t, src720)
	sinks := map[string]Sink{"480p": &recordingSink{}, "360p": &recordingSink{}}
	path := filepath.Join(t.TempDir(), "ffmpeg") // missing for now
	tc, err := New(Config{FFmpegPath: path, Ladder: DefaultLadder(), Source: src.Tracks, Sinks: sinks,
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	st := media.NewStream(src.Tracks)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- tc.Run(ctx, st.Subscribe(1024)) }()
	time.Sleep(700 * time.Millisecond)
	stats := tc.Stats()
	select {
	case err := <-done:
		t.Fatalf("Run returned %v although ffmpeg may still appear", err)
	default:
	}
	// Retries after 0.2 and 0.6 s (200, 400 ms backoff).
	if stats.Running || stats.Restarts < 1 || stats.Restarts > 3 {
		t.Errorf("stats %+v, want 2 retries and nothing running", stats)
	}
	if !strings.Contains(stats.LastError, "start ffmpeg") {
		t.Errorf("LastError %q, want the start error", stats.LastError)
	}
	for name, s := range sinks {
		rs := s.(*recordingSink)
		rs.mu.Lock()
		if rs.idles == 0 {
			t.Errorf("%s: never told it is idle", name)
		}
		rs.mu.Unlock()
	}
	if err := os.Symlink(ffmpegPath, path); err != nil {
		t.Fatal(err)
	}
	if !waitFor(3*time.Second, func() bool { return tc.Stats().Running }) {
		t.Fatalf("ffmpeg not started once it exists: %+v", tc.Stats())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestNewRejectsMismatchedSinksAndBadSources(t *testing.T) {
	v := &media.H264{SPS: []byte{0x67}, PPS: []byte{0x68}, Width: 1280, Height: 720}
	good := map[string]Sink{"480p": &recordingSink{}, "360p": &recordingSink{}}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{Ladder: DefaultLadder(), Source: media.Tracks{Video: v}, Sinks: good}, ""},
		{"missing sink", Config{Ladder: DefaultLadder(), Source: media.Tracks{Video: v},
			Sinks: map[string]Sink{"480p": &recordingSink{}}}, `no sink for rendition "360p"`},
		{"sink for the passthrough", Config{Ladder: DefaultLadder(), Source: media.Tracks{Video: v},
			Sinks: map[string]Sink{"480p": &recordingSink{}, "360p": &recordingSink{}, "source": &recordingSink{}}}, "3 sinks for 2"},
		{"sink for a dropped rung", Config{Ladder: DefaultLadder(),
			Source: media.Tracks{Video: &media.H264{SPS: []byte{0x67}, PPS: []byte{0x68}, Width: 640, Height: 360}}, Sinks: good},
			"2 sinks for 0"},
		{"no video", Config{Ladder: DefaultLadder(), Sinks: good}, "needs an H.264 track"},
		{"bad AAC config", Config{Ladder: DefaultLadder(), Source: media.Tracks{Video: v, Audio: &media.AAC{Config: []byte{0}, SampleRate: 48000}},
			Sinks: good}, "AAC config"},
		{"bad ladder", Config{Ladder: Ladder{}, Source: media.Tracks{Video: v}, Sinks: good}, "0 renditions"},
		{"missing thumbnail directory", Config{Ladder: DefaultLadder(), Source: media.Tracks{Video: v}, Sinks: good,
			ThumbnailPath: "/nonexistent/dir/t.jpg"}, "thumbnail directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestAudioStartingLateStillStartsTheRenditions(t *testing.T) {
	full := makeSource(t, sourceSpec{Width: 640, Height: 360, FPS: 30, GOP: 30, Seconds: 3})
	// The first 300 ms carry video only, as when audio lags at ingest.
	late := *full
	late.Units = nil
	t0 := full.seconds(full.Units[0])
	for _, u := range full.Units {
		if u.Kind == media.KindVideo || full.seconds(u) > t0+0.3 {
			late.Units = append(late.Units, u)
		}
	}
	h := startHarness(t, &late, ladder240, "", 2)
	runToEnd(t, h)
	if st := h.tc.Stats(); st.Restarts != 0 {
		t.Fatalf("ffmpeg had to be restarted: %+v", st)
	}
	begins, units, _ := h.sinks["240p"].snapshot()
	if len(begins) != 1 || len(units) == 0 || units[0].Kind != media.KindVideo || units[0].PTS != full.Keys[0] {
		t.Fatalf("rendition did not start on the first key frame: %d begins, first unit %+v", len(begins), units[0])
	}
}

func rendition(tc *Transcoder, name string) Rendition {
	for _, r := range tc.Plan() {
		if r.Name == name {
			return r
		}
	}
	panic("no rendition " + name)
}

func TestAudioBurstsAfterTheKeyFrameStillLetFFmpegProbeTheVideo(t *testing.T) {
	full := makeSource(t, sourceSpec{Width: 640, Height: 360, FPS: 30, GOP: 30, Seconds: 3})
	// Audio arrives in bursts of about five frames every 100 ms, the first
	// right after each key frame, as some publishers send it.
	bursty := *full
	bursty.Units = slices.Clone(full.Units)
	t0 := float64(full.Keys[0])/media.VideoClockRate + 0.001
	arrival := func(u *media.Unit) float64 {
		if u.Kind == media.KindAudio {
			return math.Floor((full.seconds(u)-t0)/0.1)*0.1 + t0
		}
		return full.seconds(u)
	}
	slices.SortStableFunc(bursty.Units, func(a, b *media.Unit) int { return int((arrival(a) - arrival(b)) * 1e6) })
	rec := &lineRecorder{}
	h := startHarness(t, &bursty, ladder240, "", 2, func(tc *Transcoder) { tc.log = slog.New(rec) })
	runToEnd(t, h)
	if bad := rec.matching("Could not find codec parameters", "MB rate"); len(bad) > 0 {
		t.Errorf("ffmpeg probed without the video: %q", bad)
	}
	checkRendition(t, full, h.sinks["240p"], h.tc.Plan()[1], true)
}
