package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/store"
)

func TestAdminCreatePrintsAOneTimePasswordThenPromotesWithoutOne(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "create", "Boss@Example.com", "--data", data}, &out, &errOut); err != nil {
		t.Fatalf("admin create: %v\n%s", err, errOut.String())
	}
	m := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "boss@example.com") {
		t.Fatalf("output lacks the email or password:\n%s", out.String())
	}
	st, err := store.Open(ctx, filepath.Join(data, "livehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	accounts, _ := account.New(account.Config{Store: st})
	sess, err := accounts.SignIn(ctx, "test", "boss@example.com", m[1])
	if err != nil || sess.User.Role != store.RoleAdmin {
		t.Fatalf("signing in with the printed password: %+v, %v", sess.User, err)
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "create", "boss@example.com", "--data", data}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Password:") || !strings.Contains(out.String(), "is now an admin") {
		t.Errorf("second run output:\n%s", out.String())
	}
	if err := run(ctx, []string{"admin", "create", "not an email", "--data", data}, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "not an email address") {
		t.Errorf("bad email: %v", err)
	}
}
