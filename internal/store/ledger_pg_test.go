package store

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// onPgConn runs fn on one raw pgx connection of the store's pool.
func onPgConn(t *testing.T, s *Store, fn func(pc *pgx.Conn)) {
	t.Helper()
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error { fn(dc.(*stdlib.Conn).Conn()); return nil }); err != nil {
		t.Fatal(err)
	}
}

// The write statement checks its own work: a batch whose in-memory view
// of a balance was wrong (the floor would break in the database) fails
// the statement, the COMMIT queued behind it in the pipeline never runs,
// and nothing of the batch is stored. The same holds for a room without
// a row.
func TestPipelinedWriteFailsWholeWhenTheDatabaseDisagrees(t *testing.T) {
	s := openTestStore(t, postgresTestDSN(t))
	ctx := t.Context()
	ch := mustChannel(t, s, "stage", "", Profile{})
	mustPost(t, s, purchase("u", 5))
	for _, tc := range []struct {
		name  string
		coins int64 // the wallet holds 5
		room  string
	}{
		{"a floor the batch misjudged", 50, ch.ID},
		{"a room without a row", 1, "no-such-room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := withEvent(gift("u", ch.ID, tc.coins), tc.room, tc.name)
			ps := []Posting{p}
			if err := s.ensureAccounts(ctx, ps, make([]error, 1)); err != nil {
				t.Fatal(err)
			}
			b := newBatch(ps, make([]error, 1))
			// What a wrong read would have left: enough coins in the wallet.
			accts := map[string]*batchAcct{}
			for _, e := range p.Txn.Entries {
				accts[e.Account.ID] = &batchAcct{bal: 1000, floored: e.Account.Floored}
			}
			accepted, err := s.accept(ps, []int{0}, accts, b, nil)
			if err != nil || len(accepted) != 1 {
				t.Fatalf("accept: %v %v", accepted, err)
			}
			onPgConn(t, s, func(pc *pgx.Conn) {
				if _, err := pc.Exec(ctx, "BEGIN"); err != nil {
					t.Fatal(err)
				}
				_, err := pgWriteAndCommit(ctx, pc, s.pgWrite(ps, b.out, accepted, accts))
				if err == nil {
					t.Fatal("the write succeeded")
				}
				if !isDivisionByZero(err) {
					t.Errorf("the write failed with %v, want its own check (division by zero) to fail it", err)
				}
				if st := pc.PgConn().TxStatus(); st != 'E' {
					t.Errorf("transaction status %q after the failed write, want E (aborted, not committed)", st)
				}
				if _, err := pc.Exec(ctx, "ROLLBACK"); err != nil {
					t.Fatal(err)
				}
			})
			var n int
			if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM ledger_txns WHERE kind = 'gift'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d gift transactions stored (%v)", n, err)
			}
			if evs, _ := s.RoomEventsAfter(ctx, ch.ID, 0, 10); len(evs) != 0 {
				t.Errorf("room events stored: %+v", evs)
			}
			if bal, _ := s.Balance(ctx, wallet("u").ID); bal != 5 {
				t.Errorf("wallet = %d, want 5", bal)
			}
		})
	}
	// The pool's connections are all usable afterwards, outside any transaction.
	res, err := s.Post(ctx, withEvent(gift("u", ch.ID, 5), ch.ID, "after"))
	if err != nil || res.Event.Seq != 1 {
		t.Fatalf("a good gift after the failures: %+v %v", res, err)
	}
	mustVerify(t, s)
}

func isDivisionByZero(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "22012"
}
