package transcode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/livehouse/livehouse/internal/media"
)

// Encoder names accepted in Ladder.Encoder.
const (
	EncoderX264  = "libx264"
	EncoderNVENC = "h264_nvenc"
	EncoderVAAPI = "h264_vaapi"
	EncoderQSV   = "h264_qsv"
)

// DefaultVAAPIDevice is the render node used by h264_vaapi when
// Ladder.VAAPIDevice is empty.
const DefaultVAAPIDevice = "/dev/dri/renderD128"

// Ladder limits enforced by Validate.
const (
	MaxRenditions = 8
	MaxHeight     = 4320
	MinVideoKbps  = 100
	MaxVideoKbps  = 50000
	MaxFrameRate  = 120
)

// presets lists the presets an encoder accepts; the first is the default
// used when Ladder.Preset is empty. h264_vaapi has no presets. A function,
// not a package map, so no caller can change the table.
func presets(encoder string) ([]string, bool) {
	switch encoder {
	case EncoderX264:
		return []string{"superfast", "ultrafast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}, true
	case EncoderNVENC:
		return []string{"p4", "p1", "p2", "p3", "p5", "p6", "p7"}, true
	case EncoderVAAPI:
		return []string{""}, true
	case EncoderQSV:
		return []string{"veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}, true
	}
	return nil, false
}

// Rendition is one rung of the ladder.
type Rendition struct {
	// Name identifies the rendition in URLs: [a-z0-9_-], 1..32 bytes.
	Name string `json:"name"`
	// Height in pixels; 0 means the source height.
	Height int `json:"height"`
	// VideoKbps is the target (and maximum) video bitrate. For the
	// passthrough rendition it is optional and only advertised.
	VideoKbps int `json:"video_kbps"`
	// MaxFPS caps the frame rate when the source is faster; 0 means no cap.
	MaxFPS float64 `json:"max_fps"`
	// Passthrough forwards the source untouched (no CPU, no quality loss).
	Passthrough bool `json:"passthrough"`
	// Width is set by Ladder.Plan from the source aspect ratio; it is not
	// part of the configuration.
	Width int `json:"-"`
}

// Ladder is the ABR ladder configuration of a stream.
type Ladder struct {
	Renditions []Rendition `json:"renditions"`
	// Encoder is libx264 (also when empty), h264_nvenc, h264_vaapi or h264_qsv.
	Encoder string `json:"encoder"`
	// Preset is the encoder speed preset; empty means the encoder's default
	// here (libx264: superfast, h264_nvenc: p4, h264_qsv: veryfast).
	Preset string `json:"preset"`
	// VAAPIDevice is the DRM render node for h264_vaapi.
	VAAPIDevice string `json:"vaapi_device"`
}

// DefaultLadder returns the source passed through plus 480p and 360p at 30
// fps at most, encoded with libx264 superfast.
//
// superfast rather than veryfast: measured on 720p30, the two scaled
// renditions cost 0.22 instead of 0.28 CPU-seconds per media second, for
// 0.05 dB less PSNR (with -tune zerolatency there is no mb-tree or lookahead
// for veryfast to win back). ultrafast costs 0.16 but loses 1.0-1.3 dB: it
// drops CABAC and the deblocking filter, which shows at 800 kbps.
func DefaultLadder() Ladder {
	return Ladder{
		Renditions: []Rendition{
			{Name: "source", Passthrough: true},
			{Name: "480p", Height: 480, VideoKbps: 1400, MaxFPS: 30},
			{Name: "360p", Height: 360, VideoKbps: 800, MaxFPS: 30},
		},
		Encoder: EncoderX264,
		Preset:  "superfast",
	}
}

// ParseLadder decodes a JSON ladder configuration strictly (unknown fields
// and trailing data are errors), fills defaults and validates it.
func ParseLadder(data []byte) (Ladder, error) {
	var l Ladder
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Ladder{}, fmt.Errorf("ladder config: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Ladder{}, errors.New("ladder config: trailing data after the JSON object")
	}
	if l.Encoder == "" {
		l.Encoder = EncoderX264
	}
	if err := l.Validate(); err != nil {
		return Ladder{}, err
	}
	return l, nil
}

// Validate reports the first problem with the ladder.
func (l Ladder) Validate() error {
	if n := len(l.Renditions); n < 1 || n > MaxRenditions {
		return fmt.Errorf("ladder: %d renditions, want 1..%d", n, MaxRenditions)
	}
	names := make(map[string]bool, len(l.Renditions))
	passthrough := 0
	for i, r := range l.Renditions {
		if err := r.validate(); err != nil {
			return fmt.Errorf("ladder: rendition %d: %w", i, err)
		}
		if names[r.Name] {
			return fmt.Errorf("ladder: rendition name %q used twice", r.Name)
		}
		names[r.Name] = true
		if r.Passthrough {
			passthrough++
		}
	}
	if passthrough > 1 {
		return fmt.Errorf("ladder: %d passthrough renditions, want at most 1", passthrough)
	}
	known, ok := presets(l.encoder())
	if !ok {
		return fmt.Errorf("ladder: unknown encoder %q (want %s, %s, %s or %s)",
			l.Encoder, EncoderX264, EncoderNVENC, EncoderVAAPI, EncoderQSV)
	}
	if l.Preset != "" && !slices.Contains(known, l.Preset) {
		if l.encoder() == EncoderVAAPI {
			return fmt.Errorf("ladder: encoder %s takes no preset, got %q", l.Encoder, l.Preset)
		}
		return fmt.Errorf("ladder: preset %q is not valid for %s (want one of %s)",
			l.Preset, l.Encoder, strings.Join(known, ", "))
	}
	if l.VAAPIDevice != "" && (l.encoder() != EncoderVAAPI || !strings.HasPrefix(l.VAAPIDevice, "/")) {
		return fmt.Errorf("ladder: vaapi_device %q needs encoder %s and an absolute path", l.VAAPIDevice, EncoderVAAPI)
	}
	return nil
}

func (r Rendition) validate() error {
	if err := validName(r.Name); err != nil {
		return err
	}
	if r.Height < 0 || r.Height > MaxHeight || r.Height%2 != 0 {
		return fmt.Errorf("%s: height %d, want an even number in 0..%d", r.Name, r.Height, MaxHeight)
	}
	// NaN fails both comparisons, so test the accepted range positively.
	if !(r.MaxFPS >= 0 && r.MaxFPS <= MaxFrameRate) {
		return fmt.Errorf("%s: max_fps %v, want 0..%d", r.Name, r.MaxFPS, MaxFrameRate)
	}
	if r.Passthrough {
		if r.Height != 0 || r.MaxFPS != 0 {
			return fmt.Errorf("%s: a passthrough rendition takes no height or max_fps", r.Name)
		}
		if r.VideoKbps != 0 && (r.VideoKbps < MinVideoKbps || r.VideoKbps > MaxVideoKbps) {
			return fmt.Errorf("%s: video_kbps %d, want 0 or %d..%d", r.Name, r.VideoKbps, MinVideoKbps, MaxVideoKbps)
		}
		return nil
	}
	if r.VideoKbps < MinVideoKbps || r.VideoKbps > MaxVideoKbps {
		return fmt.Errorf("%s: video_kbps %d, want %d..%d", r.Name, r.VideoKbps, MinVideoKbps, MaxVideoKbps)
	}
	return nil
}

func validName(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("rendition name %q: want 1..32 characters", name)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("rendition name %q: only a-z, 0-9, _ and - are allowed", name)
		}
	}
	return nil
}

// encoder returns the effective encoder: libx264 when none is set.
func (l Ladder) encoder() string {
	if l.Encoder == "" {
		return EncoderX264
	}
	return l.Encoder
}

// preset returns the effective preset of the ladder's encoder.
func (l Ladder) preset() string {
	if l.Preset != "" {
		return l.Preset
	}
	if p, ok := presets(l.encoder()); ok {
		return p[0]
	}
	return ""
}

// Plan returns the effective ladder for a source: the passthrough rendition
// first, then the scaled renditions tallest first, each with Width set from
// the source aspect ratio (even). Scaled renditions at or above the source
// height are dropped so nothing is upscaled; a rendition with Height 0 is a
// re-encode at the source size. Without a passthrough rendition, the
// smallest rendition at or above the source height is kept at the source
// size so the ladder keeps a top rung.
func (l Ladder) Plan(src media.Tracks) []Rendition {
	srcW, srcH := 0, 0
	if src.Video != nil {
		srcW, srcH = src.Video.Width, src.Video.Height
	}
	var out, scaled []Rendition
	hasPassthrough := false
	for _, r := range l.Renditions {
		if r.Passthrough {
			r.Width, r.Height = srcW, srcH
			out = append(out, r)
			hasPassthrough = true
		}
	}
	var top *Rendition // without passthrough: smallest rendition >= source
	for _, r := range l.Renditions {
		switch {
		case r.Passthrough:
		case r.Height == 0 || srcH == 0:
			scaled = append(scaled, r)
		case r.Height < srcH:
			scaled = append(scaled, r)
		case !hasPassthrough && (top == nil || r.Height < top.Height):
			top = &r
		}
	}
	if top != nil {
		t := *top
		t.Height = 0
		scaled = append(scaled, t)
	}
	for i := range scaled {
		r := &scaled[i]
		if r.Height == 0 { // 4:2:0 needs even sizes
			r.Width, r.Height = srcW&^1, srcH&^1
			continue
		}
		if srcW > 0 && srcH > 0 {
			r.Width = evenRound(float64(srcW) * float64(r.Height) / float64(srcH))
		}
	}
	slices.SortStableFunc(scaled, func(a, b Rendition) int { return b.Height - a.Height })
	return append(out, scaled...)
}

func evenRound(x float64) int {
	return max(2, int(math.Round(x/2))*2)
}

// ParseRenditionFlag parses a command-line rendition "name:height:kbps[:maxfps]",
// e.g. "480p:480:1400:30", or "name:source" for the passthrough rendition.
func ParseRenditionFlag(s string) (Rendition, error) {
	parts := strings.Split(s, ":")
	if len(parts) == 2 && parts[1] == "source" {
		r := Rendition{Name: parts[0], Passthrough: true}
		return r, r.validate()
	}
	if len(parts) < 3 || len(parts) > 4 {
		return Rendition{}, fmt.Errorf("rendition %q: want name:height:kbps[:maxfps] or name:source", s)
	}
	r := Rendition{Name: parts[0]}
	var err error
	if r.Height, err = strconv.Atoi(parts[1]); err != nil {
		return Rendition{}, fmt.Errorf("rendition %q: height: %w", s, err)
	}
	if r.VideoKbps, err = strconv.Atoi(parts[2]); err != nil {
		return Rendition{}, fmt.Errorf("rendition %q: kbps: %w", s, err)
	}
	if len(parts) == 4 {
		if r.MaxFPS, err = strconv.ParseFloat(parts[3], 64); err != nil {
			return Rendition{}, fmt.Errorf("rendition %q: maxfps: %w", s, err)
		}
	}
	if err := r.validate(); err != nil {
		return Rendition{}, fmt.Errorf("rendition %q: %w", s, err)
	}
	return r, nil
}
