package rtmp

import (
	"fmt"
	"strings"

	"github.com/bluenviron/gortmplib/pkg/message"
)

// FLV codec IDs (FLV spec, VIDEODATA CodecID / AUDIODATA SoundFormat).
const (
	flvVideoH264 = 7
	flvAudioAAC  = 10
)

var flvVideoCodecs = map[uint32]string{
	2:  "Sorenson Spark (H.263)",
	3:  "Screen Video",
	4:  "On2 VP6",
	5:  "On2 VP6 with alpha",
	6:  "Screen Video v2",
	7:  "H.264",
	12: "H.265/HEVC (legacy FLV id 12)",
}

var flvAudioCodecs = map[uint32]string{
	1:  "ADPCM",
	2:  "MP3",
	3:  "PCM (little endian)",
	4:  "Nellymoser 16 kHz",
	5:  "Nellymoser 8 kHz",
	6:  "Nellymoser",
	7:  "G.711 A-law",
	8:  "G.711 mu-law",
	10: "AAC",
	11: "Speex",
	14: "MP3 8 kHz",
}

var fourCCCodecs = map[message.FourCC]string{
	message.FourCCAVC:  "H.264",
	message.FourCCHEVC: "H.265/HEVC",
	message.FourCCAV1:  "AV1",
	message.FourCCVP9:  "VP9",
	message.FourCCMP4A: "AAC",
	message.FourCCOpus: "Opus",
	message.FourCCFLAC: "FLAC",
	message.FourCCAC3:  "AC-3",
	message.FourCCMP3:  "MP3",
	fourCC("ec-3"):     "E-AC-3",
	fourCC("vp08"):     "VP8",
}

func fourCC(s string) message.FourCC {
	return message.FourCC(s[0])<<24 | message.FourCC(s[1])<<16 | message.FourCC(s[2])<<8 | message.FourCC(s[3])
}

// fourCCName names a FourCC, falling back to its printable text.
func fourCCName(f message.FourCC) string {
	if n, ok := fourCCCodecs[f]; ok {
		return n
	}
	b := []byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("FourCC 0x%08x", uint32(f))
		}
	}
	return fmt.Sprintf("FourCC %q", string(b))
}

func videoCodecName(id uint32) string {
	if n, ok := flvVideoCodecs[id]; ok {
		return n
	}
	return fmt.Sprintf("FLV video codec id %d", id)
}

func audioCodecName(id uint32) string {
	if n, ok := flvAudioCodecs[id]; ok {
		return n
	}
	return fmt.Sprintf("FLV audio codec id %d", id)
}

// codecVerdict is what onMetaData says about one track.
type codecVerdict int

const (
	verdictUnknown codecVerdict = iota // absent, 0, or unrecognised: let the tags decide
	verdictOK
	verdictRefused
)

// classifyMetaVideo judges onMetaData's videocodecid (a number: FLV id or
// Enhanced-RTMP FourCC; some encoders send a string).
func classifyMetaVideo(v any) (codecVerdict, string) {
	return classifyMetaCodec(v, flvVideoH264, message.FourCCAVC, flvVideoCodecs, []string{"avc1", "h264"})
}

// classifyMetaAudio judges onMetaData's audiocodecid.
func classifyMetaAudio(v any) (codecVerdict, string) {
	return classifyMetaCodec(v, flvAudioAAC, message.FourCCMP4A, flvAudioCodecs, []string{"mp4a", "aac"})
}

func classifyMetaCodec(v any, okID uint32, okFourCC message.FourCC, known map[uint32]string,
	okNames []string,
) (codecVerdict, string) {
	switch v := v.(type) {
	case float64:
		if v <= 0 || v != float64(uint32(v)) {
			return verdictUnknown, ""
		}
		id := uint32(v)
		switch {
		case id == okID || message.FourCC(id) == okFourCC:
			return verdictOK, ""
		case known[id] != "":
			return verdictRefused, known[id]
		}
		if n, ok := fourCCCodecs[message.FourCC(id)]; ok {
			return verdictRefused, n
		}
	case string:
		for _, n := range okNames {
			if strings.EqualFold(v, n) {
				return verdictOK, ""
			}
		}
		// A string of a FourCC we know is unsupported ("hvc1", "Opus"...).
		if len(v) == 4 {
			if n, ok := fourCCCodecs[fourCC(v)]; ok {
				return verdictRefused, n
			}
		}
	}
	return verdictUnknown, ""
}

// codecErrorFromReadErr recognises gortmplib's message-decoding errors for
// codecs it cannot even parse, so that the refusal names the codec.
func codecErrorFromReadErr(err error) error {
	msg := err.Error()
	var id uint32
	if _, e := fmt.Sscanf(msg, "unsupported video codec: %d", &id); e == nil {
		return &UnsupportedCodecError{Track: "video", Codec: videoCodecName(id)}
	}
	if _, e := fmt.Sscanf(msg, "unsupported audio codec: %d", &id); e == nil {
		return &UnsupportedCodecError{Track: "audio", Codec: audioCodecName(id)}
	}
	if _, e := fmt.Sscanf(msg, "unsupported fourCC: %d", &id); e == nil {
		f := message.FourCC(id)
		track := "video"
		switch f {
		case message.FourCCMP4A, message.FourCCOpus, message.FourCCFLAC, message.FourCCAC3,
			message.FourCCMP3, fourCC("ec-3"):
			track = "audio"
		}
		return &UnsupportedCodecError{Track: track, Codec: fourCCName(f)}
	}
	return nil
}
