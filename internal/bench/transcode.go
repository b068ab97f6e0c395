package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
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

// transcodeTarget is the cost ratio (Livehouse / plain ffmpeg) the benchmark
// is judged against.
const transcodeTarget = 1.10

// TranscodeCost measures the CPU cost of the default ladder per media second
// in Livehouse, against a plain ffmpeg command that encodes the same
// renditions with the same encoder settings to the null muxer. Both read the
// same pre-generated file in real time (-re); runs alternate, Livehouse first.
//
// Livehouse's cost is the CPU time of the server's ffmpeg children ("ffmpeg
// only") and that plus the Go process's own CPU time, which ingests, feeds
// ffmpeg, demuxes its output and muxes every rendition to LL-HLS ("total").
//
// Flags: -runs (3 of each), -duration (20s of media), -ffmpeg, -v.
func TranscodeCost(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("transcode", flag.ContinueOnError)
	fs.SetOutput(out)
	runs := fs.Int("runs", 3, "runs of each side, alternating")
	duration := fs.Duration("duration", 20*time.Second, "length of the source file")
	ffmpeg := fs.String("ffmpeg", "ffmpeg", "ffmpeg binary")
	verbose := fs.Bool("v", false, "print the server's logs to stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the server) during the Livehouse runs to `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 || *duration < time.Second {
		return errors.New("transcode: -runs must be at least 1 and -duration at least 1s")
	}
	if others := childPIDs(); len(others) > 0 {
		return fmt.Errorf("transcode: this process already has child processes %v; their CPU time would be counted", others)
	}
	// Keep every segment, to add up what was transcoded.
	hlsCfg := hls.Config{SegmentCount: int(*duration/time.Second) + 20}
	rig, err := startRig(ctx, rigConfig{FFmpeg: *ffmpeg, Verbose: *verbose, HLS: hlsCfg})
	if err != nil {
		return err
	}
	defer rig.Close()

	src := sourceTracks(1280, 720, 30)
	file := filepath.Join(rig.dir, "source.flv")
	if err := generateSource(ctx, rig.ffmpegResolved, file, *duration); err != nil {
		return err
	}
	ladder := transcode.DefaultLadder()
	plan := ladder.Plan(src)
	baseline := baselineArgs(transcode.ArgsConfig{Ladder: ladder, Plan: plan, Source: src}, file)
	var scaledNames []string
	for _, r := range plan {
		if !r.Passthrough {
			scaledNames = append(scaledNames, r.Name)
		}
	}

	var prof *os.File
	if *cpuProfile != "" {
		if prof, err = os.Create(*cpuProfile); err != nil {
			return err
		}
		defer prof.Close()
	}
	var lh, base []costRun
	for i := range *runs {
		if prof != nil {
			if err := pprof.StartCPUProfile(prof); err != nil {
				return err
			}
		}
		r, err := rig.livehouseCost(ctx, fmt.Sprintf("cost-%d", i+1), file, *duration, scaledNames)
		if prof != nil {
			pprof.StopCPUProfile()
			prof = nil // one profile file holds one run
		}
		if err != nil {
			return fmt.Errorf("livehouse run %d: %w", i+1, err)
		}
		lh = append(lh, r)
		b, err := runBaseline(ctx, rig.ffmpegResolved, baseline, *duration)
		if err != nil {
			return fmt.Errorf("baseline run %d: %w", i+1, err)
		}
		base = append(base, b)
	}
	serverArgs := transcode.Args(transcode.ArgsConfig{Ladder: ladder, Plan: plan, Source: src,
		ThumbnailPath: filepath.Join("DATA", "thumbnails", "SLUG.jpg")})
	writeCostReport(out, rig, *duration, lh, base, serverArgs, baseline, "livehouse bench transcode "+strings.Join(args, " "))
	return nil
}

// costRun is the CPU time of one run.
type costRun struct {
	wall      time.Duration
	media     time.Duration // media transcoded: the shortest scaled rendition, or the file
	published time.Duration // media published (the file)
	ffmpeg    time.Duration // transcoding ffmpeg (Livehouse) or the plain command
	server    time.Duration // Livehouse's Go process; 0 for the baseline
	publisher time.Duration // the publishing ffmpeg, not counted
	skipped   int64         // source units the transcoder never gave ffmpeg
	// probeMissed: x264 in the transcoder ran without a frame rate (see
	// probeMissed()).
	probeMissed bool
}

func (r costRun) total() time.Duration { return r.ffmpeg + r.server }

// ffmpegPerMedia is the transcoding CPU time per media second transcoded.
func (r costRun) ffmpegPerMedia() float64 { return perSecond(r.ffmpeg, r.media) }

// serverPerMedia is the Go process's CPU time per media second published:
// it ingests and muxes the whole publication, transcoded or not.
func (r costRun) serverPerMedia() float64 { return perSecond(r.server, r.published) }

func (r costRun) totalPerMedia() float64 { return r.ffmpegPerMedia() + r.serverPerMedia() }

func perSecond(cpu, media time.Duration) float64 {
	if media <= 0 {
		return 0
	}
	return cpu.Seconds() / media.Seconds()
}

// sourceTracks describes the synthetic source: H.264 at the given size and
// frame rate, with AAC audio.
func sourceTracks(w, h int, fps float64) media.Tracks {
	return media.Tracks{
		Video: &media.H264{Width: w, Height: h, FPS: fps},
		Audio: &media.AAC{SampleRate: 48000, Channels: 1},
	}
}

// generateSource writes a 1280x720 30 fps H.264 (x264 veryfast, 3 Mbps, key
// frame every 2 s, as OBS sends by default) + AAC FLV file of length d.
func generateSource(ctx context.Context, ffmpeg, path string, d time.Duration) error {
	secs := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration="+secs,
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+secs,
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-b:v", "3000k", "-maxrate", "3000k", "-bufsize", "3000k",
		"-c:a", "aac", "-b:a", "128k", "-ac", "1", "-f", "flv", "-y", path)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("generate source: %w: %s", err, strings.TrimSpace(string(b)))
	}
	return nil
}

// baselineArgs is transcode.PlainArgs paced in real time like a live source.
func baselineArgs(cfg transcode.ArgsConfig, input string) []string {
	args := transcode.PlainArgs(cfg, input)
	for i, a := range args {
		if a == "-i" {
			return append(append(args[:i:i], "-re"), args[i:]...)
		}
	}
	return args
}

func runBaseline(ctx context.Context, ffmpeg string, args []string, media time.Duration) (costRun, error) {
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		return costRun{}, fmt.Errorf("%w: %s", err, strings.TrimSpace(string(b)))
	}
	ps := cmd.ProcessState
	return costRun{wall: time.Since(start), media: media, published: media, ffmpeg: ps.UserTime() + ps.SystemTime()}, nil
}

// livehouseCost publishes file with -re -c copy to a fresh channel and
// measures the CPU time of everything the server did for it: the children
// reaped meanwhile (the transcoding ffmpeg, and the publisher, which is
// subtracted) and the process's own time.
func (rig *benchRig) livehouseCost(ctx context.Context, slug, file string, published time.Duration, scaledNames []string) (costRun, error) {
	key, err := rig.srv.CreateChannel(ctx, slug)
	if err != nil {
		return costRun{}, err
	}
	self0, children0 := cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
	start := time.Now()
	cmd := exec.CommandContext(ctx, rig.ffmpegResolved, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-i", file, "-c", "copy", "-f", "flv", rig.srv.RTMP+"/"+key)
	cmd.WaitDelay = 2 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return costRun{}, err
	}
	// Sample the transcoder's frame count while it runs, as a sanity check.
	var skipped int64
	var broadcast string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if st, ok := rig.srv.Live().StatusOf(slug); ok && st.Transcoder != nil {
					skipped = max(skipped, st.Transcoder.SkippedUnits)
					broadcast = st.BroadcastID
				}
			}
		}
	}()
	err = cmd.Wait()
	close(stop)
	wg.Wait()
	if err != nil {
		return costRun{}, fmt.Errorf("publisher: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	// The broadcast ends when the publisher leaves; wait for the server to
	// reap its ffmpeg so that its CPU time is in RUSAGE_CHILDREN.
	if err := waitChildren(ctx, 20*time.Second); err != nil {
		return costRun{}, err
	}
	wall := time.Since(start)
	self1, children1 := cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
	ps := cmd.ProcessState
	pubCPU := ps.UserTime() + ps.SystemTime()
	media, err := rig.transcodedMedia(ctx, slug, broadcast, scaledNames)
	if err != nil {
		return costRun{}, err
	}
	return costRun{
		wall:        wall,
		media:       media,
		published:   published,
		ffmpeg:      children1 - children0 - pubCPU,
		server:      self1 - self0,
		publisher:   pubCPU,
		skipped:     skipped,
		probeMissed: probeMissed(rig.tap.since(start).ffmpegComplaints(slug)),
	}, nil
}

// transcodedMedia is the media duration of the shortest of the broadcast's
// scaled renditions: the sum of its segments, gaps left out. The media
// stays addressable for a while after the broadcast ended.
func (rig *benchRig) transcodedMedia(ctx context.Context, slug, broadcast string, names []string) (time.Duration, error) {
	if broadcast == "" {
		return 0, errors.New("the broadcast was never seen live")
	}
	shortest := time.Duration(-1)
	for _, name := range names {
		url := rig.srv.HTTP + "/hls/" + slug + "/" + broadcast + "/" + name + "/index.m3u8"
		code, _, body, err := livetest.Get(ctx, rig.client, url)
		if err != nil || code != http.StatusOK {
			return 0, fmt.Errorf("%s: status %d: %v", url, code, err)
		}
		pl, err := parseMediaPlaylist(string(body))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", url, err)
		}
		var d time.Duration
		for _, seg := range pl.segments {
			if seg.complete && !seg.gap {
				d += seg.duration
			}
		}
		if shortest < 0 || d < shortest {
			shortest = d
		}
	}
	return shortest, nil
}

func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childPIDs lists this process's live (or unreaped) children, from /proc.
func childPIDs() []int {
	self := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		rest := s[strings.LastIndexByte(s, ')')+1:]
		f := strings.Fields(rest)
		if len(f) >= 2 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == self {
				out = append(out, pid)
			}
		}
	}
	return out
}

// waitChildren waits until this process has no child processes left.
func waitChildren(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids := childPIDs()
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("child processes %v still running after %v", pids, timeout)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

func writeCostReport(out io.Writer, rig *benchRig, d time.Duration, lh, base []costRun, serverArgs, baseline []string, command string) {
	fmt.Fprintf(out, "Livehouse transcode cost: CPU-seconds per media-second of the default ladder vs plain ffmpeg\n")
	rig.writeMachine(out)
	fmt.Fprintf(out, "source: %v of 1280x720 30 fps H.264 (x264 veryfast 3 Mbps, GOP 2 s) + AAC, testsrc2, read with -re on both sides\n", d)
	fmt.Fprintf(out, "ladder: %s\n\n", ladderSummary(transcode.DefaultLadder()))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tside\twall s\tmedia s\tffmpeg CPU s\tGo CPU s\ttotal CPU s\tffmpeg/media-s\ttotal/media-s\tskipped units\tprobe\t")
	row := func(i int, side string, r costRun) {
		goCPU, skipped, probe := "-", "-", "-"
		if side == "livehouse" {
			goCPU, skipped, probe = secs(r.server), strconv.FormatInt(r.skipped, 10), "ok"
			if r.probeMissed {
				probe = "MISSED"
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.3f\t%s\t%s\t\n", i, side, secs(r.wall), secs(r.media),
			secs(r.ffmpeg), goCPU, secs(r.total()), r.ffmpegPerMedia(), r.totalPerMedia(), skipped, probe)
	}
	for i := range lh {
		row(i+1, "livehouse", lh[i])
		row(i+1, "baseline", base[i])
	}
	tw.Flush()

	med := func(rs []costRun, f func(costRun) float64) float64 {
		var t timings // in microunits, to reuse the quantile code
		for _, r := range rs {
			t = append(t, time.Duration(f(r)*1e6))
		}
		return float64(t.quantile(0.5)) / 1e6
	}
	lhFF := med(lh, costRun.ffmpegPerMedia)
	lhGo := med(lh, costRun.serverPerMedia)
	lhTotal := med(lh, costRun.totalPerMedia)
	b := med(base, costRun.ffmpegPerMedia)
	fmt.Fprintf(out, "\nmedians (CPU-s per media-s): livehouse ffmpeg only %.3f, livehouse Go %.3f, livehouse total %.3f; plain ffmpeg %.3f\n",
		lhFF, lhGo, lhTotal, b)
	verdict := "MET"
	if lhTotal/b > transcodeTarget {
		verdict = "MISSED"
	}
	fmt.Fprintf(out, "ratio livehouse/plain: ffmpeg only %.3fx, total %.3fx; target <= %.2fx (total): %s\n",
		lhFF/b, lhTotal/b, transcodeTarget, verdict)
	fmt.Fprintln(out, "media s: Livehouse = duration of the shortest scaled rendition it served (gaps excluded); baseline = the file.")
	fmt.Fprintln(out, "total/media-s = ffmpeg CPU per media-s transcoded + Go CPU per media-s published (the Go side ingests and muxes it all)")
	fmt.Fprintln(out, "skipped units: source units the transcoder dropped (no ffmpeg yet, or waiting for a key frame)")
	fmt.Fprintln(out, "probe MISSED: x264 in the transcoder ran without a frame rate (\"MB rate > level limit\"): it assumes")
	fmt.Fprintln(out, "  90000 fps and starves every frame of bits, so that run's cost is not representative")
	fmt.Fprintf(out, "\nlivehouse transcoder: ffmpeg %s\n", strings.Join(serverArgs, " "))
	fmt.Fprintf(out, "baseline:             ffmpeg %s\n", strings.Join(baseline, " "))
	fmt.Fprintf(out, "\nreproduce: %s\n", strings.TrimSpace(command))
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) }
