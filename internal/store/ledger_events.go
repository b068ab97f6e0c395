package store

import (
	"context"
	"database/sql"
	"slices"
)

// batchEvents is the room events a batch's accepted postings carry
// (Posting.Event), by room.
type batchEvents struct {
	chans []string               // the rooms, in id order (the lock order)
	of    map[string][]int       // each room's postings, in batch order
	evs   map[string][]RoomEvent // their events (copies), in the same order
}

func postedEvents(s *Store, ps []Posting, accepted []int) batchEvents {
	b := batchEvents{of: map[string][]int{}, evs: map[string][]RoomEvent{}}
	for _, i := range accepted {
		e := ps[i].Event
		if e == nil {
			continue
		}
		ev := *e
		if ev.CreatedAt.IsZero() {
			ev.CreatedAt = s.now()
		}
		if _, ok := b.of[ev.ChannelID]; !ok {
			b.chans = append(b.chans, ev.ChannelID)
		}
		b.of[ev.ChannelID] = append(b.of[ev.ChannelID], i)
		b.evs[ev.ChannelID] = append(b.evs[ev.ChannelID], ev)
	}
	slices.Sort(b.chans)
	return b
}

// give hands each posting its sequenced event.
func (b batchEvents) give(out []Posted) {
	for _, ch := range b.chans {
		for k, i := range b.of[ch] {
			out[i].Event = b.evs[ch][k]
		}
	}
}

// appendPostedEvents stores the accepted postings' room events in the
// batch's transaction (SQLite; PostgreSQL writes them in pgWritePosted).
func (s *Store) appendPostedEvents(ctx context.Context, tx *sql.Tx, ps []Posting, out []Posted, accepted []int) error {
	b := postedEvents(s, ps, accepted)
	for _, ch := range b.chans {
		if err := s.appendRoomEventsTx(ctx, tx, ch, b.evs[ch]); err != nil {
			return err
		}
	}
	b.give(out)
	return nil
}

// ensureRooms creates the room rows the valid postings' events need
// (PostgreSQL), before the batch's transaction, for the reason
// ensureAccounts gives; rooms this store has seen need no statement.
func (s *Store) ensureRooms(ctx context.Context, ps []Posting, errs []error) error {
	var ids []string
	for i := range ps {
		if e := ps[i].Event; e != nil && errs[i] == nil && !slices.Contains(ids, e.ChannelID) && !s.rooms.known(e.ChannelID) {
			ids = append(ids, e.ChannelID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO rooms (channel_id) SELECT * FROM unnest($1::text[]) ORDER BY 1 ON CONFLICT (channel_id) DO NOTHING`, ids); err != nil {
		return err
	}
	for _, id := range ids {
		s.rooms.add(id)
	}
	return nil
}
