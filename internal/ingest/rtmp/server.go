// Package rtmp owns RTMP ingest: it accepts publishers (OBS, ffmpeg) on
// rtmp://HOST[:port]/live/<streamkey>, checks their stream key through a
// Handler, detects their H.264 (+ optional AAC) tracks as soon as the sequence
// headers arrive, and hands every access unit to the live layer as a
// media.Unit. It never serves RTMP playback.
//
// Classic FLV publishers (onMetaData + AVC and AAC sequence headers) begin as
// soon as both headers are in, or the AVC one when onMetaData lists no audio,
// or after 500 ms of video without an AAC header (video-only). Enhanced-RTMP
// (FourCC) publishers fall back to gortmplib's Reader, which analyses 2 s of
// media first. Anything but H.264 video plus optional AAC audio is refused
// with a log line naming the codec.
//
// A new, different sequence header mid-stream ends the publication with
// ErrParamsChanged: the live layer starts a new epoch when the encoder
// reconnects, instead of every consumer handling a resolution change.
package rtmp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

// Handler is what the server needs from the live layer.
type Handler interface {
	// OnPublish is called after the RTMP publish command, before any media is
	// read. An error refuses the client; the error is logged, so it must not
	// contain the key.
	OnPublish(key string, remote net.Addr) (Publication, error)
}

// Publication receives the media of one accepted publisher.
//
// End is called exactly once for every Publication returned by OnPublish,
// also when Begin was never called (the publisher left or was refused before
// its tracks were known) or when Begin returned an error.
type Publication interface {
	// Begin is called once, when the tracks are known, before the first unit.
	// An error refuses the publisher.
	Begin(tracks media.Tracks) error
	// Write is called for each unit, in order.
	Write(u *media.Unit)
	// End is called when the publisher leaves: nil after a clean unpublish
	// (FCUnpublish, deleteStream or closeStream), ErrConnectionLost when the
	// connection just closed, else the reason (ErrStalled, ErrServerClosed,
	// ErrUnsupportedCodec...).
	End(err error)
	// Done is closed when the consumer ends the publication on its own (the
	// channel was taken off the air): the server then closes the connection
	// and calls End with ErrEndedByConsumer. A nil channel never closes.
	Done() <-chan struct{}
}

// Defaults for the zero values of Server fields.
const (
	DefaultReadTimeout      = 10 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultMaxConns         = 100
)

// Server is the RTMP ingest server. Configure the exported fields, then call
// Start; Close stops it.
type Server struct {
	// Addr is the TCP address to listen on, e.g. ":1935" or "127.0.0.1:0".
	Addr    string
	Handler Handler
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// ReadTimeout closes a publisher that sends nothing for this long.
	ReadTimeout time.Duration
	// HandshakeTimeout bounds everything from TCP accept to the publish
	// command: RTMP handshake, connect, createStream, publish.
	HandshakeTimeout time.Duration
	// MaxConns caps concurrent connections (in any state); further
	// connections are closed at once. 0 means DefaultMaxConns, <0 no limit.
	MaxConns int

	log    *slog.Logger
	ln     net.Listener
	nextID atomic.Uint64
	wg     sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
	conns   map[net.Conn]struct{}
}

// Start listens on Addr and serves connections in the background.
func (s *Server) Start() error {
	if s.Handler == nil {
		return errors.New("rtmp: Server.Handler is nil")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("rtmp: server already started")
	}
	s.applyDefaults()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("rtmp: listen %s: %w", s.Addr, err)
	}
	s.ln = ln
	s.started = true
	s.conns = make(map[net.Conn]struct{})
	s.log.Info("rtmp ingest listening", "addr", ln.Addr().String(), "publish_url", "rtmp://HOST/live/<streamkey>")
	s.wg.Add(1)
	go s.acceptLoop()
	return nil
}

func (s *Server) applyDefaults() {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	s.log = s.Logger.With("component", "rtmp")
	if s.ReadTimeout <= 0 {
		s.ReadTimeout = DefaultReadTimeout
	}
	if s.HandshakeTimeout <= 0 {
		s.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if s.MaxConns == 0 {
		s.MaxConns = DefaultMaxConns
	}
}

// ListenAddr returns the bound address, or nil before Start.
func (s *Server) ListenAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops listening, closes every connection (active publications end
// with ErrServerClosed) and waits for all of the server's goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.started || s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				return
			}
			// Transient errors such as EMFILE: back off like net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Error("rtmp accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.track(nc) {
			continue
		}
		id := s.nextID.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(nc)
			s.serveConn(nc, id)
		}()
	}
}

// track registers nc and reserves its goroutine in the wait group; it
// refuses the connection when the server is closed or full.
func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return false
	}
	if s.MaxConns > 0 && len(s.conns) >= s.MaxConns {
		nc.Close()
		s.log.Warn("rtmp connection refused: too many connections",
			"remote", nc.RemoteAddr().String(), "max_conns", s.MaxConns)
		return false
	}
	s.conns[nc] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(nc net.Conn) {
	nc.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, nc)
}
