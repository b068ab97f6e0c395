package rtmp

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
)

func TestEnhancedRTMPPublishersWithOtherCodecsAreRefusedWithReason(t *testing.T) {
	tests := []struct {
		name      string
		tracks    []*gortmplib.Track
		wantCodec string
	}{
		{"H.265 video", []*gortmplib.Track{{Codec: &codecs.H265{}}}, "H.265/HEVC"},
		{"AV1 video", []*gortmplib.Track{{Codec: &codecs.AV1{}}}, "AV1"},
		{"H.264 with Opus audio", []*gortmplib.Track{
			{Codec: &codecs.H264{}},
			{Codec: &codecs.Opus{IDHeader: &opus.IDHeader{Version: 1, ChannelCount: 2, InputSampleRate: 48000}}},
		}, "Opus"},
	}
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{})
	baseline := runtime.NumGoroutine()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dialRTMP(t, srv, testKey, true)
			if err != nil {
				t.Fatal(err)
			}
			_ = writeTracks(c, tc.tracks...) // the server may close mid-write
			pub := rec.next(t, time.Second)
			err = pub.waitEnd(t, 2*time.Second)
			var ce *UnsupportedCodecError
			if !errors.As(err, &ce) || ce.Codec != tc.wantCodec || !errors.Is(err, ErrUnsupportedCodec) {
				t.Fatalf("End(%v), want unsupported %s", err, tc.wantCodec)
			}
			if pub.begins != 0 {
				t.Fatal("Begin called for a refused codec")
			}
			logs.waitLog(t, time.Second, "codec "+tc.wantCodec, "set encoder to x264/H.264 and audio to AAC")
			waitClosedByServer(t, c.NetConn(), time.Second)
		})
		waitGoroutines(t, baseline)
	}
}

// TestEnhancedRTMPH264FallsBackToReader publishes real H.264 (from ffmpeg) as
// Enhanced-RTMP FourCC "avc1" frames, which the fast detector hands over to
// gortmplib's Reader.
func TestEnhancedRTMPH264FallsBackToReader(t *testing.T) {
	aus := encodeH264AccessUnits(t, 90)
	sps, pps := aus[0][0], aus[0][1]

	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{})
	baseline := runtime.NumGoroutine()
	c, err := dialRTMP(t, srv, testKey, true)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite := func(m message.Message) {
		t.Helper()
		if err := c.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(&message.DataAMF0{ChunkStreamID: 4, MessageStreamID: 0x1000000, Payload: []any{
		"@setDataFrame", "onMetaData",
		amf0.Object{{Key: "videocodecid", Value: float64(message.FourCCAVC)}, {Key: "framerate", Value: float64(30)}},
	}})
	mustWrite(&message.VideoExSequenceStart{
		ChunkStreamID: message.VideoChunkStreamID, MessageStreamID: 0x1000000,
		FourCC: message.FourCCAVC, AVCConfig: avcConfig(sps, pps),
	})
	for i, au := range aus {
		payload, err := h264.AVCC(au).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(&message.VideoExCodedFrames{
			ChunkStreamID: message.VideoChunkStreamID, MessageStreamID: 0x1000000,
			FourCC: message.FourCCAVC, DTS: time.Duration(i) * time.Second / 30 / time.Millisecond * time.Millisecond,
			Payload: payload,
		})
	}

	pub := rec.next(t, time.Second)
	pub.waitBegin(t, 3*time.Second)
	if v := pub.tracks.Video; v.Width != 320 || v.Height != 240 || v.FPS != 30 || pub.tracks.Audio != nil {
		t.Fatalf("tracks %+v %+v, want 320x240@30 video only", v, pub.tracks.Audio)
	}
	deadline := time.Now().Add(2 * time.Second)
	for pub.unitCount() < len(aus) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	c.Close() // without unpublishing: a dropped encoder
	if err := pub.waitEnd(t, 2*time.Second); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("End(%v), want ErrConnectionLost", err)
	}
	video, _ := splitUnits(pub.units)
	if len(video) != len(aus) {
		t.Fatalf("%d video units, want %d", len(video), len(aus))
	}
	checkVideoUnits(t, video, 3*time.Second)
	logs.waitLog(t, time.Second, "rtmp publish started")
	waitGoroutines(t, baseline)
	assertNoChildren(t)
}

// encodeH264AccessUnits has ffmpeg encode n frames of 320x240@30 and splits
// the Annex-B output into access units at the access unit delimiters (which
// are dropped). The first AU starts with SPS, PPS.
func encodeH264AccessUnits(t *testing.T, n int) [][][]byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "v.h264")
	cmd := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", strconv.Itoa(n),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
		"-x264-params", "aud=1", "-f", "h264", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][][]byte
	for _, nalu := range splitAnnexB(raw) {
		if h264.NALUType(nalu[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
			aus = append(aus, nil)
			continue
		}
		if len(aus) == 0 {
			aus = append(aus, nil)
		}
		aus[len(aus)-1] = append(aus[len(aus)-1], nalu)
	}
	if len(aus) != n || h264.NALUType(aus[0][0][0]&0x1f) != h264.NALUTypeSPS {
		t.Fatalf("got %d access units, want %d starting with SPS", len(aus), n)
	}
	return aus
}

func avcConfig(sps, pps []byte) *mp4.AVCDecoderConfiguration {
	return &mp4.AVCDecoderConfiguration{
		AnyTypeBox:                 mp4.AnyTypeBox{Type: mp4.BoxTypeAvcC()},
		ConfigurationVersion:       1,
		Profile:                    sps[1],
		ProfileCompatibility:       sps[2],
		Level:                      sps[3],
		Reserved:                   0b111111,
		LengthSizeMinusOne:         3,
		Reserved2:                  0b111,
		NumOfSequenceParameterSets: 1,
		SequenceParameterSets:      []mp4.AVCParameterSet{{Length: uint16(len(sps)), NALUnit: sps}},
		NumOfPictureParameterSets:  1,
		PictureParameterSets:       []mp4.AVCParameterSet{{Length: uint16(len(pps)), NALUnit: pps}},
	}
}

// splitAnnexB splits a whole Annex-B stream at its start codes (mediacommon's
// AnnexB caps the NALU count per access unit, this is a whole file).
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+3 <= len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = append(out, bytes.TrimRight(b[start:i], "\x00"))
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
