package rtmp

import (
	"math"

	"github.com/bluenviron/gortmplib/pkg/amf0"
)

// streamMetadata is what an onMetaData script tag tells about the stream.
// Encoders fill it unevenly, so only positive statements are used.
type streamMetadata struct {
	// hasVideoKey/hasAudioKey: videocodecid/audiocodecid were present.
	hasVideoKey, hasAudioKey bool
	video, audio             codecVerdict
	videoName, audioName     string // set when refused
	fps                      float64
}

// parseMetadata extracts onMetaData from an AMF0 data message, sent either as
// ["@setDataFrame", "onMetaData", {...}] or ["onMetaData", {...}].
func parseMetadata(d amf0.Data) (streamMetadata, bool) {
	var obj amf0.Object
	found := false
	for i := 0; i+1 < len(d) && i < 2; i++ {
		if name, _ := d[i].(string); name != "onMetaData" {
			continue
		}
		switch o := d[i+1].(type) {
		case amf0.Object:
			obj, found = o, true
		case amf0.ECMAArray:
			obj, found = amf0.Object(o), true
		}
		break
	}
	if !found {
		return streamMetadata{}, false
	}

	var m streamMetadata
	if v, ok := obj.Get("videocodecid"); ok {
		m.hasVideoKey = true
		m.video, m.videoName = classifyMetaVideo(v)
	}
	if v, ok := obj.Get("audiocodecid"); ok {
		m.hasAudioKey = true
		m.audio, m.audioName = classifyMetaAudio(v)
	}
	for _, k := range []string{"framerate", "videoframerate", "fps"} {
		if f, ok := obj.GetFloat64(k); ok && f > 0 && f <= 1000 && !math.IsNaN(f) {
			m.fps = f
			break
		}
	}
	return m, true
}

// noAudio reports that the metadata lists the video codec but no audio codec,
// which is how ffmpeg and OBS describe a video-only stream.
func (m streamMetadata) noAudio() bool { return m.hasVideoKey && !m.hasAudioKey }

// noVideo reports that the metadata lists an audio codec but no video codec.
func (m streamMetadata) noVideo() bool { return m.hasAudioKey && !m.hasVideoKey }
