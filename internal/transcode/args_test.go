package transcode

import (
	"slices"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/media"
)

// Expected argument lists, written out in full on purpose: a change to what
// ffmpeg is asked to do must show up in review. None contains spaces inside
// an argument, so strings.Fields splits them.
const (
	wantInput = `-hide_banner -nostdin -nostats -loglevel level+info -y
		-analyzeduration 1 -threads 1 -f mpegts -i pipe:0 -copyts`
	wantMux = `-fps_mode passthrough -enc_time_base:v 1:90000 -c:a copy
		-muxdelay 0 -muxpreload 0 -flush_packets 1 -omit_video_pes_length 0 -pes_payload_size 0 -f mpegts`
	wantThumb = `-map [thumb] -c:v mjpeg -q:v 5 -fps_mode passthrough -f image2 -update 1 -atomic_writing 1
		/srv/thumbs/live-7.jpg -progress pipe:5`
	wantGOP = `-g 100000 -bf 0 -flags:v +cgop -force_key_frames source`
)

func TestArgsExactListPerEncoder(t *testing.T) {
	src := media.Tracks{
		Video: &media.H264{Width: 1280, Height: 720, FPS: 30},
		Audio: &media.AAC{SampleRate: 48000, Channels: 2},
	}
	tests := []struct {
		encoder, preset, device string
		want                    string
	}{
		{EncoderX264, "", "", wantInput + `
			-filter_complex [0:v:0]split=3[s0][s1][s2];[s0]scale=854:480[v0];[s1]scale=640:360[v1];[s2]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=640:360[thumb]
			-map [v0] -map 0:a:0 -c:v libx264 -preset superfast -tune zerolatency -sc_threshold 0 -threads 2 -pix_fmt yuv420p
			-b:v 1400k -maxrate 1400k -bufsize 1400k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:3
			-map [v1] -map 0:a:0 -c:v libx264 -preset superfast -tune zerolatency -sc_threshold 0 -threads 2 -pix_fmt yuv420p
			-b:v 800k -maxrate 800k -bufsize 800k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:4
			` + wantThumb},
		{EncoderX264, "veryfast", "", wantInput + `
			-filter_complex [0:v:0]split=3[s0][s1][s2];[s0]scale=854:480[v0];[s1]scale=640:360[v1];[s2]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=640:360[thumb]
			-map [v0] -map 0:a:0 -c:v libx264 -preset veryfast -tune zerolatency -sc_threshold 0 -threads 2 -pix_fmt yuv420p
			-b:v 1400k -maxrate 1400k -bufsize 1400k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:3
			-map [v1] -map 0:a:0 -c:v libx264 -preset veryfast -tune zerolatency -sc_threshold 0 -threads 2 -pix_fmt yuv420p
			-b:v 800k -maxrate 800k -bufsize 800k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:4
			` + wantThumb},
		{EncoderNVENC, "", "", wantInput + `
			-filter_complex [0:v:0]split=3[s0][s1][s2];[s0]scale=854:480[v0];[s1]scale=640:360[v1];[s2]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=640:360[thumb]
			-map [v0] -map 0:a:0 -c:v h264_nvenc -preset p4 -tune ll -zerolatency 1 -delay 0 -rc-lookahead 0 -forced-idr 1 -pix_fmt yuv420p
			-b:v 1400k -maxrate 1400k -bufsize 1400k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:3
			-map [v1] -map 0:a:0 -c:v h264_nvenc -preset p4 -tune ll -zerolatency 1 -delay 0 -rc-lookahead 0 -forced-idr 1 -pix_fmt yuv420p
			-b:v 800k -maxrate 800k -bufsize 800k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:4
			` + wantThumb},
		{EncoderVAAPI, "", "", `-hide_banner -nostdin -nostats -loglevel level+info -y -vaapi_device /dev/dri/renderD128
			-analyzeduration 1 -threads 1 -f mpegts -i pipe:0 -copyts
			-filter_complex [0:v:0]split=3[s0][s1][s2];[s0]format=nv12,hwupload,scale_vaapi=w=854:h=480[v0];[s1]format=nv12,hwupload,scale_vaapi=w=640:h=360[v1];[s2]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=640:360[thumb]
			-map [v0] -map 0:a:0 -c:v h264_vaapi -async_depth 1
			-b:v 1400k -maxrate 1400k -bufsize 1400k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:3
			-map [v1] -map 0:a:0 -c:v h264_vaapi -async_depth 1
			-b:v 800k -maxrate 800k -bufsize 800k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:4
			` + wantThumb},
		{EncoderVAAPI, "", "/dev/dri/renderD129", `-hide_banner -nostdin -nostats -loglevel level+info -y -vaapi_device /dev/dri/renderD129
			-analyzeduration 1 -threads 1 -f mpegts -i pipe:0 -copyts
			-filter_complex [0:v:0]split=3[s0][s1][s2];[s0]format=nv12,hwupload,scale_vaapi=w=854:h=480[v0];[s1]format=nv12,hwupload,scale_vaapi=w=640:h=360[v1];[s2]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=640:360[thumb]
			-map [v0] -map 0:a:0 -c:v h264_vaapi -async_depth 1
			-b:v 1400k -maxrate 1400k -bufsize 1400k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:3
			-map [v1] -map 0:a:0 -c:v h264_vaapi -async_depth 1
			-b:v 800k -maxrate 800k -bufsize 800k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:4
			` + wantThumb},
		{EncoderQSV, "", "", wantInput + `
			-filter_complex [0:v:0]split=3[s0][s1][s2];[s0]scale=854:480[v0];[s1]scale=640:360[v1];[s2]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=640:360[thumb]
			-map [v0] -map 0:a:0 -c:v h264_qsv -preset veryfast -look_ahead 0 -async_depth 1 -forced_idr 1 -pix_fmt nv12
			-b:v 1400k -maxrate 1400k -bufsize 1400k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:3
			-map [v1] -map 0:a:0 -c:v h264_qsv -preset veryfast -look_ahead 0 -async_depth 1 -forced_idr 1 -pix_fmt nv12
			-b:v 800k -maxrate 800k -bufsize 800k ` + wantGOP + ` -r 30 ` + wantMux + ` pipe:4
			` + wantThumb},
	}
	for _, tt := range tests {
		t.Run(tt.encoder+"/"+tt.preset+tt.device, func(t *testing.T) {
			l := DefaultLadder()
			l.Encoder, l.Preset, l.VAAPIDevice = tt.encoder, tt.preset, tt.device
			if err := l.Validate(); err != nil {
				t.Fatal(err)
			}
			got := Args(ArgsConfig{Ladder: l, Plan: l.Plan(src), Source: src, ThumbnailPath: "/srv/thumbs/live-7.jpg"})
			want := strings.Fields(tt.want)
			if !slices.Equal(got, want) {
				t.Errorf("Args mismatch at argument %d\n got: %q\nwant: %q", firstDiff(got, want), got, want)
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestArgsCapFPSOnlyWhenTheSourceIsFaster(t *testing.T) {
	l := Ladder{Renditions: []Rendition{{Name: "480p", Height: 480, VideoKbps: 1400, MaxFPS: 30}}}
	const capped = "[s0]select='key+isnan(prev_selected_t)+gte(t-prev_selected_t,0.03)',scale=854:480[v0]"
	tests := []struct {
		name     string
		fps      float64
		want     string
		wantRate string
	}{
		{"60 fps source is capped", 60, capped, "30"},
		{"50 fps source is capped to 25", 50, capped, "25"},
		{"unknown frame rate is capped (no-op when slower)", 0, capped, "30"},
		{"30 fps source is not", 30, "[s0]scale=854:480[v0]", "30"},
		{"NTSC source is not", 30000.0 / 1001, "[s0]scale=854:480[v0]", "29.97"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := media.Tracks{Video: &media.H264{Width: 1280, Height: 720, FPS: tt.fps}}
			args := Args(ArgsConfig{Ladder: l, Plan: l.Plan(src), Source: src})
			graph := args[slices.Index(args, "-filter_complex")+1]
			if want := "[0:v:0]split=1[s0];" + tt.want; graph != want {
				t.Errorf("graph %q, want %q", graph, want)
			}
			if rate := args[slices.Index(args, "-r")+1]; rate != tt.wantRate {
				t.Errorf("-r %s, want %s", rate, tt.wantRate)
			}
		})
	}
}

func TestArgsWithoutAudioOrThumbnailOrRenditions(t *testing.T) {
	video := media.Tracks{Video: &media.H264{Width: 1280, Height: 720, FPS: 30}}
	l := DefaultLadder()
	args := strings.Join(Args(ArgsConfig{Ladder: l, Plan: l.Plan(video), Source: video}), " ")
	if strings.Contains(args, "0:a") || strings.Contains(args, "-c:a") {
		t.Errorf("video-only source maps audio: %s", args)
	}
	if strings.Contains(args, "thumb") || !strings.HasSuffix(args, "-progress pipe:5") {
		t.Errorf("no thumbnail path, yet: %s", args)
	}

	small := media.Tracks{Video: &media.H264{Width: 426, Height: 240, FPS: 30}}
	args = strings.Join(Args(ArgsConfig{Ladder: l, Plan: l.Plan(small), Source: small, ThumbnailPath: "/t.jpg"}), " ")
	if !strings.Contains(args, "-filter_complex [0:v:0]split=1[s0];[s0]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=426:240[thumb]") ||
		strings.Contains(args, "pipe:4") || !strings.HasSuffix(args, "/t.jpg -progress pipe:3") {
		t.Errorf("240p source: want only the thumbnail (never upscaled) and progress on pipe:3, got %s", args)
	}
}

func TestPlainArgsMatchTheLadderEncoding(t *testing.T) {
	src := media.Tracks{Video: &media.H264{Width: 1280, Height: 720, FPS: 30}, Audio: &media.AAC{SampleRate: 48000}}
	l := DefaultLadder()
	got := PlainArgs(ArgsConfig{Ladder: l, Plan: l.Plan(src), Source: src, ThumbnailPath: "/t.jpg"}, "in.ts")
	want := strings.Fields(`-hide_banner -nostdin -nostats -loglevel error -i in.ts
		-filter_complex [0:v:0]split=2[s0][s1];[s0]scale=854:480[v0];[s1]scale=640:360[v1]
		-map [v0] -map 0:a:0 -c:a copy -c:v libx264 -preset superfast -tune zerolatency -sc_threshold 0 -threads 2 -pix_fmt yuv420p
		-b:v 1400k -maxrate 1400k -bufsize 1400k ` + wantGOP + ` -f null -
		-map [v1] -map 0:a:0 -c:a copy -c:v libx264 -preset superfast -tune zerolatency -sc_threshold 0 -threads 2 -pix_fmt yuv420p
		-b:v 800k -maxrate 800k -bufsize 800k ` + wantGOP + ` -f null -`)
	if !slices.Equal(got, want) {
		t.Errorf("PlainArgs mismatch at %d\n got: %q\nwant: %q", firstDiff(got, want), got, want)
	}
}
