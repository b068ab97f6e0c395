package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Follow makes the user follow the channel. Following twice is a no-op; an
// unknown user or channel gives ErrNotFound.
func (s *Store) Follow(ctx context.Context, userID, channelID string) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO follows (user_id, channel_id, created_at) VALUES ($1, $2, $3)
		 ON CONFLICT (user_id, channel_id) DO NOTHING`, userID, channelID, toMillis(s.now()))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("follow: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	return nil
}

// Unfollow stops the user following the channel; not following is a no-op.
func (s *Store) Unfollow(ctx context.Context, userID, channelID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM follows WHERE user_id = $1 AND channel_id = $2`, userID, channelID); err != nil {
		return fmt.Errorf("unfollow: %w", err)
	}
	return nil
}

// IsFollowing reports whether the user follows the channel.
func (s *Store) IsFollowing(ctx context.Context, userID, channelID string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM follows WHERE user_id = $1 AND channel_id = $2`, userID, channelID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("is following: %w", err)
	}
	return true, nil
}

// FollowerCount returns how many users follow the channel.
func (s *Store) FollowerCount(ctx context.Context, channelID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM follows WHERE channel_id = $1`, channelID).Scan(&n); err != nil {
		return 0, fmt.Errorf("follower count: %w", err)
	}
	return n, nil
}

// Notification kinds.
const NotificationLive = "live"

// Notification is one entry of a user's notification list.
type Notification struct {
	ID          string
	Kind        string
	ChannelID   string
	BroadcastID string
	CreatedAt   time.Time
	Read        bool
}

// NotifyFollowers gives every active follower of the channel a notification
// of kind about the broadcast, and returns how many were made. Notifying
// twice for one broadcast is a no-op.
func (s *Store) NotifyFollowers(ctx context.Context, kind, channelID, broadcastID string, at time.Time) (int, error) {
	// The id is derived from the broadcast so that a retry cannot notify twice.
	id := "nt_" + hashStreamKey(kind + "\x00" + channelID + "\x00" + broadcastID)[:26]
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO notifications (user_id, id, kind, channel_id, broadcast_id, created_at)
		 SELECT f.user_id, $1, $2, $3, $4, $5 FROM follows f JOIN users u ON u.id = f.user_id
		 WHERE f.channel_id = $3 AND u.status = 'active'
		 ON CONFLICT (user_id, id) DO NOTHING`,
		id, kind, channelID, broadcastID, toMillis(at))
	if err != nil {
		return 0, fmt.Errorf("notify followers of %q: %w", channelID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Notifications returns the user's notifications, newest first, a page at a
// time, and how many are unread in all.
func (s *Store) Notifications(ctx context.Context, userID string, page Page) ([]Notification, string, int, error) {
	out, next, err := newestFirst(ctx, s.db, "notifications",
		`SELECT id, kind, channel_id, broadcast_id, created_at, read_at FROM notifications WHERE user_id = $1`,
		"created_at", "id", userID, page,
		func(r rowScanner) (Notification, error) {
			var n Notification
			var created int64
			var read sql.NullInt64
			err := r.Scan(&n.ID, &n.Kind, &n.ChannelID, &n.BroadcastID, &created, &read)
			n.CreatedAt, n.Read = fromMillis(created), read.Valid
			return n, err
		},
		func(n Notification) timeCursor { return timeCursor{T: toMillis(n.CreatedAt), ID: n.ID} })
	if err != nil {
		return nil, "", 0, err
	}
	var unread int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`,
		userID).Scan(&unread); err != nil {
		return nil, "", 0, fmt.Errorf("notifications: %w", err)
	}
	return out, next, unread, nil
}

// MarkNotificationsRead marks all of the user's notifications read.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL`,
		toMillis(s.now()), userID); err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	return nil
}
