package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AdCreative is an ad of the inventory. CPM is coins per 1,000
// impressions; Categories empty targets every category.
type AdCreative struct {
	ID         string
	Name       string
	Kind       string // image | video
	URL        string
	CPM        int64
	Categories []string
	Active     bool
	CreatedAt  time.Time
}

const creativeColumns = `id, name, kind, url, cpm, categories, active, created_at`

func scanCreative(r rowScanner) (AdCreative, error) {
	var c AdCreative
	var cats string
	var active int
	var at int64
	err := r.Scan(&c.ID, &c.Name, &c.Kind, &c.URL, &c.CPM, &cats, &active, &at)
	if cats != "" {
		c.Categories = strings.Split(cats, ",")
	}
	c.Active, c.CreatedAt = active == 1, fromMillis(at)
	return c, err
}

// CreateAdCreative stores a creative.
func (s *Store) CreateAdCreative(ctx context.Context, c AdCreative) (AdCreative, error) {
	c.ID, c.CreatedAt = newID("ad"), s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO ad_creatives (`+creativeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.Name, c.Kind, c.URL, c.CPM, strings.Join(c.Categories, ","), boolInt(c.Active), toMillis(c.CreatedAt))
	if err != nil {
		return AdCreative{}, fmt.Errorf("create ad creative: %w", err)
	}
	return c, nil
}

// SetAdCreativeActive runs or pauses a creative.
func (s *Store) SetAdCreativeActive(ctx context.Context, id string, active bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE ad_creatives SET active = $2 WHERE id = $1`, id, boolInt(active))
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("ad creative %s: %w", id, err)
	}
	return nil
}

// AdCreatives lists the inventory, newest first.
func (s *Store) AdCreatives(ctx context.Context, activeOnly bool) ([]AdCreative, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+creativeColumns+` FROM ad_creatives WHERE $1 = 0 OR active = 1 ORDER BY created_at DESC, id`, boolInt(activeOnly))
	if err != nil {
		return nil, fmt.Errorf("ad creatives: %w", err)
	}
	defer rows.Close()
	out := []AdCreative{}
	for rows.Next() {
		c, err := scanCreative(rows)
		if err != nil {
			return nil, fmt.Errorf("ad creatives: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AdCreative returns one creative.
func (s *Store) AdCreative(ctx context.Context, id string) (AdCreative, error) {
	c, err := scanCreative(s.db.QueryRowContext(ctx, `SELECT `+creativeColumns+` FROM ad_creatives WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("ad creative %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("ad creative: %w", err)
	}
	return c, nil
}

// Ad break states.
const (
	BreakRunning  = "running"
	BreakCredited = "credited"
)

// AdBreak is one ad break on a channel.
type AdBreak struct {
	ID          string
	ChannelID   string
	BroadcastID string
	CreativeID  string
	CPM         int64
	SpliceID    int64
	StartsAt    time.Time
	EndsAt      time.Time
	Impressions int64
	Credited    int64
	State       string
	CreatedAt   time.Time
	// EndAnnounced: a node has claimed telling the room the break ended.
	EndAnnounced bool
}

const breakColumns = `id, channel_id, broadcast_id, creative_id, cpm, splice_id, starts_at, ends_at, impressions, credited, state, created_at, end_announced`

func scanBreak(r rowScanner) (AdBreak, error) {
	var b AdBreak
	var st, en, at, announced int64
	err := r.Scan(&b.ID, &b.ChannelID, &b.BroadcastID, &b.CreativeID, &b.CPM, &b.SpliceID, &st, &en, &b.Impressions, &b.Credited, &b.State, &at, &announced)
	b.StartsAt, b.EndsAt, b.CreatedAt = fromMillis(st), fromMillis(en), fromMillis(at)
	b.EndAnnounced = announced == 1
	return b, err
}

// StartAdBreak stores a running break, unless the channel has one running
// (ErrExists). Two nodes starting one channel's break at once (two
// schedulers, a double click) store one.
func (s *Store) StartAdBreak(ctx context.Context, b AdBreak) (AdBreak, error) {
	b.ID, b.CreatedAt, b.State = newID("brk"), s.now(), BreakRunning
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// A no-op write locks the channel's row until commit on PostgreSQL,
		// so a concurrent start waits and then counts this break (SQLite
		// serialises writers already).
		if err := affectedOne(tx.ExecContext(ctx, `UPDATE channels SET created_at = created_at WHERE id = $1`, b.ChannelID)); err != nil {
			return fmt.Errorf("channel %s: %w", b.ChannelID, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ad_breaks WHERE channel_id = $1 AND state = 'running' AND ends_at > $2`,
			b.ChannelID, toMillis(b.CreatedAt)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("an ad break is running on this channel: %w", ErrExists)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(splice_id), 0) + 1 FROM ad_breaks`).Scan(&b.SpliceID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ad_breaks (`+breakColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, 0)`,
			b.ID, b.ChannelID, b.BroadcastID, b.CreativeID, b.CPM, b.SpliceID, toMillis(b.StartsAt), toMillis(b.EndsAt), b.State, toMillis(b.CreatedAt))
		return err
	})
	if err != nil {
		return AdBreak{}, fmt.Errorf("start ad break: %w", err)
	}
	return b, nil
}

// AdBreakByID returns a break.
func (s *Store) AdBreakByID(ctx context.Context, id string) (AdBreak, error) {
	b, err := scanBreak(s.db.QueryRowContext(ctx, `SELECT `+breakColumns+` FROM ad_breaks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("ad break %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("ad break: %w", err)
	}
	return b, nil
}

// AdBreaks lists a channel's breaks, newest first.
func (s *Store) AdBreaks(ctx context.Context, channelID string, limit int) ([]AdBreak, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return s.queryBreaks(ctx, `SELECT `+breakColumns+` FROM ad_breaks WHERE channel_id = $1 ORDER BY starts_at DESC LIMIT $2`, channelID, limit)
}

// RunningAdBreaks lists breaks not credited yet (running or ended).
func (s *Store) RunningAdBreaks(ctx context.Context) ([]AdBreak, error) {
	return s.queryBreaks(ctx, `SELECT `+breakColumns+` FROM ad_breaks WHERE state = 'running' ORDER BY ends_at`)
}

func (s *Store) queryBreaks(ctx context.Context, q string, args ...any) ([]AdBreak, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ad breaks: %w", err)
	}
	defer rows.Close()
	out := []AdBreak{}
	for rows.Next() {
		b, err := scanBreak(rows)
		if err != nil {
			return nil, fmt.Errorf("ad breaks: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// RecentAdBreaks lists breaks running now or ended since since, for
// playlist markers.
func (s *Store) RecentAdBreaks(ctx context.Context, since time.Time) ([]AdBreak, error) {
	return s.queryBreaks(ctx, `SELECT `+breakColumns+` FROM ad_breaks WHERE ends_at >= $1 ORDER BY starts_at`, toMillis(since))
}

// EndAdBreakEarly moves a running break's end to t.
func (s *Store) EndAdBreakEarly(ctx context.Context, id string, t time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE ad_breaks SET ends_at = $2 WHERE id = $1 AND state = 'running' AND ends_at > $2`, id, toMillis(t))
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("end ad break: %w", err)
	}
	return nil
}

// ClaimAdBreakEnd reports whether this caller is the one to announce that
// the break ended: the first claim of an ended break wins, every later
// one (another node, the next tick) gets false.
// now is the caller's clock: a break that has not ended by it stays
// unclaimed.
func (s *Store) ClaimAdBreakEnd(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE ad_breaks SET end_announced = 1 WHERE id = $1 AND end_announced = 0 AND ends_at <= $2`, id, toMillis(now))
	if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("claim ad break end: %w", err)
	}
	return true, nil
}

// CreditAdBreak marks a break credited in its posting, at the impression
// count the credit was computed from; a second credit fails.
func CreditAdBreak(id string, impressions, coins int64) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ad_breaks SET state = 'credited', credited = $3 WHERE id = $1 AND state = 'running' AND impressions = $2`,
			id, impressions, coins)
		if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("ad break %s changed: %w", id, ErrStateChanged)
		} else if err != nil {
			return err
		}
		return nil
	}
}

// CloseAdBreak marks a break credited with nothing to pay (no impressions
// or a CPM too small for one coin).
func (s *Store) CloseAdBreak(ctx context.Context, id string, impressions int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE ad_breaks SET state = 'credited' WHERE id = $1 AND state = 'running' AND impressions = $2`, id, impressions)
	if err != nil {
		return fmt.Errorf("close ad break: %w", err)
	}
	return nil
}

// Payout statuses.
const (
	PayoutRequested = "requested"
	PayoutApproved  = "approved"
	PayoutPaid      = "paid"
	PayoutRejected  = "rejected"
)

// Payout is a creator's request to be paid their earnings.
type Payout struct {
	ID        string
	ChannelID string
	Amount    int64
	Status    string
	Note      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const payoutColumns = `id, channel_id, amount, status, note, created_at, updated_at`

func scanPayout(r rowScanner) (Payout, error) {
	var p Payout
	var c, u int64
	err := r.Scan(&p.ID, &p.ChannelID, &p.Amount, &p.Status, &p.Note, &c, &u)
	p.CreatedAt, p.UpdatedAt = fromMillis(c), fromMillis(u)
	return p, err
}

// InsertPayout stores a new payout request in its posting.
func InsertPayout(p Payout) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		_, err := tx.ExecContext(ctx, `INSERT INTO payouts (`+payoutColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			p.ID, p.ChannelID, p.Amount, p.Status, p.Note, now)
		return err
	}
}

// PayoutTransition moves a payout from status from to status to in its
// posting; any other state fails with ErrStateChanged.
func PayoutTransition(id, from, to, note string) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE payouts SET status = $3, note = CASE WHEN $4 = '' THEN note ELSE $4 END, updated_at = $5
			WHERE id = $1 AND status = $2`, id, from, to, note, time.Now().UnixMilli())
		if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("payout %s is not %s: %w", id, from, ErrStateChanged)
		} else if err != nil {
			return err
		}
		return nil
	}
}

// PayoutByID returns a payout.
func (s *Store) PayoutByID(ctx context.Context, id string) (Payout, error) {
	p, err := scanPayout(s.db.QueryRowContext(ctx, `SELECT `+payoutColumns+` FROM payouts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("payout %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("payout: %w", err)
	}
	return p, nil
}

// Payouts lists payouts newest first, by channel and status ("" all).
func (s *Store) Payouts(ctx context.Context, channelID, status string, limit int) ([]Payout, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+payoutColumns+` FROM payouts WHERE ($1 = '' OR channel_id = $1) AND ($2 = '' OR status = $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, channelID, status, limit)
	if err != nil {
		return nil, fmt.Errorf("payouts: %w", err)
	}
	defer rows.Close()
	out := []Payout{}
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, fmt.Errorf("payouts: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
