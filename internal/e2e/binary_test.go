package e2e

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/store"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var keyRE = regexp.MustCompile(`Stream key:\s+(live_\S+)`)

// TestBinaryServesAndStopsCleanlyOnSIGTERM drives the real binary the way
// the README does: channel commands, serve, publish, then SIGTERM.
func TestBinaryServesAndStopsCleanlyOnSIGTERM(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "livehouse")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/livehouse")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	httpAddr, rtmpAddr := freePort(t), freePort(t)
	cli := func(args ...string) string {
		t.Helper()
		args = append(args, "--data", data, "--http-addr", httpAddr, "--rtmp-addr", rtmpAddr)
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("livehouse %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	created := cli("channel", "create", "demo")
	oldKey := keyRE.FindStringSubmatch(created)[1]
	for _, want := range []string{"rtmp://" + rtmpAddr + "/live", "http://" + httpAddr + "/hls/demo/index.m3u8"} {
		if !strings.Contains(created, want) {
			t.Errorf("channel create output lacks %s:\n%s", want, created)
		}
	}
	rotated := cli("channel", "rotate-key", "demo")
	key := keyRE.FindStringSubmatch(rotated)[1]
	if key == oldKey {
		t.Fatal("rotate-key kept the key")
	}
	if list := cli("channel", "list"); !strings.Contains(list, "demo") || strings.Contains(list, key) || strings.Contains(list, oldKey) {
		t.Errorf("channel list must list channels without keys:\n%s", list)
	}
	if out, err := exec.Command(bin, "channel", "create", "Bad Slug!", "--data", data).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "slug") {
		t.Errorf("a bad slug must fail with a clear error: %s", out)
	}

	logs := &logBuffer{}
	srv := exec.Command(bin, "serve", "--data", data, "--http-addr", httpAddr, "--rtmp-addr", rtmpAddr, "--log-level", "debug")
	srv.Stdout, srv.Stderr = logs, logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() { _ = srv.Process.Kill() })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitFor(t, 10*time.Second, "the server to listen", func() bool {
		code, _, _, err := livetest.Get(ctx, http.DefaultClient, "http://"+httpAddr+"/healthz")
		return err == nil && code == 200
	})

	refused, err := livetest.Publish(ctx, "", livetest.Source{Width: 320, Height: 240, Duration: 3}, "rtmp://"+rtmpAddr+"/live/"+oldKey)
	if err != nil {
		t.Fatal(err)
	}
	<-refused.Done()
	pub, err := livetest.Publish(ctx, "", livetest.Source{Width: 854, Height: 480}, "rtmp://"+rtmpAddr+"/live/"+key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Kill()
	s := &livetest.Server{HTTP: "http://" + httpAddr}
	if _, err := s.WaitMultivariant(ctx, "demo", 2); err != nil {
		t.Fatalf("%v\n%s", err, tail(logs.String(), 30))
	}
	code, _, page, _ := livetest.Get(ctx, http.DefaultClient, "http://"+httpAddr+"/")
	if code != 200 || !strings.Contains(string(page), "Livehouse") {
		t.Errorf("embedded UI: %d", code)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM\n%s", err, tail(logs.String(), 20))
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop within 10 s of SIGTERM\n%s", tail(logs.String(), 20))
	}
	// No ffmpeg the server started survives it.
	waitFor(t, 3*time.Second, "the transcoder to be gone", func() bool {
		matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, m := range matches {
			b, _ := os.ReadFile(m)
			if strings.Contains(string(b), data) {
				return false
			}
		}
		return true
	})
	out := logs.String()
	if strings.Contains(out, key) || strings.Contains(out, oldKey) {
		t.Error("a stream key reached the server log")
	}
	if !strings.Contains(out, "unknown stream key") {
		t.Error("the rotated-out key was not refused with a clear log line")
	}
	st, err := store.Open(ctx, filepath.Join(data, "livehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ch, err := st.ChannelBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := st.ListSessions(ctx, ch.ID, 5)
	if err != nil || len(sessions) != 1 || sessions[0].Live() || sessions[0].EndReason != "server shutdown" {
		t.Errorf("sessions after SIGTERM: %+v %v", sessions, err)
	}
}
