package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Listing is a channel as the directory shows it: the channel and, when it
// is live, its current broadcast.
type Listing struct {
	Channel
	Live        bool
	SessionID   string
	BroadcastID string
	StartedAt   time.Time
	Viewers     int
}

// DirectoryQuery selects channels. Filters combine with AND.
type DirectoryQuery struct {
	LiveOnly bool
	Category string // a category slug, or ""
	Tag      string // a normalised tag, or ""
	// Search matches a substring of the slug, display name, title or tags,
	// case-insensitively. It is matched literally: '%' and '_' are not
	// wildcards.
	Search string
	// FollowedBy keeps the channels this user follows.
	FollowedBy string
	// OwnerID keeps the channels this user owns.
	OwnerID string
	// IDs keeps only these channels (at most MaxPageLimit).
	IDs []string
	// Moderation includes suspended channels and channels of suspended or
	// banned owners, which are otherwise hidden.
	Moderation bool
	Page       Page
}

// directoryCursor points after a row: rank is the viewer count for live
// channels and -1 for the others.
type directoryCursor struct {
	Rank int64  `json:"r"`
	Slug string `json:"s"`
}

// Directory lists channels: live ones first, by current viewers (most
// first), then by slug; channels off the air follow by slug. It returns the
// cursor of the next page, or "" on the last page. Viewer counts move
// between requests, so paging a live list can repeat or skip a channel
// whose count changed; it never loops.
//
// Browsing everything or a category runs two queries, each read in index
// order and stopped at the page size: live_channels by (viewers DESC,
// slug), then channel_profiles by (category,) slug. Selective queries (a
// search, a tag, follows, an owner) find their matches in one pass and sort
// only those.
func (s *Store) Directory(ctx context.Context, q DirectoryQuery) ([]Listing, string, error) {
	limit, err := q.Page.limit()
	if err != nil {
		return nil, "", err
	}
	if q.IDs != nil && len(q.IDs) == 0 {
		return []Listing{}, "", nil
	}
	if len(q.IDs) > MaxPageLimit {
		return nil, "", fmt.Errorf("directory: %d ids: %w", len(q.IDs), ErrInvalid)
	}
	var after *directoryCursor
	if q.Page.After != "" {
		after = &directoryCursor{}
		if err := decodeCursor(q.Page.After, after); err != nil {
			return nil, "", err
		}
	}
	out := []Listing{}
	if selective(q) {
		query, args := matchSQL(q, after, limit+1)
		if out, err = s.queryListings(ctx, out, mixedRows, query, args); err != nil {
			return nil, "", err
		}
		return pageOf(out, limit)
	}
	if after == nil || after.Rank >= 0 {
		query, args := liveSQL(q, after, limit+1)
		if out, err = s.queryListings(ctx, out, liveRows, query, args); err != nil {
			return nil, "", err
		}
	}
	if !q.LiveOnly && len(out) <= limit {
		afterSlug := ""
		if after != nil && after.Rank < 0 {
			afterSlug = after.Slug
		}
		query, args := offAirSQL(q, afterSlug, limit+1-len(out))
		if out, err = s.queryListings(ctx, out, offAirRows, query, args); err != nil {
			return nil, "", err
		}
	}
	return pageOf(out, limit)
}

// pageOf cuts out, fetched with one row more than limit, to a page and
// the cursor of the next one.
func pageOf(out []Listing, limit int) ([]Listing, string, error) {
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	last := out[limit-1]
	r := int64(-1)
	if last.Live {
		r = int64(last.Viewers)
	}
	return out, encodeCursor(directoryCursor{Rank: r, Slug: last.Slug}), nil
}

// selective reports whether q keeps few channels in no useful index order
// (a search, a tag, follows, an owner, ids): such queries find their matches
// first, in one pass, and sort only those (matchSQL). Browsing everything or
// a category reads indexes in order instead (liveSQL, then offAirSQL).
func selective(q DirectoryQuery) bool {
	return q.Search != "" || q.Tag != "" || q.FollowedBy != "" || q.OwnerID != "" || len(q.IDs) > 0
}

// matchSQL selects the channels matching a selective query, live ones
// first by viewers, then by slug, after the cursor. The inner query finds
// and orders the matches on narrow rows (id, rank, slug); only the page is
// then read in full. CROSS JOIN keeps SQLite from reordering the joins.
func matchSQL(q DirectoryQuery, after *directoryCursor, n int) (string, []any) {
	var args sqlArgs
	rank := `(CASE WHEN lc.channel_id IS NULL THEN -1 ELSE lc.viewers END)`
	var where []string
	if q.Category != "" {
		where = append(where, `p.category = `+args.add(q.Category))
	}
	if q.LiveOnly {
		where = append(where, `lc.channel_id IS NOT NULL`)
	}
	where = append(where, directoryFilters(q, &args)...)
	if after != nil {
		r, sl := args.add(after.Rank), args.add(after.Slug)
		where = append(where, `(`+rank+` < `+r+` OR (`+rank+` = `+r+` AND p.slug > `+sl+`))`)
	}
	return `SELECT ` + listingColumns + `, ls.id, ls.broadcast_id, ls.started_at, lc.viewers
	 FROM (SELECT p.channel_id FROM channel_profiles p LEFT JOIN users u ON u.id = p.owner_id
	   LEFT JOIN live_channels lc ON lc.channel_id = p.channel_id
	   WHERE ` + strings.Join(where, " AND ") + `
	   ORDER BY ` + rank + ` DESC, p.slug ASC LIMIT ` + args.add(n) + `) m
	 CROSS JOIN channel_profiles p CROSS JOIN channels c LEFT JOIN users u ON u.id = p.owner_id
	 LEFT JOIN live_channels lc ON lc.channel_id = c.id LEFT JOIN live_sessions ls ON ls.id = lc.session_id
	 WHERE p.channel_id = m.channel_id AND c.id = m.channel_id
	 ORDER BY ` + rank + ` DESC, p.slug ASC`, args
}

const listingColumns = `c.id, c.slug, c.display_name, c.created_at, c.key_rotated_at,
 p.owner_id, p.category, p.title, p.bio, p.tags, p.language, p.mature, p.avatar, p.suspended, p.updated_at`

// sqlArgs numbers placeholders as they are added.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// directoryFilters are q's conditions on p (profiles) and u (owners),
// except the category, which each query matches on its own table.
func directoryFilters(q DirectoryQuery, args *sqlArgs) []string {
	var where []string
	if !q.Moderation {
		where = append(where, `p.suspended = 0`, `(p.owner_id IS NULL OR u.status = 'active')`)
	}
	if q.Tag != "" {
		where = append(where, `p.channel_id IN (SELECT channel_id FROM channel_tags WHERE tag = `+args.add(q.Tag)+`)`)
	}
	if q.Search != "" {
		where = append(where, `p.search_text LIKE `+args.add("%"+escapeLike(strings.ToLower(q.Search))+"%")+` ESCAPE '\'`)
	}
	if q.FollowedBy != "" {
		where = append(where, `p.channel_id IN (SELECT channel_id FROM follows WHERE user_id = `+args.add(q.FollowedBy)+`)`)
	}
	if q.OwnerID != "" {
		where = append(where, `p.owner_id = `+args.add(q.OwnerID))
	}
	if len(q.IDs) > 0 {
		ph := make([]string, len(q.IDs))
		for i, id := range q.IDs {
			ph[i] = args.add(id)
		}
		where = append(where, `p.channel_id IN (`+strings.Join(ph, ", ")+`)`)
	}
	return where
}

// liveSQL selects live channels after the cursor, by viewers then slug.
// CROSS JOIN keeps SQLite reading live_channels first, in index order
// (without statistics it would rather scan every profile); PostgreSQL plans
// it as the inner join it is.
func liveSQL(q DirectoryQuery, after *directoryCursor, n int) (string, []any) {
	var args sqlArgs
	where := []string{`ls.id = lc.session_id`, `c.id = lc.channel_id`, `p.channel_id = c.id`}
	if q.Category != "" {
		where = append(where, `lc.category = `+args.add(q.Category))
	}
	where = append(where, directoryFilters(q, &args)...)
	if after != nil {
		r, sl := args.add(after.Rank), args.add(after.Slug)
		where = append(where, `(lc.viewers < `+r+` OR (lc.viewers = `+r+` AND lc.slug > `+sl+`))`)
	}
	return `SELECT ` + listingColumns + `, ls.id, ls.broadcast_id, ls.started_at, lc.viewers
	 FROM live_channels lc CROSS JOIN live_sessions ls CROSS JOIN channels c CROSS JOIN channel_profiles p
	 LEFT JOIN users u ON u.id = p.owner_id
	 WHERE ` + strings.Join(where, " AND ") + `
	 ORDER BY lc.viewers DESC, lc.slug ASC LIMIT ` + args.add(n), args
}

// offAirSQL selects channels off the air after slug, by slug, reading
// channel_profiles in (category, slug) or (slug) index order.
func offAirSQL(q DirectoryQuery, afterSlug string, n int) (string, []any) {
	var args sqlArgs
	where := []string{`NOT EXISTS (SELECT 1 FROM live_channels lc WHERE lc.channel_id = c.id)`}
	if q.Category != "" {
		where = append(where, `p.category = `+args.add(q.Category))
	}
	where = append(where, directoryFilters(q, &args)...)
	if afterSlug != "" {
		where = append(where, `p.slug > `+args.add(afterSlug))
	}
	return `SELECT ` + listingColumns + `
	 FROM channel_profiles p CROSS JOIN channels c LEFT JOIN users u ON u.id = p.owner_id
	 WHERE c.id = p.channel_id AND ` + strings.Join(where, " AND ") + `
	 ORDER BY p.slug LIMIT ` + args.add(n), args
}

// Row shapes of the directory queries.
const (
	liveRows   = iota // liveSQL: live columns always set
	offAirRows        // offAirSQL: no live columns
	mixedRows         // matchSQL: live columns NULL for channels off the air
)

// queryListings appends the rows of a directory query to out.
func (s *Store) queryListings(ctx context.Context, out []Listing, shape int, query string, args []any) ([]Listing, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l Listing
		var sess, bc sql.NullString
		var started, viewers sql.NullInt64
		var extra []any
		if shape != offAirRows {
			extra = []any{&sess, &bc, &started, &viewers}
		}
		ch, err := scanChannel(rows, extra...)
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		l.Channel = ch
		if sess.Valid {
			l.Live, l.SessionID, l.BroadcastID = true, sess.String, bc.String
			l.StartedAt, l.Viewers = fromMillis(started.Int64), int(viewers.Int64)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return out, nil
}

// ListingOf returns one channel as the directory shows it, suspended or
// not, or ErrNotFound.
func (s *Store) ListingOf(ctx context.Context, channelID string) (Listing, error) {
	ls, _, err := s.Directory(ctx, DirectoryQuery{IDs: []string{channelID}, Moderation: true, Page: Page{Limit: 1}})
	if err != nil {
		return Listing{}, err
	}
	if len(ls) == 0 {
		return Listing{}, fmt.Errorf("channel %q: %w", channelID, ErrNotFound)
	}
	return ls[0], nil
}

// LiveCounts returns the number of live, visible channels per category slug.
func (s *Store) LiveCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.category, COUNT(*)
		FROM live_channels lc JOIN channel_profiles p ON p.channel_id = lc.channel_id
		LEFT JOIN users u ON u.id = p.owner_id
		WHERE p.suspended = 0 AND (p.owner_id IS NULL OR u.status = 'active')
		GROUP BY p.category`)
	if err != nil {
		return nil, fmt.Errorf("live counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var cat string
		var n int
		if err := rows.Scan(&cat, &n); err != nil {
			return nil, fmt.Errorf("live counts: %w", err)
		}
		out[cat] = n
	}
	return out, rows.Err()
}
