//go:build linux

package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// rawReaders are the chat benchmark's clients on Linux: plain sockets that
// did the WebSocket handshake and are then read by a few epoll loops, not
// by a goroutine and a WebSocket library each. The clients share the
// server's two cores, so every microsecond they spend per frame is taken
// from the server being measured; a load generator should cost as little as
// it can, as wrk does for HTTP. Frames from a server are unmasked, so a
// reader only needs the frame header to find each message.
type rawReaders struct {
	loops     []*readLoop
	recording atomic.Bool // frames before it is set (welcomes, history) are not counted
	closed    atomic.Bool
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// readLoop is one epoll instance and the sockets it reads.
type readLoop struct {
	ep    int
	mu    sync.Mutex
	conns map[int32]*rawConn
	hist  []int64      // send → receive, per ms up to a minute
	recv  atomic.Int64 // read while the loop runs, by tests
	frame int64
	drop  int64
}

func (l *readLoop) count(ms int) {
	l.hist[ms]++
	l.recv.Add(1)
}

type rawConn struct {
	fd      int
	pending []byte // the start of a frame that has not fully arrived
}

func newRawReaders(loops int) (*rawReaders, error) {
	rr := &rawReaders{}
	for range loops {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			rr.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		rr.loops = append(rr.loops, &readLoop{ep: ep, conns: map[int32]*rawConn{}, hist: make([]int64, 60_001)})
	}
	return rr, nil
}

// dial opens a WebSocket to wsURL, does the handshake and hands the socket
// to loop i.
func (rr *rawReaders) dial(ctx context.Context, wsURL string, i int) error {
	u, err := url.Parse(wsURL)
	if err != nil {
		return err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	defer c.Close() // the loop reads a duplicate of its descriptor
	key := make([]byte, 16)
	rand.Read(key) // never fails (Go 1.24+)
	path := u.RequestURI()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	c.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	br := bufio.NewReaderSize(c, 4096)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("handshake: %s", res.Status)
	}
	// Frames may have followed the response into the buffer.
	early, _ := br.Peek(br.Buffered())
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return err
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return err
	}
	l := rr.loops[i%len(rr.loops)]
	rc := &rawConn{fd: fd, pending: append([]byte(nil), early...)}
	l.mu.Lock()
	l.conns[int32(fd)] = rc
	l.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.mu.Lock()
		delete(l.conns, int32(fd))
		l.mu.Unlock()
		unix.Close(fd)
		return fmt.Errorf("epoll add: %w", err)
	}
	return nil
}

// start runs the loops until close.
func (rr *rawReaders) start() {
	for _, l := range rr.loops {
		rr.wg.Add(1)
		go func() {
			defer rr.wg.Done()
			rr.run(l)
		}()
	}
}

func (rr *rawReaders) run(l *readLoop) {
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 256<<10)
	for !rr.closed.Load() {
		n, err := unix.EpollWait(l.ep, events, 100)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		now := time.Now().UnixNano()
		for _, ev := range events[:n] {
			l.mu.Lock()
			c := l.conns[ev.Fd]
			l.mu.Unlock()
			if c == nil {
				continue
			}
			if !rr.readAll(l, c, buf, now) {
				unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, c.fd, nil) //nolint:errcheck
				l.mu.Lock()
				delete(l.conns, ev.Fd)
				l.mu.Unlock()
				unix.Close(c.fd)
				if !rr.closed.Load() {
					l.drop++
				}
			}
		}
	}
}

// readAll reads what the socket holds and counts its frames' messages. It
// reports false when the connection ended.
func (rr *rawReaders) readAll(l *readLoop, c *rawConn, buf []byte, now int64) bool {
	for {
		n, err := unix.Read(c.fd, buf)
		if n > 0 {
			data := buf[:n]
			if len(c.pending) > 0 {
				c.pending = append(c.pending, data...)
				data = c.pending
			}
			rest, ok := rr.frames(l, data, now)
			if !ok {
				return false
			}
			c.pending = append(c.pending[:0], rest...)
		}
		switch {
		case err == unix.EAGAIN:
			return true
		case err == unix.EINTR:
			continue
		case err != nil || n == 0:
			return false
		}
	}
}

// frames handles the complete frames at the start of data and returns the
// incomplete rest. A close frame or a masked one ends the connection.
func (rr *rawReaders) frames(l *readLoop, data []byte, now int64) ([]byte, bool) {
	for len(data) >= 2 {
		op, b1 := data[0]&0x0f, data[1]
		if b1&0x80 != 0 {
			return nil, false // servers never mask
		}
		size, head := uint64(b1&0x7f), 2
		switch size {
		case 126:
			if len(data) < 4 {
				return data, true
			}
			size, head = uint64(binary.BigEndian.Uint16(data[2:4])), 4
		case 127:
			if len(data) < 10 {
				return data, true
			}
			size, head = binary.BigEndian.Uint64(data[2:10]), 10
		}
		if size > 16<<20 {
			return nil, false // no benchmark frame is near this; the stream is broken
		}
		if uint64(len(data)-head) < size {
			return data, true
		}
		payload := data[head : head+int(size)]
		data = data[head+int(size):]
		switch op {
		case 0x8: // close
			return nil, false
		case 0x1, 0x0:
			if rr.recording.Load() {
				l.frame++
				forEachSendTime(payload, now, l.count)
			}
		}
	}
	return data, true
}

// report sums the loops' counts. Call it after close.
func (rr *rawReaders) report() (hist []int64, received, frames, dropped int64) {
	hist = make([]int64, 60_001)
	for _, l := range rr.loops {
		for i, v := range l.hist {
			hist[i] += v
		}
		received += l.recv.Load()
		frames += l.frame
		dropped += l.drop
	}
	return hist, received, frames, dropped
}

// close stops the loops and closes every socket.
func (rr *rawReaders) close() {
	rr.closeOnce.Do(func() {
		rr.closed.Store(true)
		rr.wg.Wait()
		for _, l := range rr.loops {
			for _, c := range l.conns {
				unix.Close(c.fd)
			}
			unix.Close(l.ep)
		}
	})
}

// chatClientsRaw is ChatClients on epoll readers: it connects n readers
// over urls, prints "ready", and on end of stdin prints the JSON report.
func chatClientsRaw(ctx context.Context, urls []string, n int, out io.Writer) error {
	rr, err := newRawReaders(runtime.GOMAXPROCS(0))
	if err != nil {
		return err
	}
	defer rr.close()
	rr.start()
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	var dialErr atomic.Value
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := rr.dial(ctx, urls[i%len(urls)], i); err != nil {
				dialErr.Store(err)
			}
		}()
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	// Skip the welcome frames and any history.
	time.Sleep(time.Second)
	rr.recording.Store(true)
	cpu0, wall0 := processCPU(), time.Now()
	fmt.Fprintln(out, "ready")
	io.Copy(io.Discard, os.Stdin) //nolint:errcheck
	cpu := (processCPU() - cpu0).Seconds() / time.Since(wall0).Seconds()
	rr.close()
	hist, received, frames, dropped := rr.report()
	return writeChatReport(out, hist, chatReport{Received: received, Frames: frames, Dropped: dropped, CPU: cpu})
}

// rawReadersSupported reports whether the epoll readers run here.
func rawReadersSupported() bool { return os.Getenv("LIVEHOUSE_BENCH_CHAT_GOROUTINE_CLIENTS") == "" }
