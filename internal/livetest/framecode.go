package livetest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The frame code is a strip of FrameCodeCells black or white square cells
// across the top of the picture: cell i < FrameCodeBits holds bit i of the
// frame number (modulo FrameCodeModulus), the last two cells hold that number
// modulo 3, which catches any single misread bit (2^i mod 3 is never 0).
// Cells are 1/20 of the picture width (64 px at 1280, 32 px at 640), so they
// survive scaling and low-bitrate x264.
const (
	FrameCodeCells   = 20
	FrameCodeBits    = 18
	FrameCodeModulus = 1 << FrameCodeBits
)

// Luma thresholds: a cell must be clearly dark or clearly bright.
const (
	frameCodeDarkMax   = 90
	frameCodeBrightMin = 165
)

// ErrNoFrameCode is wrapped by DecodeFrameCode when the picture carries no
// readable frame code.
var ErrNoFrameCode = errors.New("no readable frame code")

// cellX is the left edge of cell i in a picture of width w (even, so chroma
// is not smeared across cell edges).
func cellX(i, w int) int {
	return i * w / FrameCodeCells / 2 * 2
}

// FrameCodeStripHeight returns the height of the frame-code strip in a
// picture of width w: one cell width.
func FrameCodeStripHeight(w int) int {
	return max(2, (w/FrameCodeCells+1)/2*2)
}

// FrameCodeFilter returns an ffmpeg video filter chain that draws the frame
// number (the filter's input frame count, n) as a frame code onto pictures of
// the given width. It is a chain of drawbox filters switched per frame by
// their timeline expressions, so it only touches the strip: about 0.5 ms a
// frame at 1280x720.
func FrameCodeFilter(width int) string {
	h := FrameCodeStripHeight(width)
	chain := []string{fmt.Sprintf("drawbox=x=0:y=0:w=%d:h=%d:color=black:t=fill", width, h)}
	num := "mod(n," + strconv.Itoa(FrameCodeModulus) + ")"
	for i := range FrameCodeCells {
		x := cellX(i, width)
		w := cellX(i+1, width) - x
		if i == FrameCodeCells-1 {
			w = width - x
		}
		var expr string
		switch {
		case i < FrameCodeBits:
			expr = fmt.Sprintf("mod(floor(%s/%d),2)", num, 1<<i)
		case i == FrameCodeBits:
			expr = fmt.Sprintf("mod(mod(%s,3),2)", num)
		default:
			expr = fmt.Sprintf("floor(mod(%s,3)/2)", num)
		}
		chain = append(chain, fmt.Sprintf("drawbox=x=%d:y=0:w=%d:h=%d:color=white:t=fill:enable='%s'", x, w, h, expr))
	}
	return strings.Join(chain, ",")
}

// DecodeFrameCode reads the frame number from an 8-bit grayscale picture
// (row-major, width bytes a row) whose top rows hold a frame code drawn by
// FrameCodeFilter at any width with the same aspect ratio. Only the top
// FrameCodeStripHeight(width) rows are needed. It samples the middle half of
// each cell and fails unless every cell is clearly black or white and the
// check cells agree.
func DecodeFrameCode(gray []byte, width, height int) (int, error) {
	strip := FrameCodeStripHeight(width)
	if width < 2*FrameCodeCells || height < strip*3/4 || len(gray) < width*height {
		return 0, fmt.Errorf("%w: picture %dx%d (%d bytes) too small", ErrNoFrameCode, width, height, len(gray))
	}
	y0, y1 := strip/4, max(strip/4+1, strip*3/4)
	var bits [FrameCodeCells]int
	for i := range FrameCodeCells {
		left, right := cellX(i, width), cellX(i+1, width)
		if i == FrameCodeCells-1 {
			right = width
		}
		cw := right - left
		x0, x1 := left+cw/4, max(left+cw/4+1, left+cw*3/4)
		sum, n := 0, 0
		for y := y0; y < y1; y++ {
			row := gray[y*width : y*width+width]
			for x := x0; x < x1; x++ {
				sum += int(row[x])
				n++
			}
		}
		avg := sum / n
		switch {
		case avg <= frameCodeDarkMax:
		case avg >= frameCodeBrightMin:
			bits[i] = 1
		default:
			return 0, fmt.Errorf("%w: cell %d has luma %d, neither black nor white", ErrNoFrameCode, i, avg)
		}
	}
	n := 0
	for i := range FrameCodeBits {
		n |= bits[i] << i
	}
	if check := bits[FrameCodeBits] | bits[FrameCodeBits+1]<<1; check != n%3 {
		return 0, fmt.Errorf("%w: frame %d fails its check (%d, want %d)", ErrNoFrameCode, n, check, n%3)
	}
	return n, nil
}
