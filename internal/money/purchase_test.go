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
					r, err := w.svc.Confirm(ctx, u.ID, res.Order.ID, code)
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
