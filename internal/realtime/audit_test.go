package realtime

import (
	"fmt"
	"testing"

	"github.com/livehouse/livehouse/internal/store"
)

func TestPollsOpenedAndClosedByModeratorsAreAudited(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	owner.welcome()
	id := owner.reply(owner.send(map[string]any{"type": "poll.open", "question": "Which map?", "options": []string{"a", "b"}}))["id"].(string)
	if rep := owner.reply(owner.send(map[string]any{"type": "poll.close", "poll_id": id})); rep["type"] != KindAck {
		t.Fatalf("poll.close = %v", rep)
	}
	log, _, err := r.st.AuditLog(t.Context(), r.ch.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, fmt.Sprintf("%s %s %s", e.Action, e.Target, e.ActorID))
	}
	want := []string{"poll.close " + id + " " + r.ch.OwnerID, "poll.open " + id + " " + r.ch.OwnerID}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit log = %q, want %q", got, want)
	}
}
