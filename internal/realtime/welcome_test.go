package realtime

import (
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
