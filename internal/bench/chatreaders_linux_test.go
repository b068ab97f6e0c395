//go:build linux

package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsFrame encodes an unmasked server frame.
func wsFrame(op byte, payload []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126, 0, 0)
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	return append(b, payload...)
}

func benchMessages(now time.Time, ages ...time.Duration) []byte {
	var parts []string
	for _, a := range ages {
		parts = append(parts, fmt.Sprintf(`{"seq":1,"type":"chat.message","text":"t=%d"}`, now.Add(-a).UnixNano()))
	}
	return []byte("[" + strings.Join(parts, ",") + "]")
}

func newTestLoop() (*rawReaders, *readLoop) {
	rr := &rawReaders{}
	rr.recording.Store(true)
	l := &readLoop{hist: make([]int64, 60_001)}
	return rr, l
}

func TestRawReaderFramesInAnySplit(t *testing.T) {
	now := time.Now()
	big := benchMessages(now, make([]time.Duration, 3000)...) // over 64 KiB: a 127-length header
	small := bytes.Join([][]byte{
		wsFrame(0x1, benchMessages(now, 5*time.Millisecond)),
		wsFrame(0x1, benchMessages(now, 7*time.Millisecond, 9*time.Millisecond)),
		wsFrame(0x1, bytes.Repeat([]byte("x"), 300)), // a 126-length header, no messages
	}, nil)
	stream := append(append([]byte(nil), small...), wsFrame(0x1, big)...)
	for _, tc := range []struct {
		stream          []byte
		split           int
		frames, records int64
	}{
		{small, 1, 3, 3}, {small, 2, 3, 3}, {small, 3, 3, 3}, {small, 7, 3, 3},
		{stream, 100, 4, 3003}, {stream, 4096, 4, 3003}, {stream, len(stream), 4, 3003},
	} {
		stream, split := tc.stream, tc.split
		rr, l := newTestLoop()
		c := &rawConn{}
		for off := 0; off < len(stream); off += split {
			data := append(c.pending, stream[off:min(off+split, len(stream))]...)
			rest, ok := rr.frames(l, data, now.UnixNano())
			if !ok {
				t.Fatalf("split %d: the stream was refused", split)
			}
			c.pending = append([]byte(nil), rest...)
		}
		if len(c.pending) != 0 || l.frame != tc.frames || l.recv.Load() != tc.records {
			t.Errorf("split %d: %d frames, %d messages, %d bytes left; want %d, %d, 0", split, l.frame, l.recv.Load(), len(c.pending), tc.frames, tc.records)
		}
		if l.hist[5]+l.hist[4]+l.hist[6] == 0 || l.hist[9]+l.hist[8]+l.hist[10] == 0 {
			t.Errorf("split %d: latencies not where they were sent", split)
		}
	}
}

func TestRawReaderRefusesBrokenStreams(t *testing.T) {
	for name, data := range map[string][]byte{
		"masked":   {0x81, 0x85, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'},
		"close":    wsFrame(0x8, []byte{0x03, 0xe8}),
		"too long": {0x81, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		rr, l := newTestLoop()
		if _, ok := rr.frames(l, data, time.Now().UnixNano()); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzRawReaderFrames(f *testing.F) {
	f.Add(wsFrame(0x1, benchMessages(time.Now(), time.Millisecond)), 3)
	f.Add([]byte{0x81, 126, 0xff}, 1)
	f.Fuzz(func(t *testing.T, stream []byte, split int) {
		if split <= 0 {
			split = 1
		}
		whole, wl := newTestLoop()
		wrest, wok := whole.frames(wl, append([]byte(nil), stream...), 0)
		rr, l := newTestLoop()
		var pending []byte
		ok := true
		for off := 0; off < len(stream) && ok; off += split {
			var rest []byte
			rest, ok = rr.frames(l, append(pending, stream[off:min(off+split, len(stream))]...), 0)
			pending = append([]byte(nil), rest...)
		}
		if ok != wok || (ok && (l.frame != wl.frame || l.recv.Load() != wl.recv.Load() || !bytes.Equal(pending, wrest))) {
			t.Fatalf("split %d: %v %d %d, whole: %v %d %d", split, ok, l.frame, l.recv.Load(), wok, wl.frame, wl.recv.Load())
		}
	})
}

// TestRawReadersReadARealServer has the epoll readers handshake with a
// coder/websocket server and count what it sends.
func TestRawReadersReadARealServer(t *testing.T) {
	sent := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-sent
		for range 3 {
			c.Write(r.Context(), websocket.MessageText, benchMessages(time.Now(), 0, 0)) //nolint:errcheck
		}
		c.Read(r.Context()) //nolint:errcheck // until the reader goes
	}))
	defer srv.Close()
	rr, err := newRawReaders(2)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.close()
	rr.start()
	rr.recording.Store(true)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for i := range 4 {
		if err := rr.dial(context.Background(), url, i); err != nil {
			t.Fatal(err)
		}
	}
	close(sent)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var recv int64
		for _, l := range rr.loops {
			recv += l.recv.Load()
		}
		if recv == 4*3*2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages counted, want 24", recv)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := rr.dial(context.Background(), strings.Replace(url, "ws://", "ws://127.0.0.1:1/", 1), 0); err == nil {
		t.Error("dial to a closed port succeeded")
	}
}
