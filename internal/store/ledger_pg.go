package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The batch path on PostgreSQL. A batch of postings without Apply (gifts,
// tips, purchases' credits) takes two round trips in all: BEGIN, the read
// of its idempotency keys and the locking read of its accounts go in one
// pipeline; the checks run in memory; then the one write statement and
// COMMIT go in a second. Through database/sql the same batch would take
// five (begin, two reads, the write, commit), and on a busy machine every
// round trip costs the batch, and each gift in the queue behind it, a
// scheduling delay of the database's backend and of ours.

const (
	pgSeenKeys = `SELECT scope, idem_key FROM idempotency_keys
		WHERE (scope, idem_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`
	pgLockAccounts = `SELECT id, balance, floored FROM ledger_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`
)

// pgWriteStmt is a batch's write on PostgreSQL, as one statement, and the
// check of its answer.
type pgWriteStmt struct {
	q    string
	args []any
	read func(rows scanRows) error
}

// pgWrite is applyDeltas, insertPosted and appendPostedEvents on
// PostgreSQL in one statement, so one round trip: the inserts ride as
// data-modifying CTEs of the balance update (the foreign keys are checked
// at the statement's end, when the transactions' rows exist). The rooms
// that get events are locked in id order (after the accounts, as every
// ledger transaction does, so two batches never deadlock), their sequence
// numbers bumped, and the events take the numbers the bump hands back. A
// floor the update would break, a room row missing or a key written
// meanwhile fails it and the batch falls back. read hands each posting its
// sequenced event.
func (s *Store) pgWrite(ps []Posting, out []Posted, accepted []int, accts map[string]*batchAcct) pgWriteStmt {
	ids, deltas := changedAccounts(accts)
	args := []any{ids, deltas}
	var ctes []string
	for n, ins := range postedInserts(ps, out, accepted) {
		if len(ins.rows) == 0 {
			continue
		}
		var sel string
		sel, args = pgUnnest(ins.types, ins.rows, args)
		ctes = append(ctes, fmt.Sprintf("i%d AS (INSERT INTO %s (%s) %s)", n, ins.table, ins.cols, sel))
	}
	ctes = append(ctes, `u AS (UPDATE ledger_accounts a SET balance = a.balance + d.delta
		FROM unnest($1::text[], $2::bigint[]) AS d(id, delta)
		WHERE a.id = d.id AND (a.floored = 0 OR a.balance + d.delta >= 0) RETURNING 1)`)
	pe := postedEvents(s, ps, accepted)
	// The statement checks its own work and fails (dividing by zero) if the
	// balance update skipped an account, or a room had no row: its
	// transaction must then not commit, and on the pipelined path COMMIT
	// is already on its way.
	args = append(args, int64(len(ids)))
	check := fmt.Sprintf("(SELECT count(*) FROM u) = $%d", len(args))
	final := "SELECT '', CAST(0 AS BIGINT), 1 / CAST(" + check + " AS INT)"
	if len(pe.chans) > 0 {
		counts := make([]int64, len(pe.chans))
		var rows [][]any
		for c, ch := range pe.chans {
			counts[c] = int64(len(pe.evs[ch]))
			for k, e := range pe.evs[ch] {
				rows = append(rows, []any{ch, int64(k + 1), e.Kind, e.UserID, e.BroadcastID, e.MediaMS, toMillis(e.CreatedAt), e.Payload})
			}
		}
		nc := len(args)
		args = append(args, pe.chans, counts)
		var sel string
		sel, args = pgUnnest([]string{"text", "bigint", "text", "text", "text", "bigint", "bigint", "text"}, rows, args)
		ctes = append(ctes,
			fmt.Sprintf(`rl AS (SELECT channel_id FROM rooms WHERE channel_id = ANY($%d::text[]) ORDER BY channel_id FOR UPDATE)`, nc+1),
			fmt.Sprintf(`r AS (UPDATE rooms SET last_seq = rooms.last_seq + c.n
				FROM unnest($%d::text[], $%d::bigint[]) AS c(id, n)
				WHERE rooms.channel_id = c.id AND rooms.channel_id IN (SELECT channel_id FROM rl)
				RETURNING rooms.channel_id, rooms.last_seq, c.n)`, nc+1, nc+2),
			`ev AS (INSERT INTO room_events (`+roomEventColumns+`)
				SELECT e.ch, r.last_seq - r.n + e.k, e.kind, e.user_id, e.broadcast_id, e.media_ms, e.created_at, e.payload
				FROM (`+sel+`) AS e(ch, k, kind, user_id, broadcast_id, media_ms, created_at, payload) JOIN r ON r.channel_id = e.ch)`)
		args = append(args, int64(len(pe.chans)))
		check += fmt.Sprintf(" AND (SELECT count(*) FROM r) = $%d", len(args))
		final = "SELECT r.channel_id, r.last_seq, chk.ok FROM (SELECT 1 / CAST(" + check + " AS INT) AS ok) AS chk LEFT JOIN r ON true"
	}
	read := func(rows scanRows) error {
		last := make(map[string]int64, len(pe.chans))
		got := 0
		for rows.Next() {
			var ch *string
			var seq *int64
			var ok int64
			if err := rows.Scan(&ch, &seq, &ok); err != nil {
				return err
			}
			got++
			if ch != nil && *ch != "" && seq != nil {
				last[*ch] = *seq
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if got == 0 || len(last) != len(pe.chans) { // the statement checked it: never
			return fmt.Errorf("%d of %d rooms sequenced", len(last), len(pe.chans))
		}
		for _, ch := range pe.chans {
			evs := pe.evs[ch]
			first := last[ch] - int64(len(evs)) + 1
			for k := range evs {
				evs[k].Seq = first + int64(k)
			}
		}
		pe.give(out)
		return nil
	}
	return pgWriteStmt{q: "WITH " + strings.Join(ctes, ",\n") + "\n" + final, args: args, read: read}
}

// pgPipelined is the batch path on PostgreSQL for postings without Apply,
// on one connection in two pipelines. Postings whose key was used before
// are deferred: the caller replays them once this batch is written.
func (s *Store) pgPipelined(ctx context.Context, ps []Posting, errs []error) (out []Posted, deferred []bool, ok bool) {
	b := newBatch(ps, errs)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, false
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T: %w", dc, errBatchFallback)
		}
		pc := sc.Conn()
		err := s.pipelined(ctx, pc, ps, b)
		if pc.PgConn().TxStatus() != 'I' {
			// A failed pipeline left its transaction open or aborted.
			if _, rerr := pc.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil || pc.PgConn().TxStatus() != 'I' {
				// Never hand the pool a connection inside a transaction.
				_ = pc.Close(context.WithoutCancel(ctx))
				return errors.Join(err, rerr, errors.New("connection closed after a failed rollback"))
			}
		}
		return err
	})
	if err != nil {
		return nil, nil, false
	}
	copy(errs, b.errs)
	return b.out, b.deferred, true
}

func (s *Store) pipelined(ctx context.Context, pc *pgx.Conn, ps []Posting, b *batch) error {
	ids, _, guarded := batchAccounts(ps, b.live)
	read := &pgx.Batch{}
	read.Queue("BEGIN")
	if len(b.keyed) > 0 {
		scopes, keys := make([]string, len(b.keyed)), make([]string, len(b.keyed))
		for n, i := range b.keyed {
			scopes[n], keys[n] = ps[i].Idem.Scope, ps[i].Idem.Key
		}
		read.Queue(pgSeenKeys, scopes, keys)
	}
	read.Queue(pgLockAccounts, ids)
	br := pc.SendBatch(ctx, read)
	used := map[[2]string]bool{}
	accts := make(map[string]*batchAcct, len(ids))
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if len(b.keyed) > 0 {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			for rows.Next() {
				var k [2]string
				if err := rows.Scan(&k[0], &k[1]); err != nil {
					rows.Close()
					return err
				}
				used[k] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		return scanAccounts(rows, accts)
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, id := range ids {
		if accts[id] == nil && !guarded[id] { // ensureAccounts made them all
			return fmt.Errorf("account %s missing: %w", id, errBatchFallback)
		}
	}
	var fresh []int
	for _, i := range b.live {
		if k := ps[i].Idem; k != nil && used[[2]string{k.Scope, k.Key}] {
			b.deferred[i] = true // a replay: the caller answers it from the stored key
			continue
		}
		fresh = append(fresh, i)
	}
	accepted, err := s.accept(ps, fresh, accts, b, nil)
	if err != nil {
		return err
	}
	if len(accepted) == 0 {
		_, err := pc.Exec(ctx, "COMMIT")
		return err
	}
	readErr, err := pgWriteAndCommit(ctx, pc, s.pgWrite(ps, b.out, accepted, accts))
	if err == nil && readErr != nil {
		// Committed, but the answer did not read (a bug, not a state the
		// database can be in): the money moved, so the batch must not be
		// redone; its callers get the error and their retries replay.
		for _, i := range accepted {
			b.errs[i] = fmt.Errorf("posted, but the answer did not read: %w", readErr)
		}
	}
	return err
}

// pgWriteAndCommit sends the write and COMMIT in one pipeline. If the
// write fails, the server skips the COMMIT and the transaction is left
// aborted for the caller to roll back.
func pgWriteAndCommit(ctx context.Context, pc *pgx.Conn, w pgWriteStmt) (readErr, err error) {
	write := &pgx.Batch{}
	write.Queue(w.q, w.args...)
	write.Queue("COMMIT")
	br := pc.SendBatch(ctx, write)
	err = func() error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		readErr = w.read(rows)
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = br.Exec()
		return err
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return readErr, err
}
