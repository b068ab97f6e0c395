package store

import (
	"context"
	"testing"
	"time"
)

// The leaderboard counts gifts, not sends: one send of 5 roses is 5 gifts.
func TestGiftLeaderboardCountsGiftsNotSends(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustPost(t, s, purchase("a", 1000))
		mustPost(t, s, purchase("b", 1000))
		send := func(u string, coins int64, memo string) {
			p := gift(u, "ch", coins)
			p.Txn.Memo = memo
			mustPost(t, s, p)
		}
		send("a", 50, `{"gift":"rose","count":5}`)
		send("a", 10, `{"gift":"rose","count":1}`)
		send("b", 500, `{"gift":"rocket","count":1}`)
		send("b", 10, `{}`) // written before counts were kept: one gift
		gs, err := s.GiftLeaderboard(ctx, "ch", "", time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 2 || gs[0].UserID != "b" || gs[0].Coins != 510 || gs[0].Gifts != 2 || gs[1].UserID != "a" || gs[1].Coins != 60 || gs[1].Gifts != 6 {
			t.Errorf("leaderboard = %+v, want b 510 coins 2 gifts, a 60 coins 6 gifts", gs)
		}
	})
}
