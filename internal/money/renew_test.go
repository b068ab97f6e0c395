package money_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/store"
)

// engines runs fn against a fresh store on SQLite and, when
// LIVEHOUSE_TEST_POSTGRES_URL is set, on PostgreSQL.
func engines(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	run := func(t *testing.T, dsn string) {
		st, err := store.Open(context.Background(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fn(t, st)
	}
	t.Run("sqlite", func(t *testing.T) { run(t, filepath.Join(t.TempDir(), "livehouse.db")) })
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("LIVEHOUSE_TEST_POSTGRES_URL")
		if base == "" {
			t.Skip("PostgreSQL leg skipped: LIVEHOUSE_TEST_POSTGRES_URL is not set")
		}
		dsn, drop, err := livetest.PostgresSchema(context.Background(), base, "livehouse_money_test")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(drop)
		run(t, dsn)
	})
}

// A renewal pass charges every due, renewing subscription once, expires
// the cancelled and the unpaid ones, and two schedulers running the same
// pass at once (a restart, or a second node) never charge a period twice.
func TestRenewalsChargeEachPeriodOnceAcrossRestartsAndNodes(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		clock := t0
		newService := func() *money.Service {
			svc, err := money.New(money.Config{Store: st, Providers: []money.Provider{payment.Sandbox{}}, Now: func() time.Time { return clock }})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		}
		svc := newService()
		owner, err := st.CreateUser(ctx, store.NewUser{Email: "owner@x.example", DisplayName: "owner", PasswordHash: "x", Role: store.RoleCreator})
		if err != nil {
			t.Fatal(err)
		}
		ch, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "subs", OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		rich, _ := st.CreateCoinPack(ctx, store.CoinPack{Name: "big", Coins: 2000, Price: 999, Currency: "USD", Active: true})
		poor, _ := st.CreateCoinPack(ctx, store.CoinPack{Name: "small", Coins: 600, Price: 299, Currency: "USD", Active: true})
		const n = 30
		users := make([]store.User, n)
		for i := range users {
			u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("fan%d@x.example", i), DisplayName: fmt.Sprintf("fan%d", i), PasswordHash: "x", Role: store.RoleViewer})
			if err != nil {
				t.Fatal(err)
			}
			users[i] = u
			pack := rich.ID
			if i%10 == 9 { // 3 cannot pay a second month
				pack = poor.ID
			}
			if _, err := svc.Buy(ctx, money.BuyRequest{UserID: u.ID, PackID: pack, Provider: "sandbox", Card: payment.CardSucceeds, IdemKey: "buy-" + u.ID}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Subscribe(ctx, money.SubRequest{From: money.Spender{User: u}, Channel: ch, Tier: 1, IdemKey: "sub-" + u.ID}); err != nil {
				t.Fatal(err)
			}
			if i%10 == 8 { // 3 cancel
				if _, err := svc.Cancel(ctx, ch.ID, u.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		earned0, _ := st.Balance(ctx, "earnings:"+ch.ID)

		// Nothing is due before the period ends.
		if res, err := svc.RenewDue(ctx, t0.Add(24*time.Hour)); err != nil || res.Renewed+res.Expired != 0 {
			t.Fatalf("early pass: %+v, %v", res, err)
		}
		// The period ends; the old process and a restarted one (or a second
		// node) run the pass at the same time.
		clock = t0.AddDate(0, 1, 0).Add(time.Minute)
		other := newService()
		var wg sync.WaitGroup
		results := make([]money.RenewStats, 2)
		for i, s := range []*money.Service{svc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.RenewDue(ctx, clock)
				if err != nil {
					t.Errorf("pass %d: %v", i, err)
				}
				results[i] = r
			}()
		}
		wg.Wait()
		if again, err := other.RenewDue(ctx, clock); err != nil || again.Renewed != 0 {
			t.Errorf("a third pass renewed %+v, %v", again, err)
		}
		renewed := results[0].Renewed + results[1].Renewed
		if renewed != 24 {
			t.Errorf("renewed %d (%+v), want 24: each due period exactly once", renewed, results)
		}
		for i, u := range users {
			sub, err := st.SubscriptionOf(ctx, ch.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			bal, _ := st.Balance(ctx, "wallet:"+u.ID)
			switch {
			case i%10 == 9 || i%10 == 8: // unpaid or cancelled: expired, charged once
				if sub.Current(clock) || (i%10 == 9 && bal != 600-499) || (i%10 == 8 && bal != 2000-499) {
					t.Errorf("fan%d: current %v, wallet %d", i, sub.Current(clock), bal)
				}
			default:
				if !sub.Current(clock) || sub.Months != 2 || bal != 2000-2*499 {
					t.Errorf("fan%d: current %v, months %d, wallet %d; want renewed once", i, sub.Current(clock), sub.Months, bal)
				}
			}
		}
		set, _ := svc.Settings(ctx)
		earned, _ := st.Balance(ctx, "earnings:"+ch.ID)
		if want := earned0 + 24*(499*int64(set.SubShareBPS)/10000); earned != want {
			t.Errorf("creator earnings %d, want %d", earned, want)
		}
		breaches, err := st.VerifyLedger(ctx)
		if err != nil || len(breaches) > 0 {
			t.Errorf("ledger: %v %v", breaches, err)
		}
	})
}
