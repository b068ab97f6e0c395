package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Webhook events.
const (
	EventLive    = "live"
	EventOffline = "offline"
)

// WebhookEvents lists the events a webhook can subscribe to.
var webhookEvents = []string{EventLive, EventOffline}

// MaxWebhooks caps the webhooks of one channel; MaxWebhookURL their URL length.
const (
	MaxWebhooks   = 5
	MaxWebhookURL = 2000
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Webhook is a channel's subscription to its events. It has no secret field;
// the secret is shown once by CreateWebhook and read for signing only through
// DueDeliveries.
type Webhook struct {
	ID        string
	ChannelID string
	URL       string
	Events    []string
	CreatedAt time.Time
}

// CreateWebhook subscribes url to the channel's events and returns the
// webhook with its signing secret (shown only here). The URL must be
// absolute http(s) without credentials. A channel with MaxWebhooks already
// gives ErrLimit.
func (s *Store) CreateWebhook(ctx context.Context, channelID, rawURL string, events []string) (Webhook, string, error) {
	if err := checkWebhookURL(rawURL); err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", err)
	}
	evs, err := normalizeEvents(events)
	if err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", err)
	}
	now := fromMillis(toMillis(s.now()))
	w := Webhook{ID: newID("wh"), ChannelID: channelID, URL: rawURL, Events: evs, CreatedAt: now}
	secret := "whsec_" + randomText(32)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE channel_id = $1`, channelID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxWebhooks {
			return fmt.Errorf("the channel has %d webhooks, the most allowed; delete one first: %w", n, ErrLimit)
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO webhooks (id, channel_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			w.ID, channelID, w.URL, strings.Join(evs, ","), secret, toMillis(now))
		return err
	})
	if isForeignKeyViolation(err) {
		return Webhook{}, "", fmt.Errorf("create webhook: channel %q: %w", channelID, ErrNotFound)
	}
	if err != nil {
		return Webhook{}, "", fmt.Errorf("create webhook: %w", err)
	}
	s.logger.Info("webhook created", "channel_id", channelID, "webhook_id", w.ID)
	return w, secret, nil
}

func checkWebhookURL(raw string) error {
	if len(raw) > MaxWebhookURL {
		return fieldErr("url", "is %d bytes long, at most %d allowed", len(raw), MaxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return fieldErr("url", "want an absolute http:// or https:// URL")
	}
	if u.User != nil {
		return fieldErr("url", "must not contain a user name or password")
	}
	if u.Fragment != "" {
		return fieldErr("url", "must not contain a #fragment")
	}
	return nil
}

func normalizeEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, fieldErr("events", "name at least one of %s", strings.Join(webhookEvents, ", "))
	}
	var out []string
	for _, e := range events {
		if !slices.Contains(webhookEvents, e) {
			return nil, fieldErr("events", "%q is not an event; want %s", e, strings.Join(webhookEvents, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Webhooks returns the channel's webhooks, oldest first.
func (s *Store) Webhooks(ctx context.Context, channelID string) ([]Webhook, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT id, channel_id, url, events, created_at FROM webhooks WHERE channel_id = $1 ORDER BY created_at, id`, channelID)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		var w Webhook
		var events string
		var created int64
		if err := rows.Scan(&w.ID, &w.ChannelID, &w.URL, &events, &created); err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		w.Events, w.CreatedAt = strings.Split(events, ","), fromMillis(created)
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWebhook removes one of the channel's webhooks and its deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, channelID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE id = $1 AND channel_id = $2`, id, channelID)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("delete webhook %q: %w", id, err)
	}
	return nil
}

// EnqueueDeliveries queues one delivery of event for every webhook of the
// channel subscribed to it; payload makes each body from the delivery id.
// It returns how many were queued.
func (s *Store) EnqueueDeliveries(ctx context.Context, channelID, event string, payload func(deliveryID string) []byte) (int, error) {
	hooks, err := s.Webhooks(ctx, channelID)
	if err != nil {
		return 0, err
	}
	now := toMillis(s.now())
	n := 0
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for _, w := range hooks {
			if !slices.Contains(w.Events, event) {
				continue
			}
			id := newID("dl")
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO webhook_deliveries (id, webhook_id, event, payload, state, attempts, next_attempt_at,
				   created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6, $6)`,
				id, w.ID, event, string(payload(id)), DeliveryPending, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue %s deliveries of %q: %w", event, channelID, err)
	}
	return n, nil
}

// Delivery is one queued or attempted webhook call.
type Delivery struct {
	ID            string
	WebhookID     string
	Event         string
	Payload       string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LastStatus    int // HTTP status of the last attempt, 0 if none arrived
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DueDelivery is a pending delivery with what is needed to send it.
type DueDelivery struct {
	Delivery
	URL    string
	Secret string
}

const deliveryColumns = `d.id, d.webhook_id, d.event, d.payload, d.state, d.attempts, d.next_attempt_at,
 d.last_status, d.last_error, d.created_at, d.updated_at`

func scanDelivery(r rowScanner, extra ...any) (Delivery, error) {
	var d Delivery
	var next, created, updated int64
	dest := []any{&d.ID, &d.WebhookID, &d.Event, &d.Payload, &d.State, &d.Attempts, &next,
		&d.LastStatus, &d.LastError, &created, &updated}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return Delivery{}, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromMillis(next), fromMillis(created), fromMillis(updated)
	return d, nil
}

// DueDeliveries returns up to limit pending deliveries whose next attempt
// is due at now, oldest first.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]DueDelivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryColumns+`, w.url, w.secret
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.state = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT $2`,
		toMillis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	defer rows.Close()
	var out []DueDelivery
	for rows.Next() {
		var dd DueDelivery
		d, err := scanDelivery(rows, &dd.URL, &dd.Secret)
		if err != nil {
			return nil, fmt.Errorf("due deliveries: %w", err)
		}
		dd.Delivery = d
		out = append(out, dd)
	}
	return out, rows.Err()
}

// ClaimDelivery takes a due delivery for one attempt by moving its next
// attempt to leaseUntil, so that no other worker sends it meanwhile. It
// reports false if another worker claimed it first.
func (s *Store) ClaimDelivery(ctx context.Context, d Delivery, leaseUntil time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = $1, updated_at = $2
		WHERE id = $3 AND state = 'pending' AND next_attempt_at = $4 AND attempts = $5`,
		toMillis(leaseUntil), toMillis(s.now()), d.ID, toMillis(d.NextAttemptAt), d.Attempts)
	if err != nil {
		return false, fmt.Errorf("claim delivery %q: %w", d.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeliveryAttempt is the outcome of one attempt.
type DeliveryAttempt struct {
	Status    int    // HTTP status, 0 if no response
	Error     string // why it failed, "" on success
	Delivered bool
	// RetryAt is when to try again; zero gives up (state failed).
	RetryAt time.Time
}

// RecordDeliveryAttempt stores the outcome of an attempt.
func (s *Store) RecordDeliveryAttempt(ctx context.Context, id string, a DeliveryAttempt) error {
	state, next := DeliveryPending, toMillis(a.RetryAt)
	switch {
	case a.Delivered:
		state, next = DeliveryDelivered, 0
	case a.RetryAt.IsZero():
		state, next = DeliveryFailed, 0
	}
	if len(a.Error) > 500 {
		a.Error = a.Error[:500]
	}
	res, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1,
		next_attempt_at = $2, last_status = $3, last_error = $4, updated_at = $5 WHERE id = $6`,
		state, next, a.Status, a.Error, toMillis(s.now()), id)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("record delivery attempt %q: %w", id, err)
	}
	return nil
}

// Deliveries returns the webhook's latest deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]Delivery, error) {
	if limit < 1 || limit > MaxPageLimit {
		return nil, fmt.Errorf("deliveries: limit %d: %w", limit, ErrInvalid)
	}
	ds, _, err := s.DeliveriesPage(ctx, webhookID, Page{Limit: limit})
	return ds, err
}

// DeliveriesPage returns the webhook's deliveries newest first, a page at a
// time, with the cursor of the next page ("" after the last).
func (s *Store) DeliveriesPage(ctx context.Context, webhookID string, page Page) ([]Delivery, string, error) {
	return newestFirst(ctx, s.db, "deliveries", `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.webhook_id = $1`,
		"d.created_at", "d.id", webhookID, page,
		func(r rowScanner) (Delivery, error) { return scanDelivery(r) },
		func(d Delivery) timeCursor { return timeCursor{T: toMillis(d.CreatedAt), ID: d.ID} })
}

// PruneDeliveries deletes finished deliveries last updated before cutoff.
func (s *Store) PruneDeliveries(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE state <> 'pending' AND updated_at < $1`,
		toMillis(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
