package rtmp

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"
)

// statusWriteTimeout bounds the best-effort onStatus sent before closing.
const statusWriteTimeout = time.Second

// serveConn runs one TCP connection from accept to close.
func (s *Server) serveConn(nc net.Conn, id uint64) {
	log := s.log.With("conn", id, "remote", nc.RemoteAddr().String())
	accepted := time.Now()
	sniff := &sniffConn{Conn: nc}
	sc := &gortmplib.ServerConn{RW: sniff}

	_ = nc.SetDeadline(accepted.Add(s.HandshakeTimeout))
	if err := sc.Initialize(); err != nil {
		log.Warn("rtmp connection closed: handshake/connect failed", "reason", s.setupFailure(err, sniff))
		return
	}
	if err := sc.AcceptConn(); err != nil {
		log.Warn("rtmp connection closed: no publish command", "reason", s.setupFailure(err, sniff))
		return
	}
	if !sc.Publish {
		log.Warn("rtmp play request refused: Livehouse does not serve RTMP playback, watch via HLS")
		writeStatus(nc, sc, "NetStream.Play.Failed", "RTMP playback is not supported here; watch the stream via HLS")
		return
	}
	key, err := streamKeyFromURL(sc.URL)
	if err != nil {
		log.Warn("rtmp publish refused", "reason", err)
		writeStatus(nc, sc, "NetStream.Publish.BadName", err.Error())
		return
	}
	pub, err := s.Handler.OnPublish(key, nc.RemoteAddr())
	if err != nil {
		log.Warn("rtmp publish refused by handler", "reason", err)
		writeStatus(nc, sc, "NetStream.Publish.Unauthorized", "publish refused: invalid stream key or stream already live")
		return
	}
	log.Debug("rtmp publish accepted, waiting for tracks")
	s.runPublication(nc, sc, pub, log, accepted)
}

// runPublication serves an accepted publisher; it always ends pub.
func (s *Server) runPublication(nc net.Conn, sc *gortmplib.ServerConn, pub Publication,
	log *slog.Logger, accepted time.Time,
) {
	// Close the connection as soon as the consumer ends the publication:
	// that unblocks the read, which then classifies as ErrEndedByConsumer.
	var ended atomic.Bool
	finished := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-pub.Done():
			ended.Store(true)
			_ = nc.Close()
		case <-finished:
		}
	}()
	defer func() { close(finished); <-watched }()
	mc := &msgConn{sc: sc, nc: nc, timeout: s.ReadTimeout, closing: s.isClosed, ended: ended.Load}
	_ = nc.SetDeadline(time.Now().Add(s.ReadTimeout))
	ses := &session{mc: mc, pub: pub, log: log, accepted: accepted}
	err := sc.AcceptAction()
	if err == nil {
		err = ses.run()
	} else {
		err = mc.classify(err)
	}

	switch {
	case err == nil, errors.Is(err, errUnpublished):
		err = nil
		log.Info("rtmp publish ended", "reason", "publisher left", "units", ses.units, "began", ses.begun)
	case errors.Is(err, ErrConnectionLost):
		// No FCUnpublish/deleteStream: the encoder crashed or the network
		// dropped, so the live layer may wait for it to come back.
		log.Info("rtmp publish ended", "reason", err, "units", ses.units, "began", ses.begun)
	case errors.Is(err, ErrServerClosed), errors.Is(err, ErrEndedByConsumer):
		log.Info("rtmp publish ended", "reason", err, "units", ses.units)
	case !ses.begun && isRefusal(err):
		log.Warn("rtmp publisher refused", "reason", err)
		writeStatus(nc, sc, "NetStream.Publish.Rejected", err.Error())
	default:
		log.Warn("rtmp publish ended with error", "reason", err, "units", ses.units)
		writeStatus(nc, sc, "NetStream.Publish.Failed", err.Error())
	}
	pub.End(err)
}

// isRefusal reports errors that reject what the publisher sends (as opposed
// to connection failures).
func isRefusal(err error) bool {
	for _, target := range []error{ErrUnsupportedCodec, ErrNoVideo, ErrBadStream, errTracksRefused} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// streamKeyFromURL extracts <streamkey> from rtmp://HOST/live/<streamkey>.
// Its errors never contain the key.
func streamKeyFromURL(u *url.URL) (string, error) {
	const hint = "publish URL must be rtmp://HOST/live/<streamkey> (OBS: server rtmp://HOST/live, key separately)"
	if u == nil {
		return "", errors.New(hint)
	}
	app, key, ok := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	switch {
	case !ok || app != "live":
		return "", errors.New("wrong application: " + hint)
	case key == "":
		return "", errors.New("missing stream key: " + hint)
	case strings.Contains(key, "/"):
		return "", errors.New("stream key contains '/': " + hint)
	}
	return key, nil
}

// setupFailure describes why a connection failed before publishing, in words
// an operator can act on, without echoing client data (which could hold a key).
func (s *Server) setupFailure(err error, sniff *sniffConn) string {
	sniff.fill()
	if d := describeGarbage(sniff.head); d != "" {
		return d
	}
	var ne net.Error
	switch {
	case s.isClosed():
		return "server closed"
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("timed out after %s (handshake, connect and publish must complete within HandshakeTimeout)",
			s.HandshakeTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "client closed the connection mid-handshake (truncated RTMP handshake)"
	}
	return redact(err)
}

// describeGarbage recognises common non-RTMP clients from their first bytes.
func describeGarbage(head []byte) string {
	if len(head) == 0 || head[0] == 3 || head[0] == 6 {
		return ""
	}
	for _, m := range []string{"GET ", "POST", "HEAD", "PUT ", "OPTI", "PRI ", "DELE", "CONN"} {
		if strings.HasPrefix(string(head), m) {
			return "not an RTMP client: received an HTTP request on the RTMP port"
		}
	}
	if len(head) >= 2 && head[0] == 0x16 && head[1] == 0x03 {
		return "not an RTMP client: received a TLS handshake (rtmps:// is not served on this port)"
	}
	return fmt.Sprintf("not an RTMP client: first byte 0x%02x is not RTMP version 3", head[0])
}

// redact drops the message dumps gortmplib appends to connect errors; a
// misconfigured client may have put its key in tcUrl.
func redact(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, "{["); i >= 0 {
		msg = strings.TrimRight(msg[:i], ": ") + " (details redacted)"
	}
	return msg
}

// writeStatus sends a best-effort onStatus error before the connection is
// closed, so that ffmpeg/OBS show why.
func writeStatus(nc net.Conn, sc *gortmplib.ServerConn, code, desc string) {
	_ = nc.SetWriteDeadline(time.Now().Add(statusWriteTimeout))
	_ = sc.Write(&message.CommandAMF0{
		ChunkStreamID:   5,
		MessageStreamID: 0x1000000,
		Name:            "onStatus",
		Arguments: []any{
			nil,
			amf0.Object{
				{Key: "level", Value: "error"},
				{Key: "code", Value: code},
				{Key: "description", Value: desc},
			},
		},
	})
}

// sniffConn remembers the first bytes received, to describe garbage clients,
// and keeps TCP quick-ACK armed during the setup (see quickAck).
type sniffConn struct {
	net.Conn
	head []byte
	read int // bytes read so far
}

// quickAckBytes bounds the quick-ACK re-arming to the setup: handshake,
// connect, publish, metadata, sequence headers and the first key frame.
// Once media flows, the syscall per read is pure cost.
const quickAckBytes = 256 << 10

const sniffLen = 8

// fill reads what a non-RTMP client already sent beyond the one version byte
// the handshake consumed, so that it can be recognised.
func (c *sniffConn) fill() {
	if len(c.head) != 1 || c.head[0] == 3 || c.head[0] == 6 {
		return
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, sniffLen-1)
	n, _ := io.ReadAtLeast(c.Conn, buf, len(buf))
	c.head = append(c.head, buf[:n]...)
}

func (c *sniffConn) Read(p []byte) (int, error) {
	if c.read < quickAckBytes {
		quickAck(c.Conn)
	}
	n, err := c.Conn.Read(p)
	c.read += n
	if len(c.head) < sniffLen && n > 0 {
		c.head = append(c.head, p[:min(n, sniffLen-len(c.head))]...)
	}
	return n, err
}
