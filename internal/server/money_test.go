package server

import (
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/payment"
)

func TestPaymentProvidersKeepTheSandboxAwayFromLiveStripeAndNeedAWebhookSecret(t *testing.T) {
	for _, tt := range []struct {
		name            string
		noSandbox       bool
		stripe          payment.Stripe
		sandbox, strip  bool
		noted, mustFail bool
	}{
		{name: "default: the sandbox alone", sandbox: true},
		{name: "sandbox turned off, no Stripe", noSandbox: true, mustFail: true},
		{name: "test Stripe beside the sandbox", stripe: payment.Stripe{SecretKey: "sk_test_1", WebhookSecret: "whsec_1"}, sandbox: true, strip: true},
		{name: "live Stripe turns the sandbox off", stripe: payment.Stripe{SecretKey: "sk_live_1", WebhookSecret: "whsec_1"}, strip: true, noted: true},
		{name: "live Stripe, sandbox off already", noSandbox: true, stripe: payment.Stripe{SecretKey: "sk_live_1", WebhookSecret: "whsec_1"}, strip: true},
		{name: "Stripe without a webhook secret", stripe: payment.Stripe{SecretKey: "sk_test_1"}, mustFail: true},
		{name: "live Stripe without a webhook secret", stripe: payment.Stripe{SecretKey: "sk_live_1"}, mustFail: true},
	} {
		c, err := paymentProviders(tt.noSandbox, tt.stripe)
		if tt.mustFail {
			if err == nil {
				t.Errorf("%s: started with %+v, want an error", tt.name, c)
			}
			continue
		}
		if err != nil || c.sandbox != tt.sandbox || c.stripe != tt.strip || (c.note != "") != tt.noted {
			t.Errorf("%s: %+v, %v; want sandbox %v, stripe %v, noted %v", tt.name, c, err, tt.sandbox, tt.strip, tt.noted)
		}
	}
	_, err := paymentProviders(false, payment.Stripe{SecretKey: "sk_live_secret"})
	if err == nil || !strings.Contains(err.Error(), "webhook") || strings.Contains(err.Error(), "sk_live_secret") {
		t.Errorf("error without a webhook secret = %v: want it to name the webhook secret and never the key", err)
	}
}
