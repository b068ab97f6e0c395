package transcode

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

const orphanChildEnv = "LIVEHOUSE_TEST_ORPHAN_DIR"

// TestFFmpegDiesWithTheServer runs a transcoder in a child test process,
// kills that process with SIGKILL (no cleanup runs) and checks that its
// ffmpeg went with it.
func TestFFmpegDiesWithTheServer(t *testing.T) {
	if dir := os.Getenv(orphanChildEnv); dir != "" {
		runOrphanChild(t, dir)
		return
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho $$ > " + filepath.Join(dir, "pid.tmp") + " && mv " +
		filepath.Join(dir, "pid.tmp") + " " + filepath.Join(dir, "pid") + "\nexec sleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "ffmpeg"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestFFmpegDiesWithTheServer$")
	child.Env = append(os.Environ(), orphanChildEnv+"="+dir)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if !waitFor(10*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "pid"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	}) {
		_ = child.Process.Kill()
		_ = child.Wait()
		t.Fatal("the child's ffmpeg never started")
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	if !waitFor(3*time.Second, func() bool { return !alive(pid) }) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("ffmpeg %d outlived the server that started it", pid)
	}
}

func runOrphanChild(t *testing.T, dir string) {
	v := &media.H264{SPS: []byte{0x67}, PPS: []byte{0x68}, Width: 1280, Height: 720}
	sinks := map[string]Sink{"480p": &recordingSink{}, "360p": &recordingSink{}}
	tc, err := New(Config{FFmpegPath: filepath.Join(dir, "ffmpeg"), Ladder: DefaultLadder(),
		Source: media.Tracks{Video: v}, Sinks: sinks})
	if err != nil {
		t.Fatal(err)
	}
	st := media.NewStream(media.Tracks{Video: v})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = tc.Run(ctx, st.Subscribe(16)) // until the parent kills this process
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}
