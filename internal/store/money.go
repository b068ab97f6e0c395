package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TxApply changes rows in the database transaction of a ledger posting.
type TxApply = func(ctx context.Context, tx *sql.Tx) error

// CoinPack is a purchasable bundle of coins; Price is in the minor unit
// of Currency (cents).
type CoinPack struct {
	ID        string
	Name      string
	Coins     int64
	Price     int64
	Currency  string
	Active    bool
	CreatedAt time.Time
}

// CreateCoinPack stores a new pack.
func (s *Store) CreateCoinPack(ctx context.Context, p CoinPack) (CoinPack, error) {
	p.ID, p.CreatedAt = newID("pack"), s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO coin_packs (id, name, coins, price, currency, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.Name, p.Coins, p.Price, p.Currency, boolInt(p.Active), toMillis(p.CreatedAt))
	if err != nil {
		return CoinPack{}, fmt.Errorf("create coin pack: %w", err)
	}
	return p, nil
}

// SetCoinPackActive offers or withdraws a pack.
func (s *Store) SetCoinPackActive(ctx context.Context, id string, active bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE coin_packs SET active = $2 WHERE id = $1`, id, boolInt(active))
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("coin pack %s: %w", id, err)
	}
	return nil
}

// CoinPacks lists packs by price; activeOnly hides withdrawn ones.
func (s *Store) CoinPacks(ctx context.Context, activeOnly bool) ([]CoinPack, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, coins, price, currency, active, created_at FROM coin_packs
		WHERE $1 = 0 OR active = 1 ORDER BY price, id`, boolInt(activeOnly))
	if err != nil {
		return nil, fmt.Errorf("coin packs: %w", err)
	}
	defer rows.Close()
	out := []CoinPack{}
	for rows.Next() {
		var p CoinPack
		var active int
		var at int64
		if err := rows.Scan(&p.ID, &p.Name, &p.Coins, &p.Price, &p.Currency, &active, &at); err != nil {
			return nil, fmt.Errorf("coin packs: %w", err)
		}
		p.Active, p.CreatedAt = active == 1, fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// CoinPack returns one pack.
func (s *Store) CoinPack(ctx context.Context, id string) (CoinPack, error) {
	var p CoinPack
	var active int
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, coins, price, currency, active, created_at FROM coin_packs WHERE id = $1`, id).
		Scan(&p.ID, &p.Name, &p.Coins, &p.Price, &p.Currency, &active, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("coin pack %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("coin pack: %w", err)
	}
	p.Active, p.CreatedAt = active == 1, fromMillis(at)
	return p, nil
}

// Gift is an item of the gift catalog; Tier (1-3) sizes its alert.
type Gift struct {
	ID        string
	Name      string
	Image     string
	Price     int64
	Tier      int
	Active    bool
	CreatedAt time.Time
}

// CreateGift stores a catalog gift.
func (s *Store) CreateGift(ctx context.Context, g Gift) (Gift, error) {
	g.ID, g.CreatedAt = newID("gift"), s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO gifts (id, name, image, price, tier, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.ID, g.Name, g.Image, g.Price, g.Tier, boolInt(g.Active), toMillis(g.CreatedAt))
	if err != nil {
		return Gift{}, fmt.Errorf("create gift: %w", err)
	}
	return g, nil
}

// SetGiftActive offers or withdraws a gift.
func (s *Store) SetGiftActive(ctx context.Context, id string, active bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE gifts SET active = $2 WHERE id = $1`, id, boolInt(active))
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("gift %s: %w", id, err)
	}
	return nil
}

const giftColumns = `id, name, image, price, tier, active, created_at`

func scanGift(r rowScanner) (Gift, error) {
	var g Gift
	var active int
	var at int64
	if err := r.Scan(&g.ID, &g.Name, &g.Image, &g.Price, &g.Tier, &active, &at); err != nil {
		return g, err
	}
	g.Active, g.CreatedAt = active == 1, fromMillis(at)
	return g, nil
}

// Gifts lists the catalog by price.
func (s *Store) Gifts(ctx context.Context, activeOnly bool) ([]Gift, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+giftColumns+` FROM gifts WHERE $1 = 0 OR active = 1 ORDER BY price, id`, boolInt(activeOnly))
	if err != nil {
		return nil, fmt.Errorf("gifts: %w", err)
	}
	defer rows.Close()
	out := []Gift{}
	for rows.Next() {
		g, err := scanGift(rows)
		if err != nil {
			return nil, fmt.Errorf("gifts: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Gift returns one catalog gift.
func (s *Store) Gift(ctx context.Context, id string) (Gift, error) {
	g, err := scanGift(s.db.QueryRowContext(ctx, `SELECT `+giftColumns+` FROM gifts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("gift %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("gift: %w", err)
	}
	return g, nil
}

// Order statuses.
const (
	OrderPending        = "pending"
	OrderRequiresAction = "requires_action"
	OrderPaid           = "paid"
	OrderDeclined       = "declined"
	OrderRefunded       = "refunded"
	OrderChargedBack    = "charged_back"
)

// Order is a coin purchase through a payment provider.
type Order struct {
	ID          string
	UserID      string
	PackID      string
	Coins       int64
	Price       int64
	Currency    string
	Provider    string
	ProviderRef string
	RequestHash string // fingerprint of the request that made it (idempotency)
	Status      string
	Detail      string
	CheckoutURL string // the provider's hosted payment page, while the order waits on it
	TxnID       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CreateOrder stores a new order.
func (s *Store) CreateOrder(ctx context.Context, o Order) (Order, error) {
	if o.ID == "" {
		o.ID = newID("ord")
	}
	o.CreatedAt = s.now()
	o.UpdatedAt = o.CreatedAt
	_, err := s.db.ExecContext(ctx, `INSERT INTO payment_orders (`+orderColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
		o.ID, o.UserID, o.PackID, o.Coins, o.Price, o.Currency, o.Provider, o.ProviderRef, o.RequestHash, o.Status, o.Detail, o.CheckoutURL, o.TxnID, toMillis(o.CreatedAt))
	if err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	return o, nil
}

const orderColumns = `id, user_id, pack_id, coins, price, currency, provider, provider_ref, request_hash, status, detail, checkout_url, txn_id, created_at, updated_at`

func scanOrder(r rowScanner) (Order, error) {
	var o Order
	var c, u int64
	err := r.Scan(&o.ID, &o.UserID, &o.PackID, &o.Coins, &o.Price, &o.Currency, &o.Provider, &o.ProviderRef, &o.RequestHash, &o.Status, &o.Detail, &o.CheckoutURL, &o.TxnID, &c, &u)
	o.CreatedAt, o.UpdatedAt = fromMillis(c), fromMillis(u)
	return o, err
}

// OrderByID returns an order.
func (s *Store) OrderByID(ctx context.Context, id string) (Order, error) {
	o, err := scanOrder(s.db.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM payment_orders WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("order %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("order: %w", err)
	}
	return o, nil
}

// OrderByRef returns the order a provider knows by ref.
func (s *Store) OrderByRef(ctx context.Context, provider, ref string) (Order, error) {
	o, err := scanOrder(s.db.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM payment_orders WHERE provider = $1 AND provider_ref = $2`, provider, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("order with %s ref: %w", provider, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("order: %w", err)
	}
	return o, nil
}

// Orders lists orders newest first, by status ("" all) and user ("" all).
func (s *Store) Orders(ctx context.Context, status, userID string, limit int) ([]Order, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+orderColumns+` FROM payment_orders WHERE ($1 = '' OR status = $1) AND ($2 = '' OR user_id = $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, status, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	defer rows.Close()
	out := []Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("orders: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// OrderUpdate is an order's new state from its provider. An empty Ref
// keeps the one stored.
type OrderUpdate struct {
	Status      string
	Ref         string
	Detail      string
	CheckoutURL string
}

// UpdateOrder sets an order's status, ref, detail and checkout page
// outside the ledger (declines, confirmation steps, hosted checkouts),
// only while the order is in one of the from statuses: a change that
// lost a race (a decline after a concurrent payment) fails with
// ErrStateChanged and writes nothing.
func (s *Store) UpdateOrder(ctx context.Context, id string, from []string, u OrderUpdate) error {
	args := []any{id, u.Status, u.Ref, u.Detail, u.CheckoutURL, toMillis(s.now())}
	ph := make([]string, len(from))
	for i, f := range from {
		args = append(args, f)
		ph[i] = fmt.Sprintf("$%d", 7+i)
	}
	if len(from) == 0 {
		return fmt.Errorf("order %s: update from no status: %w", id, ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE payment_orders SET status = $2, provider_ref = CASE WHEN $3 = '' THEN provider_ref ELSE $3 END,
		detail = $4, checkout_url = $5, updated_at = $6 WHERE id = $1 AND status IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
		if _, err := s.OrderByID(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("order %s is not %s: %w", id, strings.Join(from, " or "), ErrStateChanged)
	} else if err != nil {
		return fmt.Errorf("order %s: %w", id, err)
	}
	return nil
}

// ErrStateChanged reports a row that was not in the state a change needs
// (an order paid twice, a payout approved twice): nothing was done.
var ErrStateChanged = errors.New("state changed")

// OrderTransition moves an order from one of the from statuses to status
// in a posting's transaction, and records the posting's transaction when
// setTxn. It fails with ErrStateChanged if the order is in another state,
// which undoes the posting: an order can be paid or refunded only once.
func OrderTransition(id string, from []string, status, detail string, setTxn bool) func(txnID string) TxApply {
	return func(txnID string) TxApply {
		return func(ctx context.Context, tx *sql.Tx) error {
			args := []any{id, status, detail, time.Now().UnixMilli(), txnID, boolInt(setTxn)}
			ph := make([]string, len(from))
			for i, f := range from {
				args = append(args, f)
				ph[i] = fmt.Sprintf("$%d", 7+i)
			}
			res, err := tx.ExecContext(ctx, `UPDATE payment_orders SET status = $2, detail = $3, updated_at = $4, checkout_url = '',
				txn_id = CASE WHEN $6 = 1 THEN $5 ELSE txn_id END WHERE id = $1 AND status IN (`+strings.Join(ph, ", ")+`)`, args...)
			if err := affectedOne(res, err); errors.Is(err, ErrNotFound) {
				return fmt.Errorf("order %s is not %s: %w", id, strings.Join(from, " or "), ErrStateChanged)
			} else if err != nil {
				return err
			}
			return nil
		}
	}
}

// SetOrderRef records the provider's id for an order in a posting.
func SetOrderRef(id, ref string) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE payment_orders SET provider_ref = $2 WHERE id = $1`, id, ref)
		return err
	}
}

// IsConflict reports a duplicate row: ErrExists or a unique violation.
func IsConflict(err error) bool { return errors.Is(err, ErrExists) || isUniqueViolation(err) }

// RecordPaymentEvent marks a provider's webhook event as handled, in the
// transaction of what it did; a replay fails with ErrExists.
func RecordPaymentEvent(provider, eventID string) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO payment_events (provider, event_id, created_at) VALUES ($1, $2, $3)`,
			provider, eventID, time.Now().UnixMilli())
		if isUniqueViolation(err) {
			return fmt.Errorf("event %s: %w", eventID, ErrExists)
		}
		return err
	}
}

// PaymentEventSeen reports whether a provider's event was handled.
func (s *Store) PaymentEventSeen(ctx context.Context, provider, eventID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM payment_events WHERE provider = $1 AND event_id = $2`, provider, eventID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("payment event: %w", err)
	}
	return n > 0, nil
}

// MarkPaymentEvent records a handled event that moved no money.
func (s *Store) MarkPaymentEvent(ctx context.Context, provider, eventID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return RecordPaymentEvent(provider, eventID)(ctx, tx) })
}

// Apply runs several changes in order.
func Apply(fs ...TxApply) TxApply {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, f := range fs {
			if f == nil {
				continue
			}
			if err := f(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}
}

// SourceDay is one day of amounts by source (gift, tip, subscription, ad, sales).
type SourceDay struct {
	Day     time.Time
	Amounts map[string]int64
}

// AccountIncome sums the credits to an account by transaction kind and
// UTC day since from, oldest first.
func (s *Store) AccountIncome(ctx context.Context, accountID string, from time.Time) ([]SourceDay, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.kind, e.created_at / 86400000, SUM(e.amount) FROM ledger_entries e
		JOIN ledger_txns t ON t.id = e.txn_id WHERE e.account_id = $1 AND e.created_at >= $2
		GROUP BY t.kind, e.created_at / 86400000 ORDER BY 2`, accountID, toMillis(from))
	if err != nil {
		return nil, fmt.Errorf("income of %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []SourceDay
	for rows.Next() {
		var kind string
		var day, sum int64
		if err := rows.Scan(&kind, &day, &sum); err != nil {
			return nil, fmt.Errorf("income: %w", err)
		}
		t := time.UnixMilli(day * 86400000).UTC()
		if n := len(out); n == 0 || !out[n-1].Day.Equal(t) {
			out = append(out, SourceDay{Day: t, Amounts: map[string]int64{}})
		}
		out[len(out)-1].Amounts[kind] += sum
	}
	return out, rows.Err()
}

// Gifter is one row of a gift leaderboard.
type Gifter struct {
	UserID string
	Name   string
	Coins  int64
	Gifts  int64
}

// GiftLeaderboard ranks the channel's gifters by coins, for one broadcast
// (broadcastID) or since a time (broadcastID "").
func (s *Store) GiftLeaderboard(ctx context.Context, channelID, broadcastID string, since time.Time, limit int) ([]Gifter, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	// Gifts counts the gifts sent, not the sends: a gift's count (1-100)
	// is in its memo.
	count := `COALESCE(CAST(json_extract(t.memo, '$.count') AS INTEGER), 1)`
	if s.engine == enginePostgres {
		count = `COALESCE(CAST(CAST(t.memo AS jsonb)->>'count' AS BIGINT), 1)`
	}
	rows, err := s.db.QueryContext(ctx, `SELECT t.user_id, COALESCE(u.display_name, ''), SUM(t.amount), SUM(`+count+`) FROM ledger_txns t
		LEFT JOIN users u ON u.id = t.user_id
		WHERE t.channel_id = $1 AND t.kind = 'gift' AND ($2 = '' OR t.broadcast_id = $2) AND t.created_at >= $3
		GROUP BY t.user_id, u.display_name ORDER BY 3 DESC, 1 LIMIT $4`, channelID, broadcastID, toMillis(since), limit)
	if err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	defer rows.Close()
	out := []Gifter{}
	for rows.Next() {
		var g Gifter
		if err := rows.Scan(&g.UserID, &g.Name, &g.Coins, &g.Gifts); err != nil {
			return nil, fmt.Errorf("leaderboard: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
