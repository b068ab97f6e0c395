package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/media"
	"github.com/livehouse/livehouse/internal/transcode"
)

// Targets of the origin benchmark (docs/bench/origin.md).
const (
	originPartTarget     = 25000 // requests/s
	originPlaylistTarget = 18000 // requests/s
	originRSSTarget      = 300 << 20
)

const originSlug = "bench"

// originOptions are the flags of `livehouse bench origin`.
type originOptions struct {
	duration      time.Duration
	runs          int
	threads       int
	conns         []int
	blocked       int
	wrk           string
	width, height int
	renditions    string
	profiles      string
	baseline      string // nginx binary for the side-by-side static baseline, or ""
	mediamtx      string // MediaMTX binary for the side-by-side LL-HLS baseline, or ""
}

func parseOriginFlags(args []string, out io.Writer) (originOptions, error) {
	var o originOptions
	fs := flag.NewFlagSet("bench origin", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each wrk run")
	fs.IntVar(&o.runs, "runs", 3, "wrk runs per request kind; the report gives the median")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads (-t)")
	conns := fs.String("connections", "64", "wrk connections (-c); a comma list runs each setting")
	fs.IntVar(&o.blocked, "blocked", 10000, "blocking playlist requests to hold at once (0 skips)")
	fs.StringVar(&o.wrk, "wrk", "wrk", "wrk binary")
	size := fs.String("source", "1280x720", "size of the published test picture")
	fs.StringVar(&o.renditions, "renditions", "top,bottom",
		"renditions whose parts and segments are measured: names, or top and bottom of the ladder")
	fs.StringVar(&o.profiles, "profiles", "",
		"directory for CPU profiles of the server during each first wrk run, and a heap profile while requests are held")
	fs.StringVar(&o.baseline, "baseline", "nginx",
		"nginx binary that serves the same part and segment bytes from a file, run side by side (none skips)")
	fs.StringVar(&o.mediamtx, "mediamtx", "",
		"MediaMTX binary, run side by side with the same test picture published to it (Debian does not package it; see docs/bench/origin.md)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.baseline == "none" {
		o.baseline = ""
	}
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return o, fmt.Errorf("bench origin: bad -connections %q", *conns)
		}
		o.conns = append(o.conns, max(n, o.threads))
	}
	w, h, ok := strings.Cut(*size, "x")
	o.width, _ = strconv.Atoi(w)
	o.height, _ = strconv.Atoi(h)
	if !ok || o.width < 64 || o.height < 64 || o.width%2+o.height%2 != 0 {
		return o, fmt.Errorf("bench origin: bad -source %q, want WIDTHxHEIGHT (even)", *size)
	}
	if o.runs < 1 || o.threads < 1 || o.duration < time.Second || o.blocked < 0 {
		return o, errors.New("bench origin: -runs and -threads must be positive, -duration at least 1s")
	}
	return o, nil
}

// Origin measures the LL-HLS origin while a stream is live: wrk throughput
// of a plain media playlist request, a part and a segment, and the memory
// and wake-up time of many blocking playlist requests held at once. The
// server runs in this process, so its memory is this process's RSS.
func Origin(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseOriginFlags(args, out)
	if err != nil {
		return err
	}
	wrk, err := exec.LookPath(o.wrk)
	if err != nil {
		return fmt.Errorf("bench origin needs wrk (apt-get install wrk): %w", err)
	}
	if o.blocked > 0 {
		// The server's ends of the held requests are in this process; the
		// clients' are in a child.
		want := uint64(o.blocked + 1024)
		if err := raiseFileLimit(want); err != nil {
			return fmt.Errorf("bench origin: %d held requests need %d open files: %w (try ulimit -n %d, or a smaller -blocked)",
				o.blocked, want, err, want)
		}
		if _, err := exec.LookPath("bash"); err != nil {
			return fmt.Errorf("bench origin: bash holds the client sockets of -blocked: %w", err)
		}
	}
	if o.baseline != "" {
		if o.baseline, err = exec.LookPath(o.baseline); err != nil {
			return fmt.Errorf("bench origin: the static baseline needs nginx (apt-get install nginx, or -baseline none): %w", err)
		}
	}
	if o.mediamtx != "" {
		if o.mediamtx, err = exec.LookPath(o.mediamtx); err != nil {
			return fmt.Errorf("bench origin: -mediamtx: %w", err)
		}
	}
	live, err := startOriginStream(ctx, o)
	if err != nil {
		return err
	}
	defer live.close()
	if o.mediamtx != "" {
		if err := live.startMediaMTXStreams(ctx, o); err != nil {
			return err
		}
	}
	if o.baseline != "" {
		// As many workers as the server has cores to use.
		if live.nginx, err = startStaticNginx(ctx, o.baseline, runtime.GOMAXPROCS(0)); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "# livehouse bench origin %s\n\n", strings.Join(args, " "))
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, %s, load average %s at start; wrk and the server share the CPUs\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, originMemTotal(), loadAverage())
	fmt.Fprintf(out, "stream: %dx%d test picture, 2 s GOP, default ladder (%s); parts 200 ms\n\n",
		o.width, o.height, strings.Join(live.names, ", "))

	rows, err := live.throughput(ctx, o, wrk, out)
	if err != nil {
		return err
	}
	writeThroughput(out, o, rows)
	if o.blocked > 0 {
		res, err := live.holdBlockedRetrying(ctx, o.blocked, out)
		if err != nil {
			return err
		}
		res.write(out)
	}
	fmt.Fprintf(out, "\nload average at the end: %s\n", loadAverage())
	return nil
}

// loadAverage is the 1, 5 and 15 minute load average, which says how much
// else ran on the machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b) + " ? ? ?")[:3], " ")
}

// originStream is a live stream on an in-process server.
type originStream struct {
	srv    *livetest.Server
	pub    *livetest.Publisher
	dir    string
	client *http.Client
	base   string   // http://host/hls/bench/<broadcast>/
	names  []string // renditions, top first
	// profileDir receives a heap profile while the blocking requests are
	// held, when set.
	profileDir string
	// nginx serves copies of the measured parts and segments as the
	// side-by-side baseline, when set.
	nginx *staticNginx
	// mtx is MediaMTX with a stream like each measured rendition published
	// to it under the rendition's name, when set.
	mtx *mediamtx
}

// startMediaMTXStreams starts MediaMTX and publishes to it, for each measured
// rendition, the same test picture: the source as it is for the passthrough
// rendition, and for a transcoded one a picture of its size and bitrate
// (MediaMTX does not transcode).
func (s *originStream) startMediaMTXStreams(ctx context.Context, o originOptions) error {
	targets, err := s.targets(o)
	if err != nil {
		return err
	}
	if s.mtx, err = startMediaMTX(ctx, o.mediamtx); err != nil {
		return err
	}
	plan := transcode.DefaultLadder().Plan(media.Tracks{Video: &media.H264{Width: o.width, Height: o.height}})
	for _, t := range targets {
		if _, ok := s.mtx.playlists[t.rendition]; ok {
			continue
		}
		src := livetest.Source{Width: o.width, Height: o.height, GOP: 60}
		for _, r := range plan {
			if r.Name == t.rendition && !r.Passthrough {
				src = livetest.Source{Width: r.Width, Height: r.Height, GOP: 60, VideoKbps: r.VideoKbps}
			}
		}
		if err := s.mtx.publish(ctx, s.client, t.rendition, src); err != nil {
			return err
		}
	}
	return nil
}

func startOriginStream(ctx context.Context, o originOptions) (*originStream, error) {
	dir, err := os.MkdirTemp("", "livehouse-bench-origin-")
	if err != nil {
		return nil, err
	}
	s := &originStream{dir: dir, profileDir: o.profiles,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	s.srv, err = livetest.StartServer(ctx, livetest.Options{DataDir: dir})
	if err != nil {
		s.close()
		return nil, err
	}
	key, err := s.srv.CreateChannel(ctx, originSlug)
	if err != nil {
		s.close()
		return nil, err
	}
	s.pub, err = livetest.Publish(ctx, "", livetest.Source{Width: o.width, Height: o.height, GOP: 60},
		s.srv.RTMP+"/"+key)
	if err != nil {
		s.close()
		return nil, err
	}
	want := len(transcode.DefaultLadder().Plan(media.Tracks{Video: &media.H264{Width: o.width, Height: o.height}}))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	vs, err := s.srv.WaitMultivariant(wctx, originSlug, want)
	if err != nil {
		s.close()
		return nil, err
	}
	for _, v := range vs {
		broadcast, name, _ := strings.Cut(strings.TrimSuffix(v.URI, "/index.m3u8"), "/")
		s.base = s.srv.HTTP + "/hls/" + originSlug + "/" + broadcast + "/"
		s.names = append(s.names, name)
	}
	// Wait for a complete segment in every rendition: the newest one and
	// its parts stay in the window for SegmentCount segments.
	var last []byte
	for _, name := range s.names {
		for {
			code, _, body, err := livetest.Get(wctx, s.client, s.base+name+"/index.m3u8")
			if err != nil && wctx.Err() != nil {
				s.close()
				return nil, fmt.Errorf("bench origin: no complete segment in %s: %w; last playlist:\n%s", name, err, last)
			}
			last = body
			if _, ok := newestCompletePart(string(body)); ok && code == http.StatusOK {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return s, nil
}

func (s *originStream) close() {
	if s.pub != nil {
		s.pub.Stop()
	}
	if s.srv != nil {
		s.srv.Close()
	}
	if s.nginx != nil {
		s.nginx.close()
	}
	if s.mtx != nil {
		s.mtx.close()
	}
	s.client.CloseIdleConnections()
	os.RemoveAll(s.dir)
}

// originTarget is one URL measured with wrk.
type originTarget struct {
	kind, rendition string
	pick            func(playlist string) (string, bool) // file name in the rendition
}

var (
	originSegRE  = regexp.MustCompile(`(?m)^seg(\d+)\.m4s$`)
	originPartRE = regexp.MustCompile(`URI="(part(\d+)\.(\d+)\.m4s)"`)
	originHintRE = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part(\d+)\.`)
)

// newestSegment names the newest complete segment: it stays in the window
// for SegmentCount segments, far longer than a run.
func newestSegment(playlist string) (string, bool) {
	m := originSegRE.FindAllStringSubmatch(playlist, -1)
	if len(m) == 0 {
		return "", false
	}
	return m[len(m)-1][0], true
}

// newestCompletePart names part 0 of the newest complete segment.
func newestCompletePart(playlist string) (string, bool) {
	seg, ok := newestSegment(playlist)
	if !ok {
		return "", false
	}
	msn := strings.TrimSuffix(strings.TrimPrefix(seg, "seg"), ".m4s")
	for _, m := range originPartRE.FindAllStringSubmatch(playlist, -1) {
		if m[2] == msn && m[3] == "0" {
			return m[1], true
		}
	}
	return "", false
}

func (s *originStream) targets(o originOptions) ([]originTarget, error) {
	plain := func(string) (string, bool) { return "index.m3u8", true }
	out := []originTarget{{kind: "playlist", rendition: s.names[0], pick: plain}}
	for _, r := range strings.Split(o.renditions, ",") {
		switch r = strings.TrimSpace(r); r {
		case "top":
			r = s.names[0]
		case "bottom":
			r = s.names[len(s.names)-1]
		}
		if !slices.Contains(s.names, r) {
			return nil, fmt.Errorf("bench origin: no rendition %q in %v", r, s.names)
		}
		if slices.ContainsFunc(out, func(t originTarget) bool { return t.rendition == r && t.kind == "part" }) {
			continue
		}
		out = append(out, originTarget{kind: "part", rendition: r, pick: newestCompletePart},
			originTarget{kind: "segment", rendition: r, pick: newestSegment})
	}
	return out, nil
}

// originRow is the result of the runs of one target at one setting.
type originRow struct {
	target originTarget
	conns  int
	size   int
	runs   []wrkResult
	// nginx holds the baseline's runs on the same bytes, each made right
	// after the run of the same index.
	nginx []wrkResult
	// mtx holds MediaMTX's runs on the same kind of request, likewise, and
	// mtxSize the size of its answer.
	mtx     []wrkResult
	mtxSize int
}

func (s *originStream) throughput(ctx context.Context, o originOptions, wrk string, progress io.Writer) ([]originRow, error) {
	targets, err := s.targets(o)
	if err != nil {
		return nil, err
	}
	var rows []originRow
	for _, t := range targets {
		for _, c := range o.conns {
			row := originRow{target: t, conns: c}
			for run := range o.runs {
				url, body, err := s.pickURL(ctx, t)
				if err != nil {
					return nil, err
				}
				row.size = len(body)
				var profile string
				if o.profiles != "" && run == 0 {
					profile = filepath.Join(o.profiles, fmt.Sprintf("origin-%s-%s-c%d.pprof", t.kind, t.rendition, c))
				}
				res, err := runWrk(ctx, wrk, o.threads, c, o.duration, url, profile)
				if err != nil {
					return nil, err
				}
				if res.non2xx > 0 {
					return nil, fmt.Errorf("bench origin: wrk %s: %d non-2xx responses", url, res.non2xx)
				}
				fmt.Fprintf(progress, "  %s %s -c%d run %d: %.0f req/s\n", t.kind, t.rendition, c, run+1, res.rps)
				row.runs = append(row.runs, res)
				if s.nginx != nil && t.kind != "playlist" {
					base, err := s.nginxRun(ctx, o, wrk, c, t, body)
					if err != nil {
						return nil, err
					}
					fmt.Fprintf(progress, "  %s %s -c%d run %d, nginx static baseline: %.0f req/s\n", t.kind, t.rendition, c, run+1, base.rps)
					row.nginx = append(row.nginx, base)
				}
				if s.mtx != nil {
					if _, ok := s.mtx.playlists[t.rendition]; ok {
						base, size, err := s.mediamtxRun(ctx, o, wrk, c, t)
						if err != nil {
							return nil, err
						}
						fmt.Fprintf(progress, "  %s %s -c%d run %d, MediaMTX: %.0f req/s\n", t.kind, t.rendition, c, run+1, base.rps)
						row.mtx, row.mtxSize = append(row.mtx, base), size
					}
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// pickURL names a URL of target that exists now and stays for a run, and
// returns its body.
func (s *originStream) pickURL(ctx context.Context, t originTarget) (string, []byte, error) {
	dir := s.base + t.rendition + "/"
	code, _, body, err := livetest.Get(ctx, s.client, dir+"index.m3u8")
	if err != nil || code != http.StatusOK {
		return "", nil, fmt.Errorf("bench origin: playlist of %s: %d %v", t.rendition, code, err)
	}
	name, ok := t.pick(string(body))
	if !ok {
		return "", nil, fmt.Errorf("bench origin: no %s in the playlist of %s:\n%s", t.kind, t.rendition, body)
	}
	code, _, body, err = livetest.Get(ctx, s.client, dir+name)
	if err != nil || code != http.StatusOK {
		return "", nil, fmt.Errorf("bench origin: %s: %d %v", dir+name, code, err)
	}
	return dir + name, body, nil
}

// nginxRun has nginx serve body from a file and runs wrk against it with
// the settings of the Livehouse run it follows, while the stream stays live.
func (s *originStream) nginxRun(ctx context.Context, o originOptions, wrk string, conns int, t originTarget, body []byte) (wrkResult, error) {
	url, err := s.nginx.put(t.kind+"-"+t.rendition+".m4s", body)
	if err != nil {
		return wrkResult{}, err
	}
	code, _, got, err := livetest.Get(ctx, s.client, url)
	if err != nil || code != http.StatusOK || !bytes.Equal(got, body) {
		return wrkResult{}, fmt.Errorf("bench origin: nginx baseline %s: %d %v (%d of %d bytes)", url, code, err, len(got), len(body))
	}
	cpu0, t0 := s.nginx.cpu(), time.Now()
	res, err := runWrk(ctx, wrk, o.threads, conns, o.duration, url, "")
	if err != nil {
		return res, err
	}
	if res.non2xx > 0 {
		return res, fmt.Errorf("bench origin: wrk %s: %d non-2xx responses", url, res.non2xx)
	}
	res.cpu = (s.nginx.cpu() - cpu0).Seconds() / time.Since(t0).Seconds() // nginx's, not this process's
	return res, nil
}

// mediamtxRun runs wrk against MediaMTX's answer of the kind of t for the
// stream published for t's rendition, with the settings of the Livehouse
// run it follows.
func (s *originStream) mediamtxRun(ctx context.Context, o originOptions, wrk string, conns int, t originTarget) (wrkResult, int, error) {
	url, body, err := s.mtx.pick(ctx, s.client, t.rendition, t.kind)
	if err != nil {
		return wrkResult{}, 0, err
	}
	cpu0, t0 := s.mtx.cpu(), time.Now()
	res, err := runWrk(ctx, wrk, o.threads, conns, o.duration, url, "")
	if err != nil {
		return res, 0, err
	}
	if res.non2xx > 0 {
		return res, 0, fmt.Errorf("bench origin: wrk %s: %d non-2xx responses from MediaMTX (a -duration over 10s outlives its parts)", url, res.non2xx)
	}
	res.cpu = (s.mtx.cpu() - cpu0).Seconds() / time.Since(t0).Seconds()
	return res, len(body), nil
}

// wrkResult is what one wrk run reports.
type wrkResult struct {
	rps      float64
	transfer string
	p50, p99 string
	non2xx   int
	errors   int
	cpu      float64 // CPU-seconds per second this process (the server) used
}

var (
	wrkRPSRE      = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkTransferRE = regexp.MustCompile(`Transfer/sec:\s+(\S+)`)
	wrkNon2xxRE   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkErrorsRE   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkLatencyRE  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
)

func runWrk(ctx context.Context, wrk string, threads, conns int, d time.Duration, url, profile string) (wrkResult, error) {
	cmd := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(int(d.Round(time.Second)/time.Second))+"s", "--timeout", "10s", "--latency", url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return wrkResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return wrkResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, t0 := processCPU(), time.Now()
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("bench origin: wrk: %w: %s", err, stderr.String())
	}
	res := wrkResult{cpu: (processCPU() - cpu0).Seconds() / time.Since(t0).Seconds()}
	text := stdout.String()
	m := wrkRPSRE.FindStringSubmatch(text)
	if m == nil {
		return res, fmt.Errorf("bench origin: no Requests/sec in wrk output:\n%s", text)
	}
	res.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkTransferRE.FindStringSubmatch(text); m != nil {
		res.transfer = m[1]
	}
	if m := wrkNon2xxRE.FindStringSubmatch(text); m != nil {
		res.non2xx, _ = strconv.Atoi(m[1])
	}
	if m := wrkErrorsRE.FindStringSubmatch(text); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			res.errors += n
		}
	}
	for _, m := range wrkLatencyRE.FindAllStringSubmatch(text, -1) {
		if m[1] == "50" {
			res.p50 = m[2]
		} else {
			res.p99 = m[2]
		}
	}
	return res, nil
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// medianRun returns the run with the median requests/s.
func medianRun(runs []wrkResult) wrkResult {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b wrkResult) int { return cmp.Compare(a.rps, b.rps) })
	return s[len(s)/2]
}

func writeThroughput(out io.Writer, o originOptions, rows []originRow) {
	fmt.Fprintf(out, "\nwrk -t%d -d%v --latency, median of %d runs\n\n", o.threads, o.duration, o.runs)
	fmt.Fprintln(out, "| request | rendition | size | wrk -c | req/s (median) | all runs | transfer/s | p50 | p99 | socket errors | server CPU | req/s per server core | target |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rows {
		m := medianRun(r.runs)
		target := ""
		switch r.target.kind {
		case "part":
			target = originVerdict(m.rps, originPartTarget)
		case "playlist":
			target = originVerdict(m.rps, originPlaylistTarget)
		}
		fmt.Fprintf(out, "| %s | %s | %s | %d | %.0f | %s | %s | %s | %s | %d | %.2f cores | %.0f | %s |\n",
			r.target.kind, r.target.rendition, originBytes(r.size), r.conns, m.rps, rpsList(r.runs),
			m.transfer, m.p50, m.p99, m.errors, m.cpu, perCore(m), target)
	}
	writeBaseline(out, rows)
	writeMediaMTX(out, rows)
}

// writeMediaMTX sets each request beside MediaMTX answering the same kind
// of request, measured in alternating runs.
func writeMediaMTX(out io.Writer, rows []originRow) {
	with := rowsWith(rows, func(r originRow) []wrkResult { return r.mtx })
	if len(with) == 0 {
		return
	}
	fmt.Fprintln(out, "\nSide by side: MediaMTX (LL-HLS, 200 ms parts) serving a stream like the rendition, published to it by ffmpeg over RTMP (the same picture for the passthrough rendition; the rendition's size and bitrate otherwise), each run right after Livehouse's")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| request | rendition | Livehouse size | MediaMTX size | wrk -c | Livehouse req/s (median) | MediaMTX req/s (median) | MediaMTX all runs | MediaMTX p99 | Livehouse ÷ MediaMTX | Livehouse req/s per core | MediaMTX req/s per core | per core, Livehouse ÷ MediaMTX |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, r := range with {
		m, n := medianRun(r.runs), medianRun(r.mtx)
		lc, nc := perCore(m), perCore(n)
		fmt.Fprintf(out, "| %s | %s | %s | %s | %d | %.0f | %.0f | %s | %s | %.2f× | %.0f | %.0f | %.2f× |\n",
			r.target.kind, r.target.rendition, originBytes(r.size), originBytes(r.mtxSize), r.conns, m.rps, n.rps,
			rpsList(r.mtx), n.p99, m.rps/max(n.rps, 1), lc, nc, lc/max(nc, 1))
	}
}

// rowsWith returns the rows that have baseline runs.
func rowsWith(rows []originRow, runs func(originRow) []wrkResult) []originRow {
	var with []originRow
	for _, r := range rows {
		if len(runs(r)) > 0 {
			with = append(with, r)
		}
	}
	return with
}

// rpsList lists the requests/s of each run.
func rpsList(runs []wrkResult) string {
	all := make([]string, len(runs))
	for i, run := range runs {
		all[i] = strconv.FormatFloat(run.rps, 'f', 0, 64)
	}
	return strings.Join(all, ", ")
}

// perCore is requests/s per core of the CPU the serving process used.
func perCore(r wrkResult) float64 { return r.rps / max(r.cpu, 0.01) }

// writeBaseline sets each part and segment beside nginx serving the same
// bytes from a file with sendfile, measured in alternating runs: the
// machine's cost of moving those bytes, apart from anything Livehouse does.
func writeBaseline(out io.Writer, rows []originRow) {
	with := rowsWith(rows, func(r originRow) []wrkResult { return r.nginx })
	if len(with) == 0 {
		return
	}
	fmt.Fprintln(out, "\nSide by side: nginx (static file, sendfile, as many workers as the server has cores) serving the same bytes, each run right after Livehouse's")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| request | rendition | size | wrk -c | Livehouse req/s (median) | nginx req/s (median) | nginx all runs | nginx transfer/s | Livehouse ÷ nginx | Livehouse req/s per core | nginx req/s per core | per core, Livehouse ÷ nginx |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, r := range with {
		m, n := medianRun(r.runs), medianRun(r.nginx)
		lc, nc := perCore(m), perCore(n)
		fmt.Fprintf(out, "| %s | %s | %s | %d | %.0f | %.0f | %s | %s | %.2f× | %.0f | %.0f | %.2f× |\n",
			r.target.kind, r.target.rendition, originBytes(r.size), r.conns, m.rps, n.rps,
			rpsList(r.nginx), n.transfer, m.rps/max(n.rps, 1), lc, nc, lc/max(nc, 1))
	}
}

func originVerdict(got, want float64) string {
	if got >= want {
		return fmt.Sprintf("≥ %.0f met", want)
	}
	return fmt.Sprintf("≥ %.0f MISSED", want)
}

func originBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// blockedResult is what holding many blocking playlist requests cost.
type blockedResult struct {
	n                  int
	target             string
	open               time.Duration // to connect and send every request
	baseRSS, heldRSS   uint64
	baseHeap           uint64
	heapInuse, stacks  uint64
	held               int           // requests in a handler at once, from the goroutine count
	appeared           time.Duration // from the last request sent to the part appearing
	done               time.Duration // from the part appearing to every handler returning
	ok, other, missing int
}

// holderScript holds the client ends of the blocking requests in a child
// process: this machine caps open files at 20,000 per process and offers no
// way to raise it, and 10,000 requests need 10,000 sockets at each end. Bash
// needs no goroutine or buffer per socket, so the client costs the server's
// process nothing. It connects and sends n requests, says "sent", waits for a
// line on stdin, then reads every status line. (No read -t: bash implements
// it with select(2), which aborts on descriptors past 1023.)
const holderScript = `target=$1 port=$2 n=$3
fds=()
for ((i = 0; i < n; i++)); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || { echo "connect $i failed"; exit 1; }
	printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$target" >&"$fd" || exit 1
	fds+=("$fd")
done
echo sent
read -r _
ok=0 other=0 none=0
for fd in "${fds[@]}"; do
	if IFS= read -r -u "$fd" line; then
		case $line in "HTTP/1.1 200 "*) ok=$((ok + 1)) ;; *) other=$((other + 1)) ;; esac
	else
		none=$((none + 1))
	fi
done
echo "$ok $other $none"
`

// holderSockets is how many sockets one holder opens; several holders
// connect in parallel.
const holderSockets = 2500

// holder is a bash process holding the client ends of blocking requests.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

func startHolder(ctx context.Context, target, port string, n int) (*holder, error) {
	cmd := exec.CommandContext(ctx, "bash", "-c", holderScript, "holder", target, port, strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench origin: bash holds the client sockets: %w", err)
	}
	return &holder{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}, nil
}

// waitSent waits until every request is sent.
func (h *holder) waitSent() error {
	if !h.lines.Scan() || h.lines.Text() != "sent" {
		return fmt.Errorf("bench origin: holder: %q %v", h.lines.Text(), h.lines.Err())
	}
	return nil
}

// collect reads every answer's status line and counts them.
func (h *holder) collect() (ok, other, none int, err error) {
	if _, err := io.WriteString(h.stdin, "read\n"); err != nil {
		return 0, 0, 0, err
	}
	if !h.lines.Scan() {
		return 0, 0, 0, fmt.Errorf("bench origin: holder: %v", h.lines.Err())
	}
	if _, err := fmt.Sscan(h.lines.Text(), &ok, &other, &none); err != nil {
		return 0, 0, 0, fmt.Errorf("bench origin: holder said %q: %w", h.lines.Text(), err)
	}
	return ok, other, none, nil
}

func (h *holder) close() {
	h.stdin.Close()
	_ = h.cmd.Process.Kill()
	_ = h.cmd.Wait()
}

// errNotHeld means the requests could not all be held before the part they
// wait for appeared: the machine was too busy to open them in time.
var errNotHeld = errors.New("bench origin: blocking requests not all held")

// holdBlockedRetrying tries holdBlocked up to three times, as a busy machine
// may be too slow to open every connection within two segments.
func (s *originStream) holdBlockedRetrying(ctx context.Context, n int, progress io.Writer) (*blockedResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := s.holdBlocked(ctx, n)
		if !errors.Is(err, errNotHeld) || attempt == 3 {
			return res, err
		}
		fmt.Fprintf(progress, "  %v; trying again\n", err)
	}
}

// holdBlocked has n blocking playlist requests for a part two segments
// ahead held at once, checks that the server holds them all, measures its
// memory, then lets the part appear and counts the answers.
func (s *originStream) holdBlocked(ctx context.Context, n int) (*blockedResult, error) {
	rend := s.names[len(s.names)-1]
	playlist := s.base + rend + "/index.m3u8"
	// Start just after a segment begins, so the part two segments ahead is
	// two whole GOPs (4 s) away, within the origin's hold limit of three
	// target durations (6 s).
	open, err := s.openSegment(ctx, playlist)
	if err != nil {
		return nil, err
	}
	code, _, _, err := livetest.Get(ctx, s.client, fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=0", playlist, open+1))
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("bench origin: waiting for segment %d: %d %v", open+1, code, err)
	}
	query := fmt.Sprintf("?_HLS_msn=%d&_HLS_part=0", open+3)
	res := &blockedResult{n: n, target: strings.TrimPrefix(playlist, s.srv.HTTP) + query}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.srv.HTTP, "http://"))

	runtime.GC()
	debug.FreeOSMemory()
	res.baseRSS = processRSS()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.baseHeap = ms.HeapInuse
	base := runtime.NumGoroutine()
	// Our own client waits for the same part, to time its appearance.
	appeared := make(chan time.Time, 1)
	go func() {
		_, _, _, _ = livetest.Get(ctx, s.client, playlist+query)
		appeared <- time.Now()
	}()

	start := time.Now()
	var holders []*holder
	defer func() {
		for _, h := range holders {
			h.close()
		}
	}()
	for i := 0; i < n; i += holderSockets {
		h, err := startHolder(ctx, res.target, port, min(holderSockets, n-i))
		if err != nil {
			return nil, err
		}
		holders = append(holders, h)
	}
	for _, h := range holders {
		if err := h.waitSent(); err != nil {
			return nil, err
		}
	}
	sent := time.Now()
	res.open = sent.Sub(start)

	// Held means a handler runs for every request at once: net/http runs
	// two goroutines per request in a handler, the connection's and its
	// background read. Our own waiting client adds one or two.
	want := base + 2*n
	for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() < want && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-appeared:
		return nil, fmt.Errorf("%w: the part appeared %v after the first request was sent, before all %d were held",
			errNotHeld, time.Since(start), n)
	default:
	}
	res.held = min(n, (runtime.NumGoroutine()-base)/2)
	res.heldRSS = processRSS()
	runtime.ReadMemStats(&ms)
	if s.profileDir != "" {
		if err := writeHeapProfile(filepath.Join(s.profileDir, "origin-held.heap.pprof")); err != nil {
			return nil, err
		}
	}
	res.heapInuse, res.stacks = ms.HeapInuse, ms.StackInuse
	if res.held < n {
		return nil, fmt.Errorf("%w: only about %d of %d requests were held at once", errNotHeld, res.held, n)
	}

	// The part appears when the first handler returns (the goroutine count
	// drops) or our own client is answered, whichever is seen first; all
	// are answered when the handlers' goroutines are gone (a few may
	// belong to our own client's connection).
	held := runtime.NumGoroutine()
	var at, done time.Time
	for deadline := time.Now().Add(10 * time.Second); done.IsZero() && time.Now().Before(deadline); {
		g, now := runtime.NumGoroutine(), time.Now()
		select {
		case t := <-appeared:
			if at.IsZero() {
				at = t
			}
		default:
		}
		if at.IsZero() && g < held-4 {
			at = now
		}
		if g <= base+4 {
			done = now
		}
		time.Sleep(500 * time.Microsecond)
	}
	if at.IsZero() || done.IsZero() {
		return nil, fmt.Errorf("bench origin: the held requests were not all answered within 10 s (%d goroutines, %d before)",
			runtime.NumGoroutine(), base)
	}
	res.appeared, res.done = at.Sub(sent), done.Sub(at)

	for _, h := range holders {
		ok, other, none, err := h.collect()
		if err != nil {
			return nil, err
		}
		res.ok, res.other, res.missing = res.ok+ok, res.other+other, res.missing+none
	}
	return res, nil
}

// openSegment returns the media sequence number of the segment being built.
func (s *originStream) openSegment(ctx context.Context, playlist string) (uint64, error) {
	code, _, body, err := livetest.Get(ctx, s.client, playlist)
	if err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("bench origin: %s: %d %v", playlist, code, err)
	}
	m := originHintRE.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("bench origin: no preload hint in %s", playlist)
	}
	return strconv.ParseUint(string(m[1]), 10, 64)
}

func (r *blockedResult) write(out io.Writer) {
	verdict := func(b uint64) string {
		if b < originRSSTarget {
			return "met"
		}
		return "MISSED"
	}
	mib := func(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	fmt.Fprintf(out, "\n%d blocking playlist requests held at once (%s)\n\n", r.n, r.target)
	fmt.Fprintln(out, "| measure | value |")
	fmt.Fprintln(out, "|---|---|")
	fmt.Fprintf(out, "| connect and send all (bash holds the client sockets) | %v |\n", r.open.Round(time.Millisecond))
	fmt.Fprintf(out, "| held in a handler at once | %d of %d |\n", r.held, r.n)
	fmt.Fprintf(out, "| process RSS before / while held | %s / %s (target < 300 MB: %s) |\n",
		mib(r.baseRSS), mib(r.heldRSS), verdict(r.heldRSS))
	fmt.Fprintf(out, "| RSS added by the held requests | %s, %.1f KiB each (target < 300 MB: %s) |\n",
		mib(r.heldRSS-r.baseRSS), float64(r.heldRSS-r.baseRSS)/float64(r.n)/1024, verdict(r.heldRSS-r.baseRSS))
	fmt.Fprintf(out, "| Go heap in use before / while held; goroutine stacks while held | %s / %s; %s |\n",
		mib(r.baseHeap), mib(r.heapInuse), mib(r.stacks))
	fmt.Fprintf(out, "| part appeared after the last request was sent | %v |\n", r.appeared.Round(time.Millisecond))
	fmt.Fprintf(out, "| every handler done after the part appeared | %v |\n", r.done.Round(time.Millisecond))
	fmt.Fprintf(out, "| answers: 200 / other / none | %d / %d / %d |\n", r.ok, r.other, r.missing)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// processRSS is this process's resident set size (VmRSS).
func processRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func originMemTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return fmt.Sprintf("%.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	return "memory unknown"
}

// raiseFileLimit makes sure this process may open want files.
func raiseFileLimit(want uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur >= want {
		return nil
	}
	l.Cur = want
	l.Max = max(l.Max, want)
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}
