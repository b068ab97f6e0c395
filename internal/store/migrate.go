package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"path"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationFiles holds the one set of migrations shared by both engines.
// Add a new numbered file for every schema change; never edit an applied one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema up to date and returns its version. It is idempotent.
func migrate(ctx context.Context, db *sql.DB, eng engine, logger *slog.Logger) (int64, error) {
	provider, err := newMigrator(ctx, db, eng, logger)
	if err != nil {
		return 0, err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		logger.Info("schema migration applied", "version", r.Source.Version,
			"file", path.Base(r.Source.Path), "duration", r.Duration)
	}
	version, err := provider.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}

// newMigrator returns a goose provider for the embedded migrations.
func newMigrator(ctx context.Context, db *sql.DB, eng engine, logger *slog.Logger) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true), // no Go migrations, no package-level state
		// goose logs only when verbose; migrate logs the results itself. The
		// slog logger keeps goose off the standard library's global logger.
		goose.WithSlog(logger),
	}
	dialect := goose.DialectSQLite3
	if eng == engineSQLite {
		opts = append(opts, goose.WithLocker(sqliteMigrationLocker{holder: randomText(8)}))
	}
	if eng == enginePostgres {
		dialect = goose.DialectPostgres
		locker, err := postgresMigrationLocker(ctx, db)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return provider, nil
}

// sqliteMigrationLocker serialises migrations of processes (or Stores) that
// open one SQLite file at the same time, such as `livehouse serve` and a CLI
// command. goose reads the applied versions and then runs each migration in a
// transaction of its own, so without a lock two openers could both apply the
// same migration. The lock is a row in a table of its own; a row older than
// sqliteLockStale belongs to a process that died while migrating.
type sqliteMigrationLocker struct{ holder string }

const (
	sqliteLockStale = 2 * time.Minute
	sqliteLockWait  = 5 * time.Minute
)

func (l sqliteMigrationLocker) Lock(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS livehouse_migration_lock (
		id INTEGER NOT NULL PRIMARY KEY, holder TEXT NOT NULL, acquired_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	deadline := time.Now().Add(sqliteLockWait)
	for {
		now := time.Now()
		if _, err := db.ExecContext(ctx, `DELETE FROM livehouse_migration_lock WHERE acquired_at < $1`,
			toMillis(now.Add(-sqliteLockStale))); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		_, err := db.ExecContext(ctx, `INSERT INTO livehouse_migration_lock (id, holder, acquired_at) VALUES (1, $1, $2)`,
			l.holder, toMillis(now))
		if err == nil {
			return nil
		}
		if !isUniqueViolation(err) {
			return fmt.Errorf("migration lock: %w", err)
		}
		if now.After(deadline) {
			return fmt.Errorf("migration lock: another process has been migrating for over %v", sqliteLockWait)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migration lock: %w", ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func (l sqliteMigrationLocker) Unlock(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM livehouse_migration_lock WHERE id = 1 AND holder = $1`, l.holder); err != nil {
		return fmt.Errorf("migration unlock: %w", err)
	}
	return nil
}

// postgresMigrationLocker serialises migrations of replicas that start at the
// same time. The advisory lock id is derived from the schema so that
// installations (and tests) sharing one database in different schemas do not
// wait for each other. SQLite uses sqliteMigrationLocker.
func postgresMigrationLocker(ctx context.Context, db *sql.DB) (lock.SessionLocker, error) {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("read current schema: %w", err)
	}
	if !schema.Valid {
		return nil, fmt.Errorf("no current schema: the schemas in search_path do not exist: %w", ErrInvalid)
	}
	h := fnv.New64a()
	h.Write([]byte("livehouse/store migrations\x00" + schema.String))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		lock.WithLockTimeout(1, 300), // poll every second, up to 5 minutes
	)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return locker, nil
}
