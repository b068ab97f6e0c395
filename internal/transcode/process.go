package transcode

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mpegtscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/livehouse/livehouse/internal/media"
)

// process is one run of ffmpeg: one epoch of the renditions.
type process struct {
	t   *Transcoder
	cmd *exec.Cmd

	// in is fed by the pump under t.mu, and closed by it when the source ends.
	in chan *media.Unit
	// needKey (guarded by t.mu) drops units until the next video key frame.
	needKey bool

	tl      timeline
	tlReady chan struct{} // closed once tl is set by the first written unit
	clock   wallClock

	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error
	wg      sync.WaitGroup
	stopped sync.Once

	stdin     *os.File
	outs      []*os.File
	progressR *os.File
	stderrR   *os.File

	produced     atomic.Bool
	pendingSince atomic.Int64 // unix ns of the first input since the last output, 0 if none

	tailMu sync.Mutex
	tail   []string
}

const stderrTailLines = 12

// waitDelay bounds how long reaping a killed ffmpeg may wait for its pipes.
const waitDelay = 2 * time.Second

// spawn starts ffmpeg with its pipes and the goroutines serving them. ffmpeg
// is killed when ctx ends, and (on Linux) when this process dies.
func (t *Transcoder) spawn(ctx context.Context) (*process, error) {
	p := &process{
		t:       t,
		in:      make(chan *media.Unit, t.queueLen),
		needKey: true,
		tlReady: make(chan struct{}),
		exited:  make(chan struct{}),
	}
	child, err := p.openPipes(len(t.rends))
	if err != nil {
		return nil, err
	}
	p.cmd = exec.CommandContext(ctx, t.cfg.FFmpegPath, t.args...)
	// SIGKILL, as stop does: every output goes to pipes we stop reading, so
	// there is nothing for a graceful exit to flush.
	p.cmd.Cancel = func() error { return p.cmd.Process.Kill() }
	p.cmd.WaitDelay = waitDelay
	p.cmd.SysProcAttr = childAttr()
	p.cmd.Stdin, p.cmd.Stderr, p.cmd.ExtraFiles = child[0], child[1], child[2:]
	err = p.cmd.Start()
	// Close the child's ends here so that our readers see EOF when it dies.
	closeFiles(child)
	if err != nil {
		closeFiles(append(p.outs, p.stdin, p.stderrR, p.progressR))
		return nil, err
	}
	p.wg.Add(4 + len(p.outs))
	go func() {
		defer p.wg.Done()
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	go p.feed()
	go p.logStderr()
	go func() {
		defer p.wg.Done()
		readProgress(p.progressR, func(pr progress) {
			if pr.Frame > 0 {
				p.activity()
			}
			t.setProgress(p, pr)
		})
	}()
	for i := range p.outs {
		go p.readOutput(i)
	}
	return p, nil
}

// openPipes creates stdin, stderr, one pipe per rendition and the progress
// pipe. It keeps our ends in p and returns the child's: stdin, stderr, then
// the ExtraFiles (renditions, progress).
func (p *process) openPipes(renditions int) (child []*os.File, err error) {
	var ours []*os.File
	for i := range renditions + 3 {
		r, w, err := os.Pipe()
		if err != nil {
			closeFiles(append(ours, child...))
			return nil, err
		}
		if i == 0 { // stdin: ffmpeg reads
			ours, child = append(ours, w), append(child, r)
		} else {
			ours, child = append(ours, r), append(child, w)
		}
	}
	p.stdin, p.stderrR = ours[0], ours[1]
	n := len(ours)
	p.outs, p.progressR = ours[2:n-1:n-1], ours[n-1] // capped: appending to outs must not clobber progressR
	return child, nil
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// kill kills ffmpeg if it still runs.
func (p *process) kill() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
	}
}

// stop kills ffmpeg, reaps it, waits for every goroutine of p and closes
// our pipe ends. It is idempotent.
func (p *process) stop() {
	p.stopped.Do(func() {
		p.kill()
		<-p.exited
		p.wg.Wait()
		closeFiles(append(p.outs, p.progressR, p.stderrR))
	})
}

// activity records that ffmpeg produced something.
func (p *process) activity() {
	p.produced.Store(true)
	p.pendingSince.Store(0)
}

// stalled reports whether ffmpeg was given input d ago and produced nothing since.
func (p *process) stalled(d time.Duration) bool {
	since := p.pendingSince.Load()
	return since != 0 && time.Since(time.Unix(0, since)) > d
}

func (p *process) stderrTail() []string {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	return append([]string(nil), p.tail...)
}

func (p *process) logStderr() {
	defer p.wg.Done()
	sc := bufio.NewScanner(p.stderrR)
	for sc.Scan() {
		line := sc.Text()
		p.t.log.Debug("ffmpeg", "line", line)
		p.tailMu.Lock()
		if len(p.tail) == stderrTailLines {
			p.tail = p.tail[1:]
		}
		p.tail = append(p.tail, line)
		p.tailMu.Unlock()
	}
	_, _ = io.Copy(io.Discard, p.stderrR)
}

// feed writes queued units to ffmpeg's stdin as MPEG-TS until the queue is
// closed (the source ended: closing stdin lets ffmpeg flush and exit) or
// ffmpeg exits.
//
// Each video frame leaves ffmpeg about two frame intervals after it went in
// (measured): the MPEG-TS demuxer holds a video PES until the next one
// starts (video PES carry no length), then the H.264 parser holds the access
// unit until it sees the next one begin. A trailing delimiter NAL to end the
// access unit early makes the parser give frames the wrong timestamps.
func (p *process) feed() {
	defer p.wg.Done()
	defer func() { _ = p.stdin.Close() }()
	bw := bufio.NewWriterSize(p.stdin, 64<<10)
	video := &mpegts.Track{Codec: &mpegtscodecs.H264{}}
	tracks := []*mpegts.Track{video}
	var audio *mpegts.Track
	if p.t.audioCfg != nil {
		audio = &mpegts.Track{Codec: &mpegtscodecs.MPEG4Audio{Config: *p.t.audioCfg}}
		tracks = append(tracks, audio)
	}
	w := &mpegts.Writer{W: bw, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		p.t.log.Error("mpegts writer", "err", err)
		return
	}
	var gate *startGate
	for {
		var u *media.Unit
		var ok bool
		select {
		case u, ok = <-p.in:
			if !ok {
				_ = bw.Flush()
				return
			}
		case <-p.exited:
			return
		}
		batch := []*media.Unit{u}
		if gate == nil { // the pump starts every epoch on a key frame
			p.tl = timeline{base: u.DTS}
			close(p.tlReady)
			gate = &startGate{waiting: true, needAudio: audio != nil, until: time.Now().Add(time.Second)}
		} else {
			batch = gate.pass(u, time.Now())
		}
		for _, u := range batch {
			if err := p.write(w, video, audio, u); err != nil {
				p.t.log.Debug("skipping unit", "err", err)
			}
		}
		if err := bw.Flush(); err != nil {
			return // ffmpeg is gone; the supervisor notices
		}
		p.pendingSince.CompareAndSwap(0, time.Now().UnixNano())
	}
}

// startGate orders an epoch's first units for ffmpeg's stream probe, which
// (with -analyzeduration 1) ends at the fourth packet of any stream and must
// have seen both streams by then. ffmpeg hands on a video frame only when
// the frame after next starts (see feed), so after the first key frame the
// gate writes the next two video frames, then the audio that came meanwhile,
// then the rest. Without it, a burst of audio after the key frame ends the
// probe without video parameters (ffmpeg then assumes 90000 fps and x264's
// rate control breaks), and audio that lags ends it without audio parameters
// (-c:a copy then fails). It gives up waiting at until.
type startGate struct {
	waiting   bool
	needAudio bool
	until     time.Time
	held      []*media.Unit
}

// startVideoFrames is how many video frames after the key frame go before
// the first audio frame.
const startVideoFrames = 2

// pass returns the units to write now.
func (g *startGate) pass(u *media.Unit, now time.Time) []*media.Unit {
	if !g.waiting {
		return []*media.Unit{u}
	}
	g.held = append(g.held, u)
	var video, audio []*media.Unit
	for _, h := range g.held {
		if h.Kind == media.KindAudio {
			audio = append(audio, h)
		} else {
			video = append(video, h)
		}
	}
	if (len(video) < startVideoFrames || g.needAudio && len(audio) == 0) && now.Before(g.until) {
		return nil
	}
	g.waiting, g.held = false, nil
	n := min(len(video), startVideoFrames)
	return append(append(video[:n:n], audio...), video[n:]...)
}

var errEmptyUnit = errors.New("empty unit")

func (p *process) write(w *mpegts.Writer, video, audio *mpegts.Track, u *media.Unit) error {
	switch u.Kind {
	case media.KindVideo:
		au := nonEmpty(u.Payload)
		if len(au) == 0 {
			return errEmptyUnit
		}
		if u.Key {
			au = withParameterSets(au, p.t.cfg.Source.Video)
		}
		p.clock.put(media.KindVideo, u.PTS, u.NTP)
		return w.WriteH264(video, p.tl.toInput(u.PTS), p.tl.toInput(u.DTS), au)
	case media.KindAudio:
		if audio == nil || len(u.Payload) == 0 || len(u.Payload[0]) == 0 {
			return errEmptyUnit
		}
		p.clock.put(media.KindAudio, u.PTS, u.NTP)
		pts := rescale(u.PTS, int64(p.t.cfg.Source.Audio.SampleRate), media.VideoClockRate)
		return w.WriteMPEG4Audio(audio, p.tl.toInput(pts), [][]byte{u.Payload[0]})
	}
	return nil
}

func nonEmpty(au [][]byte) [][]byte {
	out := au[:0:0]
	for _, n := range au {
		if len(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// withParameterSets prepends SPS and PPS to a key frame that lacks them, as
// RTMP sources carry them only in the sequence header.
func withParameterSets(au [][]byte, v *media.H264) [][]byte {
	hasSPS, hasPPS := false, false
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			hasSPS = true
		case h264.NALUTypePPS:
			hasPPS = true
		}
	}
	if hasSPS && hasPPS {
		return au
	}
	out := make([][]byte, 0, len(au)+2)
	if h264.NALUType(au[0][0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
		out, au = append(out, au[0]), au[1:]
	}
	out = append(out, v.SPS, v.PPS)
	return append(out, au...)
}
