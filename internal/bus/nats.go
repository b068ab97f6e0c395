package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// NATS is a bus over a NATS server, for deployments of several nodes.
type NATS struct {
	conn *nats.Conn
	log  *slog.Logger
}

// DialNATS connects to the NATS server at url (nats://host:4222). It
// reconnects on its own when the connection drops; messages published
// while disconnected are buffered by the client, up to its limit.
func DialNATS(ctx context.Context, url string, name string, logger *slog.Logger) (*NATS, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			logger.Warn("nats disconnected; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) { logger.Info("nats reconnected") }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			logger.Warn("nats error", "subject", subj, "err", err)
		}),
	)
	if err != nil {
		// nats' errors do not carry credentials from the URL.
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	return &NATS{conn: nc, log: logger}, nil
}

// Publish sends data on subject.
func (b *NATS) Publish(_ context.Context, subject string, data []byte) error {
	if err := b.conn.Publish(subject, data); err != nil {
		return fmt.Errorf("nats publish %s: %w", subject, err)
	}
	return nil
}

// Subscribe calls h, on one goroutine per subscription and in order, for
// every message on subject until the returned function is called.
func (b *NATS) Subscribe(subject string, h Handler) (func(), error) {
	sub, err := b.conn.Subscribe(subject, func(m *nats.Msg) { h(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("nats subscribe %s: %w", subject, err)
	}
	// Chat bursts must not hit the client's default pending limits.
	if err := sub.SetPendingLimits(1<<20, 512<<20); err != nil {
		return nil, errors.Join(fmt.Errorf("nats subscribe %s: %w", subject, err), sub.Unsubscribe())
	}
	// Return once the server has the interest, so that what is published
	// from now on arrives (a subscriber reads the store after this).
	if err := b.conn.FlushTimeout(2 * time.Second); err != nil {
		b.log.Warn("nats subscribe not confirmed; the store fills any gap", "subject", subject, "err", err)
	}
	return func() {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.log.Debug("nats unsubscribe", "subject", subject, "err", err)
		}
	}, nil
}

// Flush waits until the server has processed everything published so far
// (at most 5 s when ctx has no deadline).
func (b *NATS) Flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	return b.conn.FlushWithContext(ctx)
}

// Close drains subscriptions and closes the connection.
func (b *NATS) Close() error {
	if err := b.conn.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.conn.Close()
		return fmt.Errorf("nats close: %w", err)
	}
	return nil
}
