package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The ledger's accounts as internal/money names them.
func wallet(u string) LedgerAccount {
	return LedgerAccount{ID: "wallet:" + u, Kind: "wallet", OwnerID: u, Currency: "COIN", Floored: true}
}
func earnings(ch string) LedgerAccount {
	return LedgerAccount{ID: "earnings:" + ch, Kind: "earnings", OwnerID: ch, Currency: "COIN", Floored: true}
}

var (
	revenue = LedgerAccount{ID: "platform:revenue", Kind: "platform", Currency: "COIN"}
	issued  = LedgerAccount{ID: "platform:issued", Kind: "platform", Currency: "COIN"}
)

func purchase(u string, coins int64) Posting {
	return Posting{Txn: Txn{Kind: "purchase", UserID: u, Amount: coins,
		Entries: []Entry{{Account: wallet(u), Amount: coins}, {Account: issued, Amount: -coins}}}}
}

func gift(u, ch string, coins int64) Posting {
	creator := coins * 7 / 10
	return Posting{Txn: Txn{Kind: "gift", UserID: u, ChannelID: ch, Amount: coins,
		Entries: []Entry{{Account: wallet(u), Amount: -coins}, {Account: earnings(ch), Amount: creator}, {Account: revenue, Amount: coins - creator}}}}
}

func mustVerify(t *testing.T, s *Store) {
	t.Helper()
	breaches, err := s.VerifyLedger(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range breaches {
		t.Errorf("ledger breach: %s: %s", b.Rule, b.Detail)
	}
}

// Hundreds of goroutines buy, gift and overspend at once, one posting at a
// time and in batches (the group committer's path): no wallet goes
// negative, every refused spend moved nothing, money is conserved, and
// every balance equals the sum of its entries.
func TestConcurrentPostingsConserveMoneyAndNeverOverdraw(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const users, workers, each = 40, 200, 12
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Value
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 7))
				for range each {
					u := fmt.Sprintf("u%d", r.IntN(users))
					ch := fmt.Sprintf("ch%d", r.IntN(3))
					var ps []Posting
					switch r.IntN(4) {
					case 0:
						ps = []Posting{purchase(u, int64(10+r.IntN(50)))}
					case 1: // far above any balance
						ps = []Posting{gift(u, ch, 1_000_000)}
					case 2: // a batch mixing spends that pass and fail
						for range 1 + r.IntN(8) {
							ps = append(ps, gift(fmt.Sprintf("u%d", r.IntN(users)), ch, int64(2+r.IntN(40))))
						}
					default:
						ps = []Posting{gift(u, ch, int64(2+r.IntN(30)))}
					}
					_, errs := s.PostBatch(ctx, ps)
					for _, err := range errs {
						switch {
						case err == nil:
							ok.Add(1)
						case errors.Is(err, ErrInsufficient):
							refused.Add(1)
						default:
							failed.Store(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			t.Fatalf("a posting failed other than for funds: %v", err)
		}
		if ok.Load() == 0 || refused.Load() == 0 {
			t.Fatalf("%d posted, %d refused: the mix should have both", ok.Load(), refused.Load())
		}
		for i := range users {
			if b, err := s.Balance(ctx, wallet(fmt.Sprintf("u%d", i)).ID); err != nil || b < 0 {
				t.Errorf("wallet u%d = %d, %v", i, b, err)
			}
		}
		counts, err := s.LedgerCounts(ctx)
		if err != nil || counts.Txns != ok.Load() {
			t.Errorf("%d transactions stored, %d postings succeeded (%v)", counts.Txns, ok.Load(), err)
		}
		mustVerify(t, s)
	})
}

func TestIdempotencyKeysMoveMoneyOnceAndRefuseADifferentRequest(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.Post(ctx, purchase("a", 100)); err != nil {
			t.Fatal(err)
		}
		p := gift("a", "ch", 10)
		p.Idem = &Idempotency{Scope: "a", Key: "k1", Hash: "h1"}
		p.Result = func(Txn, map[string]int64) string { return "first" }
		// The same key from 50 goroutines at once, alone and in batches.
		var wg sync.WaitGroup
		ids := make(chan string, 100)
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				batch := []Posting{p}
				if i%2 == 0 {
					batch = append(batch, p) // a repeat inside one batch too
				}
				res, errs := s.PostBatch(ctx, batch)
				for j, err := range errs {
					if err != nil {
						t.Errorf("post: %v", err)
						continue
					}
					if res[j].Result != "first" {
						t.Errorf("result %q, want the first one", res[j].Result)
					}
					ids <- res[j].Txn.ID
				}
			}()
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		if len(seen) != 1 {
			t.Errorf("%d distinct transactions for one key, want 1", len(seen))
		}
		if b, _ := s.Balance(ctx, wallet("a").ID); b != 90 {
			t.Errorf("wallet = %d, want 90: the gift moved more than once", b)
		}
		other := gift("a", "ch", 20)
		other.Idem = &Idempotency{Scope: "a", Key: "k1", Hash: "h2"}
		if _, err := s.Post(ctx, other); !errors.Is(err, ErrIdempotencyConflict) {
			t.Errorf("same key, different request: %v, want ErrIdempotencyConflict", err)
		}
		// Another caller may use the same key string.
		if _, err := s.Post(ctx, purchase("b", 5)); err != nil {
			t.Fatal(err)
		}
		mine := gift("b", "ch", 5)
		mine.Idem = &Idempotency{Scope: "b", Key: "k1", Hash: "h1"}
		if res, err := s.Post(ctx, mine); err != nil || res.Replayed {
			t.Errorf("another scope's key: %+v, %v", res, err)
		}
		mustVerify(t, s)
	})
}

func TestMalformedPostingsAreRefusedAndWriteNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		bad := []struct {
			name    string
			entries []Entry
		}{
			{"unbalanced", []Entry{{Account: wallet("a"), Amount: 5}, {Account: issued, Amount: -4}}},
			{"one entry", []Entry{{Account: wallet("a"), Amount: 0}}},
			{"zero entry", []Entry{{Account: wallet("a"), Amount: 0}, {Account: issued, Amount: 0}}},
			{"an account twice", []Entry{{Account: wallet("a"), Amount: 5}, {Account: wallet("a"), Amount: -5}}},
			{"overflow", []Entry{{Account: wallet("a"), Amount: 1 << 62}, {Account: wallet("b"), Amount: 1 << 62}, {Account: issued, Amount: -(1 << 62)}}},
			{"no currency", []Entry{{Account: LedgerAccount{ID: "x"}, Amount: 5}, {Account: issued, Amount: -5}}},
		}
		for _, tt := range bad {
			_, err := s.Post(ctx, Posting{Txn: Txn{Kind: "test", Entries: tt.entries}})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
			}
		}
		// A balance pushed past int64 by a posting is refused, not wrapped.
		if _, err := s.Post(ctx, purchase("big", 1<<62)); err != nil {
			t.Fatal(err)
		}
		_, err := s.Post(ctx, purchase("big", 1<<62))
		if err == nil {
			t.Error("a balance overflowing int64 was accepted")
		}
		if counts, _ := s.LedgerCounts(ctx); counts.Txns != 1 {
			t.Errorf("%d transactions stored, want 1", counts.Txns)
		}
		mustVerify(t, s)
	})
}

func TestGuardRefusesSpendsWhileAReceivableIsOwed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.Post(ctx, purchase("a", 100)); err != nil {
			t.Fatal(err)
		}
		owed := LedgerAccount{ID: "receivable:a", Kind: "receivable", OwnerID: "a", Currency: "COIN"}
		if _, err := s.Post(ctx, Posting{Txn: Txn{Kind: "chargeback", Amount: 30,
			Entries: []Entry{{Account: owed, Amount: -30}, {Account: issued, Amount: 30}}}}); err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 3} {
			ps := make([]Posting, batch)
			for i := range ps {
				ps[i] = gift("a", "ch", 10)
				ps[i].Guard = &Guard{AccountID: owed.ID}
			}
			_, errs := s.PostBatch(ctx, ps)
			for _, err := range errs {
				var ge *GuardError
				if !errors.As(err, &ge) || ge.Balance != -30 {
					t.Errorf("batch of %d: %v, want a GuardError at -30", batch, err)
				}
			}
		}
		p := gift("b", "ch", 10)
		p.Guard = &Guard{AccountID: "receivable:b"} // never used: holds 0
		if _, err := s.Post(ctx, purchase("b", 10)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Post(ctx, p); err != nil {
			t.Errorf("a user owing nothing: %v", err)
		}
		if b, _ := s.Balance(ctx, wallet("a").ID); b != 100 {
			t.Errorf("wallet a = %d, want 100", b)
		}
		mustVerify(t, s)
	})
}

func TestVerifyLedgerNamesEachBreach(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.Post(ctx, purchase("a", 50)); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, s)
		if _, err := s.db.ExecContext(ctx, `UPDATE ledger_accounts SET balance = -7 WHERE id = 'wallet:a'`); err != nil {
			t.Fatal(err)
		}
		breaches, err := s.VerifyLedger(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, b := range breaches {
			rules = append(rules, b.Rule)
		}
		got := strings.Join(rules, "; ")
		for _, want := range []string{"balance equals the sum of entries", "currency conserved", "negative"} {
			if !strings.Contains(got, want) {
				t.Errorf("breaches %q lack %q", got, want)
			}
		}
	})
}
