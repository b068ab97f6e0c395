package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Poll is a question with 2–5 options that viewers vote on once each.
type Poll struct {
	ID          string
	ChannelID   string
	BroadcastID string
	Question    string
	Options     []string
	OpenedBy    string
	OpenedAt    time.Time
	ClosesAt    time.Time
	ClosedAt    time.Time // zero while open
	MediaMS     int64
}

// CreatePoll stores a new open poll and returns it with its id.
func (s *Store) CreatePoll(ctx context.Context, p Poll) (Poll, error) {
	p.ID = newID("po")
	opts, _ := json.Marshal(p.Options) // []string always marshals
	_, err := s.db.ExecContext(ctx, `INSERT INTO polls (id, channel_id, broadcast_id, question, options, opened_by, opened_at, closes_at, media_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.ID, p.ChannelID, p.BroadcastID, p.Question, string(opts), p.OpenedBy,
		toMillis(p.OpenedAt), toMillis(p.ClosesAt), p.MediaMS)
	if isForeignKeyViolation(err) {
		return Poll{}, fmt.Errorf("create poll: %w", ErrNotFound)
	}
	if err != nil {
		return Poll{}, fmt.Errorf("create poll: %w", err)
	}
	return p, nil
}

// ClosePoll marks the poll closed at t; it reports false when it was closed already.
func (s *Store) ClosePoll(ctx context.Context, id string, t time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE polls SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL`, id, toMillis(t))
	if err != nil {
		return false, fmt.Errorf("close poll: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PollByID returns a poll.
func (s *Store) PollByID(ctx context.Context, id string) (Poll, error) {
	p := Poll{ID: id}
	var opts string
	var opened, closes int64
	var closed sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT channel_id, broadcast_id, question, options, opened_by, opened_at, closes_at, closed_at, media_ms
		FROM polls WHERE id = $1`, id).Scan(&p.ChannelID, &p.BroadcastID, &p.Question, &opts, &p.OpenedBy, &opened, &closes, &closed, &p.MediaMS)
	if errors.Is(err, sql.ErrNoRows) {
		return Poll{}, fmt.Errorf("poll %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Poll{}, fmt.Errorf("poll: %w", err)
	}
	if err := json.Unmarshal([]byte(opts), &p.Options); err != nil {
		return Poll{}, fmt.Errorf("poll %q options: %w", id, err)
	}
	p.OpenedAt, p.ClosesAt = fromMillis(opened), fromMillis(closes)
	if closed.Valid {
		p.ClosedAt = fromMillis(closed.Int64)
	}
	return p, nil
}

// OpenPollIDs returns the ids of polls not yet closed, for a restart to
// close or resume them.
func (s *Store) OpenPollIDs(ctx context.Context, channelID string) ([]string, error) {
	return s.strings(ctx, "open polls", `SELECT id FROM polls WHERE channel_id = $1 AND closed_at IS NULL ORDER BY opened_at`, channelID)
}

// Vote is one account's choice in a poll.
type Vote struct {
	UserID  string
	Option  int
	MediaMS int64
}

// AddVotes stores votes in one transaction and returns those accepted: a
// second vote by the same account, or a vote after the poll closed, is
// refused by the database, whichever node it came through.
func (s *Store) AddVotes(ctx context.Context, pollID string, votes []Vote) ([]Vote, error) {
	accepted := make([]Vote, 0, len(votes))
	now := toMillis(s.now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		accepted = accepted[:0]
		for _, v := range votes {
			// Votes after the poll closed are refused like second votes.
			res, err := tx.ExecContext(ctx, `INSERT INTO poll_votes (poll_id, user_id, option_idx, media_ms, created_at)
				SELECT id, $2, $3, $4, $5 FROM polls WHERE id = $1 AND closed_at IS NULL
				ON CONFLICT (poll_id, user_id) DO NOTHING`, pollID, v.UserID, v.Option, v.MediaMS, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				accepted = append(accepted, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add votes: %w", err)
	}
	return accepted, nil
}

// PollTally counts the poll's votes per option.
func (s *Store) PollTally(ctx context.Context, pollID string, options int) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT option_idx, COUNT(*) FROM poll_votes WHERE poll_id = $1 GROUP BY option_idx`, pollID)
	if err != nil {
		return nil, fmt.Errorf("poll tally: %w", err)
	}
	defer rows.Close()
	out := make([]int64, options)
	for rows.Next() {
		var i int
		var n int64
		if err := rows.Scan(&i, &n); err != nil {
			return nil, fmt.Errorf("poll tally: %w", err)
		}
		if i >= 0 && i < options {
			out[i] = n
		}
	}
	return out, rows.Err()
}

// Question states.
const (
	QuestionPending   = "pending"
	QuestionApproved  = "approved"
	QuestionAnswered  = "answered"
	QuestionDismissed = "dismissed"
)

// Question is a viewer's question in a Q&A.
type Question struct {
	ID          string    `json:"id"`
	ChannelID   string    `json:"-"`
	BroadcastID string    `json:"broadcast_id,omitempty"`
	UserID      string    `json:"user_id"`
	Text        string    `json:"text"`
	State       string    `json:"state"`
	Pinned      bool      `json:"pinned"`
	Votes       int       `json:"votes"`
	MediaMS     int64     `json:"media_ms"`
	CreatedAt   time.Time `json:"created_at"`
}

// CreateQuestion stores a new pending question.
func (s *Store) CreateQuestion(ctx context.Context, q Question) (Question, error) {
	q.ID, q.State, q.CreatedAt = newID("qu"), QuestionPending, s.now().Truncate(time.Millisecond).UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO questions (id, channel_id, broadcast_id, user_id, text, state, media_ms, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, q.ID, q.ChannelID, q.BroadcastID, q.UserID, q.Text, q.State, q.MediaMS, toMillis(q.CreatedAt))
	if isForeignKeyViolation(err) {
		return Question{}, fmt.Errorf("create question: %w", ErrNotFound)
	}
	if err != nil {
		return Question{}, fmt.Errorf("create question: %w", err)
	}
	return q, nil
}

const questionColumns = `id, channel_id, broadcast_id, user_id, text, state, pinned, votes, media_ms, created_at`

func scanQuestion(r rowScanner) (Question, error) {
	var q Question
	var pinned int
	var created int64
	err := r.Scan(&q.ID, &q.ChannelID, &q.BroadcastID, &q.UserID, &q.Text, &q.State, &pinned, &q.Votes, &q.MediaMS, &created)
	q.Pinned, q.CreatedAt = pinned != 0, fromMillis(created)
	return q, err
}

// QuestionByID returns a question of the channel.
func (s *Store) QuestionByID(ctx context.Context, channelID, id string) (Question, error) {
	q, err := scanQuestion(s.db.QueryRowContext(ctx, `SELECT `+questionColumns+` FROM questions WHERE id = $1 AND channel_id = $2`, id, channelID))
	if errors.Is(err, sql.ErrNoRows) {
		return Question{}, fmt.Errorf("question %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Question{}, fmt.Errorf("question: %w", err)
	}
	return q, nil
}

// UpvoteQuestion adds the user's vote (once) and returns the question.
func (s *Store) UpvoteQuestion(ctx context.Context, channelID, id, userID string) (Question, error) {
	var q Question
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO question_votes (question_id, user_id, created_at)
			SELECT id, $2, $3 FROM questions WHERE id = $1 AND channel_id = $4
			ON CONFLICT (question_id, user_id) DO NOTHING`, id, userID, toMillis(s.now()), channelID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if _, err := tx.ExecContext(ctx, `UPDATE questions SET votes = votes + 1 WHERE id = $1`, id); err != nil {
				return err
			}
		}
		q, err = scanQuestion(tx.QueryRowContext(ctx, `SELECT `+questionColumns+` FROM questions WHERE id = $1 AND channel_id = $2`, id, channelID))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Question{}, fmt.Errorf("question %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Question{}, fmt.Errorf("upvote question: %w", err)
	}
	return q, nil
}

// UpdateQuestion sets a question's state and pin.
func (s *Store) UpdateQuestion(ctx context.Context, channelID, id, state string, pinned bool) (Question, error) {
	switch state {
	case QuestionPending, QuestionApproved, QuestionAnswered, QuestionDismissed:
	default:
		return Question{}, fieldErr("state", "must be pending, approved, answered or dismissed")
	}
	p := 0
	if pinned {
		p = 1
	}
	res, err := s.db.ExecContext(ctx, `UPDATE questions SET state = $3, pinned = $4 WHERE id = $1 AND channel_id = $2`, id, channelID, state, p)
	if err := affectedOne(res, err); err != nil {
		return Question{}, fmt.Errorf("update question %q: %w", id, err)
	}
	return s.QuestionByID(ctx, channelID, id)
}

// Questions lists the channel's questions of a broadcast ("" for all), most
// votes first.
func (s *Store) Questions(ctx context.Context, channelID, broadcastID string, limit int) ([]Question, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+questionColumns+` FROM questions
		WHERE channel_id = $1 AND ($2 = '' OR broadcast_id = $2) ORDER BY pinned DESC, votes DESC, created_at LIMIT $3`,
		channelID, broadcastID, limit)
	if err != nil {
		return nil, fmt.Errorf("questions: %w", err)
	}
	defer rows.Close()
	out := []Question{}
	for rows.Next() {
		q, err := scanQuestion(rows)
		if err != nil {
			return nil, fmt.Errorf("questions: %w", err)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
