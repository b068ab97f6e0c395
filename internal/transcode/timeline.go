package transcode

import (
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

// inputOffset is where each ffmpeg epoch starts on ffmpeg's own timeline:
// far enough from zero that audio slightly ahead of the first key frame and
// B-frame sources never go negative, and far from the 33-bit MPEG-TS wrap.
const inputOffset = 10 * media.VideoClockRate

// tsModulus is the MPEG-TS timestamp range (33 bits).
const tsModulus = int64(1) << 33

// timeline maps source timestamps to the ones fed to ffmpeg and back. ffmpeg
// runs with -copyts, so an output frame carries its input frame's timestamp.
type timeline struct {
	// base is the source DTS (90 kHz) of the epoch's first key frame.
	base int64
}

func (tl timeline) toInput(ts90 int64) int64 { return ts90 - tl.base + inputOffset }

func (tl timeline) fromOutput(ts90 int64) int64 { return ts90 + tl.base - inputOffset }

// unwrap returns the value congruent to raw modulo 2^33 that is nearest to ref.
func unwrap(raw, ref int64) int64 {
	d := (raw - ref) & (tsModulus - 1)
	if d >= tsModulus/2 {
		d -= tsModulus
	}
	return ref + d
}

// rescale converts v from clock rate from to clock rate to, rounding to the
// nearest tick. Audio round-trips exactly through 90 kHz for sample rates
// below 90 kHz.
func rescale(v, from, to int64) int64 {
	n := v * to
	if n >= 0 {
		return (n + from/2) / from
	}
	return -((-n + from/2) / from)
}

// wallClock remembers the ingest wall-clock time of recent input units by
// source timestamp, so output units carry the NTP of the frame they came from.
type wallClock struct {
	mu    sync.Mutex
	times map[wallKey]time.Time
	order []wallKey
	next  int
	full  bool
}

type wallKey struct {
	kind media.Kind
	pts  int64
}

const wallClockSize = 1024

func (w *wallClock) put(kind media.Kind, pts int64, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.times == nil {
		w.times = make(map[wallKey]time.Time, wallClockSize)
		w.order = make([]wallKey, wallClockSize)
	}
	k := wallKey{kind, pts}
	if w.full {
		delete(w.times, w.order[w.next])
	}
	w.order[w.next] = k
	w.next = (w.next + 1) % wallClockSize
	w.full = w.full || w.next == 0
	w.times[k] = t
}

func (w *wallClock) get(kind media.Kind, pts int64) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.times[wallKey{kind, pts}]; ok {
		return t
	}
	return time.Now()
}
