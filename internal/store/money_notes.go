package store

import (
	"context"
	"fmt"
)

// NoteOrder replaces an order's detail without changing its status: what
// a provider did that moved no money here and an admin should review
// (a partial refund, a dispute of a refunded order).
func (s *Store) NoteOrder(ctx context.Context, id, note string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE payment_orders SET detail = $2, updated_at = $3 WHERE id = $1`, id, note, toMillis(s.now()))
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("note order %s: %w", id, err)
	}
	return nil
}
