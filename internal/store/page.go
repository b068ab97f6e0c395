package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Page limits.
const (
	DefaultPageLimit = 24
	MaxPageLimit     = 100
)

// Page selects one page of a listing: up to Limit rows after the cursor
// After, which is "" for the first page and otherwise a next-page cursor
// returned by the same listing. Cursors are opaque to callers.
type Page struct {
	After string
	Limit int // 0 means DefaultPageLimit
}

func (p Page) limit() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultPageLimit, nil
	case p.Limit < 1 || p.Limit > MaxPageLimit:
		return 0, fieldErr("limit", "%d is out of range; want 1 to %d", p.Limit, MaxPageLimit)
	}
	return p.Limit, nil
}

// timeCursor points after a row of a listing ordered newest first by time, then id.
type timeCursor struct {
	T  int64  `json:"t"`
	ID string `json:"i"`
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // cursor structs always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("%w", fieldErr("cursor", "is not a cursor from this listing; start again without one"))
	}
	return nil
}

// newestFirst reads one page of a listing ordered newest first by timeCol,
// then idCol. selectFrom is the query up to and including its WHERE
// conditions, with the listing's key as $1; newestFirst adds the cursor
// condition, the order and the limit. It returns the rows and the next
// page's cursor ("" after the last page).
func newestFirst[T any](ctx context.Context, db *sql.DB, what, selectFrom, timeCol, idCol, key string, page Page,
	scan func(rowScanner) (T, error), cursorOf func(T) timeCursor,
) ([]T, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	args := []any{key, limit + 1}
	cond := ""
	if page.After != "" {
		var c timeCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		args = append(args, c.T, c.ID)
		cond = fmt.Sprintf(` AND (%[1]s < $3 OR (%[1]s = $3 AND %[2]s < $4))`, timeCol, idCol)
	}
	rows, err := db.QueryContext(ctx, selectFrom+cond+` ORDER BY `+timeCol+` DESC, `+idCol+` DESC LIMIT $2`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(cursorOf(out[limit-1]))
	}
	return out, next, nil
}
