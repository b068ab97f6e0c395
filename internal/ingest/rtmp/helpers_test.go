package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

// testKey is the accepted stream key; every test checks it never reaches the log.
const testKey = "sk_live_9fQ2xTopSecretKey"

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog waits until the log contains all of subs.
func (b *syncBuffer) waitLog(t *testing.T, timeout time.Duration, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := b.String()
		missing := ""
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				missing = sub
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log does not contain %q after %s; log:\n%s", missing, timeout, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder is the test Handler: it accepts testKey, refuses unknown keys and
// a second concurrent publisher of the same key, and records everything.
type recorder struct {
	mu     sync.Mutex
	live   bool
	pubs   []*recPub
	newPub chan *recPub
}

func newRecorder() *recorder { return &recorder{newPub: make(chan *recPub, 16)} }

func (r *recorder) OnPublish(key string, _ net.Addr) (Publication, error) {
	if key != testKey {
		return nil, errors.New("unknown stream key")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live {
		return nil, errors.New("stream already live")
	}
	r.live = true
	p := &recPub{r: r, began: make(chan struct{}), ended: make(chan struct{}), done: make(chan struct{})}
	r.pubs = append(r.pubs, p)
	r.newPub <- p
	return p, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pubs)
}

func (r *recorder) next(t *testing.T, timeout time.Duration) *recPub {
	t.Helper()
	select {
	case p := <-r.newPub:
		return p
	case <-time.After(timeout):
		t.Fatalf("no publication within %s", timeout)
		return nil
	}
}

type recPub struct {
	r      *recorder
	began  chan struct{}
	ended  chan struct{}
	done   chan struct{} // Done; close it to end the publication
	mu     sync.Mutex
	tracks media.Tracks
	begun  time.Time
	begins int
	units  []*media.Unit
	ends   int
	endErr error
	late   int // calls after End
}

func (p *recPub) Begin(t media.Tracks) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.begins++
	if p.ends > 0 {
		p.late++
	}
	if p.begins == 1 {
		p.tracks, p.begun = t, time.Now()
		close(p.began)
	}
	return nil
}

func (p *recPub) Write(u *media.Unit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ends > 0 || p.begins == 0 {
		p.late++
	}
	p.units = append(p.units, u)
}

func (p *recPub) End(err error) {
	p.mu.Lock()
	p.ends++
	if p.ends == 1 {
		p.endErr = err
		close(p.ended)
	}
	p.mu.Unlock()
	p.r.mu.Lock()
	p.r.live = false
	p.r.mu.Unlock()
}

func (p *recPub) Done() <-chan struct{} { return p.done }

func (p *recPub) unitCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.units)
}

func (p *recPub) waitBegin(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.began:
	case <-time.After(timeout):
		t.Fatalf("Begin not called within %s", timeout)
	}
}

// waitEnd waits for End and checks it was called exactly once, with no
// calls after it.
func (p *recPub) waitEnd(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.ended:
	case <-time.After(timeout):
		t.Fatalf("End not called within %s", timeout)
	}
	time.Sleep(50 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ends != 1 || p.late != 0 || p.begins > 1 {
		t.Fatalf("End called %d times, Begin %d times, %d calls out of order", p.ends, p.begins, p.late)
	}
	return p.endErr
}

type serverOpts struct {
	readTimeout, handshakeTimeout time.Duration
	maxConns                      int
}

// startServer starts a server on a random port. Its cleanup closes it and
// checks the stream key never appeared in the log.
func startServer(t *testing.T, h Handler, o serverOpts) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s := &Server{
		Addr:             "127.0.0.1:0",
		Handler:          h,
		Logger:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ReadTimeout:      o.readTimeout,
		HandshakeTimeout: o.handshakeTimeout,
		MaxConns:         o.maxConns,
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if strings.Contains(logs.String(), testKey) {
			t.Errorf("stream key leaked into the log:\n%s", logs.String())
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return s, logs
}

func publishURL(s *Server, key string) string {
	return fmt.Sprintf("rtmp://%s/live/%s", s.ListenAddr(), key)
}

// waitGoroutines polls until the goroutine count is back to baseline.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, baseline %d\n%s", n, baseline, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ffmpegProc is a running ffmpeg; it is always reaped by test cleanup.
type ffmpegProc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error
	stderr  *syncBuffer
}

// startFFmpeg runs ffmpeg with args. Cancelling (test end or stop) sends
// SIGINT so ffmpeg unpublishes cleanly; WaitDelay then kills it.
func startFFmpeg(t *testing.T, args ...string) *ffmpegProc {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	full := append([]string{"-hide_banner", "-nostdin", "-loglevel", "warning"}, args...)
	cmd := exec.CommandContext(ctx, "ffmpeg", full...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 3 * time.Second
	p := &ffmpegProc{cmd: cmd, done: make(chan struct{}), stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("ffmpeg stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// stop asks ffmpeg to finish (SIGINT) and waits for it.
func (p *ffmpegProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	p.wait(t, 10*time.Second)
}

func (p *ffmpegProc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("ffmpeg still running after %s", timeout)
		return nil
	}
}

// ffmpegPublishArgs is the brief's reference publisher: 640x360@30 H.264 +
// 48 kHz AAC, real time.
func ffmpegPublishArgs(url string, extra ...string) []string {
	args := []string{
		"-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
	}
	args = append(args, extra...)
	return append(args,
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-f", "flv", url)
}

// assertNoChildren fails if this test process still has child processes.
func assertNoChildren(t *testing.T) {
	t.Helper()
	me := os.Getpid()
	deadline := time.Now().Add(2 * time.Second)
	for {
		kids := childPIDs(me)
		if len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child processes still running: %v", kids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func childPIDs(parent int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == parent {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			kids = append(kids, pid)
		}
	}
	return kids
}
