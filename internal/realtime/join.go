package realtime

import (
	"encoding/json"

	"github.com/coder/websocket"
	"strings"
	"unicode"
)

// welcome is the first frame a client gets.
type welcome struct {
	Type     string          `json:"type"`
	Room     string          `json:"room"`
	LastSeq  int64           `json:"last_seq"`
	Resumed  bool            `json:"resumed"`
	Reset    bool            `json:"reset,omitempty"` // since was too old: history starts afresh
	You      User            `json:"you"`
	SignedIn bool            `json:"signed_in"`
	CanMod   bool            `json:"can_moderate"`
	Settings Settings        `json:"settings"`
	Polls    []PollView      `json:"polls"`
	History  json.RawMessage `json:"history"`
	// Questions holds the latest state of each question of the room (its
	// qa.question events; seq 0 for those read from the store), so a late
	// joiner sees the Q&A.
	Questions json.RawMessage `json:"questions"`
}

// join adds the client and sends it the welcome: the last messages, or,
// when resuming, exactly the events after since.
func (r *room) join(c *client, since int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushLocked() // what is queued goes to the others now, and into this one's history
	r.clients[c] = struct{}{}
	r.nclients.Store(int64(len(r.clients)))
	r.listDirty = true
	c.joinIdx, c.slot = r.fanSeq, r.slotSeq
	r.slotSeq++
	you := c.user
	you.Badges = c.badges()
	w := welcome{Type: KindWelcome, Room: r.ch.Slug, LastSeq: r.flushed, You: you, SignedIn: c.signedIn(),
		CanMod: c.moderator(), Settings: r.settings, Polls: []PollView{}}
	for _, p := range r.polls {
		w.Polls = append(w.Polls, p.snapshot())
	}
	mod := c.moderator()
	var evs []sequenced
	first := r.next // the oldest seq the ring holds
	if len(r.ring) > 0 {
		first = r.ring[0].seq
	}
	switch {
	case since > 0 && since >= first-1 && since <= r.flushed:
		w.Resumed = true
		for _, s := range r.ring {
			if s.seq > since && s.seq <= r.flushed {
				evs = append(evs, s)
			}
		}
	default:
		w.Reset = since > 0
		// The last History messages that still stand, kept apart from the
		// ring so that reactions and other events never crowd them out.
		for i := len(r.chat) - 1; i >= 0 && len(evs) < r.hub.cfg.History; i-- {
			if s := r.chat[i]; s.seq <= r.flushed {
				evs = append(evs, s)
			}
		}
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
	}
	w.History = batch(evs, !mod)
	qs := make([]sequenced, 0, len(r.qaOrder))
	for _, id := range r.qaOrder {
		if q, ok := r.questions[id]; ok && q.seq <= r.flushed {
			qs = append(qs, q)
		}
	}
	w.Questions = batch(qs, !mod)
	c.reply(w)
}

func (r *room) leave(c *client) {
	r.mu.Lock()
	delete(r.clients, c)
	r.nclients.Store(int64(len(r.clients)))
	r.listDirty = true
	r.mu.Unlock()
	c.kick(websocket.StatusNormalClosure, "")
}

// isMod and isVIP read under stateMu, which may be taken with or
// without r.mu held (never the other way round).
func (r *room) isMod(userID string) bool {
	r.stateMu.RLock()
	defer r.stateMu.RUnlock()
	return r.mods[userID]
}

func (r *room) currentSettings() Settings {
	r.stateMu.RLock()
	defer r.stateMu.RUnlock()
	return r.settings
}

func (r *room) isVIP(userID string) bool {
	r.stateMu.RLock()
	defer r.stateMu.RUnlock()
	for _, v := range r.settings.VIPs {
		if v == userID {
			return true
		}
	}
	return false
}

// isEmoteOnly reports whether text is only emoji and :name: tokens that
// name emotes of the channel.
func isEmoteOnly(text string, emotes map[string]bool) bool {
	for _, f := range strings.Fields(text) {
		if len(f) > 2 && f[0] == ':' && f[len(f)-1] == ':' && validEmoteName(f[1:len(f)-1]) {
			if !emotes[f[1:len(f)-1]] {
				return false
			}
			continue
		}
		for _, r := range f {
			if !unicode.Is(unicode.So, r) && !unicode.Is(unicode.Sk, r) && r != 0xFE0F && r != 0x200D &&
				!(r >= 0x1F3FB && r <= 0x1F3FF) {
				return false
			}
		}
	}
	return true
}

func validEmoteName(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
