package rtmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"

	"github.com/livehouse/livehouse/internal/media"
)

// Real x264 parameter sets (640x360) and a matching AudioSpecificConfig.
var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03,
		0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf2, 0x3c, 0x58, 0xba, 0x80}
	testPPS = []byte{0x68, 0xce, 0x0f, 0xc8}
	// AAC-LC, 48 kHz, mono.
	testASC = []byte{0x11, 0x88}
)

// decodeMessage runs an FLV tag body through gortmplib's chunk and message
// layers, exactly as ServerConn.Read would deliver it.
func decodeMessage(typ message.Type, ts time.Duration, body []byte) (message.Message, error) {
	var buf bytes.Buffer
	w := rawmessage.NewWriter(&buf, bytecounter.NewWriter(&buf), false)
	if err := w.Write(&rawmessage.Message{
		ChunkStreamID: 6, Timestamp: ts, Type: uint8(typ), MessageStreamID: 1, Body: body,
	}); err != nil {
		return nil, err
	}
	br := bytecounter.NewReader(&buf)
	return message.NewReader(br, br, func(uint32) error { return nil }).Read()
}

func avcSeqHeaderTag() []byte {
	var b bytes.Buffer
	b.Write([]byte{0x17, 0x00, 0, 0, 0})
	b.Write([]byte{1, testSPS[1], testSPS[2], testSPS[3], 0xff, 0xe1})
	_ = binary.Write(&b, binary.BigEndian, uint16(len(testSPS)))
	b.Write(testSPS)
	b.WriteByte(1)
	_ = binary.Write(&b, binary.BigEndian, uint16(len(testPPS)))
	b.Write(testPPS)
	return b.Bytes()
}

func avcAUTag(key bool, cts int32, nalus ...[]byte) []byte {
	b := []byte{0x27, 0x01, byte(cts >> 16), byte(cts >> 8), byte(cts)}
	if key {
		b[0] = 0x17
	}
	for _, n := range nalus {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

func testTracks() media.Tracks {
	v, err := h264FromParams(testSPS, testPPS, 0)
	if err != nil {
		panic(err)
	}
	return media.Tracks{Video: v, Audio: &media.AAC{Config: testASC, SampleRate: 48000, Channels: 1}}
}

// checkUnit asserts the invariants every emitted unit must satisfy.
func checkUnit(t *testing.T, u *media.Unit, kind media.Kind) {
	if u == nil {
		return
	}
	if u.Kind != kind || len(u.Payload) == 0 || u.PTS < u.DTS {
		t.Fatalf("bad unit %+v", u)
	}
	for _, p := range u.Payload {
		if len(p) == 0 {
			t.Fatal("empty payload element")
		}
	}
}

// checkErr asserts that errors from our parsing are classified.
func checkErr(t *testing.T, err error) {
	if err == nil {
		return
	}
	for _, e := range []error{ErrBadStream, ErrUnsupportedCodec, ErrParamsChanged, ErrTimestampJump, ErrNoVideo} {
		if errors.Is(err, e) {
			return
		}
	}
	t.Fatalf("unclassified error: %v", err)
}

func FuzzParseVideoTag(f *testing.F) {
	f.Add(uint32(0), avcSeqHeaderTag())
	f.Add(uint32(33), avcAUTag(true, 0, []byte{0x65, 0x88, 0x84}))
	f.Add(uint32(66), avcAUTag(false, 66, []byte{0x41, 0x9a}, []byte{0x06, 0x05}))
	f.Add(uint32(1), []byte{0x17, 0x01, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add(uint32(5), []byte{0x1c, 0x00, 0, 0, 0, 1, 2, 3}) // legacy HEVC
	f.Add(uint32(5), []byte{0x90, 'h', 'v', 'c', '1', 1, 2})
	f.Fuzz(func(t *testing.T, ts uint32, body []byte) {
		msg, err := decodeMessage(message.TypeVideo, time.Duration(ts)*time.Millisecond, body)
		if err != nil {
			return // refused by gortmplib: the session ends with a read error
		}
		var det trackDetector
		_, err = det.push(msg, time.Now())
		checkErr(t, err)

		conv := newUnitConverter(testTracks())
		conv.gotKey = true
		if v, ok := msg.(*message.Video); ok {
			u, err := conv.video(v, time.Now())
			checkErr(t, err)
			checkUnit(t, u, media.KindVideo)
		}
	})
}

func FuzzParseAudioTag(f *testing.F) {
	f.Add(uint32(0), append([]byte{0xaf, 0x00}, testASC...))
	f.Add(uint32(21), []byte{0xaf, 0x01, 0x21, 0x10, 0x05})
	f.Add(uint32(21), []byte{0x2f, 0xff, 0xfb})        // MP3
	f.Add(uint32(21), []byte{0xaf, 0x00, 0xf8, 0x00})  // explicit sample rate escape
	f.Add(uint32(9), []byte{0x9f, 'O', 'p', 'u', 's'}) // Enhanced-RTMP audio
	f.Fuzz(func(t *testing.T, ts uint32, body []byte) {
		msg, err := decodeMessage(message.TypeAudio, time.Duration(ts)*time.Millisecond, body)
		if err != nil {
			return
		}
		var det trackDetector
		_, err = det.push(msg, time.Now())
		checkErr(t, err)

		conv := newUnitConverter(testTracks())
		if a, ok := msg.(*message.Audio); ok {
			u, err := conv.audio(a, time.Now())
			checkErr(t, err)
			checkUnit(t, u, media.KindAudio)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("\x02\x00\x0d@setDataFrame\x02\x00\x0aonMetaData\x08\x00\x00\x00\x01" +
		"\x00\x0cvideocodecid\x00\x40\x1c\x00\x00\x00\x00\x00\x00\x00\x00\x09"))
	f.Add([]byte("\x02\x00\x0aonMetaData\x03\x00\x0caudiocodecid\x02\x00\x04Opus\x00\x00\x09"))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := decodeMessage(message.TypeDataAMF0, 0, body)
		if err != nil {
			return
		}
		var det trackDetector
		_, err = det.push(msg, time.Now())
		checkErr(t, err)
	})
}

// FuzzPublishSequence feeds a sequence of tags (1 byte type selector, 1 byte
// timestamp step, 1 byte length, body) through detection and conversion, as
// a session does.
func FuzzPublishSequence(f *testing.F) {
	seq := func(tags ...[]byte) []byte {
		var b []byte
		for i, tag := range tags {
			b = append(b, byte(i%2), 33, byte(len(tag)))
			b = append(b, tag...)
		}
		return b
	}
	f.Add(seq(avcSeqHeaderTag(), append([]byte{0xaf, 0x00}, testASC...),
		avcAUTag(true, 0, []byte{0x65, 0x88}), []byte{0xaf, 0x01, 0x21}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var det trackDetector
		var conv *unitConverter
		last := map[media.Kind]int64{}
		ts := time.Duration(0)
		now := time.Unix(1000, 0)
		for len(data) >= 3 {
			typ := message.TypeVideo
			if data[0]&1 == 1 {
				typ = message.TypeAudio
			}
			ts += time.Duration(data[1]) * time.Millisecond
			n := min(int(data[2]), len(data)-3)
			body := data[3 : 3+n]
			data = data[3+n:]
			now = now.Add(20 * time.Millisecond)

			msg, err := decodeMessage(typ, ts, body)
			if err != nil {
				continue
			}
			if conv == nil {
				st, err := det.push(msg, now)
				checkErr(t, err)
				if err != nil || st == detectEnhanced {
					return
				}
				if st == detectReady {
					conv = newUnitConverter(det.tracks())
				}
				continue
			}
			var u *media.Unit
			switch m := msg.(type) {
			case *message.Video:
				u, err = conv.video(m, now)
				checkUnit(t, u, media.KindVideo)
			case *message.Audio:
				u, err = conv.audio(m, now)
				checkUnit(t, u, media.KindAudio)
			}
			checkErr(t, err)
			if err != nil {
				return
			}
			if u != nil {
				if prev, ok := last[u.Kind]; ok && u.DTS <= prev {
					t.Fatalf("kind %d DTS %d after %d", u.Kind, u.DTS, prev)
				}
				last[u.Kind] = u.DTS
			}
		}
	})
}
