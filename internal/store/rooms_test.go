package store

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestConcurrentRoomAppendsGetUniqueConsecutiveSeqs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "busy", "", Profile{})
		var mu sync.Mutex
		var seqs []int64
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					evs, err := s.AppendRoomEvents(ctx, ch.ID, []RoomEvent{{Kind: "chat", MediaMS: -1, Payload: fmt.Sprintf(`{"type":"chat","g":%d}`, g)}})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					seqs = append(seqs, evs[0].Seq)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for i, q := range seqs {
			if q != int64(i+1) {
				t.Fatalf("seqs are not 1..200 without gaps or repeats: position %d holds %d", i, q)
			}
		}
		if last, _ := s.RoomLastSeq(ctx, ch.ID); last != 200 {
			t.Errorf("last seq = %d", last)
		}
		got, _ := s.RoomEventsAfter(ctx, ch.ID, 195, 10)
		if len(got) != 5 || got[0].Seq != 196 {
			t.Errorf("events after 195 = %d from %v", len(got), got)
		}
		before, _ := s.RoomEventsBefore(ctx, ch.ID, 0, 3)
		if len(before) != 3 || before[0].Seq != 198 || before[2].Seq != 200 {
			t.Errorf("newest 3 = %+v", before)
		}
	})
}

func TestVotesCountOncePerAccountAndNotAfterClose(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "polled", "", Profile{})
		p, err := s.CreatePoll(ctx, Poll{ChannelID: ch.ID, Question: "?", Options: []string{"a", "b"}, OpenedBy: "u",
			OpenedAt: time.Now(), ClosesAt: time.Now().Add(time.Minute), MediaMS: -1})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := s.AddVotes(ctx, p.ID, []Vote{{UserID: "u1", Option: 0}, {UserID: "u2", Option: 1}, {UserID: "u1", Option: 1}})
		if err != nil || len(acc) != 2 {
			t.Fatalf("accepted %v, %v; want 2", acc, err)
		}
		if acc, _ := s.AddVotes(ctx, p.ID, []Vote{{UserID: "u2", Option: 0}}); len(acc) != 0 {
			t.Errorf("a second vote was accepted: %v", acc)
		}
		if won, _ := s.ClosePoll(ctx, p.ID, time.Now()); !won {
			t.Error("close did not win")
		}
		if won, _ := s.ClosePoll(ctx, p.ID, time.Now()); won {
			t.Error("a poll closed twice")
		}
		if acc, _ := s.AddVotes(ctx, p.ID, []Vote{{UserID: "u3", Option: 0}}); len(acc) != 0 {
			t.Errorf("a vote after close was accepted: %v", acc)
		}
		if tally, _ := s.PollTally(ctx, p.ID, 2); fmt.Sprint(tally) != "[1 1]" {
			t.Errorf("tally = %v", tally)
		}
	})
}
