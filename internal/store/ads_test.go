package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"
)

// Starts of one channel's ad break that race (two nodes' schedulers, a
// double click answered by two nodes) store one running break; the rest
// get ErrExists. The end of a break is claimed once, and only once it has
// ended.
func TestAdBreakStartAndEndClaimAreOnceUnderRaces(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ch, _, err := s.CreateChannelWith(ctx, NewChannel{Slug: "breaks"})
		if err != nil {
			t.Fatal(err)
		}
		// Open the pool's connections first, so the racers do not queue on
		// dialling and really overlap (leaving the ones the store's own
		// goroutines hold, such as the SQLite checkpointer's).
		st := s.db.Stats()
		var conns []*sql.Conn
		for range min(16, st.MaxOpenConnections-st.InUse) {
			c, err := s.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			_ = c.Close()
		}

		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var started []AdBreak
		others := 0
		gate := make(chan struct{})
		for range 16 {
			wg.Go(func() {
				<-gate
				b, err := s.StartAdBreak(ctx, AdBreak{ChannelID: ch.ID, CreativeID: "crv", CPM: 1000, StartsAt: start, EndsAt: start.Add(time.Minute)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					started = append(started, b)
				case errors.Is(err, ErrExists):
					others++
				default:
					t.Errorf("a racing start: %v", err)
				}
			})
		}
		close(gate)
		wg.Wait()
		if len(started) != 1 || others != 15 {
			t.Fatalf("16 racing starts stored %d breaks (%d refused with ErrExists), want 1", len(started), others)
		}
		if bs, err := s.RunningAdBreaks(ctx); err != nil || len(bs) != 1 {
			t.Fatalf("running breaks: %d, %v; want 1", len(bs), err)
		}

		id := started[0].ID
		for _, tc := range []struct {
			name string
			at   time.Time
			want bool
		}{
			{"before the end", start.Add(59 * time.Second), false},
			{"at the end", start.Add(time.Minute), true},
			{"again", start.Add(time.Minute + time.Second), false},
		} {
			if mine, err := s.ClaimAdBreakEnd(ctx, id, tc.at); mine != tc.want || err != nil {
				t.Errorf("claim %s: %v, %v; want %v", tc.name, mine, err, tc.want)
			}
		}
		if b, err := s.AdBreakByID(ctx, id); err != nil || !b.EndAnnounced {
			t.Errorf("break after its end was claimed = %+v, %v", b, err)
		}
		if mine, err := s.ClaimAdBreakEnd(ctx, "brk_none", start.Add(time.Hour)); mine || err != nil {
			t.Errorf("claiming an unknown break: %v, %v", mine, err)
		}
	})
}
