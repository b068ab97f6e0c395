package account

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestLimiterStillLimitsNewKeysWhenFull(t *testing.T) {
	l := NewLimiter(Rate{Burst: 1, Every: time.Hour})
	l.max = 3
	now := time.Unix(1_000_000, 0)
	for i := range 10 {
		if _, ok := l.take(fmt.Sprint("k", i), now); !ok {
			t.Fatalf("first attempt of k%d refused", i)
		}
	}
	if len(l.m) != 3 || l.lru.Len() != 3 {
		t.Fatalf("limiter remembers %d keys (list %d), want its cap 3", len(l.m), l.lru.Len())
	}
	if _, ok := l.take("k9", now); ok {
		t.Error("the newest key was not remembered: its second attempt was allowed")
	}
	if _, ok := l.m["k0"]; ok {
		t.Error("the least recently used key was kept, a newer one dropped")
	}
}

func TestLimiterForgetsRefilledBucketsBeforeRecentOnes(t *testing.T) {
	l := NewLimiter(Rate{Burst: 1, Every: time.Minute})
	l.max = 2
	now := time.Unix(1_000_000, 0)
	l.take("old", now)
	l.take("recent", now.Add(90*time.Second))
	l.take("new", now.Add(2*time.Minute)) // "old" has refilled by now
	if _, ok := l.take("recent", now.Add(2*time.Minute)); ok {
		t.Error("a bucket still refilling was dropped while a refilled one could go")
	}
}

func TestLimiterWaitRemembersNothing(t *testing.T) {
	l := NewLimiter(Rate{Burst: 1, Every: time.Hour})
	now := time.Unix(1_000_000, 0)
	for i := range 100 {
		if d := l.wait(fmt.Sprint("k", i), now); d != 0 {
			t.Fatalf("wait on an unseen key = %v", d)
		}
	}
	if len(l.m) != 0 {
		t.Errorf("wait stored %d buckets", len(l.m))
	}
	l.take("k", now)
	if d := l.wait("k", now); d <= 0 {
		t.Errorf("wait after the only token was spent = %v", d)
	}
}

func TestSignInFloodOfUnknownEmailsFromOneAddressKeepsAccountLockout(t *testing.T) {
	s, _ := newService(t, RateLimits{
		SignInPerIP:    Rate{Burst: 5, Every: time.Hour},
		SignInPerEmail: Rate{Burst: 2, Every: time.Hour},
		SignUpPerIP:    Rate{Burst: -1},
	})
	s.signInFor.max = 8
	ctx := t.Context()
	if _, err := s.SignUp(ctx, "10.0.0.1", "cat@example.com", pw, ""); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s.SignIn(ctx, "10.0.0.2", "cat@example.com", "wrong password!") //nolint:errcheck
	}
	for i := range 50 {
		s.SignIn(ctx, "10.0.0.9", fmt.Sprintf("fake%d@example.com", i), "x") //nolint:errcheck
	}
	var rl *RateLimitError
	if _, err := s.SignIn(ctx, "10.0.0.3", "cat@example.com", pw); !errors.As(err, &rl) {
		t.Errorf("after a flood of fake emails the locked account signs in: %v", err)
	}
}
