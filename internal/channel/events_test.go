package channel

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

func TestBroadcastEventsNotifyFollowersAndQueueSignedWebhooksWithFinalViewerFigures(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	fan, _ := st.CreateUser(ctx, store.NewUser{Email: "fan@example.com", DisplayName: "Fan", PasswordHash: "h"})
	ch, _, _ := st.CreateChannel(ctx, "evented")
	st.Follow(ctx, fan.ID, ch.ID)
	hook, _, _ := st.CreateWebhook(ctx, ch.ID, "https://example.com/h", []string{"live", "offline"})
	start := time.Now().Add(-time.Minute)
	sess, _ := st.StartSession(ctx, ch.ID, "bcx", "[]", start)
	viewers := NewViewers(ViewersConfig{Store: st})
	ev := NewEvents(EventsConfig{Store: st, Viewers: viewers})
	info := live.BroadcastInfo{ChannelID: ch.ID, Slug: "evented", BroadcastID: "bcx", SessionID: sess.ID, StartedAt: start}

	ev.BroadcastStarted(info)
	viewers.Beat("evented", "viewer-one", "net")
	viewers.Beat("evented", "viewer-two", "net")
	ev.Flush(ctx)
	ns, _, unread, _ := st.Notifications(ctx, fan.ID, store.Page{})
	if len(ns) != 1 || ns[0].BroadcastID != "bcx" || unread != 1 {
		t.Errorf("follower notifications = %+v", ns)
	}
	info.EndedAt, info.Reason = time.Now(), "encoder stopped"
	ev.BroadcastEnded(info)
	ev.Flush(ctx)
	ds, _ := st.Deliveries(ctx, hook.ID, 10)
	// Both are queued in the same millisecond here, so their order is not
	// part of the contract; find each by its event.
	byEvent := map[string]store.Delivery{}
	for _, d := range ds {
		byEvent[d.Event] = d
	}
	offline, okOff := byEvent["offline"]
	if _, okLive := byEvent["live"]; len(ds) != 2 || !okOff || !okLive {
		t.Fatalf("deliveries = %+v", ds)
	}
	var p Payload
	if err := json.Unmarshal([]byte(offline.Payload), &p); err != nil {
		t.Fatalf("offline payload %q: %v", offline.Payload, err)
	}
	if p.Broadcast.PeakViewers == nil || *p.Broadcast.PeakViewers != 2 || p.Broadcast.EndReason != "encoder stopped" || p.Broadcast.EndedAt == nil {
		t.Errorf("offline payload = %s", offline.Payload)
	}
	last, _ := st.ListSessions(ctx, ch.ID, 1)
	if last[0].PeakViewers != 2 {
		t.Errorf("session peak = %d, want 2", last[0].PeakViewers)
	}
}
