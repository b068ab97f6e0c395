package transcode

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/media"
)

func tracks(w, h int) media.Tracks {
	return media.Tracks{Video: &media.H264{Width: w, Height: h, FPS: 30}}
}

// rung is a compact Plan entry for comparisons.
func rungs(plan []Rendition) string {
	var s []string
	for _, r := range plan {
		s = append(s, fmt.Sprintf("%s:%dx%d", r.Name, r.Width, r.Height))
	}
	return strings.Join(s, " ")
}

func TestPlanNeverUpscalesAndKeepsAspect(t *testing.T) {
	noPass := Ladder{Renditions: []Rendition{
		{Name: "1080p", Height: 1080, VideoKbps: 6000},
		{Name: "720p", Height: 720, VideoKbps: 3000},
		{Name: "480p", Height: 480, VideoKbps: 1400},
	}}
	tests := []struct {
		name   string
		ladder Ladder
		src    media.Tracks
		want   string
	}{
		{"720p source gets the whole default ladder", DefaultLadder(), tracks(1280, 720),
			"source:1280x720 480p:854x480 360p:640x360"},
		{"1080p source", DefaultLadder(), tracks(1920, 1080),
			"source:1920x1080 480p:854x480 360p:640x360"},
		{"360p source gets no 480p and no 360p re-encode", DefaultLadder(), tracks(640, 360),
			"source:640x360"},
		{"480p source keeps 360p only", DefaultLadder(), tracks(854, 480),
			"source:854x480 360p:640x360"},
		{"4:3 source", DefaultLadder(), tracks(1440, 1080),
			"source:1440x1080 480p:640x480 360p:480x360"},
		{"cinema aspect rounds width to even", DefaultLadder(), tracks(1920, 800),
			"source:1920x800 480p:1152x480 360p:864x360"},
		{"without passthrough the nearest taller rung is kept at source size", noPass, tracks(1280, 720),
			"720p:1280x720 480p:854x480"},
		{"without passthrough and no exact rung", noPass, tracks(1024, 576),
			"720p:1024x576 480p:854x480"},
		{"height 0 re-encodes at source size, tallest first",
			Ladder{Renditions: []Rendition{{Name: "low", Height: 240, VideoKbps: 400}, {Name: "capped", VideoKbps: 2500}}},
			tracks(1280, 720), "capped:1280x720 low:426x240"},
		{"odd source size re-encodes at the even size below",
			Ladder{Renditions: []Rendition{{Name: "src", Passthrough: true}, {Name: "same", VideoKbps: 2500}, {Name: "480p", Height: 480, VideoKbps: 1400}}},
			tracks(1279, 719), "src:1279x719 same:1278x718 480p:854x480"},
		{"unknown source size keeps heights and lets ffmpeg pick widths", DefaultLadder(), media.Tracks{},
			"source:0x0 480p:0x480 360p:0x360"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rungs(tt.ladder.Plan(tt.src)); got != tt.want {
				t.Errorf("Plan = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateRejectsBadLadders(t *testing.T) {
	ok := func() Ladder { return DefaultLadder() }
	tests := []struct {
		name    string
		mutate  func(*Ladder)
		wantErr string
	}{
		{"default is valid", func(*Ladder) {}, ""},
		{"empty encoder means libx264", func(l *Ladder) { l.Encoder = "" }, ""},
		{"no renditions", func(l *Ladder) { l.Renditions = nil }, "0 renditions"},
		{"nine renditions", func(l *Ladder) {
			for i := range 6 {
				l.Renditions = append(l.Renditions, Rendition{Name: fmt.Sprint("r", i), Height: 240, VideoKbps: 300})
			}
		}, "9 renditions"},
		{"duplicate names", func(l *Ladder) { l.Renditions[2].Name = "480p" }, "used twice"},
		{"upper-case name", func(l *Ladder) { l.Renditions[1].Name = "480P" }, "only a-z"},
		{"name with slash", func(l *Ladder) { l.Renditions[1].Name = "../x" }, "only a-z"},
		{"empty name", func(l *Ladder) { l.Renditions[1].Name = "" }, "1..32"},
		{"two passthroughs", func(l *Ladder) {
			l.Renditions = append(l.Renditions, Rendition{Name: "copy", Passthrough: true})
		}, "2 passthrough"},
		{"odd height", func(l *Ladder) { l.Renditions[1].Height = 481 }, "even"},
		{"too tall", func(l *Ladder) { l.Renditions[1].Height = 4322 }, "even number in 0..4320"},
		{"negative height", func(l *Ladder) { l.Renditions[1].Height = -2 }, "height"},
		{"bitrate too low", func(l *Ladder) { l.Renditions[1].VideoKbps = 99 }, "video_kbps 99"},
		{"bitrate too high", func(l *Ladder) { l.Renditions[1].VideoKbps = 50001 }, "video_kbps 50001"},
		{"fps too high", func(l *Ladder) { l.Renditions[1].MaxFPS = 121 }, "max_fps"},
		{"negative fps", func(l *Ladder) { l.Renditions[1].MaxFPS = -1 }, "max_fps"},
		{"passthrough with height", func(l *Ladder) { l.Renditions[0].Height = 720 }, "passthrough"},
		{"passthrough with an advertised bitrate", func(l *Ladder) { l.Renditions[0].VideoKbps = 4500 }, ""},
		{"unknown encoder", func(l *Ladder) { l.Encoder = "libx265" }, "unknown encoder"},
		{"x264 preset for nvenc", func(l *Ladder) { l.Encoder = EncoderNVENC }, `preset "superfast" is not valid for h264_nvenc`},
		{"nvenc preset", func(l *Ladder) { l.Encoder, l.Preset = EncoderNVENC, "p2" }, ""},
		{"qsv preset", func(l *Ladder) { l.Encoder, l.Preset = EncoderQSV, "faster" }, ""},
		{"vaapi takes no preset", func(l *Ladder) { l.Encoder = EncoderVAAPI }, "takes no preset"},
		{"vaapi device", func(l *Ladder) { l.Encoder, l.Preset, l.VAAPIDevice = EncoderVAAPI, "", "/dev/dri/renderD129" }, ""},
		{"vaapi device for x264", func(l *Ladder) { l.VAAPIDevice = "/dev/dri/renderD128" }, "vaapi_device"},
		{"unknown x264 preset", func(l *Ladder) { l.Preset = "warp" }, `preset "warp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ok()
			tt.mutate(&l)
			err := l.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseLadderIsStrict(t *testing.T) {
	tests := []struct {
		name, json, wantErr string
	}{
		{"full", `{"renditions":[{"name":"source","passthrough":true},{"name":"480p","height":480,"video_kbps":1400,"max_fps":30}],"encoder":"libx264","preset":"veryfast"}`, ""},
		{"encoder defaults to libx264", `{"renditions":[{"name":"480p","height":480,"video_kbps":1400}]}`, ""},
		{"unknown field", `{"renditions":[{"name":"480p","height":480,"video_kbps":1400,"bitrate":5}]}`, `unknown field "bitrate"`},
		{"width is not configurable", `{"renditions":[{"name":"480p","height":480,"video_kbps":1400,"Width":5}]}`, `unknown field "Width"`},
		{"trailing data", `{"renditions":[{"name":"480p","height":480,"video_kbps":1400}]} {}`, "trailing data"},
		{"wrong type", `{"renditions":[{"name":"480p","height":"480","video_kbps":1400}]}`, "cannot unmarshal"},
		{"empty", ``, "EOF"},
		{"invalid", `{"renditions":[]}`, "0 renditions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseLadder([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseLadder: %v", err)
				}
				if l.Encoder != EncoderX264 {
					t.Errorf("encoder %q, want libx264", l.Encoder)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseLadder: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseRenditionFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    Rendition
		wantErr string
	}{
		{"480p:480:1400:30", Rendition{Name: "480p", Height: 480, VideoKbps: 1400, MaxFPS: 30}, ""},
		{"360p:360:800", Rendition{Name: "360p", Height: 360, VideoKbps: 800}, ""},
		{"hi:0:4000:29.97", Rendition{Name: "hi", VideoKbps: 4000, MaxFPS: 29.97}, ""},
		{"src:source", Rendition{Name: "src", Passthrough: true}, ""},
		{"480p:480", Rendition{}, "want name:height:kbps"},
		{"480p:x:1400", Rendition{}, "height"},
		{"480p:480:fast", Rendition{}, "kbps"},
		{"480p:480:1400:NaN", Rendition{}, "max_fps"},
		{"480p:481:1400", Rendition{}, "even"},
		{"Bad:480:1400", Rendition{}, "only a-z"},
		{"a:480:1400:30:1", Rendition{}, "want name:height:kbps"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRenditionFlag(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseLadder(f *testing.F) {
	def, _ := json.Marshal(DefaultLadder())
	f.Add(def)
	f.Add([]byte(`{"renditions":[{"name":"a","height":2,"video_kbps":100,"max_fps":0.5}],"encoder":"h264_vaapi","vaapi_device":"/x"}`))
	f.Add([]byte(`{"renditions":[{"name":"x","height":4320,"video_kbps":50000,"max_fps":120}],"encoder":"h264_qsv","preset":"slow"}`))
	f.Add([]byte(`{"renditions":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLadder(data)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLadder accepted a ladder that Validate rejects: %v", err)
		}
		for _, src := range []media.Tracks{tracks(1280, 720), tracks(2, 2), tracks(1279, 719), tracks(7680, 4320), {}} {
			plan := l.Plan(src)
			for _, r := range plan {
				if !r.Passthrough && (r.Height%2 != 0 || r.Width%2 != 0) {
					t.Fatalf("Plan(%+v) gave an odd size: %+v", src.Video, r)
				}
			}
			_ = Args(ArgsConfig{Ladder: l, Plan: plan, Source: src, ThumbnailPath: "/t.jpg"})
		}
	})
}

func FuzzParseRenditionFlag(f *testing.F) {
	for _, s := range []string{"480p:480:1400:30", "360p:360:800", "hi:0:4000:29.97", "src:source", "a:2:100:0.5",
		"480p:480:1400:NaN", "x:4320:50000:120", ":::", "a:-2:100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRenditionFlag(s)
		if err != nil {
			return
		}
		// A rendition the flag accepts makes a valid ladder with the source.
		l := Ladder{Renditions: []Rendition{{Name: "source-x", Passthrough: true}, r}}
		if r.Passthrough {
			l.Renditions = l.Renditions[1:]
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseRenditionFlag(%q) = %+v, which Validate rejects: %v", s, r, err)
		}
		for _, src := range []media.Tracks{tracks(1280, 720), tracks(2, 2), {}} {
			_ = Args(ArgsConfig{Ladder: l, Plan: l.Plan(src), Source: src})
		}
	})
}
