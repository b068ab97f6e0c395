package rtmp

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/message"

	"github.com/livehouse/livehouse/internal/media"
)

var (
	// errUnpublished: the publisher sent FCUnpublish, deleteStream or closeStream.
	errUnpublished = errors.New("rtmp: publisher unpublished")
	// errTracksRefused wraps the error of Publication.Begin.
	errTracksRefused = errors.New("rtmp: live layer refused the tracks")
)

// msgConn is the message source of a publisher: it arms the stall deadline
// before each read, replays messages already consumed by track detection,
// turns unpublish commands into errUnpublished and gives read errors their
// meaning. It implements gortmplib.Conn for the Enhanced-RTMP fallback.
type msgConn struct {
	sc      *gortmplib.ServerConn
	nc      net.Conn
	timeout time.Duration
	closing func() bool
	ended   func() bool // the consumer ended the publication
	replay  []message.Message
	err     error // last error returned by Read
}

var _ gortmplib.Conn = (*msgConn)(nil)

func (c *msgConn) Read() (message.Message, error) {
	if len(c.replay) > 0 {
		m := c.replay[0]
		c.replay[0] = nil
		c.replay = c.replay[1:]
		return m, nil
	}
	_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	m, err := c.sc.Read()
	if err != nil {
		c.err = c.classify(err)
		return nil, c.err
	}
	if cmd, ok := m.(*message.CommandAMF0); ok {
		switch cmd.Name {
		case "FCUnpublish", "deleteStream", "closeStream":
			c.err = errUnpublished
			return nil, c.err
		}
	}
	return m, nil
}

func (c *msgConn) Write(m message.Message) error { return c.sc.Write(m) }
func (c *msgConn) BytesReceived() uint64         { return c.sc.BytesReceived() }
func (c *msgConn) BytesSent() uint64             { return c.sc.BytesSent() }

// classify maps a read error to the error the publication ends with.
func (c *msgConn) classify(err error) error {
	var ne net.Error
	switch {
	case c.closing():
		return ErrServerClosed
	case c.ended != nil && c.ended():
		return ErrEndedByConsumer
	case errors.Is(err, io.EOF):
		return ErrConnectionLost
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w (%w)", ErrConnectionLost, err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: no data received for %s", ErrStalled, c.timeout)
	}
	if cerr := codecErrorFromReadErr(err); cerr != nil {
		return cerr
	}
	return fmt.Errorf("rtmp read: %w", err)
}

// session turns the messages of one accepted publisher into a Publication.
type session struct {
	mc       *msgConn
	pub      Publication
	log      *slog.Logger
	accepted time.Time

	begun       bool
	units       int64
	warnedAudio bool
}

func (s *session) run() error {
	var det trackDetector
	for {
		msg, err := s.mc.Read()
		if err != nil {
			return err
		}
		st, err := det.push(msg, time.Now())
		if err != nil {
			return err
		}
		switch st {
		case detectEnhanced:
			return s.runEnhanced(det.pending, det.meta.fps)
		case detectReady:
			return s.runClassic(&det)
		}
	}
}

// runClassic serves a classic FLV publisher (H.264 + optional AAC tags).
func (s *session) runClassic(det *trackDetector) error {
	tracks := det.tracks()
	if tracks.Audio == nil && !det.meta.noAudio() {
		s.log.Warn("rtmp: no AAC sequence header within the wait, starting video-only", "wait", audioWait)
	}
	if err := s.begin(tracks); err != nil {
		return err
	}
	conv := newUnitConverter(tracks)
	pending := det.pending
	det.pending = nil
	for i, m := range pending {
		pending[i] = nil
		if err := s.deliver(conv, m, time.Now()); err != nil {
			return err
		}
	}
	for {
		m, err := s.mc.Read()
		if err != nil {
			return err
		}
		if err := s.deliver(conv, m, time.Now()); err != nil {
			return err
		}
	}
}

func (s *session) deliver(conv *unitConverter, msg message.Message, now time.Time) error {
	var u *media.Unit
	var err error
	switch m := msg.(type) {
	case *message.Video:
		u, err = conv.video(m, now)
	case *message.Audio:
		if conv.tracks.Audio == nil && !s.warnedAudio {
			s.warnedAudio = true
			s.log.Warn("rtmp: audio arrived after the tracks were fixed as video-only; ignoring audio")
		}
		u, err = conv.audio(m, now)
	case *message.VideoExSequenceStart, *message.VideoExCodedFrames, *message.VideoExFramesX,
		*message.VideoExMultitrack, *message.AudioExSequenceStart, *message.AudioExCodedFrames,
		*message.AudioExMultitrack, *message.AudioExMultichannelConfig:
		return fmt.Errorf("%w: Enhanced-RTMP message after classic FLV tracks", ErrBadStream)
	}
	if err != nil {
		return err
	}
	if u != nil {
		s.pub.Write(u)
		s.units++
	}
	return nil
}

func (s *session) begin(t media.Tracks) error {
	if err := s.pub.Begin(t); err != nil {
		return fmt.Errorf("%w: %w", errTracksRefused, err)
	}
	s.begun = true
	audio := "none"
	if t.Audio != nil {
		audio = fmt.Sprintf("AAC %d Hz %dch", t.Audio.SampleRate, t.Audio.Channels)
	}
	s.log.Info("rtmp publish started",
		"video", fmt.Sprintf("H.264 %dx%d", t.Video.Width, t.Video.Height), "fps", t.Video.FPS,
		"audio", audio, "since_connect", time.Since(s.accepted).Round(time.Millisecond))
	return nil
}
