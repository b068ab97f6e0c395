package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// ledgerWriterEnv carries the dsn to the child process of the SIGKILL test;
// it is unset in normal runs, where the child's test skips.
const ledgerWriterEnv = "LIVEHOUSE_TEST_LEDGER_WRITER_DSN"

const writerUsers = 20

// TestHelperLedgerWriter is the child process of
// TestLedgerSurvivesSIGKILLMidStream: from several goroutines it posts
// purchases (under idempotency keys), gifts and tips, in batches and one
// at a time, and prints "committed <id> ok" for each transaction once its
// commit has returned, until killed.
func TestHelperLedgerWriter(t *testing.T) {
	dsn := os.Getenv(ledgerWriterEnv)
	if dsn == "" {
		t.Skip("the child process of TestLedgerSurvivesSIGKILLMidStream")
	}
	// An orphan, whose parent died before killing it, stops on its own.
	time.AfterFunc(2*time.Minute, func() { os.Exit(4) })
	ctx := context.Background()
	s, err := Open(ctx, dsn, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	report := func(res []Posted, errs []error) {
		mu.Lock()
		defer mu.Unlock()
		for i, err := range errs {
			if err == nil {
				fmt.Fprintf(out, "committed %s ok\n", res[i].Txn.ID)
			}
		}
		out.Flush()
	}
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				u := fmt.Sprintf("u%d", (w*7+i)%writerUsers)
				if i%4 == 3 {
					res, err := s.Post(ctx, gift(u, "ch", 5))
					report([]Posted{res}, []error{err})
					continue
				}
				buy := purchase(u, 30)
				buy.Idem = &Idempotency{Scope: u, Key: fmt.Sprintf("w%d-%d", w, i), Hash: "h"}
				res, errs := s.PostBatch(ctx, []Posting{buy, gift(u, "ch", 10), tip(u, "ch2", 1000)})
				report(res, errs)
			}
		}()
	}
	select {}
}

// A process killed with SIGKILL in the middle of a stream of postings
// leaves a consistent ledger that holds every transaction it reported
// committed, each with its idempotency key, and that takes new postings.
func TestLedgerSurvivesSIGKILLMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		// Migrate first, so the child starts writing at once.
		s0, err := Open(context.Background(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		s0.Close()

		committed, stderr := runAndKillWriter(t, dsn, 200)
		if strings.Contains(stderr, "DATA RACE") {
			t.Errorf("the writer raced:\n%s", stderr)
		}

		s := openTestStore(t, dsn)
		ctx := context.Background()
		for _, id := range committed {
			if tx, err := s.TxnByID(ctx, id); err != nil || len(tx.Entries) < 2 {
				t.Fatalf("transaction %s was reported committed but is not whole: %d entries, %v", id, len(tx.Entries), err)
			}
		}
		counts, err := s.LedgerCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("killed after %d reported commits; %d transactions on disk", len(committed), counts.Txns)
		if counts.Txns < int64(len(committed)) {
			t.Errorf("%d transactions on disk, fewer than the %d reported", counts.Txns, len(committed))
		}
		var keys, purchases int64
		if err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM idempotency_keys),
			(SELECT COUNT(*) FROM ledger_txns WHERE kind = 'purchase')`).Scan(&keys, &purchases); err != nil {
			t.Fatal(err)
		}
		if keys != purchases {
			t.Errorf("%d idempotency keys for %d keyed purchases: a key and its transaction were split", keys, purchases)
		}
		for i := range writerUsers {
			if b, err := s.Balance(ctx, wallet(fmt.Sprintf("u%d", i)).ID); err != nil || b < 0 {
				t.Errorf("wallet u%d = %d, %v", i, b, err)
			}
		}
		mustVerify(t, s)

		// Nothing the killed process held (a lock, a half-written WAL)
		// stands in the way of the next writer.
		mustPost(t, s, purchase("u0", 10))
		mustPost(t, s, gift("u0", "ch", 10))
		mustVerify(t, s)
	})
}

// runAndKillWriter starts the writer on dsn, kills it with SIGKILL once it
// has reported n commits, and returns every commit it reported and its
// standard error.
func runAndKillWriter(t *testing.T, dsn string, n int) (committed []string, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLedgerWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), ledgerWriterEnv+"="+dsn)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ids := make(chan string)
	go func() {
		defer close(ids)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			// A line cut short by the kill lacks its "ok" and is skipped.
			var id string
			if _, err := fmt.Sscanf(lines.Text(), "committed %s ok", &id); err == nil {
				ids <- id
			}
		}
	}()
	timeout := time.After(30 * time.Second)
wait:
	for len(committed) < n {
		select {
		case id, ok := <-ids:
			if !ok {
				break wait // the writer died on its own
			}
			committed = append(committed, id)
		case <-timeout:
			break wait
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	// What it printed before it died was committed too.
	for id := range ids {
		committed = append(committed, id)
	}
	cmd.Wait()
	if len(committed) < n {
		t.Fatalf("the writer reported %d commits, not %d; its stderr:\n%s", len(committed), n, errOut.String())
	}
	return committed, errOut.String()
}
