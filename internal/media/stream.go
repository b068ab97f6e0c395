package media

import (
	"errors"
	"sync"
)

// ErrSlowReader is returned by Reader.Err when a reader fell so far behind
// that its queue filled and it was dropped, so that it never delays the writer
// or the other readers.
var ErrSlowReader = errors.New("media: reader too slow, dropped")

// ErrStreamClosed is returned by Reader.Err after the stream ended normally.
var ErrStreamClosed = errors.New("media: stream closed")

// Stream fans units from one writer out to any number of readers. Writes never
// block: a reader whose queue is full is closed with ErrSlowReader.
type Stream struct {
	tracks Tracks

	mu      sync.Mutex
	readers map[*Reader]struct{}
	closed  bool
}

// NewStream returns an open stream carrying tracks.
func NewStream(tracks Tracks) *Stream {
	return &Stream{tracks: tracks, readers: make(map[*Reader]struct{})}
}

// Tracks returns the tracks of the stream.
func (s *Stream) Tracks() Tracks { return s.tracks }

// Subscribe returns a reader that receives every unit written from now on.
// queue bounds how many units may wait for the reader. On a closed stream it
// returns a reader that is already closed.
func (s *Stream) Subscribe(queue int) *Reader {
	if queue < 1 {
		queue = 1
	}
	r := &Reader{stream: s, ch: make(chan *Unit, queue), done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		r.finish(ErrStreamClosed)
		return r
	}
	s.readers[r] = struct{}{}
	return r
}

// Write delivers u to every reader. Units must not be modified after Write.
func (s *Stream) Write(u *Unit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for r := range s.readers {
		select {
		case r.ch <- u:
		default:
			delete(s.readers, r)
			r.finish(ErrSlowReader)
		}
	}
}

// Close ends the stream; every reader drains what is queued, then sees
// ErrStreamClosed.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for r := range s.readers {
		r.finish(ErrStreamClosed)
	}
	s.readers = nil
}

// NumReaders returns the number of attached readers.
func (s *Stream) NumReaders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.readers)
}

func (s *Stream) remove(r *Reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.readers[r]; ok {
		delete(s.readers, r)
		r.finish(ErrStreamClosed)
	}
}

// Reader receives the units of a Stream in order.
type Reader struct {
	stream *Stream
	ch     chan *Unit
	done   chan struct{}
	once   sync.Once
	err    error
}

// finish is called with the stream lock held.
func (r *Reader) finish(err error) {
	r.once.Do(func() {
		r.err = err
		close(r.done)
	})
}

// Next returns the next unit. It returns nil, err once the reader is closed
// and its queue is drained (err is ErrStreamClosed or ErrSlowReader), or when
// cancel is closed (err is nil then).
func (r *Reader) Next(cancel <-chan struct{}) (*Unit, error) {
	select {
	case u := <-r.ch:
		return u, nil
	default:
	}
	select {
	case u := <-r.ch:
		return u, nil
	case <-r.done:
		select {
		case u := <-r.ch:
			return u, nil
		default:
			return nil, r.err
		}
	case <-cancel:
		return nil, nil
	}
}

// Close detaches the reader from its stream.
func (r *Reader) Close() { r.stream.remove(r) }
