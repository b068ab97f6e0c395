package realtime

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

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

func TestVotesAreInTheBroadcastReplayOnTheStreamClock(t *testing.T) {
	start := time.Now().Add(-time.Minute)
	r := newRig(t, func(c *Config) { c.Clock = fixedClock{id: "bc1", start: start} })
	owner := r.dial("owner", 0)
	owner.welcome()
	id := owner.reply(owner.send(map[string]any{"type": "poll.open", "question": "?", "options": []string{"a", "b"}}))["id"].(string)
	for i, name := range []string{"v1", "v2", "v3"} {
		v := r.dial(name, 0)
		v.welcome()
		at := time.Now().Add(-3 * time.Second).UnixMilli() // the voter's playhead
		if rep := v.reply(v.send(map[string]any{"type": "poll.vote", "poll_id": id, "option": i % 2, "at": at})); rep["type"] != KindAck {
			t.Fatalf("vote = %v", rep)
		}
	}
	owner.next("poll.votes", isType(KindPollVotes))
	deadline := time.Now().Add(5 * time.Second)
	var total int64
	var evs []store.RoomEvent
	for total < 3 && time.Now().Before(deadline) {
		var err error
		if evs, err = r.st.BroadcastEvents(t.Context(), "bc1", -2, 0, 100); err != nil {
			t.Fatal(err)
		}
		total = 0
		for _, e := range evs {
			if e.Kind != KindPollVotes {
				continue
			}
			var ev Event
			if err := json.Unmarshal([]byte(e.Payload), &ev); err != nil || ev.ID != id {
				t.Fatalf("poll.votes event %s: %v", e.Payload, err)
			}
			if e.MediaMS < 55_000 || e.MediaMS > 58_500 {
				t.Errorf("poll.votes media_ms = %d, want the voters' playhead (about 57000)", e.MediaMS)
			}
			for _, d := range ev.Deltas {
				total += d
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if total != 3 {
		t.Errorf("the replay counts %d votes, want 3: %+v", total, evs)
	}
}

func TestReactionsLandOnTheStreamClockWhereTheyWereSeen(t *testing.T) {
	start := time.Now().Add(-time.Minute)
	r := newRig(t, func(c *Config) { c.Clock = fixedClock{id: "bc1", start: start} })
	fan := r.dial("fan", 0)
	fan.welcome()
	for i := 0; i < 3; i++ {
		fan.send(map[string]any{"type": "react", "emoji": "🔥", "at": time.Now().Add(-10 * time.Second).UnixMilli()})
	}
	e := fan.next("reactions", isType(KindReactions))
	if media := e["media_ms"].(float64); media < 48_000 || media > 51_500 {
		t.Errorf("reactions media_ms = %v, want the tappers' playhead (about 50000), not the live edge", media)
	}
}
