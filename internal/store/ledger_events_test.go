package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// withEvent gives a posting its chat announcement.
func withEvent(p Posting, channelID, tag string) Posting {
	p.Event = &RoomEvent{ChannelID: channelID, Kind: p.Txn.Kind, UserID: p.Txn.UserID, MediaMS: -1,
		Payload: fmt.Sprintf(`{"type":%q,"tag":%q}`, p.Txn.Kind, tag)}
	return p
}

// A posting's room event commits with its money and takes the room's next
// sequence number, on the batch path and on the savepoint path, whatever
// the rooms and the chat appends around it: a refused posting stores no
// event and skips no number, a replay stores none, and each room's
// numbers stay consecutive.
func TestLedgerPostingEventsShareTheMoneysTransaction(t *testing.T) {
	for _, path := range []struct {
		name string
		slow bool
	}{{"batch path", false}, {"savepoint path", true}} {
		t.Run(path.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, s *Store) {
				ctx := t.Context()
				a := mustChannel(t, s, "room-a", "", Profile{})
				b := mustChannel(t, s, "room-b", "", Profile{})
				c := mustChannel(t, s, "room-c", "", Profile{}) // no room row until its first event
				if _, err := s.AppendRoomEvents(ctx, a.ID, []RoomEvent{{Kind: "chat", MediaMS: -1, Payload: `{"type":"chat"}`}}); err != nil {
					t.Fatal(err)
				}
				mustPost(t, s, purchase("u", 100))
				keyed := withEvent(idemGift("u", "k1", "h1", 10), a.ID, "keyed")
				mustPost(t, s, keyed)
				batch := []struct {
					p       Posting
					want    error
					room    string
					wantSeq int64
				}{
					{withEvent(gift("u", a.ID, 10), b.ID, "b1"), nil, b.ID, 1},
					{withEvent(gift("u", a.ID, 10), a.ID, "a1"), nil, a.ID, 3},
					{withEvent(gift("u", a.ID, 500), a.ID, "refused"), ErrInsufficient, "", 0},
					{withEvent(gift("u", a.ID, 10), c.ID, "c1"), nil, c.ID, 1},
					{keyed, nil, "", 0}, // a replay: no second event
					{withEvent(tip("u", a.ID, 10), a.ID, "a2"), nil, a.ID, 4},
					{gift("u", a.ID, 10), nil, "", 0}, // no event at all
					{withEvent(gift("u", a.ID, 10), b.ID, "b2"), nil, b.ID, 2},
				}
				var calls atomic.Int32
				if path.slow {
					batch[0].p.Apply = forceSavepointPath(&calls)
				}
				ps := make([]Posting, len(batch))
				for i := range batch {
					ps[i] = batch[i].p
				}
				slow := s.slowBatches.Load()
				res, errs := s.PostBatch(ctx, ps)
				if fell := s.slowBatches.Load() - slow; fell != int64(boolInt(path.slow)) {
					t.Errorf("%d batches fell back to the savepoint path", fell)
				}
				for i, want := range batch {
					if !errors.Is(errs[i], want.want) {
						t.Errorf("posting %d: %v, want %v", i, errs[i], want.want)
						continue
					}
					if got := res[i].Event; got.Seq != want.wantSeq || (want.room != "" && got.ChannelID != want.room) {
						t.Errorf("posting %d: event seq %d in %q, want %d in %q", i, got.Seq, got.ChannelID, want.wantSeq, want.room)
					}
				}
				if path.slow && calls.Load() != 2 {
					t.Errorf("Apply ran %d times, want 2: the batch did not fall back", calls.Load())
				}
				for _, room := range []struct {
					id   string
					tags []string
				}{{a.ID, []string{"", "keyed", "a1", "a2"}}, {b.ID, []string{"b1", "b2"}}, {c.ID, []string{"c1"}}} {
					evs, err := s.RoomEventsAfter(ctx, room.id, 0, 100)
					if err != nil {
						t.Fatal(err)
					}
					if len(evs) != len(room.tags) {
						t.Fatalf("room %s holds %d events, want %d: %+v", room.id, len(evs), len(room.tags), evs)
					}
					for i, e := range evs {
						if e.Seq != int64(i+1) {
							t.Errorf("room %s: event %d has seq %d", room.id, i, e.Seq)
						}
						if room.tags[i] != "" && e.Payload != fmt.Sprintf(`{"type":%q,"tag":%q}`, e.Kind, room.tags[i]) {
							t.Errorf("room %s seq %d holds %s, want tag %s", room.id, e.Seq, e.Payload, room.tags[i])
						}
					}
					if last, _ := s.RoomLastSeq(ctx, room.id); last != int64(len(room.tags)) {
						t.Errorf("room %s last seq %d, want %d", room.id, last, len(room.tags))
					}
				}
				mustVerify(t, s)
			})
		})
	}
}

// Gifts with events and chat appends racing on one room share its
// sequence: every number is used once, none skipped.
func TestLedgerEventsAndChatAppendsShareOneSequence(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ch := mustChannel(t, s, "race", "", Profile{})
		const users, gifts, chats = 8, 20, 80
		for u := range users {
			mustPost(t, s, purchase(fmt.Sprint("u", u), gifts))
		}
		var wg sync.WaitGroup
		var seen sync.Map
		var failed atomic.Bool
		note := func(seq int64) {
			if _, dup := seen.LoadOrStore(seq, true); dup {
				t.Errorf("seq %d given twice", seq)
			}
		}
		for u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				batch := make([]Posting, 0, 4)
				flush := func() {
					res, errs := s.PostBatch(ctx, batch)
					for i := range batch {
						if errs[i] != nil {
							t.Error(errs[i])
							failed.Store(true)
							continue
						}
						note(res[i].Event.Seq)
					}
					batch = batch[:0]
				}
				for g := range gifts {
					batch = append(batch, withEvent(gift(fmt.Sprint("u", u), ch.ID, 1), ch.ID, fmt.Sprint(u, "/", g)))
					if len(batch) == cap(batch) {
						flush()
					}
				}
				flush()
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range chats {
				evs, err := s.AppendRoomEvents(ctx, ch.ID, []RoomEvent{{Kind: "chat", MediaMS: -1, Payload: `{}`}})
				if err != nil {
					t.Error(err)
					return
				}
				note(evs[0].Seq)
			}
		}()
		wg.Wait()
		if slow := s.slowBatches.Load(); slow != 0 {
			t.Errorf("%d batches fell back to the savepoint path", slow)
		}
		if failed.Load() {
			return
		}
		const total = users*gifts + chats
		for seq := int64(1); seq <= total; seq++ {
			if _, ok := seen.Load(seq); !ok {
				t.Fatalf("seq %d never given (of %d)", seq, total)
			}
		}
		if last, _ := s.RoomLastSeq(ctx, ch.ID); last != total {
			t.Errorf("last seq %d, want %d", last, total)
		}
		mustVerify(t, s)
	})
}
