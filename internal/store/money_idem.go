package store

import (
	"context"
	"fmt"
)

// RecordRequest stores the idempotency key of a money request that wrote
// no ledger transaction (a declined confirmation, say) with its answer, so
// a repeat of it is recognised; a key stored already fails with ErrExists.
func (s *Store) RecordRequest(ctx context.Context, k Idempotency, result string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, idem_key, request_hash, txn_id, result, created_at)
		VALUES ($1, $2, $3, '', $4, $5)`, k.Scope, k.Key, k.Hash, result, toMillis(s.now()))
	if isUniqueViolation(err) {
		return fmt.Errorf("idempotency key %s: %w", k.Key, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("record request: %w", err)
	}
	return nil
}
