package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/transcode"
)

// latencyTarget is the player latency the benchmark is judged against.
const latencyTarget = time.Second

// Latency measures, frame-accurately, how long after the publisher sends a
// frame it can be downloaded as part of a part, in every rendition. The
// publisher draws each frame's number into the picture (livetest.FrameCode);
// one LL-HLS follower per rendition tracks the live edge with blocking
// playlist reloads, downloads each part as soon as it is listed and feeds it
// to an ffmpeg decoder that reads the number of the part's last frame back.
//
// Flags: -duration (20s, measured), -warmup (3s, not measured), -fps (30),
// -ffmpeg, -v (server logs).
func Latency(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	fs.SetOutput(out)
	duration := fs.Duration("duration", 20*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 3*time.Second, "parts in the first part of the run are not counted")
	fps := fs.Int("fps", 30, "publisher frame rate")
	ffmpeg := fs.String("ffmpeg", "ffmpeg", "ffmpeg binary")
	verbose := fs.Bool("v", false, "print the server's logs to stderr")
	mtxBin := fs.String("mediamtx", "", "MediaMTX binary: measure it the same way, right after Livehouse (see docs/bench/origin.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration <= 0 || *fps <= 0 {
		return errors.New("latency: -duration and -fps must be positive")
	}
	if *mtxBin != "" {
		var err error
		if *mtxBin, err = exec.LookPath(*mtxBin); err != nil {
			return fmt.Errorf("latency: -mediamtx: %w", err)
		}
	}
	rig, err := startRig(ctx, rigConfig{FFmpeg: *ffmpeg, Verbose: *verbose})
	if err != nil {
		return err
	}
	defer rig.Close()
	src := livetest.Source{Width: 1280, Height: 720, FPS: *fps, FrameCode: true}
	res, err := rig.latencyRun(ctx, src, *warmup, *duration)
	if err != nil {
		return err
	}
	command := "livehouse bench latency " + strings.Join(args, " ")
	writeLatencyReport(out, rig, res, command)
	if *mtxBin == "" {
		return nil
	}
	mres, err := rig.mediamtxLatencyRun(ctx, *mtxBin, src, *warmup, *duration)
	if err != nil {
		return err
	}
	writeMediaMTXLatency(out, res, mres)
	return nil
}

// mediamtxLatencyRun measures MediaMTX as latencyRun measures Livehouse:
// the same publisher, picture and follower, on MediaMTX's video playlist.
func (rig *benchRig) mediamtxLatencyRun(ctx context.Context, bin string, src livetest.Source, warmup, duration time.Duration) (*latencyResult, error) {
	m, err := startMediaMTX(ctx, bin)
	if err != nil {
		return nil, err
	}
	defer m.close()
	if err := m.publish(ctx, rig.client, "latency", src); err != nil {
		return nil, err
	}
	pub := m.pubs[len(m.pubs)-1]
	res := &latencyResult{src: src, pubStart: pub.Started, warmup: warmup, duration: duration}
	err = rig.follow(ctx, pub, res, []followTarget{{url: m.playlists["latency"], name: "source", width: src.Width, height: src.Height}})
	if err != nil {
		return nil, err
	}
	res.calibrate()
	return res, nil
}

// writeMediaMTXLatency sets MediaMTX's figures beside Livehouse's
// passthrough rendition, which carries the same picture.
func writeMediaMTXLatency(out io.Writer, lh, mtx *latencyResult) {
	fmt.Fprintln(out, "\nSide by side: MediaMTX (LL-HLS, 200 ms parts, the same publisher and picture), measured right after")
	mtx.writeCalibration(out, "MediaMTX")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| server | rendition | parts | part latency median | p90 | PART-HOLD-BACK | player latency | unread | misaligned |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(server string, res *latencyResult, f *follower) time.Duration {
		lat := res.partLatencies(f, res.base)
		m := lat.quantile(0.5)
		fmt.Fprintf(out, "| %s | %s | %d | %s | %s | %s | %s | %d | %d |\n", server, f.name, len(lat), ms(m),
			ms(lat.quantile(0.9)), ms(f.holdBack), ms(m+f.holdBack), f.unread, f.misaligned)
		return m + f.holdBack
	}
	ours := row("Livehouse", lh, lh.follow[0])
	theirs := row("MediaMTX", mtx, mtx.follow[0])
	fmt.Fprintf(out, "\nplayer latency, Livehouse ÷ MediaMTX: %.2f× (%s vs %s)\n", ours.Seconds()/max(theirs.Seconds(), 0.001), ms(ours), ms(theirs))
	if lh.base.IsZero() {
		return
	}
	// Each server's calibration trusts its own program date-time. The
	// publisher is the same command on the same machine, so Livehouse's
	// calibration also estimates when MediaMTX received each frame.
	shared := *mtx
	shared.base = mtx.pubStart.Add(lh.base.Sub(lh.pubStart))
	m := shared.partLatencies(mtx.follow[0], shared.base).quantile(0.5)
	fmt.Fprintf(out, "with Livehouse's calibration (publisher start + %s) instead of MediaMTX's own date-times: MediaMTX part latency %s, player latency %s (Livehouse ÷ MediaMTX %.2f×)\n",
		ms(lh.base.Sub(lh.pubStart)), ms(m), ms(m+mtx.follow[0].holdBack), ours.Seconds()/max((m+mtx.follow[0].holdBack).Seconds(), 0.001))
}

// latencyResult is what one latency run measured.
type latencyResult struct {
	src        livetest.Source
	pubStart   time.Time
	base       time.Time // calibrated receive time of frame 0
	baseSpread time.Duration
	baseN      int
	warmup     time.Duration
	duration   time.Duration
	follow     []*follower
	complaints []string // the transcoder's ffmpeg warnings
}

func (rig *benchRig) latencyRun(ctx context.Context, src livetest.Source, warmup, duration time.Duration) (*latencyResult, error) {
	const slug = "latency"
	key, err := rig.srv.CreateChannel(ctx, slug)
	if err != nil {
		return nil, err
	}
	pub, err := livetest.Publish(ctx, rig.ffmpeg, src, rig.srv.RTMP+"/"+key)
	if err != nil {
		return nil, err
	}
	defer rig.unpublish(slug, pub)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	want := len(transcode.DefaultLadder().Plan(sourceTracks(src.Width, src.Height, float64(src.FPS))))
	vs, err := rig.srv.WaitMultivariant(wctx, slug, want)
	if err != nil {
		_, stderr := pub.Err()
		return nil, fmt.Errorf("%w (publisher: %s)", err, strings.TrimSpace(stderr))
	}

	res := &latencyResult{src: src, pubStart: pub.Started, warmup: warmup, duration: duration}
	var targets []followTarget
	for _, v := range vs {
		w, h := resolution(v.Attrs["RESOLUTION"])
		targets = append(targets, followTarget{url: rig.srv.HTTP + "/hls/" + slug + "/" + v.URI, name: renditionName(v.URI), width: w, height: h})
	}
	if err := rig.follow(ctx, pub, res, targets); err != nil {
		return nil, err
	}
	res.calibrate()
	res.complaints = rig.tap.since(pub.Started).ffmpegComplaints(slug)
	return res, nil
}

// followTarget is a media playlist to follow.
type followTarget struct {
	url, name     string
	width, height int
}

// follow runs a follower on each target for res's warmup and duration
// while pub publishes, then decodes the frame numbers of what they fetched.
func (rig *benchRig) follow(ctx context.Context, pub *livetest.Publisher, res *latencyResult, targets []followTarget) error {
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	start := time.Now()
	warmup, duration := res.warmup, res.duration
	var wg sync.WaitGroup
	errs := make(chan error, len(targets))
	for _, t := range targets {
		f := &follower{
			rig: rig, url: t.url, name: t.name,
			width: t.width, height: t.height, measureFrom: start.Add(warmup),
		}
		res.follow = append(res.follow, f)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.run(fctx); err != nil && fctx.Err() == nil {
				errs <- fmt.Errorf("%s: %w", f.name, err)
				fcancel()
			}
		}()
	}
	select {
	case <-time.After(warmup + duration):
	case <-fctx.Done():
	case <-pub.Done():
		_, stderr := pub.Err()
		fcancel()
		wg.Wait()
		return fmt.Errorf("publisher exited early: %s", strings.TrimSpace(stderr))
	}
	fcancel()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	for _, f := range res.follow {
		if err := f.decoded(); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// calibrate estimates when the server received frame 0: each segment's
// EXT-X-PROGRAM-DATE-TIME is the ingest time of its first (key) frame, whose
// number the decoder read. The first segment is left out: its frames were
// held during track detection and stamped late.
func (res *latencyResult) calibrate() {
	frame := time.Second / time.Duration(res.src.FPS)
	var offs timings
	seen := map[uint64]bool{}
	for _, f := range res.follow {
		for _, p := range f.parts {
			pdt := p.pdt
			if pdt.IsZero() {
				pdt = f.pdts[p.msn]
			}
			if p.idx != 0 || pdt.IsZero() || p.msn == 0 || p.firstFrame < 0 || seen[p.msn] {
				continue
			}
			seen[p.msn] = true
			offs = append(offs, pdt.Sub(res.pubStart)-time.Duration(p.firstFrame)*frame)
		}
	}
	res.baseN = len(offs)
	if len(offs) == 0 {
		return
	}
	res.base = res.pubStart.Add(offs.quantile(0.5))
	res.baseSpread = offs.quantile(0.9) - offs.quantile(0.1)
}

// writeCalibration reports calibrate's estimate, or its failure and the
// fallback to publisher start + N/fps, which it then uses.
func (res *latencyResult) writeCalibration(out io.Writer, server string) {
	if res.base.IsZero() {
		fmt.Fprintf(out, "calibration failed for %s: no segment start with a readable frame number; using publisher start + N/fps\n", server)
		res.base = res.pubStart
		return
	}
	fmt.Fprintf(out, "calibration: frame N reached %s at publisher start + %s + N/fps (p10-p90 spread %s over %d segments)\n",
		server, ms(res.base.Sub(res.pubStart)), ms(res.baseSpread), res.baseN)
}

// partLatencies returns the latency of the last frame of every measured part.
func (res *latencyResult) partLatencies(f *follower, from time.Time) timings {
	frame := time.Second / time.Duration(res.src.FPS)
	var out timings
	for _, p := range f.parts {
		if p.lastFrame < 0 || p.avail.Before(f.measureFrom) || p.avail.After(f.measureFrom.Add(res.duration)) {
			continue
		}
		out = append(out, p.avail.Sub(from.Add(time.Duration(p.lastFrame)*frame)))
	}
	return out
}

func writeLatencyReport(out io.Writer, rig *benchRig, res *latencyResult, command string) {
	fmt.Fprintf(out, "Livehouse latency: frame sent -> downloadable in a part, per rendition (LL-HLS blocking reload)\n")
	rig.writeMachine(out)
	fmt.Fprintf(out, "source: %dx%d %d fps, key frame every 1 s, frame number drawn in the picture; ladder: %s\n",
		res.src.Width, res.src.Height, res.src.FPS, ladderSummary(transcode.DefaultLadder()))
	fmt.Fprintf(out, "measured %v after a %v warmup\n", res.duration, res.warmup)
	res.writeCalibration(out, "the server")
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rendition\tsize\tparts\tpart dur\tmin\tmedian\tp90\tmax\tPART-HOLD-BACK\tplayer latency\tunread\tmisaligned\tbatched\t")
	worst := time.Duration(0)
	var srcMedian time.Duration = -1
	medians := map[string]time.Duration{}
	for _, f := range res.follow {
		lat := res.partLatencies(f, res.base)
		var durs timings
		for _, p := range f.parts {
			durs = append(durs, p.duration)
		}
		m := lat.quantile(0.5)
		player := m + f.holdBack
		worst = max(worst, player)
		medians[f.name] = m
		if srcMedian < 0 {
			srcMedian = m
		}
		fmt.Fprintf(tw, "%s\t%dx%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t\n", f.name, f.width, f.height, len(lat),
			ms(durs.quantile(0.5)), signedMs(lat.quantile(0)), ms(m), ms(lat.quantile(0.9)), ms(lat.quantile(1)), ms(f.holdBack),
			ms(player), f.unread, f.misaligned, f.batched)
	}
	tw.Flush()
	fmt.Fprintln(out, "\nlatency = part downloaded - frame sent, for the last frame of each part; player latency = median + PART-HOLD-BACK")
	fmt.Fprintln(out, "unread = parts whose last frame's number could not be read; misaligned = parts whose frame numbers do not")
	fmt.Fprintln(out, "  run consecutively (both should be 0); batched = parts already listed with a newer part when the follower")
	fmt.Fprintln(out, "  saw them (follower lagging)")
	for _, f := range res.follow {
		if n := len(res.partLatencies(f, res.base)) + f.unread; f.unread*10 > n {
			fmt.Fprintf(out, "WARNING: %d of %d parts of %s have no readable frame number: its pictures are corrupt\n", f.unread, n, f.name)
			fmt.Fprintln(out, "  (the frame code survives x264 at these bitrates, see TestFrameCodeSurvivesScalingAndX264);")
			fmt.Fprintln(out, "  its figures come from the readable parts only")
		}
	}
	for _, c := range res.complaints {
		fmt.Fprintf(out, "transcoder ffmpeg: %s\n", c)
	}
	verdict := "MET"
	if worst > latencyTarget {
		verdict = "MISSED"
	}
	fmt.Fprintf(out, "\nworst player latency %s; target <= %s on every rendition: %s\n", ms(worst), ms(latencyTarget), verdict)
	for _, f := range res.follow[1:] {
		fmt.Fprintf(out, "  %s is %s behind %s (transcoding: ffmpeg pipe in, decode, scale, x264, pipe out)\n",
			f.name, ms(medians[f.name]-srcMedian), res.follow[0].name)
	}
	fmt.Fprintf(out, "\nreproduce: %s\n", strings.TrimSpace(command))
}

// follower is an LL-HLS player of one rendition: it follows the live edge
// with blocking playlist reloads, downloads every new part at once and feeds
// the parts, from the first independent one, to an ffmpeg decoder.
type follower struct {
	rig           *benchRig
	url           string
	name          string
	width, height int
	measureFrom   time.Time

	holdBack time.Duration
	parts    []*fetchedPart // in order
	batched  int
	// pdts holds every segment's EXT-X-PROGRAM-DATE-TIME seen in any
	// playlist: a server that writes it only at the top of the window
	// (MediaMTX) names a segment's once the segment is the oldest listed.
	pdts       map[uint64]time.Time
	unread     int
	misaligned int

	dec *frameDecoder
}

type fetchedPart struct {
	msn                   uint64
	idx                   int
	duration              time.Duration
	pdt                   time.Time
	avail                 time.Time
	samples               int // video samples; 0 for parts not given to the decoder
	firstFrame, lastFrame int // frame numbers read back; -1 when unknown
}

func (f *follower) run(ctx context.Context) error {
	dir := f.url[:strings.LastIndex(f.url, "/")+1]
	pl, err := f.playlist(ctx, f.url)
	if err != nil {
		return err
	}
	f.holdBack = pl.partHoldBack
	code, _, initData, err := livetest.Get(ctx, f.rig.client, dir+pl.mapURI)
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("init %s: status %d: %v", pl.mapURI, code, err)
	}
	videoID, err := videoTrackID(initData)
	if err != nil {
		return err
	}
	f.dec, err = startFrameDecoder(f.rig.ffmpegResolved, f.width)
	if err != nil {
		return err
	}
	f.dec.feed(initData)
	defer f.dec.close()

	lastMSN, lastIdx, ok := pl.lastPart()
	if !ok {
		return errors.New("media playlist lists no part")
	}
	feeding := false
	for {
		msn, part := pl.next()
		pl, err = f.playlist(ctx, fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", f.url, msn, part))
		if err != nil {
			return err
		}
		for _, s := range pl.segments {
			if !s.pdt.IsZero() {
				if f.pdts == nil {
					f.pdts = map[uint64]time.Time{}
				}
				f.pdts[s.msn] = s.pdt
			}
		}
		var fresh []*fetchedPart
		var uris []string
		for _, s := range pl.segments {
			for j, p := range s.parts {
				if s.msn < lastMSN || (s.msn == lastMSN && j <= lastIdx) {
					continue
				}
				fp := &fetchedPart{msn: s.msn, idx: j, duration: p.duration, firstFrame: -1, lastFrame: -1}
				if j == 0 {
					fp.pdt = s.pdt
				}
				if !feeding && p.independent {
					feeding = true
				}
				if feeding {
					fp.samples = -1 // to be counted
				}
				fresh = append(fresh, fp)
				uris = append(uris, p.uri)
				lastMSN, lastIdx = s.msn, j
			}
		}
		if len(fresh) > 1 {
			f.batched += len(fresh) - 1
		}
		for i, fp := range fresh {
			code, _, data, err := livetest.Get(ctx, f.rig.client, dir+uris[i])
			if err != nil || code != http.StatusOK {
				return fmt.Errorf("part %s: status %d: %v", uris[i], code, err)
			}
			fp.avail = time.Now()
			if fp.samples == -1 {
				if fp.samples, err = videoSamples(data, videoID); err != nil {
					return fmt.Errorf("part %s: %w", uris[i], err)
				}
				f.dec.feed(data)
			}
			f.parts = append(f.parts, fp)
		}
		if pl.ended {
			return nil
		}
	}
}

func (f *follower) playlist(ctx context.Context, url string) (*mediaPlaylist, error) {
	code, _, body, err := livetest.Get(ctx, f.rig.client, url)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d: %s", url, code, strings.TrimSpace(string(body)))
	}
	return parseMediaPlaylist(string(body))
}

// decoded waits for the decoder and assigns the numbers it read to the parts.
func (f *follower) decoded() error {
	if f.dec == nil {
		return errors.New("no decoder")
	}
	frames, err := f.dec.wait()
	if err != nil {
		return err
	}
	i := 0
	for _, p := range f.parts {
		if p.samples <= 0 {
			continue
		}
		if i+p.samples > len(frames) {
			break // the decoder was stopped before this part
		}
		p.firstFrame, p.lastFrame = frames[i], frames[i+p.samples-1]
		if !p.avail.Before(f.measureFrom) {
			switch {
			case p.lastFrame < 0:
				f.unread++
			case p.firstFrame >= 0 && p.lastFrame-p.firstFrame != p.samples-1:
				// Frame numbers must run consecutively through a part
				// (30 fps renditions), else the frames were matched to the
				// wrong parts.
				f.misaligned++
			}
		}
		i += p.samples
	}
	return nil
}

// frameDecoder is an ffmpeg process decoding a fragmented MP4 stream (init,
// then parts) from stdin into the grayscale frame-code strip of each frame.
type frameDecoder struct {
	cmd    *exec.Cmd
	queue  chan []byte
	done   chan struct{}
	frames []int
	errs   []string // the first few frame-code errors, for debugging
	stderr bytes.Buffer
	err    error
	once   sync.Once
}

func startFrameDecoder(ffmpeg string, width int) (*frameDecoder, error) {
	strip := livetest.FrameCodeStripHeight(width)
	d := &frameDecoder{queue: make(chan []byte, 4096), done: make(chan struct{})}
	d.cmd = exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-threads", "1", "-f", "mp4", "-i", "pipe:0",
		"-map", "0:v:0", "-vf", fmt.Sprintf("crop=w=iw:h=%d:x=0:y=0", strip),
		"-fps_mode", "passthrough", "-pix_fmt", "gray", "-f", "rawvideo", "pipe:1")
	d.cmd.Stderr = &d.stderr
	stdin, err := d.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start decoder: %w", err)
	}
	// The decoder is the benchmark's own cost: keep it out of the server's way.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, d.cmd.Process.Pid, 10)
	go func() {
		defer stdin.Close()
		for b := range d.queue {
			if _, err := stdin.Write(b); err != nil {
				for range d.queue {
				}
				return
			}
		}
	}()
	go func() {
		defer close(d.done)
		r := bufio.NewReaderSize(stdout, 1<<20)
		buf := make([]byte, width*strip)
		for {
			if _, err := io.ReadFull(r, buf); err != nil {
				break
			}
			n, err := livetest.DecodeFrameCode(buf, width, strip)
			if err != nil {
				n = -1
				if len(d.errs) < 5 {
					d.errs = append(d.errs, err.Error())
				}
			}
			d.frames = append(d.frames, n)
		}
		d.err = d.cmd.Wait()
	}()
	return d, nil
}

func (d *frameDecoder) feed(b []byte) {
	select {
	case d.queue <- b:
	default: // cannot happen at a part every 200 ms; never block the follower
	}
}

func (d *frameDecoder) close() { d.once.Do(func() { close(d.queue) }) }

// wait closes the input and returns the frame numbers read, in decode order
// (-1 for an unreadable frame).
func (d *frameDecoder) wait() ([]int, error) {
	d.close()
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		return nil, errors.New("decoder did not finish")
	}
	if d.err != nil && len(d.frames) == 0 {
		return nil, fmt.Errorf("decoder: %w: %s", d.err, strings.TrimSpace(d.stderr.String()))
	}
	return d.frames, nil
}

func videoTrackID(init []byte) (int, error) {
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(init)); err != nil {
		return 0, fmt.Errorf("init segment: %w", err)
	}
	for _, t := range in.Tracks {
		if _, ok := t.Codec.(*fmp4.CodecH264); ok {
			return t.ID, nil
		}
	}
	return 0, errors.New("init segment has no H.264 track")
}

func videoSamples(part []byte, id int) (int, error) {
	var ps fmp4.Parts
	if err := ps.Unmarshal(part); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		for _, t := range p.Tracks {
			if t.ID == id {
				n += len(t.Samples)
			}
		}
	}
	return n, nil
}

// signedMs is ms that also shows negative durations (a calibration error).
func signedMs(d time.Duration) string {
	return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
}

func resolution(s string) (int, int) {
	w, h, _ := strings.Cut(s, "x")
	wi, _ := strconv.Atoi(w)
	hi, _ := strconv.Atoi(h)
	return wi, hi
}

// renditionName is the rendition part of "<broadcast>/<rendition>/index.m3u8".
func renditionName(uri string) string {
	parts := strings.Split(uri, "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2]
	}
	return uri
}

// mediaPlaylist is the part of an LL-HLS media playlist a player needs.
type mediaPlaylist struct {
	partTarget   time.Duration
	partHoldBack time.Duration
	mapURI       string
	segments     []*plSegment
	ended        bool
}

type plSegment struct {
	msn      uint64
	pdt      time.Time
	parts    []plPart
	complete bool
	gap      bool
	duration time.Duration // EXTINF, once complete
}

type plPart struct {
	uri         string
	duration    time.Duration
	independent bool
}

func parseMediaPlaylist(body string) (*mediaPlaylist, error) {
	if !strings.HasPrefix(body, "#EXTM3U") {
		return nil, errors.New("not a playlist")
	}
	pl := &mediaPlaylist{}
	var msn uint64
	var cur *plSegment
	open := func() *plSegment {
		if cur == nil {
			cur = &plSegment{msn: msn}
			pl.segments = append(pl.segments, cur)
		}
		return cur
	}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		tag, value, _ := strings.Cut(line, ":")
		switch {
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			n, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("EXT-X-MEDIA-SEQUENCE: %w", err)
			}
			msn = n
		case tag == "#EXT-X-SERVER-CONTROL":
			pl.partHoldBack = attrSeconds(value, "PART-HOLD-BACK")
		case tag == "#EXT-X-PART-INF":
			pl.partTarget = attrSeconds(value, "PART-TARGET")
		case tag == "#EXT-X-MAP":
			pl.mapURI = attr(value, "URI")
		case tag == "#EXT-X-PROGRAM-DATE-TIME":
			t, err := time.Parse(time.RFC3339Nano, value)
			if err == nil {
				open().pdt = t
			}
		case tag == "#EXT-X-PART":
			s := open()
			s.parts = append(s.parts, plPart{uri: attr(value, "URI"), duration: attrSeconds(value, "DURATION"),
				independent: attr(value, "INDEPENDENT") == "YES"})
		case tag == "#EXTINF":
			d, _, _ := strings.Cut(value, ",")
			f, err := strconv.ParseFloat(d, 64)
			if err != nil {
				return nil, fmt.Errorf("EXTINF: %w", err)
			}
			open().duration = time.Duration(f * float64(time.Second))
		case tag == "#EXT-X-GAP":
			open().gap = true
		case tag == "#EXT-X-ENDLIST":
			pl.ended = true
		case line != "" && !strings.HasPrefix(line, "#"):
			open().complete = true
			cur = nil
			msn++
		}
	}
	return pl, nil
}

// firstPart returns the first part listed, or nil.
func (pl *mediaPlaylist) firstPart() *plPart {
	for _, s := range pl.segments {
		if len(s.parts) > 0 {
			return &s.parts[0]
		}
	}
	return nil
}

// lastPart returns the position of the newest part listed.
func (pl *mediaPlaylist) lastPart() (msn uint64, idx int, ok bool) {
	for i := len(pl.segments) - 1; i >= 0; i-- {
		if s := pl.segments[i]; len(s.parts) > 0 {
			return s.msn, len(s.parts) - 1, true
		}
	}
	return 0, 0, false
}

// next returns the delivery directives of the blocking reload that waits
// for the part after the newest one listed.
func (pl *mediaPlaylist) next() (msn uint64, part int) {
	if len(pl.segments) == 0 {
		return 0, 0
	}
	s := pl.segments[len(pl.segments)-1]
	if s.complete {
		return s.msn + 1, 0
	}
	return s.msn, len(s.parts)
}

// attr returns attribute name of an attribute list, unquoted.
func attr(list, name string) string {
	for _, m := range attrList(list) {
		if m[0] == name {
			return m[1]
		}
	}
	return ""
}

func attrSeconds(list, name string) time.Duration {
	f, err := strconv.ParseFloat(attr(list, name), 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// attrList splits an attribute list into name/value pairs, honouring
// quoted values that contain commas.
func attrList(list string) [][2]string {
	var out [][2]string
	for len(list) > 0 {
		name, rest, ok := strings.Cut(list, "=")
		if !ok {
			break
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				value, rest = rest[1:], ""
			} else {
				value, rest = rest[1:1+end], rest[2+end:]
			}
			rest = strings.TrimPrefix(rest, ",")
		} else {
			value, rest, _ = strings.Cut(rest, ",")
		}
		out = append(out, [2]string{strings.TrimSpace(name), value})
		list = rest
	}
	return out
}
