package realtime

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// subs is a subscription list the test changes.
type subs struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (s *subs) IsSubscriber(_ context.Context, _, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[userID]
}

func (s *subs) set(userID string, on bool) {
	s.mu.Lock()
	s.ids[userID] = on
	s.mu.Unlock()
}

func refusalCode(err error) string {
	var rf *refusal
	if errors.As(err, &rf) {
		return rf.code
	}
	return ""
}

func TestTipMessagesKeepSubscriberOnlyModeAndSubscriberEmotes(t *testing.T) {
	sb := &subs{ids: map[string]bool{}}
	r := newRig(t, func(c *Config) { c.Subscriptions = sb })
	ctx := t.Context()
	fan, sub := r.user("fan"), r.user("sub")
	sb.set(sub.ID, true)
	if _, err := r.st.SetEmote(ctx, r.ch.ID, "goldstar", "g.png"); err != nil {
		t.Fatal(err)
	}
	if err := r.st.SetEmoteSubscriberOnly(ctx, r.ch.ID, "goldstar", true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.hub.CheckText(ctx, r.ch, Member{User: fan}, "nice :goldstar:"); refusalCode(err) != "subscriber_emote" {
		t.Errorf("a non-subscriber's tip with a subscriber emote = %v", err)
	}
	if _, err := r.hub.CheckText(ctx, r.ch, Member{User: sub}, "nice :goldstar:"); err != nil {
		t.Errorf("a subscriber's tip with a subscriber emote = %v", err)
	}
	if err := r.st.SetRoomSettings(ctx, r.ch.ID, `{"subscribers_only":true}`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.hub.CheckText(ctx, r.ch, Member{User: fan}, "hello"); refusalCode(err) != "subscribers_only" {
		t.Errorf("a non-subscriber's tip message in subscriber-only mode = %v", err)
	}
	if _, err := r.hub.CheckText(ctx, r.ch, Member{User: sub}, "hello"); err != nil {
		t.Errorf("a subscriber's tip message in subscriber-only mode = %v", err)
	}
}

func TestALapsedSubscriptionEndsItsPerksMidConnection(t *testing.T) {
	sb := &subs{ids: map[string]bool{}}
	r := newRig(t, func(c *Config) { c.Subscriptions, c.SubscriberCheck = sb, 100*time.Millisecond })
	sb.set(r.user("sub").ID, true)
	owner := r.dial("owner", 0)
	owner.welcome()
	if rep := owner.reply(owner.send(map[string]any{"type": "settings", "settings": Settings{SubscribersOnly: true}})); rep["type"] != KindAck {
		t.Fatalf("settings = %v", rep)
	}
	v := r.dial("sub", 0)
	v.welcome()
	v.say("while subscribed")
	sb.set(r.user("sub").ID, false)
	time.Sleep(150 * time.Millisecond)
	if rep := v.reply(v.send(map[string]any{"type": "send", "text": "after it lapsed"})); rep["code"] != "subscribers_only" {
		t.Errorf("a lapsed subscriber's message = %v, want subscribers_only", rep)
	}
}
