package rtmp

import (
	"errors"
	"fmt"
)

// obsHint tells a streamer what to change; it ends every codec refusal.
const obsHint = "in OBS set encoder to x264/H.264 and audio to AAC"

// Errors passed to Publication.End (wrapped; compare with errors.Is).
var (
	// ErrStalled: the publisher sent nothing for ReadTimeout.
	ErrStalled = errors.New("rtmp: publisher stalled")
	// ErrUnsupportedCodec: a track is not H.264 video or AAC audio.
	ErrUnsupportedCodec = errors.New("rtmp: unsupported codec")
	// ErrNoVideo: the stream has no video track; video is required.
	ErrNoVideo = errors.New("rtmp: stream has no video track (video is required; " + obsHint + ")")
	// ErrParamsChanged: a new, different sequence header (SPS/PPS or
	// AudioSpecificConfig) arrived mid-stream. The publication ends; a
	// reconnecting publisher starts a new one.
	ErrParamsChanged = errors.New("rtmp: codec parameters changed mid-stream")
	// ErrTimestampJump: timestamps went backwards by more than maxBackJump.
	ErrTimestampJump = errors.New("rtmp: timestamps went backwards")
	// ErrBadStream: the stream is malformed (invalid sequence header, no
	// sequence header, too much data before the tracks were known).
	ErrBadStream = errors.New("rtmp: malformed stream")
	// ErrServerClosed: the server was closed under the publisher.
	ErrServerClosed = errors.New("rtmp: server closed")
	// ErrEndedByConsumer: the publication's Done closed (the channel was
	// taken off the air), so the server closed the connection.
	ErrEndedByConsumer = errors.New("rtmp: publication ended by the server (channel taken off the air)")
	// ErrConnectionLost ends a publication whose connection closed without an
	// unpublish command (EOF, reset): the encoder crashed or the network
	// dropped, so the live layer may wait for it to come back.
	ErrConnectionLost = errors.New("connection closed without unpublishing")
)

// UnsupportedCodecError names the codec that was refused. It matches
// ErrUnsupportedCodec with errors.Is.
type UnsupportedCodecError struct {
	Track string // "video" or "audio"
	Codec string // human name, e.g. "H.265/HEVC" or "MP3"
}

func (e *UnsupportedCodecError) Error() string {
	return fmt.Sprintf("unsupported %s codec %s: only H.264 video with optional AAC audio is accepted (%s)",
		e.Track, e.Codec, obsHint)
}

// Is makes errors.Is(err, ErrUnsupportedCodec) true.
func (e *UnsupportedCodecError) Is(target error) bool { return target == ErrUnsupportedCodec }
