package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// SignatureHeader carries "sha256=" + hex HMAC-SHA256 of the body, keyed by
// the webhook's secret.
const SignatureHeader = "X-Livehouse-Signature"

// Sign returns the SignatureHeader value of body for secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookStore is what the deliverer needs from the store.
type WebhookStore interface {
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.DueDelivery, error)
	ClaimDelivery(ctx context.Context, d store.Delivery, leaseUntil time.Time) (bool, error)
	RecordDeliveryAttempt(ctx context.Context, id string, a store.DeliveryAttempt) error
	PruneDeliveries(ctx context.Context, cutoff time.Time) (int, error)
}

// WebhooksConfig builds Webhooks.
type WebhooksConfig struct {
	Store WebhookStore
	// Timeout bounds one attempt, from dial to the end of the response
	// headers; default 10 s.
	Timeout time.Duration
	// Backoff is the wait before each retry; its length is the number of
	// retries. Default 10 s, 1 min, 5 min, 30 min, 2 h.
	Backoff []time.Duration
	// Poll is how often due deliveries are looked for; default 2 s.
	Poll time.Duration
	// AllowPrivate lets webhooks reach loopback, private and link-local
	// addresses. Off by default, so that channel owners cannot make the
	// server call into its own network.
	AllowPrivate bool
	// Keep is how long finished deliveries are kept; default 7 days.
	Keep   time.Duration
	Logger *slog.Logger
}

// Webhooks delivers queued webhook calls: signed POSTs with a timeout,
// retried with backoff on failure, one at a time per process. The queue is
// in the store, so deliveries survive restarts, and claims keep several
// processes from sending one delivery twice.
type Webhooks struct {
	cfg    WebhooksConfig
	log    *slog.Logger
	client *http.Client
	wake   chan struct{}
	now    func() time.Time
}

// NewWebhooks returns a deliverer; call Run.
func NewWebhooks(cfg WebhooksConfig) *Webhooks {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 7 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Webhooks{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), now: time.Now}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivate {
		dialer.Control = refusePrivate
	}
	w.client = &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would hide the address check
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConns:          4,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w
}

// errPrivateAddress refuses webhook targets inside the server's network.
var errPrivateAddress = errors.New("webhook address is loopback, private or link-local; refused")

// refusePrivate checks the address actually dialled, after DNS resolution,
// so a public name pointing inside is refused too.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook address %q: %w", address, err)
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() || cgnat.Contains(a) {
		return errPrivateAddress
	}
	return nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Wake makes Run look for due deliveries now.
func (w *Webhooks) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. Deliveries in flight when ctx ends are
// retried later (their claim expires).
func (w *Webhooks) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		w.deliverDue(ctx)
		if now := w.now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if _, err := w.cfg.Store.PruneDeliveries(ctx, now.Add(-w.cfg.Keep)); err != nil && ctx.Err() == nil {
				w.log.Warn("cannot prune webhook deliveries", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

func (w *Webhooks) deliverDue(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := w.cfg.Store.DueDeliveries(ctx, w.now(), 20)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("cannot read due webhook deliveries", "err", err)
			}
			return
		}
		if len(due) == 0 {
			return
		}
		for _, d := range due {
			w.attempt(ctx, d)
		}
	}
}

// attempt sends d once and records the outcome.
func (w *Webhooks) attempt(ctx context.Context, d store.DueDelivery) {
	lease := w.now().Add(2*w.cfg.Timeout + 5*time.Second)
	ok, err := w.cfg.Store.ClaimDelivery(ctx, d.Delivery, lease)
	if err != nil || !ok {
		return
	}
	status, sendErr := w.send(ctx, d)
	if ctx.Err() != nil {
		return // shutting down: the claim expires and the delivery is retried
	}
	a := store.DeliveryAttempt{Status: status, Delivered: sendErr == nil}
	log := w.log.With("webhook", d.WebhookID, "delivery", d.ID, "event", d.Event, "attempt", d.Attempts+1)
	if sendErr != nil {
		a.Error = sendErr.Error()
		if d.Attempts < len(w.cfg.Backoff) {
			a.RetryAt = w.now().Add(w.cfg.Backoff[d.Attempts])
			log.Info("webhook delivery failed; will retry", "status", status, "err", sendErr, "retry_at", a.RetryAt)
		} else {
			log.Warn("webhook delivery failed for good", "status", status, "err", sendErr)
		}
	} else {
		log.Info("webhook delivered", "status", status)
	}
	if err := w.cfg.Store.RecordDeliveryAttempt(ctx, d.ID, a); err != nil {
		log.Warn("cannot record webhook delivery attempt", "err", err)
	}
}

// send POSTs the payload and returns the status; any non-2xx is an error.
// Errors never contain the URL, which may itself be a secret.
func (w *Webhooks) send(ctx context.Context, d store.DueDelivery) (int, error) {
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, strings.NewReader(d.Payload))
	if err != nil {
		return 0, errors.New("invalid webhook URL")
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Livehouse-Webhook/1")
	h.Set("X-Livehouse-Event", d.Event)
	h.Set("X-Livehouse-Delivery", d.ID)
	h.Set(SignatureHeader, Sign(d.Secret, body))
	res, err := w.client.Do(req)
	if err != nil {
		return 0, errors.New(redactURL(err))
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("receiver answered %d", res.StatusCode)
	}
	return res.StatusCode, nil
}

// redactURL keeps the cause of an *url.Error and drops the URL.
func redactURL(err error) string {
	if errors.Is(err, errPrivateAddress) {
		return errPrivateAddress.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return "request failed"
}
