package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// MaxTimeout is the longest timeout: two weeks.
const MaxTimeout = 14 * 24 * time.Hour

// Actor is who performs a moderator action through the REST API.
type Actor struct {
	UserID  string
	Name    string
	IsAdmin bool
}

// moderate runs a moderator command from a client.
func (r *room) moderate(ctx context.Context, c *client, cmd Command) error {
	if !c.moderator() {
		return refuse("forbidden", "only the broadcaster and moderators can do that")
	}
	a := Actor{UserID: c.member.User.ID, Name: c.member.User.DisplayName, IsAdmin: c.member.IsAdmin}
	seq, err := r.moderateAs(ctx, a, cmd)
	if err != nil {
		return err
	}
	c.reply(ackFrame{Type: KindAck, Ref: cmd.Ref, Seq: seq})
	return nil
}

// moderateAs runs a moderator action for an actor already known to be a
// moderator of the room, records it in the audit log and returns the
// event's seq.
func (r *room) moderateAs(ctx context.Context, a Actor, cmd Command) (int64, error) {
	wall, media, bid := r.stamp(ctx, 0)
	ev := Event{At: wall, MediaMS: media, BroadcastID: bid, Actor: a.Name}
	audit := store.AuditEntry{ChannelID: r.ch.ID, ActorID: a.UserID, Action: cmd.Type}
	st := r.hub.cfg.Store
	switch cmd.Type {
	case "delete":
		r.mu.Lock()
		ok := cmd.Seq > 0 && cmd.Seq < r.next
		r.mu.Unlock()
		if !ok {
			return 0, refuse("bad_target", "seq names no message of this room")
		}
		ev.Kind, ev.Target = KindDelete, cmd.Seq
		audit.Target = strconv.FormatInt(cmd.Seq, 10)
	case "timeout", "ban", "unban":
		if cmd.UserID == "" {
			return 0, refuse("bad_target", "user_id is required")
		}
		if cmd.Type != "unban" && !r.mayAct(a, cmd.UserID) {
			return 0, refuse("forbidden", "the broadcaster and moderators cannot be timed out or banned by a moderator")
		}
		reason, err := optionalText("reason", cmd.Reason, 200)
		if err != nil {
			return 0, err
		}
		ev.UserID, ev.Reason, audit.Target, audit.Detail = cmd.UserID, reason, cmd.UserID, reason
		switch cmd.Type {
		case "timeout":
			d := time.Duration(cmd.Seconds) * time.Second
			if d < time.Second || d > MaxTimeout {
				return 0, refuse("bad_duration", "seconds must be 1 to 1209600 (two weeks)")
			}
			until := time.Now().Add(d)
			if err := st.SetBan(ctx, store.Ban{ChannelID: r.ch.ID, UserID: cmd.UserID, Until: until, Reason: reason, ActorID: a.UserID}); err != nil {
				return 0, notFoundAs(err, "no such user")
			}
			ev.Kind, ev.Until = KindTimeout, until.UnixMilli()
			audit.Detail = fmt.Sprintf("%ds %s", cmd.Seconds, reason)
		case "ban":
			if err := st.SetBan(ctx, store.Ban{ChannelID: r.ch.ID, UserID: cmd.UserID, Reason: reason, ActorID: a.UserID}); err != nil {
				return 0, notFoundAs(err, "no such user")
			}
			ev.Kind = KindBan
		default:
			if err := st.RemoveBan(ctx, r.ch.ID, cmd.UserID); err != nil {
				return 0, err
			}
			ev.Kind = KindUnban
		}
	case "settings":
		if cmd.Settings == nil {
			return 0, refuse("bad_settings", "settings is required")
		}
		set, err := validSettings(*cmd.Settings)
		if err != nil {
			return 0, err
		}
		raw, _ := json.Marshal(set) // Settings always marshals
		if err := st.SetRoomSettings(ctx, r.ch.ID, string(raw)); err != nil {
			return 0, err
		}
		ev.Kind, ev.Settings, audit.Detail = KindSettings, &set, string(raw)
	case "held.release", "held.reject":
		h, err := st.TakeHeldMessage(ctx, r.ch.ID, cmd.ID)
		if err != nil {
			return 0, notFoundAs(err, "that held message is gone: another moderator handled it")
		}
		audit.Target = h.UserID
		if cmd.Type == "held.reject" {
			return 0, st.AddAudit(ctx, audit)
		}
		var held Event
		if err := json.Unmarshal([]byte(h.Payload), &held); err != nil {
			return 0, fmt.Errorf("held message %s: %w", h.ID, err)
		}
		ev.Kind, ev.User, ev.Text, ev.ID, ev.Actor = KindChat, held.User, held.Text, store.NewID("msg"), ""
		ev.ReplyTo, ev.Mentions = held.ReplyTo, held.Mentions
	case "mod.add", "mod.remove":
		added := cmd.Type == "mod.add"
		var err error
		if added {
			err = st.AddModerator(ctx, r.ch.ID, cmd.UserID)
		} else {
			err = st.RemoveModerator(ctx, r.ch.ID, cmd.UserID)
		}
		if err != nil {
			return 0, notFoundAs(err, "no such user")
		}
		ev.Kind, ev.UserID, ev.Added, ev.ModName, audit.Target = KindModerator, cmd.UserID, &added, r.nameOf(ctx, cmd.UserID), cmd.UserID
	default:
		return 0, refuse("unknown_type", "unknown moderator action")
	}
	if ev.Kind == KindDelete {
		// Public replays leave the message out from now on.
		if err := st.MarkRoomMessageDeleted(ctx, r.ch.ID, ev.Target); err != nil {
			return 0, err
		}
	}
	// The audit row is written before the room hears of the action: an
	// action the owner's log would miss is refused instead.
	if err := st.AddAudit(ctx, audit); err != nil {
		return 0, fmt.Errorf("audit %s: %w", cmd.Type, err)
	}
	return r.append(ctx, ev, a.UserID)
}

// mayAct reports whether a may time out or ban target: nobody acts on the
// broadcaster, and only the broadcaster or an admin acts on a moderator.
func (r *room) mayAct(a Actor, target string) bool {
	if target == r.ch.OwnerID || target == a.UserID {
		return false
	}
	if r.isMod(target) {
		return a.IsAdmin || a.UserID == r.ch.OwnerID
	}
	return true
}

func notFoundAs(err error, msg string) error {
	if isNotFound(err) {
		return refuse("not_found", msg)
	}
	return err
}

func optionalText(field, s string, max int) (string, error) {
	if s == "" {
		return "", nil
	}
	return cleanText(field, s, max)
}

// validSettings checks settings from a moderator.
func validSettings(s Settings) (Settings, error) {
	switch {
	case s.SlowSeconds < 0 || s.SlowSeconds > 3600:
		return s, refuse("bad_settings", "slow_seconds must be 0 to 3600")
	case s.FollowersOnly != nil && (*s.FollowersOnly < 0 || *s.FollowersOnly > 129600):
		return s, refuse("bad_settings", "followers_only_minutes must be 0 to 129600 (90 days), or null for off")
	case len(s.VIPs) > 100:
		return s, refuse("bad_settings", "at most 100 VIPs")
	}
	switch s.Links {
	case "":
		s.Links = "allow"
	case "allow", "mods", "block":
	default:
		return s, refuse("bad_settings", `links must be "allow", "mods" or "block"`)
	}
	return s, nil
}
