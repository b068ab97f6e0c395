package media

import (
	"errors"
	"testing"
)

func TestStreamDeliversInOrderToEveryReader(t *testing.T) {
	s := NewStream(Tracks{Video: &H264{}})
	a, b := s.Subscribe(10), s.Subscribe(10)
	for i := range 5 {
		s.Write(&Unit{Kind: KindVideo, DTS: int64(i)})
	}
	s.Close()
	for _, r := range []*Reader{a, b} {
		for i := range 5 {
			u, err := r.Next(nil)
			if err != nil || u.DTS != int64(i) {
				t.Fatalf("unit %d: got %v, %v", i, u, err)
			}
		}
		if _, err := r.Next(nil); !errors.Is(err, ErrStreamClosed) {
			t.Fatalf("after close: err = %v, want ErrStreamClosed", err)
		}
	}
}

func TestSlowReaderIsDroppedWithoutBlockingOthers(t *testing.T) {
	s := NewStream(Tracks{Video: &H264{}})
	slow, fast := s.Subscribe(2), s.Subscribe(100)
	for i := range 10 {
		s.Write(&Unit{DTS: int64(i)})
	}
	if n := s.NumReaders(); n != 1 {
		t.Fatalf("readers = %d, want 1 (slow one dropped)", n)
	}
	for range 2 {
		if _, err := slow.Next(nil); err != nil {
			t.Fatalf("queued units must still drain: %v", err)
		}
	}
	if _, err := slow.Next(nil); !errors.Is(err, ErrSlowReader) {
		t.Fatalf("err = %v, want ErrSlowReader", err)
	}
	for i := range 10 {
		if u, _ := fast.Next(nil); u.DTS != int64(i) {
			t.Fatalf("fast reader lost unit %d", i)
		}
	}
}

func TestReaderNextReturnsOnCancel(t *testing.T) {
	s := NewStream(Tracks{})
	r := s.Subscribe(1)
	cancel := make(chan struct{})
	close(cancel)
	if u, err := r.Next(cancel); u != nil || err != nil {
		t.Fatalf("got %v, %v; want nil, nil", u, err)
	}
	r.Close()
	if s.NumReaders() != 0 {
		t.Fatal("closed reader still attached")
	}
}
