package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxListSessions caps ListSessions' limit.
const MaxListSessions = 1000

// Session is one live broadcast of a channel, from publish to unpublish.
type Session struct {
	ID          string
	ChannelID   string
	BroadcastID string
	StartedAt   time.Time
	EndedAt     time.Time // zero while the session is live
	Ladder      string    // JSON text describing the rendition ladder, as given to StartSession
	EndReason   string
}

// Live reports whether the session has not ended.
func (s Session) Live() bool { return s.EndedAt.IsZero() }

const sessionColumns = "id, channel_id, broadcast_id, ladder, started_at, ended_at, end_reason"

// StartSession records that channelID went live. ladderJSON must be valid JSON
// (for example "[]" when nothing is transcoded). An unknown channel gives
// ErrNotFound. Times are stored with millisecond precision.
func (s *Store) StartSession(ctx context.Context, channelID, broadcastID, ladderJSON string, startedAt time.Time) (Session, error) {
	switch {
	case channelID == "":
		return Session{}, fmt.Errorf("start session: empty channel id: %w", ErrInvalid)
	case broadcastID == "":
		return Session{}, fmt.Errorf("start session: empty broadcast id: %w", ErrInvalid)
	case !json.Valid([]byte(ladderJSON)):
		return Session{}, fmt.Errorf("start session: ladder is not valid JSON: %w", ErrInvalid)
	case startedAt.IsZero():
		return Session{}, fmt.Errorf("start session: zero start time: %w", ErrInvalid)
	}
	sess := Session{
		ID:          newID("ls"),
		ChannelID:   channelID,
		BroadcastID: broadcastID,
		StartedAt:   fromMillis(toMillis(startedAt)),
		Ladder:      ladderJSON,
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO live_sessions (id, channel_id, broadcast_id, ladder, started_at, end_reason)
		 VALUES ($1, $2, $3, $4, $5, '')`,
		sess.ID, sess.ChannelID, sess.BroadcastID, sess.Ladder, toMillis(sess.StartedAt))
	if isForeignKeyViolation(err) {
		return Session{}, fmt.Errorf("start session: channel %q: %w", channelID, ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("start session of channel %q: %w", channelID, err)
	}
	return sess, nil
}

// EndSession marks a live session as ended. Ending an already ended session is
// a no-op that keeps the first end time and reason, so racing enders (a
// publisher disconnect and a shutdown, say) are harmless. An unknown session
// gives ErrNotFound.
func (s *Store) EndSession(ctx context.Context, sessionID string, endedAt time.Time, reason string) error {
	if endedAt.IsZero() {
		return fmt.Errorf("end session %q: zero end time: %w", sessionID, ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE live_sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL`,
		toMillis(endedAt), reason, sessionID)
	if err != nil {
		return fmt.Errorf("end session %q: %w", sessionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("end session %q: %w", sessionID, err)
	}
	if n > 0 {
		return nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM live_sessions WHERE id = $1`, sessionID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("end session %q: %w", sessionID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("end session %q: %w", sessionID, err)
	}
	return nil // already ended
}

// EndOpenSessions ends every session still marked live, at time at with the
// given reason, and returns how many it ended. Run it at server start, before
// accepting publishers, to close sessions left open by a crash.
func (s *Store) EndOpenSessions(ctx context.Context, at time.Time, reason string) (int, error) {
	if at.IsZero() {
		return 0, fmt.Errorf("end open sessions: zero end time: %w", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE live_sessions SET ended_at = $1, end_reason = $2 WHERE ended_at IS NULL`,
		toMillis(at), reason)
	if err != nil {
		return 0, fmt.Errorf("end open sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("end open sessions: %w", err)
	}
	if n > 0 {
		s.logger.Info("ended sessions left open", "count", n, "reason", reason)
	}
	return int(n), nil
}

// ListSessions returns up to limit sessions of the channel, newest first.
// limit must be positive and is capped at MaxListSessions. An unknown channel
// has no sessions.
func (s *Store) ListSessions(ctx context.Context, channelID string, limit int) ([]Session, error) {
	if limit < 1 {
		return nil, fmt.Errorf("list sessions: limit %d: %w", limit, ErrInvalid)
	}
	limit = min(limit, MaxListSessions)
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+sessionColumns+` FROM live_sessions
		 WHERE channel_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
		channelID, limit)
	if err != nil {
		return nil, fmt.Errorf("list sessions of channel %q: %w", channelID, err)
	}
	defer rows.Close()
	sessions := []Session{}
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions of channel %q: %w", channelID, err)
		}
		sessions = append(sessions, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions of channel %q: %w", channelID, err)
	}
	return sessions, nil
}

func scanSession(r rowScanner) (Session, error) {
	var sess Session
	var started int64
	var ended sql.NullInt64
	err := r.Scan(&sess.ID, &sess.ChannelID, &sess.BroadcastID, &sess.Ladder, &started, &ended, &sess.EndReason)
	if err != nil {
		return Session{}, err
	}
	sess.StartedAt = fromMillis(started)
	if ended.Valid {
		sess.EndedAt = fromMillis(ended.Int64)
	}
	return sess, nil
}
