package account

import (
	"container/list"
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
	// PasswordChangePerUser bounds password changes (each hashes twice)
	// per account.
	PasswordChangePerUser Rate
}

// DefaultRateLimits allow a person to mistype a few times and stop password
// guessing: 10 sign-ins per address then one per 6 s, 5 failures per
// account then one per minute, 5 sign-ups per address then one per 2 min,
// 5 password changes per account then one per minute.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		SignInPerIP:           Rate{Burst: 10, Every: 6 * time.Second},
		SignInPerEmail:        Rate{Burst: 5, Every: time.Minute},
		SignUpPerIP:           Rate{Burst: 5, Every: 2 * time.Minute},
		PasswordChangePerUser: Rate{Burst: 5, Every: time.Minute},
	}
}

// maxKeys bounds a Limiter's memory under a flood of distinct keys.
const maxKeys = 100_000

// Limiter is one token bucket per key (such as a client address). Buckets
// that have refilled are forgotten, so memory follows recent activity; when
// maxKeys are remembered, the least recently used bucket makes room, so a
// new key is always limited. It is safe for concurrent use.
type Limiter struct {
	rate Rate
	max  int
	mu   sync.Mutex
	m    map[string]*list.Element // of *bucket
	lru  list.List                // front is the most recently used
}

type bucket struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

// NewLimiter returns a Limiter; a Rate with Burst <= 0 allows everything.
func NewLimiter(r Rate) *Limiter {
	return &Limiter{rate: r, max: maxKeys, m: map[string]*list.Element{}}
}

// Take spends one of key's tokens, or reports how long until one is there.
func (s *Limiter) Take(key string) (time.Duration, bool) { return s.take(key, time.Now()) }

// bucket returns key's bucket, making one if need be.
func (s *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	s.sweep(now)
	if e := s.m[key]; e != nil {
		s.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		b.last = now
		return b.lim
	}
	for len(s.m) >= s.max {
		s.drop(s.lru.Back())
	}
	b := &bucket{key: key, lim: rate.NewLimiter(rate.Every(s.rate.Every), s.rate.Burst), last: now}
	s.m[key] = s.lru.PushFront(b)
	return b.lim
}

// sweep forgets buckets idle long enough to be full again; they are the
// least recently used, at the back.
func (s *Limiter) sweep(now time.Time) {
	full := time.Duration(s.rate.Burst) * s.rate.Every
	for e := s.lru.Back(); e != nil && now.Sub(e.Value.(*bucket).last) > full; e = s.lru.Back() {
		s.drop(e)
	}
}

func (s *Limiter) drop(e *list.Element) {
	delete(s.m, e.Value.(*bucket).key)
	s.lru.Remove(e)
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

// wait returns how long until key has a token, without spending one. It
// remembers nothing: a key with no bucket has a full one.
func (s *Limiter) wait(key string, now time.Time) time.Duration {
	if s.rate.Burst <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	e := s.m[key]
	if e == nil {
		return 0
	}
	lim := e.Value.(*bucket).lim
	if lim.TokensAt(now) >= 1 {
		return 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}
