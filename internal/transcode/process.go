package transcode

import (
	"bufio"
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

// spawn starts ffmpeg with its pipes and the goroutines serving them.
func (t *Transcoder) spawn() (*process, error) {
	p := &process{
		t:       t,
		in:      make(chan *media.Unit, inputQueue),
		needKey: true,
		tlReady: make(chan struct{}),
		exited:  make(chan struct{}),
	}
	var all []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			_ = f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			all = append(all, r, w)
		}
		return r, w, err
	}
	stdinR, stdinW, err := pipe()
	if err != nil {
		return nil, err
	}
	stderrR, stderrW, err := pipe()
	if err != nil {
		closeAll(all)
		return nil, err
	}
	var extra []*os.File
	for range len(t.rends) + 1 { // renditions, then progress
		r, w, err := pipe()
		if err != nil {
			closeAll(all)
			return nil, err
		}
		p.outs = append(p.outs, r)
		extra = append(extra, w)
	}
	p.progressR, p.outs = p.outs[len(p.outs)-1], p.outs[:len(p.outs)-1]
	p.stdin, p.stderrR = stdinW, stderrR

	p.cmd = exec.Command(t.cfg.FFmpegPath, t.args...)
	p.cmd.Stdin, p.cmd.Stderr, p.cmd.ExtraFiles = stdinR, stderrW, extra
	if err := p.cmd.Start(); err != nil {
		closeAll(all)
		return nil, err
	}
	// Close the child's ends here so that our readers see EOF when it dies.
	closeAll([]*os.File{stdinR, stderrW})
	closeAll(extra)

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
		for _, f := range append(p.outs, p.progressR, p.stderrR) {
			_ = f.Close()
		}
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
	started := false
	// ffmpeg's probing (-analyzeduration 1) ends at the third packet of any
	// stream; -c:a copy fails unless an audio packet was among them. So hold
	// the epoch's video after its key frame until the first audio frame is
	// written (normally within one AAC frame, 21 ms), for at most a second.
	var held []*media.Unit
	var holdUntil time.Time
	awaitAudio := audio != nil
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
		switch {
		case !started:
			p.tl = timeline{base: u.DTS} // the pump starts every epoch on a key frame
			close(p.tlReady)
			started, holdUntil = true, time.Now().Add(time.Second)
		case awaitAudio && u.Kind == media.KindVideo && time.Now().Before(holdUntil):
			held = append(held, u)
			continue
		case awaitAudio:
			awaitAudio = false
			if u.Kind == media.KindAudio {
				batch = append(batch, held...)
			} else {
				batch = append(held, u)
			}
			held = nil
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
