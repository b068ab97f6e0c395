package bench

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/livehouse/livehouse/internal/livetest"
)

// drawFrameCode paints n as a frame code into a gray picture of width w,
// cell by cell, the way FrameCodeFilter lays it out.
func drawFrameCode(n, w, h int) []byte {
	pic := make([]byte, w*h)
	for i := range pic {
		pic[i] = 128
	}
	strip := livetest.FrameCodeStripHeight(w)
	n %= livetest.FrameCodeModulus
	bits := make([]int, livetest.FrameCodeCells)
	for i := range livetest.FrameCodeBits {
		bits[i] = n >> i & 1
	}
	bits[livetest.FrameCodeBits], bits[livetest.FrameCodeBits+1] = n%3&1, n%3>>1
	for i, b := range bits {
		left, right := i*w/livetest.FrameCodeCells, (i+1)*w/livetest.FrameCodeCells
		for y := range strip {
			for x := left; x < right; x++ {
				pic[y*w+x] = byte(16 + 219*b)
			}
		}
	}
	return pic
}

func TestDecodeFrameCodeReadsEveryBitAtEveryWidth(t *testing.T) {
	for _, w := range []int{1920, 1280, 854, 640, 426} {
		for _, n := range []int{0, 1, 2, 45, 12345, 131072, livetest.FrameCodeModulus - 1} {
			t.Run(fmt.Sprintf("%dpx/%d", w, n), func(t *testing.T) {
				h := w * 9 / 16
				got, err := livetest.DecodeFrameCode(drawFrameCode(n, w, h), w, h)
				if err != nil || got != n {
					t.Fatalf("DecodeFrameCode = %d, %v; want %d", got, err, n)
				}
			})
		}
	}
}

func TestDecodeFrameCodeRejectsPicturesWithoutAValidCode(t *testing.T) {
	const w, h = 640, 360
	flat := make([]byte, w*h)
	for i := range flat {
		flat[i] = 128
	}
	flipped := drawFrameCode(1000, w, h)
	// Invert cell 3 (bit 3 of 1000 is 1): the mod-3 check must catch it.
	strip := livetest.FrameCodeStripHeight(w)
	for y := range strip {
		for x := 3 * w / 20; x < 4*w/20; x++ {
			flipped[y*w+x] = 16
		}
	}
	tests := []struct {
		name string
		pic  []byte
		w, h int
	}{
		{"mid-gray picture", flat, w, h},
		{"one bit flipped", flipped, w, h},
		{"picture too small", make([]byte, 10*4), 10, 4},
		{"buffer shorter than the picture", make([]byte, 100), w, h},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := livetest.DecodeFrameCode(tc.pic, tc.w, tc.h)
			if !errors.Is(err, livetest.ErrNoFrameCode) {
				t.Fatalf("DecodeFrameCode = %d, %v; want ErrNoFrameCode", n, err)
			}
		})
	}
}

func needFFmpeg(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg is not installed")
	}
	return p
}

// The code is drawn at 1280 px, then the picture is scaled like the ladder
// does and squeezed through x264 at the ladder's bitrates (and below).
func TestFrameCodeSurvivesScalingAndX264(t *testing.T) {
	ffmpeg := needFFmpeg(t)
	const frames = 40
	dir := t.TempDir()
	for _, tc := range []struct {
		w, h int
		kbps int
	}{{1280, 720, 2500}, {854, 480, 1400}, {640, 360, 800}, {426, 240, 400}} {
		t.Run(fmt.Sprintf("%dx%d@%dk", tc.w, tc.h, tc.kbps), func(t *testing.T) {
			enc := filepath.Join(dir, fmt.Sprintf("%d.mp4", tc.w))
			kbps := strconv.Itoa(tc.kbps) + "k"
			cmd := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
				"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=1280x720:rate=30:duration=%f", float64(frames)/30),
				"-vf", livetest.FrameCodeFilter(1280)+fmt.Sprintf(",scale=%d:%d", tc.w, tc.h),
				"-c:v", "libx264", "-preset", "superfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
				"-b:v", kbps, "-maxrate", kbps, "-bufsize", kbps, "-y", enc)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("encode: %v: %s", err, b)
			}
			strip := livetest.FrameCodeStripHeight(tc.w)
			raw, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", enc,
				"-vf", fmt.Sprintf("crop=w=iw:h=%d:x=0:y=0", strip), "-fps_mode", "passthrough",
				"-pix_fmt", "gray", "-f", "rawvideo", "pipe:1").Output()
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			size := tc.w * strip
			if len(raw) != frames*size {
				t.Fatalf("decoded %d bytes, want %d frames of %d", len(raw), frames, size)
			}
			for i := range frames {
				n, err := livetest.DecodeFrameCode(raw[i*size:(i+1)*size], tc.w, strip)
				if err != nil || n != i {
					t.Errorf("frame %d reads as %d, %v", i, n, err)
				}
			}
		})
	}
}
