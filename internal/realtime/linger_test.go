package realtime

import (
	"context"
	"testing"
	"time"
)

// A paid event does not wait out the room's Linger: the payer is watching
// for its alert. With a one-second Linger, a chat message sent right after
// a flush waits for the window; a gift sent at the same point goes within
// PaidLinger.
func TestPaidEventsFlushBeforeTheLinger(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Linger, c.PaidLinger = time.Second, 5*time.Millisecond })
	viewer := r.dial("viewer", 0)
	viewer.welcome()
	talker := r.dial("talker", 0)
	talker.welcome()
	isText := func(s string) func(map[string]any) bool {
		return func(o map[string]any) bool { return o["type"] == KindChat && o["text"] == s }
	}
	isGift := func(o map[string]any) bool { return o["type"] == KindGift }

	cases := []struct {
		name     string
		send     func()
		want     func(map[string]any) bool
		paid     bool
		minDelay time.Duration
	}{
		{"chat waits for the window", func() { talker.send(map[string]any{"type": "send", "text": "second"}) }, isText("second"), false, 500 * time.Millisecond},
		{"a gift goes at once", func() {
			if _, err := r.hub.Announce(context.Background(), r.ch, Announcement{Kind: KindGift, User: &User{ID: "u1", Name: "Fan"},
				UserID: "u1", Money: &MoneyView{Gift: &GiftView{ID: "g1", Name: "Rose"}, Count: 1, Coins: 10}}); err != nil {
				t.Fatal(err)
			}
		}, isGift, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Let the window pass, then flush once: the next event comes
			// less than a Linger after a flush.
			time.Sleep(1100 * time.Millisecond)
			talker.send(map[string]any{"type": "send", "text": "opener " + tc.name})
			viewer.next("the opener", isText("opener "+tc.name))
			start := time.Now()
			tc.send()
			viewer.next(tc.name, tc.want)
			took := time.Since(start)
			if tc.paid && took >= 500*time.Millisecond {
				t.Errorf("the gift took %v: it waited for the 1 s Linger", took)
			}
			if took < tc.minDelay {
				t.Errorf("the chat message took %v: it did not wait for the window (the test shows nothing)", took)
			}
		})
	}
}
