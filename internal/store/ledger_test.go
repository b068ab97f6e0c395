package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The ledger's accounts as internal/money names them (money.go). The store
// cannot import money, so they are mirrored here.
func wallet(u string) LedgerAccount {
	return LedgerAccount{ID: "wallet:" + u, Kind: "wallet", OwnerID: u, Currency: "COIN", Floored: true}
}

func earnings(ch string) LedgerAccount {
	return LedgerAccount{ID: "earnings:" + ch, Kind: "earnings", OwnerID: ch, Currency: "COIN", Floored: true}
}

func clearing(provider, cur string) LedgerAccount {
	return LedgerAccount{ID: "clearing:" + provider + ":" + cur, Kind: "clearing", OwnerID: provider, Currency: cur}
}

func sales(cur string) LedgerAccount {
	return LedgerAccount{ID: "platform:sales:" + cur, Kind: "platform", Currency: cur}
}

var (
	revenue = LedgerAccount{ID: "platform:revenue", Kind: "platform", Currency: "COIN"}
	issued  = LedgerAccount{ID: "platform:issued", Kind: "platform", Currency: "COIN"}
)

// purchase books a coin pack paid through a provider as money's
// purchase.go does: a fiat leg (a cent a coin, clearing against sales) and
// a coin leg (issued into the wallet).
func purchase(u string, coins int64) Posting {
	return Posting{Txn: Txn{Kind: "purchase", UserID: u, Amount: coins, Entries: []Entry{
		{Account: clearing("stripe", "USD"), Amount: coins},
		{Account: sales("USD"), Amount: -coins},
		{Account: issued, Amount: -coins},
		{Account: wallet(u), Amount: coins},
	}}}
}

// gift and tip take coins from a wallet; the creator gets its share in
// basis points, rounded down, and the platform the rest (money's split).
func gift(u, ch string, coins int64) Posting { return spend("gift", u, ch, coins, 7000) }
func tip(u, ch string, coins int64) Posting  { return spend("tip", u, ch, coins, 9000) }

func spend(kind, u, ch string, coins, bps int64) Posting {
	creator := coins * bps / 10000
	es := []Entry{{Account: wallet(u), Amount: -coins}}
	if creator != 0 { // money drops zero legs, which the ledger refuses
		es = append(es, Entry{Account: earnings(ch), Amount: creator})
	}
	if coins-creator != 0 {
		es = append(es, Entry{Account: revenue, Amount: coins - creator})
	}
	return Posting{Txn: Txn{Kind: kind, UserID: u, ChannelID: ch, Amount: coins, Entries: es}}
}

func mustPost(t *testing.T, s *Store, p Posting) Posted {
	t.Helper()
	res, err := s.Post(context.Background(), p)
	if err != nil {
		t.Fatalf("post %s: %v", p.Txn.Kind, err)
	}
	return res
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

// movements adds up what accepted postings moved, account by account:
// the ledger must hold exactly that, whatever was refused.
type movements struct {
	mu      sync.Mutex
	by      map[string]int64
	txns    int64
	entries int64
}

func newMovements() *movements { return &movements{by: map[string]int64{}} }

func (m *movements) add(t Txn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range t.Entries {
		m.by[e.Account.ID] += e.Amount
	}
	m.txns++
	m.entries += int64(len(t.Entries))
}

// assertLedgerHolds checks every account's balance against what was
// moved, the row counts against what was accepted, no floored account
// negative and every currency summing to zero.
func assertLedgerHolds(t *testing.T, s *Store, m *movements) {
	t.Helper()
	ctx := context.Background()
	accts, err := s.LedgerAccounts(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, a := range accts {
		if a.Balance != m.by[a.ID] {
			t.Errorf("%s holds %d, accepted postings moved %d", a.ID, a.Balance, m.by[a.ID])
		}
		if a.Floored && a.Balance < 0 {
			t.Errorf("floored %s is negative: %d", a.ID, a.Balance)
		}
		sums[a.Currency] += a.Balance
	}
	for cur, sum := range sums {
		if sum != 0 {
			t.Errorf("%s balances sum to %d: money created or lost", cur, sum)
		}
	}
	counts, err := s.LedgerCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Txns != m.txns || counts.Entries != m.entries {
		t.Errorf("ledger holds %d transactions and %d entries; %d and %d were accepted",
			counts.Txns, counts.Entries, m.txns, m.entries)
	}
	mustVerify(t, s)
}

// wantInsufficient checks that err refuses a spend from account.
func wantInsufficient(t *testing.T, err error, account string) {
	t.Helper()
	var ie *InsufficientError
	if !errors.Is(err, ErrInsufficient) || !errors.As(err, &ie) || ie.Account != account {
		t.Errorf("spend from %s: %v, want ErrInsufficient naming it", account, err)
	}
}

// Hundreds of goroutines buy, gift, tip and overspend at once, one posting
// at a time and in batches as the group committer posts them: no floored
// account goes negative, every overspend is refused and moves nothing,
// each wallet drained from many goroutines at once pays exactly once, and
// the ledger holds exactly what the accepted postings moved.
func TestLedgerConcurrentSpendsNeverOverdrawAndConserveMoney(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const (
			users, drained, channels = 40, 10, 3
			workers, each            = 200, 12
			seed                     = 100
			drain                    = 60 // two of these overdraw a seeded wallet
			overdraw                 = 1 << 40
		)
		userName := func(i int) string { return fmt.Sprintf("u%d", i) }
		drainName := func(i int) string { return fmt.Sprintf("d%d", i) }
		moved := newMovements()
		var seeds []Posting
		for i := range users {
			seeds = append(seeds, purchase(userName(i), seed))
		}
		for i := range drained {
			seeds = append(seeds, purchase(drainName(i), seed))
		}
		res, errs := s.PostBatch(ctx, seeds)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("seed %d: %v", i, err)
			}
			moved.add(res[i].Txn)
		}

		var accepted, refused atomic.Int64
		var paid [drained]atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 7))
				ordinary := func() Posting {
					u, ch := userName(r.IntN(users)), fmt.Sprintf("ch%d", r.IntN(channels))
					switch r.IntN(3) {
					case 0:
						return purchase(u, int64(10+r.IntN(50)))
					case 1:
						return gift(u, ch, int64(2+r.IntN(40)))
					default:
						return tip(u, ch, int64(2+r.IntN(40)))
					}
				}
				for range each {
					u := userName(r.IntN(users))
					var ps []Posting
					mustFail, drainer := -1, -1
					switch r.IntN(5) {
					case 0, 1:
						ps = []Posting{ordinary()}
					case 2:
						ps, mustFail = []Posting{gift(u, "ch0", overdraw)}, 0
					case 3: // a batch: each posting passes or fails on its own
						for range 2 + r.IntN(7) {
							ps = append(ps, ordinary())
						}
						mustFail = r.IntN(len(ps) + 1)
						ps = slices.Insert(ps, mustFail, tip(u, "ch1", overdraw))
					default:
						drainer = r.IntN(drained)
						ps = []Posting{gift(drainName(drainer), "ch2", drain)}
					}
					res, errs := s.PostBatch(ctx, ps)
					for i, err := range errs {
						switch {
						case i == mustFail:
							wantInsufficient(t, err, wallet(u).ID)
						case err == nil:
							moved.add(res[i].Txn)
							accepted.Add(1)
							if drainer >= 0 {
								paid[drainer].Add(1)
							}
							continue
						case errors.Is(err, ErrInsufficient):
						default:
							t.Errorf("%s failed other than for funds: %v", ps[i].Txn.Kind, err)
						}
						refused.Add(1)
						if res[i].Txn.ID != "" {
							t.Errorf("refused %s answered with transaction %s", ps[i].Txn.Kind, res[i].Txn.ID)
						}
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%d postings accepted, %d refused", accepted.Load(), refused.Load())
		if accepted.Load() == 0 || refused.Load() == 0 {
			t.Fatal("the mix should have both accepted and refused postings")
		}
		for i := range drained {
			if n := paid[i].Load(); n != 1 {
				t.Errorf("wallet %s paid %d drains of %d from %d coins, want exactly 1", drainName(i), n, drain, seed)
			}
		}
		for i := range users {
			if b, err := s.Balance(ctx, wallet(userName(i)).ID); err != nil || b < 0 {
				t.Errorf("wallet %s = %d, %v", userName(i), b, err)
			}
		}
		assertLedgerHolds(t, s, moved)
	})
}

// forceSavepointPath returns an Apply that aborts the batch path once, as
// an unexpected database error would, so that PostBatch redoes the batch
// posting by posting under savepoints.
func forceSavepointPath(calls *atomic.Int32) func(context.Context, *sql.Tx) error {
	return func(context.Context, *sql.Tx) error {
		if calls.Add(1) == 1 {
			return errBatchFallback
		}
		return nil
	}
}

// In one batch, a refused posting undoes only itself, on the batch path
// and on the savepoint path it falls back to: each posting sees the
// balances the accepted ones before it left, and nothing of a refused one.
func TestLedgerBatchRefusalUndoesOnlyItself(t *testing.T) {
	for _, path := range []struct {
		name string
		slow bool
	}{{"batch path", false}, {"savepoint path", true}} {
		t.Run(path.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, s *Store) {
				moved := newMovements()
				moved.add(mustPost(t, s, purchase("b", 5)).Txn)
				unbalanced := Posting{Txn: Txn{Kind: "gift", Entries: []Entry{{Account: wallet("a"), Amount: -5}, {Account: revenue, Amount: 4}}}}
				batch := []struct {
					p    Posting
					want error
				}{
					{purchase("a", 50), nil},
					{gift("a", "ch", 30), nil}, // paid from the coins bought just before
					{gift("a", "ch", 30), ErrInsufficient},
					{tip("b", "ch", 10), ErrInsufficient},
					{unbalanced, ErrInvalid},
					{gift("a", "ch", 20), nil}, // exactly what is left
					{tip("b", "ch", 5), nil},
				}
				var calls atomic.Int32
				if path.slow {
					batch[0].p.Apply = forceSavepointPath(&calls)
				}
				ps := make([]Posting, len(batch))
				for i := range batch {
					ps[i] = batch[i].p
				}
				res, errs := s.PostBatch(context.Background(), ps)
				for i, b := range batch {
					switch {
					case b.want == nil && errs[i] != nil:
						t.Errorf("posting %d (%s): %v", i, b.p.Txn.Kind, errs[i])
					case b.want == nil:
						moved.add(res[i].Txn)
					case !errors.Is(errs[i], b.want):
						t.Errorf("posting %d (%s): %v, want %v", i, b.p.Txn.Kind, errs[i], b.want)
					}
				}
				if path.slow && calls.Load() != 2 {
					t.Errorf("Apply ran %d times, want 2: the batch did not fall back", calls.Load())
				}
				for id, want := range map[string]int64{
					wallet("a").ID: 0, wallet("b").ID: 0,
					earnings("ch").ID: 21 + 14 + 4, revenue.ID: 9 + 6 + 1,
				} {
					if got, _ := s.Balance(context.Background(), id); got != want {
						t.Errorf("%s = %d, want %d", id, got, want)
					}
				}
				assertLedgerHolds(t, s, moved)
			})
		})
	}
}

// idemGift is a gift under an idempotency key whose stored answer names
// the transaction and the wallet's balance right after it.
func idemGift(u, key, hash string, coins int64) Posting {
	p := gift(u, "ch", coins)
	p.Idem = &Idempotency{Scope: u, Key: key, Hash: hash}
	p.Result = func(t Txn, balances map[string]int64) string {
		return fmt.Sprintf("%s left %d", t.ID, balances[wallet(u).ID])
	}
	return p
}

// A repeated request moves money once and answers as the first time; the
// same key for another request is refused and moves nothing; a refused
// request records no key, so it can be retried.
func TestLedgerIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		moved := newMovements()
		moved.add(mustPost(t, s, purchase("a", 100)).Txn)
		first := mustPost(t, s, idemGift("a", "k1", "h1", 10))
		moved.add(first.Txn)
		if first.Replayed || first.Result != first.Txn.ID+" left 90" {
			t.Errorf("first post: replayed %v, result %q", first.Replayed, first.Result)
		}
		moved.add(mustPost(t, s, gift("a", "ch", 5)).Txn) // the wallet moves on meanwhile

		again := mustPost(t, s, idemGift("a", "k1", "h1", 10))
		if !again.Replayed || again.Txn.ID != first.Txn.ID || again.Result != first.Result {
			t.Errorf("repeat: replayed %v, txn %s, result %q; want a replay of %s, %q",
				again.Replayed, again.Txn.ID, again.Result, first.Txn.ID, first.Result)
		}
		if p, ok, err := s.IdempotentResult(ctx, Idempotency{Scope: "a", Key: "k1", Hash: "h1"}); err != nil || !ok || p.Txn.ID != first.Txn.ID {
			t.Errorf("IdempotentResult: %v %v %v", p.Txn.ID, ok, err)
		}

		if _, err := s.Post(ctx, idemGift("a", "k1", "h2", 20)); !errors.Is(err, ErrIdempotencyConflict) {
			t.Errorf("same key, another request: %v, want ErrIdempotencyConflict", err)
		}
		res, errs := s.PostBatch(ctx, []Posting{idemGift("a", "k1", "h1", 10), idemGift("a", "k1", "h2", 20), idemGift("a", "k3", "h1", 1)})
		if errs[0] != nil || !res[0].Replayed || !errors.Is(errs[1], ErrIdempotencyConflict) || errs[2] != nil || res[2].Replayed {
			t.Errorf("a batch of a repeat, a conflict and a new key: %v", errs)
		}
		moved.add(res[2].Txn)

		wantInsufficient(t, must(s.Post(ctx, idemGift("a", "k2", "h1", 200))), wallet("a").ID)
		if _, ok, err := s.IdempotentResult(ctx, Idempotency{Scope: "a", Key: "k2", Hash: "h1"}); ok || err != nil {
			t.Errorf("a refused request recorded its key: %v %v", ok, err)
		}
		moved.add(mustPost(t, s, purchase("a", 200)).Txn)
		if retry := mustPost(t, s, idemGift("a", "k2", "h1", 200)); retry.Replayed {
			t.Error("the retry of a refused request was answered as a replay")
		} else {
			moved.add(retry.Txn)
		}

		moved.add(mustPost(t, s, purchase("b", 10)).Txn)
		if other := mustPost(t, s, idemGift("b", "k1", "h1", 10)); other.Replayed {
			t.Error("another caller's key k1 was answered with a's")
		} else {
			moved.add(other.Txn)
		}
		assertLedgerHolds(t, s, moved)
	})
}

// must drops a result to keep its error.
func must[T any](_ T, err error) error { return err }

// The same request from 50 goroutines at once, alone, repeated inside a
// batch and beside other postings, is one transaction: one caller posts
// it, every other gets a replay of the same answer.
func TestLedgerIdempotencyKeyRaceMovesMoneyOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		moved := newMovements()
		moved.add(mustPost(t, s, purchase("a", 100)).Txn)
		var mu sync.Mutex
		var answers []Posted
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := idemGift("a", "k1", "h1", 10)
				batch := []Posting{p}
				switch i % 3 {
				case 1:
					batch = append(batch, p)
				case 2:
					batch = append([]Posting{purchase(fmt.Sprintf("x%d", i), 5)}, batch...)
				}
				res, errs := s.PostBatch(ctx, batch)
				mu.Lock()
				defer mu.Unlock()
				for j, err := range errs {
					switch {
					case err != nil:
						t.Errorf("post: %v", err)
					case batch[j].Idem == nil:
						moved.add(res[j].Txn)
					default:
						answers = append(answers, res[j])
					}
				}
			}()
		}
		wg.Wait()
		var posted []Posted
		for _, a := range answers {
			if !a.Replayed {
				posted = append(posted, a)
			}
		}
		if len(posted) != 1 {
			t.Fatalf("%d callers posted the gift, want exactly 1", len(posted))
		}
		moved.add(posted[0].Txn)
		for _, a := range answers {
			if a.Txn.ID != posted[0].Txn.ID || a.Result != posted[0].Result {
				t.Errorf("answer %s %q, want %s %q", a.Txn.ID, a.Result, posted[0].Txn.ID, posted[0].Result)
			}
		}
		if b, _ := s.Balance(ctx, wallet("a").ID); b != 90 {
			t.Errorf("wallet = %d, want 90: the gift moved more than once", b)
		}
		assertLedgerHolds(t, s, moved)
	})
}

// A posting that does not balance, or that the ledger cannot represent, is
// refused before it reaches the database, alone or beside good postings.
func TestLedgerRefusesMalformedPostingsAndWritesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		bad := []struct {
			name    string
			entries []Entry
		}{
			{"unbalanced", []Entry{{Account: wallet("a"), Amount: 5}, {Account: issued, Amount: -4}}},
			{"unbalanced in one currency", []Entry{{Account: wallet("a"), Amount: 5}, {Account: clearing("stripe", "USD"), Amount: -5}}},
			{"one entry", []Entry{{Account: wallet("a"), Amount: 5}}},
			{"no entries", nil},
			{"zero entries", []Entry{{Account: wallet("a"), Amount: 0}, {Account: issued, Amount: 0}}},
			{"an account twice", []Entry{{Account: wallet("a"), Amount: 5}, {Account: wallet("a"), Amount: -5}}},
			{"overflow", []Entry{{Account: wallet("a"), Amount: 1 << 62}, {Account: wallet("b"), Amount: 1 << 62}, {Account: issued, Amount: -(1 << 62)}}},
			{"no currency", []Entry{{Account: LedgerAccount{ID: "x"}, Amount: 5}, {Account: issued, Amount: -5}}},
			{"no account", []Entry{{Account: LedgerAccount{Currency: "COIN"}, Amount: 5}, {Account: issued, Amount: -5}}},
		}
		for _, tt := range bad {
			if _, err := s.Post(ctx, Posting{Txn: Txn{Kind: "test", Entries: tt.entries}}); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
			}
		}
		if counts, err := s.LedgerCounts(ctx); err != nil || counts != (LedgerStats{}) {
			t.Errorf("refused postings wrote %+v (%v)", counts, err)
		}

		moved := newMovements()
		res, errs := s.PostBatch(ctx, []Posting{{Txn: Txn{Kind: "test", Entries: bad[0].entries}}, purchase("big", 1<<62)})
		if !errors.Is(errs[0], ErrInvalid) || errs[1] != nil {
			t.Fatalf("a malformed posting beside a good one: %v", errs)
		}
		moved.add(res[1].Txn)
		// A balance pushed past int64 is refused, not wrapped.
		if _, err := s.Post(ctx, purchase("big", 1<<62)); err == nil {
			t.Error("a balance overflowing int64 was accepted")
		}
		assertLedgerHolds(t, s, moved)
	})
}

// While a user owes a receivable, a guarded spend is refused, alone or in
// a batch; a user who never owed anything spends freely.
func TestLedgerGuardRefusesSpendsWhileAReceivableIsOwed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustPost(t, s, purchase("a", 100))
		owed := LedgerAccount{ID: "receivable:a", Kind: "receivable", OwnerID: "a", Currency: "COIN"}
		mustPost(t, s, Posting{Txn: Txn{Kind: "chargeback", Amount: 30,
			Entries: []Entry{{Account: owed, Amount: -30}, {Account: issued, Amount: 30}}}})
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
		mustPost(t, s, purchase("b", 10))
		p := gift("b", "ch", 10)
		p.Guard = &Guard{AccountID: "receivable:b"} // never used: holds 0
		if _, err := s.Post(ctx, p); err != nil {
			t.Errorf("a user owing nothing: %v", err)
		}
		if b, _ := s.Balance(ctx, wallet("a").ID); b != 100 {
			t.Errorf("wallet a = %d, want 100", b)
		}
		mustVerify(t, s)
	})
}

// VerifyLedger names the rule each kind of damage breaks, and only those.
func TestLedgerVerifyNamesTheBrokenRule(t *testing.T) {
	const (
		sumsPerTxn   = "transaction balances per currency"
		twoEntries   = "transaction has two or more entries"
		balanceIsSum = "balance equals the sum of entries"
		conserved    = "currency conserved"
		floored      = "floored account not negative"
		keyHasTxn    = "idempotency key names a transaction"
		orderHasTxn  = "paid order has its purchase"
	)
	cases := []struct {
		name string
		sql  string // $1 is the id of a two-entry transaction
		want []string
	}{
		{"a balance off by one", `UPDATE ledger_accounts SET balance = balance + 1 WHERE id = 'wallet:a'`,
			[]string{balanceIsSum, conserved}},
		{"a floored balance below zero", `UPDATE ledger_accounts SET balance = -7 WHERE id = 'wallet:a'`,
			[]string{balanceIsSum, conserved, floored}},
		{"an entry changed", `UPDATE ledger_entries SET amount = amount + 1 WHERE account_id = 'wallet:a'`,
			[]string{sumsPerTxn, balanceIsSum}},
		{"an entry lost", `DELETE FROM ledger_entries WHERE txn_id = $1 AND account_id = 'platform:issued'`,
			[]string{sumsPerTxn, twoEntries, balanceIsSum}},
		{"a key without its transaction", `INSERT INTO idempotency_keys (scope, idem_key, request_hash, txn_id, result, created_at)
			VALUES ('a', 'k', 'h', 'txn_gone', '', 0)`, []string{keyHasTxn}},
		{"a paid order without its purchase", `INSERT INTO payment_orders (id, user_id, pack_id, coins, price, currency, provider, status, created_at, updated_at)
			SELECT 'ord_1', id, 'pack', 100, 99, 'USD', 'stripe', 'paid', 0, 0 FROM users`, []string{orderHasTxn}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, s *Store) {
				ctx := context.Background()
				mustCreateUser(t, s, "buyer@example.com")
				mustPost(t, s, purchase("a", 50))
				mustPost(t, s, gift("a", "ch", 10))
				grant := mustPost(t, s, Posting{Txn: Txn{Kind: "grant", Amount: 5,
					Entries: []Entry{{Account: issued, Amount: -5}, {Account: wallet("b"), Amount: 5}}}})
				mustVerify(t, s)
				var args []any
				if strings.Contains(tt.sql, "$1") {
					args = append(args, grant.Txn.ID)
				}
				if _, err := s.db.ExecContext(ctx, tt.sql, args...); err != nil {
					t.Fatal(err)
				}
				breaches, err := s.VerifyLedger(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, b := range breaches {
					if !slices.Contains(got, b.Rule) {
						got = append(got, b.Rule)
					}
				}
				slices.Sort(got)
				want := slices.Sorted(slices.Values(tt.want))
				if !slices.Equal(got, want) {
					t.Errorf("breaches %q, want %q (%+v)", got, want, breaches)
				}
			})
		})
	}
}
