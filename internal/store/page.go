package store

import (
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
