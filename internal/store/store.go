package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// engine names the SQL database behind a Store.
type engine string

const (
	engineSQLite   engine = "sqlite"
	enginePostgres engine = "postgres"
)

// Store is the persistence layer. It is safe for concurrent use; all methods
// take a context that bounds the database work.
type Store struct {
	db     *sql.DB
	engine engine
	logger *slog.Logger
	now    func() time.Time // replaced in tests
	// txMu queues this process's SQLite write transactions. SQLite has one
	// writer; without the queue, a transaction that finds the lock taken
	// polls for it with sleeps of up to 100 ms (busy_timeout), which is
	// what a burst of gifts and chat appends would see as latency.
	txMu sync.Mutex
	ckpt *checkpointer // SQLite only: WAL upkeep off the commit path
	// Ledger accounts and rooms rows known to exist (PostgreSQL batches).
	accounts, rooms knownIDs
	// slowBatches counts ledger batches the batch path handed to the
	// savepoint path (tests read it: a fallback is correct but slow).
	slowBatches atomic.Int64
}

// Open connects to the database named by dsn and applies pending migrations.
//
// A dsn starting with postgres:// or postgresql:// selects PostgreSQL (pgx);
// anything else is the path of a SQLite file, whose parent directory is
// created if missing. The dsn is never logged: it may hold a password.
// A nil logger discards logs.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{logger: logger, now: time.Now}
	var err error
	if isPostgresDSN(dsn) {
		s.engine = enginePostgres
		s.db, err = openPostgres(dsn)
	} else {
		s.engine = engineSQLite
		s.db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", s.engine, err)
	}
	version, err := s.init(ctx)
	// Switching a new database file to WAL fails at once with SQLITE_BUSY,
	// without waiting out busy_timeout, while another process opens it too.
	for try := 0; err != nil && isBusy(err) && try < 50; try++ {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		version, err = s.init(ctx)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s store: %w", s.engine, err), s.db.Close())
	}
	if s.engine == engineSQLite {
		if err := s.startCheckpointer(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("open %s store: %w", s.engine, err), s.db.Close())
		}
	}
	logger.Info("store opened", "engine", string(s.engine), "schema_version", version)
	return s, nil
}

// init checks the connection and migrates; it returns the schema version.
func (s *Store) init(ctx context.Context) (int64, error) {
	if err := s.db.PingContext(ctx); err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	if s.engine == engineSQLite {
		if err := checkSQLiteJournal(ctx, s.db, s.logger); err != nil {
			return 0, err
		}
	}
	return migrate(ctx, s.db, s.engine, s.logger)
}

// Close releases the database connections. The Store must not be used afterwards.
func (s *Store) Close() error {
	var ckErr error
	if s.ckpt != nil {
		ckErr = s.ckpt.stop()
		s.ckpt = nil
	}
	if err := errors.Join(ckErr, s.db.Close()); err != nil {
		return fmt.Errorf("close %s store: %w", s.engine, err)
	}
	return nil
}

// Ping reports whether the database is reachable, for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s store: %w", s.engine, err)
	}
	return nil
}

func isPostgresDSN(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// toMillis and fromMillis convert between time.Time and the stored BIGINT
// unix milliseconds. Stored times are therefore truncated to milliseconds and
// come back in UTC.
func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Optimize refreshes the query planner's statistics: PRAGMA optimize on
// SQLite (which analyzes only tables whose statistics are missing or stale),
// ANALYZE of the directory's tables on PostgreSQL (where autovacuum would
// get to it within minutes). Run it after bulk loads; the server runs it at
// start and hourly.
func (s *Store) Optimize(ctx context.Context) error {
	q := `PRAGMA optimize=0x10002`
	if s.engine == enginePostgres {
		q = `ANALYZE channels, channel_profiles, channel_tags, live_channels, live_sessions, users, follows`
	}
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("optimize %s store: %w", s.engine, err)
	}
	if s.engine == engineSQLite {
		// Keep sqlite_stat1 (row counts for the planner) but not the STAT4
		// samples: with samples, every statement that compares an indexed
		// column with a parameter is re-planned each time it is bound, which
		// costs the parse that prepared statements exist to save.
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&n); err != nil {
			return fmt.Errorf("optimize sqlite store: %w", err)
		}
		if n > 0 {
			if _, err := s.db.ExecContext(ctx, `DELETE FROM sqlite_stat4`); err != nil {
				return fmt.Errorf("optimize sqlite store: %w", err)
			}
		}
	}
	return nil
}
