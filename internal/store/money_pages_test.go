package store

import (
	"context"
	"testing"
	"time"
)

// Transactions written in the same millisecond are paged through without
// one skipped or repeated: a page ends at a (time, id) pair.
func TestLedgerPagesThroughTransactionsOfOneMillisecond(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		fixedClock(s, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
		const n = 25
		want := map[string]bool{}
		for range n {
			want[mustPost(t, s, purchase("a", 1)).Txn.ID] = true
		}
		got := map[string]bool{}
		cursor, pages := "", 0
		for {
			ts, next, err := s.Txns(ctx, TxnFilter{AccountID: wallet("a").ID, After: cursor, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, x := range ts {
				if got[x.ID] {
					t.Errorf("transaction %s listed twice", x.ID)
				}
				got[x.ID] = true
			}
			if next == "" {
				break
			}
			if pages > n {
				t.Fatal("paging does not end")
			}
			cursor = next
		}
		if len(got) != n || pages != 4 {
			t.Errorf("listed %d of %d transactions in %d pages, want all in 4", len(got), n, pages)
		}
		for id := range want {
			if !got[id] {
				t.Errorf("transaction %s skipped", id)
			}
		}
		if _, _, err := s.Txns(ctx, TxnFilter{After: "not-a-cursor"}); err == nil {
			t.Error("a forged cursor was accepted")
		}
	})
}
