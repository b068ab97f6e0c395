package store

import (
	"context"
	"fmt"
)

// PaidOut sums the amounts of a channel's paid payouts, however many.
func (s *Store) PaidOut(ctx context.Context, channelID string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM payouts WHERE channel_id = $1 AND status = $2`, channelID, PayoutPaid).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("paid out to %s: %w", channelID, err)
	}
	return n, nil
}
