package channel

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

func TestViewersCountDistinctIDsSeenInTheWindowAndKeepPeakAndAverage(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	ch, _, _ := st.CreateChannel(ctx, "counted")
	c := newClock()
	sess, _ := st.StartSession(ctx, ch.ID, "bc1", "[]", c.t)
	v := NewViewers(ViewersConfig{Store: st, Window: 30 * time.Second})
	v.now = c.now
	info := live.BroadcastInfo{ChannelID: ch.ID, Slug: "counted", BroadcastID: "bc1", SessionID: sess.ID, StartedAt: c.t}

	if err := v.Beat("counted", "before-live", "net"); !errors.Is(err, ErrNotLive) {
		t.Error("a heartbeat before the broadcast started was counted")
	}
	v.Start(info)
	for _, id := range []string{"viewer-a", "viewer-b", "viewer-a", "viewer-c", "viewer-b"} {
		if err := v.Beat("counted", id, "net"); err != nil {
			t.Fatalf("heartbeat refused while live: %v", err)
		}
	}
	if n, live := v.Count("counted"); n != 3 || !live {
		t.Errorf("Count = %d, %v; want 3 distinct viewers", n, live)
	}
	c.advance(20 * time.Second) // 3 viewers for 20 s
	v.Beat("counted", "viewer-a", "net")
	if err := v.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	c.advance(20 * time.Second) // b and c fall out of the 30 s window
	v.Sample(ctx)
	if n, _ := v.Count("counted"); n != 1 {
		t.Errorf("after 40 s only viewer-a beat again; Count = %d, want 1", n)
	}
	if got, _ := st.ListSessions(ctx, ch.ID, 1); got[0].Viewers != 1 || got[0].PeakViewers != 3 {
		t.Errorf("stored sample = %+v, want viewers 1, peak 3", got[0])
	}
	c.advance(20 * time.Second)
	final, ok := v.End(info)
	if !ok || final.Viewers != 0 || final.PeakViewers != 3 {
		t.Errorf("final sample = %+v, %v", final, ok)
	}
	// 3 viewers x 20 s + 3 x 20 s (until the prune) + 1 x 20 s = 140 viewer-seconds.
	if final.ViewerMillis != 140_000 {
		t.Errorf("viewer time = %d ms, want 140000", final.ViewerMillis)
	}
	if err := v.Beat("counted", "viewer-a", "net"); !errors.Is(err, ErrNotLive) {
		t.Error("heartbeat counted after the broadcast ended")
	}
	st.RecordViewers(ctx, []store.ViewerSample{final})
	st.EndSession(ctx, sess.ID, c.t, "done")
	last, _ := st.LastEndedSession(ctx, ch.ID)
	if avg := last.AvgViewers(c.t); avg < 2.33 || avg > 2.34 {
		t.Errorf("average = %v, want 140/60", avg)
	}
}

func TestViewersIgnoreAnEndForAnotherBroadcastOfTheChannel(t *testing.T) {
	v := NewViewers(ViewersConfig{Store: openStore(t)})
	v.Start(live.BroadcastInfo{Slug: "x", BroadcastID: "new"})
	if _, ok := v.End(live.BroadcastInfo{Slug: "x", BroadcastID: "old"}); ok {
		t.Error("ending an old broadcast stopped counting the new one")
	}
	if _, live := v.Count("x"); !live {
		t.Error("new broadcast no longer counted")
	}
}

func TestViewersCapTrackedIDsPerBroadcast(t *testing.T) {
	v := NewViewers(ViewersConfig{Store: openStore(t), MaxPerChannel: 2})
	v.Start(live.BroadcastInfo{Slug: "x", BroadcastID: "b"})
	for _, id := range []string{"a1", "a2", "a3", "a4"} {
		v.Beat("x", id, "net")
	}
	if n, _ := v.Count("x"); n != 2 {
		t.Errorf("Count = %d, want the cap of 2", n)
	}
}

func TestViewersCountAViewerBackAfterTheWindowOnceBeforeThePrune(t *testing.T) {
	c := newClock()
	v := NewViewers(ViewersConfig{Store: openStore(t), Window: 30 * time.Second})
	v.now = c.now
	v.Start(live.BroadcastInfo{Slug: "x", BroadcastID: "b"})
	v.Beat("x", "viewer-a", "net")
	c.advance(40 * time.Second) // past the window, and no Sample has pruned it
	v.Beat("x", "viewer-a", "net")
	if n, _ := v.Count("x"); n != 1 {
		t.Errorf("Count = %d, want 1: one viewer came back", n)
	}
	s, _ := v.End(live.BroadcastInfo{Slug: "x", BroadcastID: "b"})
	if s.PeakViewers != 1 {
		t.Errorf("peak = %d, want 1", s.PeakViewers)
	}
}

func TestViewersCountAtMostMaxPerNetworkIDsFromOneNetwork(t *testing.T) {
	c := newClock()
	v := NewViewers(ViewersConfig{Store: openStore(t), Window: 30 * time.Second, MaxPerNetwork: 5})
	v.now = c.now
	v.Start(live.BroadcastInfo{Slug: "x", BroadcastID: "b"})
	for i := range 300 {
		err := v.Beat("x", fmt.Sprintf("phantom-%03d", i), "198.51.100.7")
		if i < 5 && err != nil || i >= 5 && !errors.Is(err, ErrNetworkFull) {
			t.Fatalf("beat %d from one address: %v", i, err)
		}
	}
	if err := v.Beat("x", "phantom-000", "198.51.100.7"); err != nil {
		t.Errorf("a counted viewer's next beat: %v", err)
	}
	if err := v.Beat("x", "neighbour", "2001:db8:1:2::/64"); err != nil {
		t.Errorf("a viewer on another network: %v", err)
	}
	if n, _ := v.Count("x"); n != 6 {
		t.Errorf("Count = %d, want 5 from the flooding address + 1", n)
	}
	c.advance(40 * time.Second) // every id falls out of the window
	v.Sample(t.Context())       //nolint:errcheck
	if err := v.Beat("x", "phantom-299", "198.51.100.7"); err != nil {
		t.Errorf("after the prune the network has room again: %v", err)
	}
}

func TestViewersWatchingIsACountedIDInsideTheWindow(t *testing.T) {
	c := newClock()
	v := NewViewers(ViewersConfig{Store: openStore(t), Window: 30 * time.Second, MaxPerNetwork: 1})
	v.now = c.now
	if v.Watching("x", "viewer-a") {
		t.Error("watching a channel that is not live")
	}
	v.Start(live.BroadcastInfo{Slug: "x", BroadcastID: "b"})
	v.Beat("x", "viewer-a", "net") //nolint:errcheck
	v.Beat("x", "viewer-b", "net") //nolint:errcheck // refused: the network is full
	switch {
	case !v.Watching("x", "viewer-a"):
		t.Error("a counted viewer is not watching")
	case v.Watching("x", "viewer-b"):
		t.Error("a refused viewer is watching")
	case v.Watching("x", "never-beat"):
		t.Error("an id that never sent a heartbeat is watching")
	case v.Watching("other", "viewer-a"):
		t.Error("watching counts on another channel")
	}
	c.advance(31 * time.Second) // past the window, before any prune
	if v.Watching("x", "viewer-a") {
		t.Error("a viewer silent for longer than the window is still watching")
	}
}
