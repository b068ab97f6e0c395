package store

import (
	"context"
	"sync"
	"testing"
)

func receivable(u string) LedgerAccount {
	return LedgerAccount{ID: "receivable:" + u, Kind: "receivable", OwnerID: u, Currency: "COIN"}
}

// Concurrent purchases that repay one debt, alone and in batches, repay it
// exactly: the debt ends at zero, never above, and the rest reaches the
// wallet.
func TestLedgerRepayComputesTheDebtInItsTransaction(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustPost(t, s, Posting{Txn: Txn{Kind: "refund", Amount: 250, Entries: []Entry{
			{Account: issued, Amount: 250}, {Account: receivable("a"), Amount: -250}}}})
		repaying := func() Posting {
			p := purchase("a", 100)
			p.Repay = &Repay{Debt: receivable("a"), From: wallet("a").ID}
			return p
		}
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range 6 {
			wg.Go(func() {
				<-gate
				if i%2 == 0 {
					if _, err := s.Post(ctx, repaying()); err != nil {
						t.Error(err)
					}
					return
				}
				_, errs := s.PostBatch(ctx, []Posting{repaying(), gift("b", "ch", 0+1), repaying()})
				for n, err := range errs {
					if err != nil && n != 1 { // the gift from an empty wallet is refused
						t.Error(err)
					}
				}
			})
		}
		close(gate)
		wg.Wait()
		owed, _ := s.Balance(ctx, receivable("a").ID)
		held, _ := s.Balance(ctx, wallet("a").ID)
		if owed != 0 || held != 9*100-250 {
			t.Errorf("after 9 purchases of 100 against a debt of 250: receivable %d, wallet %d; want 0 and %d", owed, held, 9*100-250)
		}
		mustVerify(t, s)
	})
}

func TestLedgerVerifyFlagsAPositiveReceivable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustPost(t, s, Posting{Txn: Txn{Kind: "purchase", Amount: 5, Entries: []Entry{
			{Account: issued, Amount: -5}, {Account: receivable("a"), Amount: 5}}}})
		bs, err := s.VerifyLedger(ctx)
		if err != nil || len(bs) != 1 || bs[0].Rule != "receivable never positive" {
			t.Errorf("breaches = %+v, %v; want the receivable rule alone", bs, err)
		}
	})
}
