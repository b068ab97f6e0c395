package store

import (
	"strings"
	"testing"
)

func TestBroadcastEventsLeaveOutDeletedMessages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "replayed", "", Profile{})
		evs, err := s.AppendRoomEvents(ctx, ch.ID, []RoomEvent{
			{Kind: "chat", BroadcastID: "b1", MediaMS: 10, Payload: `{"type":"chat","text":"keep me"}`},
			{Kind: "chat", BroadcastID: "b1", MediaMS: 20, Payload: `{"type":"chat","text":"secret slur"}`},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRoomMessageDeleted(ctx, ch.ID, evs[1].Seq); err != nil {
			t.Fatal(err)
		}
		got, err := s.BroadcastEvents(ctx, "b1", -2, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Seq != evs[0].Seq {
			t.Errorf("replay = %+v, want only the message still standing", got)
		}
		for _, e := range got {
			if strings.Contains(e.Payload, "secret") {
				t.Errorf("replay shows a deleted message: %s", e.Payload)
			}
		}
		// The room's own history keeps the row (its chat.delete hides it).
		if all, _ := s.RoomEventsAfter(ctx, ch.ID, 0, 10); len(all) != 2 {
			t.Errorf("room events = %d, want both kept", len(all))
		}
	})
}
