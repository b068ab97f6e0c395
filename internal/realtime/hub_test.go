package realtime

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/bus"
	"github.com/livehouse/livehouse/internal/store"
)

// gatedStore holds a room's first store read until its gate opens: a slow
// database (or bus) for one channel.
type gatedStore struct {
	*store.Store
	channelID string
	gate      chan struct{}
}

func (g *gatedStore) RoomEventsBefore(ctx context.Context, channelID string, before int64, limit int) ([]store.RoomEvent, error) {
	if channelID == g.channelID {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Store.RoomEventsBefore(ctx, channelID, before, limit)
}

func TestASlowRoomOpenDelaysNoOtherRoom(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "lh.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	owner, err := st.CreateUser(t.Context(), store.NewUser{Email: "slow@example.com", DisplayName: "slowowner", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	slow, _, err := st.CreateChannelWith(t.Context(), store.NewChannel{Slug: "slowroom", OwnerID: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedStore{Store: st, channelID: slow.ID, gate: make(chan struct{})}
	r := newRigOn(t, st, bus.NewLocal(), "", func(c *Config) { c.Store = g })
	slowCh := Channel{ID: slow.ID, Slug: slow.Slug, OwnerID: owner.ID}

	opened := make(chan error, 1)
	go func() {
		_, err := r.hub.Announce(context.Background(), slowCh, Announcement{Kind: KindAdEnd})
		opened <- err
	}()
	time.Sleep(100 * time.Millisecond) // the slow room is opening now

	done := make(chan struct{})
	go func() {
		defer close(done)
		a := r.dial("alice", 0)
		a.welcome()
		a.say("the other room is fine")
		r.hub.Stats()
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("a room open waiting on the store froze another room")
	}

	// A second caller for the slow room waits only as long as its context.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.hub.Announce(ctx, slowCh, Announcement{Kind: KindAdEnd}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for a slow open = %v, want the caller's deadline", err)
	}
	close(g.gate)
	if err := <-opened; err != nil {
		t.Errorf("the slow room, once its store answered: %v", err)
	}
	if _, err := r.hub.Announce(context.Background(), slowCh, Announcement{Kind: KindAdEnd}); err != nil {
		t.Errorf("the slow room after opening: %v", err)
	}
}
