package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RoomEvent is one sequenced event of a channel's chat room. Payload is the
// event's JSON object without its sequence number; the realtime layer owns
// its shape.
type RoomEvent struct {
	ChannelID   string
	Seq         int64
	Kind        string
	UserID      string
	BroadcastID string
	MediaMS     int64 // the stream clock; -1 off the air
	CreatedAt   time.Time
	Payload     string
}

// AppendRoomEvents gives each event the room's next sequence numbers and
// stores them, all in one transaction, so every node sees one order. The
// events come back with Seq set. All events must belong to channelID.
func (s *Store) AppendRoomEvents(ctx context.Context, channelID string, evs []RoomEvent) ([]RoomEvent, error) {
	if len(evs) == 0 {
		return evs, nil
	}
	if s.engine == enginePostgres {
		done, err := s.pgAppendRoomEvents(ctx, channelID, evs)
		if isForeignKeyViolation(err) {
			return nil, fmt.Errorf("append room events: channel %q: %w", channelID, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("append room events: %w", err)
		}
		if done {
			return evs, nil
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.appendRoomEventsTx(ctx, tx, channelID, evs) })
	if isForeignKeyViolation(err) {
		return nil, fmt.Errorf("append room events: channel %q: %w", channelID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("append room events: %w", err)
	}
	return evs, nil
}

// appendRoomEventsTx is AppendRoomEvents inside the caller's transaction
// (a ledger posting's, for its event). The events get their sequence
// numbers in place.
func (s *Store) appendRoomEventsTx(ctx context.Context, tx *sql.Tx, channelID string, evs []RoomEvent) error {
	var last int64
	// The row lock taken here serializes sequencers on PostgreSQL;
	// SQLite has one writer anyway. A room's first events create its row.
	bump := func() error {
		return tx.QueryRowContext(ctx, `UPDATE rooms SET last_seq = last_seq + $2 WHERE channel_id = $1 RETURNING last_seq`,
			channelID, len(evs)).Scan(&last)
	}
	err := bump()
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rooms (channel_id) VALUES ($1) ON CONFLICT (channel_id) DO NOTHING`, channelID); err != nil {
			return err
		}
		err = bump()
	}
	if err != nil {
		return err
	}
	first := last - int64(len(evs)) + 1
	rows := make([][]any, len(evs))
	for i := range evs {
		e := &evs[i]
		e.ChannelID, e.Seq = channelID, first+int64(i)
		if e.CreatedAt.IsZero() {
			e.CreatedAt = s.now()
		}
		rows[i] = []any{channelID, e.Seq, e.Kind, e.UserID, e.BroadcastID, e.MediaMS, toMillis(e.CreatedAt), e.Payload}
	}
	return s.insertRows(ctx, tx, "room_events", roomEventColumns,
		[]string{"text", "bigint", "text", "text", "text", "bigint", "bigint", "text"}, rows)
}

// pgAppendRoomEvents is AppendRoomEvents on PostgreSQL in one statement,
// so one round trip and no transaction block: the room row's update (whose
// lock orders concurrent appenders, on every node) hands the new last
// sequence number to the insert. It reports false, having written nothing,
// when the room has no row yet; the caller's transaction then creates it.
func (s *Store) pgAppendRoomEvents(ctx context.Context, channelID string, evs []RoomEvent) (bool, error) {
	n := len(evs)
	kinds, users, bcasts, payloads := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	media, created := make([]int64, n), make([]int64, n)
	for i := range evs {
		e := &evs[i]
		if e.CreatedAt.IsZero() {
			e.CreatedAt = s.now()
		}
		kinds[i], users[i], bcasts[i], payloads[i] = e.Kind, e.UserID, e.BroadcastID, e.Payload
		media[i], created[i] = e.MediaMS, toMillis(e.CreatedAt)
	}
	var count, first int64
	err := s.db.QueryRowContext(ctx, `WITH r AS (
			UPDATE rooms SET last_seq = last_seq + $2 WHERE channel_id = $1 RETURNING last_seq
		), ins AS (
			INSERT INTO room_events (`+roomEventColumns+`)
			SELECT $1, r.last_seq - $2 + e.n, e.kind, e.user_id, e.broadcast_id, e.media_ms, e.created_at, e.payload
			FROM r, unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[])
				WITH ORDINALITY AS e(kind, user_id, broadcast_id, media_ms, created_at, payload, n)
			RETURNING seq
		)
		SELECT count(*), coalesce(min(seq), 0) FROM ins`,
		channelID, int64(n), kinds, users, bcasts, media, created, payloads).Scan(&count, &first)
	if err != nil || count == 0 {
		return false, err
	}
	if count != int64(n) {
		return false, fmt.Errorf("stored %d of %d events", count, n)
	}
	for i := range evs {
		evs[i].ChannelID, evs[i].Seq = channelID, first+int64(i)
	}
	return true, nil
}

const roomEventColumns = `channel_id, seq, kind, user_id, broadcast_id, media_ms, created_at, payload`

func scanRoomEvents(rows *sql.Rows) ([]RoomEvent, error) {
	defer rows.Close()
	out := []RoomEvent{}
	for rows.Next() {
		var e RoomEvent
		var created int64
		if err := rows.Scan(&e.ChannelID, &e.Seq, &e.Kind, &e.UserID, &e.BroadcastID, &e.MediaMS, &created, &e.Payload); err != nil {
			return nil, err
		}
		e.CreatedAt = fromMillis(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RoomEventsAfter returns up to limit events of the room with a sequence
// number above after, oldest first.
func (s *Store) RoomEventsAfter(ctx context.Context, channelID string, after int64, limit int) ([]RoomEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+roomEventColumns+` FROM room_events
		WHERE channel_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, channelID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("room events: %w", err)
	}
	evs, err := scanRoomEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("room events: %w", err)
	}
	return evs, nil
}

// RoomEventsBefore returns up to limit events of the room with a sequence
// number below before (0: the newest), oldest first.
func (s *Store) RoomEventsBefore(ctx context.Context, channelID string, before int64, limit int) ([]RoomEvent, error) {
	q := `SELECT ` + roomEventColumns + ` FROM room_events WHERE channel_id = $1 AND ($2 = 0 OR seq < $2) ORDER BY seq DESC LIMIT $3`
	rows, err := s.db.QueryContext(ctx, q, channelID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("room history: %w", err)
	}
	evs, err := scanRoomEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("room history: %w", err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs, nil
}

// RoomLastSeq returns the room's last sequence number, 0 for a new room.
func (s *Store) RoomLastSeq(ctx context.Context, channelID string) (int64, error) {
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT last_seq FROM rooms WHERE channel_id = $1`, channelID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("room last seq: %w", err)
	}
	return last, nil
}

// BroadcastEvents returns a broadcast's room events in stream-clock order
// (media time, then sequence), after the position (mediaMS, seq), up to
// limit. Chat messages moderators deleted are left out.
func (s *Store) BroadcastEvents(ctx context.Context, broadcastID string, afterMediaMS, afterSeq int64, limit int) ([]RoomEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+roomEventColumns+` FROM room_events
		WHERE broadcast_id = $1 AND (media_ms > $2 OR (media_ms = $2 AND seq > $3)) AND kind <> $5
		ORDER BY media_ms, seq LIMIT $4`, broadcastID, afterMediaMS, afterSeq, limit, RoomKindDeletedChat)
	if err != nil {
		return nil, fmt.Errorf("broadcast events: %w", err)
	}
	evs, err := scanRoomEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("broadcast events: %w", err)
	}
	return evs, nil
}

// RoomSettings returns the room's settings JSON ("{}" when never set).
func (s *Store) RoomSettings(ctx context.Context, channelID string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT settings FROM rooms WHERE channel_id = $1`, channelID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "{}", nil
	}
	if err != nil {
		return "", fmt.Errorf("room settings: %w", err)
	}
	return v, nil
}

// SetRoomSettings replaces the room's settings JSON.
func (s *Store) SetRoomSettings(ctx context.Context, channelID, settings string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO rooms (channel_id, settings) VALUES ($1, $2)
		ON CONFLICT (channel_id) DO UPDATE SET settings = excluded.settings`, channelID, settings)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("room settings: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("room settings: %w", err)
	}
	return nil
}

// FollowedAt returns when the user started following the channel; ok is
// false when they do not follow it.
func (s *Store) FollowedAt(ctx context.Context, userID, channelID string) (time.Time, bool, error) {
	var ms int64
	err := s.db.QueryRowContext(ctx, `SELECT created_at FROM follows WHERE user_id = $1 AND channel_id = $2`, userID, channelID).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("followed at: %w", err)
	}
	return fromMillis(ms), true, nil
}

// NewID returns a new random identifier with the prefix, as the store makes
// for its own rows.
func NewID(prefix string) string { return newID(prefix) }
