// Package e2e holds Livehouse's end-to-end tests: real ffmpeg publishes over
// real RTMP into a real server, and real HTTP clients, ffprobe and nginx check
// what comes out.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
)

func requireFFmpeg(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install -y ffmpeg): %v", bin, err)
		}
	}
}

// logBuffer collects the server log so tests can assert on it and check that
// no secret reaches it.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type rig struct {
	t       *testing.T
	srv     *livetest.Server
	key     string
	log     *logBuffer
	ctx     context.Context
	dataDir string
}

const rigSlug = "e2e"

// startRig starts a server with a channel, and checks at cleanup that the
// server's log never held the stream key and that no goroutine or child
// process outlives it.
func startRig(t *testing.T, o livetest.Options) *rig {
	t.Helper()
	requireFFmpeg(t)
	baseGoroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	logs := &logBuffer{}
	o.DataDir = t.TempDir()
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := livetest.StartServer(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	key, err := srv.CreateChannel(ctx, rigSlug)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, srv: srv, key: key, log: logs, ctx: ctx, dataDir: o.DataDir}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if strings.Contains(logs.String(), key) {
			t.Error("the stream key appeared in the server log")
		}
		expectNoLeaks(t, baseGoroutines)
		if t.Failed() {
			t.Logf("server log:\n%s", tail(logs.String(), 60))
		}
	})
	return r
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// expectNoLeaks waits for goroutines to return to base and for every child
// process to be gone.
func expectNoLeaks(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, kids := runtime.NumGoroutine(), childProcesses()
		if n <= base+2 && len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("leak: %d goroutines (baseline %d), child processes %v\n%s", n, base, kids, buf)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// resources is what a test could leak: goroutines, child processes and
// open files of this process.
type resources struct {
	goroutines int
	children   []string
	files      []string
}

// snapshotResources takes the resources in use now. Idle HTTP client
// connections are closed first, and memory files (media segments, which
// come and go with the playlist window) are not counted.
func snapshotResources() resources {
	http.DefaultClient.CloseIdleConnections()
	res := resources{goroutines: runtime.NumGoroutine(), children: childProcesses()}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil || strings.HasPrefix(target, "/memfd:") || strings.HasPrefix(target, "memfd:") {
			continue
		}
		res.files = append(res.files, fd.Name()+" -> "+target)
	}
	return res
}

// expectBaseline waits until no more goroutines, child processes or open
// files are in use than in base, and reports what is left over.
func expectBaseline(t *testing.T, base resources) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := snapshotResources()
		extraKids, extraFiles := missing(base.children, now.children), missing(base.files, now.files)
		// The ReadDir above holds a descriptor of its own: one extra is fine.
		if now.goroutines <= base.goroutines+2 && len(extraKids) == 0 && len(extraFiles) <= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("leak: %d goroutines (baseline %d), new child processes %v, new open files %v",
				now.goroutines, base.goroutines, extraKids, extraFiles)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// missing returns the elements of now that base lacks.
func missing(base, now []string) []string {
	seen := map[string]bool{}
	for _, x := range base {
		seen[x] = true
	}
	var out []string
	for _, x := range now {
		if !seen[x] {
			out = append(out, x)
		}
	}
	return out
}

// childProcesses lists the live (non-zombie) children of this process.
func childProcesses() []string {
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == self && fields[0] != "Z" {
			out = append(out, s[:i+1])
		}
	}
	return out
}

// transcoderPIDs finds this process's ffmpeg children that read from stdin:
// the transcoders (publishers read lavfi).
func transcoderPIDs() []int {
	var pids []int
	for _, c := range childProcesses() {
		pid, _ := strconv.Atoi(strings.Fields(c)[0])
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmd), "pipe:0") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (r *rig) publish(src livetest.Source) *livetest.Publisher {
	r.t.Helper()
	p, err := livetest.Publish(r.ctx, "", src, r.srv.RTMP+"/"+r.key)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(p.Kill)
	return p
}

func (r *rig) get(path string) (int, http.Header, string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 15*time.Second)
	defer cancel()
	code, h, body, err := livetest.Get(ctx, http.DefaultClient, r.srv.HTTP+path)
	if err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
	return code, h, string(body)
}

func (r *rig) waitLive(want int) []livetest.Variant {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	vs, err := r.srv.WaitMultivariant(ctx, rigSlug, want)
	if err != nil {
		r.t.Fatal(err)
	}
	return vs
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	segRE  = regexp.MustCompile(`(?m)^seg(\d+)\.m4s$`)
	hintRE = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part(\d+)\.(\d+)\.m4s"`)
	mapRE  = regexp.MustCompile(`#EXT-X-MAP:URI="(init\d+\.mp4)"`)
)

// completeSegments returns the media sequence numbers of the complete,
// non-gap segments of a playlist.
func completeSegments(playlist string) []int {
	var out []int
	lines := strings.Split(playlist, "\n")
	for i, l := range lines {
		if m := segRE.FindStringSubmatch(l); m != nil && (i < 2 || lines[i-2] != "#EXT-X-GAP") {
			n, _ := strconv.Atoi(m[1])
			out = append(out, n)
		}
	}
	return out
}
