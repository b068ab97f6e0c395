package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Channel is a place to broadcast to. It deliberately has no field for the
// stream key or its hash, so listing or serialising channels cannot leak them.
type Channel struct {
	ID           string
	Slug         string
	DisplayName  string
	CreatedAt    time.Time
	KeyRotatedAt time.Time
}

const channelColumns = "id, slug, display_name, created_at, key_rotated_at"

// CreateChannel creates a channel with a fresh stream key and returns both.
// The key is returned only here (and by RotateKey): the store keeps only its
// hash. DisplayName starts equal to the slug. A duplicate slug gives ErrExists.
func (s *Store) CreateChannel(ctx context.Context, slug string) (Channel, string, error) {
	if err := ValidateSlug(slug); err != nil {
		return Channel{}, "", fmt.Errorf("create channel: %w", err)
	}
	now := fromMillis(toMillis(s.now()))
	ch := Channel{ID: newID("ch"), Slug: slug, DisplayName: slug, CreatedAt: now, KeyRotatedAt: now}
	key := newStreamKey()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO channels (id, slug, display_name, stream_key_hash, created_at, key_rotated_at)
		 VALUES ($1, $2, $3, $4, $5, $6)`,
		ch.ID, ch.Slug, ch.DisplayName, hashStreamKey(key), toMillis(ch.CreatedAt), toMillis(ch.KeyRotatedAt))
	if isUniqueViolation(err) {
		return Channel{}, "", fmt.Errorf("create channel %q: %w", slug, ErrExists)
	}
	if err != nil {
		return Channel{}, "", fmt.Errorf("create channel %q: %w", slug, err)
	}
	s.logger.Info("channel created", "channel", ch.Slug, "channel_id", ch.ID)
	return ch, key, nil
}

// RotateKey gives the channel a new stream key and returns it. The old key
// stops working at once; sessions already live are not affected.
func (s *Store) RotateKey(ctx context.Context, slug string) (string, error) {
	if err := ValidateSlug(slug); err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	key := newStreamKey()
	res, err := s.db.ExecContext(ctx,
		`UPDATE channels SET stream_key_hash = $1, key_rotated_at = $2 WHERE slug = $3`,
		hashStreamKey(key), toMillis(s.now()), slug)
	if err != nil {
		return "", fmt.Errorf("rotate key of channel %q: %w", slug, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", fmt.Errorf("rotate key of channel %q: %w", slug, err)
	} else if n == 0 {
		return "", fmt.Errorf("rotate key: channel %q: %w", slug, ErrNotFound)
	}
	s.logger.Info("stream key rotated", "channel", slug)
	return key, nil
}

// ListChannels returns all channels ordered by slug.
func (s *Store) ListChannels(ctx context.Context) ([]Channel, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+channelColumns+` FROM channels ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	channels := []Channel{}
	for rows.Next() {
		ch, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		channels = append(channels, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return channels, nil
}

// ChannelBySlug returns the channel with that slug, or ErrNotFound.
func (s *Store) ChannelBySlug(ctx context.Context, slug string) (Channel, error) {
	if err := ValidateSlug(slug); err != nil {
		return Channel{}, fmt.Errorf("channel by slug: %w", err)
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+channelColumns+` FROM channels WHERE slug = $1`, slug)
	ch, err := scanChannel(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, fmt.Errorf("channel %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("channel %q: %w", slug, err)
	}
	return ch, nil
}

// ChannelByKey returns the channel that the stream key currently belongs to,
// or ErrNotFound. Errors never contain the key.
func (s *Store) ChannelByKey(ctx context.Context, key string) (Channel, error) {
	if !looksLikeStreamKey(key) {
		return Channel{}, fmt.Errorf("channel for stream key: %w", ErrNotFound)
	}
	row := s.db.QueryRowContext(ctx,
		`SELECT `+channelColumns+` FROM channels WHERE stream_key_hash = $1`, hashStreamKey(key))
	ch, err := scanChannel(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, fmt.Errorf("channel for stream key: %w", ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("channel for stream key: %w", err)
	}
	return ch, nil
}

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

func scanChannel(r rowScanner) (Channel, error) {
	var ch Channel
	var created, rotated int64
	if err := r.Scan(&ch.ID, &ch.Slug, &ch.DisplayName, &created, &rotated); err != nil {
		return Channel{}, err
	}
	ch.CreatedAt, ch.KeyRotatedAt = fromMillis(created), fromMillis(rotated)
	return ch, nil
}
