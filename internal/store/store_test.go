package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// postgresURLEnv names the PostgreSQL server for the postgres leg of the
// suite, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const postgresURLEnv = "LIVEHOUSE_TEST_POSTGRES_URL"

// forEachEngine runs fn against a fresh, migrated, isolated Store on every
// engine. The Store is closed when the subtest ends.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		fn(t, openTestStore(t, dsn))
	})
}

// forEachEngineDSN runs fn with the dsn of an empty, isolated database on
// every engine: a file in t.TempDir() for SQLite, a fresh schema for
// PostgreSQL (dropped when the subtest ends).
func forEachEngineDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, filepath.Join(t.TempDir(), "data", "livehouse.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, postgresTestDSN(t))
	})
}

// postgresTestDSN creates a schema of its own for the test and returns a dsn
// whose search_path selects it.
func postgresTestDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresURLEnv)
	if base == "" {
		t.Skipf("PostgreSQL leg skipped: %s is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", postgresURLEnv)
	}
	admin, err := openPostgres(base)
	if err != nil {
		t.Fatalf("%s: %v", postgresURLEnv, err)
	}
	schema := "livehouse_test_" + randomText(10)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create test schema on %s: %v", postgresURLEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", postgresURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openTestStore opens dsn, closes it at cleanup and prints its logs if the test failed.
func openTestStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, logs := openTestStoreWithLogs(t, dsn)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("store logs:\n%s", logs.String())
		}
	})
	return s
}

func openTestStoreWithLogs(t *testing.T, dsn string) (*Store, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	s, err := Open(t.Context(), dsn, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, logs
}

// logBuffer is a bytes.Buffer safe for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixedClock makes s.now return the given time.
func fixedClock(s *Store, at time.Time) { s.now = func() time.Time { return at } }

func mustCreateChannel(t *testing.T, s *Store, slug string) (Channel, string) {
	t.Helper()
	ch, key, err := s.CreateChannel(t.Context(), slug)
	if err != nil {
		t.Fatalf("CreateChannel(%q): %v", slug, err)
	}
	return ch, key
}

func TestOpenSQLiteCreatesParentDirectoryAndConfiguresEveryConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "livehouse.db")
	s := openTestStore(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	// Hold several pooled connections at once so each is a distinct one.
	ctx := t.Context()
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var fk, busy int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy <= 0 {
			t.Errorf("connection %d: journal_mode=%q foreign_keys=%d busy_timeout=%d, want wal, 1, >0", i, mode, fk, busy)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestOpenRejectsSQLiteDSNsThatAreNotPlainFilePaths(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{"", ":memory:", "file:" + filepath.Join(dir, "x.db"), filepath.Join(dir, "a?b.db")} {
		s, err := Open(t.Context(), dsn, nil)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want ErrInvalid", dsn)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", dsn, err)
		}
	}
}

func TestOpenPostgresErrorsNeverContainThePassword(t *testing.T) {
	const password = "sekrit-pw-123"
	cases := []struct {
		dsn     string
		invalid bool
	}{
		{"postgres://user:" + password + "@127.0.0.1:1/db?connect_timeout=2&sslmode=disable", false}, // nothing listens on port 1
		{"postgresql://user:" + password + "@[::1/db", true},
		{"postgres://user:" + password + "@127.0.0.1:5432/db?sslmode=bogus", true},
	}
	for _, tc := range cases {
		s, err := Open(t.Context(), tc.dsn, nil)
		if err == nil {
			s.Close()
			t.Errorf("Open succeeded for a dsn that cannot work")
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("error leaks the password: %v", err)
		}
		if tc.invalid && !errors.Is(err, ErrInvalid) {
			t.Errorf("malformed dsn: error %v does not wrap ErrInvalid", err)
		}
	}
}

func TestReopenKeepsDataAndReappliesNoMigration(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s1, err := Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		ch, key, err := s1.CreateChannel(ctx, "persistent")
		if err != nil {
			t.Fatal(err)
		}
		sess, err := s1.StartSession(ctx, ch.ID, "b1", `[{"name":"720p"}]`, time.UnixMilli(1_700_000_000_123))
		if err != nil {
			t.Fatal(err)
		}
		versions1 := migrationRows(t, s1)
		if err := s1.Close(); err != nil {
			t.Fatal(err)
		}

		s2 := openTestStore(t, dsn)
		if got := migrationRows(t, s2); got != versions1 {
			t.Errorf("goose_db_version rows after reopen = %d, want %d (migrations re-applied?)", got, versions1)
		}
		got, err := s2.ChannelByKey(ctx, key)
		if err != nil {
			t.Fatalf("ChannelByKey after reopen: %v", err)
		}
		if !reflect.DeepEqual(got, ch) {
			t.Errorf("channel after reopen = %+v, want %+v", got, ch)
		}
		sessions, err := s2.ListSessions(ctx, ch.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(sessions) != 1 || sessions[0] != sess {
			t.Errorf("sessions after reopen = %+v, want [%+v]", sessions, sess)
		}
	})
}

func migrationRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM goose_db_version").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countMigrations(t *testing.T) int {
	t.Helper()
	files, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

func TestMigrationsRollAllTheWayDownAndUpAgain(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		m, err := newMigrator(ctx, s.db, s.engine, s.logger)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.DownTo(ctx, 0); err != nil {
			t.Fatalf("down: %v", err)
		}
		if _, err := s.ListChannels(ctx); err == nil {
			t.Fatal("channels table still exists after migrating down to 0")
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		mustCreateChannel(t, s, "after-redo")
	})
}

func TestPositionalPlaceholdersBindByNumberOnBothEngines(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		var a, b, c string
		err := s.db.QueryRowContext(t.Context(),
			"SELECT CAST($2 AS TEXT), CAST($1 AS TEXT), CAST($2 AS TEXT)", "one", "two").Scan(&a, &b, &c)
		if err != nil {
			t.Fatal(err)
		}
		if a != "two" || b != "one" || c != "two" {
			t.Errorf("got %q %q %q, want two one two", a, b, c)
		}
	})
}

func TestConcurrentWritersAllSucceed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		const writers = 8
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				ch, _, err := s.CreateChannel(t.Context(), fmt.Sprintf("writer-%d", i))
				if err != nil {
					errs <- err
					return
				}
				for j := range 5 {
					sess, err := s.StartSession(t.Context(), ch.ID, fmt.Sprint(j), "[]", time.Now())
					if err == nil {
						err = s.EndSession(t.Context(), sess.ID, time.Now(), "done")
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent write: %v", err)
		}
	})
}

func TestCloseReturnsGoroutinesToBaseline(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		before := runtime.NumGoroutine()
		s, err := Open(t.Context(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateChannel(t.Context(), "leaky"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ListChannels(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if after := runtime.NumGoroutine(); after > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before Open, %d after Close\n%s", before, after, buf[:runtime.Stack(buf, true)])
		}
	})
}

func TestConcurrentOpensOfAFreshDatabaseBothSucceed(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		const replicas = 3
		errs := make(chan error, replicas)
		var wg sync.WaitGroup
		for range replicas {
			wg.Go(func() {
				s, err := Open(t.Context(), dsn, nil)
				if err == nil {
					_, err = s.ListChannels(t.Context())
					err = errors.Join(err, s.Close())
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent Open: %v", err)
			}
		}
		s := openTestStore(t, dsn)
		want := 1 + countMigrations(t) // goose's version-0 row plus one per migration
		if n := migrationRows(t, s); n != want {
			t.Errorf("goose_db_version has %d rows, want %d (a migration ran twice?)", n, want)
		}
	})
}
