package rtmp

import (
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
)

func mustDecode(t *testing.T, typ message.Type, tsMs int, body []byte) message.Message {
	t.Helper()
	m, err := decodeMessage(typ, time.Duration(tsMs)*time.Millisecond, body)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

func metadataMsg(entries ...amf0.ObjectEntry) message.Message {
	return &message.DataAMF0{Payload: []any{"@setDataFrame", "onMetaData", amf0.ECMAArray(entries)}}
}

func entry(k string, v any) amf0.ObjectEntry { return amf0.ObjectEntry{Key: k, Value: v} }

type step struct {
	msg   message.Message
	after time.Duration // wall time since the first message
}

func runDetector(t *testing.T, steps []step) (*trackDetector, detectState, error) {
	t.Helper()
	d := &trackDetector{}
	t0 := time.Unix(1000, 0)
	var st detectState
	var err error
	for _, s := range steps {
		st, err = d.push(s.msg, t0.Add(s.after))
		if err != nil || st != detectNeedMore {
			break
		}
	}
	return d, st, err
}

func TestDetectorBeginsAsSoonAsTracksAreKnown(t *testing.T) {
	avc := mustDecode(t, message.TypeVideo, 0, avcSeqHeaderTag())
	aac := mustDecode(t, message.TypeAudio, 0, append([]byte{0xaf, 0x00}, testASC...))
	au := func(ms int) message.Message {
		return mustDecode(t, message.TypeVideo, ms, avcAUTag(true, 0, []byte{0x65, 1}))
	}
	tests := []struct {
		name      string
		steps     []step
		wantAudio bool
		wantFPS   float64
		wantAfter int // index of the step that makes tracks ready
	}{
		{
			name: "metadata then both sequence headers: ready on the AAC header",
			steps: []step{
				{msg: metadataMsg(entry("videocodecid", 7.0), entry("audiocodecid", 10.0), entry("framerate", 30.0))},
				{msg: avc}, {msg: aac},
			},
			wantAudio: true, wantFPS: 30, wantAfter: 2,
		},
		{
			name:      "metadata without audiocodecid: ready on the AVC header",
			steps:     []step{{msg: metadataMsg(entry("videocodecid", 7.0))}, {msg: avc}},
			wantAfter: 1,
		},
		{
			name:      "no metadata: video only after the audio wait of video time",
			steps:     []step{{msg: avc}, {msg: au(0)}, {msg: au(400)}, {msg: au(500)}},
			wantAfter: 3,
		},
		{
			name: "metadata promises audio that never comes: video only after the audio wait of wall time",
			steps: []step{
				{msg: metadataMsg(entry("videocodecid", 7.0), entry("audiocodecid", 10.0))},
				{msg: avc}, {msg: au(0), after: 100 * time.Millisecond}, {msg: au(0), after: 600 * time.Millisecond},
			},
			wantAfter: 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.steps {
				d, st, err := runDetector(t, tc.steps[:i+1])
				if err != nil {
					t.Fatal(err)
				}
				if want := i >= tc.wantAfter; (st == detectReady) != want {
					t.Fatalf("after step %d: state %d, want ready=%v", i, st, want)
				}
				if st != detectReady {
					continue
				}
				tr := d.tracks()
				if tr.Video.Width != 640 || tr.Video.Height != 360 || tr.Video.FPS != tc.wantFPS && tc.wantFPS != 0 {
					t.Fatalf("video %+v", tr.Video)
				}
				if (tr.Audio != nil) != tc.wantAudio {
					t.Fatalf("audio %+v, want present=%v", tr.Audio, tc.wantAudio)
				}
				if tc.wantAudio && (tr.Audio.SampleRate != 48000 || tr.Audio.Channels != 1) {
					t.Fatalf("audio %+v", tr.Audio)
				}
				if len(d.pending) != i+1 {
					t.Fatalf("pending %d messages, want all %d", len(d.pending), i+1)
				}
			}
		})
	}
}

func TestDetectorRefusesWhatIsNotH264AndAAC(t *testing.T) {
	audioAU := func(ms int) step { return step{msg: mustDecode(t, message.TypeAudio, ms, []byte{0xaf, 0x01, 0x21})} }
	tests := []struct {
		name      string
		steps     []step
		wantErr   error
		wantCodec string
	}{
		{"metadata says HEVC (Enhanced-RTMP FourCC)",
			[]step{{msg: metadataMsg(entry("videocodecid", float64(message.FourCCHEVC)))}}, ErrUnsupportedCodec, "H.265/HEVC"},
		{"metadata says MP3", []step{{msg: metadataMsg(entry("videocodecid", 7.0), entry("audiocodecid", 2.0))}},
			ErrUnsupportedCodec, "MP3"},
		{"metadata names Opus as a string", []step{{msg: metadataMsg(entry("audiocodecid", "Opus"))}},
			ErrUnsupportedCodec, "Opus"},
		{"metadata lists audio only", []step{{msg: metadataMsg(entry("audiocodecid", 10.0))}}, ErrNoVideo, ""},
		{"MP3 audio tag", []step{{msg: mustDecode(t, message.TypeAudio, 0, []byte{0x2f, 0xff, 0xfb})}},
			ErrUnsupportedCodec, "MP3"},
		{"G.711 audio tag", []step{{msg: mustDecode(t, message.TypeAudio, 0, []byte{0x72, 0xd5})}},
			ErrUnsupportedCodec, "G.711 A-law"},
		{"legacy HEVC video tag", []step{{msg: &message.Video{Codec: message.CodecH265}}},
			ErrUnsupportedCodec, "H.265/HEVC (legacy FLV id 12)"},
		{"Enhanced-RTMP HEVC sequence start", []step{{msg: &message.VideoExSequenceStart{FourCC: message.FourCCHEVC}}},
			ErrUnsupportedCodec, "H.265/HEVC"},
		{"Enhanced-RTMP VP9 frames", []step{{msg: &message.VideoExCodedFrames{FourCC: message.FourCCVP9}}},
			ErrUnsupportedCodec, "VP9"},
		{"Enhanced-RTMP Opus sequence start",
			[]step{{msg: &message.AudioExSequenceStart{FourCC: message.FourCCOpus, OpusConfig: &opus.IDHeader{}}}},
			ErrUnsupportedCodec, "Opus"},
		{"AAC only, no metadata", []step{
			{msg: mustDecode(t, message.TypeAudio, 0, append([]byte{0xaf, 0x00}, testASC...))},
			audioAU(0), audioAU(500), audioAU(1000),
		}, ErrNoVideo, ""},
		{"video without AVC sequence header", []step{
			{msg: mustDecode(t, message.TypeVideo, 0, avcAUTag(true, 0, []byte{0x65}))},
			{msg: mustDecode(t, message.TypeVideo, 3000, avcAUTag(true, 0, []byte{0x65}))},
		}, ErrBadStream, ""},
		{"AVC sequence header with a corrupt SPS", []step{{msg: &message.Video{
			Codec: message.CodecH264, Type: message.VideoTypeConfig,
			AVCConfig: avcConfig([]byte{0x67, 0x42, 0xc0, 0x1e, 0xff, 0xff}, testPPS),
		}}}, ErrBadStream, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, st, err := runDetector(t, tc.steps)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("state %d err %v, want %v", st, err, tc.wantErr)
			}
			var ce *UnsupportedCodecError
			if tc.wantCodec != "" && (!errors.As(err, &ce) || ce.Codec != tc.wantCodec) {
				t.Fatalf("err %v, want codec %q", err, tc.wantCodec)
			}
		})
	}
}

func TestDetectorHandsEnhancedRTMPH264ToReader(t *testing.T) {
	for _, m := range []message.Message{
		&message.VideoExSequenceStart{FourCC: message.FourCCAVC, AVCConfig: avcConfig(testSPS, testPPS)},
		&message.VideoExCodedFrames{FourCC: message.FourCCAVC},
		&message.VideoExMultitrack{},
	} {
		_, st, err := runDetector(t, []step{{msg: metadataMsg(entry("videocodecid", 7.0))}, {msg: m}})
		if err != nil || st != detectEnhanced {
			t.Fatalf("%T: state %d err %v, want enhanced", m, st, err)
		}
	}
}

func TestDetectorBoundsWhatItHoldsBeforeTracksAreKnown(t *testing.T) {
	d := &trackDetector{}
	var err error
	for i := 0; i <= maxPending && err == nil; i++ {
		_, err = d.push(&message.DataAMF0{Payload: []any{"onTextData"}}, time.Now())
	}
	if !errors.Is(err, ErrBadStream) {
		t.Fatalf("err %v after %d messages, want ErrBadStream", err, len(d.pending))
	}
}
