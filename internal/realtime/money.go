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

// Announce stores and fans out a server-made event that moves no money
// (an ad break's start and end), stamped with the stream clock.
func (h *Hub) Announce(ctx context.Context, ch Channel, a Announcement) (Event, error) {
	var out Event
	err := h.withRoom(ctx, ch, func(r *room) error {
		ev, err := r.announcement(ctx, a)
		if err != nil {
			return err
		}
		if _, err := r.append(ctx, ev, a.UserID); err != nil {
			return err
		}
		out = ev
		return nil
	})
	return out, err
}

// Paid is the room event of a payment, made ready before the money moves:
// Event rides in the ledger posting (store.Posting.Event), so the money
// and its alert commit in one transaction and take one round of the
// group committer. Once the posting is stored, Deliver shows it; if the
// posting was refused or replayed, Withdraw forgets it.
type Paid struct {
	Event store.RoomEvent
	combo comboStep
}

// comboStep is what an event added to its sender's combo, to take back.
type comboStep struct {
	key, id string
	n       int64
}

// Prepare stamps a paid event with the stream clock and, for a gift,
// continues the sender's combo: the same gift following within ten
// seconds carries the combo's id and running count, so players grow one
// alert instead of stacking many.
func (h *Hub) Prepare(ctx context.Context, ch Channel, a Announcement) (Paid, error) {
	var out Paid
	err := h.withRoom(ctx, ch, func(r *room) error {
		ev, err := r.announcement(ctx, a)
		if err != nil {
			return err
		}
		if a.Kind == KindGift && a.Money != nil && a.Money.Gift != nil && a.User != nil {
			m := *a.Money
			out.combo = comboStep{key: a.User.ID + "\x00" + m.Gift.ID, n: max(m.Count, 1)}
			m.ComboID, m.ComboCount = r.continueCombo(out.combo.key, out.combo.n)
			out.combo.id = m.ComboID
			ev.Money = &m
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode %s: %w", ev.Kind, err)
		}
		out.Event = store.RoomEvent{ChannelID: ch.ID, Kind: ev.Kind, UserID: a.UserID, BroadcastID: ev.BroadcastID,
			MediaMS: ev.MediaMS, CreatedAt: time.UnixMilli(ev.At), Payload: string(payload)}
		return nil
	})
	return out, err
}

// Deliver fans out a paid event the ledger stored (with its sequence
// number) to this node's clients and, through the bus, to every node's.
// Were this node to stop before delivering, the other nodes' gap checks
// read the event from the store all the same.
func (h *Hub) Deliver(ctx context.Context, ch Channel, ev store.RoomEvent) {
	if ev.Seq <= 0 {
		return
	}
	_ = h.withRoom(ctx, ch, func(r *room) error {
		data := wire(ev.Seq, []byte(ev.Payload))
		if s, dev, ok := r.decode(ev.Seq, data); ok {
			r.mu.Lock()
			r.acceptLocked(s, dev, true)
			r.mu.Unlock()
		}
		if err := h.cfg.Bus.Publish(ctx, subject(ch.ID), data); err != nil {
			h.log.Warn("realtime: bus publish failed; other nodes will read the event from the store", "room", ch.Slug, "seq", ev.Seq, "err", err)
		}
		return nil
	})
}

// Withdraw takes back what Prepare added to a combo, for a payment that
// did not go through.
func (h *Hub) Withdraw(ch Channel, p Paid) {
	if p.combo.key == "" {
		return
	}
	_ = h.withRoom(context.Background(), ch, func(r *room) error { // the open has its own timeout
		r.comboMu.Lock()
		defer r.comboMu.Unlock()
		if c := r.combos[p.combo.key]; c != nil && c.id == p.combo.id {
			c.count = max(c.count-p.combo.n, 0)
		}
		return nil
	})
}

// announcement makes a server-made event, stamped with the stream clock.
func (r *room) announcement(ctx context.Context, a Announcement) (Event, error) {
	wall, media, bid := r.stamp(ctx, a.At)
	ev := Event{Kind: a.Kind, At: wall, MediaMS: media, BroadcastID: bid, User: a.User, Text: a.Text,
		ID: store.NewID("evt"), Money: a.Money}
	if a.Ad != nil {
		raw, err := json.Marshal(a.Ad)
		if err != nil {
			return Event{}, fmt.Errorf("encode ad: %w", err)
		}
		ev.Ad = raw
	}
	return ev, nil
}

func (r *room) continueCombo(key string, n int64) (string, int64) {
	r.comboMu.Lock()
	defer r.comboMu.Unlock()
	now := time.Now()
	c := r.combos[key]
	if c == nil || now.Sub(c.last) > comboWindow {
		c = &combo{id: store.NewID("combo")}
		r.combos[key] = c
	}
	c.count += n
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

// markSubscriberLocked gives a new subscriber's open connections the
// subscriber badge and subscriber-only chat at once.
func (r *room) markSubscriberLocked(userID string) {
	for c := range r.clients {
		if c.signedIn() && c.member.User.ID == userID {
			c.sub.Store(true)
			c.subAt.Store(time.Now().UnixMilli())
		}
	}
}

// CheckText applies the room's chat filters to a message that comes with
// money (a tip): length and UTF-8, the sender's ban or timeout,
// subscriber-only mode and subscriber emotes, blocked terms (a term that
// would hold a chat message refuses a paid one: money is never held for
// review) and the link policy. It returns the cleaned
// text; a refusal has a Code() for the API.
func (h *Hub) CheckText(ctx context.Context, ch Channel, m Member, text string) (string, error) {
	var out string
	err := h.withRoom(ctx, ch, func(r *room) error {
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
		c.refreshSub(ctx)
		if err := r.checkSubscriberEmotes(ctx, c, clean); err != nil {
			return err
		}
		mod := c.moderator()
		if !mod {
			set := r.currentSettings()
			if set.SubscribersOnly && !c.sub.Load() {
				return refuse("subscribers_only", "this chat is for subscribers right now; send the tip without a message")
			}
			if linkRE.MatchString(clean) && set.Links != "" && set.Links != "allow" && !(set.Links == "mods" && r.isVIP(c.user.ID)) {
				return refuse("links_blocked", "links are not allowed in this chat")
			}
			terms, err := r.blockedTerms(ctx)
			if err != nil {
				return err
			}
			lower := foldForTerms(clean)
			for _, t := range terms {
				if containsTerm(lower, t.Term) {
					return refuse("blocked_term", "your message contains a term this chat does not allow; change it and send again")
				}
			}
		}
		out = clean
		return nil
	})
	return out, err
}

// emoteSet is a channel's emotes: every name, and the subscriber-only ones.
type emoteSet struct {
	all map[string]bool
	sub []string
}

// channelEmotes returns the channel's emotes, read again every ten seconds.
func (r *room) channelEmotes(ctx context.Context) (emoteSet, error) {
	r.comboMu.Lock()
	if time.Since(r.emotesAt) < 10*time.Second {
		e := r.emotes
		r.comboMu.Unlock()
		return e, nil
	}
	r.comboMu.Unlock()
	es, err := r.hub.cfg.Store.Emotes(ctx, r.ch.ID)
	if err != nil {
		return emoteSet{}, err
	}
	set := emoteSet{all: make(map[string]bool, len(es))}
	for _, e := range es {
		set.all[e.Name] = true
		if e.SubscriberOnly {
			set.sub = append(set.sub, e.Name)
		}
	}
	r.comboMu.Lock()
	r.emotes, r.emotesAt = set, time.Now()
	r.comboMu.Unlock()
	return set, nil
}

// checkSubscriberEmotes refuses a non-subscriber's message that uses an
// emote the creator keeps for subscribers.
func (r *room) checkSubscriberEmotes(ctx context.Context, c *client, text string) error {
	if !strings.Contains(text, ":") || c.sub.Load() || (c.signedIn() && c.member.User.ID == r.ch.OwnerID) {
		return nil
	}
	set, err := r.channelEmotes(ctx)
	if err != nil {
		return err
	}
	for _, n := range set.sub {
		if strings.Contains(text, ":"+n+":") {
			return refuse("subscriber_emote", ":"+n+": is for subscribers of this channel; subscribe to use it")
		}
	}
	return nil
}
