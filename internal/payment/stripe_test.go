package payment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/money"
)

const secret = "whsec_test_secret"

// sig computes the header independently of Sign.
func sig(key string, ts int64, payload string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(fmt.Sprintf("%d.%s", ts, payload)))
	return hex.EncodeToString(m.Sum(nil))
}

func TestStripeWebhookSignatures(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := &Stripe{WebhookSecret: secret, Now: func() time.Time { return now }}
	body := `{"id":"evt_1","type":"checkout.session.completed"}`
	ts := now.Unix()
	good := fmt.Sprintf("t=%d,v1=%s", ts, sig(secret, ts, body))
	if Sign(secret, []byte(body), now) != good {
		t.Fatalf("Sign = %q, want %q", Sign(secret, []byte(body), now), good)
	}
	tests := []struct {
		name, payload, header string
		want                  error // nil: accepted
	}{
		{"valid", body, good, nil},
		{"rotated secret: one of two v1 matches", body, fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, sig("whsec_old", ts, body), sig(secret, ts, body)), nil},
		{"with a v0 entry", body, good + ",v0=abc", nil},
		{"wrong secret", body, fmt.Sprintf("t=%d,v1=%s", ts, sig("whsec_other", ts, body)), ErrBadSignature},
		{"tampered payload", strings.Replace(body, "evt_1", "evt_2", 1), good, ErrBadSignature},
		{"timestamp changed after signing", body, fmt.Sprintf("t=%d,v1=%s", ts+1, sig(secret, ts, body)), ErrBadSignature},
		{"missing header", body, "", ErrBadSignature},
		{"no timestamp", body, "v1=" + sig(secret, ts, body), ErrBadSignature},
		{"no v1", body, fmt.Sprintf("t=%d", ts), ErrBadSignature},
		{"garbage timestamp", body, "t=soon,v1=" + sig(secret, ts, body), ErrBadSignature},
		{"non-hex signature", body, fmt.Sprintf("t=%d,v1=zzzz", ts), ErrBadSignature},
		{"garbage", body, ",,,=,t,,v1", ErrBadSignature},
		{"stale (6 min old)", body, fmt.Sprintf("t=%d,v1=%s", ts-360, sig(secret, ts-360, body)), ErrStale},
		{"from the future (6 min)", body, fmt.Sprintf("t=%d,v1=%s", ts+360, sig(secret, ts+360, body)), ErrStale},
	}
	for _, tt := range tests {
		err := s.VerifySignature([]byte(tt.payload), tt.header)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if err := (&Stripe{}).VerifySignature([]byte(body), good); err == nil {
		t.Error("a provider without a signing secret accepted a webhook")
	}
	if _, err := s.ParseEvent([]byte("not json"), fmt.Sprintf("t=%d,v1=%s", ts, sig(secret, ts, "not json"))); err == nil {
		t.Error("a signed non-JSON payload parsed")
	}
}

// FuzzStripeSignature: no header makes verification panic or accept a
// payload it does not sign.
func FuzzStripeSignature(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	s := &Stripe{WebhookSecret: secret, Now: func() time.Time { return now }}
	f.Add("{}", Sign(secret, []byte("{}"), now))
	f.Add("{}", "t=1,v1=00")
	f.Fuzz(func(t *testing.T, payload, header string) {
		if s.VerifySignature([]byte(payload), header) == nil {
			// Accepted: the header must carry a signature of payload at a
			// time within the tolerance.
			ok := false
			for d := int64(-300); d <= 300; d++ {
				if strings.Contains(strings.ToLower(header), sig(secret, now.Unix()+d, payload)) {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("accepted %q for %q", header, payload)
			}
		}
	})
}

// charge.refunded comes for every refund of a charge; only one refunded
// in full reverses the order, a partial one is for an admin to review.
func TestStripeChargeRefundedReversesOnlyAFullRefund(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := &Stripe{WebhookSecret: secret, Now: func() time.Time { return now }}
	for _, tt := range []struct {
		name, object string
		kind         string
		amount       int64
	}{
		{"partial", `{"id":"ch_1","payment_intent":"pi_1","amount":499,"amount_refunded":100,"refunded":false,"currency":"usd"}`, money.EventPartialRefund, 100},
		{"full", `{"id":"ch_1","payment_intent":"pi_1","amount":499,"amount_refunded":499,"refunded":true,"currency":"usd"}`, money.EventRefunded, 499},
		{"the last partial refund completes it", `{"id":"ch_1","payment_intent":"pi_1","amount":499,"amount_refunded":499,"currency":"usd"}`, money.EventRefunded, 499},
		{"no amounts", `{"id":"ch_1","payment_intent":"pi_1","currency":"usd"}`, money.EventPartialRefund, 0},
	} {
		body := []byte(`{"id":"evt_r","type":"charge.refunded","data":{"object":` + tt.object + `}}`)
		ev, err := s.ParseEvent(body, Sign(secret, body, now))
		if err != nil || ev.Kind != tt.kind || ev.Amount != tt.amount || ev.Ref != "pi_1" || ev.Currency != "USD" {
			t.Errorf("%s: %+v, %v; want kind %s, amount %d", tt.name, ev, err, tt.kind, tt.amount)
		}
	}
}
