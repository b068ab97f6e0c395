package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Every error returned by Store that is caused by the
// caller's input or by missing/duplicate rows wraps exactly one of these, so
// callers can map them with errors.Is (for example to HTTP 400/404/409).
var (
	// ErrInvalid reports input that can never be stored, such as a malformed slug.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound reports that the addressed row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists reports that a row with the same unique name already exists.
	ErrExists = errors.New("already exists")
	// ErrSuspended reports a stream key whose channel, or the channel's
	// owner, is suspended or banned: it must not go live.
	ErrSuspended = errors.New("suspended")
	// ErrLimit reports that a per-owner limit (such as webhooks per channel)
	// is reached.
	ErrLimit = errors.New("limit reached")
)

// FieldError is an ErrInvalid that names the offending input field, so an
// API can point at it. errors.Is(err, ErrInvalid) holds for every FieldError.
type FieldError struct {
	Field   string // JSON-style field name, e.g. "tags"
	Problem string // what is wrong and what is allowed
}

func (e *FieldError) Error() string {
	if strings.HasPrefix(e.Problem, e.Field+" ") {
		return e.Problem // it names the field already
	}
	return e.Field + ": " + e.Problem
}

// Unwrap makes a FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// PostgreSQL SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY violation on either engine.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY violation on either engine.
func isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgForeignKeyViolation
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (or one of its
// extended codes): another connection holds the lock it needed.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
