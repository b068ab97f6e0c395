package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// SubscriptionSeed describes subscribers to create in bulk, for load tests
// and benchmarks (`livehouse bench renewals`): Count new viewer accounts,
// each subscribed to ChannelID at Tier and Price with PeriodEnd. The first
// FundedPercent of them get exactly Price coins in their wallet, through
// one balanced ledger transaction from platform:issued, so the ledger still
// verifies.
type SubscriptionSeed struct {
	ChannelID     string
	Count, Tier   int
	Price         int64
	PeriodEnd     time.Time
	FundedPercent int
	Progress      func(done int) // called after each batch; may be nil
}

const seedBatch = 500

// SeedSubscriptions writes the seed in batches of multi-row inserts, all in
// one database transaction, and returns how many subscriptions it made.
func (s *Store) SeedSubscriptions(ctx context.Context, seed SubscriptionSeed) (int, error) {
	if seed.Count <= 0 || seed.Price <= 0 || seed.ChannelID == "" {
		return 0, fmt.Errorf("seed: want a channel, a count and a price: %w", ErrInvalid)
	}
	now := time.Now().UnixMilli()
	funded := seed.Count * seed.FundedPercent / 100
	txnID := NewID("txn")
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if funded > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_txns (id, kind, amount, memo, created_at) VALUES ($1, 'seed', $2, '{"seed":true}', $3)`,
				txnID, int64(funded)*seed.Price, now); err != nil {
				return fmt.Errorf("seed txn: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_accounts (id, kind, owner_id, currency, floored, balance, created_at)
				VALUES ('platform:issued', 'platform', '', 'COIN', 0, 0, $1) ON CONFLICT (id) DO NOTHING`, now); err != nil {
				return fmt.Errorf("seed platform account: %w", err)
			}
			total := int64(funded) * seed.Price
			if _, err := tx.ExecContext(ctx, `UPDATE ledger_accounts SET balance = balance - $1 WHERE id = 'platform:issued'`, total); err != nil {
				return fmt.Errorf("seed platform account: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (txn_id, account_id, amount, created_at) VALUES ($1, 'platform:issued', $2, $3)`,
				txnID, -total, now); err != nil {
				return fmt.Errorf("seed platform entry: %w", err)
			}
		}
		for start := 0; start < seed.Count; start += seedBatch {
			n := min(seedBatch, seed.Count-start)
			users := make([]any, 0, n*8)
			subs := make([]any, 0, n*12)
			var accts, entries []any
			for i := range n {
				uid := NewID("us")
				users = append(users, uid, fmt.Sprintf("seed%d.%s@seed.example", start+i, uid), fmt.Sprintf("seed%d", start+i),
					"!", RoleViewer, StatusActive, now, now)
				subs = append(subs, NewID("sub"), seed.ChannelID, uid, uid, seed.Tier, seed.Price, SubActive, 1,
					toMillis(seed.PeriodEnd), 1, now, now)
				bal := int64(0)
				if start+i < funded {
					bal = seed.Price
					entries = append(entries, txnID, "wallet:"+uid, bal, now)
				}
				accts = append(accts, "wallet:"+uid, "wallet", uid, "COIN", 1, bal, now)
			}
			for _, ins := range []struct {
				table, cols string
				width       int
				args        []any
			}{
				{"users", "id, email, display_name, password_hash, role, status, created_at, updated_at", 8, users},
				{"ledger_accounts", "id, kind, owner_id, currency, floored, balance, created_at", 7, accts},
				{"ledger_entries", "txn_id, account_id, amount, created_at", 4, entries},
				{"subscriptions", subColumns, 12, subs},
			} {
				if len(ins.args) == 0 {
					continue
				}
				q := "INSERT INTO " + ins.table + " (" + ins.cols + ") VALUES " + placeholders(len(ins.args)/ins.width, ins.width)
				if _, err := tx.ExecContext(ctx, q, ins.args...); err != nil {
					return fmt.Errorf("seed %s: %w", ins.table, err)
				}
			}
			if seed.Progress != nil {
				seed.Progress(start + n)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return seed.Count, nil
}

// placeholders renders rows of $n parameters: ($1, $2), ($3, $4), …
func placeholders(rows, width int) string {
	var b strings.Builder
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range width {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", n)
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}
