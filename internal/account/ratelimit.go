package account

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: Burst attempts at once, then one every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// RateLimits guard the endpoints that check passwords.
type RateLimits struct {
	SignInPerIP    Rate // every sign-in attempt from one client address
	SignInPerEmail Rate // failed sign-ins for one account
	SignUpPerIP    Rate
}

// DefaultRateLimits allow a person to mistype a few times and stop password
// guessing: 10 sign-ins per address then one per 6 s, 5 failures per
// account then one per minute, 5 sign-ups per address then one per 2 min.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		SignInPerIP:    Rate{Burst: 10, Every: 6 * time.Second},
		SignInPerEmail: Rate{Burst: 5, Every: time.Minute},
		SignUpPerIP:    Rate{Burst: 5, Every: 2 * time.Minute},
	}
}

// maxKeys bounds a Limiter's memory under a flood of distinct keys.
const maxKeys = 100_000

// Limiter is one token bucket per key (such as a client address). Buckets
// that have refilled are forgotten, so memory follows recent activity. It
// is safe for concurrent use.
type Limiter struct {
	rate Rate
	mu   sync.Mutex
	m    map[string]*bucket
	ops  int
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewLimiter returns a Limiter; a Rate with Burst <= 0 allows everything.
func NewLimiter(r Rate) *Limiter {
	return &Limiter{rate: r, m: map[string]*bucket{}}
}

// Take spends one of key's tokens, or reports how long until one is there.
func (s *Limiter) Take(key string) (time.Duration, bool) { return s.take(key, time.Now()) }

func (s *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	s.ops++
	if s.ops%1024 == 0 || len(s.m) >= maxKeys {
		s.sweep(now)
	}
	b := s.m[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(s.rate.Every), s.rate.Burst)}
		if len(s.m) < maxKeys {
			s.m[key] = b
		}
	}
	b.last = now
	return b.lim
}

// sweep forgets buckets idle long enough to be full again.
func (s *Limiter) sweep(now time.Time) {
	full := time.Duration(s.rate.Burst) * s.rate.Every
	for k, b := range s.m {
		if now.Sub(b.last) > full {
			delete(s.m, k)
		}
	}
}

// take spends one token for key, or returns how long to wait for one.
func (s *Limiter) take(key string, now time.Time) (time.Duration, bool) {
	if s.rate.Burst <= 0 {
		return 0, true // unlimited
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.bucket(key, now).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// wait returns how long until key has a token, without spending one.
func (s *Limiter) wait(key string, now time.Time) time.Duration {
	if s.rate.Burst <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lim := s.bucket(key, now)
	if lim.TokensAt(now) >= 1 {
		return 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}
