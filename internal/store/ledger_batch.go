package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The batch path of PostBatch writes a whole group of postings with a
// constant number of statements: one read of their idempotency keys, one
// read (locking, on PostgreSQL) of every account they touch, then the
// floors are checked in memory, posting by posting in order, and what
// passes is written with one balance update and one multi-row insert each
// of transactions, entries and keys. Nothing is written for a refused
// posting, so no savepoints are needed, except around an Apply. Anything
// unexpected (a database error, a key taken meanwhile by another node)
// rolls the batch back and PostBatch redoes it posting by posting.

// chunkSizes splits n rows into multi-row statements of 256, 64, 16, 4
// and 1 rows: few statements per batch, and few distinct statement texts,
// so that the prepared-statement cache holds them all. 256 rows stay well
// inside both engines' limits on bound parameters.
func chunkSizes(n int) []int {
	var out []int
	for _, size := range []int{256, 64, 16, 4, 1} {
		for n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// errBatchFallback aborts the batch path's transaction.
var errBatchFallback = errors.New("ledger batch: fall back to one posting at a time")

type batchAcct struct {
	bal     int64
	floored bool
	delta   int64
}

// postBatchFast tries the batch path. ok is false when the batch must be
// redone by the savepoint path (nothing of it was written). Postings whose
// idempotency key repeats an earlier one of the batch are left for the
// caller (deferred[i] true), and so, on the pipelined PostgreSQL path, are
// postings whose key was used before: the caller replays them.
func (s *Store) postBatchFast(ctx context.Context, ps []Posting, errs []error) (out []Posted, deferred []bool, ok bool) {
	if s.engine == enginePostgres {
		// Accounts are created before the transaction that locks them, in
		// a statement of their own: an insert waiting on another batch's
		// uncommitted insert of the same account while holding row locks
		// would break the id order that keeps batches from deadlocking.
		if err := s.ensureAccounts(ctx, ps, errs); err != nil {
			return nil, nil, false
		}
		if err := s.ensureRooms(ctx, ps, errs); err != nil {
			return nil, nil, false
		}
		if !slices.ContainsFunc(ps, func(p Posting) bool { return p.Apply != nil }) {
			return s.pgPipelined(ctx, ps, errs)
		}
	}
	b := newBatch(ps, errs)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		used, err := s.seenKeys(ctx, tx, ps, b.keyed)
		if err != nil {
			return err
		}
		var fresh []int
		for _, i := range b.live {
			if k := ps[i].Idem; k != nil && used[[2]string{k.Scope, k.Key}] {
				b.out[i], b.errs[i] = s.replay(ctx, tx, k)
				if b.errs[i] != nil && !errors.Is(b.errs[i], ErrIdempotencyConflict) {
					return b.errs[i]
				}
				continue
			}
			fresh = append(fresh, i)
		}
		accts, err := s.lockAccounts(ctx, tx, ps, fresh)
		if err != nil {
			return err
		}
		accepted, err := s.accept(ps, fresh, accts, b, func(p *Posting) error {
			apply := applyIsolated
			if p.ApplyAtomic {
				apply = func(ctx context.Context, tx *sql.Tx, p *Posting) error { return p.Apply(ctx, tx) }
			}
			return apply(ctx, tx, p)
		})
		if err != nil || len(accepted) == 0 {
			return err
		}
		if s.engine == enginePostgres {
			w := s.pgWrite(ps, b.out, accepted, accts)
			rows, err := tx.QueryContext(ctx, w.q, w.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			return w.read(rows)
		}
		if err := s.applyDeltas(ctx, tx, accts); err != nil {
			return err
		}
		if err := s.insertPosted(ctx, tx, ps, b.out, accepted); err != nil {
			return err
		}
		return s.appendPostedEvents(ctx, tx, ps, b.out, accepted)
	})
	if err != nil {
		return nil, nil, false
	}
	copy(errs, b.errs)
	return b.out, b.deferred, true
}

// batch is the batch path's working state.
type batch struct {
	out      []Posted
	errs     []error // outcomes so far (a copy: the caller's stay as they were until the batch commits)
	deferred []bool  // left for the caller to replay
	live     []int   // valid postings not deferred, in order
	keyed    []int   // those of them with an idempotency key
}

// newBatch sorts the postings: valid ones go on, and a key repeated within
// the batch is deferred (it replays once the first is written).
func newBatch(ps []Posting, errs []error) *batch {
	b := &batch{out: make([]Posted, len(ps)), errs: slices.Clone(errs), deferred: make([]bool, len(ps))}
	seen := map[[2]string]bool{}
	for i := range ps {
		if b.errs[i] != nil {
			continue
		}
		if k := ps[i].Idem; k != nil {
			id := [2]string{k.Scope, k.Key}
			if seen[id] {
				b.deferred[i] = true
				continue
			}
			seen[id] = true
			b.keyed = append(b.keyed, i)
		}
		b.live = append(b.live, i)
	}
	return b
}

// accept checks the fresh postings in order against the balances the
// ones before them leave (guards, floors, then Apply, if any) and books
// those that pass into accts and b.out. An apply error wrapping
// errBatchFallback aborts the batch; any other refuses its posting.
func (s *Store) accept(ps []Posting, fresh []int, accts map[string]*batchAcct, b *batch, apply func(p *Posting) error) ([]int, error) {
	var accepted []int
	for _, i := range fresh {
		p := &ps[i]
		if g := p.Guard; g != nil {
			var bal int64
			if a := accts[g.AccountID]; a != nil {
				bal = a.bal
			}
			if bal < g.Min {
				b.errs[i] = &GuardError{Account: g.AccountID, Balance: bal}
				continue
			}
		}
		if err := checkFloors(p, accts); err != nil {
			b.errs[i] = err
			continue
		}
		if p.Apply != nil {
			if err := apply(p); err != nil {
				if errors.Is(err, errBatchFallback) {
					return nil, err
				}
				b.errs[i] = err
				continue
			}
		}
		t := s.txnDefaults(p.Txn)
		t.Entries = slices.Clone(t.Entries)
		slices.SortFunc(t.Entries, func(a, b Entry) int { return strings.Compare(a.Account.ID, b.Account.ID) })
		balances := make(map[string]int64, len(t.Entries))
		for _, e := range t.Entries {
			a := accts[e.Account.ID]
			a.bal += e.Amount
			a.delta += e.Amount
			balances[e.Account.ID] = a.bal
		}
		res := ""
		if p.Result != nil {
			res = p.Result(t, balances)
		}
		b.out[i] = Posted{Txn: t, Result: res}
		accepted = append(accepted, i)
	}
	return accepted, nil
}

// seenKeys returns which of the keyed postings' idempotency keys exist.
func (s *Store) seenKeys(ctx context.Context, tx *sql.Tx, ps []Posting, keyed []int) (map[[2]string]bool, error) {
	used := map[[2]string]bool{}
	if s.engine == enginePostgres && len(keyed) > 0 {
		scopes, keys := make([]string, len(keyed)), make([]string, len(keyed))
		for n, i := range keyed {
			scopes[n], keys[n] = ps[i].Idem.Scope, ps[i].Idem.Key
		}
		rows, err := tx.QueryContext(ctx, pgSeenKeys, scopes, keys)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				return nil, err
			}
			used[k] = true
		}
		return used, rows.Err()
	}
	start := 0
	for _, size := range chunkSizes(len(keyed)) {
		part := keyed[start : start+size]
		start += size
		var q strings.Builder
		args := make([]any, 0, 2*len(part))
		q.WriteString(`SELECT scope, idem_key FROM idempotency_keys WHERE `)
		for n, i := range part {
			if n > 0 {
				q.WriteString(" OR ")
			}
			fmt.Fprintf(&q, "(scope = $%d AND idem_key = $%d)", 2*n+1, 2*n+2)
			args = append(args, ps[i].Idem.Scope, ps[i].Idem.Key)
		}
		rows, err := tx.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				rows.Close()
				return nil, err
			}
			used[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return used, nil
}

// batchAccounts lists, in id order, every account the postings touch and
// every account their guards read (guarded: read, and locked, but never
// created).
func batchAccounts(ps []Posting, idx []int) (ids []string, specs map[string]LedgerAccount, guarded map[string]bool) {
	specs = map[string]LedgerAccount{}
	for _, i := range idx {
		for _, e := range ps[i].Txn.Entries {
			specs[e.Account.ID] = e.Account
		}
	}
	ids = make([]string, 0, len(specs))
	for id := range specs {
		ids = append(ids, id)
	}
	guarded = map[string]bool{}
	for _, i := range idx {
		if g := ps[i].Guard; g != nil && specs[g.AccountID].ID == "" && !guarded[g.AccountID] {
			guarded[g.AccountID] = true
			ids = append(ids, g.AccountID)
		}
	}
	slices.Sort(ids)
	return ids, specs, guarded
}

// lockAccounts reads every account the postings touch, creating the
// missing ones at zero, and on PostgreSQL locks them (in id order, so two
// batches never deadlock) until the transaction ends.
func (s *Store) lockAccounts(ctx context.Context, tx *sql.Tx, ps []Posting, fresh []int) (map[string]*batchAcct, error) {
	ids, specs, guarded := batchAccounts(ps, fresh)
	accts := make(map[string]*batchAcct, len(ids))
	if err := s.readAccounts(ctx, tx, ids, accts); err != nil {
		return nil, err
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return guarded[id] })
	var missing []string
	for _, id := range ids {
		if accts[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return accts, nil
	}
	now := toMillis(s.now())
	if s.engine == enginePostgres { // ensureAccounts made them all
		return nil, fmt.Errorf("account %s missing: %w", missing[0], errBatchFallback)
	}
	start := 0
	for _, size := range chunkSizes(len(missing)) {
		part := missing[start : start+size]
		start += size
		args := make([]any, 0, 6*len(part))
		for _, id := range part {
			a := specs[id]
			args = append(args, a.ID, a.Kind, a.OwnerID, a.Currency, boolInt(a.Floored), now)
		}
		q := `INSERT INTO ledger_accounts (id, kind, owner_id, currency, floored, created_at) VALUES ` +
			placeholders(len(part), 6) + ` ON CONFLICT (id) DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, err
		}
	}
	// Read them back: another node may have created one meanwhile.
	if err := s.readAccounts(ctx, tx, missing, accts); err != nil {
		return nil, err
	}
	for _, id := range missing {
		if accts[id] == nil {
			return nil, fmt.Errorf("account %s vanished: %w", id, errBatchFallback)
		}
	}
	return accts, nil
}

func (s *Store) readAccounts(ctx context.Context, tx *sql.Tx, ids []string, into map[string]*batchAcct) error {
	if s.engine == enginePostgres {
		if len(ids) == 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, pgLockAccounts, ids)
		if err != nil {
			return err
		}
		return scanAccounts(rows, into)
	}
	start := 0
	for _, size := range chunkSizes(len(ids)) {
		part := ids[start : start+size]
		start += size
		args := make([]any, len(part))
		for n, id := range part {
			args[n] = id
		}
		q := `SELECT id, balance, floored FROM ledger_accounts WHERE id IN (` + placeholderList(1, len(part)) + `) ORDER BY id`
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if err := scanAccounts(rows, into); err != nil {
			return err
		}
	}
	return nil
}

// scanRows is what both database/sql's and pgx's rows offer.
type scanRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

func scanAccounts(rows scanRows, into map[string]*batchAcct) error {
	if c, ok := rows.(interface{ Close() error }); ok {
		defer c.Close()
	}
	for rows.Next() {
		var id string
		var a batchAcct
		var floored int
		if err := rows.Scan(&id, &a.bal, &floored); err != nil {
			return err
		}
		a.floored = floored == 1
		into[id] = &a
	}
	return rows.Err()
}

// checkFloors refuses a posting that would overdraw a floored account or
// overflow a balance, given the balances so far in the batch.
func checkFloors(p *Posting, accts map[string]*batchAcct) error {
	for _, e := range p.Txn.Entries {
		a := accts[e.Account.ID]
		next := a.bal + e.Amount
		if (e.Amount > 0 && next < a.bal) || (e.Amount < 0 && next > a.bal) {
			return fmt.Errorf("transaction %s: balance of %s would overflow: %w", p.Txn.Kind, e.Account.ID, ErrInvalid)
		}
		if a.floored && next < 0 {
			return &InsufficientError{Account: e.Account.ID, Need: -e.Amount, Balance: a.bal}
		}
	}
	return nil
}

// applyIsolated runs a posting's Apply under a savepoint, so a refusal
// (a subscription changed meanwhile) undoes only what it wrote.
func applyIsolated(ctx context.Context, tx *sql.Tx, p *Posting) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT a`); err != nil {
		return fmt.Errorf("%w: %v", errBatchFallback, err)
	}
	err := p.Apply(ctx, tx)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT a`); rerr != nil {
			return fmt.Errorf("%w: %v", errBatchFallback, rerr)
		}
	}
	if _, rerr := tx.ExecContext(ctx, `RELEASE SAVEPOINT a`); rerr != nil {
		return fmt.Errorf("%w: %v", errBatchFallback, rerr)
	}
	return err
}

// applyDeltas moves every account by its net change in one statement per
// chunk; the floor is checked again by the database, and a mismatch
// sends the batch down the savepoint path.
func (s *Store) applyDeltas(ctx context.Context, tx *sql.Tx, accts map[string]*batchAcct) error {
	ids, _ := changedAccounts(accts)
	start := 0
	for _, size := range chunkSizes(len(ids)) {
		part := ids[start : start+size]
		start += size
		var cs strings.Builder
		args := make([]any, 0, 3*len(part))
		cs.WriteString("CASE id")
		for n, id := range part {
			fmt.Fprintf(&cs, " WHEN $%d THEN CAST($%d AS BIGINT)", 2*n+1, 2*n+2)
			args = append(args, id, accts[id].delta)
		}
		cs.WriteString(" END")
		in := placeholderList(len(args)+1, len(part))
		for _, id := range part {
			args = append(args, id)
		}
		q := `UPDATE ledger_accounts SET balance = balance + ` + cs.String() + ` WHERE id IN (` + in + `)
			AND (floored = 0 OR balance + ` + cs.String() + ` >= 0)`
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(part)) {
			return fmt.Errorf("balance update touched %d of %d accounts: %w", n, len(part), errBatchFallback)
		}
	}
	return nil
}

// changedAccounts lists, in id order, the accounts the batch moves and by
// how much.
func changedAccounts(accts map[string]*batchAcct) (ids []string, deltas []int64) {
	for id, a := range accts {
		if a.delta != 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		deltas = append(deltas, accts[id].delta)
	}
	return ids, deltas
}

// batchInsert is the rows one table gets from a batch.
type batchInsert struct {
	table, cols string
	types       []string
	rows        [][]any
}

// postedInserts is what the accepted postings write: their transactions,
// entries and idempotency keys.
func postedInserts(ps []Posting, out []Posted, accepted []int) []batchInsert {
	txns := batchInsert{table: "ledger_txns", cols: txnColumns,
		types: []string{"text", "text", "text", "text", "text", "bigint", "text", "text", "bigint"}}
	entries := batchInsert{table: "ledger_entries", cols: "txn_id, account_id, amount, created_at",
		types: []string{"text", "text", "bigint", "bigint"}}
	keys := batchInsert{table: "idempotency_keys", cols: "scope, idem_key, request_hash, txn_id, result, created_at",
		types: []string{"text", "text", "text", "text", "text", "bigint"}}
	for _, i := range accepted {
		t := out[i].Txn
		now := toMillis(t.CreatedAt)
		txns.rows = append(txns.rows, []any{t.ID, t.Kind, t.UserID, t.ChannelID, t.BroadcastID, t.Amount, t.Ref, t.Memo, now})
		for _, e := range t.Entries {
			entries.rows = append(entries.rows, []any{t.ID, e.Account.ID, e.Amount, now})
		}
		if k := ps[i].Idem; k != nil {
			keys.rows = append(keys.rows, []any{k.Scope, k.Key, k.Hash, t.ID, out[i].Result, now})
		}
	}
	return []batchInsert{txns, entries, keys}
}

// insertPosted writes the accepted postings' rows on SQLite, in multi-row
// chunks of fixed sizes.
func (s *Store) insertPosted(ctx context.Context, tx *sql.Tx, ps []Posting, out []Posted, accepted []int) error {
	for _, ins := range postedInserts(ps, out, accepted) {
		if err := s.insertRows(ctx, tx, ins.table, ins.cols, ins.types, ins.rows); err != nil {
			return err
		}
	}
	return nil
}

// placeholderList renders $first, $first+1, … n of them.
func placeholderList(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+i)
	}
	return b.String()
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// pgInsert writes rows with one statement whatever their number: each
// column goes as one array parameter and unnest turns them back into rows,
// so the statement text, and its prepared plan, never change. types are
// "text", "bigint" or "int"; values are strings and int64s.
func pgInsert(ctx context.Context, tx execer, table, cols string, types []string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	sel, args := pgUnnest(types, rows, nil)
	_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" ("+cols+") "+sel+suffix, args...)
	return err
}

// pgUnnest renders rows as `SELECT * FROM unnest($n::type[], …)`, one
// array parameter per column, numbered after the args given, which it
// returns with the arrays appended.
func pgUnnest(types []string, rows [][]any, args []any) (string, []any) {
	casts := make([]string, len(types))
	for c, typ := range types {
		casts[c] = fmt.Sprintf("$%d::%s[]", len(args)+1, typ)
		if typ == "text" {
			col := make([]string, len(rows))
			for r, row := range rows {
				col[r] = row[c].(string)
			}
			args = append(args, col)
			continue
		}
		col := make([]int64, len(rows))
		for r, row := range rows {
			col[r] = row[c].(int64)
		}
		args = append(args, col)
	}
	return "SELECT * FROM unnest(" + strings.Join(casts, ", ") + ")", args
}

// insertRows writes rows with as few statements as the engine allows:
// one unnest on PostgreSQL, multi-row chunks of fixed sizes on SQLite.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table, cols string, types []string, rows [][]any) error {
	if s.engine == enginePostgres {
		return pgInsert(ctx, tx, table, cols, types, rows, "")
	}
	start := 0
	for _, n := range chunkSizes(len(rows)) {
		args := make([]any, 0, n*len(types))
		for _, r := range rows[start : start+n] {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + placeholders(n, len(types))
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		start += n
	}
	return nil
}

// ensureAccounts creates, at zero, every account the valid postings touch
// that does not exist yet (PostgreSQL), in one autocommitted statement.
func (s *Store) ensureAccounts(ctx context.Context, ps []Posting, errs []error) error {
	seen := map[string]bool{}
	var rows [][]any
	now := toMillis(s.now())
	for i := range ps {
		if errs[i] != nil {
			continue
		}
		for _, e := range ps[i].Txn.Entries {
			a := e.Account
			if seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			rows = append(rows, []any{a.ID, a.Kind, a.OwnerID, a.Currency, int64(boolInt(a.Floored)), now})
		}
	}
	// Accounts are never deleted, so one this store has seen exist needs
	// no statement: a busy batch's accounts all exist, and this round trip
	// goes. (Were one missing after all, the batch falls back.)
	rows = slices.DeleteFunc(rows, func(r []any) bool { return s.accounts.known(r[0].(string)) })
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) })
	if err := pgInsert(ctx, s.db, "ledger_accounts", "id, kind, owner_id, currency, floored, created_at",
		[]string{"text", "text", "text", "text", "int", "bigint"}, rows, " ON CONFLICT (id) DO NOTHING"); err != nil {
		return err
	}
	for _, r := range rows {
		s.accounts.add(r[0].(string))
	}
	return nil
}

// knownIDs remembers ids of rows that exist (PostgreSQL's batch path),
// bounded: it is cleared when full.
type knownIDs struct {
	mu sync.Mutex
	m  map[string]struct{}
}

const knownIDsMax = 1 << 20

func (k *knownIDs) known(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.m[id]
	return ok
}

func (k *knownIDs) add(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= knownIDsMax {
		k.m = map[string]struct{}{}
	}
	k.m[id] = struct{}{}
}
