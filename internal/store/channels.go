package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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

	// OwnerID is the owning user, "" for channels made by the CLI.
	OwnerID string
	Profile Profile // Profile.DisplayName equals DisplayName
	// Avatar is the avatar's file name in the avatar directory, or "".
	Avatar    string
	Suspended bool
	UpdatedAt time.Time
	// OwnerStatus is the owner's account status as read with the channel
	// by ChannelBySlug and ChannelByID; "" where not read (lists, or no owner).
	OwnerStatus string
}

// NewChannel describes a channel to create.
type NewChannel struct {
	Slug    string
	OwnerID string // "" for none
	// MaxOwned, if positive, refuses the channel with ErrTooManyChannels
	// when its owner already has that many; the count and the insert are
	// one transaction, so concurrent creations cannot pass it together.
	MaxOwned int
	// Profile defaults: DisplayName the slug, Category DefaultCategory.
	Profile Profile
}

// ErrTooManyChannels reports an owner at NewChannel.MaxOwned.
var ErrTooManyChannels = errors.New("the owner has the most channels allowed")

// channelSelect reads channels with their profile; scanChannel matches it.
const channelSelect = `SELECT c.id, c.slug, c.display_name, c.created_at, c.key_rotated_at,
 p.owner_id, p.category, p.title, p.bio, p.tags, p.language, p.mature, p.avatar, p.suspended, p.updated_at
 FROM channels c JOIN channel_profiles p ON p.channel_id = c.id`

// channelSelectOwner is channelSelect with the owner's status after it.
const channelSelectOwner = `SELECT c.id, c.slug, c.display_name, c.created_at, c.key_rotated_at,
 p.owner_id, p.category, p.title, p.bio, p.tags, p.language, p.mature, p.avatar, p.suspended, p.updated_at, u.status
 FROM channels c JOIN channel_profiles p ON p.channel_id = c.id LEFT JOIN users u ON u.id = p.owner_id`

// CreateChannel creates a channel with no owner in the default category,
// with a fresh stream key, and returns both. The key is returned only here
// (and by RotateKey): the store keeps only its hash. DisplayName starts equal
// to the slug. A duplicate slug gives ErrExists.
func (s *Store) CreateChannel(ctx context.Context, slug string) (Channel, string, error) {
	return s.CreateChannelWith(ctx, NewChannel{Slug: slug})
}

// CreateChannelWith creates a channel as described, with a fresh stream key,
// and returns both. Invalid fields give a *FieldError (ErrInvalid), a taken
// slug ErrExists, an unknown owner ErrNotFound; nothing is stored then. An
// owner who was a viewer becomes a creator.
func (s *Store) CreateChannelWith(ctx context.Context, nc NewChannel) (Channel, string, error) {
	if err := ValidateNewSlug(nc.Slug); err != nil {
		return Channel{}, "", fmt.Errorf("create channel: %w", &FieldError{Field: "slug", Problem: err.Error()})
	}
	p := nc.Profile
	if p.DisplayName == "" {
		p.DisplayName = nc.Slug
	}
	if p.Category == "" {
		p.Category = DefaultCategory
	}
	p, err := p.normalize()
	if err != nil {
		return Channel{}, "", fmt.Errorf("create channel %q: %w", nc.Slug, err)
	}
	now := fromMillis(toMillis(s.now()))
	ch := Channel{ID: newID("ch"), Slug: nc.Slug, DisplayName: p.DisplayName, CreatedAt: now, KeyRotatedAt: now,
		OwnerID: nc.OwnerID, Profile: p, UpdatedAt: now}
	key := newStreamKey()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkOwnedLimit(ctx, tx, nc); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO channels (id, slug, display_name, stream_key_hash, created_at, key_rotated_at)
			 VALUES ($1, $2, $3, $4, $5, $6)`,
			ch.ID, ch.Slug, ch.DisplayName, hashStreamKey(key), toMillis(ch.CreatedAt), toMillis(ch.KeyRotatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO channel_profiles (channel_id, slug, owner_id, category, title, bio, tags, language, mature,
			   avatar, suspended, search_text, updated_at)
			 VALUES ($1, $11, $2, $3, $4, $5, $6, $7, $8, '', 0, $9, $10)`,
			ch.ID, nullString(ch.OwnerID), p.Category, p.Title, p.Bio, strings.Join(p.Tags, " "), p.Language,
			boolInt(p.Mature), searchText(ch.Slug, p), toMillis(now), ch.Slug); err != nil {
			return err
		}
		if err := insertTags(ctx, tx, ch.ID, p.Tags); err != nil {
			return err
		}
		if ch.OwnerID != "" {
			_, err := tx.ExecContext(ctx, `UPDATE users SET role = $1, updated_at = $2 WHERE id = $3 AND role = $4`,
				RoleCreator, toMillis(now), ch.OwnerID, RoleViewer)
			return err
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrTooManyChannels):
		return Channel{}, "", fmt.Errorf("create channel %q: %w", nc.Slug, err)
	case isUniqueViolation(err):
		return Channel{}, "", fmt.Errorf("create channel %q: %w", nc.Slug, ErrExists)
	case isForeignKeyViolation(err):
		return Channel{}, "", fmt.Errorf("create channel %q: owner %q: %w", nc.Slug, nc.OwnerID, ErrNotFound)
	case err != nil:
		return Channel{}, "", fmt.Errorf("create channel %q: %w", nc.Slug, err)
	}
	s.logger.Info("channel created", "channel", ch.Slug, "channel_id", ch.ID, "owner", ch.OwnerID)
	return ch, key, nil
}

// checkOwnedLimit counts the owner's channels inside the creating
// transaction. SQLite transactions are serialised already; PostgreSQL's are
// by a lock on the owner's row.
func (s *Store) checkOwnedLimit(ctx context.Context, tx *sql.Tx, nc NewChannel) error {
	if nc.MaxOwned <= 0 || nc.OwnerID == "" {
		return nil
	}
	if s.engine == enginePostgres {
		if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, nc.OwnerID); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_profiles WHERE owner_id = $1`, nc.OwnerID).Scan(&n); err != nil {
		return err
	}
	if n >= nc.MaxOwned {
		return fmt.Errorf("%d channels: %w", n, ErrTooManyChannels)
	}
	return nil
}

func insertTags(ctx context.Context, tx *sql.Tx, channelID string, tags []string) error {
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO channel_tags (channel_id, tag) VALUES ($1, $2)`, channelID, t); err != nil {
			return err
		}
	}
	return nil
}

// UpdateProfile applies patch to the channel's profile and returns the
// channel. Invalid fields give a *FieldError and change nothing.
func (s *Store) UpdateProfile(ctx context.Context, channelID string, patch ProfilePatch) (Channel, error) {
	var out Channel
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ch, err := scanChannel(tx.QueryRowContext(ctx, channelSelect+` WHERE c.id = $1`, channelID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("channel %q: %w", channelID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		p, err := patch.Apply(ch.Profile).normalize()
		if err != nil {
			return err
		}
		now := fromMillis(toMillis(s.now()))
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET display_name = $1 WHERE id = $2`, p.DisplayName, ch.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE channel_profiles SET category = $1, title = $2, bio = $3, tags = $4, language = $5, mature = $6,
			   search_text = $7, updated_at = $8 WHERE channel_id = $9`,
			p.Category, p.Title, p.Bio, strings.Join(p.Tags, " "), p.Language, boolInt(p.Mature),
			searchText(ch.Slug, p), toMillis(now), ch.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE live_channels SET category = $1 WHERE channel_id = $2`, p.Category, ch.ID); err != nil {
			return err
		}
		if patch.Tags != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM channel_tags WHERE channel_id = $1`, ch.ID); err != nil {
				return err
			}
			if err := insertTags(ctx, tx, ch.ID, p.Tags); err != nil {
				return err
			}
		}
		ch.DisplayName, ch.Profile, ch.UpdatedAt = p.DisplayName, p, now
		out = ch
		return nil
	})
	if err != nil {
		return Channel{}, fmt.Errorf("update channel: %w", err)
	}
	return out, nil
}

// SetAvatar records the channel's avatar file name and returns the previous
// one ("" if none), so the caller can delete that file.
func (s *Store) SetAvatar(ctx context.Context, channelID, file string) (previous string, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT avatar FROM channel_profiles WHERE channel_id = $1`, channelID).Scan(&previous)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("channel %q: %w", channelID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE channel_profiles SET avatar = $1, updated_at = $2 WHERE channel_id = $3`,
			file, toMillis(s.now()), channelID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("set avatar: %w", err)
	}
	return previous, nil
}

// SetSuspended suspends or reinstates a channel. A suspended channel's key
// is refused (ChannelByKey gives ErrSuspended) and the directory hides it.
func (s *Store) SetSuspended(ctx context.Context, channelID string, suspended bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE channel_profiles SET suspended = $1, updated_at = $2 WHERE channel_id = $3`,
		boolInt(suspended), toMillis(s.now()), channelID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("suspend channel %q: %w", channelID, err)
	}
	s.logger.Info("channel moderation changed", "channel_id", channelID, "suspended", suspended)
	return nil
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
	return s.queryChannels(ctx, channelSelect+` ORDER BY c.slug`)
}

// ChannelsOf returns the channels that userID owns, ordered by slug.
func (s *Store) ChannelsOf(ctx context.Context, userID string) ([]Channel, error) {
	return s.queryChannels(ctx, channelSelect+` WHERE p.owner_id = $1 ORDER BY c.slug`, userID)
}

func (s *Store) queryChannels(ctx context.Context, query string, args ...any) ([]Channel, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
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
	return s.channelWhere(ctx, "channel "+slug, `c.slug = $1`, slug)
}

// ChannelByID returns the channel with that id, or ErrNotFound.
func (s *Store) ChannelByID(ctx context.Context, id string) (Channel, error) {
	return s.channelWhere(ctx, "channel "+id, `c.id = $1`, id)
}

func (s *Store) channelWhere(ctx context.Context, what, cond string, arg any) (Channel, error) {
	var owner sql.NullString
	ch, err := scanChannel(s.db.QueryRowContext(ctx, channelSelectOwner+` WHERE `+cond, arg), &owner)
	ch.OwnerStatus = owner.String
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("%s: %w", what, err)
	}
	return ch, nil
}

// ChannelByKey returns the channel that the stream key currently belongs to,
// or ErrNotFound. A suspended channel, or one whose owner is not active,
// gives ErrSuspended. Errors never contain the key.
func (s *Store) ChannelByKey(ctx context.Context, key string) (Channel, error) {
	if !looksLikeStreamKey(key) {
		return Channel{}, fmt.Errorf("channel for stream key: %w", ErrNotFound)
	}
	var ownerStatus sql.NullString
	ch, err := scanChannel(s.db.QueryRowContext(ctx,
		`SELECT c.id, c.slug, c.display_name, c.created_at, c.key_rotated_at,
		   p.owner_id, p.category, p.title, p.bio, p.tags, p.language, p.mature, p.avatar, p.suspended, p.updated_at, u.status
		 FROM channels c JOIN channel_profiles p ON p.channel_id = c.id LEFT JOIN users u ON u.id = p.owner_id
		 WHERE c.stream_key_hash = $1`, hashStreamKey(key)), &ownerStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, fmt.Errorf("channel for stream key: %w", ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("channel for stream key: %w", err)
	}
	if ch.Suspended {
		return Channel{}, fmt.Errorf("channel %s is suspended by an admin: %w", ch.Slug, ErrSuspended)
	}
	if ownerStatus.Valid && ownerStatus.String != StatusActive {
		return Channel{}, fmt.Errorf("the owner of channel %s is %s: %w", ch.Slug, ownerStatus.String, ErrSuspended)
	}
	return ch, nil
}

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

func scanChannel(r rowScanner, extra ...any) (Channel, error) {
	var ch Channel
	var created, rotated, updated int64
	var owner sql.NullString
	var tags string
	var mature, suspended int64
	p := &ch.Profile
	dest := []any{&ch.ID, &ch.Slug, &ch.DisplayName, &created, &rotated,
		&owner, &p.Category, &p.Title, &p.Bio, &tags, &p.Language, &mature, &ch.Avatar, &suspended, &updated}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return Channel{}, err
	}
	ch.CreatedAt, ch.KeyRotatedAt, ch.UpdatedAt = fromMillis(created), fromMillis(rotated), fromMillis(updated)
	ch.OwnerID = owner.String
	p.DisplayName = ch.DisplayName
	p.Tags = splitTags(tags)
	p.Mature, ch.Suspended = mature != 0, suspended != 0
	return ch, nil
}

func splitTags(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// affectedOne turns an UPDATE/DELETE result that touched no row into ErrNotFound.
func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.engine == engineSQLite {
		s.txMu.Lock()
		defer s.txMu.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	return tx.Commit()
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}
