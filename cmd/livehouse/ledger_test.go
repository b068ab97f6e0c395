package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/store"
)

func TestLedgerVerifyPassesAConsistentLedgerAndFailsACorruptedOne(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	path := filepath.Join(data, "livehouse.db")
	st, err := store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	wallet := store.LedgerAccount{ID: "wallet:u1", Kind: "wallet", OwnerID: "u1", Currency: "COIN", Floored: true}
	issued := store.LedgerAccount{ID: "platform:issued", Kind: "platform", Currency: "COIN"}
	if _, err := st.Post(ctx, store.Posting{Txn: store.Txn{Kind: "purchase", Amount: 100,
		Entries: []store.Entry{{Account: wallet, Amount: 100}, {Account: issued, Amount: -100}}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"ledger", "verify", "--data", data}, &out, &errOut); err != nil {
		t.Fatalf("verify of a consistent ledger: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "ledger OK") || !strings.Contains(out.String(), "1 transactions") {
		t.Errorf("output:\n%s", out.String())
	}

	// A balance changed behind the ledger's back is a breach: exit 1.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE ledger_accounts SET balance = balance + 5 WHERE id = 'wallet:u1'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	err = run(ctx, []string{"ledger", "verify", "--data", data}, &out, &errOut)
	if !errors.Is(err, errBreach) {
		t.Fatalf("verify of a corrupted ledger: %v, want errBreach\n%s", err, out.String())
	}
	for _, want := range []string{"BREACH balance equals the sum of entries", "wallet:u1", "BREACH currency conserved"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(ctx, []string{"ledger", "audit"}, &out, &errOut); err == nil {
		t.Error("an unknown ledger subcommand was accepted")
	}
}
