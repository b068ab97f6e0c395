package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// dialRTMP connects a gortmplib client the way OBS does (server
// rtmp://HOST/live, key separately).
func dialRTMP(t *testing.T, srv *Server, key string, publish bool) (*gortmplib.Client, error) {
	t.Helper()
	u, err := url.Parse(fmt.Sprintf("rtmp://%s/live#%s", srv.ListenAddr(), key))
	if err != nil {
		t.Fatal(err)
	}
	c := &gortmplib.Client{URL: u, Publish: publish}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Initialize(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(c.Close)
	return c, nil
}

// writeTracks announces tracks with gortmplib's Writer (onMetaData + sequence
// headers; H.264 without SPS/PPS uses its built-in 1920x1080 ones).
func writeTracks(c *gortmplib.Client, tracks ...*gortmplib.Track) error {
	w := &gortmplib.Writer{Conn: c, Tracks: tracks}
	return w.Initialize()
}

func h264AndAACTracks() []*gortmplib.Track {
	return []*gortmplib.Track{
		{Codec: &codecs.H264{}},
		{Codec: &codecs.MPEG4Audio{Config: &mpeg4audio.AudioSpecificConfig{
			Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2,
		}}},
	}
}

// waitClosedByServer reads from c until the server closes it.
func waitClosedByServer(t *testing.T, c net.Conn, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(within + 2*time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server did not close the connection within %s", within)
	}
	el := time.Since(start)
	if el > within+time.Second {
		t.Fatalf("server closed the connection after %s, want within %s", el, within)
	}
	return el
}

func rawConn(t *testing.T, srv *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.ListenAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// assertServesPublisher checks the server still accepts a good publisher.
func assertServesPublisher(t *testing.T, srv *Server, rec *recorder) {
	t.Helper()
	c, err := dialRTMP(t, srv, testKey, true)
	if err != nil {
		t.Fatalf("good publisher refused after bad input: %v", err)
	}
	if err := writeTracks(c, h264AndAACTracks()...); err != nil {
		t.Fatal(err)
	}
	pub := rec.next(t, 2*time.Second)
	pub.waitBegin(t, 2*time.Second)
	if v, a := pub.tracks.Video, pub.tracks.Audio; v.Width != 1920 || v.Height != 1080 || a.SampleRate != 44100 || a.Channels != 2 {
		t.Fatalf("tracks %+v %+v", v, a)
	}
	unpublish(t, c)
	if err := pub.waitEnd(t, 2*time.Second); err != nil {
		t.Fatalf("End(%v), want nil after FCUnpublish/deleteStream", err)
	}
	c.Close()
}

// unpublish sends what OBS and ffmpeg send when they stop streaming.
func unpublish(t *testing.T, c *gortmplib.Client) {
	t.Helper()
	for i, name := range []string{"FCUnpublish", "deleteStream"} {
		if err := c.Write(&message.CommandAMF0{
			ChunkStreamID: 3, Name: name, CommandID: 6 + i, Arguments: []any{nil, float64(1)},
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBadClientsAreClosedWithClearLogAndServerKeepsServing(t *testing.T) {
	const (
		handshakeTimeout = 400 * time.Millisecond
		readTimeout      = 700 * time.Millisecond
	)
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{readTimeout: readTimeout, handshakeTimeout: handshakeTimeout})
	baseline := runtime.NumGoroutine()

	tests := []struct {
		name    string
		run     func(t *testing.T)
		wantLog []string
	}{
		{
			name: "wrong stream key",
			run: func(t *testing.T) {
				_, err := dialRTMP(t, srv, "sk_wrong_but_secret", true)
				if err == nil || !strings.Contains(err.Error(), "NetStream.Publish.Unauthorized") {
					t.Fatalf("publish with wrong key: err = %v, want Unauthorized", err)
				}
				if strings.Contains(logs.String(), "sk_wrong_but_secret") {
					t.Fatal("refused key leaked into the log")
				}
			},
			wantLog: []string{"rtmp publish refused by handler", "unknown stream key"},
		},
		{
			name: "random bytes",
			run: func(t *testing.T) {
				c := rawConn(t, srv)
				junk := make([]byte, 8192)
				r := rand.NewChaCha8([32]byte{7})
				_, _ = r.Read(junk)
				junk[0] = 3 // pass the version check, fail deeper
				_, _ = c.Write(junk)
				waitClosedByServer(t, c, handshakeTimeout)
			},
			wantLog: []string{"rtmp connection closed: handshake/connect failed"},
		},
		{
			name: "HTTP request",
			run: func(t *testing.T) {
				c := rawConn(t, srv)
				_, _ = io.WriteString(c, "GET /live/x HTTP/1.1\r\nHost: example\r\n\r\n")
				if el := waitClosedByServer(t, c, handshakeTimeout); el > handshakeTimeout/2 {
					t.Fatalf("HTTP request closed after %s, want immediately", el)
				}
			},
			wantLog: []string{"received an HTTP request on the RTMP port"},
		},
		{
			name: "truncated handshake",
			run: func(t *testing.T) {
				c := rawConn(t, srv)
				_, _ = c.Write(append([]byte{3}, make([]byte, 700)...))
				if el := waitClosedByServer(t, c, handshakeTimeout); el < handshakeTimeout*3/4 {
					t.Fatalf("closed after %s, before HandshakeTimeout", el)
				}
			},
			wantLog: []string{"timed out after 400ms"},
		},
		{
			name: "play request",
			run: func(t *testing.T) {
				before := rec.count()
				_, err := dialRTMP(t, srv, testKey, false)
				if err == nil || !strings.Contains(err.Error(), "RTMP playback is not supported") {
					t.Fatalf("play: err = %v, want playback refused", err)
				}
				if rec.count() != before {
					t.Fatal("play request reached the handler")
				}
			},
			wantLog: []string{"rtmp play request refused"},
		},
		{
			name: "publisher stalls before sending tracks",
			run: func(t *testing.T) {
				if _, err := dialRTMP(t, srv, testKey, true); err != nil {
					t.Fatal(err)
				}
				pub := rec.next(t, time.Second)
				assertStalled(t, pub, readTimeout)
			},
			wantLog: []string{"publisher stalled: no data received for 700ms"},
		},
		{
			name: "publisher stalls after Begin",
			run: func(t *testing.T) {
				c, err := dialRTMP(t, srv, testKey, true)
				if err != nil {
					t.Fatal(err)
				}
				if err := writeTracks(c, h264AndAACTracks()...); err != nil {
					t.Fatal(err)
				}
				pub := rec.next(t, time.Second)
				pub.waitBegin(t, time.Second)
				assertStalled(t, pub, readTimeout)
				waitClosedByServer(t, c.NetConn(), time.Second)
			},
			wantLog: []string{"rtmp publish ended with error", "publisher stalled"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t)
			logs.waitLog(t, 2*time.Second, tc.wantLog...)
		})
		// Subtest cleanups (client conns) have run: back to baseline, and
		// the server still takes a publisher.
		waitGoroutines(t, baseline)
		t.Run(tc.name+" then good publisher", func(t *testing.T) { assertServesPublisher(t, srv, rec) })
		waitGoroutines(t, baseline)
	}
}

func assertStalled(t *testing.T, pub *recPub, readTimeout time.Duration) {
	t.Helper()
	start := time.Now()
	err := pub.waitEnd(t, readTimeout+2*time.Second)
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("End(%v), want ErrStalled", err)
	}
	if el := time.Since(start); el > readTimeout+time.Second {
		t.Fatalf("stall detected after %s, ReadTimeout %s", el, readTimeout)
	}
}

func TestConnectionsBeyondMaxConnsAreClosed(t *testing.T) {
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{handshakeTimeout: 2 * time.Second, maxConns: 1})
	idle := rawConn(t, srv)
	time.Sleep(50 * time.Millisecond)
	extra := rawConn(t, srv)
	if el := waitClosedByServer(t, extra, 500*time.Millisecond); el > 200*time.Millisecond {
		t.Fatalf("extra connection closed after %s, want at once", el)
	}
	logs.waitLog(t, time.Second, "too many connections")
	idle.Close()
}

func TestCloseEndsActivePublicationAndWaitsForGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	rec := newRecorder()
	srv := &Server{Addr: "127.0.0.1:0", Handler: rec, Logger: slog.New(slog.DiscardHandler)}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := dialRTMP(t, srv, testKey, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTracks(c, h264AndAACTracks()...); err != nil {
		t.Fatal(err)
	}
	pub := rec.next(t, time.Second)
	pub.waitBegin(t, time.Second)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.waitEnd(t, time.Second); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("End(%v), want ErrServerClosed", err)
	}
	c.Close()
	waitGoroutines(t, before)
	if _, err := net.Dial("tcp", srv.ListenAddr().String()); err == nil {
		t.Fatal("server still accepting after Close")
	}
}

func TestNewSPSMidStreamEndsPublicationWithClearError(t *testing.T) {
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{})
	c, err := dialRTMP(t, srv, testKey, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTracks(c, h264AndAACTracks()...); err != nil {
		t.Fatal(err)
	}
	pub := rec.next(t, time.Second)
	pub.waitBegin(t, time.Second)
	err = c.Write(&message.Video{
		ChunkStreamID: message.VideoChunkStreamID, MessageStreamID: 0x1000000, Codec: message.CodecH264,
		IsKeyFrame: true, Type: message.VideoTypeConfig, AVCConfig: avcConfig(testSPS, testPPS), DTS: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.waitEnd(t, 2*time.Second); !errors.Is(err, ErrParamsChanged) {
		t.Fatalf("End(%v), want ErrParamsChanged", err)
	}
	logs.waitLog(t, time.Second, "new H.264 SPS/PPS", "the publisher must reconnect")
	waitClosedByServer(t, c.NetConn(), time.Second)
}
