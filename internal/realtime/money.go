package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// comboWindow is how soon the same gift from the same viewer must follow
// the last one to continue its combo (one growing alert, not many).
const comboWindow = 10 * time.Second

// combo is a run of one viewer's same gift.
type combo struct {
	id    string
	count int64
	last  time.Time
}

// Announcement is a server-made room event: a gift, tip, subscription or
// ad break, made after its money moved. At is the sender's playhead
// program date-time (unix ms, 0: the live edge), for the stream clock.
type Announcement struct {
	Kind   string
	User   *User
	Text   string
	Money  *MoneyView
	Ad     any
	At     int64
	UserID string // the stored event's user, for replays by user
}

// Announce stores and fans out a server-made event, stamped with the
// stream clock, and returns its sequence number. A gift continues the
// sender's combo when the same gift follows within ten seconds: the event
// carries the combo's id and running count. A sub event marks the
// subscriber's connections as subscribers at once.
func (h *Hub) Announce(ctx context.Context, ch Channel, a Announcement) (Event, error) {
	var out Event
	err := h.withRoom(ch, func(r *room) error {
		wall, media, bid := r.stamp(ctx, a.At)
		ev := Event{Kind: a.Kind, At: wall, MediaMS: media, BroadcastID: bid, User: a.User, Text: a.Text,
			ID: store.NewID("evt"), Money: a.Money}
		if a.Ad != nil {
			raw, err := json.Marshal(a.Ad)
			if err != nil {
				return fmt.Errorf("encode ad: %w", err)
			}
			ev.Ad = raw
		}
		if a.Kind == KindGift && a.Money != nil && a.Money.Gift != nil && a.User != nil {
			m := *a.Money
			m.ComboID, m.ComboCount = r.continueCombo(a.User.ID, m.Gift.ID, m.Count)
			ev.Money = &m
		}
		seq, err := r.appendGrouped(ctx, ev, a.UserID)
		if err != nil {
			return err
		}
		_ = seq
		out = ev
		return nil
	})
	return out, err
}

func (r *room) continueCombo(userID, giftID string, n int64) (string, int64) {
	r.comboMu.Lock()
	defer r.comboMu.Unlock()
	key := userID + "\x00" + giftID
	now := time.Now()
	c := r.combos[key]
	if c == nil || now.Sub(c.last) > comboWindow {
		c = &combo{id: store.NewID("combo")}
		r.combos[key] = c
	}
	c.count += max(n, 1)
	c.last = now
	if len(r.combos) > 1000 && now.Sub(r.comboSwept) > comboWindow { // forget stale runs, once a window
		r.comboSwept = now
		for k, v := range r.combos {
			if now.Sub(v.last) > comboWindow {
				delete(r.combos, k)
			}
		}
	}
	return c.id, c.count
}

// appendReq is one event waiting for a grouped append.
type appendReq struct {
	ev     Event
	userID string
	done   chan appendRes
}

type appendRes struct {
	seq int64
	err error
}

// appendGrouped stores an event like append, but concurrent callers share
// database transactions: the first becomes the leader and writes every
// event queued meanwhile in one AppendRoomEvents, so a burst of paid
// events costs one transaction, not one each.
func (r *room) appendGrouped(ctx context.Context, ev Event, userID string) (int64, error) {
	req := appendReq{ev: ev, userID: userID, done: make(chan appendRes, 1)}
	r.groupMu.Lock()
	r.groupQ = append(r.groupQ, req)
	lead := !r.groupLeader
	r.groupLeader = true
	r.groupMu.Unlock()
	if lead {
		for {
			r.groupMu.Lock()
			batch := r.groupQ
			r.groupQ = nil
			if len(batch) == 0 {
				r.groupLeader = false
				r.groupMu.Unlock()
				break
			}
			r.groupMu.Unlock()
			r.appendBatch(context.WithoutCancel(ctx), batch)
		}
	}
	select {
	case res := <-req.done:
		return res.seq, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (r *room) appendBatch(ctx context.Context, batch []appendReq) {
	evs := make([]store.RoomEvent, len(batch))
	payloads := make([][]byte, len(batch))
	for i, q := range batch {
		p, err := json.Marshal(q.ev)
		if err != nil {
			for _, q := range batch {
				q.done <- appendRes{err: fmt.Errorf("encode %s: %w", q.ev.Kind, err)}
			}
			return
		}
		payloads[i] = p
		evs[i] = store.RoomEvent{Kind: q.ev.Kind, UserID: q.userID, BroadcastID: q.ev.BroadcastID, MediaMS: q.ev.MediaMS,
			CreatedAt: time.UnixMilli(q.ev.At), Payload: string(p)}
	}
	r.appendMu.Lock()
	stored, err := r.hub.cfg.Store.AppendRoomEvents(ctx, r.ch.ID, evs)
	r.appendMu.Unlock()
	if err != nil {
		for _, q := range batch {
			q.done <- appendRes{err: err}
		}
		return
	}
	frames := make([][]byte, len(stored))
	r.mu.Lock()
	for i, e := range stored {
		frames[i] = wire(e.Seq, payloads[i])
		if s, dev, ok := r.decode(e.Seq, frames[i]); ok {
			r.acceptLocked(s, dev, true)
		}
	}
	r.mu.Unlock()
	for i, e := range stored {
		if err := r.hub.cfg.Bus.Publish(ctx, subject(r.ch.ID), frames[i]); err != nil {
			r.hub.log.Warn("realtime: bus publish failed; other nodes will read the event from the store", "room", r.ch.Slug, "seq", e.Seq, "err", err)
		}
		batch[i].done <- appendRes{seq: e.Seq}
	}
}

// markSubscriberLocked gives a new subscriber's open connections the
// subscriber badge and subscriber-only chat at once.
func (r *room) markSubscriberLocked(userID string) {
	for c := range r.clients {
		if c.signedIn() && c.member.User.ID == userID {
			c.sub.Store(true)
		}
	}
}

// CheckText applies the room's chat filters to a message that comes with
// money (a tip): length and UTF-8, the sender's ban or timeout, blocked
// terms (a term that would hold a chat message refuses a paid one: money
// is never held for review) and the link policy. It returns the cleaned
// text; a refusal has a Code() for the API.
func (h *Hub) CheckText(ctx context.Context, ch Channel, m Member, text string) (string, error) {
	var out string
	err := h.withRoom(ch, func(r *room) error {
		clean, err := cleanText("message", text, r.hub.cfg.MaxMessage)
		if err != nil {
			if strings.TrimSpace(text) == "" {
				return nil // a tip may come without a message
			}
			return err
		}
		c := &client{room: r, member: m}
		if m.User != nil {
			c.user = User{ID: m.User.ID, Name: m.User.DisplayName}
		}
		if err := r.banned(ctx, c); err != nil {
			return err
		}
		mod := c.moderator()
		if !mod {
			set := r.currentSettings()
			if linkRE.MatchString(clean) && set.Links != "" && set.Links != "allow" && !(set.Links == "mods" && r.isVIP(c.user.ID)) {
				return refuse("links_blocked", "links are not allowed in this chat")
			}
			terms, err := r.blockedTerms(ctx)
			if err != nil {
				return err
			}
			lower := strings.ToLower(clean)
			for _, t := range terms {
				if strings.Contains(lower, t.Term) {
					return refuse("blocked_term", "your message contains a term this chat does not allow; change it and send again")
				}
			}
		}
		out = clean
		return nil
	})
	return out, err
}

// subscriberEmotes returns the channel's subscriber-only emote names,
// read again every ten seconds.
func (r *room) subscriberEmotes(ctx context.Context) ([]string, error) {
	r.comboMu.Lock()
	if time.Since(r.subEmotesAt) < 10*time.Second {
		e := r.subEmotes
		r.comboMu.Unlock()
		return e, nil
	}
	r.comboMu.Unlock()
	e, err := r.hub.cfg.Store.SubscriberEmotes(ctx, r.ch.ID)
	if err != nil {
		return nil, err
	}
	r.comboMu.Lock()
	r.subEmotes, r.subEmotesAt = e, time.Now()
	r.comboMu.Unlock()
	return e, nil
}

// checkSubscriberEmotes refuses a non-subscriber's message that uses an
// emote the creator keeps for subscribers.
func (r *room) checkSubscriberEmotes(ctx context.Context, c *client, text string) error {
	if !strings.Contains(text, ":") || c.sub.Load() || (c.signedIn() && c.member.User.ID == r.ch.OwnerID) {
		return nil
	}
	names, err := r.subscriberEmotes(ctx)
	if err != nil || len(names) == 0 {
		return err
	}
	for _, n := range names {
		if strings.Contains(text, ":"+n+":") {
			return refuse("subscriber_emote", ":"+n+": is for subscribers of this channel; subscribe to use it")
		}
	}
	return nil
}
