package money

import (
	"context"
	"errors"
	"fmt"

	"github.com/livehouse/livehouse/internal/store"
)

// Provider event kinds the money service acts on.
const (
	EventPaid        = "paid"
	EventFailed      = "failed"
	EventRefunded    = "refunded"
	EventChargedBack = "charged_back"
	// EventPartialRefund is a refund of part of a payment: nothing is
	// reversed, the order is noted for an admin to review.
	EventPartialRefund = "partial_refund"
	EventIgnored       = "ignored"
)

// ProviderEvent is a verified webhook event, in the provider's terms
// mapped to ours. OrderID names our order (from the event's metadata);
// Ref is the provider's payment id.
type ProviderEvent struct {
	Provider string
	EventID  string
	Type     string
	Kind     string
	OrderID  string
	Ref      string
	Amount   int64
	Currency string
}

// EventOutcome says what handling an event did.
type EventOutcome struct {
	Duplicate bool   `json:"duplicate"`
	Action    string `json:"action"`
}

// HandleEvent applies a verified provider event once: the event's id is
// recorded in the transaction that moves the money, so a redelivery moves
// nothing and reports a duplicate.
func (s *Service) HandleEvent(ctx context.Context, ev ProviderEvent) (EventOutcome, error) {
	seen, err := s.cfg.Store.PaymentEventSeen(ctx, ev.Provider, ev.EventID)
	if err != nil {
		return EventOutcome{}, err
	}
	if seen {
		return EventOutcome{Duplicate: true, Action: "none"}, nil
	}
	record := store.RecordPaymentEvent(ev.Provider, ev.EventID)
	var o store.Order
	if ev.Kind != EventIgnored {
		o, err = s.orderOfEvent(ctx, ev)
		if err != nil {
			return EventOutcome{}, err
		}
	}
	switch ev.Kind {
	case EventPaid:
		if ev.Amount != 0 && (ev.Amount != o.Price || ev.Currency != o.Currency) {
			return EventOutcome{}, refuse("amount_mismatch", "event %s pays %d %s for order %s of %d %s", ev.EventID, ev.Amount, ev.Currency, o.ID, o.Price, o.Currency)
		}
		if o.Status == store.OrderPaid {
			return EventOutcome{Action: "none"}, s.cfg.Store.MarkPaymentEvent(ctx, ev.Provider, ev.EventID)
		}
		_, err = s.creditOrderWith(ctx, o, ev.Ref, "webhook", record)
		if errors.Is(err, store.ErrExists) {
			return EventOutcome{Duplicate: true, Action: "none"}, nil
		}
		return EventOutcome{Action: "credited"}, err
	case EventFailed:
		if o.Status == store.OrderPending || o.Status == store.OrderRequiresAction {
			err := s.cfg.Store.UpdateOrder(ctx, o.ID, []string{store.OrderPending, store.OrderRequiresAction},
				store.OrderUpdate{Status: store.OrderDeclined, Detail: "the payment failed or expired at " + ev.Provider})
			if errors.Is(err, store.ErrStateChanged) {
				return EventOutcome{Action: "none"}, s.cfg.Store.MarkPaymentEvent(ctx, ev.Provider, ev.EventID) // paid meanwhile
			}
			if err != nil {
				return EventOutcome{}, err
			}
		}
		return EventOutcome{Action: "declined"}, s.cfg.Store.MarkPaymentEvent(ctx, ev.Provider, ev.EventID)
	case EventPartialRefund:
		note := fmt.Sprintf("%s refunded %d of %d %s (event %s): nothing reversed here, for an admin to review", ev.Provider, ev.Amount, o.Price, o.Currency, ev.EventID)
		s.log.Warn("money: a partial refund moves nothing; an admin should review the order", "order", o.ID, "event", ev.EventID,
			"refunded", ev.Amount, "price", o.Price, "currency", o.Currency)
		if err := s.cfg.Store.NoteOrder(ctx, o.ID, note); err != nil {
			return EventOutcome{}, err
		}
		return EventOutcome{Action: "review"}, s.cfg.Store.MarkPaymentEvent(ctx, ev.Provider, ev.EventID)
	case EventRefunded, EventChargedBack:
		status := store.OrderRefunded
		if ev.Kind == EventChargedBack {
			status = store.OrderChargedBack
		}
		cur, err := s.reverseWith(ctx, o.ID, status, ev.Provider+" "+ev.Type, record, nil)
		if errors.Is(err, store.ErrExists) {
			return EventOutcome{Duplicate: true, Action: "none"}, nil
		}
		var rf *Refusal
		if errors.As(err, &rf) && rf.Code() == "order_not_paid" {
			return s.reversalOfUnpaid(ctx, ev, cur)
		}
		return EventOutcome{Action: status}, err
	}
	return EventOutcome{Action: "none"}, s.cfg.Store.MarkPaymentEvent(ctx, ev.Provider, ev.EventID)
}

// reversalOfUnpaid handles a refund or dispute of an order that is not
// paid here. One still waiting for its payment is refused, unrecorded, so
// the provider delivers it again (after the payment's own event); a
// dispute of a refunded order is noted for an admin, who settles it at
// the provider; any other (a second reversal) moves nothing.
func (s *Service) reversalOfUnpaid(ctx context.Context, ev ProviderEvent, o store.Order) (EventOutcome, error) {
	switch {
	case o.Status == store.OrderPending || o.Status == store.OrderRequiresAction:
		return EventOutcome{}, refuse("order_not_paid", "event %s reverses order %s, which is still %s here; deliver it again once the payment is recorded", ev.EventID, o.ID, o.Status)
	case ev.Kind == EventChargedBack && o.Status == store.OrderRefunded:
		s.log.Warn("money: a dispute of a refunded order moves nothing; an admin should review it", "order", o.ID, "event", ev.EventID)
		if err := s.cfg.Store.NoteOrder(ctx, o.ID, fmt.Sprintf("disputed at %s after its refund (event %s): nothing moved here, for an admin to review", ev.Provider, ev.EventID)); err != nil {
			return EventOutcome{}, err
		}
		return EventOutcome{Action: "review"}, s.cfg.Store.MarkPaymentEvent(ctx, ev.Provider, ev.EventID)
	}
	return EventOutcome{Action: "none"}, s.cfg.Store.MarkPaymentEvent(ctx, ev.Provider, ev.EventID)
}

func (s *Service) orderOfEvent(ctx context.Context, ev ProviderEvent) (store.Order, error) {
	if ev.OrderID != "" {
		o, err := s.cfg.Store.OrderByID(ctx, ev.OrderID)
		if err == nil && o.Provider == ev.Provider {
			return o, nil
		}
	}
	if ev.Ref != "" {
		if o, err := s.cfg.Store.OrderByRef(ctx, ev.Provider, ev.Ref); err == nil {
			return o, nil
		}
	}
	return store.Order{}, refuse("unknown_order", "event %s names no order of this server", ev.EventID)
}

// RefundRequest is an admin's refund or chargeback of an order.
type RefundRequest struct {
	AdminID, OrderID string
	Status           string // store.OrderRefunded or store.OrderChargedBack
	Reason           string
	IdemKey          string
}

// Refund reverses a paid order on the admin's word (sandbox orders; real
// providers' refunds arrive by webhook after the admin refunds there).
// The key is stored with the reversal: a repeat answers the order as it
// stands, replayed, and moves nothing.
func (s *Service) Refund(ctx context.Context, req RefundRequest) (o store.Order, replayed bool, err error) {
	key := idem(req.AdminID, req.IdemKey, "reverse", req.OrderID, req.Status)
	if key != nil {
		if _, seen, err := s.cfg.Store.IdempotentResult(ctx, *key); err != nil {
			return o, false, err
		} else if seen {
			o, err := s.cfg.Store.OrderByID(ctx, req.OrderID)
			return o, true, err
		}
	}
	o, err = s.cfg.Store.OrderByID(ctx, req.OrderID)
	if err != nil {
		return o, false, err
	}
	if o.Provider != "sandbox" {
		return o, false, refuse("provider_refund", "refund %s orders at %s; its webhook then reverses the order here", o.Provider, o.Provider)
	}
	o, err = s.reverseWith(ctx, req.OrderID, req.Status, req.Reason, nil, key)
	return o, false, err
}
