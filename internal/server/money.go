package server

import (
	"context"
	"errors"
	"strings"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/store"
)

// openMoney builds the money service: the payment providers
// paymentProviders chooses, and the default catalog on a new server (the
// admin replaces it).
func (s *Server) openMoney(ctx context.Context, clock money.StreamClock) error {
	cfg := s.cfg
	ps, err := paymentProviders(cfg.NoSandbox, cfg.Stripe)
	if err != nil {
		return err
	}
	var providers []money.Provider
	if ps.sandbox {
		providers = append(providers, payment.Sandbox{})
	}
	if ps.stripe {
		st := cfg.Stripe
		s.stripe = &st
		providers = append(providers, s.stripe)
	}
	if ps.note != "" {
		cfg.Logger.Warn(ps.note, "component", "money")
	}
	svc, err := money.New(money.Config{Store: s.store, Rooms: s.rooms, Clock: clock, Markers: originMarkers{s.origin},
		Providers: providers, RenewEvery: cfg.RenewEvery, Logger: cfg.Logger.With("component", "money")})
	if err != nil {
		return err
	}
	s.money = svc
	return seedCatalog(ctx, s.store)
}

// providerChoice is which payment providers a server runs, and why one
// asked for is off.
type providerChoice struct {
	sandbox, stripe bool
	note            string
}

// paymentProviders decides the payment providers: the sandbox unless
// turned off, and Stripe when its secret key is given. Stripe needs its
// webhook signing secret, for without it no payment could ever be
// confirmed; a live Stripe key turns the sandbox off, so that nobody buys
// real coins with a test card on a server that takes real money.
func paymentProviders(noSandbox bool, st payment.Stripe) (providerChoice, error) {
	c := providerChoice{sandbox: !noSandbox, stripe: st.SecretKey != ""}
	if c.stripe && st.WebhookSecret == "" {
		return c, errors.New("stripe: a secret key is given without its webhook signing secret (whsec_…, LIVEHOUSE_STRIPE_WEBHOOK_SECRET): Stripe's payments could never be confirmed")
	}
	if c.stripe && c.sandbox && strings.HasPrefix(st.SecretKey, "sk_live_") {
		c.sandbox = false
		c.note = "the sandbox payment provider is off: a live Stripe key is configured, and test cards must not buy real coins"
	}
	if !c.sandbox && !c.stripe {
		return c, errors.New("no payment provider: keep the sandbox or give Stripe keys")
	}
	return c, nil
}

// seedCatalog gives a new server coin packs and gifts to start with.
func seedCatalog(ctx context.Context, st *store.Store) error {
	packs, err := st.CoinPacks(ctx, false)
	if err != nil {
		return err
	}
	if len(packs) == 0 {
		for _, p := range []store.CoinPack{{Name: "Handful", Coins: 100, Price: 99}, {Name: "Pouch", Coins: 550, Price: 499},
			{Name: "Chest", Coins: 1200, Price: 999}, {Name: "Vault", Coins: 6500, Price: 4999}} {
			p.Currency, p.Active = "USD", true
			if _, err := st.CreateCoinPack(ctx, p); err != nil {
				return err
			}
		}
	}
	gifts, err := st.Gifts(ctx, false)
	if err != nil {
		return err
	}
	if len(gifts) == 0 {
		for _, g := range []store.Gift{{Name: "Rose", Image: "/gifts/rose.svg", Price: 10, Tier: 1},
			{Name: "Applause", Image: "/gifts/applause.svg", Price: 50, Tier: 1},
			{Name: "Rocket", Image: "/gifts/rocket.svg", Price: 500, Tier: 2},
			{Name: "Crown", Image: "/gifts/crown.svg", Price: 2500, Tier: 3}} {
			g.Active = true
			if _, err := st.CreateGift(ctx, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// originMarkers marks ad breaks on the ladders this node serves.
type originMarkers struct{ o *hls.Origin }

func (m originMarkers) SetDateRanges(slug string, ranges []hls.DateRange) bool {
	l := m.o.Live(slug)
	if l == nil {
		return false
	}
	l.SetDateRanges(ranges)
	return true
}

// subscriptions answers the chat's subscriber questions from the store.
type subscriptions struct{ st *store.Store }

func (s subscriptions) IsSubscriber(ctx context.Context, channelID, userID string) bool {
	ok, err := s.st.IsSubscriber(ctx, channelID, userID)
	return err == nil && ok
}

// Money returns the money service (tests, benchmarks).
func (s *Server) Money() *money.Service { return s.money }
