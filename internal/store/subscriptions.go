package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Subscription statuses.
const (
	SubActive  = "active"
	SubExpired = "expired"
)

// DefaultTierPrices are a channel's monthly prices in coins until its
// creator sets them.
var DefaultTierPrices = [3]int64{499, 999, 2499}

// Subscription is one viewer's subscription to a channel.
type Subscription struct {
	ID        string
	ChannelID string
	UserID    string
	PayerID   string // who pays renewals; the gifter of a gifted month
	Tier      int
	Price     int64
	Status    string
	Renews    bool
	PeriodEnd time.Time
	Months    int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Current reports whether the subscription grants its perks at t.
func (s Subscription) Current(t time.Time) bool {
	return s.Status == SubActive && t.Before(s.PeriodEnd)
}

// TierPrices returns the channel's three tier prices.
func (s *Store) TierPrices(ctx context.Context, channelID string) ([3]int64, error) {
	out := DefaultTierPrices
	rows, err := s.db.QueryContext(ctx, `SELECT tier, price FROM sub_tiers WHERE channel_id = $1`, channelID)
	if err != nil {
		return out, fmt.Errorf("tier prices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tier int
		var price int64
		if err := rows.Scan(&tier, &price); err != nil {
			return out, fmt.Errorf("tier prices: %w", err)
		}
		if tier >= 1 && tier <= 3 {
			out[tier-1] = price
		}
	}
	return out, rows.Err()
}

// SetTierPrices sets the channel's tier prices.
func (s *Store) SetTierPrices(ctx context.Context, channelID string, prices [3]int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for i, p := range prices {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sub_tiers (channel_id, tier, price) VALUES ($1, $2, $3)
				ON CONFLICT (channel_id, tier) DO UPDATE SET price = excluded.price`, channelID, i+1, p); err != nil {
				return fmt.Errorf("set tier prices: %w", err)
			}
		}
		return nil
	})
}

const subColumns = `id, channel_id, user_id, payer_id, tier, price, status, renews, period_end, months, created_at, updated_at`

func scanSub(r rowScanner) (Subscription, error) {
	var s Subscription
	var renews int
	var end, c, u int64
	err := r.Scan(&s.ID, &s.ChannelID, &s.UserID, &s.PayerID, &s.Tier, &s.Price, &s.Status, &renews, &end, &s.Months, &c, &u)
	s.Renews, s.PeriodEnd, s.CreatedAt, s.UpdatedAt = renews == 1, fromMillis(end), fromMillis(c), fromMillis(u)
	return s, err
}

// SubscriptionOf returns the user's subscription to the channel, or ErrNotFound.
func (s *Store) SubscriptionOf(ctx context.Context, channelID, userID string) (Subscription, error) {
	sub, err := scanSub(s.db.QueryRowContext(ctx, `SELECT `+subColumns+` FROM subscriptions WHERE channel_id = $1 AND user_id = $2`, channelID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("subscription: %w", ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("subscription: %w", err)
	}
	return sub, nil
}

// IsSubscriber reports whether the user holds a current subscription.
func (s *Store) IsSubscriber(ctx context.Context, channelID, userID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions WHERE channel_id = $1 AND user_id = $2 AND status = 'active' AND period_end > $3`,
		channelID, userID, toMillis(s.now())).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is subscriber: %w", err)
	}
	return n > 0, nil
}

// SubscriptionsOf lists a user's subscriptions, newest first.
func (s *Store) SubscriptionsOf(ctx context.Context, userID string) ([]Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+subColumns+` FROM subscriptions WHERE user_id = $1 ORDER BY updated_at DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, fmt.Errorf("subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// PutSubscription writes a subscription in a posting's transaction: a new
// one, or the same (channel, user) row replaced. expect guards against a
// concurrent change: the row's updated_at must still be expect (zero: the
// row must not exist), else ErrStateChanged undoes the posting.
func PutSubscription(sub Subscription, expect time.Time) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		if expect.IsZero() {
			_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (`+subColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
				sub.ID, sub.ChannelID, sub.UserID, sub.PayerID, sub.Tier, sub.Price, sub.Status, boolInt(sub.Renews),
				toMillis(sub.PeriodEnd), sub.Months, now)
			if isUniqueViolation(err) {
				return fmt.Errorf("subscription changed meanwhile: %w", ErrStateChanged)
			}
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET payer_id = $3, tier = $4, price = $5, status = $6, renews = $7,
			period_end = $8, months = $9, updated_at = $10 WHERE channel_id = $1 AND user_id = $2 AND updated_at = $11`,
			sub.ChannelID, sub.UserID, sub.PayerID, sub.Tier, sub.Price, sub.Status, boolInt(sub.Renews),
			toMillis(sub.PeriodEnd), sub.Months, max(now, toMillis(expect)+1), toMillis(expect))
		if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("subscription changed meanwhile: %w", ErrStateChanged)
		} else if err != nil {
			return err
		}
		return nil
	}
}

// SetRenews turns renewal on or off without moving money.
func (s *Store) SetRenews(ctx context.Context, channelID, userID string, renews bool) (Subscription, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET renews = $3, updated_at = $4 WHERE channel_id = $1 AND user_id = $2 AND status = 'active'`,
		channelID, userID, boolInt(renews), toMillis(s.now()))
	if err := affectedOne(res, err); err != nil {
		return Subscription{}, fmt.Errorf("subscription: %w", err)
	}
	return s.SubscriptionOf(ctx, channelID, userID)
}

// ResumeRenewal turns a cancelled, active subscription's renewal back on
// without moving money, and records the request's idempotency key (with
// no transaction) and its result in the same database transaction, so a
// repeat answers the same. A subscription that renews already, or a key
// used meanwhile, fails with ErrStateChanged. Whether the period still runs
// is the caller's to check.
func (s *Store) ResumeRenewal(ctx context.Context, channelID, userID string, key *Idempotency, result string) (Subscription, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := toMillis(s.now())
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET renews = 1, updated_at = $3
			WHERE channel_id = $1 AND user_id = $2 AND status = 'active' AND renews = 0`, channelID, userID, now)
		if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("subscription renews already or ended: %w", ErrStateChanged)
		} else if err != nil {
			return err
		}
		if key == nil {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, idem_key, request_hash, txn_id, result, created_at)
			VALUES ($1, $2, $3, '', $4, $5)`, key.Scope, key.Key, key.Hash, result, now)
		if isUniqueViolation(err) {
			return fmt.Errorf("idempotency key used meanwhile: %w", ErrStateChanged)
		}
		return err
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("resume subscription: %w", err)
	}
	return s.SubscriptionOf(ctx, channelID, userID)
}

// DueSubscriptions returns up to limit active subscriptions whose period
// ended by now, oldest first.
func (s *Store) DueSubscriptions(ctx context.Context, now time.Time, limit int) ([]Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+subColumns+` FROM subscriptions WHERE status = 'active' AND period_end <= $1
		ORDER BY period_end, id LIMIT $2`, toMillis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, fmt.Errorf("due subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// ExpireSubscription ends a subscription whose period is over.
func (s *Store) ExpireSubscription(ctx context.Context, id string, periodEnd time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET status = 'expired', renews = 0, updated_at = $3
		WHERE id = $1 AND period_end = $2 AND status = 'active'`, id, toMillis(periodEnd), toMillis(s.now()))
	if err != nil {
		return fmt.Errorf("expire subscription: %w", err)
	}
	return nil
}

// ExpireSubscriptions ends many at once (the scheduler's pass), each only
// if it is still at the period it was read at.
func (s *Store) ExpireSubscriptions(ctx context.Context, subs []Subscription) error {
	if len(subs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := toMillis(s.now())
		for _, sub := range subs {
			if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'expired', renews = 0, updated_at = $3
				WHERE id = $1 AND period_end = $2 AND status = 'active'`, sub.ID, toMillis(sub.PeriodEnd), now); err != nil {
				return fmt.Errorf("expire subscriptions: %w", err)
			}
		}
		return nil
	})
}

// RenewSubscription moves a subscription to its next period in the
// renewal's posting, only if it is still at the period being renewed.
func RenewSubscription(id string, from, to time.Time) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET period_end = $3, months = months + 1, updated_at = $4
			WHERE id = $1 AND period_end = $2 AND status = 'active'`, id, toMillis(from), toMillis(to), time.Now().UnixMilli())
		if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("subscription %s renewed already: %w", id, ErrStateChanged)
		} else if err != nil {
			return err
		}
		return nil
	}
}

// CountSubscribers counts a channel's current subscribers.
func (s *Store) CountSubscribers(ctx context.Context, channelID string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions WHERE channel_id = $1 AND status = 'active' AND period_end > $2`,
		channelID, toMillis(s.now())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count subscribers: %w", err)
	}
	return n, nil
}
