package rtmp

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/livehouse/livehouse/internal/media"
)

// maxBackJump is how far timestamps may go backwards before the publication
// is ended; smaller steps back are smoothed over (encoder jitter).
const maxBackJump = 500 * time.Millisecond

const aacFrameSamples = 1024

// msClock unwraps RTMP's 32-bit millisecond timestamps (they wrap after
// ~49.7 days).
type msClock struct {
	last    uint32
	wraps   int64
	started bool
}

func (c *msClock) ms(d time.Duration) int64 {
	raw := uint32(d / time.Millisecond)
	if c.started && raw < c.last && c.last-raw > 1<<31 {
		c.wraps++
	}
	c.last, c.started = raw, true
	return c.wraps<<32 + int64(raw)
}

// unitConverter turns FLV media payloads into media.Units for fixed tracks.
type unitConverter struct {
	tracks media.Tracks

	vclock  msClock
	lastDTS int64
	haveV   bool
	gotKey  bool

	aclock   msClock
	nextATS  int64
	haveA    bool
	frameLen int64
}

func newUnitConverter(t media.Tracks) *unitConverter {
	return &unitConverter{tracks: t, frameLen: aacFrameSamples}
}

// video converts a legacy FLV video message. It returns a nil unit for
// messages that carry no picture (repeated sequence header, end of sequence,
// empty AU, frames before the first IDR).
func (c *unitConverter) video(m *message.Video, now time.Time) (*media.Unit, error) {
	if m.Codec != message.CodecH264 {
		return nil, &UnsupportedCodecError{Track: "video", Codec: videoCodecName(uint32(m.Codec))}
	}
	switch m.Type {
	case message.VideoTypeConfig:
		if m.AVCConfig == nil {
			return nil, nil
		}
		sps := m.AVCConfig.SequenceParameterSets[0].NALUnit
		pps := m.AVCConfig.PictureParameterSets[0].NALUnit
		if !sameH264(c.tracks.Video, sps, pps) {
			return nil, fmt.Errorf("%w: new H.264 SPS/PPS (resolution or encoder settings changed); "+
				"the publisher must reconnect", ErrParamsChanged)
		}
		return nil, nil
	case message.VideoTypeAU:
		var au h264.AVCC
		if err := au.Unmarshal(m.AU); err != nil {
			if errors.Is(err, h264.ErrAVCCNoNALUs) {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: H.264 access unit: %w", ErrBadStream, err)
		}
		return c.videoAU(m.DTS, m.DTS+m.PTSDelta, au, now)
	default:
		return nil, nil
	}
}

// videoAU stamps one H.264 access unit (NAL units without start codes).
// dts and pts are RTMP times (millisecond resolution).
func (c *unitConverter) videoAU(dts, pts time.Duration, au [][]byte, now time.Time) (*media.Unit, error) {
	if len(au) == 0 {
		return nil, nil
	}
	dtsMs := c.vclock.ms(dts)
	ptsMs := dtsMs + int64((pts-dts)/time.Millisecond)
	d := dtsMs * media.VideoClockRate / 1000
	p := ptsMs * media.VideoClockRate / 1000
	if c.haveV && d <= c.lastDTS {
		back := time.Duration((c.lastDTS-d)*1000/media.VideoClockRate) * time.Millisecond
		if back > maxBackJump {
			return nil, fmt.Errorf("%w: video DTS went back by %s", ErrTimestampJump, back)
		}
		d = c.lastDTS + 1
	}
	p = max(p, d)
	c.lastDTS, c.haveV = d, true

	key := h264.IsRandomAccess(au)
	if !c.gotKey {
		if !key {
			return nil, nil // undecodable without the preceding IDR
		}
		c.gotKey = true
	}
	return &media.Unit{Kind: media.KindVideo, PTS: p, DTS: d, NTP: now, Key: key, Payload: au}, nil
}

// audio converts a legacy FLV audio message; nil unit for sequence headers
// and for a stream whose audio track was not announced in time.
func (c *unitConverter) audio(m *message.Audio, now time.Time) (*media.Unit, error) {
	if m.Codec != message.CodecMPEG4Audio {
		return nil, &UnsupportedCodecError{Track: "audio", Codec: audioCodecName(uint32(m.Codec))}
	}
	if c.tracks.Audio == nil {
		return nil, nil
	}
	if m.AACType == message.AudioAACTypeConfig {
		if m.AACConfig != nil && !sameAAC(c.tracks.Audio, m.AACConfig) {
			return nil, fmt.Errorf("%w: new AAC AudioSpecificConfig; the publisher must reconnect", ErrParamsChanged)
		}
		return nil, nil
	}
	return c.audioFrame(m.DTS, m.AU, now)
}

// audioFrame stamps one raw AAC frame in sample-rate ticks. The millisecond
// RTMP time is rounded to the nearest sample; while it stays within half a
// frame of where the previous frame ended, the exact continuation is used
// instead, so continuous audio advances by exactly 1024 ticks per frame.
// Overlapping frames are dropped; gaps are kept.
func (c *unitConverter) audioFrame(dts time.Duration, frame []byte, now time.Time) (*media.Unit, error) {
	if c.tracks.Audio == nil || len(frame) == 0 {
		return nil, nil
	}
	rate := int64(c.tracks.Audio.SampleRate)
	ms := c.aclock.ms(dts)
	ts := (ms*rate + 500) / 1000
	if c.haveA {
		diff := ts - c.nextATS
		switch {
		case diff >= -c.frameLen/2 && diff <= c.frameLen/2:
			ts = c.nextATS
		case diff < 0:
			if back := time.Duration(-diff*1000/rate) * time.Millisecond; back > maxBackJump {
				return nil, fmt.Errorf("%w: audio time went back by %s", ErrTimestampJump, back)
			}
			return nil, nil
		}
	}
	c.nextATS, c.haveA = ts+c.frameLen, true
	return &media.Unit{Kind: media.KindAudio, PTS: ts, DTS: ts, NTP: now, Payload: [][]byte{frame}}, nil
}
