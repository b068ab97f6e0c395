// Package bus carries realtime messages between the nodes of a deployment:
// Local delivers within one process (the embedded default), NATS across
// processes through a NATS server. Both deliver each message to every
// subscriber of its subject, at most once and in publish order per publisher.
package bus

import (
	"context"
	"sync"
)

// Handler receives one message. It must not block for long: it runs on the
// bus's delivery goroutine.
type Handler = func(data []byte)

// Local is an in-process bus. It is safe for concurrent use.
type Local struct {
	mu   sync.RWMutex
	subs map[string]map[*localSub]struct{}
}

type localSub struct{ h Handler }

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{subs: map[string]map[*localSub]struct{}{}} }

// Publish delivers data to every current subscriber of subject before it
// returns. Subscribers must not keep data after their handler returns
// unless they copy it; Local passes the same slice to all of them.
func (b *Local) Publish(_ context.Context, subject string, data []byte) error {
	b.mu.RLock()
	hs := make([]Handler, 0, len(b.subs[subject]))
	for s := range b.subs[subject] {
		hs = append(hs, s.h)
	}
	b.mu.RUnlock()
	for _, h := range hs {
		h(data)
	}
	return nil
}

// Subscribe calls h for every message published on subject until the
// returned function is called.
func (b *Local) Subscribe(subject string, h Handler) (func(), error) {
	s := &localSub{h: h}
	b.mu.Lock()
	if b.subs[subject] == nil {
		b.subs[subject] = map[*localSub]struct{}{}
	}
	b.subs[subject][s] = struct{}{}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs[subject], s)
		if len(b.subs[subject]) == 0 {
			delete(b.subs, subject)
		}
		b.mu.Unlock()
	}, nil
}

// Close does nothing; Local holds no resources.
func (b *Local) Close() error { return nil }
