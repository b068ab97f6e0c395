package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteParams are applied by modernc.org/sqlite to every pooled connection.
//   - busy_timeout: wait for a competing writer instead of failing with SQLITE_BUSY.
//   - journal_mode WAL: readers never block the writer (persistent in the file).
//   - foreign_keys: SQLite enforces REFERENCES only when asked, per connection.
//   - synchronous NORMAL: the usual WAL pairing; durable except on power loss
//     of the last transactions, never corrupt.
//   - mmap_size 0: no memory-mapped reads. With the log checkpointed off the
//     commit path the file keeps growing, and every reader remapped it.
//   - temp_store MEMORY: sorts and temporary tables stay off the disk.
//   - wal_autocheckpoint 0: the store's checkpointer copies the log instead
//     of the committing writer.
//   - _txlock=immediate: BEGIN takes the write lock up front, so busy_timeout
//     applies instead of a read->write upgrade failing with SQLITE_BUSY.
//
// Connection pool sizes per process.
const (
	sqliteMaxConns   = 16
	postgresMaxConns = 24
)

const sqliteParams = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=mmap_size(0)" +
	"&_pragma=temp_store(MEMORY)" +
	// The store's checkpointer copies the log, off the commit path.
	"&_pragma=wal_autocheckpoint(0)" +
	"&_txlock=immediate"

func openSQLite(path string) (*sql.DB, error) {
	switch {
	case path == "":
		return nil, fmt.Errorf("empty database path: %w", ErrInvalid)
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		// An in-memory database would be private to each pooled connection.
		return nil, fmt.Errorf("sqlite dsn %q: want a file path: %w", path, ErrInvalid)
	case strings.Contains(path, "?"):
		// The driver splits its own parameters off at the first '?'.
		return nil, fmt.Errorf("sqlite path %q must not contain '?': %w", path, ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	db, err := openCached("sqlite", path+"?"+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("sqlite %q: %w", path, err)
	}
	// Opening a connection costs a schema parse and the pragmas (about a
	// millisecond), so connections are kept, not closed after a burst as
	// database/sql's default of two idle ones would do; and bounded, since
	// SQLite has one writer and more readers only contend for the CPU.
	db.SetMaxOpenConns(sqliteMaxConns)
	db.SetMaxIdleConns(sqliteMaxConns)
	return db, nil
}

// checkSQLiteJournal warns when WAL could not be enabled, which SQLite reports
// by silently keeping another journal mode (e.g. on some network filesystems).
func checkSQLiteJournal(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		logger.Warn("sqlite WAL journal not available; concurrent readers will block writers", "journal_mode", mode)
	}
	return nil
}

func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the dsn (net/url errors do), password
		// included, so the detail is withheld.
		return nil, fmt.Errorf("cannot parse postgres dsn (detail withheld, it may hold a password): %w", ErrInvalid)
	}
	db := stdlib.OpenDB(*cfg)
	// Keep the pool's connections (each costs a TCP and auth round trip)
	// and stay well inside the server's max_connections with a few nodes.
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns)
	return db, nil
}
