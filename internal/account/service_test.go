package account

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

func newService(t *testing.T, limits RateLimits) (*Service, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "lh.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if limits == (RateLimits{}) {
		unlimited := Rate{Burst: -1}
		limits = RateLimits{SignInPerIP: unlimited, SignInPerEmail: unlimited, SignUpPerIP: unlimited}
	}
	s, err := New(Config{Store: st, Params: cheap, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

const pw = "a long enough password"

func TestSignUpNormalisesEmailAndSignsIn(t *testing.T) {
	s, _ := newService(t, RateLimits{})
	ctx := t.Context()
	sess, err := s.SignUp(ctx, "1.2.3.4", "  Ada@Example.COM ", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	if sess.User.Email != "ada@example.com" || sess.User.DisplayName != "ada" || sess.User.Role != store.RoleViewer || sess.Token == "" {
		t.Errorf("session = %+v", sess)
	}
	p, err := s.AuthenticateSession(ctx, sess.Token)
	if err != nil || p.User.ID != sess.User.ID || !p.ViaSession() {
		t.Errorf("AuthenticateSession = %+v, %v", p, err)
	}
	if _, err := s.SignUp(ctx, "1.2.3.4", "ADA@example.com", pw, "Ada"); !errors.Is(err, store.ErrExists) {
		t.Errorf("second sign-up with the same email: %v, want ErrExists", err)
	}
	for _, c := range []struct{ email, password, field string }{
		{"not-an-email", pw, "email"},
		{"Ada <ada@example.org>", pw, "email"},
		{"a@b@c", pw, "email"},
		{"new@example.com", "short", "password"},
		{"new@example.com", strings.Repeat("p", MaxPassword+1), "password"},
	} {
		var fe *store.FieldError
		if _, err := s.SignUp(ctx, "1.2.3.4", c.email, c.password, ""); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("SignUp(%q, %d-char password) = %v, want a FieldError on %s", c.email, len(c.password), err, c.field)
		}
	}
}

func TestSignInGivesOneAnswerForUnknownEmailAndWrongPassword(t *testing.T) {
	s, _ := newService(t, RateLimits{})
	ctx := t.Context()
	if _, err := s.SignUp(ctx, "ip", "bob@example.com", pw, "Bob"); err != nil {
		t.Fatal(err)
	}
	_, errEmail := s.SignIn(ctx, "ip", "nobody@example.com", pw)
	_, errPassword := s.SignIn(ctx, "ip", "bob@example.com", pw+"!")
	if !errors.Is(errEmail, ErrBadCredentials) || !errors.Is(errPassword, ErrBadCredentials) || errEmail.Error() != errPassword.Error() {
		t.Errorf("unknown email: %v; wrong password: %v; want the same ErrBadCredentials", errEmail, errPassword)
	}
	if sess, err := s.SignIn(ctx, "ip", " BOB@example.com", pw); err != nil || sess.User.Email != "bob@example.com" {
		t.Errorf("right password: %+v, %v", sess, err)
	}
}

func TestSignInIsRateLimitedPerAddressAndPerAccountBeforeAnyPasswordWork(t *testing.T) {
	s, _ := newService(t, RateLimits{
		SignInPerIP:    Rate{Burst: 4, Every: time.Hour},
		SignInPerEmail: Rate{Burst: 2, Every: time.Hour},
		SignUpPerIP:    Rate{Burst: 1, Every: time.Hour},
	})
	ctx := t.Context()
	if _, err := s.SignUp(ctx, "10.0.0.1", "cat@example.com", pw, ""); err != nil {
		t.Fatal(err)
	}
	var rl *RateLimitError
	if _, err := s.SignUp(ctx, "10.0.0.1", "dog@example.com", pw, ""); !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Errorf("second sign-up from one address: %v, want RateLimitError", err)
	}
	// Two failures lock the account for everyone, even the right password.
	for range 2 {
		if _, err := s.SignIn(ctx, "10.0.0.2", "cat@example.com", "wrong password!"); !errors.Is(err, ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if _, err := s.SignIn(ctx, "10.0.0.3", "cat@example.com", pw); !errors.As(err, &rl) {
		t.Errorf("after 2 failures: %v, want RateLimitError", err)
	}
	// The address 10.0.0.2 has 2 of 4 attempts left.
	for i := range 3 {
		_, err := s.SignIn(ctx, "10.0.0.2", "other@example.com", "x")
		if i < 2 && !errors.Is(err, ErrBadCredentials) || i == 2 && !errors.As(err, &rl) {
			t.Errorf("attempt %d from 10.0.0.2: %v", i+3, err)
		}
	}
	if !strings.Contains(rl.Error(), "try again in") {
		t.Errorf("message %q does not say when to retry", rl.Error())
	}
}

func TestSuspendedAccountsCannotSignInOrUseSessionsOrTokens(t *testing.T) {
	s, st := newService(t, RateLimits{})
	ctx := t.Context()
	sess, _ := s.SignUp(ctx, "ip", "sus@example.com", pw, "")
	_, token, err := st.CreateAPIToken(ctx, sess.User.ID, "bot")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.AuthenticateToken(ctx, token); err != nil || p.TokenID == "" || p.ViaSession() {
		t.Fatalf("AuthenticateToken = %+v, %v", p, err)
	}
	suspended := store.StatusSuspended
	st.UpdateUser(ctx, sess.User.ID, store.UserPatch{Status: &suspended})
	var inactive *InactiveError
	if _, err := s.SignIn(ctx, "ip", "sus@example.com", pw); !errors.As(err, &inactive) {
		t.Errorf("sign-in: %v, want InactiveError", err)
	}
	if _, err := s.SignIn(ctx, "ip", "sus@example.com", "wrong password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong password of a suspended account: %v, want the generic answer", err)
	}
	if _, err := s.AuthenticateSession(ctx, sess.Token); !errors.As(err, &inactive) {
		t.Errorf("session: %v, want InactiveError", err)
	}
	if _, err := s.AuthenticateToken(ctx, token); !errors.As(err, &inactive) {
		t.Errorf("token: %v, want InactiveError", err)
	}
	if _, err := s.AuthenticateToken(ctx, "lht_unknown"); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("unknown token: %v, want ErrNotSignedIn", err)
	}
}

func TestCSRFTokenIsBoundToItsSession(t *testing.T) {
	a, b := CSRFToken("lhs_one"), CSRFToken("lhs_two")
	if a == b || a != CSRFToken("lhs_one") || strings.Contains(a, "one") {
		t.Fatalf("CSRF tokens %q %q", a, b)
	}
	if !CheckCSRF("lhs_one", a) || CheckCSRF("lhs_two", a) || CheckCSRF("lhs_one", "") || CheckCSRF("lhs_one", a+"x") {
		t.Error("CheckCSRF accepts a wrong token or refuses the right one")
	}
}

func TestCreateAdminMakesAnAccountWithAOneTimePasswordOrPromotes(t *testing.T) {
	s, _ := newService(t, RateLimits{})
	ctx := t.Context()
	u, password, err := s.CreateAdmin(ctx, "Root@Example.com")
	if err != nil || u.Role != store.RoleAdmin || len(password) < 20 {
		t.Fatalf("CreateAdmin = %+v, %d-char password, %v", u, len(password), err)
	}
	if _, err := s.SignIn(ctx, "ip", "root@example.com", password); err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}
	viewer, _ := s.SignUp(ctx, "ip", "later@example.com", pw, "")
	promoted, password, err := s.CreateAdmin(ctx, "later@example.com")
	if err != nil || promoted.ID != viewer.User.ID || promoted.Role != store.RoleAdmin || password != "" {
		t.Errorf("promotion = %+v, %q, %v", promoted, password, err)
	}
}

func TestChangePasswordNeedsTheCurrentOneAndSignsOutOtherSessions(t *testing.T) {
	s, _ := newService(t, RateLimits{})
	ctx := t.Context()
	first, _ := s.SignUp(ctx, "ip", "eve@example.com", pw, "")
	var fe *store.FieldError
	if _, err := s.ChangePassword(ctx, first.User, "not it at all", "brand new password"); !errors.As(err, &fe) || fe.Field != "current_password" {
		t.Errorf("wrong current password: %v", err)
	}
	fresh, err := s.ChangePassword(ctx, first.User, pw, "brand new password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateSession(ctx, first.Token); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("old session after a password change: %v", err)
	}
	if _, err := s.AuthenticateSession(ctx, fresh.Token); err != nil {
		t.Errorf("new session: %v", err)
	}
	if _, err := s.SignIn(ctx, "ip", "eve@example.com", "brand new password"); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestHashWorkWaitsForASlotAndGivesUpWithTheContext(t *testing.T) {
	s, _ := newService(t, RateLimits{})
	for range cap(s.hashSlots) {
		s.hashSlots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.SignUp(ctx, "ip", "busy@example.com", pw, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SignUp with every slot taken: %v, want DeadlineExceeded", err)
	}
}
