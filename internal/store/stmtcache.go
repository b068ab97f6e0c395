package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
)

// The SQLite driver parses a query's SQL on every call made through the
// connection (about half the CPU of a short query), but keeps the parsed
// statement of a prepared one. cachingConnector wraps its connections so
// that every query goes through a per-connection cache of prepared
// statements: the SQL is parsed once per connection, and the queries stay
// plain db.QueryContext calls. (pgx has its own statement cache.)

// stmtCacheSize bounds the statements kept per connection; queries beyond
// it are prepared and closed as before.
const stmtCacheSize = 256

type cachingConnector struct {
	dsn string
	drv driver.Driver
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{inner: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.drv }

// openCached opens a pool of cachingConns on the registered driver.
func openCached(driverName, dsn string) (*sql.DB, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	return sql.OpenDB(cachingConnector{dsn: dsn, drv: drv}), nil
}

// cachingConn deliberately implements neither driver.QueryerContext nor
// driver.ExecerContext, so database/sql prepares every query (from the
// cache) and closes the statement (back into the cache) after it.
type cachingConn struct {
	inner driver.Conn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	driver.Stmt
	cached, inUse bool
}

// Close returns a cached statement to the cache.
func (s *cachedStmt) Close() error {
	if s.cached {
		s.inUse = false
		return nil
	}
	return s.Stmt.Close()
}

func (s *cachedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return nil, errors.New("store: the sqlite driver's statements lack ExecContext")
}

func (s *cachedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return nil, errors.New("store: the sqlite driver's statements lack QueryContext")
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if s, ok := c.stmts[query]; ok && !s.inUse {
		s.inUse = true
		return s, nil
	}
	var ds driver.Stmt
	var err error
	if p, ok := c.inner.(driver.ConnPrepareContext); ok {
		ds, err = p.PrepareContext(ctx, query)
	} else {
		ds, err = c.inner.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{Stmt: ds}
	// A query whose statement is busy (its rows are open while the same
	// query runs again in the transaction) gets a statement of its own.
	if _, busy := c.stmts[query]; !busy && len(c.stmts) < stmtCacheSize && len(query) < 64<<10 {
		s.cached, s.inUse = true, true
		c.stmts[query] = s
	}
	return s, nil
}

func (c *cachingConn) Close() error {
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.Stmt.Close())
	}
	c.stmts = nil
	return errors.Join(append(errs, c.inner.Close())...)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.inner.Begin() //nolint:staticcheck // drivers without BeginTx
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}
