package store

import (
	"context"
	"testing"
)

func payoutPending(ch string) LedgerAccount {
	return LedgerAccount{ID: "payout.pending:" + ch, Kind: "payout.pending", OwnerID: ch, Currency: "COIN", Floored: true}
}

// VerifyLedger cross-checks the ledger against the rows it pays for: an
// order that is not paid holds no purchase, and payout accounts hold what
// their payouts add up to.
func TestLedgerVerifyCrossChecksOrdersAndPayouts(t *testing.T) {
	for _, tt := range []struct {
		name, rule string
		damage     func(t *testing.T, s *Store, txnID string)
	}{
		{"a declined order with a purchase", "unpaid order has no purchase", func(t *testing.T, s *Store, txnID string) {
			if _, err := s.db.ExecContext(context.Background(), `INSERT INTO payment_orders (id, user_id, pack_id, coins, price, currency, provider, status, txn_id, created_at, updated_at)
				SELECT 'ord_1', id, 'pack', 50, 50, 'USD', 'stripe', 'declined', $1, 0, 0 FROM users`, txnID); err != nil {
				t.Fatal(err)
			}
		}},
		{"coins in pending payouts without a payout", "payout accounts match the payouts", func(t *testing.T, s *Store, _ string) {
			mustPost(t, s, Posting{Txn: Txn{Kind: "payout.request", Amount: 3, Entries: []Entry{
				{Account: earnings("ch"), Amount: -3}, {Account: payoutPending("ch"), Amount: 3}}}})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, s *Store) {
				mustCreateUser(t, s, "buyer@example.com")
				buy := mustPost(t, s, purchase("a", 50))
				mustPost(t, s, gift("a", "ch", 10))
				mustVerify(t, s)
				tt.damage(t, s, buy.Txn.ID)
				bs, err := s.VerifyLedger(context.Background())
				if err != nil || len(bs) != 1 || bs[0].Rule != tt.rule {
					t.Errorf("breaches = %+v, %v; want %q alone", bs, err, tt.rule)
				}
			})
		})
	}
}
