package realtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/account"
)

func TestBannedAndTimedOutUsersCannotVoteUpvoteOrReact(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	owner.welcome()
	asker := r.dial("asker", 0)
	asker.welcome()
	id := asker.reply(asker.send(map[string]any{"type": "qa.ask", "text": "a question"}))["id"].(string)
	owner.reply(owner.send(map[string]any{"type": "qa.moderate", "id": id, "state": "approved"}))
	poll := owner.reply(owner.send(map[string]any{"type": "poll.open", "question": "?", "options": []string{"a", "b"}}))["id"].(string)

	for _, tc := range []struct{ who, action, code string }{{"banned", "ban", "banned"}, {"quiet", "timeout", "timed_out"}} {
		t.Run(tc.action, func(t *testing.T) {
			v := r.dial(tc.who, 0)
			v.welcome()
			if rep := owner.reply(owner.send(map[string]any{"type": tc.action, "user_id": r.user(tc.who).ID, "seconds": 600})); rep["type"] != KindAck {
				t.Fatalf("%s = %v", tc.action, rep)
			}
			for _, cmd := range []map[string]any{
				{"type": "poll.vote", "poll_id": poll, "option": 0},
				{"type": "qa.upvote", "id": id},
				{"type": "react", "emoji": "🔥"},
			} {
				if rep := v.reply(v.send(cmd)); rep["code"] != tc.code {
					t.Errorf("%s while %s = %v, want %s", cmd["type"], tc.action, rep, tc.code)
				}
			}
		})
	}
}

func TestVotesSpendTheSendersRateBudget(t *testing.T) {
	r := newRig(t, func(c *Config) { c.PerUser = account.NewLimiter(account.Rate{Burst: 2, Every: time.Minute}) })
	owner := r.dial("owner", 0)
	owner.welcome()
	v := r.dial("voter", 0)
	v.welcome()
	poll := owner.reply(owner.send(map[string]any{"type": "poll.open", "question": "?", "options": []string{"a", "b"}}))["id"].(string)
	v.next("poll.open", isType(KindPollOpen))
	codes := []string{}
	for i := 0; i < 3; i++ {
		rep := v.reply(v.send(map[string]any{"type": "poll.vote", "poll_id": poll, "option": 0}))
		code, _ := rep["code"].(string)
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[ already_voted rate_limited]" {
		t.Errorf("three votes = %q, want ack, already_voted, rate_limited", codes)
	}
}

func TestAClientThatKeepsSendingBadFramesIsDisconnected(t *testing.T) {
	r := newRig(t, nil)
	good := r.dial("good", 0)
	good.welcome()
	bad := r.dial("bad", 0)
	bad.welcome()
	frames := [][]byte{[]byte(`{"type":`), []byte(`{"type":"nope"}`), []byte(`{"type":"ping"}`), {0xff}}
	for i := 0; i < 3*junkBurst; i++ {
		if err := bad.conn.Write(context.Background(), websocket.MessageText, frames[i%len(frames)]); err != nil {
			break // closed already
		}
	}
	select {
	case err := <-bad.closed:
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("close = %v, want 1008 saying why", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a client sending only junk frames stays connected")
	}
	good.say("unaffected")
}

func TestAViewerWhoJustChattedCanStillVote(t *testing.T) {
	r := newRig(t, func(c *Config) { c.PerUser = account.NewLimiter(account.Rate{Burst: 2, Every: time.Minute}) })
	owner := r.dial("owner", 0)
	owner.welcome()
	v := r.dial("chatty", 0)
	v.welcome()
	v.say("one")
	v.say("two")
	poll := owner.reply(owner.send(map[string]any{"type": "poll.open", "question": "?", "options": []string{"a", "b"}}))["id"].(string)
	v.next("poll.open", isType(KindPollOpen))
	if rep := v.reply(v.send(map[string]any{"type": "poll.vote", "poll_id": poll, "option": 1})); rep["type"] != KindAck {
		t.Errorf("a vote after spending the chat budget = %v", rep)
	}
}
