package store

import (
	"context"
	"database/sql"
	"fmt"
)

// AddImpressionFrom counts a viewer once per break, and at most
// perNetwork viewers from one client network per break; it reports
// whether this impression counted. The break's row is locked first, so
// concurrent impressions from one network cannot pass the cap together.
func (s *Store) AddImpressionFrom(ctx context.Context, breakID, viewer, network string, perNetwork int) (bool, error) {
	added := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ad_breaks SET impressions = impressions WHERE id = $1`, breakID)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		var fromNetwork int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ad_impressions WHERE break_id = $1 AND network = $2`,
			breakID, network).Scan(&fromNetwork); err != nil {
			return err
		}
		if fromNetwork >= perNetwork {
			return nil
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO ad_impressions (break_id, viewer, network, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (break_id, viewer) DO NOTHING`, breakID, viewer, network, toMillis(s.now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // counted already
		}
		added = true
		_, err = tx.ExecContext(ctx, `UPDATE ad_breaks SET impressions = impressions + 1 WHERE id = $1`, breakID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("add impression: %w", err)
	}
	return added, nil
}
