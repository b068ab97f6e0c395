package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SQLite's own WAL checkpoint runs inside whichever commit pushes the log
// past 1,000 pages: that commit, and every write queued behind it on txMu,
// waits while 4 MB are copied into the database file and synced (about
// 20 ms here, about ten times a second under a gift burst). The checkpointer
// takes that work off the commit path. Connections open with
// wal_autocheckpoint(0); a goroutine copies the log into the database
// with PASSIVE checkpoints, which run beside writers, and once the log is
// long it catches up with a few more PASSIVE passes and finishes with a
// RESTART checkpoint under txMu, which has only the last few frames left
// to copy, so that the next writer starts the log from the beginning again
// and the file stops growing.

const (
	// checkpointEvery is how often the log is copied into the database.
	checkpointEvery = 100 * time.Millisecond
	// restartFrames is the log length (4 KiB pages) at which the log is
	// restarted: 16 MB, one hash table of SQLite's WAL index.
	restartFrames = 4096
	// restartWaitMS bounds how long the RESTART waits for readers of old
	// snapshots (and so how long it holds txMu); a miss retries next tick.
	restartWaitMS = 10
)

// checkpointer owns the WAL upkeep of one SQLite store.
type checkpointer struct {
	s      *Store
	conn   *sql.Conn
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// restarts counts completed RESTART checkpoints, for tests.
	mu       sync.Mutex
	restarts int
}

// startCheckpointer reserves a connection and runs the upkeep until stop.
func (s *Store) startCheckpointer(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint connection: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWaitMS)); err != nil {
		return errors.Join(fmt.Errorf("checkpoint connection: %w", err), conn.Close())
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &checkpointer{s: s, conn: conn, cancel: cancel}
	s.ckpt = c
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.run(ctx)
	}()
	return nil
}

func (c *checkpointer) run(ctx context.Context) {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.step(ctx); err != nil && ctx.Err() == nil {
			c.s.logger.Warn("sqlite checkpoint failed; the write-ahead log will be copied on the next try", "err", err)
		}
	}
}

// step copies what it can beside the writers, then restarts a long log.
func (c *checkpointer) step(ctx context.Context) error {
	_, frames, _, err := c.checkpoint(ctx, "PASSIVE")
	if err != nil || frames < restartFrames {
		return err
	}
	// Catch up with what was written meanwhile until a pass is quick: the
	// RESTART below then has only a millisecond or so of frames to copy
	// while it holds the writers up.
	for range 4 {
		t := time.Now()
		if _, _, _, err := c.checkpoint(ctx, "PASSIVE"); err != nil {
			return err
		}
		if time.Since(t) < 2*time.Millisecond {
			break
		}
	}
	c.s.txMu.Lock()
	defer c.s.txMu.Unlock()
	busy, _, _, err := c.checkpoint(ctx, "RESTART")
	if err == nil && !busy {
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
	}
	return err
}

// checkpoint runs one wal_checkpoint; busy reports that it could not finish
// (a reader or a writer of another process held it up).
func (c *checkpointer) checkpoint(ctx context.Context, mode string) (busy bool, frames, copied int64, err error) {
	var b int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&b, &frames, &copied); err != nil {
		return false, 0, 0, fmt.Errorf("wal_checkpoint(%s): %w", mode, err)
	}
	return b != 0, frames, copied, nil
}

// stop ends the upkeep and copies the whole log into the database, so a
// closed store is one file again when no other process has it open.
func (c *checkpointer) stop() error {
	c.cancel()
	c.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.s.txMu.Lock()
	_, _, _, err := c.checkpoint(ctx, "TRUNCATE")
	c.s.txMu.Unlock()
	return errors.Join(err, c.conn.Close())
}

func (c *checkpointer) restartCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}
