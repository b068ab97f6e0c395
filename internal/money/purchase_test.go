package money_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/store"
)

// Confirmations of one order race with the right and the wrong code: the
// order ends paid with its coins credited, or declined with none, and a
// paid order is never overwritten to declined.
func TestRacingConfirmationsNeverDeclineAPaidOrder(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSubWorld(t, st)
		pack, err := st.CreateCoinPack(ctx, store.CoinPack{Name: "p", Coins: 100, Price: 99, Currency: "USD", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		for n := range 12 {
			u := w.fan(t, fmt.Sprintf("buyer%d", n), 0)
			res, err := w.svc.Buy(ctx, money.BuyRequest{UserID: u.ID, PackID: pack.ID, Provider: "sandbox", Card: payment.CardNeedsAction, IdemKey: "buy-" + u.ID})
			if err != nil || res.Order.Status != store.OrderRequiresAction {
				t.Fatalf("buy: %+v, %v", res.Order, err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			answeredPaid := false
			gate := make(chan struct{})
			for i := range 8 {
				code := payment.ConfirmCode
				if i%2 == 1 {
					code = "000000"
				}
				wg.Go(func() {
					<-gate
					r, err := w.svc.Confirm(ctx, u.ID, res.Order.ID, code, "")
					if err == nil && r.Order.Status == store.OrderPaid {
						mu.Lock()
						answeredPaid = true
						mu.Unlock()
					}
				})
			}
			close(gate)
			wg.Wait()
			o, err := st.OrderByID(ctx, res.Order.ID)
			if err != nil {
				t.Fatal(err)
			}
			bal := w.wallet(t, u)
			switch {
			case o.Status == store.OrderPaid && bal == pack.Coins && o.TxnID != "":
			case o.Status == store.OrderDeclined && bal == 0 && o.TxnID == "" && !answeredPaid:
			default:
				t.Fatalf("order %d after racing confirmations: status %s, txn %q, wallet %d, a caller was told paid: %v",
					n, o.Status, o.TxnID, bal, answeredPaid)
			}
		}
		if bs, err := st.VerifyLedger(ctx); err != nil || len(bs) != 0 {
			t.Errorf("ledger verify: %v, %v", bs, err)
		}
	})
}

// A user who owes coins from a refunded purchase buys several packs at
// once: together they repay the debt exactly, never beyond zero, and the
// rest of the coins reach the wallet.
func TestConcurrentPurchasesRepayAReceivableExactlyOnce(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSubWorld(t, st)
		w.svc.Start(ctx)
		defer w.svc.Close()
		big, _ := st.CreateCoinPack(ctx, store.CoinPack{Name: "big", Coins: 600, Price: 599, Currency: "USD", Active: true})
		small, _ := st.CreateCoinPack(ctx, store.CoinPack{Name: "small", Coins: 100, Price: 99, Currency: "USD", Active: true})
		for round := range 4 { // each round races; one lucky interleaving must not hide the bug
			u := w.fan(t, fmt.Sprintf("debtor%d", round), 0)
			first, err := w.svc.Buy(ctx, money.BuyRequest{UserID: u.ID, PackID: big.ID, Provider: "sandbox", Card: payment.CardSucceeds, IdemKey: "buy-first"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Subscribe(ctx, money.SubRequest{From: money.Spender{User: u}, Channel: w.ch, Tier: 1, IdemKey: "sub-1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Reverse(ctx, first.Order.ID, store.OrderRefunded, "test"); err != nil {
				t.Fatal(err)
			}
			owed, _ := st.Balance(ctx, "receivable:"+u.ID)
			if owed != -499 || w.wallet(t, u) != 0 {
				t.Fatalf("after the refund: receivable %d, wallet %d; want -499 and 0", owed, w.wallet(t, u))
			}
			const n = 8
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-gate
					if _, err := w.svc.Buy(ctx, money.BuyRequest{UserID: u.ID, PackID: small.ID, Provider: "sandbox", Card: payment.CardSucceeds,
						IdemKey: fmt.Sprintf("buy-small-%d", i)}); err != nil {
						t.Error(err)
					}
				})
			}
			close(gate)
			wg.Wait()
			owed, _ = st.Balance(ctx, "receivable:"+u.ID)
			if got := w.wallet(t, u); owed != 0 || got != n*100-499 {
				t.Errorf("round %d, after %d concurrent purchases of 100: receivable %d, wallet %d; want 0 and %d", round, n, owed, got, n*100-499)
			}
		}
		if bs, err := st.VerifyLedger(ctx); err != nil || len(bs) != 0 {
			t.Errorf("ledger verify: %v, %v", bs, err)
		}
	})
}
