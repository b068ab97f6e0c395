package realtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

func TestJoiningClientGetsTheLastHundredMessages(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial("alice", 0)
	a.welcome()
	for i := 1; i <= 120; i++ {
		a.say(fmt.Sprintf("m%d", i))
	}
	b := r.dial("bob", 0)
	h := history(b.welcome())
	if len(h) != 100 || h[0]["text"] != "m21" || h[99]["text"] != "m120" {
		t.Fatalf("history has %d messages, from %v to %v", len(h), h[0]["text"], h[len(h)-1]["text"])
	}
	for i := 1; i < len(h); i++ {
		if seqOf(h[i]) != seqOf(h[i-1])+1 {
			t.Fatalf("history seqs not consecutive at %d: %d then %d", i, seqOf(h[i-1]), seqOf(h[i]))
		}
	}
}

func TestReconnectWithLastSeqReceivesExactlyWhatWasMissed(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial("alice", 0)
	a.welcome()
	b := r.dial("bob", 0)
	b.welcome()
	last := a.say("before the drop")
	b.next("first message", chatWith("before the drop"))
	b.conn.CloseNow()
	var missed []int64
	for i := 0; i < 5; i++ {
		missed = append(missed, a.say(fmt.Sprintf("missed %d", i)))
	}
	b2 := r.dial("bob", last)
	w := b2.welcome()
	if w["resumed"] != true {
		t.Fatalf("welcome = %v, want resumed", w)
	}
	h := history(w)
	if len(h) != len(missed) {
		t.Fatalf("resumed with %d events, want %d: %v", len(h), len(missed), h)
	}
	for i, e := range h {
		if seqOf(e) != missed[i] {
			t.Errorf("event %d: seq %d, want %d", i, seqOf(e), missed[i])
		}
	}
	after := a.say("after the drop")
	got := b2.next("live message", func(o map[string]any) bool { return o["type"] == KindChat })
	if seqOf(got) != after || got["text"] != "after the drop" {
		t.Errorf("first live event after resume = %v, want seq %d", got, after)
	}
}

func TestResumeFromBeyondRetentionStartsAfresh(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Retention, c.RetentionAge = 10, time.Nanosecond })
	a := r.dial("alice", 0)
	a.welcome()
	first := a.say("old")
	for i := 0; i < 30; i++ {
		a.say(fmt.Sprintf("n%d", i))
	}
	w := r.dial("bob", first).welcome()
	if w["reset"] != true || w["resumed"] == true {
		t.Errorf("welcome = %v, want reset", w)
	}
}

func TestModeratorDeletesAMessageForEveryoneAndTimesOutItsAuthor(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	if w := owner.welcome(); w["can_moderate"] != true {
		t.Fatalf("owner welcome = %v", w)
	}
	v1 := r.dial("viewer1", 0)
	v1.welcome()
	v2 := r.dial("viewer2", 0)
	v2.welcome()
	seq := v1.say("rude words")

	// A viewer cannot moderate.
	if rep := v2.reply(v2.send(map[string]any{"type": "delete", "seq": seq})); rep["code"] != "forbidden" {
		t.Errorf("viewer delete = %v, want forbidden", rep)
	}
	owner.send(map[string]any{"type": "delete", "seq": seq})
	for _, c := range []*ws{owner, v1, v2} {
		d := c.next("delete", isType(KindDelete))
		if int64(d["target"].(float64)) != seq {
			t.Errorf("delete target = %v, want %d", d["target"], seq)
		}
	}
	if h := history(r.dial("late", 0).welcome()); len(h) != 0 {
		t.Errorf("a deleted message is in a newcomer's history: %v", h)
	}

	rep := owner.reply(owner.send(map[string]any{"type": "timeout", "user_id": r.user("viewer1").ID, "seconds": 600, "reason": "calm down"}))
	if rep["type"] != KindAck {
		t.Fatalf("timeout = %v", rep)
	}
	v2.next("timeout event", isType(KindTimeout))
	if rep := v1.reply(v1.send(map[string]any{"type": "send", "text": "let me talk"})); rep["code"] != "timed_out" || !strings.Contains(rep["message"].(string), "timed out") {
		t.Errorf("timed-out send = %v", rep)
	}
	if v2.say("still here") == 0 {
		t.Error("another viewer was stopped too")
	}
	log, _, err := r.st.AuditLog(t.Context(), r.ch.ID, store.Page{})
	if err != nil || len(log) != 2 || log[0].Action != "timeout" || log[1].Action != "delete" {
		t.Errorf("audit log = %+v, %v", log, err)
	}
}

func TestBanAndUnban(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	owner.welcome()
	v := r.dial("troll", 0)
	v.welcome()
	owner.reply(owner.send(map[string]any{"type": "ban", "user_id": r.user("troll").ID}))
	v.next("ban", isType(KindBan))
	if rep := v.reply(v.send(map[string]any{"type": "send", "text": "hi"})); rep["code"] != "banned" {
		t.Errorf("banned send = %v", rep)
	}
	// The ban holds for a new connection on a fresh room too.
	owner.reply(owner.send(map[string]any{"type": "unban", "user_id": r.user("troll").ID}))
	v.next("unban", isType(KindUnban))
	v.say("thanks")
	if rep := owner.reply(owner.send(map[string]any{"type": "ban", "user_id": r.ch.OwnerID})); rep["code"] != "forbidden" {
		t.Errorf("banning the broadcaster = %v", rep)
	}
}

func TestRoomModesRefuseWithAClearReason(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	owner.welcome()
	v := r.dial("viewer", 0)
	v.welcome()
	zero := 0
	set := func(s Settings) {
		t.Helper()
		if rep := owner.reply(owner.send(map[string]any{"type": "settings", "settings": s})); rep["type"] != KindAck {
			t.Fatalf("settings %+v: %v", s, rep)
		}
		v.next("settings", isType(KindSettings))
	}
	try := func(text, code string) {
		t.Helper()
		rep := v.reply(v.send(map[string]any{"type": "send", "text": text}))
		if code == "" && rep["type"] != KindAck || code != "" && rep["code"] != code {
			t.Errorf("send %q = %v, want %q", text, rep, code)
		}
	}
	set(Settings{SlowSeconds: 30})
	try("one", "")
	try("two", "slow_mode")
	owner.say("the broadcaster is not slowed") // moderators are exempt
	set(Settings{FollowersOnly: &zero})
	try("not following", "followers_only")
	if err := r.st.Follow(t.Context(), r.user("viewer").ID, r.ch.ID); err != nil {
		t.Fatal(err)
	}
	try("following now", "")
	if _, err := r.st.SetEmote(t.Context(), r.ch.ID, "wave", "wave.png"); err != nil {
		t.Fatal(err)
	}
	set(Settings{EmoteOnly: true})
	try("words", "emote_only")
	try(":wave: 🔥", "")
	try(":notanemote:", "emote_only") // the syntax alone is not an emote of this channel
	set(Settings{Links: "block"})
	try("see https://evil.example/x", "links_blocked")
	set(Settings{SubscribersOnly: true})
	try("hello", "subscribers_only")
	set(Settings{})
	anon := dialURL(t, r, "", 0, "10.0.0.9")
	if w := anon.welcome(); w["signed_in"] != false {
		t.Fatalf("anonymous welcome = %v", w)
	}
	if rep := anon.reply(anon.send(map[string]any{"type": "send", "text": "hi"})); rep["code"] != "sign_in_required" {
		t.Errorf("anonymous send = %v", rep)
	}
	set(Settings{AnonymousCanPost: true})
	anon.next("settings", isType(KindSettings))
	if seq := anon.say("hi from a guest"); seq == 0 {
		t.Error("guest could not post")
	}
}

func TestBlockedTermsRefuseOrHoldForReview(t *testing.T) {
	r := newRig(t, nil)
	ctx := t.Context()
	owner := r.dial("owner", 0)
	owner.welcome()
	v := r.dial("viewer", 0)
	v.welcome()
	v.say("a badword before the list has it") // the room has read (and cached) its terms now
	r.st.SetBlockedTerm(ctx, store.BlockedTerm{ChannelID: r.ch.ID, Term: "badword", Action: store.TermBlock})
	r.st.SetBlockedTerm(ctx, store.BlockedTerm{ChannelID: "", Term: "spoiler", Action: store.TermHold})
	r.hub.TermsChanged(ctx, r.ch.ID)
	if rep := v.reply(v.send(map[string]any{"type": "send", "text": "a BadWord here"})); rep["code"] != "blocked_term" {
		t.Errorf("blocked term = %v", rep)
	}
	if rep := v.reply(v.send(map[string]any{"type": "send", "text": "big spoiler ahead"})); rep["code"] != "held" {
		t.Errorf("held message reply = %v", rep)
	}
	held := owner.next("held notice", isType(KindHeld))
	owner.reply(owner.send(map[string]any{"type": "held.release", "id": held["id"]}))
	got := v.next("released message", chatWith("big spoiler ahead"))
	if got["user"].(map[string]any)["name"] != "viewer" {
		t.Errorf("released message author = %v", got["user"])
	}
}

func TestRepliesAndMentions(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial("alice", 0)
	a.welcome()
	b := r.dial("bob", 0)
	b.welcome()
	seq := a.say("hello")
	b.reply(b.send(map[string]any{"type": "send", "text": "hi @Alice!", "reply_to": seq}))
	m := a.next("reply", chatWith("hi @Alice!"))
	if int64(m["reply_to"].(float64)) != seq || fmt.Sprint(m["mentions"]) != "[alice]" {
		t.Errorf("reply = %v", m)
	}
	if rep := b.reply(b.send(map[string]any{"type": "send", "text": "x", "reply_to": 9999})); rep["code"] != "bad_reply" {
		t.Errorf("reply to nothing = %v", rep)
	}
}

func TestPollCountsEveryVoteOnceAndEveryoneSeesTheResult(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	owner.welcome()
	var viewers []*ws
	for i := 0; i < 3; i++ {
		v := r.dial(fmt.Sprintf("v%d", i), 0)
		v.welcome()
		viewers = append(viewers, v)
	}
	rep := owner.reply(owner.send(map[string]any{"type": "poll.open", "question": "Best?", "options": []string{"A", "B"}, "seconds": 60}))
	id, _ := rep["id"].(string)
	if rep["type"] != KindAck || id == "" {
		t.Fatalf("poll.open = %v", rep)
	}
	for i, v := range viewers {
		v.next("poll.open", isType(KindPollOpen))
		if rep := v.reply(v.send(map[string]any{"type": "poll.vote", "poll_id": id, "option": i % 2})); rep["type"] != KindAck {
			t.Errorf("vote %d = %v", i, rep)
		}
	}
	if rep := viewers[0].reply(viewers[0].send(map[string]any{"type": "poll.vote", "poll_id": id, "option": 1})); rep["code"] != "already_voted" {
		t.Errorf("second vote = %v", rep)
	}
	if rep := viewers[1].reply(viewers[1].send(map[string]any{"type": "poll.vote", "poll_id": id, "option": 7})); rep["code"] != "bad_option" {
		t.Errorf("bad option = %v", rep)
	}
	viewers[2].next("live tally", func(o map[string]any) bool {
		if o["type"] != KindPollTally {
			return false
		}
		return o["poll"].(map[string]any)["total"].(float64) == 3
	})
	owner.reply(owner.send(map[string]any{"type": "poll.close", "poll_id": id}))
	for _, c := range viewers {
		res := c.next("poll.close", isType(KindPollClose))["poll"].(map[string]any)
		if fmt.Sprint(res["counts"]) != "[2 1]" || res["closed"] != true {
			t.Errorf("final result = %v", res)
		}
	}
	if rep := viewers[2].reply(viewers[2].send(map[string]any{"type": "poll.vote", "poll_id": id, "option": 0})); rep["code"] != "poll_closed" {
		t.Errorf("vote after close = %v", rep)
	}
}

func TestQuestionsAreModeratedUpvotedOnceAndAnswered(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	owner.welcome()
	asker := r.dial("asker", 0)
	asker.welcome()
	voter := r.dial("voter", 0)
	voter.welcome()
	rep := asker.reply(asker.send(map[string]any{"type": "qa.ask", "text": "What <b>is</b> next?"}))
	id := rep["id"].(string)
	full := owner.next("pending question", isType(KindQuestion))["question"].(map[string]any)
	red := voter.next("redacted question", isType(KindQuestion))["question"].(map[string]any)
	if full["text"] != "What <b>is</b> next?" || red["redacted"] != true || red["text"] != nil {
		t.Errorf("moderator sees %v; viewer sees %v", full, red)
	}
	if rep := voter.reply(voter.send(map[string]any{"type": "qa.upvote", "id": id})); rep["code"] != "not_open" {
		t.Errorf("upvote of a pending question = %v", rep)
	}
	owner.reply(owner.send(map[string]any{"type": "qa.moderate", "id": id, "state": "approved"}))
	voter.next("approved", func(o map[string]any) bool {
		return o["type"] == KindQuestion && o["question"].(map[string]any)["state"] == "approved"
	})
	voter.reply(voter.send(map[string]any{"type": "qa.upvote", "id": id}))
	if rep := voter.reply(voter.send(map[string]any{"type": "qa.upvote", "id": id})); rep["code"] != "already_voted" {
		t.Errorf("second upvote = %v", rep)
	}
	owner.reply(owner.send(map[string]any{"type": "qa.moderate", "id": id, "state": "answered", "pinned": true}))
	q := asker.next("answered", func(o map[string]any) bool {
		return o["type"] == KindQuestion && o["question"].(map[string]any)["state"] == "answered"
	})["question"].(map[string]any)
	if q["votes"].(float64) != 1 || q["pinned"] != true {
		t.Errorf("answered question = %v", q)
	}
	qs := r.dial("latecomer", 0).welcome()["questions"].([]any)
	if len(qs) != 1 || qs[0].(map[string]any)["question"].(map[string]any)["state"] != "answered" ||
		qs[0].(map[string]any)["question"].(map[string]any)["user"].(map[string]any)["name"] != "asker" {
		t.Errorf("a latecomer's questions = %v", qs)
	}
}

func TestReactionsAreSentAsCountsPerWindow(t *testing.T) {
	r := newRig(t, nil)
	watcher := r.dial("watcher", 0)
	watcher.welcome()
	for i := 0; i < 3; i++ {
		c := r.dial(fmt.Sprintf("fan%d", i), 0)
		c.welcome()
		for j := 0; j < 10; j++ {
			c.send(map[string]any{"type": "react", "emoji": "🔥"})
		}
	}
	total, events := 0.0, 0
	for total < 30 {
		e := watcher.next("reactions", isType(KindReactions))
		total += e["counts"].(map[string]any)["🔥"].(float64)
		events++
	}
	if total != 30 || events > 10 {
		t.Errorf("%v taps arrived in %d events; want 30 in a few", total, events)
	}
}

func TestEventsCarryTheStreamClock(t *testing.T) {
	start := time.Now().Add(-90 * time.Second)
	r := newRig(t, func(c *Config) { c.Clock = fixedClock{id: "bc1", start: start} })
	a := r.dial("alice", 0)
	a.welcome()
	// The client's playhead is 2 s behind the live edge.
	a.send(map[string]any{"type": "send", "text": "goal!", "at": time.Now().Add(-2 * time.Second).UnixMilli()})
	m := a.next("message", chatWith("goal!"))
	media := m["media_ms"].(float64)
	if m["broadcast_id"] != "bc1" || media < 87_000 || media > 89_000 {
		t.Errorf("stamp: broadcast %v, media_ms %v (want about 88000)", m["broadcast_id"], media)
	}
	evs, err := r.st.BroadcastEvents(t.Context(), "bc1", -2, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].MediaMS != int64(media) {
		t.Errorf("broadcast events = %+v, %v", evs, err)
	}
}

type fixedClock struct {
	id    string
	start time.Time
}

func (c fixedClock) Broadcast(_ context.Context, _ string) (string, time.Time, bool) {
	return c.id, c.start, true
}

func TestTheReplayLeavesOutMessagesModeratorsDeleted(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Clock = fixedClock{id: "bc1", start: time.Now().Add(-time.Minute)} })
	owner := r.dial("owner", 0)
	owner.welcome()
	v := r.dial("viewer", 0)
	v.welcome()
	v.say("fine words")
	bad := v.say("awful words")
	if rep := owner.reply(owner.send(map[string]any{"type": "delete", "seq": bad})); rep["type"] != KindAck {
		t.Fatalf("delete = %v", rep)
	}
	evs, err := r.st.BroadcastEvents(t.Context(), "bc1", -2, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(e.Payload, "awful") {
			t.Errorf("the replay shows a deleted message: %s", e.Payload)
		}
	}
	if len(evs) != 2 || evs[0].Kind != KindChat || evs[1].Kind != KindDelete {
		t.Errorf("replay = %+v, want the standing message and the deletion", evs)
	}
}
