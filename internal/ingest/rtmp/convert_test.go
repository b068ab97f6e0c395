package rtmp

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/livehouse/livehouse/internal/media"
)

var (
	idr   = []byte{0x65, 0x88, 0x80}
	slice = []byte{0x41, 0x9a, 0x01}
	sei   = []byte{0x06, 0x05, 0x01}
)

func TestVideoTagsBecomeUnitsWith90kHzTimestamps(t *testing.T) {
	type in struct {
		dtsMs, ctsMs int
		nalus        [][]byte
	}
	type out struct {
		dts, pts int64
		key      bool
		nalus    int
	}
	tests := []struct {
		name    string
		in      []in
		want    []*out // nil: no unit
		wantErr error
	}{
		{
			name: "milliseconds to 90 kHz, composition time to PTS, IDR is key",
			in:   []in{{0, 0, [][]byte{sei, idr}}, {33, 66, [][]byte{slice}}, {67, 33, [][]byte{slice}}},
			want: []*out{{0, 0, true, 2}, {2970, 8910, false, 1}, {6030, 9000, false, 1}},
		},
		{
			name: "frames before the first IDR are dropped",
			in:   []in{{0, 0, [][]byte{slice}}, {33, 0, [][]byte{idr}}},
			want: []*out{nil, {2970, 2970, true, 1}},
		},
		{
			name: "a repeated or slightly earlier DTS still increases",
			in:   []in{{100, 0, [][]byte{idr}}, {100, 0, [][]byte{slice}}, {90, 0, [][]byte{slice}}},
			want: []*out{{9000, 9000, true, 1}, {9001, 9001, false, 1}, {9002, 9002, false, 1}},
		},
		{
			name:    "a big jump back ends the publication",
			in:      []in{{5000, 0, [][]byte{idr}}, {1000, 0, [][]byte{idr}}},
			want:    []*out{{450000, 450000, true, 1}},
			wantErr: ErrTimestampJump,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conv := newUnitConverter(testTracks())
			for i, x := range tc.in {
				m := mustDecode(t, message.TypeVideo, x.dtsMs, avcAUTag(false, int32(x.ctsMs), x.nalus...))
				u, err := conv.video(m.(*message.Video), time.Now())
				if err != nil {
					if !errors.Is(err, tc.wantErr) || i != len(tc.in)-1 {
						t.Fatalf("tag %d: err %v, want %v on the last tag", i, err, tc.wantErr)
					}
					return
				}
				w := tc.want[i]
				if (u == nil) != (w == nil) {
					t.Fatalf("tag %d: unit %+v, want %+v", i, u, w)
				}
				if u != nil && (u.DTS != w.dts || u.PTS != w.pts || u.Key != w.key || len(u.Payload) != w.nalus ||
					u.Kind != media.KindVideo) {
					t.Fatalf("tag %d: got DTS %d PTS %d key %v nalus %d, want %+v", i, u.DTS, u.PTS, u.Key, len(u.Payload), *w)
				}
			}
			if tc.wantErr != nil {
				t.Fatalf("no error, want %v", tc.wantErr)
			}
		})
	}
}

func TestAACFramesAdvanceExactly1024TicksDespiteMillisecondRounding(t *testing.T) {
	for _, rate := range []int{48000, 44100, 22050} {
		tr := testTracks()
		tr.Audio.SampleRate = rate
		conv := newUnitConverter(tr)
		for k := range 500 {
			ms := (int64(k)*1024*1000 + int64(rate)/2) / int64(rate) // as an encoder rounds it
			u, err := conv.audioFrame(time.Duration(ms)*time.Millisecond, []byte{1}, time.Now())
			if err != nil || u == nil || u.DTS != int64(k)*1024 || u.PTS != u.DTS {
				t.Fatalf("%d Hz frame %d (%d ms): unit %+v err %v, want DTS %d", rate, k, ms, u, err, k*1024)
			}
		}
	}
}

func TestAACTimestampGapsOverlapsAndJumps(t *testing.T) {
	conv := newUnitConverter(testTracks()) // 48 kHz
	at := func(ms int) (*media.Unit, error) {
		return conv.audioFrame(time.Duration(ms)*time.Millisecond, []byte{1}, time.Now())
	}
	steps := []struct {
		ms      int
		wantDTS int64 // -1: dropped
		wantErr error
	}{
		{1000, 48000, nil},
		{1021, 49024, nil},
		{1200, 57600, nil}, // gap kept: rounded ms time
		{1190, -1, nil},    // overlaps the previous frame: dropped
		{1221, 58624, nil}, // continues
		{100, 0, ErrTimestampJump},
	}
	for i, s := range steps {
		u, err := at(s.ms)
		if !errors.Is(err, s.wantErr) || (err == nil && (u == nil) != (s.wantDTS < 0)) ||
			(u != nil && u.DTS != s.wantDTS) {
			t.Fatalf("step %d (%d ms): unit %+v err %v, want DTS %d err %v", i, s.ms, u, err, s.wantDTS, s.wantErr)
		}
	}
}

func TestRTMPTimestampWrapKeepsTimeIncreasing(t *testing.T) {
	var c msClock
	if got := c.ms(0xFFFFFFF0 * time.Millisecond); got != 0xFFFFFFF0 {
		t.Fatalf("got %d", got)
	}
	if got := c.ms(0x10 * time.Millisecond); got != 1<<32+0x10 {
		t.Fatalf("after wrap got %d, want %d", got, int64(1<<32+0x10))
	}
}

func TestNewSequenceHeaderMidStreamEndsThePublication(t *testing.T) {
	conv := newUnitConverter(testTracks())
	same := mustDecode(t, message.TypeVideo, 0, avcSeqHeaderTag()).(*message.Video)
	if u, err := conv.video(same, time.Now()); u != nil || err != nil {
		t.Fatalf("repeated identical sequence header: %v %v, want ignored", u, err)
	}
	changed := *same
	cfg := *same.AVCConfig
	cfg.PictureParameterSets = avcConfig(testSPS, []byte{0x68, 0xee, 0x3c, 0x80}).PictureParameterSets
	changed.AVCConfig = &cfg
	if _, err := conv.video(&changed, time.Now()); !errors.Is(err, ErrParamsChanged) {
		t.Fatalf("err %v, want ErrParamsChanged", err)
	}

	sameASC := &message.Audio{Codec: message.CodecMPEG4Audio, AACType: message.AudioAACTypeConfig,
		AACConfig: &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 48000, ChannelConfig: 1}}
	if _, err := conv.audio(sameASC, time.Now()); err != nil {
		t.Fatalf("repeated AudioSpecificConfig: %v", err)
	}
	sameASC.AACConfig.ChannelConfig = 2
	if _, err := conv.audio(sameASC, time.Now()); !errors.Is(err, ErrParamsChanged) {
		t.Fatalf("err %v, want ErrParamsChanged", err)
	}
}

func TestStreamKeyIsTakenFromLiveApplicationOnly(t *testing.T) {
	tests := []struct {
		url, wantKey, wantErr string
	}{
		{"rtmp://h/live/abc123", "abc123", ""},
		{"rtmp://h:1935/live/abc123?x=1", "abc123", ""},
		{"rtmp://h/live/", "", "missing stream key"},
		{"rtmp://h/live", "", "wrong application"},
		{"rtmp://h/other/abc123", "", "wrong application"},
		{"rtmp://h/abc123", "", "wrong application"},
		{"rtmp://h/live/a/b", "", "contains '/'"},
	}
	for _, tc := range tests {
		u, _ := url.Parse(tc.url)
		key, err := streamKeyFromURL(u)
		if key != tc.wantKey || (tc.wantErr == "") != (err == nil) ||
			err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: key %q err %v, want %q %q", tc.url, key, err, tc.wantKey, tc.wantErr)
		}
		if err != nil && (strings.Contains(err.Error(), "abc123") || strings.Contains(err.Error(), "a/b")) {
			t.Errorf("%s: error leaks the key: %v", tc.url, err)
		}
	}
}

func TestNonRTMPClientsAreRecognisedFromTheirFirstBytes(t *testing.T) {
	tests := []struct{ head, want string }{
		{"\x03abcdefg", ""},
		{"GET / HT", "HTTP request"},
		{"POST /x ", "HTTP request"},
		{"\x16\x03\x01\x02\x00", "TLS handshake"},
		{"\x00\x01", "first byte 0x00"},
	}
	for _, tc := range tests {
		if got := describeGarbage([]byte(tc.head)); tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.head, got, tc.want)
		}
	}
}

func TestGortmplibCodecErrorsNameTheCodec(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"unsupported audio codec: 6", "audio codec Nellymoser"},
		{"unsupported video codec: 4", "video codec On2 VP6"},
		{"unsupported fourCC: 1181429315", `FourCC "Fk.C"`},
		{"unsupported fourCC: 1332770163", "audio codec Opus"},
	}
	for _, tc := range tests {
		err := codecErrorFromReadErr(errors.New(tc.msg))
		if err == nil || !errors.Is(err, ErrUnsupportedCodec) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.msg, err, tc.want)
		}
	}
	if err := codecErrorFromReadErr(errors.New("invalid message type: 99")); err != nil {
		t.Errorf("non-codec error classified as codec error: %v", err)
	}
}

func TestRedactDropsClientDataFromErrors(t *testing.T) {
	got := redact(errors.New("invalid connect command: &{ChunkStreamID:3 Name:connect Arguments:[tcUrl rtmp://h/live/KEY]}"))
	if strings.Contains(got, "KEY") || !strings.Contains(got, "invalid connect command") {
		t.Fatalf("redact = %q", got)
	}
}
