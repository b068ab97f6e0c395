package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livehouse/livehouse/internal/store"
)

// Password rules.
const (
	MinPassword = 10  // characters
	MaxPassword = 256 // characters; argon2 would hash more, but nobody types that
	MaxEmail    = 254
)

// Errors. Callers map them to answers with errors.Is / errors.As.
var (
	// ErrBadCredentials is the one answer to a wrong email or a wrong
	// password, so that sign-in does not reveal who has an account.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrNotSignedIn reports a missing, unknown or expired session or token.
	ErrNotSignedIn = errors.New("not signed in")
)

// InactiveError reports a suspended or banned account that presented valid
// credentials.
type InactiveError struct{ Status string }

func (e *InactiveError) Error() string {
	return "this account is " + e.Status + "; contact the site's admins"
}

// RateLimitError reports too many attempts; try again after RetryAfter.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many attempts; try again in %d s", int(e.RetryAfter.Seconds()+0.999))
}

// Store is what accounts need from the store.
type Store interface {
	CreateUser(ctx context.Context, nu store.NewUser) (store.User, error)
	UserCredentials(ctx context.Context, email string) (store.User, string, error)
	UserByEmail(ctx context.Context, email string) (store.User, error)
	PasswordHash(ctx context.Context, userID string) (string, error)
	SetPasswordHash(ctx context.Context, userID, hash string) error
	UpdateUser(ctx context.Context, id string, patch store.UserPatch) (store.User, error)
	CreateAuthSession(ctx context.Context, userID string, expires time.Time) (string, error)
	UserBySession(ctx context.Context, token string) (store.User, error)
	DeleteAuthSession(ctx context.Context, token string) error
	DeleteUserAuthSessions(ctx context.Context, userID string) error
	UserByAPIToken(ctx context.Context, token string) (store.User, store.APIToken, error)
	TouchAPIToken(ctx context.Context, tokenID string, at time.Time) error
}

// Config builds a Service.
type Config struct {
	Store Store
	// Params are the argon2id costs of new hashes; zero means DefaultParams.
	// Existing hashes keep their own parameters and are upgraded at sign-in.
	Params Params
	// Limits; zero means DefaultRateLimits. A Rate with Burst < 0 is unlimited.
	Limits RateLimits
	// SessionTTL is how long a sign-in lasts; default 30 days.
	SessionTTL time.Duration
	Logger     *slog.Logger
}

// Service signs people up and in, and authenticates requests. It is safe
// for concurrent use.
type Service struct {
	cfg       Config
	log       *slog.Logger
	dummyHash string        // verified against for unknown emails, to even out timing
	hashSlots chan struct{} // bounds concurrent argon2 work (and its memory)
	signInIP  *Limiter
	signInFor *Limiter
	signUpIP  *Limiter
	passwords *Limiter // password changes per user
	now       func() time.Time
	sessions  sessionCache
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("account: Store is required")
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams()
	}
	if cfg.Limits == (RateLimits{}) {
		cfg.Limits = DefaultRateLimits()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		cfg:       cfg,
		log:       cfg.Logger,
		dummyHash: HashPassword(randomSecret(16), cfg.Params),
		hashSlots: make(chan struct{}, max(1, runtime.NumCPU())),
		signInIP:  NewLimiter(cfg.Limits.SignInPerIP),
		signInFor: NewLimiter(cfg.Limits.SignInPerEmail),
		signUpIP:  NewLimiter(cfg.Limits.SignUpPerIP),
		passwords: NewLimiter(cfg.Limits.PasswordChangePerUser),
		now:       time.Now,
	}, nil
}

// Session is a signed-in browser session.
type Session struct {
	User    store.User
	Token   string // the cookie value; never log it
	Expires time.Time
}

// SignUp creates a viewer account and signs it in. client identifies the
// caller's network address for rate limiting.
func (s *Service) SignUp(ctx context.Context, client, email, password, displayName string) (Session, error) {
	if d, ok := s.signUpIP.take(client, s.now()); !ok {
		return Session{}, &RateLimitError{RetryAfter: d}
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return Session{}, err
	}
	if err := CheckPassword(password); err != nil {
		return Session{}, err
	}
	displayName = strings.TrimSpace(displayName)
	if displayName == "" {
		displayName = strings.SplitN(email, "@", 2)[0]
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Session{}, err
	}
	u, err := s.cfg.Store.CreateUser(ctx, store.NewUser{Email: email, DisplayName: displayName, PasswordHash: hash})
	if err != nil {
		return Session{}, fmt.Errorf("sign up: %w", err)
	}
	s.log.Info("user signed up", "user_id", u.ID)
	return s.startSession(ctx, u)
}

// SignIn checks email and password. A wrong email and a wrong password give
// the same ErrBadCredentials after the same work; a suspended account with
// the right password gives *InactiveError; too many attempts from client or
// for one email give *RateLimitError before any password work.
func (s *Service) SignIn(ctx context.Context, client, email, password string) (Session, error) {
	now := s.now()
	email = strings.ToLower(strings.TrimSpace(email))
	// The address first: only attempts it allows can make per-email buckets.
	if d, ok := s.signInIP.take(client, now); !ok {
		return Session{}, &RateLimitError{RetryAfter: d}
	}
	if d := s.signInFor.wait(email, now); d > 0 {
		return Session{}, &RateLimitError{RetryAfter: d}
	}
	if len(password) > 4*MaxPassword {
		password = password[:4*MaxPassword] // bounded work; it cannot match anyway
	}
	u, hash, err := s.cfg.Store.UserCredentials(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		_, _ = s.verify(ctx, password, s.dummyHash)
		s.signInFor.take(email, now)
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	ok, err := s.verify(ctx, password, hash)
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	if !ok {
		s.signInFor.take(email, now)
		s.log.Info("sign-in refused: wrong password", "user_id", u.ID)
		return Session{}, ErrBadCredentials
	}
	if u.Status != store.StatusActive {
		return Session{}, &InactiveError{Status: u.Status}
	}
	s.upgradeHash(ctx, u.ID, password, hash)
	s.log.Info("user signed in", "user_id", u.ID)
	return s.startSession(ctx, u)
}

// upgradeHash re-hashes with the current parameters if the stored hash used others.
func (s *Service) upgradeHash(ctx context.Context, userID, password, hash string) {
	p, _, _, err := parseHash(hash)
	if err != nil || p == s.cfg.Params {
		return
	}
	if h, err := s.hash(ctx, password); err == nil {
		if err := s.cfg.Store.SetPasswordHash(ctx, userID, h); err != nil {
			s.log.Warn("cannot upgrade the password hash", "user_id", userID, "err", err)
		}
	}
}

func (s *Service) startSession(ctx context.Context, u store.User) (Session, error) {
	expires := s.now().Add(s.cfg.SessionTTL)
	token, err := s.cfg.Store.CreateAuthSession(ctx, u.ID, expires)
	if err != nil {
		return Session{}, err
	}
	return Session{User: u, Token: token, Expires: expires}, nil
}

// SignOut ends the session with that token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	s.sessions.forgetToken(token)
	return s.cfg.Store.DeleteAuthSession(ctx, token)
}

// ForgetUser drops what this node remembers of the user's sessions; call
// it after changing the user's role, status or name.
func (s *Service) ForgetUser(userID string) { s.sessions.forgetUser(userID) }

// Principal is who made a request.
type Principal struct {
	User store.User
	// SessionToken is set for browser sessions (and is what CSRF tokens
	// derive from); TokenID for personal API tokens.
	SessionToken string
	TokenID      string
}

// ViaSession reports whether the principal signed in with a browser session.
func (p Principal) ViaSession() bool { return p.SessionToken != "" }

// AuthenticateSession returns the principal of a session cookie value:
// ErrNotSignedIn if unknown or expired, *InactiveError if suspended.
func (s *Service) AuthenticateSession(ctx context.Context, token string) (Principal, error) {
	now := s.now()
	if p, ok := s.sessions.get(token, now); ok {
		return p, nil
	}
	u, err := s.cfg.Store.UserBySession(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrNotSignedIn
	}
	if err != nil {
		return Principal{}, err
	}
	if u.Status != store.StatusActive {
		return Principal{}, &InactiveError{Status: u.Status}
	}
	p := Principal{User: u, SessionToken: token}
	s.sessions.put(token, p, now)
	return p, nil
}

// tokenTouchEvery limits last-used writes to one per token per minute.
const tokenTouchEvery = time.Minute

// AuthenticateToken returns the principal of a personal API token.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (Principal, error) {
	u, t, err := s.cfg.Store.UserByAPIToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrNotSignedIn
	}
	if err != nil {
		return Principal{}, err
	}
	if u.Status != store.StatusActive {
		return Principal{}, &InactiveError{Status: u.Status}
	}
	if now := s.now(); now.Sub(t.LastUsedAt) > tokenTouchEvery {
		if err := s.cfg.Store.TouchAPIToken(ctx, t.ID, now); err != nil {
			s.log.Warn("cannot record API token use", "token_id", t.ID, "err", err)
		}
	}
	return Principal{User: u, TokenID: t.ID}, nil
}

// CSRFToken returns the anti-CSRF token of a session: an HMAC of a fixed
// label keyed by the session token. It needs no storage, changes with every
// session, and reveals nothing about the session token.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("livehouse csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether got is the session's CSRF token.
func CheckCSRF(sessionToken, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(got)) == 1
}

// ChangePassword replaces the user's password after checking the current
// one, signs the user out everywhere and returns a fresh session. Too many
// attempts for one user give *RateLimitError before any password work.
func (s *Service) ChangePassword(ctx context.Context, u store.User, current, next string) (Session, error) {
	if d, ok := s.passwords.take(u.ID, s.now()); !ok {
		return Session{}, &RateLimitError{RetryAfter: d}
	}
	hash, err := s.cfg.Store.PasswordHash(ctx, u.ID)
	if err != nil {
		return Session{}, err
	}
	ok, err := s.verify(ctx, current, hash)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		return Session{}, &store.FieldError{Field: "current_password", Problem: "is not your current password"}
	}
	if err := CheckPassword(next); err != nil {
		return Session{}, err
	}
	h, err := s.hash(ctx, next)
	if err != nil {
		return Session{}, err
	}
	if err := s.cfg.Store.SetPasswordHash(ctx, u.ID, h); err != nil {
		return Session{}, err
	}
	if err := s.cfg.Store.DeleteUserAuthSessions(ctx, u.ID); err != nil {
		return Session{}, err
	}
	s.sessions.forgetUser(u.ID)
	s.log.Info("password changed; other sessions signed out", "user_id", u.ID)
	return s.startSession(ctx, u)
}

// CreateAdmin makes email an admin: an existing account is promoted (and
// reactivated); otherwise an account is created with a random password,
// which is returned (and shown nowhere else).
func (s *Service) CreateAdmin(ctx context.Context, email string) (u store.User, password string, err error) {
	email, err = NormalizeEmail(email)
	if err != nil {
		return store.User{}, "", err
	}
	u, err = s.cfg.Store.UserByEmail(ctx, email)
	if err == nil {
		role, status := store.RoleAdmin, store.StatusActive
		u, err = s.cfg.Store.UpdateUser(ctx, u.ID, store.UserPatch{Role: &role, Status: &status})
		return u, "", err
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", err
	}
	password = randomSecret(15)
	hash, err := s.hash(ctx, password)
	if err != nil {
		return store.User{}, "", err
	}
	u, err = s.cfg.Store.CreateUser(ctx, store.NewUser{Email: email, DisplayName: strings.SplitN(email, "@", 2)[0],
		PasswordHash: hash, Role: store.RoleAdmin})
	return u, password, err
}

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSlots }()
	return HashPassword(password, s.cfg.Params), nil
}

func (s *Service) verify(ctx context.Context, password, hash string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashSlots }()
	ok, _, err := VerifyPassword(password, hash)
	return ok, err
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NormalizeEmail trims and lower-cases email and checks that it is a plain
// address (no display name, no angle brackets). The error is a *store.FieldError.
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	bad := &store.FieldError{Field: "email", Problem: "want an email address such as ada@example.com"}
	if email == "" || len(email) > MaxEmail || !utf8.ValidString(email) {
		return "", bad
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email || strings.Count(email, "@") != 1 {
		return "", bad
	}
	return email, nil
}

// CheckPassword enforces the password rules. The error is a *store.FieldError.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return &store.FieldError{Field: "password", Problem: "is not valid UTF-8"}
	case n < MinPassword:
		return &store.FieldError{Field: "password", Problem: fmt.Sprintf("want at least %d characters", MinPassword)}
	case n > MaxPassword:
		return &store.FieldError{Field: "password", Problem: fmt.Sprintf("want at most %d characters", MaxPassword)}
	}
	return nil
}

func randomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (Go 1.24+)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
