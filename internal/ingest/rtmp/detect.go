package rtmp

import (
	"fmt"
	"time"

	"github.com/bluenviron/gortmplib/pkg/message"

	"github.com/livehouse/livehouse/internal/media"
)

// Bounds of track detection.
const (
	// audioWait: once the video sequence header is in, wait at most this
	// long (wall clock or video time) for an AAC sequence header before
	// starting video-only.
	audioWait = 500 * time.Millisecond
	// noVideoAfter: refuse after this much audio with no video message.
	noVideoAfter = time.Second
	// noVideoConfigAfter: refuse after this much video without an AVC
	// sequence header.
	noVideoConfigAfter = 3 * time.Second
	// maxPending and maxPendingBytes bound what is held before the tracks
	// are known.
	maxPending      = 2000
	maxPendingBytes = 32 << 20
)

type detectState int

const (
	detectNeedMore detectState = iota
	detectReady                // tracks() is valid
	detectEnhanced             // Enhanced-RTMP stream: use gortmplib's Reader
)

// span tracks the first and last RTMP time of one kind of message.
type span struct {
	first, last time.Duration
	seen        bool
}

func (s *span) add(t time.Duration) {
	if !s.seen {
		s.first, s.seen = t, true
	}
	s.last = t
}

func (s *span) length() time.Duration {
	if !s.seen {
		return 0
	}
	return s.last - s.first
}

// trackDetector finds the tracks of a classic-FLV publisher as soon as its
// sequence headers are in, instead of analysing 2 s of media as
// gortmplib.Reader does. It keeps every message it was given (pending) so
// they can be delivered, or replayed to gortmplib.Reader, afterwards.
type trackDetector struct {
	meta       streamMetadata
	video      *media.H264
	audio      *media.AAC
	videoCfgAt time.Time
	videoSpan  span
	audioSpan  span
	pending    []message.Message
	pendingLen int // media payload bytes in pending
}

// push feeds one message received at now.
func (d *trackDetector) push(msg message.Message, now time.Time) (detectState, error) {
	if len(d.pending) >= maxPending || d.pendingLen >= maxPendingBytes {
		return detectNeedMore, fmt.Errorf("%w: %d messages (%d bytes) without usable sequence headers",
			ErrBadStream, len(d.pending), d.pendingLen)
	}
	d.pending = append(d.pending, msg)
	switch m := msg.(type) {
	case *message.Video:
		d.pendingLen += len(m.AU)
	case *message.Audio:
		d.pendingLen += len(m.AU)
	}

	switch m := msg.(type) {
	case *message.DataAMF0:
		if err := d.onMetadata(m); err != nil {
			return detectNeedMore, err
		}
	case *message.Video:
		if err := d.onVideo(m, now); err != nil {
			return detectNeedMore, err
		}
	case *message.Audio:
		if err := d.onAudio(m); err != nil {
			return detectNeedMore, err
		}
	case *message.VideoExSequenceStart:
		return d.enhanced("video", m.FourCC, message.FourCCAVC)
	case *message.VideoExCodedFrames:
		return d.enhanced("video", m.FourCC, message.FourCCAVC)
	case *message.VideoExFramesX:
		return d.enhanced("video", m.FourCC, message.FourCCAVC)
	case *message.AudioExSequenceStart:
		return d.enhanced("audio", m.FourCC, message.FourCCMP4A)
	case *message.AudioExCodedFrames:
		return d.enhanced("audio", m.FourCC, message.FourCCMP4A)
	case *message.VideoExMultitrack, *message.AudioExMultitrack, *message.AudioExMultichannelConfig:
		return detectEnhanced, nil
	}
	return d.decide(now)
}

func (d *trackDetector) enhanced(track string, got, want message.FourCC) (detectState, error) {
	if got != want {
		return detectNeedMore, &UnsupportedCodecError{Track: track, Codec: fourCCName(got)}
	}
	return detectEnhanced, nil
}

func (d *trackDetector) onMetadata(m *message.DataAMF0) error {
	meta, ok := parseMetadata(m.Payload)
	if !ok {
		return nil
	}
	d.meta = meta
	if d.video != nil && meta.fps > 0 {
		d.video.FPS = meta.fps
	}
	if meta.video == verdictRefused {
		return &UnsupportedCodecError{Track: "video", Codec: meta.videoName}
	}
	if meta.audio == verdictRefused {
		return &UnsupportedCodecError{Track: "audio", Codec: meta.audioName}
	}
	if meta.noVideo() {
		return fmt.Errorf("%w (onMetaData lists audio only)", ErrNoVideo)
	}
	return nil
}

func (d *trackDetector) onVideo(m *message.Video, now time.Time) error {
	if m.Codec != message.CodecH264 {
		return &UnsupportedCodecError{Track: "video", Codec: videoCodecName(uint32(m.Codec))}
	}
	d.videoSpan.add(m.DTS)
	if m.Type != message.VideoTypeConfig || m.AVCConfig == nil {
		return nil
	}
	v, err := h264FromAVCConfig(m.AVCConfig, d.meta.fps)
	if err != nil {
		return err
	}
	if d.video == nil {
		d.videoCfgAt = now
	}
	d.video = v
	return nil
}

func (d *trackDetector) onAudio(m *message.Audio) error {
	if m.Codec != message.CodecMPEG4Audio {
		return &UnsupportedCodecError{Track: "audio", Codec: audioCodecName(uint32(m.Codec))}
	}
	d.audioSpan.add(m.DTS)
	if m.AACType != message.AudioAACTypeConfig || m.AACConfig == nil {
		return nil
	}
	a, err := aacFromConfig(m.AACConfig)
	if err != nil {
		return err
	}
	d.audio = a
	return nil
}

func (d *trackDetector) decide(now time.Time) (detectState, error) {
	if d.video != nil {
		switch {
		case d.audio != nil, d.meta.noAudio():
			return detectReady, nil
		case now.Sub(d.videoCfgAt) >= audioWait, d.videoSpan.length() >= audioWait:
			return detectReady, nil // video only: no AAC header in time
		}
		return detectNeedMore, nil
	}
	if !d.videoSpan.seen && d.audioSpan.length() >= noVideoAfter {
		return detectNeedMore, fmt.Errorf("%w (%s of audio, no video)", ErrNoVideo, noVideoAfter)
	}
	if d.videoSpan.length() >= noVideoConfigAfter {
		return detectNeedMore, fmt.Errorf("%w: no AVC sequence header (AVCDecoderConfigurationRecord) in %s of video",
			ErrBadStream, noVideoConfigAfter)
	}
	return detectNeedMore, nil
}

// tracks returns the detected tracks; valid after detectReady.
func (d *trackDetector) tracks() media.Tracks {
	return media.Tracks{Video: d.video, Audio: d.audio}
}
