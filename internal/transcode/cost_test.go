package transcode

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCostAgainstPlainFFmpeg measures CPU-seconds per media-second of the
// default ladder through Transcoder (ffmpeg and this process) against the
// equivalent plain ffmpeg command on the same input. It takes ~20 s of CPU,
// so it only runs with LIVEHOUSE_MEASURE=1.
func TestCostAgainstPlainFFmpeg(t *testing.T) {
	if os.Getenv("LIVEHOUSE_MEASURE") == "" {
		t.Skip("set LIVEHOUSE_MEASURE=1 to measure")
	}
	spec := sourceSpec{Width: 1280, Height: 720, FPS: 30, GOP: 60, Seconds: 20}
	src := makeSource(t, spec)
	in := filepath.Join(t.TempDir(), "src.ts")
	if err := os.WriteFile(in, src.TS, 0o600); err != nil {
		t.Fatal(err)
	}
	l := DefaultLadder()
	if p := os.Getenv("LIVEHOUSE_PRESET"); p != "" {
		l.Preset = p
	}
	for round := range 2 {
		cmd := exec.Command(ffmpegPath, PlainArgs(ArgsConfig{Ladder: l, Plan: l.Plan(src.Tracks), Source: src.Tracks}, in)...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("plain ffmpeg: %v: %s", err, out)
		}
		plain := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		t.Logf("round %d plain ffmpeg (%s): %.3f CPU-s per media-s (wall %v)", round, l.preset(),
			plain.Seconds()/spec.Seconds, time.Since(start).Round(time.Millisecond))

		before := selfCPU()
		h := startHarness(t, src, l, "", 3)
		runToEnd(t, h)
		goCPU := selfCPU() - before
		st := h.tc.Stats()
		t.Logf("round %d Transcoder (%s): ffmpeg %.3f + Go %.3f CPU-s per media-s (plain %.3f), speed 3x, skipped %d",
			round, l.preset(), st.CPUTime.Seconds()/spec.Seconds, goCPU.Seconds()/spec.Seconds,
			plain.Seconds()/spec.Seconds, st.SkippedUnits)
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
