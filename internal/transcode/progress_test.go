package transcode

import (
	"strings"
	"testing"
)

func TestProgressBlocksAreParsed(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []progress
	}{
		{"ffmpeg 5.1 block", `frame=181
fps=29.87
stream_0_0_q=23.0
stream_1_0_q=21.0
bitrate=N/A
total_size=N/A
out_time_us=6033333
out_time_ms=6033333
out_time=00:00:06.033333
dup_frames=2
drop_frames=5
speed=1.02x
progress=continue
`, []progress{{Frame: 181, FPS: 29.87, DupFrames: 2, DropFrames: 5, Speed: 1.02}}},
		{"unknown values keep the previous ones", `frame=10
fps=0.00
speed=N/A
drop_frames=0
progress=continue
frame=40
fps=30.1
speed=0.998x
drop_frames=N/A
progress=end
`, []progress{{Frame: 10}, {Frame: 40, FPS: 30.1, Speed: 0.998, End: true}}},
		{"CRLF, spaces and junk", "frame= 7\r\nspeed= 2.5x\r\ngarbage\r\n=\r\nframe=-3\r\nfps=NaN\r\nspeed=+Infx\r\nprogress=continue\r\n",
			[]progress{{Frame: 7, Speed: 2.5}}},
		{"no progress line, no block", "frame=1\nspeed=1x\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []progress
			readProgress(strings.NewReader(tt.input), func(p progress) { got = append(got, p) })
			if len(got) != len(tt.want) {
				t.Fatalf("got %d blocks %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("block %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestProgressReaderDrainsPastOverlongLines(t *testing.T) {
	r := strings.NewReader("frame=1\n" + strings.Repeat("x", 200_000) + "\nprogress=continue\n")
	readProgress(r, func(progress) {})
	if r.Len() != 0 {
		t.Fatalf("%d bytes left unread: ffmpeg would block on a full pipe", r.Len())
	}
}

func FuzzParseProgress(f *testing.F) {
	f.Add("frame=181\nfps=29.87\ndrop_frames=5\ndup_frames=2\nspeed=1.02x\nprogress=continue\n")
	f.Add("speed=N/A\nprogress=end\n")
	f.Add("fps=1e308\nspeed=-1x\nframe=99999999999999999999\nprogress=continue\n")
	f.Fuzz(func(t *testing.T, input string) {
		readProgress(strings.NewReader(input), func(p progress) {
			if p.Frame < 0 || p.DropFrames < 0 || p.DupFrames < 0 || !(p.FPS >= 0) || !(p.Speed >= 0) {
				t.Fatalf("invalid block %+v from %q", p, input)
			}
		})
	})
}
