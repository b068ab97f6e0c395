package transcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/livehouse/livehouse/internal/media"
)

// Sink receives one rendition's output; it is implemented by the HLS layer.
// Each sink is called from one goroutine at a time and must not block.
type Sink interface {
	// Begin starts a new epoch: the first start of ffmpeg, or a restart.
	// Timestamps stay on the source timeline across epochs.
	Begin(tracks media.Tracks)
	// Write delivers one unit; the first unit after Begin is a key frame.
	Write(u *media.Unit)
	// Idle says that ffmpeg failed without output (it cannot start, or it
	// dies at once) and nothing comes until the next Begin, so nobody
	// should wait for the rendition meanwhile.
	Idle()
}

// Config configures a Transcoder.
type Config struct {
	// FFmpegPath defaults to "ffmpeg" looked up in PATH.
	FFmpegPath string
	Ladder     Ladder
	// Source describes the input stream; Video with SPS, PPS, Width and
	// Height is required, Audio (AAC) is optional and copied.
	Source media.Tracks
	// Sinks receive the scaled renditions, by name; there must be exactly
	// one per scaled rendition of Ladder.Plan(Source).
	Sinks map[string]Sink
	// ThumbnailPath is where a JPEG thumbnail is refreshed about every 10 s;
	// empty for none. Its directory must exist.
	ThumbnailPath string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// RestartDelay is the pause before restarting a dead ffmpeg, or retrying
	// one that could not start; default 200 ms. It doubles (up to 5 s) while
	// ffmpeg keeps failing without output.
	RestartDelay time.Duration
}

// Stats is a snapshot of a Transcoder.
type Stats struct {
	// Speed and FPS are ffmpeg's current -progress figures.
	Speed float64 `json:"speed"`
	FPS   float64 `json:"fps"`
	// Frames, DroppedFrames and DupFrames are ffmpeg's counts, summed over
	// restarts.
	Frames        int64 `json:"frames"`
	DroppedFrames int64 `json:"dropped_frames"`
	DupFrames     int64 `json:"dup_frames"`
	// SkippedUnits counts source units never given to ffmpeg: while no
	// ffmpeg was running, while waiting for a key frame after a (re)start,
	// or after ffmpeg fell behind and its input queue filled.
	SkippedUnits int64 `json:"skipped_units"`
	// QueueOverflows counts the times ffmpeg fell behind.
	QueueOverflows int64 `json:"queue_overflows"`
	// CPUTime is the user+system CPU time of the ffmpeg processes that have
	// exited (the running one is not included).
	CPUTime time.Duration `json:"cpu_time_ns"`
	// Restarts counts ffmpeg restarts after it died.
	Restarts  int    `json:"restarts"`
	Running   bool   `json:"running"`
	LastError string `json:"last_error,omitempty"`
}

// inputQueue bounds the units waiting for ffmpeg's stdin (about 3 s of
// 30 fps video plus 48 kHz AAC).
const inputQueue = 256

// stallTimeout is how long ffmpeg may take input without producing anything
// before it is considered hung and restarted.
const stallTimeout = 10 * time.Second

// drainTimeout bounds how long ffmpeg may take to flush after the source ended.
const drainTimeout = 5 * time.Second

const maxRestartDelay = 5 * time.Second

// Transcoder supervises one ffmpeg process that turns a live source into
// the scaled renditions of a ladder and a thumbnail, restarting it when it dies.
type Transcoder struct {
	cfg      Config
	plan     []Rendition
	rends    []Rendition // scaled renditions, in output pipe order
	outFPS   []float64
	sinks    []Sink
	args     []string
	audioCfg *mpeg4audio.Config
	queueLen int
	log      *slog.Logger
	running  atomic.Bool

	mu    sync.Mutex
	cur   *process
	ended bool
	stats Stats
	past  progress // summed counts of finished processes
	live  progress // last block of the running process
	// liveAt is when live arrived; used to derive Speed when ffmpeg
	// reports none (it says 0x for -copyts MPEG-TS outputs).
	liveAt time.Time
	gop    []*media.Unit // units since the newest key frame; see keepGOP
}

// New validates cfg and returns a Transcoder; nothing runs until Run.
func New(cfg Config) (*Transcoder, error) {
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = "ffmpeg"
	}
	if cfg.RestartDelay <= 0 {
		cfg.RestartDelay = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Ladder.Validate(); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	v := cfg.Source.Video
	if v == nil || len(v.SPS) == 0 || len(v.PPS) == 0 || v.Width <= 0 || v.Height <= 0 {
		return nil, errors.New("transcode: source needs an H.264 track with SPS, PPS and size")
	}
	t := &Transcoder{cfg: cfg, log: cfg.Logger, queueLen: inputQueue}
	if a := cfg.Source.Audio; a != nil {
		var conf mpeg4audio.Config
		if err := conf.Unmarshal(a.Config); err != nil {
			return nil, fmt.Errorf("transcode: source AAC config: %w", err)
		}
		if a.SampleRate <= 0 || a.SampleRate >= 90000 {
			return nil, fmt.Errorf("transcode: source AAC sample rate %d not supported", a.SampleRate)
		}
		t.audioCfg = &conf
	}
	if p := cfg.ThumbnailPath; p != "" {
		if st, err := os.Stat(filepath.Dir(p)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("transcode: thumbnail directory of %q does not exist", p)
		}
	}
	t.plan = cfg.Ladder.Plan(cfg.Source)
	t.rends = scaled(t.plan)
	for _, r := range t.rends {
		s, ok := cfg.Sinks[r.Name]
		if !ok || s == nil {
			return nil, fmt.Errorf("transcode: no sink for rendition %q", r.Name)
		}
		t.sinks = append(t.sinks, s)
		t.outFPS = append(t.outFPS, outputFPS(v.FPS, r.MaxFPS))
	}
	if len(cfg.Sinks) != len(t.rends) {
		return nil, fmt.Errorf("transcode: %d sinks for %d scaled renditions", len(cfg.Sinks), len(t.rends))
	}
	t.args = Args(ArgsConfig{Ladder: cfg.Ladder, Plan: t.plan, Source: cfg.Source, ThumbnailPath: cfg.ThumbnailPath})
	return t, nil
}

// Plan returns the effective ladder for the source (see Ladder.Plan).
func (t *Transcoder) Plan() []Rendition { return append([]Rendition(nil), t.plan...) }

// Stats returns a snapshot of the transcoder's counters.
func (t *Transcoder) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.Speed, s.FPS = t.live.Speed, t.live.FPS
	s.Frames = t.past.Frame + t.live.Frame
	s.DroppedFrames = t.past.DropFrames + t.live.DropFrames
	s.DupFrames = t.past.DupFrames + t.live.DupFrames
	s.Running = t.cur != nil
	return s
}

// Run feeds src into ffmpeg and the renditions into the sinks until ctx is
// done or src ends, restarting ffmpeg whenever it dies or fails to start. On return ffmpeg has
// been killed and reaped and every goroutine and pipe is gone. It returns nil
// when ctx ends or the source closes normally.
func (t *Transcoder) Run(ctx context.Context, src *media.Reader) error {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("transcode: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	srcDone := make(chan error, 1)
	var pump sync.WaitGroup
	pump.Add(1)
	go func() {
		defer pump.Done()
		srcDone <- t.pump(ctx, src)
	}()
	defer pump.Wait()
	defer cancel()
	if len(t.rends) == 0 && t.cfg.ThumbnailPath == "" {
		select {
		case <-ctx.Done():
			return nil
		case err := <-srcDone:
			return err
		}
	}
	return t.supervise(ctx, srcDone)
}

// pump moves source units into the running ffmpeg's input queue without
// ever blocking on ffmpeg.
func (t *Transcoder) pump(ctx context.Context, src *media.Reader) error {
	for {
		u, err := src.Next(ctx.Done())
		if u == nil {
			t.mu.Lock()
			t.ended = true
			if t.cur != nil {
				close(t.cur.in)
			}
			t.mu.Unlock()
			if err == nil || errors.Is(err, media.ErrStreamClosed) {
				return nil
			}
			return fmt.Errorf("transcode: source: %w", err)
		}
		t.offer(u)
	}
}

func (t *Transcoder) offer(u *media.Unit) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.keepGOP(u)
	p := t.cur
	switch {
	case p == nil && kept:
		return // replayed when ffmpeg starts
	case p == nil, u.Kind == media.KindAudio && t.audioCfg == nil:
		t.stats.SkippedUnits++
		return
	case p.needKey:
		if u.Kind != media.KindVideo || !u.Key {
			t.stats.SkippedUnits++
			return
		}
		p.needKey = false
	}
	select {
	case p.in <- u:
	default:
		// ffmpeg fell behind: resume at the next key frame so it never
		// decodes a frame whose references were dropped.
		p.needKey = true
		t.stats.SkippedUnits++
		t.stats.QueueOverflows++
	}
}

// keepGOP remembers the units since the newest video key frame, so that an
// ffmpeg that starts (or restarts) mid-GOP begins at that key frame instead
// of dropping everything until the next one. It reports whether u was kept.
func (t *Transcoder) keepGOP(u *media.Unit) bool {
	if u.Kind == media.KindVideo && u.Key {
		clear(t.gop)
		t.gop = t.gop[:0]
	}
	if len(t.gop) == 0 && !(u.Kind == media.KindVideo && u.Key) {
		return false
	}
	if len(t.gop) >= t.queueLen || (u.Kind == media.KindAudio && t.audioCfg == nil) {
		return false
	}
	t.gop = append(t.gop, u)
	return true
}

// supervise runs ffmpeg until ctx ends or the source ends.
func (t *Transcoder) supervise(ctx context.Context, srcDone <-chan error) error {
	failures := 0
	for {
		p, err := t.start(ctx)
		switch {
		case err != nil:
			// A missing or unrunnable ffmpeg may be fixed while we wait
			// (a package install, a remounted disk): retry like a crash.
			failures++
			t.mu.Lock()
			t.stats.LastError = err.Error()
			t.mu.Unlock()
			t.log.Error("cannot start ffmpeg; retrying", "err", err, "attempt", failures)
			t.idle()
		case p == nil: // the source ended before the start
			return <-srcDone
		default:
			done, err := t.watch(ctx, p, srcDone)
			if done {
				return err
			}
			if p.produced.Load() {
				failures = 0
			} else {
				failures++
				t.idle()
			}
		}
		delay := t.cfg.RestartDelay
		if failures > 1 { // back off while ffmpeg dies without output
			delay = min(delay<<min(failures-1, 6), maxRestartDelay)
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case err := <-srcDone:
			timer.Stop()
			return err
		case <-timer.C:
		}
		t.mu.Lock()
		t.stats.Restarts++
		t.mu.Unlock()
	}
}

// idle tells every sink that no ffmpeg produces for it; no writer of the
// sinks runs while supervise calls it.
func (t *Transcoder) idle() {
	for _, s := range t.sinks {
		s.Idle()
	}
}

// start spawns ffmpeg and makes it the current process. It returns nil, nil
// when the source has already ended.
func (t *Transcoder) start(ctx context.Context) (*process, error) {
	p, err := t.spawn(ctx)
	if err != nil {
		return nil, fmt.Errorf("transcode: start ffmpeg: %w", err)
	}
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		p.stop()
		return nil, nil
	}
	t.cur = p
	t.live, t.liveAt = progress{}, time.Time{}
	if len(t.gop) > 0 {
		p.needKey = false
		for _, u := range t.gop {
			select {
			case p.in <- u:
			default:
				p.needKey = true
			}
		}
	}
	t.mu.Unlock()
	t.log.Debug("ffmpeg started", "pid", p.cmd.Process.Pid, "args", strings.Join(t.args, " "))
	return p, nil
}

// watch waits for p to end. done reports that Run must return err; otherwise
// p died and must be restarted.
func (t *Transcoder) watch(ctx context.Context, p *process, srcDone <-chan error) (done bool, err error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			t.finish(p, true)
			return false, nil
		case <-ctx.Done():
			p.stop()
			t.finish(p, false)
			return true, nil
		case err := <-srcDone:
			if ctx.Err() == nil {
				// The pump closed p's input: let ffmpeg flush the tail.
				select {
				case <-p.exited:
				case <-ctx.Done():
				case <-time.After(drainTimeout):
				}
			}
			p.stop()
			t.finish(p, false)
			return true, err
		case <-tick.C:
			if p.stalled(stallTimeout) {
				t.log.Warn("ffmpeg stalled: no output for a while, killing it", "timeout", stallTimeout)
				p.kill()
			}
		}
	}
}

// finish tears down p and records its end; crashed marks an unexpected exit.
func (t *Transcoder) finish(p *process, crashed bool) {
	p.stop()
	t.mu.Lock()
	t.cur = nil
	t.past.Frame += t.live.Frame
	t.past.DropFrames += t.live.DropFrames
	t.past.DupFrames += t.live.DupFrames
	t.live, t.liveAt = progress{}, time.Time{}
	if ps := p.cmd.ProcessState; ps != nil {
		t.stats.CPUTime += ps.UserTime() + ps.SystemTime()
	}
	if crashed {
		t.stats.LastError = fmt.Sprintf("ffmpeg exited (%v)", p.waitErr)
		if cause := firstError(p.stderrTail()); cause != "" {
			t.stats.LastError += ": " + cause
		}
	}
	t.mu.Unlock()
	if crashed {
		t.log.Warn("ffmpeg died, restarting", "err", p.waitErr, "stderr", strings.Join(p.stderrTail(), "\n"))
	}
}

func (t *Transcoder) setProgress(p *process, pr progress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != p {
		return
	}
	now := time.Now()
	if pr.Speed == 0 {
		pr.Speed = t.live.Speed
		fps := 0.0
		if len(t.outFPS) > 0 {
			fps = t.outFPS[0]
		}
		if dt := now.Sub(t.liveAt).Seconds(); fps > 0 && !t.liveAt.IsZero() && dt > 0 && pr.Frame > t.live.Frame {
			pr.Speed = float64(pr.Frame-t.live.Frame) / dt / fps
		}
	}
	t.live, t.liveAt = pr, now
}

// firstError picks the root cause from ffmpeg's last lines: the first one
// logged at error level or worse (-loglevel level+...), else the last line.
func firstError(lines []string) string {
	for _, l := range lines {
		if strings.Contains(l, "[error]") || strings.Contains(l, "[fatal]") {
			return l
		}
	}
	if len(lines) > 0 {
		return lines[len(lines)-1]
	}
	return ""
}
