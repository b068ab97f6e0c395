package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Prefixes of the secrets the store makes, recognisable by secret scanners.
const (
	sessionTokenPrefix = "lhs_"
	apiTokenPrefix     = "lht_"
)

// CreateAuthSession starts a sign-in session for the user, valid until
// expires, and returns its token. The token is returned only here; the store
// keeps its SHA-256 (as for stream keys: 256 random bits need no slow hash).
func (s *Store) CreateAuthSession(ctx context.Context, userID string, expires time.Time) (string, error) {
	token := sessionTokenPrefix + randomText(32)
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hashStreamKey(token), userID, toMillis(s.now()), toMillis(expires))
	if isForeignKeyViolation(err) {
		return "", fmt.Errorf("create session: user %q: %w", userID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// UserBySession returns the user signed in with the session token, or
// ErrNotFound when the token is unknown or expired. Errors never contain
// the token.
func (s *Store) UserBySession(ctx context.Context, token string) (User, error) {
	if !strings.HasPrefix(token, sessionTokenPrefix) {
		return User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT u.id, u.email, u.display_name, u.role, u.status, u.created_at
		 FROM auth_sessions a JOIN users u ON u.id = a.user_id
		 WHERE a.token_hash = $1 AND a.expires_at > $2`, hashStreamKey(token), toMillis(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("session: %w", err)
	}
	return u, nil
}

// DeleteAuthSession ends the session; an unknown token is not an error.
func (s *Store) DeleteAuthSession(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE token_hash = $1`, hashStreamKey(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserAuthSessions signs the user out everywhere.
func (s *Store) DeleteUserAuthSessions(ctx context.Context, userID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete sessions of user %q: %w", userID, err)
	}
	return nil
}

// DeleteExpiredAuthSessions removes sessions that expired before now and
// returns how many.
func (s *Store) DeleteExpiredAuthSessions(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, toMillis(s.now()))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// APIToken describes a personal API token. It never holds the token.
type APIToken struct {
	ID         string
	UserID     string
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
}

// MaxAPITokens caps the tokens of one user.
const MaxAPITokens = 20

// CreateAPIToken makes a personal API token for the user and returns it; the
// token is returned only here, the store keeps its SHA-256.
func (s *Store) CreateAPIToken(ctx context.Context, userID, name string) (APIToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return APIToken{}, "", fmt.Errorf("create token: %w", fieldErr("name", "must not be empty"))
	}
	if err := checkText("name", name, 50, false); err != nil {
		return APIToken{}, "", fmt.Errorf("create token: %w", err)
	}
	now := fromMillis(toMillis(s.now()))
	t := APIToken{ID: newID("tok"), UserID: userID, Name: name, CreatedAt: now}
	token := apiTokenPrefix + randomText(32)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens WHERE user_id = $1`, userID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxAPITokens {
			return fmt.Errorf("%d tokens already; delete one first: %w", n, ErrLimit)
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, userID, name, hashStreamKey(token), toMillis(now))
		return err
	})
	if isForeignKeyViolation(err) {
		return APIToken{}, "", fmt.Errorf("create token: user %q: %w", userID, ErrNotFound)
	}
	if err != nil {
		return APIToken{}, "", fmt.Errorf("create token: %w", err)
	}
	s.logger.Info("api token created", "user_id", userID, "token_id", t.ID)
	return t, token, nil
}

const tokenColumns = "id, user_id, name, created_at, last_used_at"

// ListAPITokens returns the user's tokens, oldest first.
func (s *Store) ListAPITokens(ctx context.Context, userID string) ([]APIToken, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes one of the user's tokens; another user's token
// gives ErrNotFound.
func (s *Store) DeleteAPIToken(ctx context.Context, userID, tokenID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, tokenID, userID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("delete token %q: %w", tokenID, err)
	}
	return nil
}

// DeleteUserAPITokens revokes all of the user's tokens.
func (s *Store) DeleteUserAPITokens(ctx context.Context, userID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete tokens of user %q: %w", userID, err)
	}
	return nil
}

// UserByAPIToken returns the token's user and the token's record, or
// ErrNotFound. Errors never contain the token.
func (s *Store) UserByAPIToken(ctx context.Context, token string) (User, APIToken, error) {
	if !strings.HasPrefix(token, apiTokenPrefix) {
		return User{}, APIToken{}, fmt.Errorf("api token: %w", ErrNotFound)
	}
	var t APIToken
	var created int64
	var used sql.NullInt64
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT u.id, u.email, u.display_name, u.role, u.status, u.created_at,
		   t.id, t.user_id, t.name, t.created_at, t.last_used_at
		 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, hashStreamKey(token)),
		&t.ID, &t.UserID, &t.Name, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, APIToken{}, fmt.Errorf("api token: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, APIToken{}, fmt.Errorf("api token: %w", err)
	}
	t.CreatedAt = fromMillis(created)
	if used.Valid {
		t.LastUsedAt = fromMillis(used.Int64)
	}
	return u, t, nil
}

// TouchAPIToken records that the token was used at the given time.
func (s *Store) TouchAPIToken(ctx context.Context, tokenID string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, toMillis(at), tokenID); err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

func scanToken(r rowScanner) (APIToken, error) {
	var t APIToken
	var created int64
	var used sql.NullInt64
	if err := r.Scan(&t.ID, &t.UserID, &t.Name, &created, &used); err != nil {
		return APIToken{}, err
	}
	t.CreatedAt = fromMillis(created)
	if used.Valid {
		t.LastUsedAt = fromMillis(used.Int64)
	}
	return t, nil
}
