//go:build linux

package hls

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxIdleReaders bounds the reader files a blob keeps open between requests.
const maxIdleReaders = 64

var (
	errBlobClosed = errors.New("segment evicted")
	errNoSlot     = errors.New("too many media files open; serving from memory")
)

// blob holds one segment's bytes in an anonymous memory file (memfd). Parts
// are appended back to back, so a part is a range of the blob and the
// segment is all of it. The origin hands these ranges to the kernel with
// sendfile, which moves page references into the socket instead of copying
// every byte for every request; that copy was two thirds of the origin's CPU
// when it served large parts.
//
// sendfile reads from the file's current offset, so concurrent requests each
// need their own open file description: readers reopen the memfd through
// /proc/self/fd and keep a few of those files for reuse.
type blob struct {
	f    *os.File // the memfd; written only by the rendition's muxer
	size int64    // bytes written; owned by the muxer
	path string   // /proc/self/fd/N

	mu     sync.Mutex
	closed bool
	idle   []*os.File
	slots  chan struct{} // the origin's bound on reader files; nil: none
}

func newBlob() (*blob, error) {
	fd, err := unix.MemfdCreate("livehouse-segment", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &blob{f: os.NewFile(uintptr(fd), "memfd:livehouse-segment"), path: "/proc/self/fd/" + strconv.Itoa(fd)}, nil
}

// append writes p at the end of the blob and returns its offset. Only the
// muxer calls it, before the part is published.
func (b *blob) append(p []byte) (int64, error) {
	off := b.size
	if _, err := b.f.WriteAt(p, off); err != nil {
		return 0, err
	}
	b.size += int64(len(p))
	return off, nil
}

// reader returns a file that reads the blob with an offset of its own. The
// caller holds the rendition's read lock, which keeps the memfd open and so
// its descriptor number from being reused while it is reopened. A new file
// takes one of slots, when slots is not nil, or none is opened.
func (b *blob) reader(slots chan struct{}) (*os.File, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errBlobClosed
	}
	if n := len(b.idle); n > 0 {
		f := b.idle[n-1]
		b.idle = b.idle[:n-1]
		b.mu.Unlock()
		return f, nil
	}
	b.slots = slots
	b.mu.Unlock()
	if slots != nil {
		select {
		case slots <- struct{}{}:
		default:
			return nil, errNoSlot
		}
	}
	f, err := os.Open(b.path)
	if err != nil {
		b.release(1)
		return nil, err
	}
	return f, nil
}

// release gives back n reader-file slots.
func (b *blob) release(n int) {
	b.mu.Lock()
	slots := b.slots
	b.mu.Unlock()
	for range n {
		if slots != nil {
			<-slots
		}
	}
}

// put returns a reader file for reuse, or closes it.
func (b *blob) put(f *os.File) {
	b.mu.Lock()
	if !b.closed && len(b.idle) < maxIdleReaders {
		b.idle = append(b.idle, f)
		f = nil
	}
	b.mu.Unlock()
	if f != nil {
		f.Close()
		b.release(1)
	}
}

// close releases the memfd and the idle readers. Readers still sending keep
// their own files and close them when done. The caller holds the rendition's
// write lock.
func (b *blob) close() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	idle := b.idle
	b.idle = nil
	b.mu.Unlock()
	for _, f := range idle {
		f.Close()
	}
	b.release(len(idle))
	b.f.Close()
}

type connKey struct{}

// ConnContext records the TCP connection a request arrives on, so the origin
// can cork it and send media with sendfile. Set it as http.Server.ConnContext;
// without it the origin writes media from memory.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return ctx
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, connKey{}, raw)
}

// canSendfile reports whether a response to r can be sent with sendfile.
func canSendfile(w http.ResponseWriter, r *http.Request) (syscall.RawConn, bool) {
	raw, ok := r.Context().Value(connKey{}).(syscall.RawConn)
	if !ok || r.Method != http.MethodGet {
		return nil, false
	}
	if _, ok := w.(io.ReaderFrom); !ok {
		return nil, false
	}
	return raw, true
}

func cork(raw syscall.RawConn, on bool) {
	v := 0
	if on {
		v = 1
	}
	raw.Control(func(fd uintptr) { //nolint:errcheck // corking only batches packets
		unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, v) //nolint:errcheck
	})
}

// headFile reads head from memory, then the file from its offset. net/http
// reads the first 512 bytes of a ReadFrom body itself before it hands the
// rest to sendfile; head spares that a read system call.
type headFile struct {
	head []byte
	f    *os.File
}

func (h *headFile) Read(p []byte) (int, error) {
	if len(h.head) > 0 {
		n := copy(p, h.head)
		h.head = h.head[n:]
		return n, nil
	}
	return h.f.Read(p)
}

func (h *headFile) SyscallConn() (syscall.RawConn, error) { return h.f.SyscallConn() }

// sendRange writes n bytes of f from off as a 200 response: headers and the
// first bytes from memory (head is the range's start), the rest by sendfile,
// all under TCP_CORK so they leave in full packets. It reports false when it
// wrote nothing and the caller should write from memory instead.
func sendRange(w http.ResponseWriter, raw syscall.RawConn, f *os.File, off, n int64, head []byte) bool {
	head = head[:min(int64(len(head)), n, 512)]
	if _, err := f.Seek(off+int64(len(head)), io.SeekStart); err != nil {
		return false
	}
	cork(raw, true)
	setHeaders(w.Header(), contentTypeMP4, cacheImmutable, int(n))
	w.WriteHeader(http.StatusOK)
	w.(io.ReaderFrom).ReadFrom(&io.LimitedReader{R: &headFile{head: head, f: f}, N: n}) //nolint:errcheck // the client went away
	cork(raw, false)
	return true
}
