package rtmp

import (
	"bytes"
	"fmt"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/livehouse/livehouse/internal/media"
)

// Sanity bounds for values read from a sequence header.
const (
	maxDimension = 8192
	maxFPS       = 1000
)

// h264FromAVCConfig builds the video track from an AVCDecoderConfigurationRecord.
// metaFPS (from onMetaData, 0 if absent) wins over the SPS timing info.
func h264FromAVCConfig(cfg *mp4.AVCDecoderConfiguration, metaFPS float64) (*media.H264, error) {
	if cfg == nil || len(cfg.SequenceParameterSets) == 0 || len(cfg.PictureParameterSets) == 0 {
		return nil, fmt.Errorf("%w: AVC sequence header without SPS/PPS", ErrBadStream)
	}
	return h264FromParams(cfg.SequenceParameterSets[0].NALUnit, cfg.PictureParameterSets[0].NALUnit, metaFPS)
}

// h264FromParams builds the video track from one SPS and one PPS NAL unit.
func h264FromParams(sps, pps []byte, metaFPS float64) (*media.H264, error) {
	if len(sps) == 0 || len(pps) == 0 {
		return nil, fmt.Errorf("%w: empty H.264 SPS or PPS", ErrBadStream)
	}
	var s h264.SPS
	if err := s.Unmarshal(sps); err != nil {
		return nil, fmt.Errorf("%w: invalid H.264 SPS: %w", ErrBadStream, err)
	}
	w, h := s.Width(), s.Height()
	if w <= 0 || h <= 0 || w > maxDimension || h > maxDimension {
		return nil, fmt.Errorf("%w: H.264 SPS gives implausible size %dx%d", ErrBadStream, w, h)
	}
	fps := metaFPS
	if fps <= 0 {
		if f := s.FPS(); f > 0 && f <= maxFPS {
			fps = f
		}
	}
	return &media.H264{
		SPS:    bytes.Clone(sps),
		PPS:    bytes.Clone(pps),
		Width:  w,
		Height: h,
		FPS:    fps,
	}, nil
}

// aacFromConfig builds the audio track from a parsed AudioSpecificConfig.
func aacFromConfig(asc *mpeg4audio.AudioSpecificConfig) (*media.AAC, error) {
	if asc == nil {
		return nil, fmt.Errorf("%w: empty AAC sequence header", ErrBadStream)
	}
	raw, err := asc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: AudioSpecificConfig: %w", ErrBadStream, err)
	}
	ch := aacChannels(asc)
	if ch <= 0 {
		return nil, fmt.Errorf("%w: AAC channel configuration %d (program config element) is not supported",
			ErrBadStream, asc.ChannelConfig)
	}
	if asc.SampleRate <= 0 || asc.SampleRate > 96000 {
		return nil, fmt.Errorf("%w: AAC sample rate %d", ErrBadStream, asc.SampleRate)
	}
	return &media.AAC{Config: raw, SampleRate: asc.SampleRate, Channels: ch}, nil
}

func aacChannels(asc *mpeg4audio.AudioSpecificConfig) int {
	switch {
	case asc.ChannelConfig >= 1 && asc.ChannelConfig <= 6:
		return int(asc.ChannelConfig)
	case asc.ChannelConfig == 7:
		return 8
	default:
		return asc.ChannelCount //nolint:staticcheck // filled by older parsers only
	}
}

func sameH264(a *media.H264, sps, pps []byte) bool {
	return bytes.Equal(a.SPS, sps) && bytes.Equal(a.PPS, pps)
}

func sameAAC(a *media.AAC, asc *mpeg4audio.AudioSpecificConfig) bool {
	raw, err := asc.Marshal()
	return err == nil && bytes.Equal(a.Config, raw)
}
