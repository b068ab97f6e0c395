package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Under sustained writes beside readers, the checkpointer copies the log
// into the database and restarts it, so the log stays about restartFrames
// long instead of growing (connections have wal_autocheckpoint off); a
// closed store leaves an empty log and every row is there.
func TestCheckpointerKeepsTheLogShortAndEmptiesItOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lh.db")
	s := openTestStore(t, path)
	ctx := t.Context()
	ch := mustChannel(t, s, "ckpt", "", Profile{})
	payload := strings.Repeat("x", 3000) // about a page per event

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var werr error
	var wmu sync.Mutex
	written := 0
	// loop runs fn on its own goroutine until stop closes.
	loop := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					fn()
				}
			}
		}()
	}
	for range 4 {
		loop(func() {
			evs := make([]RoomEvent, 10)
			for i := range evs {
				evs[i] = RoomEvent{Kind: "chat", MediaMS: -1, CreatedAt: time.Now(), Payload: payload}
			}
			_, err := s.AppendRoomEvents(ctx, ch.ID, evs)
			wmu.Lock()
			if err != nil && werr == nil {
				werr = err
			}
			written += len(evs)
			wmu.Unlock()
		})
	}
	for range 4 { // readers keep snapshots open throughout
		loop(func() {
			var n int
			s.db.QueryRowContext(ctx, `SELECT count(*) FROM room_events`).Scan(&n)
		})
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if errors.Is(err, fs.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	var sizes []int64
	deadline := time.Now().Add(60 * time.Second)
	for s.ckpt.restartCount() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		sizes = append(sizes, walSize())
	}
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	if n := s.ckpt.restartCount(); n < 3 {
		t.Fatalf("%d log restarts in 60 s of writes, want 3 (log at %d bytes)", n, walSize())
	}
	// The log is reused from its start after a restart, so its file stays
	// near restartFrames pages (plus what is written while a pass runs).
	if max := slices.Max(sizes); max > 4*restartFrames*4096 {
		t.Errorf("the log reached %d bytes, want under %d", max, 4*restartFrames*4096)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := walSize(); n != 0 {
		t.Errorf("log is %d bytes after Close, want 0 (truncated)", n)
	}
	s2 := openTestStore(t, path)
	var n int
	if err := s2.db.QueryRowContext(ctx, `SELECT count(*) FROM room_events WHERE channel_id = $1`, ch.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != written {
		t.Errorf("%d events after reopening, want %d", n, written)
	}
}

func TestSortedIDsSortByTimeAndStayUnique(t *testing.T) {
	base := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var ids []string
	seen := map[string]bool{}
	for i := range 1000 {
		at := base.Add(time.Duration(i/10) * time.Microsecond) // ten per instant
		id := newSortedID("txn", at)
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	for i := 10; i < len(ids); i++ {
		if ids[i-10] >= ids[i] {
			t.Fatalf("id %d (%s) does not sort after id %d (%s), made a microsecond earlier", i, ids[i], i-10, ids[i-10])
		}
	}
	if !strings.HasPrefix(ids[0], "txn_") {
		t.Errorf("id %q: want the txn_ prefix", ids[0])
	}
}
