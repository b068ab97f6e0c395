package money

import (
	"context"
	"errors"
	"fmt"

	"github.com/livehouse/livehouse/internal/store"
)

// BuyRequest buys a coin pack.
type BuyRequest struct {
	UserID   string
	PackID   string
	Provider string
	Card     string // the sandbox's test card; other providers ignore it
	IdemKey  string
}

// OrderResult is an order as the API shows it, with the wallet after it.
// Replayed marks the answer to a repeated request (the same key and body):
// the order it made the first time, charged once.
type OrderResult struct {
	Order       store.Order
	RedirectURL string
	Message     string
	Balance     int64
	Replayed    bool
}

// Buy starts the purchase of a coin pack. The order is stored first;
// the provider then charges, and a paid charge credits the coins in the
// same database transaction that marks the order paid. The idempotency
// key doubles as the order's identity: the same key returns the same
// order, charged once.
func (s *Service) Buy(ctx context.Context, req BuyRequest) (OrderResult, error) {
	prov, ok := s.providers[req.Provider]
	if !ok {
		return OrderResult{}, &store.FieldError{Field: "provider", Problem: fmt.Sprintf("provider %q is not enabled on this server", req.Provider)}
	}
	pack, err := s.cfg.Store.CoinPack(ctx, req.PackID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !pack.Active) {
		return OrderResult{}, &store.FieldError{Field: "pack_id", Problem: "no such coin pack on sale; see GET /api/v1/coin-packs"}
	}
	if err != nil {
		return OrderResult{}, err
	}
	// The order id is derived from the key: a replay finds the same order.
	orderID := "ord_" + requestHash(req.UserID, req.IdemKey)[:26]
	hash := requestHash("buy", req.PackID, req.Provider, req.Card)
	o, err := s.cfg.Store.OrderByID(ctx, orderID)
	switch {
	case err == nil:
		if o.UserID != req.UserID || o.RequestHash != hash {
			return OrderResult{}, store.ErrIdempotencyConflict
		}
		return s.replayOrder(ctx, o)
	case !errors.Is(err, store.ErrNotFound):
		return OrderResult{}, err
	}
	o, err = s.cfg.Store.CreateOrder(ctx, store.Order{ID: orderID, UserID: req.UserID, PackID: pack.ID, Coins: pack.Coins,
		Price: pack.Price, Currency: pack.Currency, Provider: prov.ID(), Status: store.OrderPending, RequestHash: hash})
	if store.IsConflict(err) {
		o, err = s.cfg.Store.OrderByID(ctx, orderID) // a concurrent twin
		if err != nil {
			return OrderResult{}, err
		}
		if o.RequestHash != hash {
			return OrderResult{}, store.ErrIdempotencyConflict
		}
		return s.replayOrder(ctx, o)
	}
	if err != nil {
		return OrderResult{}, err
	}
	ch, err := prov.Charge(ctx, o, req.Card)
	if err != nil {
		_ = s.cfg.Store.UpdateOrder(ctx, o.ID, []string{store.OrderPending}, store.OrderUpdate{Status: store.OrderDeclined, Detail: "provider error"})
		return OrderResult{}, fmt.Errorf("charge with %s: %w", prov.ID(), err)
	}
	return s.settle(ctx, o, ch, "charge")
}

// replayOrder answers a repeated purchase with its order as it stands; a
// declined order is refused again, as the first answer was.
func (s *Service) replayOrder(ctx context.Context, o store.Order) (OrderResult, error) {
	if o.Status == store.OrderDeclined {
		msg := o.Detail
		if msg == "" {
			msg = orderMessage(o)
		}
		return OrderResult{}, refuse("card_declined", "%s", msg)
	}
	res, err := s.orderResult(ctx, o, "")
	res.Replayed = true
	return res, err
}

// Confirm finishes a charge that needed a confirmation step. The request's
// key (idemKey, "" for none) is stored with its outcome: a repeat answers
// the order as it stands (a declined one is refused again), and the key
// reused with another code is an idempotency conflict.
func (s *Service) Confirm(ctx context.Context, userID, orderID, code, idemKey string) (OrderResult, error) {
	o, err := s.cfg.Store.OrderByID(ctx, orderID)
	if err != nil || o.UserID != userID {
		return OrderResult{}, fmt.Errorf("order %q: %w", orderID, store.ErrNotFound)
	}
	key := idem(userID, idemKey, "confirm", orderID, code)
	if key != nil {
		if _, seen, err := s.cfg.Store.IdempotentResult(ctx, *key); err != nil {
			return OrderResult{}, err
		} else if seen {
			return s.replayOrder(ctx, o)
		}
	}
	if o.Status != store.OrderRequiresAction {
		return s.orderResult(ctx, o, "")
	}
	c, ok := s.providers[o.Provider].(Confirmer)
	if !ok {
		return OrderResult{}, refuse("not_confirmable", "this order has no confirmation step")
	}
	ch, err := c.Confirm(ctx, o, code)
	if err != nil {
		return OrderResult{}, err
	}
	res, err := s.settle(ctx, o, ch, "confirm")
	var rf *Refusal
	if key != nil && (err == nil || errors.As(err, &rf)) {
		if rerr := s.cfg.Store.RecordRequest(ctx, *key, ""); rerr != nil && !errors.Is(rerr, store.ErrExists) {
			s.log.Warn("money: the confirmation's idempotency key was not stored", "order", o.ID, "err", rerr)
		}
	}
	return res, err
}

// settle records a provider's outcome for an order.
func (s *Service) settle(ctx context.Context, o store.Order, ch Charge, how string) (OrderResult, error) {
	switch ch.Status {
	case store.OrderPaid:
		_, err := s.creditOrder(ctx, o, ch.Ref, how)
		if errors.Is(err, store.ErrStateChanged) {
			return s.settledMeanwhile(ctx, o.ID)
		}
		if err != nil {
			return OrderResult{}, err
		}
	case store.OrderDeclined:
		// Only the state this outcome answers: a concurrent confirmation
		// may have paid the order meanwhile.
		err := s.cfg.Store.UpdateOrder(ctx, o.ID, []string{o.Status}, store.OrderUpdate{Status: store.OrderDeclined, Ref: ch.Ref, Detail: ch.Message})
		if errors.Is(err, store.ErrStateChanged) {
			return s.settledMeanwhile(ctx, o.ID)
		}
		if err != nil {
			return OrderResult{}, err
		}
		return OrderResult{}, refuse("card_declined", "%s", ch.Message)
	default:
		err := s.cfg.Store.UpdateOrder(ctx, o.ID, []string{o.Status}, store.OrderUpdate{Status: ch.Status, Ref: ch.Ref, Detail: ch.Message, CheckoutURL: ch.RedirectURL})
		if errors.Is(err, store.ErrStateChanged) {
			return s.settledMeanwhile(ctx, o.ID)
		}
		if err != nil {
			return OrderResult{}, err
		}
	}
	o, err := s.cfg.Store.OrderByID(ctx, o.ID)
	if err != nil {
		return OrderResult{}, err
	}
	return s.orderResult(ctx, o, ch.Message)
}

// settledMeanwhile answers a provider outcome that lost the race to
// another one for the same order: with the order as the winner left it.
func (s *Service) settledMeanwhile(ctx context.Context, orderID string) (OrderResult, error) {
	o, err := s.cfg.Store.OrderByID(ctx, orderID)
	if err != nil {
		return OrderResult{}, err
	}
	if o.Status == store.OrderDeclined {
		return s.replayOrder(ctx, o)
	}
	return s.orderResult(ctx, o, "")
}

func (s *Service) orderResult(ctx context.Context, o store.Order, msg string) (OrderResult, error) {
	w, err := s.Wallet(ctx, o.UserID)
	if err != nil {
		return OrderResult{}, err
	}
	waiting := o.Status == store.OrderPending || o.Status == store.OrderRequiresAction
	if msg == "" && waiting {
		msg = o.Detail // the provider's instructions, as first given
	}
	if msg == "" {
		msg = orderMessage(o)
	}
	res := OrderResult{Order: o, Message: msg, Balance: w.Balance}
	if waiting {
		res.RedirectURL = o.CheckoutURL // still the way to finish paying
	}
	return res, nil
}

func orderMessage(o store.Order) string {
	switch o.Status {
	case store.OrderPaid:
		return fmt.Sprintf("%d coins added to your wallet", o.Coins)
	case store.OrderDeclined:
		return "the payment was declined; try another card"
	case store.OrderRequiresAction:
		return "confirm the payment to finish"
	case store.OrderPending:
		return "waiting for the payment provider"
	case store.OrderRefunded:
		return "refunded"
	case store.OrderChargedBack:
		return "charged back"
	}
	return o.Status
}

// creditOrder posts a paid order: the fiat leg (the provider owes us the
// price) and the coin leg (coins issued to the buyer, repaying any
// receivable first), with the order marked paid in the same transaction.
// A second credit of one order fails with ErrStateChanged.
func (s *Service) creditOrder(ctx context.Context, o store.Order, ref, how string) (store.Posted, error) {
	return s.creditOrderWith(ctx, o, ref, how, nil)
}

func (s *Service) creditOrderWith(ctx context.Context, o store.Order, ref, how string, extra store.TxApply) (store.Posted, error) {
	wallet := walletAccount(o.UserID)
	t := store.Txn{ID: store.NewID("txn"), Kind: "purchase", UserID: o.UserID, Amount: o.Coins, Ref: o.ID,
		Memo: memo(map[string]any{"order": o.ID, "pack": o.PackID, "price": o.Price, "currency": o.Currency, "provider": o.Provider, "via": how}),
		Entries: entries(
			store.Entry{Account: clearingAccount(o.Provider, o.Currency), Amount: o.Price},
			store.Entry{Account: salesAccount(o.Currency), Amount: -o.Price},
			store.Entry{Account: platformAccount("issued"), Amount: -o.Coins},
			store.Entry{Account: wallet, Amount: o.Coins},
		)}
	// The receivable's share is computed in the posting's transaction:
	// read here, two concurrent purchases would both repay the whole debt.
	repay := &store.Repay{Debt: receivableAccount(o.UserID), From: wallet.ID}
	apply := store.OrderTransition(o.ID, []string{store.OrderPending, store.OrderRequiresAction}, store.OrderPaid, "", true)(t.ID)
	if ref != "" {
		apply = store.Apply(apply, store.SetOrderRef(o.ID, ref))
	}
	apply = store.Apply(apply, extra)
	return s.post(ctx, store.Posting{Txn: t, Apply: apply, Repay: repay})
}

// Reverse refunds or charges back a paid order (status store.OrderRefunded
// or store.OrderChargedBack). The fiat leg reverses in full. The coins
// leave the wallet as far as it holds them; coins already spent become a
// receivable the user owes (docs/MONEY.md), never a negative wallet.
func (s *Service) Reverse(ctx context.Context, orderID, status, reason string) (store.Order, error) {
	return s.reverseWith(ctx, orderID, status, reason, nil, nil)
}

func (s *Service) reverseWith(ctx context.Context, orderID, status, reason string, extra store.TxApply, key *store.Idempotency) (store.Order, error) {
	if status != store.OrderRefunded && status != store.OrderChargedBack {
		return store.Order{}, fmt.Errorf("reverse to %q: %w", status, store.ErrInvalid)
	}
	kind := map[string]string{store.OrderRefunded: "refund", store.OrderChargedBack: "chargeback"}[status]
	for attempt := 0; ; attempt++ {
		o, err := s.cfg.Store.OrderByID(ctx, orderID)
		if err != nil {
			return store.Order{}, err
		}
		if o.Status != store.OrderPaid {
			return o, refuse("order_not_paid", "order %s is %s: only a paid order can be %s", o.ID, o.Status, status)
		}
		held, err := s.cfg.Store.Balance(ctx, walletAccount(o.UserID).ID)
		if err != nil {
			return store.Order{}, err
		}
		take := min(o.Coins, held)
		t := store.Txn{ID: store.NewID("txn"), Kind: kind, UserID: o.UserID, Amount: o.Coins, Ref: o.ID,
			Memo: memo(map[string]any{"order": o.ID, "reason": reason, "from_wallet": take, "receivable": o.Coins - take}),
			Entries: entries(
				store.Entry{Account: clearingAccount(o.Provider, o.Currency), Amount: -o.Price},
				store.Entry{Account: salesAccount(o.Currency), Amount: o.Price},
				store.Entry{Account: platformAccount("issued"), Amount: o.Coins},
				store.Entry{Account: walletAccount(o.UserID), Amount: -take},
				store.Entry{Account: receivableAccount(o.UserID), Amount: -(o.Coins - take)},
			)}
		_, err = s.post(ctx, store.Posting{Txn: t, Idem: key, Apply: store.Apply(store.OrderTransition(o.ID, []string{store.OrderPaid}, status, reason, false)(t.ID), extra)})
		if errors.Is(err, store.ErrInsufficient) && attempt < 5 {
			continue // the wallet was spent meanwhile: take what is left
		}
		if err != nil {
			return store.Order{}, err
		}
		return s.cfg.Store.OrderByID(ctx, o.ID)
	}
}
