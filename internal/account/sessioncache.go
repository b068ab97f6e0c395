package account

import (
	"sync"
	"time"
)

// sessionCacheTTL is how long a node trusts a session it has looked up.
// Signing out, a password change and an admin's change to the user evict
// it at once on the node that made them; other nodes follow within the TTL.
const sessionCacheTTL = 2 * time.Second

// sessionCacheMax bounds the cache; it is cleared when full.
const sessionCacheMax = 200_000

// sessionCache remembers recent session lookups, so that a burst of
// requests from one browser (gifts, chat joins, heartbeats) costs one
// database read per TTL instead of one per request.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p  Principal
	at time.Time
}

func (c *sessionCache) get(token string, now time.Time) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[token]
	if !ok || now.Sub(e.at) >= sessionCacheTTL || now.Before(e.at) {
		return Principal{}, false
	}
	return e.p, true
}

func (c *sessionCache) put(token string, p Principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= sessionCacheMax {
		c.m = map[string]cachedPrincipal{}
	}
	c.m[token] = cachedPrincipal{p, now}
}

func (c *sessionCache) forgetToken(token string) {
	c.mu.Lock()
	delete(c.m, token)
	c.mu.Unlock()
}

func (c *sessionCache) forgetUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.p.User.ID == userID {
			delete(c.m, k)
		}
	}
}
