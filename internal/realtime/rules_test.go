package realtime

import (
	"fmt"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

func TestSlowModeHoldsGuestsByTheirNetwork(t *testing.T) {
	r := newRig(t, nil)
	owner := r.dial("owner", 0)
	owner.welcome()
	if rep := owner.reply(owner.send(map[string]any{"type": "settings", "settings": Settings{AnonymousCanPost: true, SlowSeconds: 30}})); rep["type"] != KindAck {
		t.Fatalf("settings = %v", rep)
	}
	guest := dialURL(t, r, "", 0, "10.7.7.7")
	guest.welcome()
	guest.say("first")
	if rep := guest.reply(guest.send(map[string]any{"type": "send", "text": "second"})); rep["code"] != "slow_mode" {
		t.Errorf("a guest's second message = %v, want slow_mode", rep)
	}
	// A new guest connection from the same network is the same poster.
	again := dialURL(t, r, "", 0, "10.7.7.7")
	again.welcome()
	if rep := again.reply(again.send(map[string]any{"type": "send", "text": "third"})); rep["code"] != "slow_mode" {
		t.Errorf("a reconnected guest = %v, want slow_mode", rep)
	}
	other := dialURL(t, r, "", 0, "10.8.8.8")
	other.welcome()
	other.say("another network posts")
}

func TestBlockedTermsSeeThroughInvisibleCharacters(t *testing.T) {
	r := newRig(t, nil)
	ctx := t.Context()
	if err := r.st.SetBlockedTerm(ctx, store.BlockedTerm{ChannelID: r.ch.ID, Term: "badword", Action: store.TermBlock}); err != nil {
		t.Fatal(err)
	}
	v := r.dial("viewer", 0)
	v.welcome()
	for _, text := range []string{"b\u200badword", "bad\u2060word", "\ufeffbadword", "bad\u00adword", "BAD\u200cWORD", "b\u200da\u200dd\u200dword"} {
		if rep := v.reply(v.send(map[string]any{"type": "send", "text": text})); rep["code"] != "blocked_term" {
			t.Errorf("send %q = %v, want blocked_term", text, rep)
		}
	}
	if _, err := r.hub.CheckText(ctx, r.ch, Member{User: r.user("viewer")}, "tip b\u200badword"); err == nil {
		t.Error("a tip message hid a blocked term behind a zero-width space")
	}
	v.say("a good word 👨\u200d👩\u200d👧") // joiners in emoji stay, and pass
}

func TestAReleasedMessageKeepsItsReplyAndMentions(t *testing.T) {
	r := newRig(t, nil)
	if err := r.st.SetBlockedTerm(t.Context(), store.BlockedTerm{ChannelID: r.ch.ID, Term: "spoiler", Action: store.TermHold}); err != nil {
		t.Fatal(err)
	}
	owner := r.dial("owner", 0)
	owner.welcome()
	v := r.dial("viewer", 0)
	v.welcome()
	first := owner.say("who saw the ending?")
	if rep := v.reply(v.send(map[string]any{"type": "send", "text": "@owner spoiler: it was a dream", "reply_to": first})); rep["code"] != "held" {
		t.Fatalf("held reply = %v", rep)
	}
	held := owner.next("held notice", isType(KindHeld))
	owner.reply(owner.send(map[string]any{"type": "held.release", "id": held["id"]}))
	m := v.next("released message", chatWith("@owner spoiler: it was a dream"))
	if seqOf(map[string]any{"seq": m["reply_to"]}) != first || fmt.Sprint(m["mentions"]) != "[owner]" {
		t.Errorf("released message = %v, want reply_to %d and mentions [owner]", m, first)
	}
}

func TestTheRoomForgetsSlowModeMarksAndLapsedBans(t *testing.T) {
	r := newRig(t, nil)
	v := r.dial("viewer", 0)
	v.welcome()
	var rm *room
	r.hub.mu.Lock()
	rm = r.hub.rooms[r.ch.ID]
	r.hub.mu.Unlock()
	now := time.Now()
	rm.mu.Lock()
	rm.lastSent["u:old"], rm.lastSent["u:new"] = now.Add(-time.Hour), now
	rm.bans["lapsed"] = &store.Ban{UserID: "lapsed", Until: now.Add(-time.Second)}
	rm.bans["banned"] = &store.Ban{UserID: "banned"}
	rm.bans["clean"] = nil
	rm.mu.Unlock()
	rm.stateMu.Lock()
	rm.settings.SlowSeconds = 60
	rm.stateMu.Unlock()
	rm.sweep(now)
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, ok := rm.lastSent["u:old"]; ok || len(rm.lastSent) != 1 {
		t.Errorf("slow-mode marks after a sweep = %v", rm.lastSent)
	}
	if _, ok := rm.bans["lapsed"]; ok || rm.bans["banned"] == nil {
		t.Errorf("bans after a sweep = %v", rm.bans)
	}
}
