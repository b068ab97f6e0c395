package store

import (
	"context"
	"fmt"
)

// RoomKindDeletedChat is the kind of a stored chat message a moderator
// removed. Its payload is kept for the audit trail; public replays and
// history by kind leave it out.
const RoomKindDeletedChat = "chat.deleted"

// MarkRoomMessageDeleted marks the room's chat message at seq removed. A
// seq that names no chat message (or one removed already) changes nothing.
func (s *Store) MarkRoomMessageDeleted(ctx context.Context, channelID string, seq int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE room_events SET kind = $3 WHERE channel_id = $1 AND seq = $2 AND kind = 'chat'`,
		channelID, seq, RoomKindDeletedChat)
	if err != nil {
		return fmt.Errorf("mark room message %d deleted: %w", seq, err)
	}
	return nil
}
