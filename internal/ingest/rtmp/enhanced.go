package rtmp

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/livehouse/livehouse/internal/media"
)

// runEnhanced serves an Enhanced-RTMP (FourCC) publisher through gortmplib's
// Reader. Only H.264 (+ AAC) gets this far (other FourCCs are refused by the
// detector), and the Reader's 2 s analysis delays Begin: the price of a rare
// path. Mid-stream sequence-header changes are not detected here.
func (s *session) runEnhanced(replay []message.Message, metaFPS float64) error {
	s.mc.replay = replay
	r := &gortmplib.Reader{Conn: s.mc}
	if err := r.Initialize(); err != nil {
		if s.isSessionErr(err) {
			return err
		}
		return fmt.Errorf("%w: Enhanced-RTMP track detection: %w", ErrBadStream, err)
	}
	tracks, vt, at, err := enhancedTracks(r.Tracks(), metaFPS)
	if err != nil {
		return err
	}
	if err := s.begin(tracks); err != nil {
		return err
	}

	conv := newUnitConverter(tracks)
	var convErr error
	emit := func(u *media.Unit, err error) {
		if convErr == nil && err != nil {
			convErr = err
		}
		if convErr == nil && u != nil {
			s.pub.Write(u)
			s.units++
		}
	}
	r.OnDataH264(vt, func(pts, dts time.Duration, au [][]byte) {
		if onlyParameterSets(au) {
			return // a sequence header replayed as an AU by the Reader
		}
		emit(conv.videoAU(dts, pts, au, time.Now()))
	})
	if at != nil {
		r.OnDataMPEG4Audio(at, func(pts time.Duration, au []byte) {
			emit(conv.audioFrame(pts, au, time.Now()))
		})
	}
	for {
		if err := r.Read(); err != nil {
			if s.isSessionErr(err) {
				return err
			}
			return fmt.Errorf("%w: %w", ErrBadStream, err)
		}
		if convErr != nil {
			return convErr
		}
	}
}

// isSessionErr reports whether err came from msgConn (and so already carries
// its meaning) rather than from the Reader's own analysis.
func (s *session) isSessionErr(err error) bool {
	return s.mc.err != nil && errors.Is(err, s.mc.err)
}

// enhancedTracks accepts exactly one H.264 track and at most one AAC track.
func enhancedTracks(list []*gortmplib.Track, metaFPS float64) (media.Tracks, *gortmplib.Track, *gortmplib.Track, error) {
	var t media.Tracks
	var vt, at *gortmplib.Track
	for _, tr := range list {
		switch c := tr.Codec.(type) {
		case *codecs.H264:
			if vt != nil {
				return t, nil, nil, fmt.Errorf("%w: more than one video track", ErrBadStream)
			}
			v, err := h264FromParams(c.SPS, c.PPS, metaFPS)
			if err != nil {
				return t, nil, nil, err
			}
			t.Video, vt = v, tr
		case *codecs.MPEG4Audio:
			if at != nil {
				return t, nil, nil, fmt.Errorf("%w: more than one audio track", ErrBadStream)
			}
			a, err := aacFromConfig(c.Config)
			if err != nil {
				return t, nil, nil, err
			}
			t.Audio, at = a, tr
		default:
			kind := "audio"
			if tr.Codec.IsVideo() {
				kind = "video"
			}
			return t, nil, nil, &UnsupportedCodecError{Track: kind, Codec: gortmplibCodecName(tr.Codec)}
		}
	}
	if t.Video == nil {
		return t, nil, nil, ErrNoVideo
	}
	return t, vt, at, nil
}

func gortmplibCodecName(c codecs.Codec) string {
	id := c.ID()
	switch {
	case id > 0xff:
		return fourCCName(message.FourCC(id))
	case c.IsVideo():
		return videoCodecName(id)
	default:
		return audioCodecName(id)
	}
}

func onlyParameterSets(au [][]byte) bool {
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS, h264.NALUTypePPS:
		default:
			return false
		}
	}
	return true
}
