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

// flvVideoCodec names an FLV VIDEODATA CodecID (a function, not a map, so
// the table cannot change).
func flvVideoCodec(id uint32) (string, bool) {
	switch id {
	case 2:
		return "Sorenson Spark (H.263)", true
	case 3:
		return "Screen Video", true
	case 4:
		return "On2 VP6", true
	case 5:
		return "On2 VP6 with alpha", true
	case 6:
		return "Screen Video v2", true
	case 7:
		return "H.264", true
	case 12:
		return "H.265/HEVC (legacy FLV id 12)", true
	}
	return "", false
}

// flvAudioCodec names an FLV AUDIODATA SoundFormat.
func flvAudioCodec(id uint32) (string, bool) {
	switch id {
	case 1:
		return "ADPCM", true
	case 2:
		return "MP3", true
	case 3:
		return "PCM (little endian)", true
	case 4:
		return "Nellymoser 16 kHz", true
	case 5:
		return "Nellymoser 8 kHz", true
	case 6:
		return "Nellymoser", true
	case 7:
		return "G.711 A-law", true
	case 8:
		return "G.711 mu-law", true
	case 10:
		return "AAC", true
	case 11:
		return "Speex", true
	case 14:
		return "MP3 8 kHz", true
	}
	return "", false
}

// fourCCCodec names an Enhanced-RTMP FourCC we recognise.
func fourCCCodec(id message.FourCC) (string, bool) {
	switch id {
	case message.FourCCAVC:
		return "H.264", true
	case message.FourCCHEVC:
		return "H.265/HEVC", true
	case message.FourCCAV1:
		return "AV1", true
	case message.FourCCVP9:
		return "VP9", true
	case message.FourCCMP4A:
		return "AAC", true
	case message.FourCCOpus:
		return "Opus", true
	case message.FourCCFLAC:
		return "FLAC", true
	case message.FourCCAC3:
		return "AC-3", true
	case message.FourCCMP3:
		return "MP3", true
	case fourCC("ec-3"):
		return "E-AC-3", true
	case fourCC("vp08"):
		return "VP8", true
	}
	return "", false
}

func fourCC(s string) message.FourCC {
	return message.FourCC(s[0])<<24 | message.FourCC(s[1])<<16 | message.FourCC(s[2])<<8 | message.FourCC(s[3])
}

// fourCCName names a FourCC, falling back to its printable text.
func fourCCName(f message.FourCC) string {
	if n, ok := fourCCCodec(f); ok {
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
	if n, ok := flvVideoCodec(id); ok {
		return n
	}
	return fmt.Sprintf("FLV video codec id %d", id)
}

func audioCodecName(id uint32) string {
	if n, ok := flvAudioCodec(id); ok {
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
	return classifyMetaCodec(v, flvVideoH264, message.FourCCAVC, flvVideoCodec, []string{"avc1", "h264"})
}

// classifyMetaAudio judges onMetaData's audiocodecid.
func classifyMetaAudio(v any) (codecVerdict, string) {
	return classifyMetaCodec(v, flvAudioAAC, message.FourCCMP4A, flvAudioCodec, []string{"mp4a", "aac"})
}

func classifyMetaCodec(v any, okID uint32, okFourCC message.FourCC, known func(uint32) (string, bool),
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
		}
		if n, ok := known(id); ok {
			return verdictRefused, n
		}
		if n, ok := fourCCCodec(message.FourCC(id)); ok {
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
			if n, ok := fourCCCodec(fourCC(v)); ok {
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
