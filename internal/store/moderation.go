package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AddModerator appoints the user as a moderator of the channel's chat.
func (s *Store) AddModerator(ctx context.Context, channelID, userID string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO room_moderators (channel_id, user_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (channel_id, user_id) DO NOTHING`, channelID, userID, toMillis(s.now()))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("add moderator: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("add moderator: %w", err)
	}
	return nil
}

// RemoveModerator revokes the appointment; not a moderator is a no-op.
func (s *Store) RemoveModerator(ctx context.Context, channelID, userID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM room_moderators WHERE channel_id = $1 AND user_id = $2`, channelID, userID); err != nil {
		return fmt.Errorf("remove moderator: %w", err)
	}
	return nil
}

// Moderators lists the channel's moderators' user ids.
func (s *Store) Moderators(ctx context.Context, channelID string) ([]string, error) {
	return s.strings(ctx, "moderators", `SELECT user_id FROM room_moderators WHERE channel_id = $1 ORDER BY created_at`, channelID)
}

func (s *Store) strings(ctx context.Context, what, q string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Ban is a ban (Until zero) or a timeout from a channel's chat.
type Ban struct {
	ChannelID string
	UserID    string
	Until     time.Time // zero: banned until unbanned
	Reason    string
	ActorID   string
	CreatedAt time.Time
}

// Active reports whether the ban still applies at now.
func (b Ban) Active(now time.Time) bool { return b.Until.IsZero() || now.Before(b.Until) }

// SetBan bans the user or times them out, replacing any earlier ban.
func (s *Store) SetBan(ctx context.Context, b Ban) error {
	until := int64(0)
	if !b.Until.IsZero() {
		until = toMillis(b.Until)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO room_bans (channel_id, user_id, until_ms, reason, actor_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, user_id) DO UPDATE SET
		until_ms = excluded.until_ms, reason = excluded.reason, actor_id = excluded.actor_id, created_at = excluded.created_at`,
		b.ChannelID, b.UserID, until, b.Reason, b.ActorID, toMillis(s.now()))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("ban: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("ban: %w", err)
	}
	return nil
}

// RemoveBan lifts a ban or timeout; none is a no-op.
func (s *Store) RemoveBan(ctx context.Context, channelID, userID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM room_bans WHERE channel_id = $1 AND user_id = $2`, channelID, userID); err != nil {
		return fmt.Errorf("unban: %w", err)
	}
	return nil
}

// BanOf returns the user's ban in the channel; ok is false when there is none.
func (s *Store) BanOf(ctx context.Context, channelID, userID string) (Ban, bool, error) {
	b := Ban{ChannelID: channelID, UserID: userID}
	var until, created int64
	err := s.db.QueryRowContext(ctx, `SELECT until_ms, reason, actor_id, created_at FROM room_bans
		WHERE channel_id = $1 AND user_id = $2`, channelID, userID).Scan(&until, &b.Reason, &b.ActorID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Ban{}, false, nil
	}
	if err != nil {
		return Ban{}, false, fmt.Errorf("ban of: %w", err)
	}
	if until != 0 {
		b.Until = fromMillis(until)
	}
	b.CreatedAt = fromMillis(created)
	return b, true, nil
}

// Blocked-term actions.
const (
	TermBlock = "block" // refuse the message
	TermHold  = "hold"  // hold it for a moderator's review
)

// BlockedTerm is a word or phrase refused or held in chat. ChannelID ""
// is the server-wide list.
type BlockedTerm struct {
	ChannelID string `json:"-"`
	Term      string `json:"term"`
	Action    string `json:"action"`
}

// SetBlockedTerm adds or updates a term (lower-cased) of the channel's list,
// or of the server-wide list when channelID is "".
func (s *Store) SetBlockedTerm(ctx context.Context, t BlockedTerm) error {
	term := strings.ToLower(strings.TrimSpace(t.Term))
	if term == "" || len(term) > 100 {
		return fieldErr("term", "must be 1 to 100 characters")
	}
	if t.Action != TermBlock && t.Action != TermHold {
		return fieldErr("action", "must be %q or %q", TermBlock, TermHold)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO blocked_terms (channel_id, term, action, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel_id, term) DO UPDATE SET action = excluded.action`, t.ChannelID, term, t.Action, toMillis(s.now()))
	if err != nil {
		return fmt.Errorf("set blocked term: %w", err)
	}
	return nil
}

// RemoveBlockedTerm deletes a term from a list.
func (s *Store) RemoveBlockedTerm(ctx context.Context, channelID, term string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM blocked_terms WHERE channel_id = $1 AND term = $2`,
		channelID, strings.ToLower(strings.TrimSpace(term))); err != nil {
		return fmt.Errorf("remove blocked term: %w", err)
	}
	return nil
}

// BlockedTerms returns the channel's terms and the server-wide ones
// (ChannelID "").
func (s *Store) BlockedTerms(ctx context.Context, channelID string) ([]BlockedTerm, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT channel_id, term, action FROM blocked_terms
		WHERE channel_id = $1 OR channel_id = '' ORDER BY channel_id, term`, channelID)
	if err != nil {
		return nil, fmt.Errorf("blocked terms: %w", err)
	}
	defer rows.Close()
	out := []BlockedTerm{}
	for rows.Next() {
		var t BlockedTerm
		if err := rows.Scan(&t.ChannelID, &t.Term, &t.Action); err != nil {
			return nil, fmt.Errorf("blocked terms: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// HeldMessage is a chat message held for review.
type HeldMessage struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"-"`
	UserID    string    `json:"user_id"`
	Payload   string    `json:"-"`
	Term      string    `json:"term"`
	CreatedAt time.Time `json:"created_at"`
}

// HoldMessage stores a message held by a term and returns its id.
func (s *Store) HoldMessage(ctx context.Context, h HeldMessage) (string, error) {
	id := newID("hm")
	_, err := s.db.ExecContext(ctx, `INSERT INTO held_messages (id, channel_id, user_id, payload, term, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, h.ChannelID, h.UserID, h.Payload, h.Term, toMillis(s.now()))
	if err != nil {
		return "", fmt.Errorf("hold message: %w", err)
	}
	return id, nil
}

// HeldMessages lists the channel's held messages, oldest first.
func (s *Store) HeldMessages(ctx context.Context, channelID string, limit int) ([]HeldMessage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, channel_id, user_id, payload, term, created_at FROM held_messages
		WHERE channel_id = $1 ORDER BY created_at, id LIMIT $2`, channelID, limit)
	if err != nil {
		return nil, fmt.Errorf("held messages: %w", err)
	}
	defer rows.Close()
	out := []HeldMessage{}
	for rows.Next() {
		var h HeldMessage
		var created int64
		if err := rows.Scan(&h.ID, &h.ChannelID, &h.UserID, &h.Payload, &h.Term, &created); err != nil {
			return nil, fmt.Errorf("held messages: %w", err)
		}
		h.CreatedAt = fromMillis(created)
		out = append(out, h)
	}
	return out, rows.Err()
}

// TakeHeldMessage removes a held message and returns it (to release or
// reject it); ErrNotFound when another moderator took it first.
func (s *Store) TakeHeldMessage(ctx context.Context, channelID, id string) (HeldMessage, error) {
	h := HeldMessage{ID: id, ChannelID: channelID}
	var created int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM held_messages WHERE id = $1 AND channel_id = $2
		RETURNING user_id, payload, term, created_at`, id, channelID).Scan(&h.UserID, &h.Payload, &h.Term, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return HeldMessage{}, fmt.Errorf("held message %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return HeldMessage{}, fmt.Errorf("take held message: %w", err)
	}
	h.CreatedAt = fromMillis(created)
	return h, nil
}

// AuditEntry is one moderator action.
type AuditEntry struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"-"`
	ActorID   string    `json:"actor_id"`
	Action    string    `json:"action"`
	Target    string    `json:"target,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// AddAudit records a moderator action.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO mod_audit (id, channel_id, actor_id, action, target, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, newID("au"), e.ChannelID, e.ActorID, e.Action, e.Target, e.Detail, toMillis(s.now()))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog returns one page of the channel's moderator actions, newest first.
func (s *Store) AuditLog(ctx context.Context, channelID string, page Page) ([]AuditEntry, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	c := timeCursor{T: 1<<62 - 1}
	if page.After != "" {
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, actor_id, action, target, detail, created_at FROM mod_audit
		WHERE channel_id = $1 AND (created_at < $2 OR (created_at = $2 AND id < $3))
		ORDER BY created_at DESC, id DESC LIMIT $4`, channelID, c.T, c.ID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		e := AuditEntry{ChannelID: channelID}
		var created int64
		if err := rows.Scan(&e.ID, &e.ActorID, &e.Action, &e.Target, &e.Detail, &created); err != nil {
			return nil, "", fmt.Errorf("audit log: %w", err)
		}
		e.CreatedAt = fromMillis(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("audit log: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = encodeCursor(timeCursor{T: toMillis(last.CreatedAt), ID: last.ID})
	}
	return out, next, nil
}
