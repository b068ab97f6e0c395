// Package livetest starts real Livehouse servers on random loopback ports and
// real ffmpeg publishers against them. The end-to-end tests and the
// `livehouse bench` commands share it, so benchmarks measure exactly what the
// tests check.
package livetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/server"
	"github.com/livehouse/livehouse/internal/transcode"
)

// Options configure StartServer.
type Options struct {
	DataDir     string // required
	DatabaseURL string
	Ladder      transcode.Ladder
	HLS         hls.Config
	Grace       time.Duration
	ReadTimeout time.Duration
	FFmpegPath  string
	Logger      *slog.Logger
}

// Server is a running Livehouse on loopback.
type Server struct {
	*server.Server
	// HTTP is the base URL, e.g. http://127.0.0.1:41234.
	HTTP string
	// RTMP is the publish URL without the key, e.g. rtmp://127.0.0.1:41235/live.
	RTMP string
}

// StartServer starts a server on random loopback ports.
func StartServer(ctx context.Context, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := server.New(ctx, server.Config{
		HTTPAddr:        "127.0.0.1:0",
		RTMPAddr:        "127.0.0.1:0",
		DataDir:         o.DataDir,
		DatabaseURL:     o.DatabaseURL,
		Ladder:          o.Ladder,
		HLS:             o.HLS,
		FFmpegPath:      o.FFmpegPath,
		Grace:           o.Grace,
		RTMPReadTimeout: o.ReadTimeout,
		Logger:          o.Logger,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		return nil, err
	}
	return &Server{Server: srv, HTTP: "http://" + srv.HTTPAddr(), RTMP: "rtmp://" + srv.RTMPAddr() + "/live"}, nil
}

// CreateChannel creates a channel and returns its stream key.
func (s *Server) CreateChannel(ctx context.Context, slug string) (string, error) {
	_, key, err := s.Store().CreateChannel(ctx, slug)
	return key, err
}

// Source describes the synthetic picture and sound a Publisher sends.
type Source struct {
	Width, Height int     // default 1280x720
	FPS           int     // default 30
	GOP           int     // key frame interval in frames; default FPS (1 s)
	Duration      float64 // seconds; 0 means until stopped
	// VideoCodec defaults to libx264; AudioCodec to aac. AudioCodec "none"
	// sends video only.
	VideoCodec, AudioCodec string
	// Realtime paces the input at its native rate (-re). Default true.
	NotRealtime bool
	// FrameCode draws the frame number into a strip across the top of the
	// picture (see FrameCodeFilter), for frame-accurate latency measurement.
	FrameCode bool
	// VideoKbps caps libx264's bitrate; 0 leaves it to -preset ultrafast.
	VideoKbps int
}

// Publisher is an ffmpeg process publishing over RTMP.
type Publisher struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	err    error
	// Started is when ffmpeg was started.
	Started time.Time
}

// FFmpegArgs returns the ffmpeg arguments publishing src to url.
func FFmpegArgs(src Source, url string) []string {
	if src.Width == 0 {
		src.Width, src.Height = 1280, 720
	}
	if src.FPS == 0 {
		src.FPS = 30
	}
	if src.GOP == 0 {
		src.GOP = src.FPS
	}
	if src.VideoCodec == "" {
		src.VideoCodec = "libx264"
	}
	if src.AudioCodec == "" {
		src.AudioCodec = "aac"
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error"}
	if !src.NotRealtime {
		args = append(args, "-re")
	}
	video := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", src.Width, src.Height, src.FPS)
	if src.Duration > 0 {
		video += ":duration=" + strconv.FormatFloat(src.Duration, 'f', 3, 64)
	}
	args = append(args, "-f", "lavfi", "-i", video)
	if src.AudioCodec != "none" {
		audio := "sine=frequency=440:sample_rate=48000"
		if src.Duration > 0 {
			audio += ":duration=" + strconv.FormatFloat(src.Duration, 'f', 3, 64)
		}
		if !src.NotRealtime {
			args = append(args, "-re")
		}
		args = append(args, "-f", "lavfi", "-i", audio)
	}
	if src.FrameCode {
		args = append(args, "-vf", FrameCodeFilter(src.Width))
	}
	args = append(args, "-c:v", src.VideoCodec)
	if src.VideoCodec == "libx264" {
		args = append(args, "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
			"-g", strconv.Itoa(src.GOP), "-keyint_min", strconv.Itoa(src.GOP), "-sc_threshold", "0", "-bf", "0")
		if src.VideoKbps > 0 {
			rate := strconv.Itoa(src.VideoKbps) + "k"
			args = append(args, "-b:v", rate, "-maxrate", rate, "-bufsize", rate)
		}
	}
	if src.AudioCodec == "none" {
		args = append(args, "-an")
	} else {
		args = append(args, "-c:a", src.AudioCodec)
		if src.AudioCodec != "aac" {
			args = append(args, "-ar", "44100") // FLV carries MP3 and others at 44.1 kHz only
		}
	}
	return append(args, "-f", "flv", url)
}

// Publish starts ffmpeg publishing src to url (rtmp://…/live/KEY).
func Publish(ctx context.Context, ffmpegPath string, src Source, url string) (*Publisher, error) {
	if ffmpegPath == "" {
		ffmpegPath = "ffmpeg"
	}
	cmd := exec.CommandContext(ctx, ffmpegPath, FFmpegArgs(src, url)...)
	p := &Publisher{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	cmd.WaitDelay = 2 * time.Second
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Stop asks ffmpeg to finish cleanly (it unpublishes) and waits.
func (p *Publisher) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// Kill kills ffmpeg at once, as a crash or a network drop would, and waits.
func (p *Publisher) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Done is closed when ffmpeg has exited.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// Err returns ffmpeg's exit error and its stderr, once Done.
func (p *Publisher) Err() (error, string) { return p.err, p.stderr.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Get fetches url and returns the status, headers and body.
func Get(ctx context.Context, client *http.Client, url string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body, err
}

// Variant is one EXT-X-STREAM-INF entry.
type Variant struct {
	Attrs map[string]string
	URI   string
}

var attrRE = regexp.MustCompile(`([A-Z0-9-]+)=("[^"]*"|[^,]*)`)

// ParseMultivariant returns the variants of a multivariant playlist.
func ParseMultivariant(body string) []Variant {
	var out []Variant
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "#EXT-X-STREAM-INF:") || i+1 >= len(lines) {
			continue
		}
		v := Variant{Attrs: map[string]string{}, URI: lines[i+1]}
		for _, m := range attrRE.FindAllStringSubmatch(strings.TrimPrefix(l, "#EXT-X-STREAM-INF:"), -1) {
			v.Attrs[m[1]] = strings.Trim(m[2], `"`)
		}
		out = append(out, v)
	}
	return out
}

// WaitMultivariant polls the channel's multivariant playlist until it lists
// want variants (or any, when want is 0).
func (s *Server) WaitMultivariant(ctx context.Context, slug string, want int) ([]Variant, error) {
	for {
		code, _, body, err := Get(ctx, http.DefaultClient, s.HTTP+"/hls/"+slug+"/index.m3u8")
		if err == nil && code == 200 {
			vs := ParseMultivariant(string(body))
			if len(vs) > 0 && (want == 0 || len(vs) >= want) {
				return vs, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("multivariant of %s never listed %d variants: %w", slug, want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// PID returns ffmpeg's process id.
func (p *Publisher) PID() int { return p.cmd.Process.Pid }
