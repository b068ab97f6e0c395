package api

import (
	"context"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// spendCacheTTL is how long gifts and tips trust a channel they read. An
// admin's suspension clears the cache on the node that made it; other
// nodes follow within the TTL.
const spendCacheTTL = time.Second

// spendCache remembers the channels that gifts and tips were sent to.
type spendCache struct {
	mu sync.Mutex
	m  map[string]cachedChannel
}

type cachedChannel struct {
	ch store.Channel
	at time.Time
}

// lookup wraps a channel read with the cache; only found channels are kept.
func (c *spendCache) lookup(read func(context.Context, string) (store.Channel, error)) func(context.Context, string) (store.Channel, error) {
	return func(ctx context.Context, slug string) (store.Channel, error) {
		now := time.Now()
		c.mu.Lock()
		e, ok := c.m[slug]
		c.mu.Unlock()
		if ok && now.Sub(e.at) < spendCacheTTL {
			return e.ch, nil
		}
		ch, err := read(ctx, slug)
		if err != nil {
			return ch, err
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) >= 10_000 {
			c.m = map[string]cachedChannel{}
		}
		c.m[slug] = cachedChannel{ch, now}
		c.mu.Unlock()
		return ch, nil
	}
}

func (c *spendCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
