package money_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/store"
)

// subWorld is a channel, its owner and viewers holding coins, on a
// service whose clock the test moves.
type subWorld struct {
	st    *store.Store
	svc   *money.Service
	ch    store.Channel
	owner store.User
	clock *time.Time
}

func newSubWorld(t *testing.T, st *store.Store) *subWorld {
	t.Helper()
	ctx := context.Background()
	clock := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	w := &subWorld{st: st, clock: &clock}
	svc, err := money.New(money.Config{Store: st, Providers: []money.Provider{payment.Sandbox{}}, Now: func() time.Time { return *w.clock }})
	if err != nil {
		t.Fatal(err)
	}
	w.svc = svc
	w.owner, err = st.CreateUser(ctx, store.NewUser{Email: "owner@x.example", DisplayName: "owner", PasswordHash: "x", Role: store.RoleCreator})
	if err != nil {
		t.Fatal(err)
	}
	w.ch, _, err = st.CreateChannelWith(ctx, store.NewChannel{Slug: "subs", OwnerID: w.owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// fan is a new viewer who bought coins coins.
func (w *subWorld) fan(t *testing.T, name string, coins int64) store.User {
	t.Helper()
	ctx := context.Background()
	u, err := w.st.CreateUser(ctx, store.NewUser{Email: name + "@x.example", DisplayName: name, PasswordHash: "x", Role: store.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	if coins > 0 {
		p, err := w.st.CreateCoinPack(ctx, store.CoinPack{Name: fmt.Sprintf("p%d", coins), Coins: coins, Price: 100, Currency: "USD", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Buy(ctx, money.BuyRequest{UserID: u.ID, PackID: p.ID, Provider: "sandbox", Card: payment.CardSucceeds, IdemKey: "buy-" + u.ID}); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func (w *subWorld) wallet(t *testing.T, u store.User) int64 {
	t.Helper()
	b, err := w.st.Balance(context.Background(), money.WalletAccountID(u.ID))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func refusalCode(err error) string {
	if rf, ok := err.(*money.Refusal); ok {
		return rf.Code()
	}
	return ""
}

// A gifted month is the gifter's one-off present: its recipient cannot
// turn it into a renewing subscription, which would charge the gifter's
// wallet every month from then on.
func TestGiftedSubscriptionCannotBeResumedOnTheGiftersCoins(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSubWorld(t, st)
		gifter, friend := w.fan(t, "gifter", 5000), w.fan(t, "friend", 0)
		if _, err := w.svc.Subscribe(ctx, money.SubRequest{From: money.Spender{User: gifter}, Channel: w.ch, Tier: 1, Recipient: friend.ID, IdemKey: "gift-1"}); err != nil {
			t.Fatal(err)
		}
		paid := w.wallet(t, gifter)
		_, err := w.svc.Subscribe(ctx, money.SubRequest{From: money.Spender{User: friend}, Channel: w.ch, Tier: 1, IdemKey: "resume-1"})
		if refusalCode(err) != "already_subscribed" {
			t.Fatalf("the recipient resuming a gifted month: %v, want an already_subscribed refusal", err)
		}
		sub, err := st.SubscriptionOf(ctx, w.ch.ID, friend.ID)
		if err != nil || sub.Renews || sub.PayerID != gifter.ID {
			t.Fatalf("gifted subscription after the refused resume = %+v, %v; want it still not renewing", sub, err)
		}
		*w.clock = w.clock.AddDate(0, 1, 1)
		if _, err := w.svc.RenewDue(ctx, *w.clock); err != nil {
			t.Fatal(err)
		}
		if got := w.wallet(t, gifter); got != paid {
			t.Errorf("gifter's wallet went from %d to %d at the gifted month's end", paid, got)
		}
		if sub, _ := st.SubscriptionOf(ctx, w.ch.ID, friend.ID); sub.Current(*w.clock) {
			t.Errorf("the gifted month renewed: %+v", sub)
		}
	})
}

// Renewals follow the rules of subscribing: a suspended channel, or one
// whose owner is banned, takes no more subscription money, and a payer who
// owes coins from a reversed purchase is not charged; those subscriptions
// run out at their period's end.
func TestRenewalsSkipSuspendedChannelsAndPayersWhoOweCoins(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSubWorld(t, st)
		owner2, err := st.CreateUser(ctx, store.NewUser{Email: "owner2@x.example", DisplayName: "owner2", PasswordHash: "x", Role: store.RoleCreator})
		if err != nil {
			t.Fatal(err)
		}
		ch2, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "subs2", OwnerID: owner2.ID})
		if err != nil {
			t.Fatal(err)
		}
		owner3, err := st.CreateUser(ctx, store.NewUser{Email: "owner3@x.example", DisplayName: "owner3", PasswordHash: "x", Role: store.RoleCreator})
		if err != nil {
			t.Fatal(err)
		}
		open, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "subs3", OwnerID: owner3.ID})
		if err != nil {
			t.Fatal(err)
		}
		subscribe := func(u store.User, ch store.Channel) {
			t.Helper()
			if _, err := w.svc.Subscribe(ctx, money.SubRequest{From: money.Spender{User: u}, Channel: ch, Tier: 1, IdemKey: "sub-" + u.ID + ch.ID}); err != nil {
				t.Fatal(err)
			}
		}
		onSuspended, onBanned, debtor, fine := w.fan(t, "a", 2000), w.fan(t, "b", 2000), w.fan(t, "c", 0), w.fan(t, "d", 2000)
		subscribe(onSuspended, w.ch)
		subscribe(onBanned, ch2)
		subscribe(fine, open)
		// The debtor subscribes, their purchase is refunded (a receivable),
		// and coins reach their wallet by another way.
		p, _ := st.CreateCoinPack(ctx, store.CoinPack{Name: "p", Coins: 600, Price: 599, Currency: "USD", Active: true})
		o, err := w.svc.Buy(ctx, money.BuyRequest{UserID: debtor.ID, PackID: p.ID, Provider: "sandbox", Card: payment.CardSucceeds, IdemKey: "buy-debtor"})
		if err != nil {
			t.Fatal(err)
		}
		subscribe(debtor, open)
		if _, err := w.svc.Reverse(ctx, o.Order.ID, store.OrderRefunded, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Post(ctx, store.Posting{Txn: store.Txn{Kind: "grant", Amount: 1000, Entries: []store.Entry{
			{Account: store.LedgerAccount{ID: "platform:issued", Kind: "platform", Currency: money.Coin}, Amount: -1000},
			{Account: store.LedgerAccount{ID: money.WalletAccountID(debtor.ID), Kind: "wallet", OwnerID: debtor.ID, Currency: money.Coin, Floored: true}, Amount: 1000},
		}}}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetSuspended(ctx, w.ch.ID, true); err != nil {
			t.Fatal(err)
		}
		banned := store.StatusBanned
		if _, err := st.UpdateUser(ctx, owner2.ID, store.UserPatch{Status: &banned}); err != nil {
			t.Fatal(err)
		}
		before := map[string]int64{}
		for _, u := range []store.User{onSuspended, onBanned, debtor, fine} {
			before[u.ID] = w.wallet(t, u)
		}
		*w.clock = w.clock.AddDate(0, 1, 0).Add(time.Minute)
		res, err := w.svc.RenewDue(ctx, *w.clock)
		if err != nil {
			t.Fatal(err)
		}
		if res.Renewed != 1 || res.Expired != 3 {
			t.Errorf("renewal pass = %+v, want 1 renewed and 3 expired", res)
		}
		if got := w.wallet(t, fine); got != before[fine.ID]-499 {
			t.Errorf("the subscriber in good standing: wallet %d → %d, want one renewal charged", before[fine.ID], got)
		}
		for _, u := range []store.User{onSuspended, onBanned, debtor} {
			if sub, _ := st.SubscriptionOf(ctx, map[string]string{onSuspended.ID: w.ch.ID, onBanned.ID: ch2.ID, debtor.ID: open.ID}[u.ID], u.ID); sub.Current(*w.clock) {
				t.Errorf("%s's subscription renewed: %+v", u.DisplayName, sub)
			}
			if got := w.wallet(t, u); got != before[u.ID] {
				t.Errorf("%s was charged a renewal: wallet %d → %d", u.DisplayName, before[u.ID], got)
			}
		}
		if bs, err := st.VerifyLedger(ctx); err != nil || len(bs) != 0 {
			t.Errorf("ledger verify: %v, %v", bs, err)
		}
	})
}

// Resuming a cancelled subscription keeps its tier, and the request is
// idempotent: repeated with its key it answers the first result, and a
// new key finds the subscription renewing already.
func TestResumingASubscriptionKeepsItsTierAndRepeatsByKey(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSubWorld(t, st)
		fan := w.fan(t, "fan", 2000)
		from := money.Spender{User: fan}
		if _, err := w.svc.Subscribe(ctx, money.SubRequest{From: from, Channel: w.ch, Tier: 1, IdemKey: "sub-first"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Cancel(ctx, w.ch.ID, fan.ID); err != nil {
			t.Fatal(err)
		}
		_, err := w.svc.Subscribe(ctx, money.SubRequest{From: from, Channel: w.ch, Tier: 2, IdemKey: "resume-tier-2"})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "tier" {
			t.Fatalf("resuming a tier 1 subscription at tier 2: %v, want a tier field error", err)
		}
		if sub, _ := st.SubscriptionOf(ctx, w.ch.ID, fan.ID); sub.Renews || sub.Tier != 1 {
			t.Fatalf("after the refused resume: %+v", sub)
		}
		first, err := w.svc.Subscribe(ctx, money.SubRequest{From: from, Channel: w.ch, Tier: 1, IdemKey: "resume-1"})
		if err != nil || first.Replayed || !first.Subscription.Renews || first.Balance != 2000-499 {
			t.Fatalf("resume = %+v, %v", first, err)
		}
		again, err := w.svc.Subscribe(ctx, money.SubRequest{From: from, Channel: w.ch, Tier: 1, IdemKey: "resume-1"})
		if err != nil || !again.Replayed || again.Balance != first.Balance || !again.Subscription.Renews {
			t.Errorf("the resume repeated with its key = %+v, %v; want the first answer, replayed", again, err)
		}
		if _, err := w.svc.Subscribe(ctx, money.SubRequest{From: from, Channel: w.ch, Tier: 2, IdemKey: "resume-1"}); !errors.Is(err, store.ErrIdempotencyConflict) {
			t.Errorf("the key reused for another tier: %v, want an idempotency conflict", err)
		}
		if _, err := w.svc.Subscribe(ctx, money.SubRequest{From: from, Channel: w.ch, Tier: 1, IdemKey: "resume-2"}); refusalCode(err) != "already_subscribed" {
			t.Errorf("a new resume of a renewing subscription: %v, want already_subscribed", err)
		}
		if got := w.wallet(t, fan); got != 2000-499 {
			t.Errorf("wallet %d, want one month charged", got)
		}
		if bs, err := st.VerifyLedger(ctx); err != nil || len(bs) != 0 {
			t.Errorf("ledger verify: %v, %v", bs, err)
		}
	})
}

// A creator's "paid" figure is every paid payout, not the latest page.
func TestEarningsPaidCountsEveryPaidPayout(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSubWorld(t, st)
		const n = 501
		earnings := store.LedgerAccount{ID: money.EarningsAccountID(w.ch.ID), Kind: "earnings", OwnerID: w.ch.ID, Currency: money.Coin, Floored: true}
		ps := make([]store.Posting, 0, n+1)
		ps = append(ps, store.Posting{Txn: store.Txn{Kind: "gift", ChannelID: w.ch.ID, Amount: n * 2, Entries: []store.Entry{
			{Account: store.LedgerAccount{ID: "platform:issued", Kind: "platform", Currency: money.Coin}, Amount: -n * 2},
			{Account: earnings, Amount: n * 2}}}})
		for range n {
			p := store.Payout{ID: store.NewID("pay"), ChannelID: w.ch.ID, Amount: 2, Status: store.PayoutPaid}
			ps = append(ps, store.Posting{Txn: store.Txn{Kind: "payout.paid", ChannelID: w.ch.ID, Amount: 2, Ref: p.ID, Entries: []store.Entry{
				{Account: earnings, Amount: -2},
				{Account: store.LedgerAccount{ID: "platform:paid_out", Kind: "platform", Currency: money.Coin}, Amount: 2}}},
				Apply: store.InsertPayout(p)})
		}
		for _, err := range func() []error { _, errs := st.PostBatch(ctx, ps); return errs }() {
			if err != nil {
				t.Fatal(err)
			}
		}
		e, err := w.svc.EarningsOf(ctx, w.ch.ID, 7)
		if err != nil || e.Paid != n*2 {
			t.Errorf("earnings paid = %d, %v; want %d", e.Paid, err, n*2)
		}
		if bs, err := st.VerifyLedger(ctx); err != nil || len(bs) != 0 {
			t.Errorf("ledger verify: %v, %v", bs, err)
		}
	})
}
