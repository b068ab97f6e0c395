package transcode

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
)

// progress is one block of ffmpeg's -progress report.
type progress struct {
	Frame      int64
	FPS        float64
	DropFrames int64
	DupFrames  int64
	// Speed is the processing speed relative to real time (1.0 = real time).
	Speed float64
	// End is true on the last block (progress=end).
	End bool
}

// progressParser accumulates key=value lines into blocks; a block ends at
// the "progress=" line. Unknown keys and unparsable values are ignored
// (ffmpeg writes N/A while a value is unknown).
type progressParser struct {
	cur progress
}

// line consumes one line and returns a finished block, if the line ended one.
func (p *progressParser) line(line string) (progress, bool) {
	key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
	if !ok {
		return progress{}, false
	}
	val = strings.TrimSpace(val)
	switch key {
	case "frame":
		p.cur.Frame = parseCount(val, p.cur.Frame)
	case "drop_frames":
		p.cur.DropFrames = parseCount(val, p.cur.DropFrames)
	case "dup_frames":
		p.cur.DupFrames = parseCount(val, p.cur.DupFrames)
	case "fps":
		p.cur.FPS = parseRate(val, p.cur.FPS)
	case "speed":
		p.cur.Speed = parseRate(strings.TrimSuffix(val, "x"), p.cur.Speed)
	case "progress":
		done := p.cur
		done.End = val == "end"
		return done, true
	}
	return progress{}, false
}

func parseCount(s string, old int64) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return old
	}
	return n
}

func parseRate(s string, old float64) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return old
	}
	return f
}

// readProgress calls fn for every block read from r until r ends. It
// always drains r, so ffmpeg never blocks on its progress pipe.
func readProgress(r io.Reader, fn func(progress)) {
	var p progressParser
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if blk, ok := p.line(sc.Text()); ok {
			fn(blk)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}
