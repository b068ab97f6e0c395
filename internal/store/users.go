package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles.
const (
	RoleViewer  = "viewer"
	RoleCreator = "creator" // owns channels
	RoleAdmin   = "admin"
)

// Account statuses. Suspended and banned users cannot sign in or go live.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusBanned    = "banned"
)

// IsRole reports whether r is a role.
func IsRole(r string) bool { return r == RoleViewer || r == RoleCreator || r == RoleAdmin }

// IsStatus reports whether st is an account status.
func IsStatus(st string) bool {
	return st == StatusActive || st == StatusSuspended || st == StatusBanned
}

// User is an account. It has no password field: the hash is read only by
// UserCredentials, so serialising users cannot leak it.
type User struct {
	ID          string
	Email       string
	DisplayName string
	Role        string
	Status      string
	CreatedAt   time.Time
}

// NewUser describes an account to create. The account layer validates and
// normalises the email; PasswordHash is an opaque encoded hash.
type NewUser struct {
	Email        string
	DisplayName  string
	PasswordHash string
	Role         string // default RoleViewer
}

const userColumns = "id, email, display_name, role, status, created_at"

// CreateUser creates an active account. A taken email gives ErrExists.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	if nu.Role == "" {
		nu.Role = RoleViewer
	}
	switch {
	case nu.Email == "":
		return User{}, fmt.Errorf("create user: %w", fieldErr("email", "must not be empty"))
	case nu.PasswordHash == "":
		return User{}, fmt.Errorf("create user: empty password hash: %w", ErrInvalid)
	case !IsRole(nu.Role):
		return User{}, fmt.Errorf("create user: %w", fieldErr("role", "%q is not a role", nu.Role))
	}
	if err := checkText("display_name", nu.DisplayName, MaxDisplayName, false); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	now := fromMillis(toMillis(s.now()))
	u := User{ID: newID("us"), Email: nu.Email, DisplayName: nu.DisplayName, Role: nu.Role, Status: StatusActive, CreatedAt: now}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO users (id, email, display_name, password_hash, role, status, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
		u.ID, u.Email, u.DisplayName, nu.PasswordHash, u.Role, u.Status, toMillis(now))
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("create user: email: %w", ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	s.logger.Info("user created", "user_id", u.ID, "role", u.Role)
	return u, nil
}

// UserByID returns the user, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", id, err)
	}
	return u, nil
}

// UserCredentials returns the user with that (normalised) email and the
// stored password hash, or ErrNotFound.
func (s *Store) UserCredentials(ctx context.Context, email string) (User, string, error) {
	var hash string
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, email), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, "", fmt.Errorf("user by email: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, "", fmt.Errorf("user by email: %w", err)
	}
	return u, hash, nil
}

// UserByEmail returns the user with that (normalised) email, or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, _, err := s.UserCredentials(ctx, email)
	return u, err
}

// PasswordHash returns the user's stored password hash.
func (s *Store) PasswordHash(ctx context.Context, userID string) (string, error) {
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("user %q: %w", userID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("user %q: %w", userID, err)
	}
	return hash, nil
}

// SetPasswordHash replaces the user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	if hash == "" {
		return fmt.Errorf("set password: empty hash: %w", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`,
		hash, toMillis(s.now()), userID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("set password of user %q: %w", userID, err)
	}
	return nil
}

// UserPatch changes the fields that are not nil.
type UserPatch struct {
	DisplayName *string
	Role        *string
	Status      *string
}

// UpdateUser applies patch and returns the user.
func (s *Store) UpdateUser(ctx context.Context, id string, patch UserPatch) (User, error) {
	var out User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if patch.DisplayName != nil {
			name := strings.TrimSpace(*patch.DisplayName)
			if name == "" {
				return fieldErr("display_name", "must not be empty")
			}
			if err := checkText("display_name", name, MaxDisplayName, false); err != nil {
				return err
			}
			u.DisplayName = name
		}
		if patch.Role != nil {
			if !IsRole(*patch.Role) {
				return fieldErr("role", "%q is not a role; want viewer, creator or admin", *patch.Role)
			}
			u.Role = *patch.Role
		}
		if patch.Status != nil {
			if !IsStatus(*patch.Status) {
				return fieldErr("status", "%q is not a status; want active, suspended or banned", *patch.Status)
			}
			u.Status = *patch.Status
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE users SET display_name = $1, role = $2, status = $3, updated_at = $4 WHERE id = $5`,
			u.DisplayName, u.Role, u.Status, toMillis(s.now()), u.ID)
		out = u
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	s.logger.Info("user updated", "user_id", out.ID, "role", out.Role, "status", out.Status)
	return out, nil
}

// UserQuery selects users for ListUsers.
type UserQuery struct {
	// Search matches a substring of the email or display name, case-insensitively.
	Search string
	Page   Page
}

// ListUsers returns users, newest first, a page at a time. Search is
// matched in Go (strings.ToLower on both sides), not with SQL's LOWER,
// which folds only ASCII in SQLite but all of Unicode in PostgreSQL: the
// two engines find the same users.
func (s *Store) ListUsers(ctx context.Context, q UserQuery) ([]User, string, error) {
	limit, err := q.Page.limit()
	if err != nil {
		return nil, "", err
	}
	var after *timeCursor
	if q.Page.After != "" {
		after = &timeCursor{}
		if err := decodeCursor(q.Page.After, after); err != nil {
			return nil, "", err
		}
	}
	search := strings.ToLower(q.Search)
	batch := limit + 1
	if search != "" {
		batch = max(batch, userSearchBatch)
	}
	users := []User{}
	for len(users) <= limit {
		rows, err := s.usersAfter(ctx, after, batch)
		if err != nil {
			return nil, "", fmt.Errorf("list users: %w", err)
		}
		for _, u := range rows {
			if search == "" || strings.Contains(strings.ToLower(u.Email), search) || strings.Contains(strings.ToLower(u.DisplayName), search) {
				users = append(users, u)
			}
		}
		if len(rows) < batch {
			break
		}
		last := rows[len(rows)-1]
		after = &timeCursor{T: toMillis(last.CreatedAt), ID: last.ID}
	}
	next := ""
	if len(users) > limit {
		users = users[:limit]
		last := users[limit-1]
		next = encodeCursor(timeCursor{T: toMillis(last.CreatedAt), ID: last.ID})
	}
	return users, next, nil
}

// userSearchBatch is how many users a search reads at a time.
const userSearchBatch = 500

// usersAfter reads up to n users older than after (all if nil), newest first.
func (s *Store) usersAfter(ctx context.Context, after *timeCursor, n int) ([]User, error) {
	query, args := `SELECT `+userColumns+` FROM users`, []any{n}
	if after != nil {
		query += ` WHERE created_at < $2 OR (created_at = $2 AND id < $3)`
		args = append(args, after.T, after.ID)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY created_at DESC, id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountAdmins returns how many active admins exist.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = $1 AND status = $2`,
		RoleAdmin, StatusActive).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

func scanUser(r rowScanner, extra ...any) (User, error) {
	var u User
	var created int64
	if err := r.Scan(append([]any{&u.ID, &u.Email, &u.DisplayName, &u.Role, &u.Status, &created}, extra...)...); err != nil {
		return User{}, err
	}
	u.CreatedAt = fromMillis(created)
	return u, nil
}
