package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
)

// mediamtxConf has MediaMTX take RTMP and serve Low-Latency HLS with the
// part and window settings of Livehouse's defaults (200 ms parts, 7
// segments; the 2 s GOP makes 2 s segments), and nothing else.
const mediamtxConf = `logLevel: warn
logDestinations: [stdout]
api: no
metrics: no
pprof: no
playback: no
rtsp: no
webrtc: no
srt: no
rtmp: yes
rtmpAddress: {{rtmp}}
hls: yes
hlsAddress: {{hls}}
hlsAlwaysRemux: yes
hlsVariant: lowLatency
hlsSegmentCount: 7
hlsSegmentDuration: 1s
hlsPartDuration: 200ms
paths:
  all_others:
`

// mediamtx is a MediaMTX child process, the LL-HLS server the issue
// measures Livehouse against, with test pictures published to it over
// RTMP by ffmpeg, as Livehouse's are.
type mediamtx struct {
	rtmp, hls string
	dir       string
	cmd       *exec.Cmd
	done      chan error
	pubs      []*livetest.Publisher
	// playlists maps a stream path to its (video) media playlist URL.
	playlists map[string]string
}

func startMediaMTX(ctx context.Context, bin string) (*mediamtx, error) {
	dir, err := os.MkdirTemp("", "livehouse-bench-mediamtx-")
	if err != nil {
		return nil, err
	}
	var addrs []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		addrs = append(addrs, l.Addr().String())
		l.Close()
	}
	conf := strings.NewReplacer("{{rtmp}}", addrs[0], "{{hls}}", addrs[1]).Replace(mediamtxConf)
	confPath := filepath.Join(dir, "mediamtx.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "mediamtx.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, bin, confPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bench origin: start MediaMTX: %w", err)
	}
	m := &mediamtx{rtmp: "rtmp://" + addrs[0], hls: "http://" + addrs[1], dir: dir, cmd: cmd,
		done: make(chan error, 1), playlists: map[string]string{}}
	go func() { m.done <- cmd.Wait() }()
	if err := waitListening(addrs[1], m.done, 10*time.Second); err != nil {
		text := m.log()
		m.close()
		return nil, fmt.Errorf("bench origin: MediaMTX %w: %s", err, text)
	}
	return m, nil
}

// publish has ffmpeg publish src to MediaMTX under path, and waits until
// the stream's media playlist lists a complete segment.
func (m *mediamtx) publish(ctx context.Context, client *http.Client, path string, src livetest.Source) error {
	pub, err := livetest.Publish(ctx, "", src, m.rtmp+"/"+path)
	if err != nil {
		return err
	}
	m.pubs = append(m.pubs, pub)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	base := m.hls + "/" + path + "/"
	var last []byte
	for {
		if wctx.Err() != nil {
			return fmt.Errorf("bench origin: MediaMTX has no complete segment of %s: %w; last answer:\n%s\n%s", path, wctx.Err(), last, m.log())
		}
		code, _, body, err := livetest.Get(wctx, client, base+"index.m3u8")
		last = body
		if err == nil && code == http.StatusOK {
			if uri, ok := firstVariant(string(body)); ok {
				m.playlists[path] = base + uri
				code, _, body, err = livetest.Get(wctx, client, base+uri)
				last = body
				if _, ok := newestSegmentURI(string(body)); ok && err == nil && code == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-pub.Done():
			_, stderr := pub.Err()
			return fmt.Errorf("bench origin: the publisher to MediaMTX exited: %s", stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var (
	variantURIRE = regexp.MustCompile(`(?m)^#EXT-X-STREAM-INF:[^\n]*\n([^#\s][^\n]*)$`)
	anyPartRE    = regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="([^"]+)"`)
	segmentURIRE = regexp.MustCompile(`(?m)^#EXTINF:[^\n]*\n([^#\s][^\n]*)$`)
)

func firstVariant(multivariant string) (string, bool) {
	m := variantURIRE.FindStringSubmatch(multivariant)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

// newestSegmentURI names the newest complete segment of a media playlist.
func newestSegmentURI(playlist string) (string, bool) {
	m := segmentURIRE.FindAllStringSubmatch(playlist, -1)
	if len(m) == 0 {
		return "", false
	}
	return strings.TrimSpace(m[len(m)-1][1]), true
}

// newestPartURI names the newest complete part: MediaMTX serves a part
// while its segment is in the window, about 12 s from its start here.
func newestPartURI(playlist string) (string, bool) {
	m := anyPartRE.FindAllStringSubmatch(playlist, -1)
	if len(m) == 0 {
		return "", false
	}
	return m[len(m)-1][1], true
}

// pick names the URL of kind (playlist, part or segment) of the stream at
// path that exists now, and returns its body.
func (m *mediamtx) pick(ctx context.Context, client *http.Client, path, kind string) (string, []byte, error) {
	playlist, ok := m.playlists[path]
	if !ok {
		return "", nil, fmt.Errorf("bench origin: no MediaMTX stream %q", path)
	}
	code, _, body, err := livetest.Get(ctx, client, playlist)
	if err != nil || code != http.StatusOK {
		return "", nil, fmt.Errorf("bench origin: MediaMTX playlist %s: %d %v", playlist, code, err)
	}
	url := playlist
	if kind != "playlist" {
		pickURI := newestPartURI
		if kind == "segment" {
			pickURI = newestSegmentURI
		}
		uri, ok := pickURI(string(body))
		if !ok {
			return "", nil, fmt.Errorf("bench origin: no %s in MediaMTX's playlist:\n%s", kind, body)
		}
		url = playlist[:strings.LastIndexByte(playlist, '/')+1] + uri
		if code, _, body, err = livetest.Get(ctx, client, url); err != nil || code != http.StatusOK {
			return "", nil, fmt.Errorf("bench origin: MediaMTX %s: %d %v", url, code, err)
		}
	}
	return url, body, nil
}

// cpu is the CPU time MediaMTX has used.
func (m *mediamtx) cpu() time.Duration {
	if m.cmd.Process == nil {
		return 0
	}
	_, ticks, _ := procStat(m.cmd.Process.Pid)
	return time.Duration(ticks) * 10 * time.Millisecond
}

func (m *mediamtx) log() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "mediamtx.log"))
	return string(b)
}

func (m *mediamtx) close() {
	for _, p := range m.pubs {
		p.Stop()
	}
	stopChild(m.cmd, m.done)
	os.RemoveAll(m.dir)
}
