package e2e

import (
	"crypto/rand"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/transcode"
)

// Each bad publisher is refused or closed with a clear log line while a good
// stream keeps playing, and leaves nothing behind: after each case the
// goroutines, child processes and open files are back to what they were.
func TestBadPublishersAreRefusedWhileTheLiveStreamContinues(t *testing.T) {
	r := startRig(t, livetest.Options{
		Ladder:      onlySource(),
		Grace:       time.Second,
		ReadTimeout: 1500 * time.Millisecond,
	})
	good := r.publish(livetest.Source{Width: 640, Height: 360})
	vs := r.waitLive(1)
	base := "/hls/" + rigSlug + "/" + strings.TrimSuffix(vs[0].URI, "index.m3u8")
	// A second channel that the stalled publisher uses.
	stallKey, err := r.srv.CreateChannel(r.ctx, "stall")
	if err != nil {
		t.Fatal(err)
	}
	rtmpAddr := strings.TrimSuffix(strings.TrimPrefix(r.srv.RTMP, "rtmp://"), "/live")

	for _, tc := range []struct {
		name    string
		run     func(t *testing.T)
		wantLog string
	}{
		{"wrong key", func(t *testing.T) {
			p := r.publishTo(livetest.Source{Width: 320, Height: 240, Duration: 3}, r.srv.RTMP+"/live_wrongkey")
			waitExit(t, p)
		}, "unknown stream key"},
		{"second publisher on a live channel", func(t *testing.T) {
			p := r.publishTo(livetest.Source{Width: 320, Height: 240, Duration: 3}, r.srv.RTMP+"/"+r.key)
			waitExit(t, p)
		}, "already live"},
		{"unsupported codec", func(t *testing.T) {
			p := r.publishTo(livetest.Source{Width: 320, Height: 240, Duration: 3, AudioCodec: "libmp3lame"}, r.srv.RTMP+"/"+stallKey)
			waitExit(t, p)
		}, "unsupported audio codec mp3"},
		{"garbage bytes", func(t *testing.T) {
			c, err := net.Dial("tcp", rtmpAddr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			junk := make([]byte, 4096)
			_, _ = rand.Read(junk)
			junk[0] = 0x42 // not RTMP version 3
			_, _ = c.Write(junk)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Read(make([]byte, 16000))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Error("the server kept a garbage connection open")
			}
		}, "first byte 0x42 is not rtmp version 3"},
		{"HTTP request on the RTMP port", func(t *testing.T) {
			c, err := net.Dial("tcp", rtmpAddr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			_ = c.SetReadDeadline(time.Now().Add(7 * time.Second))
			for {
				if _, err := c.Read(make([]byte, 16000)); err != nil {
					break
				}
			}
		}, "received an http request on the rtmp port"},
		{"stalled publisher", func(t *testing.T) {
			p := r.publishTo(livetest.Source{Width: 320, Height: 240}, r.srv.RTMP+"/"+stallKey)
			waitFor(t, 10*time.Second, "the stall channel to go live", func() bool {
				code, _, _ := r.get("/hls/stall/index.m3u8")
				return code == 200
			})
			// Freeze the encoder without closing its socket.
			pid := p.PID()
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			defer p.Kill()
			defer syscall.Kill(pid, syscall.SIGCONT) //nolint:errcheck
			waitFor(t, 10*time.Second, "the stalled channel to end", func() bool {
				code, _, _ := r.get("/hls/stall/index.m3u8")
				return code == 404
			})
		}, "stalled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			baseline := snapshotResources()
			logStart := len(r.log.String())
			tc.run(t)
			waitFor(t, 8*time.Second, "log line "+tc.wantLog, func() bool {
				return strings.Contains(strings.ToLower(r.log.String()[logStart:]), tc.wantLog)
			})
			expectBaseline(t, baseline)
			// The good stream is still live and advancing.
			_, _, before := r.get(base + "index.m3u8")
			time.Sleep(400 * time.Millisecond)
			_, _, after := r.get(base + "index.m3u8")
			if before == after || strings.Contains(after, "ENDLIST") {
				t.Errorf("the good stream stopped advancing after %s", tc.name)
			}
		})
	}
	select {
	case <-good.Done():
		_, stderr := good.Err()
		t.Fatalf("the good publisher was disconnected: %s", stderr)
	default:
	}
}

// onlySource is a ladder without transcoding, to keep these tests light.
func onlySource() transcode.Ladder {
	l := transcode.DefaultLadder()
	l.Renditions = l.Renditions[:1]
	return l
}

func (r *rig) publishTo(src livetest.Source, url string) *livetest.Publisher {
	r.t.Helper()
	p, err := livetest.Publish(r.ctx, "", src, url)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(p.Kill)
	return p
}

func waitExit(t *testing.T, p *livetest.Publisher) {
	t.Helper()
	select {
	case <-p.Done():
		if err, _ := p.Err(); err == nil {
			t.Error("the refused publisher exited successfully")
		}
	case <-time.After(10 * time.Second):
		t.Error("the refused publisher was not disconnected")
	}
}
