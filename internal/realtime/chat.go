package realtime

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/livehouse/livehouse/internal/store"
)

var (
	mentionRE = regexp.MustCompile(`(?:^|[^\w@])@([A-Za-z0-9_.\-]{1,32})`)
	linkRE    = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|io|gg|tv|co|me|ly|xyz|info|app|dev)\b`)
)

// handle runs one command from a client. Every refusal goes back to the
// sender as an error frame that says what to do.
func (r *room) handle(ctx context.Context, c *client, cmd Command) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	switch cmd.Type {
	case "ping":
		if c.junkFrame() {
			c.reply(ackFrame{Type: KindPong, Ref: cmd.Ref})
		}
		return
	case "send":
		err = r.send(ctx, c, cmd)
	case "delete", "timeout", "ban", "unban", "settings", "held.release", "held.reject":
		err = r.moderate(ctx, c, cmd)
	case "poll.open":
		err = r.openPoll(ctx, c, cmd)
	case "poll.vote":
		err = r.vote(ctx, c, cmd)
	case "poll.close":
		err = r.closePollCmd(ctx, c, cmd)
	case "qa.ask":
		err = r.ask(ctx, c, cmd)
	case "qa.upvote":
		err = r.upvote(ctx, c, cmd)
	case "qa.moderate":
		err = r.moderateQuestion(ctx, c, cmd)
	case "react":
		err = r.react(ctx, c, cmd)
	default:
		err = refuse("unknown_type", fmt.Sprintf("unknown command type %q; see docs/REALTIME.md", clip(cmd.Type, 40)))
	}
	if err == nil {
		return
	}
	var rf *refusal
	if errors.As(err, &rf) {
		c.fail(cmd.Ref, rf.code, rf.msg, rf.retry)
		switch rf.code {
		case "unknown_type", "bad_text", "too_long":
			c.junkFrame()
		}
		return
	}
	r.hub.log.Warn("realtime: command failed", "room", r.ch.Slug, "type", cmd.Type, "err", err)
	c.fail(cmd.Ref, "unavailable", "that did not go through; try again in a moment", time.Second)
}

// refusal is a command refused for a reason the sender can act on.
type refusal struct {
	code, msg string
	retry     time.Duration
}

func (e *refusal) Error() string { return e.msg }

// Code is the refusal's machine-readable code (docs/REALTIME.md).
func (e *refusal) Code() string { return e.code }

func refuse(code, msg string) error { return &refusal{code: code, msg: msg} }

func refuseRetry(code, msg string, retry time.Duration) error {
	return &refusal{code: code, msg: msg, retry: retry}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// cleanText validates untrusted text: valid UTF-8, no control characters,
// 1 to max characters after trimming.
func cleanText(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", refuse("bad_text", field+" is not valid UTF-8")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", refuse("bad_text", field+" is empty")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", refuse("too_long", fmt.Sprintf("%s is %d characters; the limit is %d", field, n, max))
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') {
			return "", refuse("bad_text", field+" contains control or direction-override characters")
		}
	}
	return s, nil
}

// senderKey names who sends, for rate limits and slow mode: the account,
// or for a guest its network.
func (c *client) senderKey() string {
	if c.signedIn() {
		return "u:" + c.member.User.ID
	}
	return "ip:" + c.member.IP
}

// limit spends the sender's budget for one action.
func (r *room) limit(c *client) error { return r.limitIn(c, "") }

// limitIn spends the sender's budget in a pool of its own (votes: a viewer
// who has just chatted can still vote at once).
func (r *room) limitIn(c *client, pool string) error {
	cfg := r.hub.cfg
	if c.moderator() {
		return nil // moderators must keep up with a flood; the room-wide budget still applies
	}
	key := pool + c.senderKey()
	if cfg.PerUser != nil {
		if wait, ok := cfg.PerUser.Take(key); !ok {
			return refuseRetry("rate_limited", fmt.Sprintf("you are sending too fast; wait %.1f s", wait.Seconds()), wait)
		}
	}
	if cfg.PerIP != nil && c.member.IP != "" {
		if wait, ok := cfg.PerIP.Take(pool + c.member.IP); !ok {
			return refuseRetry("rate_limited", fmt.Sprintf("too many messages from your network; wait %.1f s", wait.Seconds()), wait)
		}
	}
	return nil
}

// banned refuses a banned or timed-out account.
func (r *room) banned(ctx context.Context, c *client) error {
	if !c.signedIn() {
		return nil
	}
	id := c.member.User.ID
	r.mu.Lock()
	b, known := r.bans[id]
	r.mu.Unlock()
	if !known {
		sb, ok, err := r.hub.cfg.Store.BanOf(ctx, r.ch.ID, id)
		if err != nil {
			return err
		}
		if ok {
			b = &sb
		}
		r.mu.Lock()
		if _, raced := r.bans[id]; !raced {
			r.bans[id] = b
		}
		r.mu.Unlock()
	}
	if b == nil || !b.Active(time.Now()) {
		return nil
	}
	if b.Until.IsZero() {
		return refuse("banned", "you are banned from this chat")
	}
	left := time.Until(b.Until).Round(time.Second)
	return refuseRetry("timed_out", "you are timed out for "+humanDuration(left)+" more", left)
}

// send posts a chat message after every rule of the room has passed.
func (r *room) send(ctx context.Context, c *client, cmd Command) error {
	set := r.currentSettings()
	mod := c.moderator()
	if !c.signedIn() && !set.AnonymousCanPost {
		return refuse("sign_in_required", "sign in to chat")
	}
	text, err := cleanText("message", cmd.Text, r.hub.cfg.MaxMessage)
	if err != nil {
		return err
	}
	if err := r.banned(ctx, c); err != nil {
		return err
	}
	if err := r.limit(c); err != nil {
		return err
	}
	c.refreshSub(ctx)
	if !r.busy.Allow() {
		return refuseRetry("room_busy", "the chat is flooded right now; try again in a second", time.Second)
	}
	if !mod {
		if err := r.rules(ctx, c, set, text); err != nil {
			return err
		}
	}
	if err := r.checkSubscriberEmotes(ctx, c, text); err != nil {
		return err
	}
	ev, err := r.message(ctx, c, cmd, text)
	if err != nil {
		return err
	}
	if held, err := r.checkTerms(ctx, c, cmd.Ref, ev, mod); err != nil || held {
		return err
	}
	seq, err := r.append(ctx, ev, c.user.ID)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.lastSent[c.senderKey()] = time.Now()
	r.mu.Unlock()
	c.reply(ackFrame{Type: KindAck, Ref: cmd.Ref, Seq: seq, ID: ev.ID})
	return nil
}

// message builds a chat event.
func (r *room) message(ctx context.Context, c *client, cmd Command, text string) (Event, error) {
	if cmd.ReplyTo < 0 {
		return Event{}, refuse("bad_reply", "reply_to must be the seq of a message")
	}
	if cmd.ReplyTo > 0 {
		r.mu.Lock()
		ok := cmd.ReplyTo < r.next
		r.mu.Unlock()
		if !ok {
			return Event{}, refuse("bad_reply", "reply_to names no message of this room")
		}
	}
	wall, media, bid := r.stamp(ctx, cmd.At)
	u := c.user
	u.Badges = c.badges()
	ev := Event{Kind: KindChat, At: wall, MediaMS: media, BroadcastID: bid, User: &u, Text: text,
		ID: store.NewID("msg"), ReplyTo: cmd.ReplyTo}
	seen := map[string]bool{}
	for _, m := range mentionRE.FindAllStringSubmatch(text, 10) {
		n := strings.ToLower(m[1])
		if !seen[n] {
			seen[n] = true
			ev.Mentions = append(ev.Mentions, n)
		}
	}
	return ev, nil
}

// rules applies the room's modes to a non-moderator's message.
func (r *room) rules(ctx context.Context, c *client, set Settings, text string) error {
	// Slow mode is per node: a poster whose connections sit on two nodes
	// gets one message per node per window (docs/REALTIME.md).
	if set.SlowSeconds > 0 {
		r.mu.Lock()
		last := r.lastSent[c.senderKey()]
		r.mu.Unlock()
		if wait := time.Until(last.Add(time.Duration(set.SlowSeconds) * time.Second)); wait > 0 {
			return refuseRetry("slow_mode", fmt.Sprintf("slow mode is on: one message every %d s; wait %.0f s", set.SlowSeconds, wait.Seconds()+0.5), wait)
		}
	}
	broadcaster := c.signedIn() && c.member.User.ID == r.ch.OwnerID
	if set.FollowersOnly != nil && !broadcaster {
		if !c.signedIn() {
			return refuse("followers_only", "this chat is for followers: sign in and follow the channel")
		}
		at, ok, err := r.hub.cfg.Store.FollowedAt(ctx, c.member.User.ID, r.ch.ID)
		if err != nil {
			return err
		}
		need := time.Duration(*set.FollowersOnly) * time.Minute
		if !ok {
			return refuse("followers_only", "this chat is for followers: follow the channel to chat")
		}
		if wait := time.Until(at.Add(need)); wait > 0 {
			return refuseRetry("followers_only", fmt.Sprintf("this chat is for followers of at least %d min; you can chat in %s", *set.FollowersOnly, wait.Round(time.Second)), wait)
		}
	}
	if set.SubscribersOnly && !broadcaster && !c.sub.Load() {
		return refuse("subscribers_only", "this chat is for subscribers right now")
	}
	if set.EmoteOnly {
		es, err := r.channelEmotes(ctx)
		if err != nil {
			return err
		}
		if !isEmoteOnly(text, es.all) {
			return refuse("emote_only", "emote-only mode is on: send only this channel's emotes and emoji")
		}
	}
	if linkRE.MatchString(text) {
		switch set.Links {
		case "block":
			return refuse("links_blocked", "links are not allowed in this chat")
		case "mods":
			if !r.isVIP(c.user.ID) {
				return refuse("links_blocked", "only moderators and VIPs may post links here")
			}
		}
	}
	return nil
}

// checkTerms applies the channel's and the server's blocked terms to the
// message ev. A term with action hold stores the message (its reply and
// mentions too) for review and tells moderators.
func (r *room) checkTerms(ctx context.Context, c *client, ref string, ev Event, mod bool) (held bool, err error) {
	text := ev.Text
	terms, err := r.blockedTerms(ctx)
	if err != nil {
		return false, err
	}
	lower := foldForTerms(text)
	for _, t := range terms {
		if !containsTerm(lower, t.Term) {
			continue
		}
		if t.Action == store.TermBlock {
			if mod {
				continue
			}
			return false, refuse("blocked_term", "your message contains a term this chat does not allow")
		}
		if mod {
			continue
		}
		payload := transient(ev)
		id, err := r.hub.cfg.Store.HoldMessage(ctx, store.HeldMessage{ChannelID: r.ch.ID, UserID: c.user.ID, Payload: string(payload), Term: t.Term})
		if err != nil {
			return false, err
		}
		r.sendFrame(map[string]any{"type": KindHeld, "id": id, "user": c.user, "text": text, "term": t.Term}, true)
		c.fail(ref, "held", "your message is held for a moderator's review", 0)
		return true, nil
	}
	return false, nil
}

func (r *room) blockedTerms(ctx context.Context) ([]store.BlockedTerm, error) {
	r.mu.Lock()
	if time.Since(r.termsAt) < 10*time.Second {
		t := r.terms
		r.mu.Unlock()
		return t, nil
	}
	r.mu.Unlock()
	t, err := r.hub.cfg.Store.BlockedTerms(ctx, r.ch.ID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.terms, r.termsAt = t, time.Now()
	r.mu.Unlock()
	return t, nil
}

// invalidateTerms makes the next message read the terms again.
func (r *room) invalidateTerms() {
	r.mu.Lock()
	r.termsAt = time.Time{}
	r.mu.Unlock()
}

// foldForTerms returns text as blocked terms are matched against it:
// lower case, without invisible format characters (U+200B zero-width
// space, U+2060 word joiner, U+FEFF, U+00AD soft hyphen and the rest of
// category Cf), which would otherwise let "b\u200bad" pass "bad".
func foldForTerms(text string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, text))
}

// containsTerm reports whether folded text holds the term.
func containsTerm(folded, term string) bool {
	t := foldForTerms(term)
	return t != "" && strings.Contains(folded, t)
}

// humanDuration says a wait the way people do: "45 s", "10 min", "2 h 5 min".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(1, int(d.Seconds()+0.5)))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes()+0.5)%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24+0.5))
}
