package hls

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the LL-HLS muxers of a ladder. Zero fields take defaults.
type Config struct {
	// PartTarget is the part target duration (PART-TARGET). Parts never
	// exceed it. Default 200 ms.
	PartTarget time.Duration
	// SegmentMin is the shortest segment: a segment ends at the first key
	// frame at least this long after its start. Default 1 s.
	SegmentMin time.Duration
	// TargetDuration is EXT-X-TARGETDURATION, in whole seconds (rounded
	// up). It is fixed for a broadcast, as RFC 8216 requires, so it must
	// cover the encoder's key frame interval: a longer segment breaks the
	// spec's rule for players and is logged. Default 2 s (publishers send a
	// key frame every 1 or 2 s); never below SegmentMin.
	TargetDuration time.Duration
	// SegmentCount is how many complete segments a media playlist keeps.
	// Default: enough segments of SegmentMin to span CAN-SKIP-UNTIL (6
	// target durations) plus 6, so delta updates have something to skip;
	// 18 with the defaults.
	SegmentCount int
	// PartHoldBack is the PART-HOLD-BACK players keep from the live edge.
	// Default 3 part targets, as the spec recommends; never below 2, the
	// spec's floor.
	PartHoldBack time.Duration
	// ReadyTimeout bounds how long a multivariant request waits for every
	// rendition to have its first part. Default 5 s.
	ReadyTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.PartTarget <= 0 {
		c.PartTarget = 200 * time.Millisecond
	}
	if c.SegmentMin <= 0 {
		c.SegmentMin = time.Second
	}
	if c.TargetDuration <= 0 {
		c.TargetDuration = max(2*time.Second, c.SegmentMin)
	}
	c.TargetDuration = (max(c.TargetDuration, c.SegmentMin) + time.Second - 1).Truncate(time.Second)
	if c.SegmentCount < 7 {
		c.SegmentCount = int((6*c.TargetDuration+c.SegmentMin-1)/c.SegmentMin) + 6
	}
	if c.PartHoldBack == 0 {
		c.PartHoldBack = 3 * c.PartTarget
	}
	if c.PartHoldBack < 2*c.PartTarget {
		c.PartHoldBack = 2 * c.PartTarget
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 5 * time.Second
	}
	return c
}

// Validate reports settings that cannot make valid LL-HLS playlists: a
// negative duration, a part target not below the target duration, a
// part target above the shortest segment, or a target duration set below
// the shortest segment.
func (c Config) Validate() error {
	if c.PartTarget < 0 || c.SegmentMin < 0 || c.TargetDuration < 0 || c.PartHoldBack < 0 || c.ReadyTimeout < 0 {
		return errors.New("hls: durations must not be negative")
	}
	if c.TargetDuration > 0 && c.SegmentMin > c.TargetDuration {
		return fmt.Errorf("hls: the shortest segment (%v) exceeds the target duration (%v)", c.SegmentMin, c.TargetDuration)
	}
	d := c.withDefaults()
	if d.PartTarget >= d.TargetDuration {
		return fmt.Errorf("hls: the part target (%v) must be below the target duration (%v)", d.PartTarget, d.TargetDuration)
	}
	if d.PartTarget > d.SegmentMin {
		return fmt.Errorf("hls: the part target (%v) exceeds the shortest segment (%v)", d.PartTarget, d.SegmentMin)
	}
	return nil
}
