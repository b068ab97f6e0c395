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
	// Viewers is the latest viewer count, PeakViewers the highest, and
	// ViewerMillis the sum of viewers x milliseconds (see AvgViewers), as
	// recorded by RecordViewers.
	Viewers      int
	PeakViewers  int
	ViewerMillis int64
}

// AvgViewers is the time-weighted average number of viewers from the start
// to the end of the session, or to now while it is live.
func (s Session) AvgViewers(now time.Time) float64 {
	end := s.EndedAt
	if end.IsZero() {
		end = now
	}
	d := end.Sub(s.StartedAt).Milliseconds()
	if d <= 0 {
		return 0
	}
	return float64(s.ViewerMillis) / float64(d)
}

// Live reports whether the session has not ended.
func (s Session) Live() bool { return s.EndedAt.IsZero() }

const sessionColumns = "id, channel_id, broadcast_id, ladder, started_at, ended_at, end_reason, viewers, peak_viewers, viewer_ms"

// StartSession records that channelID went live, and makes the session the
// one the directory shows for the channel. ladderJSON must be valid JSON
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO live_sessions (id, channel_id, broadcast_id, ladder, started_at, end_reason)
			 VALUES ($1, $2, $3, $4, $5, '')`,
			sess.ID, sess.ChannelID, sess.BroadcastID, sess.Ladder, toMillis(sess.StartedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO live_channels (channel_id, session_id, viewers, slug, category)
			 SELECT c.id, $2, 0, c.slug, p.category FROM channels c JOIN channel_profiles p ON p.channel_id = c.id
			 WHERE c.id = $1
			 ON CONFLICT (channel_id) DO UPDATE SET session_id = excluded.session_id, viewers = 0`,
			sess.ChannelID, sess.ID)
		return err
	})
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
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE live_sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL`,
			toMillis(endedAt), reason, sessionID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM live_channels WHERE session_id = $1`, sessionID)
		return err
	})
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
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE live_sessions SET ended_at = $1, end_reason = $2, viewers = 0 WHERE ended_at IS NULL`,
			toMillis(at), reason)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM live_channels`)
		return err
	})
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
	err := r.Scan(&sess.ID, &sess.ChannelID, &sess.BroadcastID, &sess.Ladder, &started, &ended, &sess.EndReason,
		&sess.Viewers, &sess.PeakViewers, &sess.ViewerMillis)
	if err != nil {
		return Session{}, err
	}
	sess.StartedAt = fromMillis(started)
	if ended.Valid {
		sess.EndedAt = fromMillis(ended.Int64)
	}
	return sess, nil
}

// ListSessionsPage returns the channel's sessions newest first, a page at a
// time.
func (s *Store) ListSessionsPage(ctx context.Context, channelID string, page Page) ([]Session, string, error) {
	return newestFirst(ctx, s.db, fmt.Sprintf("list sessions of channel %q", channelID),
		`SELECT `+sessionColumns+` FROM live_sessions WHERE channel_id = $1`, "started_at", "id", channelID, page,
		scanSession, func(sess Session) timeCursor { return timeCursor{T: toMillis(sess.StartedAt), ID: sess.ID} })
}

// LastEndedSession returns the channel's most recent ended session, or
// ErrNotFound if it never ended a broadcast.
func (s *Store) LastEndedSession(ctx context.Context, channelID string) (Session, error) {
	sess, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM live_sessions
		WHERE channel_id = $1 AND ended_at IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT 1`, channelID))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("last session of channel %q: %w", channelID, ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("last session of channel %q: %w", channelID, err)
	}
	return sess, nil
}

// ViewerSample is the viewer figures of one session at one moment.
type ViewerSample struct {
	SessionID    string
	Viewers      int
	PeakViewers  int
	ViewerMillis int64
}

// RecordViewers stores the samples in one transaction. Samples of unknown
// sessions are ignored.
func (s *Store) RecordViewers(ctx context.Context, samples []ViewerSample) error {
	if len(samples) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx,
			`UPDATE live_sessions SET viewers = $1, peak_viewers = $2, viewer_ms = $3 WHERE id = $4`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		rank, err := tx.PrepareContext(ctx, `UPDATE live_channels SET viewers = $1 WHERE session_id = $2 AND viewers <> $1`)
		if err != nil {
			return err
		}
		defer rank.Close()
		for _, v := range samples {
			if v.Viewers < 0 || v.PeakViewers < v.Viewers || v.ViewerMillis < 0 {
				return fmt.Errorf("viewer sample %+v: %w", v, ErrInvalid)
			}
			if _, err := stmt.ExecContext(ctx, v.Viewers, v.PeakViewers, v.ViewerMillis, v.SessionID); err != nil {
				return err
			}
			if _, err := rank.ExecContext(ctx, v.Viewers, v.SessionID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record viewers: %w", err)
	}
	return nil
}
