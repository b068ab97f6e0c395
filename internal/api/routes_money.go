package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/store"
)

// MoneyStore is what the money endpoints read directly.
type MoneyStore interface {
	CoinPacks(ctx ctxT, activeOnly bool) ([]store.CoinPack, error)
	CreateCoinPack(ctx ctxT, p store.CoinPack) (store.CoinPack, error)
	SetCoinPackActive(ctx ctxT, id string, active bool) error
	Gifts(ctx ctxT, activeOnly bool) ([]store.Gift, error)
	CreateGift(ctx ctxT, g store.Gift) (store.Gift, error)
	SetGiftActive(ctx ctxT, id string, active bool) error
	OrderByID(ctx ctxT, id string) (store.Order, error)
	Orders(ctx ctxT, status, userID string, limit int) ([]store.Order, error)
	Txns(ctx ctxT, f store.TxnFilter) ([]store.Txn, string, error)
	LedgerAccounts(ctx ctxT, kind string, limit int) ([]store.LedgerAccount, error)
	VerifyLedger(ctx ctxT) ([]store.Breach, error)
	LedgerCounts(ctx ctxT) (store.LedgerStats, error)
	GiftLeaderboard(ctx ctxT, channelID, broadcastID string, since time.Time, limit int) ([]store.Gifter, error)
	TierPrices(ctx ctxT, channelID string) ([3]int64, error)
	SetTierPrices(ctx ctxT, channelID string, prices [3]int64) error
	SubscriptionOf(ctx ctxT, channelID, userID string) (store.Subscription, error)
	SubscriptionsOf(ctx ctxT, userID string) ([]store.Subscription, error)
	IsSubscriber(ctx ctxT, channelID, userID string) (bool, error)
	AdCreatives(ctx ctxT, activeOnly bool) ([]store.AdCreative, error)
	CreateAdCreative(ctx ctxT, c store.AdCreative) (store.AdCreative, error)
	SetAdCreativeActive(ctx ctxT, id string, active bool) error
	AdBreaks(ctx ctxT, channelID string, limit int) ([]store.AdBreak, error)
	AdBreakByID(ctx ctxT, id string) (store.AdBreak, error)
	Payouts(ctx ctxT, channelID, status string, limit int) ([]store.Payout, error)
	ChannelByID(ctx ctxT, id string) (store.Channel, error)
	SetEmoteSubscriberOnly(ctx ctxT, channelID, name string, on bool) error
}

// WebhookParser verifies and decodes a payment provider's webhook.
type WebhookParser interface {
	ParseEvent(payload []byte, header string) (money.ProviderEvent, error)
}

var idemKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,128}$`)

// idemKey reads the required Idempotency-Key header.
func idemKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", &Error{Status: http.StatusBadRequest, Code: "idempotency_key_required",
			Message: "send an Idempotency-Key header (8-128 characters A-Z a-z 0-9 _ -), new for each purchase, gift or tip, the same when retrying one"}
	}
	if !idemKeyRE.MatchString(k) {
		return "", &Error{Status: http.StatusBadRequest, Code: "validation", Field: "Idempotency-Key",
			Message: "Idempotency-Key must be 8-128 characters from A-Z, a-z, 0-9, '_' and '-'"}
	}
	return k, nil
}

// moneyLimit applies the per-account rate limit of money requests.
func (a *API) moneyLimit(r *http.Request) error {
	p := principal(r)
	if d, ok := a.money.Take(p.User.ID); !ok {
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many money requests from your account; wait a moment", RetryAfter: d}
	}
	return nil
}

// moneyReady answers 503 when the server runs without the money service.
func (a *API) moneyReady() error {
	if a.cfg.Money == nil || a.cfg.MoneyStore == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "payments are not enabled on this server"}
	}
	return nil
}

func (a *API) spender(r *http.Request) money.Spender {
	p := principal(r)
	return money.Spender{User: p.User, IsAdmin: p.User.Role == store.RoleAdmin, IP: a.clientKey(r)}
}

// writeIdempotent answers 201 for a first request, 200 with
// Idempotent-Replayed for a replay.
func writeIdempotent(w http.ResponseWriter, replayed bool, v any) {
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, v)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// ---- Coins and payments ----

// PackView is a coin pack on sale.
type PackView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Coins    int64  `json:"coins"`
	Price    int64  `json:"price"`
	Currency string `json:"currency"`
	Active   bool   `json:"active"`
}

func packView(p store.CoinPack) PackView {
	return PackView{ID: p.ID, Name: p.Name, Coins: p.Coins, Price: p.Price, Currency: p.Currency, Active: p.Active}
}

func (a *API) coinPacks(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ps, err := a.cfg.MoneyStore.CoinPacks(r.Context(), true)
	if err != nil {
		return err
	}
	out := make([]PackView, len(ps))
	for i, p := range ps {
		out[i] = packView(p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) paymentProviders(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	type pv struct {
		ID        string             `json:"id"`
		Name      string             `json:"name"`
		TestCards []payment.TestCard `json:"test_cards,omitempty"`
	}
	out := []pv{}
	for _, p := range a.cfg.Money.Providers() {
		v := pv{ID: p.ID()}
		if n, ok := p.(interface{ Name() string }); ok {
			v.Name = n.Name()
		}
		if s, ok := p.(payment.Sandbox); ok {
			v.TestCards = s.TestCards()
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
	return nil
}

func (a *API) wallet(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	v, err := a.cfg.Money.Wallet(r.Context(), principal(r).User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// TxnView is a ledger transaction from one account's side.
type TxnView struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Amount    int64          `json:"amount"`
	Channel   string         `json:"channel"`
	CreatedAt time.Time      `json:"created_at"`
	Memo      map[string]any `json:"memo"`
}

func (a *API) walletTxns(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	acct := money.WalletAccountID(principal(r).User.ID)
	ts, next, err := a.cfg.MoneyStore.Txns(r.Context(), store.TxnFilter{AccountID: acct, After: r.URL.Query().Get("cursor"), Limit: 50})
	if err != nil {
		return err
	}
	out := make([]TxnView, 0, len(ts))
	slugs := map[string]string{}
	for _, t := range ts {
		v := TxnView{ID: t.ID, Kind: t.Kind, CreatedAt: t.CreatedAt, Memo: decodeMemo(t.Memo)}
		for _, e := range t.Entries {
			if e.Account.ID == acct {
				v.Amount = e.Amount
			}
		}
		if t.ChannelID != "" {
			if _, ok := slugs[t.ChannelID]; !ok {
				if ch, err := a.cfg.MoneyStore.ChannelByID(r.Context(), t.ChannelID); err == nil {
					slugs[t.ChannelID] = ch.Slug
				}
			}
			v.Channel = slugs[t.ChannelID]
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, page[TxnView]{Items: out, NextCursor: next})
	return nil
}

// OrderView is a coin purchase.
type OrderView struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	PackID      string    `json:"pack_id"`
	Coins       int64     `json:"coins"`
	Price       int64     `json:"price"`
	Currency    string    `json:"currency"`
	Provider    string    `json:"provider"`
	Message     string    `json:"message"`
	CheckoutURL string    `json:"checkout_url,omitempty"`
	Balance     int64     `json:"balance"`
	UserID      string    `json:"user_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func orderView(res money.OrderResult) OrderView {
	o := res.Order
	return OrderView{ID: o.ID, Status: o.Status, PackID: o.PackID, Coins: o.Coins, Price: o.Price, Currency: o.Currency,
		Provider: o.Provider, Message: res.Message, CheckoutURL: res.RedirectURL, Balance: res.Balance, CreatedAt: o.CreatedAt}
}

func (a *API) createOrder(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	var in struct {
		PackID   string `json:"pack_id"`
		Provider string `json:"provider"`
		Card     string `json:"card"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	if in.Provider == "" {
		in.Provider = "sandbox"
	}
	res, err := a.cfg.Money.Buy(r.Context(), money.BuyRequest{UserID: principal(r).User.ID, PackID: in.PackID, Provider: in.Provider, Card: in.Card, IdemKey: key})
	if err != nil {
		return err
	}
	writeIdempotent(w, res.Replayed, orderView(res))
	return nil
}

func (a *API) confirmOrder(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	res, err := a.cfg.Money.Confirm(r.Context(), principal(r).User.ID, r.PathValue("id"), in.Code, key)
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusOK, orderView(res))
	return nil
}

func (a *API) getOrder(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	o, err := a.cfg.MoneyStore.OrderByID(r.Context(), r.PathValue("id"))
	if err != nil || o.UserID != principal(r).User.ID {
		return notFound("no such order")
	}
	wv, err := a.cfg.Money.Wallet(r.Context(), o.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orderView(money.OrderResult{Order: o, Balance: wv.Balance, Message: o.Detail}))
	return nil
}

// stripeWebhook takes Stripe's signed events. It needs no session or CSRF
// token: the signature is the authentication. Forged and stale
// (replayed) deliveries get 400; a redelivered event moves nothing.
func (a *API) stripeWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	if a.cfg.StripeWebhook == nil {
		return notFound("the Stripe provider is not configured on this server")
	}
	body, err := readAll(r)
	if err != nil {
		return err
	}
	ev, err := a.cfg.StripeWebhook.ParseEvent(body, r.Header.Get("Stripe-Signature"))
	if err != nil {
		a.log.Warn("stripe webhook refused", "err", err, "remote", a.clientKey(r))
		return &Error{Status: http.StatusBadRequest, Code: "bad_signature", Message: err.Error()}
	}
	out, err := a.cfg.Money.HandleEvent(r.Context(), ev)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "duplicate": out.Duplicate, "action": out.Action})
	return nil
}

// ---- Gifts and tips ----

// GiftView is a catalog gift.
type GiftView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Image  string `json:"image"`
	Price  int64  `json:"price"`
	Tier   int    `json:"tier"`
	Active bool   `json:"active"`
}

func giftView(g store.Gift) GiftView {
	return GiftView{ID: g.ID, Name: g.Name, Image: g.Image, Price: g.Price, Tier: g.Tier, Active: g.Active}
}

func (a *API) gifts(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	gs, err := a.cfg.MoneyStore.Gifts(r.Context(), true)
	if err != nil {
		return err
	}
	out := make([]GiftView, len(gs))
	for i, g := range gs {
		out[i] = giftView(g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) sendGift(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	var in struct {
		GiftID string `json:"gift_id"`
		Count  *int64 `json:"count"`
		At     int64  `json:"at"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	// An omitted count is one gift; an explicit 0 is refused, not charged as one.
	count := int64(1)
	if in.Count != nil {
		if count = *in.Count; count == 0 {
			return errBadRequest("count", "count must be 1 to 100")
		}
	}
	ch, err := a.loadChannel(r, spendTarget)
	if err != nil {
		return err
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	res, err := a.cfg.Money.Gift(r.Context(), money.GiftRequest{From: a.spender(r), Channel: ch, GiftID: in.GiftID, Count: count, At: in.At, IdemKey: key})
	if err != nil {
		return err
	}
	writeIdempotent(w, res.Replayed, res)
	return nil
}

func (a *API) sendTip(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	var in struct {
		Amount  int64  `json:"amount"`
		Message string `json:"message"`
		At      int64  `json:"at"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, spendTarget)
	if err != nil {
		return err
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	res, err := a.cfg.Money.Tip(r.Context(), money.TipRequest{From: a.spender(r), Channel: ch, Amount: in.Amount, Message: in.Message, At: in.At, IdemKey: key})
	if err != nil {
		return err
	}
	writeIdempotent(w, res.Replayed, res)
	return nil
}

func (a *API) leaderboard(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	period := r.URL.Query().Get("period")
	var bid string
	var since time.Time
	switch period {
	case "", "broadcast":
		period = "broadcast"
		if a.cfg.Clock != nil {
			bid, _, _ = a.cfg.Clock.Broadcast(r.Context(), ch.ID)
		}
		if bid == "" {
			writeJSON(w, http.StatusOK, map[string]any{"period": period, "items": []any{}})
			return nil
		}
	case "week":
		since = time.Now().AddDate(0, 0, -7)
	default:
		return errBadRequest("period", "period must be broadcast or week")
	}
	gs, err := a.cfg.MoneyStore.GiftLeaderboard(r.Context(), ch.ID, bid, since, 10)
	if err != nil {
		return err
	}
	type row struct {
		User  map[string]string `json:"user"`
		Coins int64             `json:"coins"`
		Gifts int64             `json:"gifts"`
	}
	out := make([]row, len(gs))
	for i, g := range gs {
		out[i] = row{User: map[string]string{"id": g.UserID, "name": g.Name}, Coins: g.Coins, Gifts: g.Gifts}
	}
	writeJSON(w, http.StatusOK, map[string]any{"period": period, "items": out})
	return nil
}

// ---- Subscriptions ----

func (a *API) tiers(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	return a.writeTiers(w, r, ch.ID)
}

func (a *API) writeTiers(w http.ResponseWriter, r *http.Request, channelID string) error {
	ps, err := a.cfg.MoneyStore.TierPrices(r.Context(), channelID)
	if err != nil {
		return err
	}
	items := []map[string]int64{}
	for i, p := range ps {
		items = append(items, map[string]int64{"tier": int64(i + 1), "price": p})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (a *API) putTiers(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	var in struct {
		Items []struct {
			Tier  int   `json:"tier"`
			Price int64 `json:"price"`
		} `json:"items"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	prices, err := a.cfg.MoneyStore.TierPrices(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	for _, it := range in.Items {
		if it.Tier < 1 || it.Tier > 3 {
			return errBadRequest("items", "tier must be 1, 2 or 3")
		}
		if it.Price < 1 || it.Price > 1_000_000 {
			return errBadRequest("items", "a tier's price must be 1 to 1000000 coins a month")
		}
		prices[it.Tier-1] = it.Price
	}
	if prices[0] > prices[1] || prices[1] > prices[2] {
		return errBadRequest("items", "higher tiers must cost at least as much as lower ones")
	}
	if err := a.cfg.MoneyStore.SetTierPrices(r.Context(), ch.ID, prices); err != nil {
		return err
	}
	return a.writeTiers(w, r, ch.ID)
}

func (a *API) mySubscription(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	sub, err := a.cfg.MoneyStore.SubscriptionOf(r.Context(), ch.ID, principal(r).User.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, money.ViewOf(sub, err == nil, time.Now()))
	return nil
}

func (a *API) subscribe(w http.ResponseWriter, r *http.Request) error {
	return a.subscribeAs(w, r, false)
}

func (a *API) giftSub(w http.ResponseWriter, r *http.Request) error {
	return a.subscribeAs(w, r, true)
}

func (a *API) subscribeAs(w http.ResponseWriter, r *http.Request, gift bool) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	var in struct {
		Tier      int    `json:"tier"`
		Recipient string `json:"recipient"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if gift && in.Recipient == "" {
		return errBadRequest("recipient", "recipient must name the user (their id) to gift a subscription to")
	}
	if !gift {
		in.Recipient = ""
	}
	ch, err := a.loadChannel(r, spendTarget)
	if err != nil {
		return err
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	res, err := a.cfg.Money.Subscribe(r.Context(), money.SubRequest{From: a.spender(r), Channel: ch, Tier: in.Tier, Recipient: in.Recipient, IdemKey: key})
	if err != nil {
		return err
	}
	writeIdempotent(w, res.Replayed, res)
	return nil
}

func (a *API) cancelSub(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	sub, err := a.cfg.Money.Cancel(r.Context(), ch.ID, principal(r).User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("you have no subscription to this channel")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, money.ViewOf(sub, true, time.Now()))
	return nil
}

func (a *API) mySubscriptions(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	subs, err := a.cfg.MoneyStore.SubscriptionsOf(r.Context(), principal(r).User.ID)
	if err != nil {
		return err
	}
	type item struct {
		money.SubView
		Channel map[string]string `json:"channel"`
	}
	out := []item{}
	now := time.Now()
	for _, s := range subs {
		ch, err := a.cfg.MoneyStore.ChannelByID(r.Context(), s.ChannelID)
		if err != nil {
			continue
		}
		out = append(out, item{SubView: money.ViewOf(s, true, now), Channel: map[string]string{"slug": ch.Slug, "name": ch.DisplayName}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// ---- Ads ----

func (a *API) startAdBreak(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	var in struct {
		Duration int `json:"duration"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	v, err := a.cfg.Money.StartBreak(r.Context(), ch, time.Duration(in.Duration)*time.Second)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) currentAdBreak(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	v, ok, err := a.cfg.Money.CurrentBreak(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	out := map[string]any{"active": ok}
	if ok {
		out["break"] = v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) adBreaks(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	bs, err := a.cfg.MoneyStore.AdBreaks(r.Context(), ch.ID, 50)
	if err != nil {
		return err
	}
	out := make([]money.BreakView, len(bs))
	for i, b := range bs {
		out[i] = a.cfg.Money.ViewOfBreak(r.Context(), b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) adSchedule(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	sc, err := a.cfg.Money.ScheduleOf(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}

func (a *API) putAdSchedule(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	var in money.Schedule
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	if err := a.cfg.Money.SetSchedule(r.Context(), ch.ID, in); err != nil {
		return err
	}
	return a.adSchedule(w, r)
}

func (a *API) adImpression(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	if d, ok := a.impressions.Take(a.clientKey(r)); !ok {
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many impressions from your network", RetryAfter: d}
	}
	var in struct {
		ViewerID string `json:"viewer_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if !viewerIDRE.MatchString(in.ViewerID) {
		return errBadRequest("viewer_id", "viewer_id must be the player's heartbeat id: 8 to 64 characters from A-Z, a-z, 0-9, '_' and '-'")
	}
	viewer, sub := "anon:"+in.ViewerID, false
	if p := principal(r); p != nil {
		viewer = "user:" + p.User.ID
	}
	brk := r.PathValue("id")
	// An impression counts only for a player that is watching: its
	// heartbeats are counted on the break's channel (so one script cannot
	// invent viewers, and the network cap on heartbeats holds here too).
	if err := a.watchingBreak(r, brk, in.ViewerID); err != nil {
		return err
	}
	if p := principal(r); p != nil {
		sub = a.isSubscriberOfBreak(r, brk, p.User.ID)
	}
	im := money.Impression{BreakID: brk, Viewer: viewer, Network: a.clientKey(r), Subscriber: sub}
	if p := principal(r); p != nil {
		im.UserID = p.User.ID
	}
	if _, err := a.cfg.Money.Impression(r.Context(), im); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// watchingBreak refuses an impression from a viewer id whose heartbeats are
// not counted on the channel of the break.
func (a *API) watchingBreak(r *http.Request, breakID, viewerID string) error {
	b, err := a.cfg.MoneyStore.AdBreakByID(r.Context(), breakID)
	if err != nil {
		return err
	}
	ch, err := a.cfg.MoneyStore.ChannelByID(r.Context(), b.ChannelID)
	if err != nil {
		return err
	}
	if a.cfg.Viewers == nil || !a.cfg.Viewers.Watching(ch.Slug, viewerID) {
		return &Error{Status: http.StatusConflict, Code: "not_watching",
			Message: "impressions count only for a player that is watching the channel: send heartbeats with this viewer_id first"}
	}
	return nil
}

func (a *API) isSubscriberOfBreak(r *http.Request, breakID, userID string) bool {
	b, err := a.cfg.MoneyStore.AdBreakByID(r.Context(), breakID)
	if err != nil {
		return false
	}
	sub, err := a.cfg.MoneyStore.IsSubscriber(r.Context(), b.ChannelID, userID)
	return err == nil && sub
}

// ---- Earnings and payouts ----

func (a *API) earnings(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	days, err := daysParam(r)
	if err != nil {
		return err
	}
	e, err := a.cfg.Money.EarningsOf(r.Context(), ch.ID, days)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func daysParam(r *http.Request) (int, error) {
	d := r.URL.Query().Get("days")
	if d == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(d)
	if err != nil || n < 1 || n > 366 {
		return 0, errBadRequest("days", "days must be 1 to 366")
	}
	return n, nil
}

func (a *API) earningsCSV(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	days, err := daysParam(r)
	if err != nil {
		return err
	}
	e, err := a.cfg.Money.EarningsOf(r.Context(), ch.ID, days)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-earnings.csv"`, ch.Slug))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{"date"}, append(append([]string(nil), money.Sources...), "total")...))
	for _, d := range e.Days {
		row := []string{d.Date}
		var total int64
		for _, src := range money.Sources {
			row = append(row, strconv.FormatInt(d.Amounts[src], 10))
			total += d.Amounts[src]
		}
		_ = cw.Write(append(row, strconv.FormatInt(total, 10)))
	}
	cw.Flush()
	return nil
}

// PayoutView is a payout request.
type PayoutView struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"`
	Amount    int64     `json:"amount"`
	Status    string    `json:"status"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (a *API) payoutView(r *http.Request, p store.Payout) PayoutView {
	v := PayoutView{ID: p.ID, Amount: p.Amount, Status: p.Status, Note: p.Note, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if ch, err := a.cfg.MoneyStore.ChannelByID(r.Context(), p.ChannelID); err == nil {
		v.Channel = ch.Slug
	}
	return v
}

func (a *API) listPayouts(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	return a.writePayouts(w, r, ch.ID, "")
}

func (a *API) writePayouts(w http.ResponseWriter, r *http.Request, channelID, status string) error {
	ps, err := a.cfg.MoneyStore.Payouts(r.Context(), channelID, status, 100)
	if err != nil {
		return err
	}
	out := make([]PayoutView, len(ps))
	for i, p := range ps {
		out[i] = a.payoutView(r, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) requestPayout(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	var in struct {
		Amount int64 `json:"amount"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	p, replayed, err := a.cfg.Money.RequestPayout(r.Context(), principal(r).User.ID, ch, in.Amount, key)
	if err != nil {
		return err
	}
	writeIdempotent(w, replayed, a.payoutView(r, p))
	return nil
}

// ---- Admin ----

func (a *API) adminPayouts(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	return a.writePayouts(w, r, "", r.URL.Query().Get("status"))
}

func (a *API) adminPayoutStep(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	p, replayed, err := a.cfg.Money.AdvancePayout(r.Context(), principal(r).User.ID, r.PathValue("id"), money.PayoutStep(r.PathValue("step")), in.Note, key)
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusOK, a.payoutView(r, p))
	return nil
}

func (a *API) adminCoinPacks(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	ps, err := a.cfg.MoneyStore.CoinPacks(r.Context(), false)
	if err != nil {
		return err
	}
	out := make([]PackView, len(ps))
	for i, p := range ps {
		out[i] = packView(p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func cleanName(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len([]rune(s)) > max || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errBadRequest(field, "%s must be 1 to %d printable characters", field, max)
	}
	return s, nil
}

func (a *API) adminCreateCoinPack(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	var in struct {
		Name     string `json:"name"`
		Coins    int64  `json:"coins"`
		Price    int64  `json:"price"`
		Currency string `json:"currency"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	name, err := cleanName("name", in.Name, 60)
	if err != nil {
		return err
	}
	if in.Coins < 1 || in.Coins > 10_000_000 {
		return errBadRequest("coins", "coins must be 1 to 10000000")
	}
	if in.Price < 1 || in.Price > 100_000_000 {
		return errBadRequest("price", "price must be 1 to 100000000 minor units (cents)")
	}
	if in.Currency == "" {
		in.Currency = "USD"
	}
	if !currencyRE.MatchString(in.Currency) {
		return errBadRequest("currency", "currency must be an ISO 4217 code such as USD")
	}
	p, err := a.cfg.MoneyStore.CreateCoinPack(r.Context(), store.CoinPack{Name: name, Coins: in.Coins, Price: in.Price, Currency: in.Currency, Active: true})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, packView(p))
	return nil
}

func decodeActive(w http.ResponseWriter, r *http.Request) (bool, error) {
	var in struct {
		Active *bool `json:"active"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return false, err
	}
	if in.Active == nil {
		return false, errBadRequest("active", "send {\"active\": true|false}")
	}
	return *in.Active, nil
}

func (a *API) adminPatchCoinPack(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	on, err := decodeActive(w, r)
	if err != nil {
		return err
	}
	if err := a.cfg.MoneyStore.SetCoinPackActive(r.Context(), r.PathValue("id"), on); err != nil {
		return err
	}
	return a.adminCoinPacks(w, r)
}

func (a *API) adminGifts(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	gs, err := a.cfg.MoneyStore.Gifts(r.Context(), false)
	if err != nil {
		return err
	}
	out := make([]GiftView, len(gs))
	for i, g := range gs {
		out[i] = giftView(g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// safeMediaURL accepts what the web UI's Content-Security-Policy lets the
// page load (web/web.go): a path on this server, and for images a base64
// PNG/JPEG/GIF/WebP data URL (img-src 'self' data:; media-src 'self').
// Other hosts' URLs would be stored only to be blocked in every browser.
func safeMediaURL(field, u string, image bool) (string, error) {
	u = strings.TrimSpace(u)
	dataImage := strings.HasPrefix(u, "data:image/png;base64,") || strings.HasPrefix(u, "data:image/jpeg;base64,") ||
		strings.HasPrefix(u, "data:image/gif;base64,") || strings.HasPrefix(u, "data:image/webp;base64,")
	switch {
	case u == "":
		return "", nil
	case len(u) > 2048:
		return "", errBadRequest(field, "%s is longer than 2048 characters", field)
	case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.Contains(u, "\\"), image && dataImage:
		if strings.ContainsAny(u, " \"'<>`\n\r\t") {
			return "", errBadRequest(field, "%s must not contain spaces, quotes or angle brackets", field)
		}
		return u, nil
	case !image:
		return "", errBadRequest(field, "%s must be a path on this server, such as /ads/spring.mp4: the player may load video from this server only", field)
	}
	return "", errBadRequest(field, "%s must be a path on this server, such as /ads/spring.png, or a base64 PNG/JPEG/GIF/WebP data URL: the page may load images from nowhere else", field)
}

func (a *API) adminCreateGift(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	var in struct {
		Name  string `json:"name"`
		Image string `json:"image"`
		Price int64  `json:"price"`
		Tier  int    `json:"tier"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	name, err := cleanName("name", in.Name, 40)
	if err != nil {
		return err
	}
	img, err := safeMediaURL("image", in.Image, true)
	if err != nil {
		return err
	}
	if in.Price < 1 || in.Price > 1_000_000 {
		return errBadRequest("price", "price must be 1 to 1000000 coins")
	}
	if in.Tier == 0 {
		in.Tier = 1
	}
	if in.Tier < 1 || in.Tier > 3 {
		return errBadRequest("tier", "tier must be 1, 2 or 3 (the alert's size)")
	}
	g, err := a.cfg.MoneyStore.CreateGift(r.Context(), store.Gift{Name: name, Image: img, Price: in.Price, Tier: in.Tier, Active: true})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, giftView(g))
	return nil
}

func (a *API) adminPatchGift(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	on, err := decodeActive(w, r)
	if err != nil {
		return err
	}
	if err := a.cfg.MoneyStore.SetGiftActive(r.Context(), r.PathValue("id"), on); err != nil {
		return err
	}
	return a.adminGifts(w, r)
}

// CreativeView is an ad creative in the admin's inventory.
type CreativeView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	URL        string    `json:"url"`
	CPM        int64     `json:"cpm"`
	Categories []string  `json:"categories"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
}

func (a *API) adminAds(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	cs, err := a.cfg.MoneyStore.AdCreatives(r.Context(), false)
	if err != nil {
		return err
	}
	out := make([]CreativeView, len(cs))
	for i, c := range cs {
		cats := c.Categories
		if cats == nil {
			cats = []string{}
		}
		out[i] = CreativeView{ID: c.ID, Name: c.Name, Kind: c.Kind, URL: c.URL, CPM: c.CPM, Categories: cats, Active: c.Active, CreatedAt: c.CreatedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) adminCreateAd(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	var in struct {
		Name       string   `json:"name"`
		Kind       string   `json:"kind"`
		URL        string   `json:"url"`
		CPM        int64    `json:"cpm"`
		Categories []string `json:"categories"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	name, err := cleanName("name", in.Name, 60)
	if err != nil {
		return err
	}
	if in.Kind != "image" && in.Kind != "video" {
		return errBadRequest("kind", "kind must be image or video")
	}
	u, err := safeMediaURL("url", in.URL, in.Kind == "image")
	if err != nil {
		return err
	}
	if u == "" {
		return errBadRequest("url", "url is required: the creative's image or video")
	}
	if in.CPM < 1 || in.CPM > 10_000_000 {
		return errBadRequest("cpm", "cpm must be 1 to 10000000 coins per 1000 impressions")
	}
	var cats []string
	for _, c := range in.Categories {
		name := strings.ToLower(strings.TrimSpace(c))
		if !store.IsCategory(name) {
			return errBadRequest("categories", "unknown category %q; see GET /api/v1/categories", c)
		}
		cats = append(cats, name)
	}
	c, err := a.cfg.MoneyStore.CreateAdCreative(r.Context(), store.AdCreative{Name: name, Kind: in.Kind, URL: u, CPM: in.CPM, Categories: cats, Active: true})
	if err != nil {
		return err
	}
	if c.Categories == nil {
		c.Categories = []string{}
	}
	writeJSON(w, http.StatusCreated, CreativeView{ID: c.ID, Name: c.Name, Kind: c.Kind, URL: c.URL, CPM: c.CPM, Categories: c.Categories, Active: c.Active, CreatedAt: c.CreatedAt})
	return nil
}

func (a *API) adminPatchAd(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	on, err := decodeActive(w, r)
	if err != nil {
		return err
	}
	if err := a.cfg.MoneyStore.SetAdCreativeActive(r.Context(), r.PathValue("id"), on); err != nil {
		return err
	}
	return a.adminAds(w, r)
}

func (a *API) adminMonetization(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	st, err := a.cfg.Money.Settings(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (a *API) adminPutMonetization(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	var in money.Settings
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.cfg.Money.PutSettings(r.Context(), in); err != nil {
		return err
	}
	return a.adminMonetization(w, r)
}

func (a *API) adminOrders(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	os, err := a.cfg.MoneyStore.Orders(r.Context(), r.URL.Query().Get("status"), "", 100)
	if err != nil {
		return err
	}
	out := make([]OrderView, len(os))
	for i, o := range os {
		v := orderView(money.OrderResult{Order: o, Message: o.Detail})
		v.UserID = o.UserID
		out[i] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) adminReverseOrder(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	status := map[string]string{"refund": store.OrderRefunded, "chargeback": store.OrderChargedBack}[r.PathValue("action")]
	if status == "" {
		return notFound("no such action; use refund or chargeback")
	}
	key, err := idemKey(r)
	if err != nil {
		return err
	}
	if err := a.moneyLimit(r); err != nil {
		return err
	}
	p := principal(r)
	o, replayed, err := a.cfg.Money.Refund(r.Context(), money.RefundRequest{AdminID: p.User.ID, OrderID: r.PathValue("id"), Status: status,
		Reason: "by admin " + p.User.DisplayName, IdemKey: key})
	if err != nil {
		return err
	}
	v := orderView(money.OrderResult{Order: o, Message: o.Detail})
	v.UserID = o.UserID
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// EntryView is one leg of a transaction.
type EntryView struct {
	Account  string `json:"account"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

func (a *API) adminLedger(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	q := r.URL.Query()
	ts, next, err := a.cfg.MoneyStore.Txns(r.Context(), store.TxnFilter{AccountID: q.Get("account"), Kind: q.Get("kind"), After: q.Get("cursor"), Limit: 100})
	if err != nil {
		return err
	}
	type tv struct {
		ID        string         `json:"id"`
		Kind      string         `json:"kind"`
		UserID    string         `json:"user_id"`
		ChannelID string         `json:"channel_id"`
		Amount    int64          `json:"amount"`
		CreatedAt time.Time      `json:"created_at"`
		Memo      map[string]any `json:"memo"`
		Entries   []EntryView    `json:"entries"`
	}
	out := make([]tv, len(ts))
	for i, t := range ts {
		v := tv{ID: t.ID, Kind: t.Kind, UserID: t.UserID, ChannelID: t.ChannelID, Amount: t.Amount, CreatedAt: t.CreatedAt, Memo: decodeMemo(t.Memo)}
		for _, e := range t.Entries {
			v.Entries = append(v.Entries, EntryView{Account: e.Account.ID, Currency: e.Account.Currency, Amount: e.Amount})
		}
		out[i] = v
	}
	writeJSON(w, http.StatusOK, page[tv]{Items: out, NextCursor: next})
	return nil
}

func (a *API) adminLedgerAccounts(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	as, err := a.cfg.MoneyStore.LedgerAccounts(r.Context(), r.URL.Query().Get("kind"), 200)
	if err != nil {
		return err
	}
	type av struct {
		ID       string `json:"id"`
		Kind     string `json:"kind"`
		Currency string `json:"currency"`
		Balance  int64  `json:"balance"`
	}
	out := make([]av, len(as))
	for i, x := range as {
		out[i] = av{x.ID, x.Kind, x.Currency, x.Balance}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) adminLedgerVerify(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	bs, err := a.cfg.MoneyStore.VerifyLedger(r.Context())
	if err != nil {
		return err
	}
	n, err := a.cfg.MoneyStore.LedgerCounts(r.Context())
	if err != nil {
		return err
	}
	type bv struct {
		Rule   string `json:"rule"`
		Detail string `json:"detail"`
	}
	out := make([]bv, len(bs))
	for i, b := range bs {
		out[i] = bv{b.Rule, b.Detail}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": len(bs) == 0, "breaches": out, "accounts": n.Accounts, "txns": n.Txns, "entries": n.Entries})
	return nil
}

func (a *API) adminRevenue(w http.ResponseWriter, r *http.Request) error {
	if err := a.moneyReady(); err != nil {
		return err
	}
	days, err := daysParam(r)
	if err != nil {
		return err
	}
	// Coin sales are reported in one currency at a time: amounts in
	// different currencies do not add up.
	as, err := a.cfg.MoneyStore.LedgerAccounts(r.Context(), "platform", 1000)
	if err != nil {
		return err
	}
	currencies := []string{}
	for _, x := range as {
		if cur, ok := strings.CutPrefix(x.ID, "platform:sales:"); ok {
			currencies = append(currencies, cur)
		}
	}
	slices.Sort(currencies)
	currency := r.URL.Query().Get("currency")
	switch {
	case currency != "" && !currencyRE.MatchString(currency):
		return errBadRequest("currency", "currency must be an ISO 4217 code such as USD")
	case currency == "" && len(currencies) > 0 && !slices.Contains(currencies, "USD"):
		currency = currencies[0]
	case currency == "":
		currency = "USD"
	}
	totals, ds, err := a.cfg.Money.Revenue(r.Context(), currency, days)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"currency": currency, "currencies": currencies, "totals": totals, "days": ds})
	return nil
}

func (a *API) emoteSubscriberOnly(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	var in struct {
		SubscriberOnly *bool `json:"subscriber_only"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.SubscriberOnly == nil {
		return errBadRequest("subscriber_only", "send {\"subscriber_only\": true|false}")
	}
	if err := a.moneyReady(); err != nil {
		return err
	}
	if err := a.cfg.MoneyStore.SetEmoteSubscriberOnly(r.Context(), ch.ID, r.PathValue("name"), *in.SubscriberOnly); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ctxT shortens the interface above.
type ctxT = context.Context

func decodeMemo(s string) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// readAll reads a webhook body (the route's body limit applies).
func readAll(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonError(err)
	}
	return b, nil
}
