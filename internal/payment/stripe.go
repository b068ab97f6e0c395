package payment

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/store"
)

// Stripe sells coin packs through Stripe Checkout: Charge creates a
// Checkout Session and sends the buyer to Stripe's page; Stripe's signed
// webhooks then report the payment, refunds and disputes.
type Stripe struct {
	// SecretKey is the API key (sk_live_… or sk_test_…); WebhookSecret
	// the endpoint's signing secret (whsec_…). Neither is ever logged.
	SecretKey     string
	WebhookSecret string
	// SuccessURL and CancelURL are where Checkout returns the buyer.
	SuccessURL, CancelURL string
	// APIBase defaults to https://api.stripe.com.
	APIBase string
	Client  *http.Client
	// Tolerance bounds a webhook's age (default 5 min, Stripe's own):
	// an older signed payload is a replay.
	Tolerance time.Duration
	Now       func() time.Time
}

// ID names the provider.
func (*Stripe) ID() string { return "stripe" }

// Name is shown to buyers.
func (*Stripe) Name() string { return "Card (Stripe Checkout)" }

func (s *Stripe) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Charge creates a Checkout Session for the order. The order's id is the
// session's client_reference_id and metadata, and the request's
// Idempotency-Key, so a retried charge makes no second session.
func (s *Stripe) Charge(ctx context.Context, o store.Order, _ string) (money.Charge, error) {
	form := url.Values{
		"mode":                {"payment"},
		"client_reference_id": {o.ID},
		"metadata[order_id]":  {o.ID},
		"payment_intent_data[metadata][order_id]":       {o.ID},
		"line_items[0][quantity]":                       {"1"},
		"line_items[0][price_data][currency]":           {strings.ToLower(o.Currency)},
		"line_items[0][price_data][unit_amount]":        {strconv.FormatInt(o.Price, 10)},
		"line_items[0][price_data][product_data][name]": {fmt.Sprintf("%d Livehouse coins", o.Coins)},
		"success_url": {s.SuccessURL},
		"cancel_url":  {s.CancelURL},
	}
	base := s.APIBase
	if base == "" {
		base = "https://api.stripe.com"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/checkout/sessions", strings.NewReader(form.Encode()))
	if err != nil {
		return money.Charge{}, err
	}
	req.SetBasicAuth(s.SecretKey, "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", o.ID)
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return money.Charge{}, fmt.Errorf("stripe: create checkout session: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return money.Charge{}, fmt.Errorf("stripe: read checkout session: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return money.Charge{}, fmt.Errorf("stripe: checkout session refused (%d %s): %s", resp.StatusCode, e.Error.Type, e.Error.Message)
	}
	var cs struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	if err := json.Unmarshal(body, &cs); err != nil || cs.ID == "" || cs.URL == "" {
		return money.Charge{}, errors.New("stripe: checkout session answer without id or url")
	}
	return money.Charge{Status: store.OrderPending, Ref: cs.ID, RedirectURL: cs.URL,
		Message: "finish the payment on Stripe's page; your coins arrive when Stripe confirms it"}, nil
}

// Webhook errors.
var (
	ErrBadSignature = errors.New("stripe webhook: signature does not match")
	ErrStale        = errors.New("stripe webhook: timestamp outside the tolerance (a replayed or delayed delivery)")
)

// VerifySignature checks a Stripe-Signature header ("t=…,v1=…") against
// the payload: HMAC-SHA256 of "t.payload" under the signing secret, in
// constant time, with the timestamp within the tolerance.
func (s *Stripe) VerifySignature(payload []byte, header string) error {
	if s.WebhookSecret == "" {
		return errors.New("stripe webhook: no signing secret configured")
	}
	var ts int64
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("stripe webhook: bad timestamp: %w", ErrBadSignature)
			}
			ts = n
		case "v1":
			b, err := hex.DecodeString(v)
			if err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == 0 || len(sigs) == 0 {
		return fmt.Errorf("stripe webhook: header has no timestamp or v1 signature: %w", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(s.WebhookSecret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte("."))
	mac.Write(payload)
	want := mac.Sum(nil)
	ok := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	tol := s.Tolerance
	if tol <= 0 {
		tol = 5 * time.Minute
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > tol || d < -tol {
		return ErrStale
	}
	return nil
}

// Sign returns a Stripe-Signature header for payload at t, as Stripe
// makes it: for tests and for replaying a delivery by hand.
func Sign(secret string, payload []byte, t time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", t.Unix())
	mac.Write(payload)
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

// ParseEvent verifies and decodes a webhook delivery into what the money
// service acts on.
func (s *Stripe) ParseEvent(payload []byte, header string) (money.ProviderEvent, error) {
	if err := s.VerifySignature(payload, header); err != nil {
		return money.ProviderEvent{}, err
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Object struct {
				ID                string            `json:"id"`
				ClientReferenceID string            `json:"client_reference_id"`
				PaymentStatus     string            `json:"payment_status"`
				PaymentIntent     string            `json:"payment_intent"`
				Metadata          map[string]string `json:"metadata"`
				AmountTotal       int64             `json:"amount_total"`
				Currency          string            `json:"currency"`
				// A charge's amount, and how much of it is refunded so far.
				Amount         int64 `json:"amount"`
				AmountRefunded int64 `json:"amount_refunded"`
				Refunded       bool  `json:"refunded"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return money.ProviderEvent{}, errors.New("stripe webhook: the payload is not a Stripe event")
	}
	obj := ev.Data.Object
	out := money.ProviderEvent{Provider: s.ID(), EventID: ev.ID, Type: ev.Type, Kind: money.EventIgnored}
	orderID := obj.Metadata["order_id"]
	if orderID == "" {
		orderID = obj.ClientReferenceID
	}
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded":
		out.OrderID, out.Ref, out.Amount, out.Currency = orderID, obj.PaymentIntent, obj.AmountTotal, strings.ToUpper(obj.Currency)
		if obj.PaymentStatus == "paid" || obj.PaymentStatus == "no_payment_required" {
			out.Kind = money.EventPaid
		}
	case "checkout.session.async_payment_failed", "checkout.session.expired":
		out.OrderID, out.Kind = orderID, money.EventFailed
	case "charge.refunded":
		// Sent for every refund, partial ones too; only a charge refunded
		// in full reverses its order (docs/MONEY.md).
		out.OrderID, out.Ref, out.Kind = orderID, obj.PaymentIntent, money.EventPartialRefund
		out.Amount, out.Currency = obj.AmountRefunded, strings.ToUpper(obj.Currency)
		if obj.Refunded || (obj.Amount > 0 && obj.AmountRefunded >= obj.Amount) {
			out.Kind = money.EventRefunded
		}
	case "charge.dispute.created":
		out.OrderID, out.Ref, out.Kind = orderID, obj.PaymentIntent, money.EventChargedBack
	}
	return out, nil
}
