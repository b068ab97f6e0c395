package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// errBreach marks a ledger that failed verification; main exits 1 on it
// (2 means the check itself could not run).
var errBreach = errors.New("the ledger is inconsistent")

// ledger runs "livehouse ledger verify": every invariant of docs/MONEY.md,
// checked against the database the server uses.
func ledger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("ledger: want \"ledger verify\"")
	}
	var o options
	fs := newFlagSet("ledger verify", stderr, &o, false)
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return err
	}
	st, _, err := o.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	counts, err := st.LedgerCounts(ctx)
	if err != nil {
		return err
	}
	breaches, err := st.VerifyLedger(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checked %d accounts, %d transactions, %d entries\n", counts.Accounts, counts.Txns, counts.Entries)
	if len(breaches) == 0 {
		fmt.Fprintln(stdout, "ledger OK: every transaction balances, every balance equals its entries, money is conserved, no wallet is negative")
		return nil
	}
	for _, b := range breaches {
		fmt.Fprintf(stdout, "BREACH %s: %s\n", b.Rule, b.Detail)
	}
	return fmt.Errorf("%w: %d breaches (see above); stop the servers and restore from a backup, or report a bug", errBreach, len(breaches))
}
