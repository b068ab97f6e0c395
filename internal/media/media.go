// Package media owns the in-memory stream model shared by ingest, transcode
// and HLS: the tracks of a stream, its access units, and the fan-out of those
// units from one writer to many readers.
package media

import (
	"time"
)

// VideoClockRate is the clock rate of every video timestamp in Livehouse.
const VideoClockRate = 90000

// H264 describes an H.264 video track.
type H264 struct {
	SPS    []byte
	PPS    []byte
	Width  int
	Height int
	// FPS is the nominal frame rate when the source declared one, else 0.
	FPS float64
}

// AAC describes an MPEG-4 Audio (AAC) track.
type AAC struct {
	// Config is the raw AudioSpecificConfig.
	Config     []byte
	SampleRate int
	Channels   int
}

// Tracks lists the tracks of a stream. Video is required; Audio is optional.
type Tracks struct {
	Video *H264
	Audio *AAC
}

// Kind tells which track a Unit belongs to.
type Kind uint8

// Track kinds.
const (
	KindVideo Kind = iota + 1
	KindAudio
)

// Unit is one access unit.
//
// Video timestamps are in VideoClockRate ticks; audio timestamps are in ticks
// of the audio sample rate, so one AAC frame is exactly 1024 ticks.
type Unit struct {
	Kind Kind
	PTS  int64
	DTS  int64
	// NTP is the wall-clock time at which the unit was received at ingest.
	NTP time.Time
	// Key is true for H.264 IDR access units.
	Key bool
	// Payload holds the NAL units (without start codes) of a video access
	// unit, or exactly one raw AAC frame for audio.
	Payload [][]byte
}

// Size returns the number of payload bytes in u.
func (u *Unit) Size() int {
	n := 0
	for _, p := range u.Payload {
		n += len(p)
	}
	return n
}
