package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/media"
	"github.com/livehouse/livehouse/internal/transcode"
)

// startupTarget is the startup the benchmark is judged against.
const startupTarget = 1500 * time.Millisecond

// Startup measures how long a new broadcast takes from the encoder's start to
// a multivariant playlist that lists every rendition of the default ladder,
// each with an init segment and a first part a player can fetch.
//
// Flags: -runs (default 5), -poll (10ms), -timeout (15s), -probe (true: check
// init+first part with ffprobe after each run), -ffmpeg, -v (server logs).
func Startup(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	fs.SetOutput(out)
	runs := fs.Int("runs", 5, "number of broadcasts, each on a fresh channel")
	gop := fs.Int("gop", 30, "publisher key frame interval in frames (30 fps)")
	poll := fs.Duration("poll", 10*time.Millisecond, "polling interval of the watchers")
	timeout := fs.Duration("timeout", 15*time.Second, "give up on a run after this long")
	probe := fs.Bool("probe", true, "decode each rendition's init+first part with ffprobe after the run")
	ffmpeg := fs.String("ffmpeg", "ffmpeg", "ffmpeg binary")
	verbose := fs.Bool("v", false, "print the server's logs to stderr")
	mtxBin := fs.String("mediamtx", "", "MediaMTX binary: after each run, measure it the same way (see docs/bench/origin.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 || *gop < 1 {
		return errors.New("startup: -runs and -gop must be at least 1")
	}
	rig, err := startRig(ctx, rigConfig{FFmpeg: *ffmpeg, Verbose: *verbose})
	if err != nil {
		return err
	}
	defer rig.Close()
	var mtx *mediamtx
	if *mtxBin != "" {
		if mtx, err = startMediaMTX(ctx, *mtxBin); err != nil {
			return err
		}
		defer mtx.close()
	}

	src := livetest.Source{Width: 1280, Height: 720, FPS: 30, GOP: *gop}
	var results []startupRun
	var theirs []mediamtxStartup
	for i := range *runs {
		r, err := rig.startupRun(ctx, fmt.Sprintf("startup-%d", i+1), src, *poll, *timeout, *probe)
		if err != nil {
			return fmt.Errorf("startup run %d: %w", i+1, err)
		}
		results = append(results, r)
		if mtx != nil {
			m, err := rig.mediamtxStartupRun(ctx, mtx, fmt.Sprintf("startup-%d", i+1), src, *poll, *timeout)
			if err != nil {
				return fmt.Errorf("startup run %d, MediaMTX: %w", i+1, err)
			}
			theirs = append(theirs, m)
		}
	}
	bare := measureFFmpegStart(ctx, rig.ffmpegResolved)
	writeStartupReport(out, rig, src, results, bare, "livehouse bench startup "+strings.Join(args, " "))
	if mtx != nil {
		writeMediaMTXStartup(out, results, theirs)
	}
	return nil
}

// mediamtxStartup is one MediaMTX broadcast, timed from the publisher's
// start as startupRun is.
type mediamtxStartup struct {
	listed, ready time.Duration
}

// mediamtxStartupRun publishes src to MediaMTX and times, as a player sees
// them, the multivariant playlist's first answer with a variant and the
// fetch of that variant's init and first part (polling, as a player retries
// a media playlist that lists no part yet).
func (rig *benchRig) mediamtxStartupRun(ctx context.Context, m *mediamtx, path string, src livetest.Source,
	poll, timeout time.Duration,
) (mediamtxStartup, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pub, err := livetest.Publish(ctx, rig.ffmpeg, src, m.rtmp+"/"+path)
	if err != nil {
		return mediamtxStartup{}, err
	}
	defer pub.Stop()
	base := m.hls + "/" + path + "/"
	var res mediamtxStartup
	var uri string
	for {
		code, _, body, err := livetest.Get(ctx, rig.client, base+"index.m3u8")
		if err == nil && code == http.StatusOK {
			var ok bool
			if uri, ok = firstVariant(string(body)); ok {
				res.listed = time.Since(pub.Started)
				break
			}
		}
		if err := sleepCtx(ctx, poll); err != nil {
			return res, fmt.Errorf("MediaMTX's multivariant playlist listed no variant: %w", err)
		}
	}
	for {
		_, err := rig.fetchFirstPart(ctx, base+uri)
		if err == nil {
			res.ready = time.Since(pub.Started)
			return res, nil
		}
		if serr := sleepCtx(ctx, poll); serr != nil {
			return res, fmt.Errorf("MediaMTX: no first part: %w (last: %v)", serr, err)
		}
	}
}

func writeMediaMTXStartup(out io.Writer, ours []startupRun, theirs []mediamtxStartup) {
	fmt.Fprintln(out, "\nSide by side: MediaMTX (LL-HLS, 200 ms parts, remuxing from the first byte; no transcoding), each run right after Livehouse's")
	fmt.Fprintln(out, "\n| run | Livehouse READY | MediaMTX multivariant | MediaMTX READY (init + first part) |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|")
	var a, b timings
	for i, m := range theirs {
		fmt.Fprintf(out, "| %d | %s | %s | %s |\n", i+1, ms(ours[i].ready), ms(m.listed), ms(m.ready))
		a, b = append(a, ours[i].ready), append(b, m.ready)
	}
	fmt.Fprintf(out, "| median | %s | | %s |\n", ms(a.quantile(0.5)), ms(b.quantile(0.5)))
	fmt.Fprintf(out, "\nstartup, Livehouse ÷ MediaMTX: %.2f× (medians)\n", a.quantile(0.5).Seconds()/max(b.quantile(0.5).Seconds(), 0.001))
}

// startupRun is one measured broadcast. Every time is an offset from the
// start of the publisher's ffmpeg process; a negative value was not seen.
type startupRun struct {
	connect    time.Duration // TCP connection seen by the proxy
	publish    time.Duration // publish command admitted (live: "encoder connected")
	tracks     time.Duration // tracks detected, ladder created ("channel is live")
	txSpawn    time.Duration // transcoder ffmpeg started
	txProbed   time.Duration // transcoder ffmpeg printed its input (probe done)
	txEncoders time.Duration // last x264 encoder of the transcoder initialised
	// CPU use of the main threads: the publisher until connect, the
	// transcoder until probed; -1 when not sampled.
	pubSched, txSched schedSample
	skipped           int64 // source units the transcoder dropped
	complaints        []string
	firstPart         map[string]time.Duration
	mvListed          time.Duration // multivariant playlist listed every rendition
	ready             time.Duration // ... and init + first part of each were fetched
	renditions        []string
	probeErr          error
}

func (rig *benchRig) startupRun(ctx context.Context, slug string, src livetest.Source,
	poll, timeout time.Duration, probe bool,
) (startupRun, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	samplers := &runSamplers{}
	defer samplers.wait()
	defer cancel()
	key, err := rig.srv.CreateChannel(ctx, slug)
	if err != nil {
		return startupRun{}, err
	}
	proxy, err := startConnProbe(rig.srv.RTMPAddr())
	if err != nil {
		return startupRun{}, err
	}
	defer proxy.Close()
	want := len(transcode.DefaultLadder().Plan(media.Tracks{Video: &media.H264{Width: src.Width, Height: src.Height}}))

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	parts := &firstParts{at: map[string]time.Time{}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rig.watchRenditions(ctx, slug, poll, parts, &wg)
	}()
	type mvResult struct {
		listed, ready time.Time
		files         map[string][]byte // rendition -> init + first part
		err           error
	}
	mvc := make(chan mvResult, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var r mvResult
		r.listed, r.ready, r.files, r.err = rig.watchMultivariant(ctx, slug, want, poll)
		mvc <- r
	}()

	tap := rig.tap
	tap.setHook(func(e logEvent) {
		if e.msg == "ffmpeg started" && e.attrs["channel"] == slug {
			pid, _ := strconv.Atoi(e.attrs["pid"])
			samplers.start(ctx, "tx", pid)
		}
	})
	defer tap.setHook(nil)

	pub, err := livetest.Publish(ctx, rig.ffmpeg, src, proxy.URL()+"/"+key)
	if err != nil {
		return startupRun{}, err
	}
	defer rig.unpublish(slug, pub)
	t0 := pub.Started
	if pid := findChild(proxy.URL()); pid > 0 {
		samplers.start(ctx, "pub", pid)
	}

	var mv mvResult
	select {
	case mv = <-mvc:
	case <-pub.Done():
		_, stderr := pub.Err()
		return startupRun{}, fmt.Errorf("publisher exited early: %s", strings.TrimSpace(stderr))
	}
	if mv.err != nil {
		return startupRun{}, mv.err
	}
	parts.wait(ctx, want)
	cancel() // stop the watchers

	res := startupRun{firstPart: map[string]time.Duration{}}
	since := func(t time.Time) time.Duration {
		if t.IsZero() {
			return -1
		}
		return t.Sub(t0)
	}
	res.connect = since(proxy.accepted())
	res.mvListed, res.ready = since(mv.listed), since(mv.ready)
	for name, at := range parts.snapshot() {
		res.firstPart[name] = since(at)
		res.renditions = append(res.renditions, name)
	}
	slices.Sort(res.renditions)
	ev := tap.since(t0)
	res.publish = since(ev.first(func(e logEvent) bool { return e.msg == "encoder connected" && e.attrs["channel"] == slug }))
	res.tracks = since(ev.first(func(e logEvent) bool { return e.msg == "channel is live" && e.attrs["channel"] == slug }))
	res.txSpawn = since(ev.first(func(e logEvent) bool { return e.msg == "ffmpeg started" && e.attrs["channel"] == slug }))
	res.txEncoders = since(ev.last(func(e logEvent) bool {
		return e.msg == "ffmpeg" && e.attrs["channel"] == slug && strings.Contains(e.attrs["line"], "using cpu capabilities")
	}))
	res.pubSched = samplers.at("pub", proxy.accepted())
	probed := ev.first(func(e logEvent) bool {
		return e.msg == "ffmpeg" && e.attrs["channel"] == slug && strings.Contains(e.attrs["line"], "Input #0")
	})
	res.txProbed, res.txSched = since(probed), samplers.at("tx", probed)
	if st, ok := rig.srv.Live().StatusOf(slug); ok && st.Transcoder != nil {
		res.skipped = st.Transcoder.SkippedUnits
	}
	res.complaints = ev.ffmpegComplaints(slug)
	if probe {
		res.probeErr = rig.probeFiles(ctx, mv.files)
	}
	return res, nil
}

// watchMultivariant polls the channel's multivariant playlist as a player
// would, until it lists want variants, then fetches each variant's media
// playlist, init segment and first part. It returns when the playlist listed
// them all and when everything was fetched.
func (rig *benchRig) watchMultivariant(ctx context.Context, slug string, want int, poll time.Duration,
) (listed, ready time.Time, files map[string][]byte, err error) {
	base := rig.srv.HTTP + "/hls/" + slug + "/"
	var vs []livetest.Variant
	for {
		code, _, body, err := livetest.Get(ctx, rig.client, base+"index.m3u8")
		if err == nil && code == http.StatusOK {
			if vs = livetest.ParseMultivariant(string(body)); len(vs) >= want {
				listed = time.Now()
				break
			}
		}
		if err := sleepCtx(ctx, poll); err != nil {
			return listed, ready, nil, fmt.Errorf("multivariant never listed %d renditions (last: %d): %w", want, len(vs), err)
		}
	}
	files = map[string][]byte{}
	var mu sync.Mutex
	errs := make(chan error, len(vs))
	for _, v := range vs {
		go func() {
			data, err := rig.fetchFirstPart(ctx, base+v.URI)
			mu.Lock()
			files[v.URI] = data
			mu.Unlock()
			errs <- err
		}()
	}
	for range vs {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return listed, time.Now(), files, err
}

// fetchFirstPart fetches a media playlist, then its init segment and its
// first part, and returns them concatenated.
func (rig *benchRig) fetchFirstPart(ctx context.Context, playlistURL string) ([]byte, error) {
	code, _, body, err := livetest.Get(ctx, rig.client, playlistURL)
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("media playlist %s: status %d: %v", playlistURL, code, err)
	}
	pl, err := parseMediaPlaylist(string(body))
	if err != nil {
		return nil, fmt.Errorf("media playlist %s: %w", playlistURL, err)
	}
	first := pl.firstPart()
	if first == nil || pl.mapURI == "" {
		return nil, fmt.Errorf("media playlist %s lists no part or no EXT-X-MAP", playlistURL)
	}
	dir := playlistURL[:strings.LastIndex(playlistURL, "/")+1]
	var out []byte
	for _, name := range []string{pl.mapURI, first.uri} {
		code, _, data, err := livetest.Get(ctx, rig.client, dir+name)
		if err != nil || code != http.StatusOK || len(data) == 0 {
			return nil, fmt.Errorf("%s: status %d, %d bytes: %v", dir+name, code, len(data), err)
		}
		out = append(out, data...)
	}
	return out, nil
}

// firstParts records when each rendition's media playlist first listed a part.
type firstParts struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (f *firstParts) set(name string, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.at[name]; !ok {
		f.at[name] = t
	}
}

func (f *firstParts) snapshot() map[string]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]time.Time, len(f.at))
	for k, v := range f.at {
		out[k] = v
	}
	return out
}

// wait waits a little for want renditions, which the multivariant playlist
// already vouched for; the pollers may be one interval behind.
func (f *firstParts) wait(ctx context.Context, want int) {
	deadline := time.Now().Add(time.Second)
	for len(f.snapshot()) < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// watchRenditions finds the broadcast as soon as the ladder exists, then
// polls every rendition's media playlist on its own goroutine until it lists
// a part.
func (rig *benchRig) watchRenditions(ctx context.Context, slug string, poll time.Duration, parts *firstParts, wg *sync.WaitGroup) {
	var st struct {
		id    string
		names []string
	}
	for {
		if s, ok := rig.srv.Live().StatusOf(slug); ok {
			st.id = s.BroadcastID
			for _, r := range s.Ladder {
				st.names = append(st.names, r.Name)
			}
			break
		}
		if sleepCtx(ctx, poll) != nil {
			return
		}
	}
	for _, name := range st.names {
		url := rig.srv.HTTP + "/hls/" + slug + "/" + st.id + "/" + name + "/index.m3u8"
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				code, _, body, err := livetest.Get(ctx, rig.client, url)
				if err == nil && code == http.StatusOK && strings.Contains(string(body), "#EXT-X-PART:") {
					parts.set(name, time.Now())
					return
				}
				if sleepCtx(ctx, poll) != nil {
					return
				}
			}
		}()
	}
}

// probeFiles checks with ffprobe that each init + first part decodes to at
// least one video frame.
func (rig *benchRig) probeFiles(ctx context.Context, files map[string][]byte) error {
	ffprobe := filepath.Join(filepath.Dir(rig.ffmpegResolved), "ffprobe")
	if _, err := os.Stat(ffprobe); err != nil {
		if ffprobe, err = exec.LookPath("ffprobe"); err != nil {
			return nil // nothing to check with
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for name, data := range files {
		path := filepath.Join(rig.dir, "probe.mp4")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
			"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path)
		outp, err := cmd.Output()
		n, _ := strconv.Atoi(strings.TrimSpace(string(outp)))
		if err != nil || n < 1 {
			return fmt.Errorf("%s: init + first part decode to %d frames (%v)", name, n, err)
		}
	}
	return nil
}

func writeStartupReport(out io.Writer, rig *benchRig, src livetest.Source, runs []startupRun, bare ffmpegStart, command string) {
	fmt.Fprintf(out, "Livehouse startup: publisher start -> multivariant lists every rendition, init + first part fetched\n")
	rig.writeMachine(out)
	fmt.Fprintf(out, "source: %dx%d %d fps, key frame every %d frames, x264 ultrafast + AAC over RTMP (livetest.Publish)\n",
		src.Width, src.Height, src.FPS, src.GOP)
	fmt.Fprintf(out, "ladder: %s; part target %v\n\n", ladderSummary(transcode.DefaultLadder()), rig.partTarget)

	names := runs[0].renditions
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := []string{"run", "connect", "publish", "tracks", "tx-spawn", "tx-probed", "x264-init"}
	for _, n := range names {
		header = append(header, "part:"+n)
	}
	header = append(header, "mv-listed", "READY", "from-accept", "skipped", "probe")
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	cols := func(r startupRun) []time.Duration {
		c := []time.Duration{r.connect, r.publish, r.tracks, r.txSpawn, r.txProbed, r.txEncoders}
		for _, n := range names {
			c = append(c, partOf(r, n))
		}
		fromAccept := time.Duration(-1)
		if r.connect >= 0 {
			fromAccept = r.ready - r.connect
		}
		return append(c, r.mvListed, r.ready, fromAccept)
	}
	var all [][]time.Duration
	for i, r := range runs {
		c := cols(r)
		all = append(all, c)
		probe := "ok"
		if r.probeErr != nil {
			probe = "FAIL"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t\n", i+1, joinMillis(c), r.skipped, probe)
	}
	med := make([]time.Duration, len(all[0]))
	for j := range med {
		var col timings
		for _, c := range all {
			if c[j] >= 0 {
				col = append(col, c[j])
			}
		}
		med[j] = col.quantile(0.5)
	}
	fmt.Fprintf(tw, "median\t%s\t\t\t\n", joinMillis(med))
	tw.Flush()
	fmt.Fprintln(out, "\n(ms from the publisher's ffmpeg process start; from-accept = READY - connect;")
	fmt.Fprintln(out, " skipped = source units the transcoder dropped before its ffmpeg took input)")
	for i, r := range runs {
		if r.probeErr != nil {
			fmt.Fprintf(out, "run %d: ffprobe: %v\n", i+1, r.probeErr)
		}
		for _, c := range r.complaints {
			fmt.Fprintf(out, "run %d: transcoder ffmpeg: %s\n", i+1, c)
		}
	}

	var ready timings
	for _, r := range runs {
		ready = append(ready, r.ready)
	}
	m := ready.quantile(0.5)
	verdict := "MET"
	if m > startupTarget {
		verdict = "MISSED"
	}
	fmt.Fprintf(out, "\nstartup median %s (min %s, max %s) over %d runs; target <= %s: %s\n",
		ms(m), ms(ready.quantile(0)), ms(ready.quantile(1)), len(runs), ms(startupTarget), verdict)
	fmt.Fprintln(out, "where the time goes (medians of per-run stage durations):")
	stage := func(label string, from, to func(startupRun) time.Duration) {
		var d timings
		for _, r := range runs {
			if a, b := from(r), to(r); a >= 0 && b >= 0 {
				d = append(d, b-a)
			}
		}
		if len(d) > 0 {
			fmt.Fprintf(out, "  %-62s %8s\n", label, ms(d.quantile(0.5)))
		}
	}
	type at = func(startupRun) time.Duration
	zero := at(func(startupRun) time.Duration { return 0 })
	connect := at(func(r startupRun) time.Duration { return r.connect })
	publish := at(func(r startupRun) time.Duration { return r.publish })
	tracks := at(func(r startupRun) time.Duration { return r.tracks })
	spawn := at(func(r startupRun) time.Duration { return r.txSpawn })
	probed := at(func(r startupRun) time.Duration { return r.txProbed })
	encoders := at(func(r startupRun) time.Duration { return r.txEncoders })
	mv := at(func(r startupRun) time.Duration { return r.mvListed })
	lastPart := at(func(r startupRun) time.Duration {
		l := time.Duration(-1)
		for _, d := range r.firstPart {
			l = max(l, d)
		}
		return l
	})
	stage("publisher ffmpeg start -> TCP connect", zero, connect)
	stage("  of which publisher main thread on a CPU", zero, at(func(r startupRun) time.Duration { return r.pubSched.onCPU }))
	stage("  of which publisher main thread waiting for a CPU", zero, at(func(r startupRun) time.Duration { return r.pubSched.waiting }))
	stage("TCP connect -> publish admitted (handshake, connect, publish)", connect, publish)
	stage("publish -> tracks known (publisher's first frame + headers)", publish, tracks)
	stage("tracks -> transcoder ffmpeg spawned", tracks, spawn)
	stage("spawned -> input probed (process start, first input, probe)", spawn, probed)
	stage("  of which transcoder main thread on a CPU", zero, at(func(r startupRun) time.Duration { return r.txSched.onCPU }))
	stage("  of which transcoder main thread waiting for a CPU", zero, at(func(r startupRun) time.Duration { return r.txSched.waiting }))
	stage("probed -> x264 encoders initialised (first frame decoded)", probed, encoders)
	for _, n := range names {
		stage("tracks -> first part of "+n, tracks, at(func(r startupRun) time.Duration { return partOf(r, n) }))
	}
	stage("x264 init -> first part of the last rendition", encoders, lastPart)
	stage("tracks -> multivariant lists every rendition", tracks, mv)
	stage("multivariant -> all inits + first parts fetched", mv, at(func(r startupRun) time.Duration { return r.ready }))
	if bare.wall > 0 {
		fmt.Fprintf(out, "reference: a bare ffmpeg run (1 frame of nullsrc to null) takes %s wall, %s CPU here (median of 3)\n",
			ms(bare.wall), ms(bare.cpu))
	}
	fmt.Fprintf(out, "\nreproduce: %s\n", strings.TrimSpace(command))
}

// ffmpegStart is what launching ffmpeg for a trivial job costs on this
// machine, as a yardstick for the process start-up inside the stages.
type ffmpegStart struct{ wall, cpu time.Duration }

func measureFFmpegStart(ctx context.Context, ffmpeg string) ffmpegStart {
	var walls, cpus timings
	for range 3 {
		cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
			"-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.04", "-f", "null", "-")
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return ffmpegStart{}
		}
		walls = append(walls, time.Since(start))
		cpus = append(cpus, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	return ffmpegStart{wall: walls.quantile(0.5), cpu: cpus.quantile(0.5)}
}

func partOf(r startupRun, name string) time.Duration {
	if d, ok := r.firstPart[name]; ok {
		return d
	}
	return -1
}

func joinMillis(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		if d < 0 {
			s[i] = "-"
		} else {
			s[i] = strconv.FormatInt(d.Milliseconds(), 10)
		}
	}
	return strings.Join(s, "\t")
}

// connProbe is a loopback TCP proxy in front of the RTMP port: it records
// when the publisher's connection arrives, which no server log tells.
type connProbe struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	accept time.Time
	conns  []net.Conn
	closed bool
}

func startConnProbe(target string) (*connProbe, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &connProbe{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// URL is the RTMP publish URL through the probe, without the key.
func (p *connProbe) URL() string { return "rtmp://" + p.ln.Addr().String() + "/live" }

func (p *connProbe) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		now := time.Now()
		p.mu.Lock()
		if p.accept.IsZero() {
			p.accept = now
		}
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			defer up.Close()
			buf := make([]byte, 32<<10)
			for {
				quickAck(c)
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := up.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			defer p.wg.Done()
			defer c.Close()
			_, _ = io.Copy(c, up)
		}()
	}
}

// quickAck re-arms TCP_QUICKACK (Linux) before each read from the
// publisher, as the RTMP server does: ffmpeg leaves Nagle's algorithm on, so
// without it every small write of the RTMP setup waits for a delayed ACK
// (40 ms) and the probe alone would add ~130 ms.
func quickAck(c net.Conn) {
	const tcpQuickAck = 12 // TCP_QUICKACK in linux/tcp.h
	tc, ok := c.(*net.TCPConn)
	if !ok || runtime.GOOS != "linux" {
		return
	}
	if rc, err := tc.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck, 1)
		})
	}
}

func (p *connProbe) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

func (p *connProbe) accepted() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accept
}

// Close stops listening, closes every proxied connection and waits.
func (p *connProbe) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// benchRig is a Livehouse server on loopback with a temporary data directory.
type benchRig struct {
	srv            *livetest.Server
	tap            *logTap
	dir            string
	ffmpeg         string
	ffmpegResolved string
	partTarget     time.Duration
	client         *http.Client
	loadAtStart    string
}

type rigConfig struct {
	FFmpeg string
	HLS    hls.Config
	// Verbose prints the server's logs to stderr; they are always kept
	// in the rig's tap.
	Verbose bool
}

func startRig(ctx context.Context, cfg rigConfig) (*benchRig, error) {
	if cfg.FFmpeg == "" {
		cfg.FFmpeg = "ffmpeg"
	}
	resolved, err := exec.LookPath(cfg.FFmpeg)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg is needed for the benchmarks: %w", err)
	}
	dir, err := os.MkdirTemp("", "livehouse-bench-")
	if err != nil {
		return nil, err
	}
	load, _ := os.ReadFile("/proc/loadavg")
	tap := newLogTap(cfg.Verbose)
	srv, err := livetest.StartServer(ctx, livetest.Options{DataDir: dir, FFmpegPath: resolved, HLS: cfg.HLS,
		Logger: slog.New(tap), Grace: time.Second})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	pt := cfg.HLS.PartTarget
	if pt <= 0 {
		pt = 200 * time.Millisecond
	}
	return &benchRig{
		srv: srv, dir: dir, tap: tap, ffmpeg: cfg.FFmpeg, ffmpegResolved: resolved, partTarget: pt,
		client:      &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		loadAtStart: strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "),
	}, nil
}

// Close stops the server (which ends every broadcast and reaps its ffmpeg)
// and removes the data directory.
func (rig *benchRig) Close() {
	rig.srv.Close()
	rig.client.CloseIdleConnections()
	os.RemoveAll(rig.dir)
}

// unpublish stops the publisher and waits until the broadcast has ended, so
// the next run starts on a quiet machine.
func (rig *benchRig) unpublish(slug string, pub *livetest.Publisher) {
	pub.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, live := rig.srv.Live().StatusOf(slug); !live {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (rig *benchRig) writeMachine(out io.Writer) {
	ver := "?"
	if b, err := exec.Command(rig.ffmpegResolved, "-version").Output(); err == nil {
		ver = strings.TrimPrefix(strings.SplitN(string(b), " Copyright", 2)[0], "ffmpeg version ")
	}
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, load average %s at start; ffmpeg %s\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, rig.loadAtStart, ver)
}

func ladderSummary(l transcode.Ladder) string {
	var parts []string
	for _, r := range l.Plan(media.Tracks{Video: &media.H264{Width: 1280, Height: 720}}) {
		if r.Passthrough {
			parts = append(parts, r.Name+" (passthrough)")
		} else {
			parts = append(parts, fmt.Sprintf("%s %dx%d %d kbps", r.Name, r.Width, r.Height, r.VideoKbps))
		}
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" (%s %s)", l.Encoder, l.Preset)
}

// logTap is a slog handler that keeps the server's records, with their
// attributes flattened, so a benchmark can time the server's milestones.
type logTap struct {
	store *logStore
	attrs []slog.Attr
}

type logStore struct {
	mu      sync.Mutex
	events  []logEvent
	verbose bool
	hook    func(logEvent)
}

type logEvent struct {
	at    time.Time
	msg   string
	attrs map[string]string
}

// maxLogEvents bounds the memory of a long benchmark.
const maxLogEvents = 200000

func newLogTap(verbose bool) *logTap { return &logTap{store: &logStore{verbose: verbose}} }

func (h *logTap) Enabled(context.Context, slog.Level) bool { return true }

func (h *logTap) Handle(_ context.Context, r slog.Record) error {
	e := logEvent{at: r.Time, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		e.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		e.attrs[a.Key] = a.Value.String()
		return true
	})
	s := h.store
	s.mu.Lock()
	if len(s.events) < maxLogEvents {
		s.events = append(s.events, e)
	}
	if s.verbose {
		fmt.Fprintf(os.Stderr, "%s %s %s %v\n", r.Time.Format("15:04:05.000"), r.Level, r.Message, e.attrs)
	}
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(e)
	}
	return nil
}

// setHook makes fn see every later record, on the logging goroutine.
func (h *logTap) setHook(fn func(logEvent)) {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	h.store.hook = fn
}

func (h *logTap) WithAttrs(as []slog.Attr) slog.Handler {
	return &logTap{store: h.store, attrs: append(slices.Clip(h.attrs), as...)}
}

func (h *logTap) WithGroup(string) slog.Handler { return h }

type logEvents []logEvent

// since returns the records at or after t.
func (h *logTap) since(t time.Time) logEvents {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	var out logEvents
	for _, e := range h.store.events {
		if !e.at.Before(t) {
			out = append(out, e)
		}
	}
	return out
}

func (es logEvents) first(match func(logEvent) bool) time.Time {
	for _, e := range es {
		if match(e) {
			return e.at
		}
	}
	return time.Time{}
}

// ffmpegComplaints returns the distinct warning and error lines the
// transcoding ffmpeg of channel slug logged, at most 8.
func (es logEvents) ffmpegComplaints(slug string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range es {
		line := e.attrs["line"]
		if e.msg != "ffmpeg" || e.attrs["channel"] != slug || seen[line] ||
			!(strings.Contains(line, "[warning]") || strings.Contains(line, "[error]") || strings.Contains(line, "[fatal]")) ||
			strings.Contains(line, "deprecated pixel format") {
			continue
		}
		seen[line] = true
		if len(out) < 8 {
			out = append(out, line)
		}
	}
	return out
}

// probeMissed reports whether x264 in the transcoding ffmpeg ran without a
// frame rate ("MB rate > level limit"): that happens when ffmpeg's probe of
// its input ends before the video parameters are known and nothing else
// gives the rate. x264 then assumes 90000 fps, spreads the bitrate over
// them and the renditions come out as smeared garbage.
func probeMissed(complaints []string) bool {
	for _, c := range complaints {
		if strings.Contains(c, "MB rate") {
			return true
		}
	}
	return false
}

func (es logEvents) last(match func(logEvent) bool) time.Time {
	for i := len(es) - 1; i >= 0; i-- {
		if match(es[i]) {
			return es[i].at
		}
	}
	return time.Time{}
}

// timings is a sample of durations.
type timings []time.Duration

// quantile returns the q-quantile (0 = min, 0.5 = median, 1 = max) by
// linear interpolation, or -1 for an empty sample.
func (t timings) quantile(q float64) time.Duration {
	if len(t) == 0 {
		return -1
	}
	s := slices.Clone(t)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	frac := pos - float64(i)
	return s[i] + time.Duration(frac*float64(s[i+1]-s[i]))
}

func ms(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// schedSample is the scheduler's account of a thread at a moment: time on a
// CPU and time runnable but waiting for one (/proc/PID/schedstat).
type schedSample struct {
	at             time.Time
	onCPU, waiting time.Duration
}

// runSamplers samples the main thread of the processes of one run.
type runSamplers struct {
	mu     sync.Mutex
	closed bool
	series map[string][]schedSample
	done   []chan struct{}
}

// start samples pid every 5 ms under name until ctx ends or pid exits.
func (s *runSamplers) start(ctx context.Context, name string, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.series[name] != nil {
		return
	}
	if s.series == nil {
		s.series = map[string][]schedSample{}
	}
	s.series[name] = []schedSample{}
	done := make(chan struct{})
	s.done = append(s.done, done)
	go func() {
		defer close(done)
		path := "/proc/" + strconv.Itoa(pid) + "/schedstat"
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				return
			}
			f := strings.Fields(string(b))
			if len(f) < 2 {
				return
			}
			on, _ := strconv.ParseInt(f[0], 10, 64)
			wait, _ := strconv.ParseInt(f[1], 10, 64)
			s.mu.Lock()
			s.series[name] = append(s.series[name], schedSample{at: time.Now(), onCPU: time.Duration(on), waiting: time.Duration(wait)})
			s.mu.Unlock()
			if sleepCtx(ctx, 5*time.Millisecond) != nil {
				return
			}
		}
	}()
}

// at returns the last sample of name taken at or before t (the CPU use
// from the process start up to t); onCPU is -1 when there is none.
func (s *runSamplers) at(name string, t time.Time) schedSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := schedSample{onCPU: -1, waiting: -1}
	for _, x := range s.series[name] {
		if x.at.After(t) {
			break
		}
		out = x
	}
	return out
}

// wait stops new samplers and waits for the running ones, whose context
// the caller has cancelled.
func (s *runSamplers) wait() {
	s.mu.Lock()
	s.closed = true
	done := s.done
	s.mu.Unlock()
	for _, d := range done {
		<-d
	}
}

// findChild returns the pid of a child process of this one whose command
// line contains match, or 0.
func findChild(match string) int {
	for _, pid := range childPIDs() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err == nil && strings.Contains(string(b), match) {
			return pid
		}
	}
	return 0
}
