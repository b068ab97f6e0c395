package transcode

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

// FirstOutputFD is the file descriptor of the first rendition output in the
// ffmpeg child: scaled rendition i (in plan order) is written to
// pipe:FirstOutputFD+i and the -progress report to the descriptor after the
// last rendition (exec.Cmd.ExtraFiles order).
const FirstOutputFD = 3

// DefaultThumbnailInterval is how often the thumbnail is refreshed.
const DefaultThumbnailInterval = 10 * time.Second

// thumbnailHeight is the height of the JPEG thumbnail (never upscaled).
const thumbnailHeight = 360

// maxGOPFrames keeps the encoders from inserting key frames of their own:
// the only key frames are the forced ones on the source's key frames.
const maxGOPFrames = 100000

// fpsCapSlack lets a source at the cap (with millisecond timestamp jitter,
// as RTMP has) through undecimated: frames closer than 0.9/MaxFPS are dropped.
const fpsCapSlack = 0.9

// ArgsConfig describes one ffmpeg transcoding process.
type ArgsConfig struct {
	// Ladder gives the encoder, preset and VAAPI device.
	Ladder Ladder
	// Plan is Ladder.Plan(Source); passthrough renditions are skipped.
	Plan []Rendition
	// Source is the input stream: its audio, if any, is copied into every
	// rendition, and its frame rate decides whether a MaxFPS cap applies.
	Source media.Tracks
	// ThumbnailPath is where the JPEG thumbnail is kept; empty for none.
	ThumbnailPath string
	// ThumbnailInterval defaults to DefaultThumbnailInterval.
	ThumbnailInterval time.Duration
}

// scaled returns the renditions ffmpeg encodes.
func scaled(plan []Rendition) []Rendition {
	var out []Rendition
	for _, r := range plan {
		if !r.Passthrough {
			out = append(out, r)
		}
	}
	return out
}

// Args returns the ffmpeg argument list (without the program name) that
// reads the source as MPEG-TS on stdin, decodes it once and writes each
// scaled rendition as MPEG-TS (H.264 with key frames exactly on the source's,
// audio copied) to its inherited pipe, the thumbnail to ThumbnailPath, and
// progress to the pipe after the renditions. Timestamps stay those of the
// input.
func Args(cfg ArgsConfig) []string {
	rends := scaled(cfg.Plan)
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info", "-y"}
	args = append(args, deviceArgs(cfg.Ladder)...)
	args = append(args, inputArgs()...)
	if graph := filterGraph(cfg, rends, cfg.Ladder.encoder()); graph != "" {
		args = append(args, "-filter_complex", graph)
	}
	for i, r := range rends {
		args = append(args, renditionArgs(cfg, i, r)...)
	}
	if cfg.ThumbnailPath != "" {
		args = append(args, "-map", "[thumb]", "-c:v", "mjpeg", "-q:v", "5",
			"-fps_mode", "passthrough", "-f", "image2", "-update", "1", "-atomic_writing", "1",
			cfg.ThumbnailPath)
	}
	return append(args, "-progress", "pipe:"+strconv.Itoa(FirstOutputFD+len(rends)))
}

func deviceArgs(l Ladder) []string {
	if l.encoder() != EncoderVAAPI {
		return nil
	}
	if l.VAAPIDevice != "" {
		return []string{"-vaapi_device", l.VAAPIDevice}
	}
	return []string{"-vaapi_device", DefaultVAAPIDevice}
}

// renditionArgs returns the output options of scaled rendition i.
func renditionArgs(cfg ArgsConfig, i int, r Rendition) []string {
	args := []string{"-map", fmt.Sprintf("[v%d]", i)}
	if cfg.Source.Audio != nil {
		args = append(args, "-map", "0:a:0")
	}
	args = append(args, encoderArgs(cfg.Ladder, r)...)
	// The nominal rate for rate control: without it, a source whose SPS has
	// no timing info makes ffmpeg assume 90000 fps. When the source rate is
	// unknown, the cap is the best guess.
	srcFPS := 0.0
	if cfg.Source.Video != nil {
		srcFPS = cfg.Source.Video.FPS
	}
	fps := outputFPS(srcFPS, r.MaxFPS)
	if fps == 0 {
		fps = r.MaxFPS
	}
	if fps > 0 {
		args = append(args, "-r", formatFloat(fps))
	}
	args = append(args, "-fps_mode", "passthrough", "-enc_time_base:v", "1:90000")
	if cfg.Source.Audio != nil {
		args = append(args, "-c:a", "copy")
	}
	return append(args,
		"-muxdelay", "0", "-muxpreload", "0", "-flush_packets", "1",
		"-omit_video_pes_length", "0", "-pes_payload_size", "0",
		"-f", "mpegts", "pipe:"+strconv.Itoa(FirstOutputFD+i))
}

// inputArgs makes ffmpeg start right after the first key frame and audio
// frame. MPEG-TS streams can add programs at any time, so ffmpeg's stream
// probing never ends early: it reads up to -analyzeduration, where 0 means
// the default (5 s, measured: 5.5 s to the first output). 1 µs makes it stop
// at the third packet of a stream. -probesize 32 must not be used: -c:a copy
// needs the probed audio parameters; neither -fflags nobuffer, which
// discards the probed packets (the first key frame among them). -threads 1
// keeps the H.264 decoder from delaying output by a frame per extra frame
// thread. -copyts keeps the input timestamps.
func inputArgs() []string {
	return []string{
		"-analyzeduration", "1", "-threads", "1",
		"-f", "mpegts", "-i", "pipe:0",
		"-copyts",
	}
}

// filterGraph decodes once and splits into one branch per rendition plus
// the thumbnail.
func filterGraph(cfg ArgsConfig, rends []Rendition, enc string) string {
	n := len(rends)
	if cfg.ThumbnailPath != "" {
		n++
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[0:v:0]split=%d", n)
	for i := range n {
		fmt.Fprintf(&b, "[s%d]", i)
	}
	srcFPS := 0.0
	if cfg.Source.Video != nil {
		srcFPS = cfg.Source.Video.FPS
	}
	for i, r := range rends {
		fmt.Fprintf(&b, ";[s%d]", i)
		var chain []string
		if r.MaxFPS > 0 && (srcFPS == 0 || srcFPS > r.MaxFPS) {
			// Unlike fps=, select keeps the source timestamps and every key
			// frame, so key frames stay aligned across renditions.
			chain = append(chain, fmt.Sprintf("select='key+isnan(prev_selected_t)+gte(t-prev_selected_t,%s)'",
				formatFloat(fpsCapSlack/r.MaxFPS)))
		}
		switch enc {
		case EncoderVAAPI:
			chain = append(chain, "format=nv12", "hwupload", fmt.Sprintf("scale_vaapi=w=%s:h=%d", width(r), r.Height))
		default:
			chain = append(chain, fmt.Sprintf("scale=%s:%d", width(r), r.Height))
		}
		fmt.Fprintf(&b, "%s[v%d]", strings.Join(chain, ","), i)
	}
	if cfg.ThumbnailPath != "" {
		every := cfg.ThumbnailInterval
		if every <= 0 {
			every = DefaultThumbnailInterval
		}
		th := Rendition{Height: thumbnailHeight}
		if v := cfg.Source.Video; v != nil && v.Width > 0 && v.Height > 0 {
			th.Height = min(thumbnailHeight, v.Height-v.Height%2)
			th.Width = evenRound(float64(v.Width) * float64(th.Height) / float64(v.Height))
		}
		fmt.Fprintf(&b, ";[s%d]select='isnan(prev_selected_t)+gte(t-prev_selected_t,%s)',scale=%s:%d[thumb]",
			len(rends), formatFloat(every.Seconds()), width(th), th.Height)
	}
	return b.String()
}

func width(r Rendition) string {
	if r.Width <= 0 {
		return "-2"
	}
	return strconv.Itoa(r.Width)
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// encoderArgs returns the video encoder options of one rendition.
func encoderArgs(l Ladder, r Rendition) []string {
	kbps := strconv.Itoa(r.VideoKbps) + "k"
	rate := []string{"-b:v", kbps, "-maxrate", kbps, "-bufsize", kbps}
	gop := []string{"-g", strconv.Itoa(maxGOPFrames), "-bf", "0", "-flags:v", "+cgop", "-force_key_frames", "source"}
	var args []string
	switch l.encoder() {
	case EncoderNVENC:
		args = []string{"-c:v", EncoderNVENC, "-preset", l.preset(), "-tune", "ll", "-zerolatency", "1",
			"-delay", "0", "-rc-lookahead", "0", "-forced-idr", "1", "-pix_fmt", "yuv420p"}
	case EncoderVAAPI:
		args = []string{"-c:v", EncoderVAAPI, "-async_depth", "1"}
	case EncoderQSV:
		args = []string{"-c:v", EncoderQSV, "-preset", l.preset(), "-look_ahead", "0", "-async_depth", "1",
			"-forced_idr", "1", "-pix_fmt", "nv12"}
	default:
		args = []string{"-c:v", EncoderX264, "-preset", l.preset(), "-tune", "zerolatency",
			"-sc_threshold", "0", "-threads", "2", "-pix_fmt", "yuv420p"}
	}
	args = append(args, rate...)
	return append(args, gop...)
}

// PlainArgs returns the equivalent stand-alone ffmpeg command (without the
// program name) that reads input (a file) at full speed and encodes the same
// renditions to the null muxer: the baseline for measuring the cost of
// Transcoder against plain ffmpeg.
func PlainArgs(cfg ArgsConfig, input string) []string {
	rends := scaled(cfg.Plan)
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"}
	args = append(args, deviceArgs(cfg.Ladder)...)
	args = append(args, "-i", input)
	cfg.ThumbnailPath = ""
	if graph := filterGraph(cfg, rends, cfg.Ladder.encoder()); graph != "" {
		args = append(args, "-filter_complex", graph)
	}
	for i, r := range rends {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
		if cfg.Source.Audio != nil {
			args = append(args, "-map", "0:a:0", "-c:a", "copy")
		}
		args = append(args, encoderArgs(cfg.Ladder, r)...)
		args = append(args, "-f", "null", "-")
	}
	return args
}

// outputFPS is the frame rate after the MaxFPS cap, 0 when unknown.
func outputFPS(src, maxFPS float64) float64 {
	if maxFPS <= 0 || src <= maxFPS {
		return src
	}
	// The select filter keeps frames at least fpsCapSlack/maxFPS apart.
	keepEvery := 1
	for float64(keepEvery)/src < fpsCapSlack/maxFPS {
		keepEvery++
	}
	return src / float64(keepEvery)
}
