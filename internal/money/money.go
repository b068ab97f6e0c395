// Package money owns every path that moves value on Livehouse: coin
// purchases through payment providers, refunds and chargebacks, gifts,
// tips, subscriptions with their renewal scheduler, ad breaks credited by
// CPM, earnings and payouts. Each movement is one balanced transaction of
// the double-entry ledger in the store, written with its idempotency key
// and the rows it changes in one database transaction; concurrent callers
// share transactions through a group committer. docs/MONEY.md is the
// contract and the rules.
package money

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
)

// Coin is the ledger currency of coins.
const Coin = "COIN"

// Ledger accounts (docs/MONEY.md).
func walletAccount(userID string) store.LedgerAccount {
	return store.LedgerAccount{ID: "wallet:" + userID, Kind: "wallet", OwnerID: userID, Currency: Coin, Floored: true}
}

func receivableAccount(userID string) store.LedgerAccount {
	return store.LedgerAccount{ID: "receivable:" + userID, Kind: "receivable", OwnerID: userID, Currency: Coin}
}

func earningsAccount(channelID string) store.LedgerAccount {
	return store.LedgerAccount{ID: "earnings:" + channelID, Kind: "earnings", OwnerID: channelID, Currency: Coin, Floored: true}
}

func payoutPendingAccount(channelID string) store.LedgerAccount {
	return store.LedgerAccount{ID: "payout.pending:" + channelID, Kind: "payout.pending", OwnerID: channelID, Currency: Coin, Floored: true}
}

func payoutApprovedAccount(channelID string) store.LedgerAccount {
	return store.LedgerAccount{ID: "payout.approved:" + channelID, Kind: "payout.approved", OwnerID: channelID, Currency: Coin, Floored: true}
}

func platformAccount(name string) store.LedgerAccount {
	return store.LedgerAccount{ID: "platform:" + name, Kind: "platform", Currency: Coin}
}

func clearingAccount(provider, currency string) store.LedgerAccount {
	return store.LedgerAccount{ID: "clearing:" + provider + ":" + currency, Kind: "clearing", OwnerID: provider, Currency: currency}
}

func salesAccount(currency string) store.LedgerAccount {
	return store.LedgerAccount{ID: "platform:sales:" + currency, Kind: "platform", Currency: currency}
}

// Refusal is a money request refused for a reason the caller can fix;
// nothing moved. Code is stable for clients (docs/MONEY.md).
type Refusal struct {
	code, msg string
}

func (r *Refusal) Error() string { return r.msg }

// Code names the refusal.
func (r *Refusal) Code() string { return r.code }

func refuse(code, format string, args ...any) error {
	return &Refusal{code: code, msg: fmt.Sprintf(format, args...)}
}

// Store is what the money service keeps in the database.
type Store interface {
	Post(ctx context.Context, p store.Posting) (store.Posted, error)
	PostBatch(ctx context.Context, ps []store.Posting) ([]store.Posted, []error)
	IdempotentResult(ctx context.Context, k store.Idempotency) (store.Posted, bool, error)
	RecordRequest(ctx context.Context, k store.Idempotency, result string) error
	Balance(ctx context.Context, accountID string) (int64, error)
	Setting(ctx context.Context, name string) (string, error)
	PutSetting(ctx context.Context, name, value string) error
	ChannelByID(ctx context.Context, id string) (store.Channel, error)
	UserByID(ctx context.Context, id string) (store.User, error)

	CoinPack(ctx context.Context, id string) (store.CoinPack, error)
	Gift(ctx context.Context, id string) (store.Gift, error)
	CreateOrder(ctx context.Context, o store.Order) (store.Order, error)
	OrderByID(ctx context.Context, id string) (store.Order, error)
	OrderByRef(ctx context.Context, provider, ref string) (store.Order, error)
	UpdateOrder(ctx context.Context, id string, from []string, u store.OrderUpdate) error
	NoteOrder(ctx context.Context, id, note string) error
	PaymentEventSeen(ctx context.Context, provider, eventID string) (bool, error)
	MarkPaymentEvent(ctx context.Context, provider, eventID string) error

	TierPrices(ctx context.Context, channelID string) ([3]int64, error)
	SubscriptionOf(ctx context.Context, channelID, userID string) (store.Subscription, error)
	SetRenews(ctx context.Context, channelID, userID string, renews bool) (store.Subscription, error)
	ResumeRenewal(ctx context.Context, channelID, userID string, key *store.Idempotency, result string) (store.Subscription, error)
	DueSubscriptions(ctx context.Context, now time.Time, limit int) ([]store.Subscription, error)
	ExpireSubscriptions(ctx context.Context, subs []store.Subscription) error
	IsSubscriber(ctx context.Context, channelID, userID string) (bool, error)

	AdCreatives(ctx context.Context, activeOnly bool) ([]store.AdCreative, error)
	AdCreative(ctx context.Context, id string) (store.AdCreative, error)
	StartAdBreak(ctx context.Context, b store.AdBreak) (store.AdBreak, error)
	AdBreakByID(ctx context.Context, id string) (store.AdBreak, error)
	AdBreaks(ctx context.Context, channelID string, limit int) ([]store.AdBreak, error)
	RunningAdBreaks(ctx context.Context) ([]store.AdBreak, error)
	EndAdBreakEarly(ctx context.Context, id string, t time.Time) error
	AddImpressionFrom(ctx context.Context, breakID, viewer, network string, perNetwork int) (bool, error)
	CloseAdBreak(ctx context.Context, id string, impressions int64) error

	PayoutByID(ctx context.Context, id string) (store.Payout, error)
}

// Rooms puts paid events in channels' chat rooms. A payment's event is
// prepared before its posting, written by the ledger in the posting's
// transaction, then delivered; events without money are announced.
type Rooms interface {
	Prepare(ctx context.Context, ch realtime.Channel, a realtime.Announcement) (realtime.Paid, error)
	Deliver(ctx context.Context, ch realtime.Channel, ev store.RoomEvent)
	Withdraw(ch realtime.Channel, p realtime.Paid)
	Announce(ctx context.Context, ch realtime.Channel, a realtime.Announcement) (realtime.Event, error)
	CheckText(ctx context.Context, ch realtime.Channel, m realtime.Member, text string) (string, error)
}

// StreamClock tells the broadcast on the air on a channel.
type StreamClock interface {
	Broadcast(ctx context.Context, channelID string) (id string, startedAt time.Time, ok bool)
}

// Provider takes payments for coin packs (internal/payment).
type Provider interface {
	ID() string
	// Charge starts a payment for an order. It returns the outcome:
	// paid (coins are credited now), requires_action (Confirm finishes
	// it), pending (the provider calls back through its webhook, e.g.
	// after a hosted checkout at RedirectURL) or declined.
	Charge(ctx context.Context, o store.Order, card string) (Charge, error)
}

// Confirmer is a provider with a confirmation step (the sandbox's 3-D
// Secure stand-in).
type Confirmer interface {
	Confirm(ctx context.Context, o store.Order, code string) (Charge, error)
}

// Charge is a provider's answer.
type Charge struct {
	Status      string // a store.Order* status
	Ref         string // the provider's id for the payment
	RedirectURL string
	Message     string
}

// Config builds a Service.
type Config struct {
	Store     Store
	Rooms     Rooms // nil: no chat events
	Clock     StreamClock
	Markers   Markers // nil: no playlist markers
	Providers []Provider
	// BatchSize bounds the postings one database transaction carries
	// (default 256).
	BatchSize int
	// RenewEvery is how often the scheduler looks for due subscriptions
	// (default 30 s).
	RenewEvery time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service runs the money paths. Start it before use; Close stops its
// committer and schedulers.
type Service struct {
	cfg       Config
	log       *slog.Logger
	providers map[string]Provider
	in        chan *pending
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu       sync.Mutex
	settings Settings
	loadedAt time.Time
	marked   map[string]bool // channels whose playlists carry markers

	giftMu sync.Mutex
	gifts  map[string]cachedGift
}

// New returns a stopped service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("money: a store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	if cfg.RenewEvery <= 0 {
		cfg.RenewEvery = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, log: cfg.Logger, providers: map[string]Provider{}, in: make(chan *pending, 4096),
		marked: map[string]bool{}, gifts: map[string]cachedGift{}}
	for _, p := range cfg.Providers {
		s.providers[p.ID()] = p
	}
	return s, nil
}

// Start runs the group committer and the schedulers (renewals, ad breaks)
// until Close.
func (s *Service) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.commitLoop(ctx) }()
	go func() { defer s.wg.Done(); s.renewLoop(ctx) }()
	go func() { defer s.wg.Done(); s.adLoop(ctx) }()
}

// Close stops the service; postings in flight finish first.
func (s *Service) Close() error {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
	return nil
}

// Providers lists the configured payment providers' ids.
func (s *Service) Providers() []Provider { return s.cfg.Providers }

// pending is a posting waiting for the committer.
type pending struct {
	p    store.Posting
	done chan postResult
}

type postResult struct {
	res store.Posted
	err error
}

// post writes a posting through the group committer: concurrent postings
// share one database transaction (each under its own savepoint).
func (s *Service) post(ctx context.Context, p store.Posting) (store.Posted, error) {
	if s.cancel == nil { // not started: write directly
		return s.cfg.Store.Post(ctx, p)
	}
	req := &pending{p: p, done: make(chan postResult, 1)}
	select {
	case s.in <- req:
	case <-ctx.Done():
		return store.Posted{}, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-ctx.Done():
		// It may still commit; the idempotency key makes a retry safe.
		return store.Posted{}, ctx.Err()
	}
}

func (s *Service) commitLoop(ctx context.Context) {
	for {
		var first *pending
		select {
		case first = <-s.in:
		case <-ctx.Done():
			// Drain what is queued so no caller waits forever.
			for {
				select {
				case req := <-s.in:
					res, err := s.cfg.Store.Post(context.Background(), req.p)
					req.done <- postResult{res, err}
				default:
					return
				}
			}
		}
		batch := []*pending{first}
	fill:
		for len(batch) < s.cfg.BatchSize {
			select {
			case req := <-s.in:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		ps := make([]store.Posting, len(batch))
		for i, b := range batch {
			ps[i] = b.p
		}
		res, errs := s.cfg.Store.PostBatch(context.WithoutCancel(ctx), ps)
		for i, b := range batch {
			b.done <- postResult{res[i], errs[i]}
		}
	}
}

// requestHash fingerprints a request body for its idempotency key.
func requestHash(parts ...any) string {
	b, _ := json.Marshal(parts) // plain values: never fails
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// idem builds the idempotency record of a caller's request.
func idem(scope, key string, parts ...any) *store.Idempotency {
	if key == "" {
		return nil
	}
	return &store.Idempotency{Scope: scope, Key: key, Hash: requestHash(parts...)}
}

// split divides coins between the creator (bps basis points, rounded
// down) and the platform (the rest).
func split(coins int64, bps int) (creator, platform int64) {
	// coins ≤ maxSpend, so coins*10000 cannot overflow.
	creator = coins * int64(bps) / 10000
	return creator, coins - creator
}

// entries drops zero legs, which the ledger refuses.
func entries(es ...store.Entry) []store.Entry {
	out := es[:0]
	for _, e := range es {
		if e.Amount != 0 {
			out = append(out, e)
		}
	}
	return out
}

// memo renders a transaction's details.
func memo(v map[string]any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// WalletView is a user's coins.
type WalletView struct {
	Balance    int64  `json:"balance"`
	Receivable int64  `json:"receivable"` // coins owed (a positive figure)
	Currency   string `json:"currency"`
}

// Wallet returns a user's balance and what they owe.
func (s *Service) Wallet(ctx context.Context, userID string) (WalletView, error) {
	bal, err := s.cfg.Store.Balance(ctx, walletAccount(userID).ID)
	if err != nil {
		return WalletView{}, err
	}
	rec, err := s.cfg.Store.Balance(ctx, receivableAccount(userID).ID)
	if err != nil {
		return WalletView{}, err
	}
	return WalletView{Balance: bal, Receivable: -rec, Currency: Coin}, nil
}

// WalletAccountID names a user's wallet in the ledger.
func WalletAccountID(userID string) string { return walletAccount(userID).ID }

// EarningsAccountID names a channel's earnings in the ledger.
func EarningsAccountID(channelID string) string { return earningsAccount(channelID).ID }

// PlatformRevenueID names the platform's revenue account.
func PlatformRevenueID() string { return platformAccount("revenue").ID }

func (s *Service) now() time.Time { return s.cfg.Now() }
