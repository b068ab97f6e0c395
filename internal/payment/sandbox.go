// Package payment holds the payment providers that sell coin packs: a
// built-in sandbox with test cards for self-hosters and tests, and Stripe
// (Checkout Sessions, with signed webhooks). The money service defines
// the Provider interface they satisfy.
package payment

import (
	"context"
	"crypto/subtle"
	"strings"

	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/store"
)

// Sandbox test cards.
const (
	CardSucceeds    = "4242424242424242"
	CardDeclined    = "4000000000000002"
	CardNeedsAction = "4000002500003155"
	// ConfirmCode finishes a card that needs confirmation.
	ConfirmCode = "123456"
)

// TestCard is a sandbox card and what it does.
type TestCard struct {
	Number  string `json:"number"`
	Outcome string `json:"outcome"`
}

// Sandbox is a provider that moves no real money: cards behave by
// number. It is on by default so a fresh server can sell coins.
type Sandbox struct{}

// ID names the provider.
func (Sandbox) ID() string { return "sandbox" }

// Name is shown to buyers.
func (Sandbox) Name() string { return "Sandbox (test cards, no real money)" }

// TestCards lists the cards the sandbox knows.
func (Sandbox) TestCards() []TestCard {
	return []TestCard{{CardSucceeds, "succeeds"}, {CardDeclined, "declined"}, {CardNeedsAction, "needs confirmation (code " + ConfirmCode + ")"}}
}

// Charge settles at once by card number.
func (Sandbox) Charge(_ context.Context, o store.Order, card string) (money.Charge, error) {
	card = strings.ReplaceAll(strings.ReplaceAll(card, " ", ""), "-", "")
	ref := "sbx_" + o.ID
	switch card {
	case CardSucceeds:
		return money.Charge{Status: store.OrderPaid, Ref: ref}, nil
	case CardNeedsAction:
		return money.Charge{Status: store.OrderRequiresAction, Ref: ref,
			Message: "your bank asks you to confirm this payment: enter the code " + ConfirmCode}, nil
	case CardDeclined:
		return money.Charge{Status: store.OrderDeclined, Ref: ref, Message: "the card was declined; try another card"}, nil
	case "":
		return money.Charge{Status: store.OrderDeclined, Message: "enter a card number (sandbox test cards: " + CardSucceeds + ")"}, nil
	}
	return money.Charge{Status: store.OrderDeclined, Ref: ref,
		Message: "the sandbox accepts only its test cards, such as " + CardSucceeds + "; no real card is charged here"}, nil
}

// Confirm finishes a card that needed confirmation.
func (Sandbox) Confirm(_ context.Context, o store.Order, code string) (money.Charge, error) {
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(code)), []byte(ConfirmCode)) == 1 {
		return money.Charge{Status: store.OrderPaid, Ref: "sbx_" + o.ID}, nil
	}
	return money.Charge{Status: store.OrderDeclined, Message: "the confirmation code is wrong; the payment was declined"}, nil
}
