package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

const ledgerWriterEnv = "LIVEHOUSE_TEST_LEDGER_WRITER_DSN"

// TestHelperLedgerWriter is the child process of the SIGKILL test: it
// writes gifts and purchases from several goroutines, as singles and as
// batches, and prints each committed transaction's id, until killed.
func TestHelperLedgerWriter(t *testing.T) {
	dsn := os.Getenv(ledgerWriterEnv)
	if dsn == "" {
		t.Skip("the child process of TestLedgerSurvivesSIGKILLMidStream")
	}
	s, err := Open(context.Background(), dsn, nil)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				u := fmt.Sprintf("u%d", (w*7+i)%20)
				ps := []Posting{purchase(u, 30), gift(u, "ch", 10), gift(u, "ch2", 1000)}
				res, errs := s.PostBatch(context.Background(), ps)
				mu.Lock()
				for j, err := range errs {
					if err == nil {
						fmt.Fprintln(out, "committed", res[j].Txn.ID)
					} else if os.Getenv("LEDGER_DEBUG") != "" {
						fmt.Fprintln(os.Stderr, "ERR", err)
					}
				}
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	select {}
}

// A process killed with SIGKILL in the middle of a stream of transactions
// leaves a consistent ledger, and every transaction it reported committed
// is there.
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
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLedgerWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), ledgerWriterEnv+"="+dsn)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var committed []string
		lines := bufio.NewScanner(stdout)
		deadline := time.Now().Add(60 * time.Second)
		for len(committed) < 200 && time.Now().Before(deadline) && lines.Scan() {
			var id string
			if _, err := fmt.Sscanf(lines.Text(), "committed %s", &id); err == nil {
				committed = append(committed, id)
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		cmd.Wait()
		if len(committed) < 200 {
			t.Fatalf("the writer reported only %d commits before the deadline", len(committed))
		}
		s := openTestStore(t, dsn)
		ctx := context.Background()
		for _, id := range committed {
			if _, err := s.TxnByID(ctx, id); err != nil {
				t.Fatalf("transaction %s was reported committed but is gone: %v", id, err)
			}
		}
		for i := range 20 {
			if b, err := s.Balance(ctx, wallet(fmt.Sprintf("u%d", i)).ID); err != nil || b < 0 {
				t.Errorf("wallet u%d = %d, %v", i, b, err)
			}
		}
		counts, _ := s.LedgerCounts(ctx)
		t.Logf("killed after %d reported commits; %d transactions on disk", len(committed), counts.Txns)
		mustVerify(t, s)
	})
}
