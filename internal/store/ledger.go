package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Ledger errors. Each wraps ErrInvalid or stands alone so the API can map
// it to a 4xx with nothing moved.
var (
	// ErrInsufficient reports a posting that would take a floored account
	// (a wallet, earnings, pending payouts) below zero.
	ErrInsufficient = errors.New("insufficient balance")
	// ErrIdempotencyConflict reports an idempotency key already used for a
	// different request.
	ErrIdempotencyConflict = errors.New("idempotency key already used for a different request")
)

// InsufficientError names the account a posting would have overdrawn.
type InsufficientError struct {
	Account string
	Need    int64 // the amount taken
	Balance int64 // what the account held
}

func (e *InsufficientError) Error() string {
	return fmt.Sprintf("account %s holds %d, %d needed", e.Account, e.Balance, e.Need)
}

// Unwrap makes an InsufficientError match ErrInsufficient.
func (e *InsufficientError) Unwrap() error { return ErrInsufficient }

// LedgerAccount is one account of the double-entry ledger.
type LedgerAccount struct {
	ID       string
	Kind     string
	OwnerID  string
	Currency string
	// Floored accounts may never go below zero.
	Floored   bool
	Balance   int64
	CreatedAt time.Time
}

// Entry moves Amount (signed minor units of the account's currency) on an
// account. The account is created on first use from the spec.
type Entry struct {
	Account LedgerAccount
	Amount  int64
}

// Txn is one balanced ledger transaction.
type Txn struct {
	ID          string
	Kind        string
	UserID      string
	ChannelID   string
	BroadcastID string
	Amount      int64
	Ref         string
	Memo        string // JSON object
	CreatedAt   time.Time
	Entries     []Entry
}

// Idempotency ties a posting to a caller's key: Scope (e.g. the user id)
// and Key name the request, Hash fingerprints its body.
type Idempotency struct {
	Scope, Key, Hash string
}

// Posting is one transaction to write, with its idempotency key and any
// rows that must change in the same database transaction (Apply runs
// after the entries; an error from it undoes the whole posting).
type Posting struct {
	Txn   Txn
	Idem  *Idempotency
	Apply func(ctx context.Context, tx *sql.Tx) error
	// Guard, if set, refuses the posting (with a *GuardError) unless an
	// account holds at least Min, read in the posting's transaction.
	Guard *Guard
	// ApplyAtomic says Apply is one conditional statement that writes
	// nothing when it fails, so the batch path runs it without a savepoint.
	ApplyAtomic bool
	// Result renders the answer to the request from the transaction and
	// the accounts' balances after it; it is stored with the idempotency
	// key, so a replay answers exactly the same.
	Result func(t Txn, balances map[string]int64) string
	// Repay, if set, settles a debt from the posting's credit inside its
	// database transaction (see Repay). Such postings take the savepoint
	// path, one at a time.
	Repay *Repay
	// Event, if set, is a room event (ChannelID set) stored in the same
	// database transaction and given the room's next sequence number: the
	// chat announcement of the money that moved, such as a gift's alert,
	// so that money and alert commit together and a burst of gifts costs
	// one transaction, not two. A replay stores none.
	Event *RoomEvent
}

// Guard is a condition on an account that a posting does not move, such
// as "this user owes nothing" (its receivable is not negative). A missing
// account holds 0.
type Guard struct {
	AccountID string
	Min       int64
}

// Repay moves part of a posting's credit to a debt account: of the
// positive entry on From, as much as brings Debt (whose balance is zero or
// negative: owed) back to zero goes to Debt instead. The amount is
// computed from Debt's balance read and locked in the posting's own
// transaction, so concurrent postings can never repay one debt twice and
// push it above zero.
type Repay struct {
	Debt LedgerAccount
	From string // the account id of the posting's entry that pays
}

// GuardError reports a posting refused by its Guard.
type GuardError struct {
	Account string
	Balance int64
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("account %s holds %d, below what the posting requires", e.Account, e.Balance)
}

// Posted is the outcome of a posting.
type Posted struct {
	Txn Txn
	// Replayed: the idempotency key was seen before with the same request;
	// nothing moved now and Result is what was stored the first time.
	Replayed bool
	Result   string
	// Event is the posting's stored room event, with its sequence number
	// (Seq 0: the posting had none, or was a replay).
	Event RoomEvent
}

// checkBalanced validates a transaction before it reaches the database.
func checkBalanced(t *Txn) error {
	if len(t.Entries) < 2 {
		return fmt.Errorf("transaction %s: needs at least two entries: %w", t.Kind, ErrInvalid)
	}
	sums := map[string]int64{}
	seen := map[string]bool{}
	for _, e := range t.Entries {
		if e.Account.ID == "" || e.Account.Currency == "" {
			return fmt.Errorf("transaction %s: entry without account or currency: %w", t.Kind, ErrInvalid)
		}
		if seen[e.Account.ID] {
			return fmt.Errorf("transaction %s: account %s appears twice: %w", t.Kind, e.Account.ID, ErrInvalid)
		}
		seen[e.Account.ID] = true
		if e.Amount == 0 {
			return fmt.Errorf("transaction %s: zero entry on %s: %w", t.Kind, e.Account.ID, ErrInvalid)
		}
		s := sums[e.Account.Currency]
		// Overflow-checked sum: an entry near MaxInt64 must not wrap.
		if (e.Amount > 0 && s > (1<<63-1)-e.Amount) || (e.Amount < 0 && s < (-1<<63)-e.Amount) {
			return fmt.Errorf("transaction %s: amounts overflow: %w", t.Kind, ErrInvalid)
		}
		sums[e.Account.Currency] = s + e.Amount
	}
	for cur, s := range sums {
		if s != 0 {
			return fmt.Errorf("transaction %s: %s entries sum to %d, not zero: %w", t.Kind, cur, s, ErrInvalid)
		}
	}
	return nil
}

// Post writes one posting in its own database transaction.
func (s *Store) Post(ctx context.Context, p Posting) (Posted, error) {
	res, errs := s.PostBatch(ctx, []Posting{p})
	return res[0], errs[0]
}

// PostBatch writes postings in one database transaction, each under its
// own savepoint, so that one refused posting (an overdrawn wallet, a
// reused key) undoes only itself: group commit for many concurrent
// callers. errs[i] is posting i's outcome; a failed commit fails them all.
func (s *Store) PostBatch(ctx context.Context, ps []Posting) (out []Posted, errs []error) {
	errs = make([]error, len(ps))
	for i := range ps {
		errs[i] = checkBalanced(&ps[i].Txn)
	}
	if i := slices.IndexFunc(ps, func(p Posting) bool { return p.Repay != nil }); i >= 0 {
		return s.postRepaysApart(ctx, ps, errs)
	}
	out, deferred, ok := s.postBatchFast(ctx, ps, errs)
	if !ok {
		s.slowBatches.Add(1)
		return s.postBatchSlow(ctx, ps)
	}
	var rest []Posting
	var at []int
	for i := range ps {
		switch {
		case deferred[i]:
			rest, at = append(rest, ps[i]), append(at, i)
		case errs[i] != nil:
			errs[i] = wrapPostErr(&ps[i].Txn, errs[i])
		}
	}
	if len(rest) > 0 { // repeats of a key earlier in the batch: replays now
		o, e := s.postBatchSlow(ctx, rest)
		for n, i := range at {
			out[i], errs[i] = o[n], e[n]
		}
	}
	return out, errs
}

// postRepaysApart posts the postings with a Repay on the savepoint path,
// which computes repayments in the database, and the others as a batch.
func (s *Store) postRepaysApart(ctx context.Context, ps []Posting, errs []error) ([]Posted, []error) {
	out := make([]Posted, len(ps))
	var batch, apart []Posting
	var batchAt, apartAt []int
	for i, p := range ps {
		if p.Repay != nil {
			apart, apartAt = append(apart, p), append(apartAt, i)
		} else {
			batch, batchAt = append(batch, p), append(batchAt, i)
		}
	}
	if len(batch) > 0 {
		o, e := s.PostBatch(ctx, batch)
		for n, i := range batchAt {
			out[i], errs[i] = o[n], e[n]
		}
	}
	o, e := s.postBatchSlow(ctx, apart)
	for n, i := range apartAt {
		out[i], errs[i] = o[n], e[n]
	}
	return out, errs
}

// repayEntries resolves a posting's Repay: it locks and reads the debt
// and returns the entries with the repayment taken from the From entry.
func (s *Store) repayEntries(ctx context.Context, tx *sql.Tx, t Txn, r *Repay) ([]Entry, error) {
	owed, err := s.lockDebt(ctx, tx, t, r.Debt.ID)
	if err != nil {
		return nil, fmt.Errorf("read debt %s: %w", r.Debt.ID, err)
	}
	out := make([]Entry, 0, len(t.Entries)+1)
	found := false
	for _, e := range t.Entries {
		if e.Account.ID == r.Debt.ID {
			return nil, fmt.Errorf("transaction %s: the debt %s has an entry of its own: %w", t.Kind, r.Debt.ID, ErrInvalid)
		}
		if e.Account.ID != r.From {
			out = append(out, e)
			continue
		}
		if e.Amount <= 0 {
			return nil, fmt.Errorf("transaction %s: repay from %s, which is not credited: %w", t.Kind, r.From, ErrInvalid)
		}
		found = true
		repay := min(e.Amount, max(0, -owed))
		if repay > 0 {
			out = append(out, Entry{Account: r.Debt, Amount: repay})
		}
		if e.Amount-repay != 0 {
			out = append(out, Entry{Account: e.Account, Amount: e.Amount - repay})
		}
	}
	if !found {
		return nil, fmt.Errorf("transaction %s: repay from %s, which has no entry: %w", t.Kind, r.From, ErrInvalid)
	}
	return out, nil
}

// lockDebt reads a debt's balance (0 for an account never used). On
// PostgreSQL it first locks the debt with every account of the
// transaction in id order, the order every posting locks in, so the
// early read cannot deadlock with a posting on the same accounts.
func (s *Store) lockDebt(ctx context.Context, tx *sql.Tx, t Txn, debt string) (int64, error) {
	if s.engine != enginePostgres {
		var owed int64
		err := tx.QueryRowContext(ctx, `SELECT balance FROM ledger_accounts WHERE id = $1`, debt).Scan(&owed)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return owed, err
	}
	ids := []string{debt}
	for _, e := range t.Entries {
		ids = append(ids, e.Account.ID)
	}
	slices.Sort(ids)
	rows, err := tx.QueryContext(ctx, pgLockAccounts, slices.Compact(ids))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var owed int64
	for rows.Next() {
		var id string
		var bal int64
		var floored int
		if err := rows.Scan(&id, &bal, &floored); err != nil {
			return 0, err
		}
		if id == debt {
			owed = bal
		}
	}
	return owed, rows.Err()
}

// postBatchSlow is PostBatch one posting at a time, each under its own
// savepoint: the fallback of the batch path (ledger_batch.go).
func (s *Store) postBatchSlow(ctx context.Context, ps []Posting) (out []Posted, errs []error) {
	out, errs = make([]Posted, len(ps)), make([]error, len(ps))
	ok := false
	for i := range ps {
		if err := checkBalanced(&ps[i].Txn); err != nil {
			errs[i] = err
			continue
		}
		ok = true
	}
	if !ok {
		return out, errs
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		single := len(ps) == 1
		for i := range ps {
			if errs[i] != nil {
				continue
			}
			if !single {
				if _, err := tx.ExecContext(ctx, `SAVEPOINT p`); err != nil {
					return err
				}
			}
			res, err := s.postOne(ctx, tx, &ps[i])
			if err != nil && !single {
				if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT p`); rerr != nil {
					return rerr
				}
				// A concurrent twin of this idempotency key committed
				// first (PostgreSQL): answer with its result.
				if isUniqueViolation(err) && ps[i].Idem != nil {
					res, err = s.replay(ctx, tx, ps[i].Idem)
				}
			}
			if !single {
				if _, rerr := tx.ExecContext(ctx, `RELEASE SAVEPOINT p`); rerr != nil {
					return rerr
				}
			}
			out[i], errs[i] = res, err
			if single && err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if len(ps) == 1 && errs[0] != nil {
			if isUniqueViolation(errs[0]) && ps[0].Idem != nil {
				// The twin committed between our read and our insert.
				res, rerr := s.replay(ctx, s.db, ps[0].Idem)
				out[0], errs[0] = res, rerr
				return out, errs
			}
			errs[0] = wrapPostErr(&ps[0].Txn, errs[0])
			return out, errs
		}
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("post %s: %w", ps[i].Txn.Kind, err)
			}
		}
		return out, errs
	}
	for i := range errs {
		if errs[i] != nil {
			errs[i] = wrapPostErr(&ps[i].Txn, errs[i])
		}
	}
	return out, errs
}

func wrapPostErr(t *Txn, err error) error {
	var ge *GuardError
	if errors.As(err, &ge) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrInsufficient) || errors.Is(err, ErrIdempotencyConflict) || errors.Is(err, ErrNotFound) {
		return err
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("post %s: %w", t.Kind, err)
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// replay answers a seen idempotency key: the first result, or a conflict.
func (s *Store) replay(ctx context.Context, q querier, idem *Idempotency) (Posted, error) {
	var hash, txnID, result string
	err := q.QueryRowContext(ctx, `SELECT request_hash, txn_id, result FROM idempotency_keys WHERE scope = $1 AND idem_key = $2`,
		idem.Scope, idem.Key).Scan(&hash, &txnID, &result)
	if err != nil {
		return Posted{}, fmt.Errorf("read idempotency key: %w", err)
	}
	if hash != idem.Hash {
		return Posted{}, ErrIdempotencyConflict
	}
	if txnID == "" { // a request that moved no money (a resumed subscription)
		return Posted{Replayed: true, Result: result}, nil
	}
	t, err := s.txnByID(ctx, q, txnID)
	if err != nil {
		return Posted{}, err
	}
	return Posted{Txn: t, Replayed: true, Result: result}, nil
}

// IdempotentResult returns the stored answer of a key already used: ok
// is false for a new key, and ErrIdempotencyConflict reports a key used
// for a different request.
func (s *Store) IdempotentResult(ctx context.Context, k Idempotency) (Posted, bool, error) {
	p, err := s.replay(ctx, s.db, &k)
	if errors.Is(err, sql.ErrNoRows) {
		return Posted{}, false, nil
	}
	if err != nil {
		return Posted{}, false, err
	}
	return p, true, nil
}

func (s *Store) postOne(ctx context.Context, tx *sql.Tx, p *Posting) (Posted, error) {
	if p.Idem != nil {
		res, err := s.replay(ctx, tx, p.Idem)
		if err == nil || errors.Is(err, ErrIdempotencyConflict) {
			return res, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Posted{}, err
		}
	}
	if g := p.Guard; g != nil {
		var bal int64
		err := tx.QueryRowContext(ctx, `SELECT balance FROM ledger_accounts WHERE id = $1`, g.AccountID).Scan(&bal)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Posted{}, err
		}
		if bal < g.Min {
			return Posted{}, &GuardError{Account: g.AccountID, Balance: bal}
		}
	}
	t := s.txnDefaults(p.Txn)
	now := toMillis(t.CreatedAt)
	if p.Repay != nil {
		es, err := s.repayEntries(ctx, tx, t, p.Repay)
		if err != nil {
			return Posted{}, err
		}
		t.Entries = es
	}
	// A fixed order of row locks: two postings on the same accounts can
	// never deadlock on PostgreSQL.
	entries := slices.Clone(t.Entries)
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Account.ID, b.Account.ID) })
	balances := make(map[string]int64, len(entries))
	for _, e := range entries {
		bal, err := s.move(ctx, tx, e, now)
		if err != nil {
			return Posted{}, err
		}
		balances[e.Account.ID] = bal
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_txns (id, kind, user_id, channel_id, broadcast_id, amount, ref, memo, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.Kind, t.UserID, t.ChannelID, t.BroadcastID, t.Amount, t.Ref, t.Memo, now); err != nil {
		return Posted{}, err
	}
	var q strings.Builder
	args := make([]any, 0, 4*len(entries))
	q.WriteString(`INSERT INTO ledger_entries (txn_id, account_id, amount, created_at) VALUES `)
	for i, e := range entries {
		if i > 0 {
			q.WriteString(", ")
		}
		n := 4 * i
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4)
		args = append(args, t.ID, e.Account.ID, e.Amount, now)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return Posted{}, err
	}
	result := ""
	if p.Result != nil {
		result = p.Result(t, balances)
	}
	if p.Idem != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, idem_key, request_hash, txn_id, result, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, p.Idem.Scope, p.Idem.Key, p.Idem.Hash, t.ID, result, now); err != nil {
			return Posted{}, err
		}
	}
	if p.Apply != nil {
		if err := p.Apply(ctx, tx); err != nil {
			return Posted{}, err
		}
	}
	posted := Posted{Txn: t, Result: result}
	if p.Event != nil {
		evs := []RoomEvent{*p.Event}
		if err := s.appendRoomEventsTx(ctx, tx, p.Event.ChannelID, evs); err != nil {
			return Posted{}, fmt.Errorf("room event: %w", err)
		}
		posted.Event = evs[0]
	}
	return posted, nil
}

// move applies one entry to its account's balance, creating the account on
// first use, and refuses to take a floored account below zero.
// It returns the account's balance after the entry.
func (s *Store) move(ctx context.Context, tx *sql.Tx, e Entry, now int64) (int64, error) {
	const update = `UPDATE ledger_accounts SET balance = balance + $2
		WHERE id = $1 AND (floored = 0 OR balance + $2 >= 0) RETURNING balance`
	var bal int64
	err := tx.QueryRowContext(ctx, update, e.Account.ID, e.Amount).Scan(&bal)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return bal, err
	}
	// Missing, or it would go negative. A missing account is created at
	// zero (a concurrent creator wins harmlessly) and the update retried.
	a := e.Account
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_accounts (id, kind, owner_id, currency, floored, balance, created_at)
		VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (id) DO NOTHING`, a.ID, a.Kind, a.OwnerID, a.Currency, boolInt(a.Floored), now); err != nil {
		return 0, err
	}
	err = tx.QueryRowContext(ctx, update, e.Account.ID, e.Amount).Scan(&bal)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return bal, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT balance FROM ledger_accounts WHERE id = $1`, e.Account.ID).Scan(&bal); err != nil {
		return 0, err
	}
	return 0, &InsufficientError{Account: e.Account.ID, Need: -e.Amount, Balance: bal}
}

const txnColumns = `id, kind, user_id, channel_id, broadcast_id, amount, ref, memo, created_at`

func scanTxn(r rowScanner) (Txn, error) {
	var t Txn
	var at int64
	if err := r.Scan(&t.ID, &t.Kind, &t.UserID, &t.ChannelID, &t.BroadcastID, &t.Amount, &t.Ref, &t.Memo, &at); err != nil {
		return Txn{}, err
	}
	t.CreatedAt = fromMillis(at)
	return t, nil
}

func (s *Store) txnByID(ctx context.Context, q querier, id string) (Txn, error) {
	t, err := scanTxn(q.QueryRowContext(ctx, `SELECT `+txnColumns+` FROM ledger_txns WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Txn{}, fmt.Errorf("transaction %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Txn{}, fmt.Errorf("transaction %s: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.kind, a.owner_id, a.currency, a.floored, a.balance, a.created_at, e.amount
		FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id WHERE e.txn_id = $1 ORDER BY a.id`, id)
	if err != nil {
		return Txn{}, fmt.Errorf("transaction %s entries: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		var floored int
		var at int64
		if err := rows.Scan(&e.Account.ID, &e.Account.Kind, &e.Account.OwnerID, &e.Account.Currency, &floored, &e.Account.Balance, &at, &e.Amount); err != nil {
			return Txn{}, err
		}
		e.Account.Floored, e.Account.CreatedAt = floored == 1, fromMillis(at)
		t.Entries = append(t.Entries, e)
	}
	return t, rows.Err()
}

// TxnByID returns a ledger transaction with its entries.
func (s *Store) TxnByID(ctx context.Context, id string) (Txn, error) {
	return s.txnByID(ctx, s.db, id)
}

// Balance returns an account's balance, 0 for an account never used.
func (s *Store) Balance(ctx context.Context, accountID string) (int64, error) {
	var b int64
	err := s.db.QueryRowContext(ctx, `SELECT balance FROM ledger_accounts WHERE id = $1`, accountID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("balance of %s: %w", accountID, err)
	}
	return b, nil
}

// TxnFilter selects ledger transactions for lists.
type TxnFilter struct {
	Kind      string // "" any
	UserID    string
	ChannelID string
	AccountID string // transactions touching this account
	// After is the cursor of the page before ("" for the first page), as
	// Txns returned it.
	After string
	Limit int
}

// Txns lists transactions newest first (by time, then id), with entries,
// and the cursor of the next page ("" after the last). Many transactions
// share a millisecond, so a page ends at a (time, id) pair, not a time.
func (s *Store) Txns(ctx context.Context, f TxnFilter) ([]Txn, string, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	after := timeCursor{T: int64(1<<63 - 1)}
	if f.After != "" {
		if err := decodeCursor(f.After, &after); err != nil {
			return nil, "", err
		}
	}
	q := `SELECT ` + txnColumns + ` FROM ledger_txns t WHERE (created_at < $1 OR (created_at = $1 AND id < $7))
		AND ($2 = '' OR kind = $2) AND ($3 = '' OR user_id = $3) AND ($4 = '' OR channel_id = $4)
		AND ($5 = '' OR EXISTS (SELECT 1 FROM ledger_entries e WHERE e.txn_id = t.id AND e.account_id = $5))
		ORDER BY created_at DESC, id DESC LIMIT $6`
	rows, err := s.db.QueryContext(ctx, q, after.T, f.Kind, f.UserID, f.ChannelID, f.AccountID, f.Limit, after.ID)
	if err != nil {
		return nil, "", fmt.Errorf("list transactions: %w", err)
	}
	var ids []string
	var last Txn
	for rows.Next() {
		t, err := scanTxn(rows)
		if err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("list transactions: %w", err)
		}
		ids, last = append(ids, t.ID), t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list transactions: %w", err)
	}
	out := make([]Txn, 0, len(ids))
	for _, id := range ids {
		t, err := s.txnByID(ctx, s.db, id)
		if err != nil {
			return nil, "", err
		}
		out = append(out, t)
	}
	next := ""
	if len(ids) == f.Limit {
		next = encodeCursor(timeCursor{T: toMillis(last.CreatedAt), ID: last.ID})
	}
	return out, next, nil
}

// LedgerAccounts lists accounts of a kind ("" all), largest balance first.
func (s *Store) LedgerAccounts(ctx context.Context, kind string, limit int) ([]LedgerAccount, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, owner_id, currency, floored, balance, created_at FROM ledger_accounts
		WHERE $1 = '' OR kind = $1 ORDER BY balance DESC, id LIMIT $2`, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []LedgerAccount
	for rows.Next() {
		var a LedgerAccount
		var floored int
		var at int64
		if err := rows.Scan(&a.ID, &a.Kind, &a.OwnerID, &a.Currency, &floored, &a.Balance, &at); err != nil {
			return nil, err
		}
		a.Floored, a.CreatedAt = floored == 1, fromMillis(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Breach is one violated ledger invariant.
type Breach struct {
	Rule   string
	Detail string
}

// VerifyLedger checks every invariant of the ledger and returns the
// breaches (none: the ledger is consistent):
//   - every transaction has at least two entries, summing to zero per currency;
//   - every account's balance equals the sum of its entries;
//   - all balances of a currency sum to zero (money is conserved);
//   - no floored account is negative, and no receivable positive (a debt
//     repaid beyond zero);
//   - every idempotency key names a transaction that exists (or none: a
//     request that moved no money);
//   - every paid order has its purchase transaction, and no unpaid one has any;
//   - payout accounts hold what the payouts in their status add up to.
func (s *Store) VerifyLedger(ctx context.Context) ([]Breach, error) {
	var out []Breach
	checks := []struct {
		rule, q string
	}{
		{"transaction balances per currency", `SELECT e.txn_id || ' ' || a.currency || ' sums to ' || CAST(SUM(e.amount) AS TEXT)
			FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
			GROUP BY e.txn_id, a.currency HAVING SUM(e.amount) <> 0`},
		{"transaction has two or more entries", `SELECT t.id || ' has ' || CAST(COUNT(e.txn_id) AS TEXT) || ' entries'
			FROM ledger_txns t LEFT JOIN ledger_entries e ON e.txn_id = t.id GROUP BY t.id HAVING COUNT(e.txn_id) < 2`},
		{"entries belong to a transaction", `SELECT e.txn_id || ' on ' || e.account_id FROM ledger_entries e
			LEFT JOIN ledger_txns t ON t.id = e.txn_id WHERE t.id IS NULL`},
		{"balance equals the sum of entries", `SELECT a.id || ' balance ' || CAST(a.balance AS TEXT) || ' but entries sum to ' || CAST(COALESCE(SUM(e.amount), 0) AS TEXT)
			FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
			GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0)`},
		{"currency conserved", `SELECT currency || ' balances sum to ' || CAST(SUM(balance) AS TEXT)
			FROM ledger_accounts GROUP BY currency HAVING SUM(balance) <> 0`},
		{"floored account not negative", `SELECT id || ' is ' || CAST(balance AS TEXT) FROM ledger_accounts WHERE floored = 1 AND balance < 0`},
		{"receivable never positive", `SELECT id || ' is ' || CAST(balance AS TEXT) FROM ledger_accounts WHERE kind = 'receivable' AND balance > 0`},
		{"idempotency key names a transaction", `SELECT k.scope || '/' || k.idem_key FROM idempotency_keys k
			LEFT JOIN ledger_txns t ON t.id = k.txn_id WHERE t.id IS NULL AND k.txn_id <> ''`},
		{"paid order has its purchase", `SELECT o.id || ' is ' || o.status || ' without transaction' FROM payment_orders o
			LEFT JOIN ledger_txns t ON t.id = o.txn_id WHERE o.status IN ('paid', 'refunded', 'charged_back') AND t.id IS NULL`},
		{"unpaid order has no purchase", `SELECT id || ' is ' || status || ' with transaction ' || txn_id FROM payment_orders
			WHERE status NOT IN ('paid', 'refunded', 'charged_back') AND txn_id <> ''`},
		// Each channel's pending and approved payout accounts hold what its
		// requested and approved payouts add up to, and platform:paid_out
		// what the paid ones do.
		{"payout accounts match the payouts", `SELECT k.acct || ' holds ' || CAST(SUM(k.bal) AS TEXT) || ' but its payouts add up to ' || CAST(SUM(k.owed) AS TEXT)
			FROM (SELECT id AS acct, balance AS bal, 0 AS owed FROM ledger_accounts WHERE kind IN ('payout.pending', 'payout.approved') OR id = 'platform:paid_out'
				UNION ALL
				SELECT CASE status WHEN 'requested' THEN 'payout.pending:' || channel_id WHEN 'approved' THEN 'payout.approved:' || channel_id
					ELSE 'platform:paid_out' END, 0, amount FROM payouts WHERE status IN ('requested', 'approved', 'paid')) k
			GROUP BY k.acct HAVING SUM(k.bal) <> SUM(k.owed)`},
	}
	for _, c := range checks {
		rows, err := s.db.QueryContext(ctx, c.q)
		if err != nil {
			return nil, fmt.Errorf("verify %q: %w", c.rule, err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return nil, fmt.Errorf("verify %q: %w", c.rule, err)
			}
			out = append(out, Breach{Rule: c.rule, Detail: d})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("verify %q: %w", c.rule, err)
		}
	}
	return out, nil
}

// LedgerStats counts the ledger, for verify's report.
type LedgerStats struct {
	Accounts, Txns, Entries int64
}

// LedgerCounts returns the ledger's row counts.
func (s *Store) LedgerCounts(ctx context.Context) (LedgerStats, error) {
	var st LedgerStats
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM ledger_accounts), (SELECT COUNT(*) FROM ledger_txns), (SELECT COUNT(*) FROM ledger_entries)`).
		Scan(&st.Accounts, &st.Txns, &st.Entries)
	if err != nil {
		return st, fmt.Errorf("ledger counts: %w", err)
	}
	return st, nil
}

// txnDefaults fills in what a posting may leave out: a new time-led id,
// the time and an empty memo.
func (s *Store) txnDefaults(t Txn) Txn {
	if t.ID == "" {
		t.ID = newSortedID("txn", s.now())
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if t.Memo == "" {
		t.Memo = "{}"
	}
	return t
}
