package realtime

import (
	"fmt"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// A room that opens mid-broadcast (the first viewer after a restart, or a
// node that had no viewers) shows its joiners the broadcast's Q&A from the
// store, not only what its in-memory ring holds.
func TestAJoinerSeesTheBroadcastsQuestionsFromTheStore(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Clock = fixedClock{id: "bc1", start: time.Now().Add(-time.Minute)} })
	ctx := t.Context()
	asker := r.user("asker")
	q, err := r.st.CreateQuestion(ctx, store.Question{ChannelID: r.ch.ID, BroadcastID: "bc1", UserID: asker.ID, Text: "asked before the room opened", MediaMS: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.UpdateQuestion(ctx, r.ch.ID, q.ID, store.QuestionApproved, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.CreateQuestion(ctx, store.Question{ChannelID: r.ch.ID, BroadcastID: "old", UserID: asker.ID, Text: "another broadcast's", MediaMS: 5}); err != nil {
		t.Fatal(err)
	}
	qs, _ := r.dial("viewer", 0).welcome()["questions"].([]any)
	if len(qs) != 1 {
		t.Fatalf("questions in the welcome = %v, want the one of this broadcast", qs)
	}
	got := qs[0].(map[string]any)["question"].(map[string]any)
	if got["id"] != q.ID || got["text"] != "asked before the room opened" || got["state"] != "approved" || got["pinned"] != true ||
		got["user"].(map[string]any)["name"] != "asker" {
		t.Errorf("question = %v", got)
	}
}

// Reactions are events of the ring too; a burst of them must not push the
// last messages out of a joiner's history.
func TestReactionsDoNotCrowdMessagesOutOfTheHistory(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Retention, c.RetentionAge, c.History = 20, time.Nanosecond, 5 })
	a := r.dial("alice", 0)
	a.welcome()
	for i := 0; i < 5; i++ {
		a.say(fmt.Sprintf("m%d", i))
	}
	for i := 0; i < 40; i++ { // 40 events after the messages: twice the ring
		if _, err := r.hub.Announce(t.Context(), r.ch, Announcement{Kind: KindAdEnd}); err != nil {
			t.Fatal(err)
		}
	}
	bob := r.dial("bob", 0)
	h := history(bob.welcome())
	if len(h) != 5 || h[0]["text"] != "m0" || h[4]["text"] != "m4" {
		t.Errorf("history = %v, want m0..m4", h)
	}
	// A room that opens afresh reads them from the store.
	a.conn.CloseNow()
	bob.conn.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for r.hub.Stats().Rooms != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := r.hub.Stats().Rooms; n != 0 {
		t.Fatalf("rooms open = %d, want the room closed", n)
	}
	h = history(r.dial("carol", 0).welcome())
	if len(h) != 5 || h[0]["text"] != "m0" || h[4]["text"] != "m4" {
		t.Errorf("history of a reopened room = %v, want m0..m4", h)
	}
}
