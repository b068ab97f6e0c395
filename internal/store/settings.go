package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns the value of a server setting, or ErrNotFound if it was
// never set.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("setting %q: %w", name, err)
	}
	return v, nil
}

// PutSetting sets a server setting.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
		 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, toMillis(s.now()))
	if err != nil {
		return fmt.Errorf("put setting %q: %w", name, err)
	}
	s.logger.Info("setting changed", "setting", name)
	return nil
}

// SettingsWithPrefix returns every setting whose name starts with prefix.
func (s *Store) SettingsWithPrefix(ctx context.Context, prefix string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM settings WHERE substr(name, 1, $2) = $1`, prefix, len(prefix))
	if err != nil {
		return nil, fmt.Errorf("settings %q*: %w", prefix, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, v string
		if err := rows.Scan(&n, &v); err != nil {
			return nil, fmt.Errorf("settings %q*: %w", prefix, err)
		}
		out[n] = v
	}
	return out, rows.Err()
}
