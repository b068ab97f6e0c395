package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/store"
)

// admin runs "livehouse admin create <email>".
func admin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("admin: want \"admin create <email>\"")
	}
	var o options
	fs := newFlagSet("admin create", stderr, &o, false)
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return errors.New("admin create: want exactly one <email>")
	}
	st, logger, err := o.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	accounts, err := account.New(account.Config{Store: st, Logger: logger})
	if err != nil {
		return err
	}
	u, password, err := accounts.CreateAdmin(ctx, positional[0])
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("admin create: %q is not an email address", positional[0])
	}
	if err != nil {
		return err
	}
	_, httpBase := o.urls()
	if password == "" {
		fmt.Fprintf(stdout, "%s is now an admin (the account existed; its password is unchanged).\n", u.Email)
		return nil
	}
	fmt.Fprintf(stdout, "Admin account created.\n\nEmail:     %s\nPassword:  %s\n\n", u.Email, password)
	fmt.Fprintf(stdout, "The password is shown only now. Sign in at %s/signin and change it.\n", httpBase)
	return nil
}
