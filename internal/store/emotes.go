package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
)

// MaxEmotes is how many emotes one channel may have.
const MaxEmotes = 50

var emoteNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{2,32}$`)

// ValidEmoteName reports whether name can be an emote's :name:.
func ValidEmoteName(name string) bool { return emoteNameRE.MatchString(name) }

// Emote is a channel's chat emote.
type Emote struct {
	Name string
	File string
	// SubscriberOnly emotes are a subscription perk: only the channel's
	// subscribers (and its broadcaster) may use them.
	SubscriberOnly bool
}

// SetEmote adds or replaces the channel's emote and returns the file it
// replaced ("" if none), for the caller to remove.
func (s *Store) SetEmote(ctx context.Context, channelID, name, file string) (string, error) {
	if !ValidEmoteName(name) {
		return "", fieldErr("name", "must be 2 to 32 of A-Z, a-z, 0-9 and _")
	}
	var previous string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT file FROM channel_emotes WHERE channel_id = $1 AND name = $2`, channelID, name).Scan(&previous)
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_emotes WHERE channel_id = $1`, channelID).Scan(&n); err != nil {
				return err
			}
			if n >= MaxEmotes {
				return fmt.Errorf("a channel has at most %d emotes: %w", MaxEmotes, ErrLimit)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO channel_emotes (channel_id, name, file, created_at) VALUES ($1, $2, $3, $4)`,
				channelID, name, file, toMillis(s.now()))
			return err
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE channel_emotes SET file = $3 WHERE channel_id = $1 AND name = $2`, channelID, name, file)
		return err
	})
	if isForeignKeyViolation(err) {
		return "", fmt.Errorf("set emote: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("set emote: %w", err)
	}
	return previous, nil
}

// DeleteEmote removes the emote and returns its file.
func (s *Store) DeleteEmote(ctx context.Context, channelID, name string) (string, error) {
	var file string
	err := s.db.QueryRowContext(ctx, `DELETE FROM channel_emotes WHERE channel_id = $1 AND name = $2 RETURNING file`, channelID, name).Scan(&file)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("emote %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("delete emote: %w", err)
	}
	return file, nil
}

// Emotes lists the channel's emotes by name.
func (s *Store) Emotes(ctx context.Context, channelID string) ([]Emote, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, file, subscriber_only FROM channel_emotes WHERE channel_id = $1 ORDER BY name`, channelID)
	if err != nil {
		return nil, fmt.Errorf("emotes: %w", err)
	}
	defer rows.Close()
	out := []Emote{}
	for rows.Next() {
		var e Emote
		var sub int
		if err := rows.Scan(&e.Name, &e.File, &sub); err != nil {
			return nil, fmt.Errorf("emotes: %w", err)
		}
		e.SubscriberOnly = sub == 1
		out = append(out, e)
	}
	return out, rows.Err()
}

// SetEmoteSubscriberOnly marks an emote as a subscriber perk, or not.
func (s *Store) SetEmoteSubscriberOnly(ctx context.Context, channelID, name string, on bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE channel_emotes SET subscriber_only = $3 WHERE channel_id = $1 AND name = $2`,
		channelID, name, boolInt(on))
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("emote %q: %w", name, err)
	}
	return nil
}

// SubscriberEmotes lists the names of the channel's subscriber-only emotes.
func (s *Store) SubscriberEmotes(ctx context.Context, channelID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM channel_emotes WHERE channel_id = $1 AND subscriber_only = 1 ORDER BY name`, channelID)
	if err != nil {
		return nil, fmt.Errorf("subscriber emotes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("subscriber emotes: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
