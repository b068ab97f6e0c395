package store

import (
	"context"
	"fmt"
)

// RoomChatBefore returns the room's last limit chat messages that still
// stand (moderators' deletions left out), oldest first: a joiner's history,
// however many reactions and other events came after them.
func (s *Store) RoomChatBefore(ctx context.Context, channelID string, limit int) ([]RoomEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+roomEventColumns+` FROM room_events
		WHERE channel_id = $1 AND kind = 'chat' ORDER BY seq DESC LIMIT $2`, channelID, limit)
	if err != nil {
		return nil, fmt.Errorf("room chat: %w", err)
	}
	evs, err := scanRoomEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("room chat: %w", err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs, nil
}
