// Package realtime owns a channel's live room: chat with moderation, polls,
// Q&A and reactions, over WebSocket. Every room event takes a per-room
// sequence number from the store in the transaction that saves it, is
// stamped with the broadcast's stream clock, and fans out through a bus
// (in-process or NATS) to every node, which delivers it to its clients in
// sequence order. docs/REALTIME.md describes the wire protocol.
package realtime

import (
	"encoding/json"
	"strconv"
)

// Event kinds: sequenced room events (stored, replayable) and transient
// frames (state snapshots and replies to one client).
const (
	KindChat      = "chat"        // a chat message
	KindDelete    = "chat.delete" // a moderator removed a message
	KindTimeout   = "user.timeout"
	KindBan       = "user.ban"
	KindUnban     = "user.unban"
	KindSettings  = "room.settings"
	KindModerator = "room.moderator" // appointed or removed
	KindPollOpen  = "poll.open"
	KindPollClose = "poll.close" // with the final, exact tally
	KindQuestion  = "qa.question"
	KindReactions = "reactions"  // counts of one window
	KindPollVotes = "poll.votes" // the votes one node counted in one window, for replays
	KindGift      = "gift"       // a paid gift (internal/money)
	KindTip       = "tip"        // a paid tip with a message
	KindSub       = "sub"        // a subscription started, renewed or gifted
	KindAdBreak   = "ad.break"   // an ad break began
	KindAdEnd     = "ad.end"     // an ad break ended

	// Transient (no seq).
	KindWelcome   = "welcome"
	KindHistory   = "history"
	KindPollTally = "poll.tally"
	KindHeld      = "chat.held" // to moderators: a message awaits review
	KindAck       = "ack"
	KindError     = "error"
	KindPong      = "pong"
)

// User is the author of an event as clients show it.
type User struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Badges []string `json:"badges,omitempty"` // broadcaster, moderator, vip, subscriber, guest
}

// Event is the body of a sequenced room event, as stored and as sent. Seq
// is not part of the stored payload: wire() adds it.
type Event struct {
	Kind string `json:"type"`
	// Wall clock (unix ms) and the stream clock: milliseconds into the
	// broadcast on its PROGRAM-DATE-TIME timeline, -1 off the air.
	At          int64  `json:"at"`
	MediaMS     int64  `json:"media_ms"`
	BroadcastID string `json:"broadcast_id,omitempty"`

	User     *User    `json:"user,omitempty"`
	Text     string   `json:"text,omitempty"`
	ID       string   `json:"id,omitempty"`       // message, poll or question id
	ReplyTo  int64    `json:"reply_to,omitempty"` // seq of the message replied to
	Mentions []string `json:"mentions,omitempty"` // lower-cased names mentioned with @

	Target  int64  `json:"target,omitempty"`  // chat.delete: the seq removed
	UserID  string `json:"user_id,omitempty"` // moderation target
	Until   int64  `json:"until,omitempty"`   // timeout end, unix ms
	Actor   string `json:"actor,omitempty"`   // moderator's name
	Reason  string `json:"reason,omitempty"`
	Added   *bool  `json:"added,omitempty"` // room.moderator
	ModName string `json:"mod_name,omitempty"`

	Settings *Settings        `json:"settings,omitempty"`
	Poll     *PollView        `json:"poll,omitempty"`
	Question *QAView          `json:"question,omitempty"`
	Counts   map[string]int64 `json:"counts,omitempty"` // reactions
	Deltas   []int64          `json:"deltas,omitempty"` // poll.votes: votes per option
	Money    *MoneyView       `json:"money,omitempty"`  // gift, tip, sub
	Ad       json.RawMessage  `json:"ad,omitempty"`     // ad.break, ad.end: the break as the money API shows it
}

// MoneyView is what a gift, tip or subscription event shows.
type MoneyView struct {
	Gift       *GiftView `json:"gift,omitempty"`
	Count      int64     `json:"count,omitempty"`
	Coins      int64     `json:"coins"`
	ComboID    string    `json:"combo_id,omitempty"`
	ComboCount int64     `json:"combo_count,omitempty"`
	Tier       int       `json:"tier,omitempty"`
	Months     int       `json:"months,omitempty"`
	GiftedBy   *User     `json:"gifted_by,omitempty"`
}

// GiftView is a catalog gift as alerts show it.
type GiftView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Image string `json:"image,omitempty"`
	Tier  int    `json:"tier"`
}

// PollView is a poll as clients show it.
type PollView struct {
	ID       string   `json:"id"`
	Question string   `json:"question"`
	Options  []string `json:"options"`
	Counts   []int64  `json:"counts"`
	Total    int64    `json:"total"`
	OpenedAt int64    `json:"opened_at"`
	ClosesAt int64    `json:"closes_at"`
	Closed   bool     `json:"closed"`
}

// QAView is a question as clients show it.
type QAView struct {
	ID       string `json:"id"`
	User     *User  `json:"user,omitempty"`
	Text     string `json:"text,omitempty"`
	State    string `json:"state"`
	Pinned   bool   `json:"pinned"`
	Votes    int    `json:"votes"`
	MediaMS  int64  `json:"media_ms"`
	Redacted bool   `json:"redacted,omitempty"` // a pending question: only moderators see its text (its author has the ack)
}

// Command is one frame from a client.
type Command struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"` // echoed in the ack or error

	Text    string `json:"text,omitempty"`
	ReplyTo int64  `json:"reply_to,omitempty"`
	// At is the unix ms program date-time of the client's playhead, so an
	// event lands on the stream clock where the viewer saw it.
	At int64 `json:"at,omitempty"`

	Seq     int64  `json:"seq,omitempty"`     // delete
	UserID  string `json:"user_id,omitempty"` // timeout, ban, unban, mod
	Seconds int    `json:"seconds,omitempty"` // timeout length; poll duration
	Reason  string `json:"reason,omitempty"`

	Question string    `json:"question,omitempty"` // poll.open
	Options  []string  `json:"options,omitempty"`
	PollID   string    `json:"poll_id,omitempty"`
	Option   *int      `json:"option,omitempty"` // poll.vote
	ID       string    `json:"id,omitempty"`     // question id, held message id
	State    string    `json:"state,omitempty"`  // qa.moderate
	Pinned   *bool     `json:"pinned,omitempty"`
	Emoji    string    `json:"emoji,omitempty"`
	Settings *Settings `json:"settings,omitempty"`
}

// Settings are a room's chat rules, set by its broadcaster or moderators.
type Settings struct {
	AnonymousCanPost bool     `json:"anonymous_can_post"`
	SlowSeconds      int      `json:"slow_seconds"`           // 0: off
	FollowersOnly    *int     `json:"followers_only_minutes"` // nil: off; minimum follow age
	SubscribersOnly  bool     `json:"subscribers_only"`
	EmoteOnly        bool     `json:"emote_only"`
	Links            string   `json:"links"` // allow | mods | block
	VIPs             []string `json:"vips,omitempty"`
}

// Wire returns a stored event as clients get it: {"seq":N,...}.
func Wire(seq int64, payload []byte) []byte { return wire(seq, payload) }

// wire returns the event's payload with its sequence number in front:
// {"seq":N,...}. payload is a JSON object.
func wire(seq int64, payload []byte) []byte {
	b := make([]byte, 0, len(payload)+24)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	if len(payload) > 2 {
		b = append(b, ',')
	}
	return append(b, payload[1:]...)
}

// transient encodes a frame without a sequence number.
func transient(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"type":"error","code":"internal","message":"could not encode a frame"}`)
	}
	return b
}

// errorFrame is a reply to one client that did something wrong.
type errorFrame struct {
	Type    string `json:"type"`
	Ref     string `json:"ref,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	RetryMS int64  `json:"retry_ms,omitempty"`
}

type ackFrame struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
	Seq  int64  `json:"seq,omitempty"`
	ID   string `json:"id,omitempty"`
}
