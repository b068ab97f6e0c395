package money

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// RequestPayout moves earnings to pending payout, for an admin to approve.
// replayed reports a repeated request (the same key and amount): the payout
// it made the first time, moved once.
func (s *Service) RequestPayout(ctx context.Context, userID string, ch store.Channel, amount int64, idemKey string) (p store.Payout, replayed bool, err error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return store.Payout{}, false, err
	}
	if amount < st.PayoutMin || amount > maxSpend {
		return store.Payout{}, false, &store.FieldError{Field: "amount", Problem: fmt.Sprintf("amount must be a whole number of coins from %d to %d", st.PayoutMin, maxSpend)}
	}
	p = store.Payout{ID: store.NewID("pay"), ChannelID: ch.ID, Amount: amount, Status: store.PayoutRequested}
	t := store.Txn{Kind: "payout.request", UserID: userID, ChannelID: ch.ID, Amount: amount, Ref: p.ID,
		Entries: []store.Entry{{Account: earningsAccount(ch.ID), Amount: -amount}, {Account: payoutPendingAccount(ch.ID), Amount: amount}}}
	posted, err := s.post(ctx, store.Posting{Txn: t, Idem: idem(userID, idemKey, "payout", ch.ID, amount), Apply: store.InsertPayout(p),
		Result: func(store.Txn, map[string]int64) string { b, _ := json.Marshal(p.ID); return string(b) }})
	var ie *store.InsufficientError
	if errors.As(err, &ie) {
		return store.Payout{}, false, refuse("insufficient_earnings", "you have %d coins available for payout; request at most that", ie.Balance)
	}
	if err != nil {
		return store.Payout{}, false, err
	}
	var id string
	_ = json.Unmarshal([]byte(posted.Result), &id)
	p, err = s.cfg.Store.PayoutByID(ctx, id)
	return p, posted.Replayed, err
}

// PayoutStep is an admin's decision on a payout.
type PayoutStep string

// Payout steps: approve a request, mark an approved payout paid, or
// reject a request (the coins return to earnings).
const (
	Approve PayoutStep = "approve"
	Paid    PayoutStep = "paid"
	Reject  PayoutStep = "reject"
)

// AdvancePayout applies an admin's step; each is one ledger transaction,
// stored with the request's key (idemKey, "" for none): a repeat answers
// the payout as it stands, replayed, and moves nothing.
func (s *Service) AdvancePayout(ctx context.Context, adminID, payoutID string, step PayoutStep, note, idemKey string) (p store.Payout, replayed bool, err error) {
	key := idem(adminID, idemKey, "payout."+string(step), payoutID, note)
	if key != nil {
		if _, seen, err := s.cfg.Store.IdempotentResult(ctx, *key); err != nil {
			return p, false, err
		} else if seen {
			p, err := s.cfg.Store.PayoutByID(ctx, payoutID)
			return p, true, err
		}
	}
	p, err = s.advancePayout(ctx, adminID, payoutID, step, note, key)
	return p, false, err
}

func (s *Service) advancePayout(ctx context.Context, adminID, payoutID string, step PayoutStep, note string, key *store.Idempotency) (store.Payout, error) {
	p, err := s.cfg.Store.PayoutByID(ctx, payoutID)
	if err != nil {
		return p, err
	}
	var from, to string
	var es []store.Entry
	switch step {
	case Approve:
		from, to = store.PayoutRequested, store.PayoutApproved
		es = []store.Entry{{Account: payoutPendingAccount(p.ChannelID), Amount: -p.Amount}, {Account: payoutApprovedAccount(p.ChannelID), Amount: p.Amount}}
	case Paid:
		from, to = store.PayoutApproved, store.PayoutPaid
		es = []store.Entry{{Account: payoutApprovedAccount(p.ChannelID), Amount: -p.Amount}, {Account: platformAccount("paid_out"), Amount: p.Amount}}
	case Reject:
		from, to = store.PayoutRequested, store.PayoutRejected
		es = []store.Entry{{Account: payoutPendingAccount(p.ChannelID), Amount: -p.Amount}, {Account: earningsAccount(p.ChannelID), Amount: p.Amount}}
	default:
		return p, &store.FieldError{Field: "step", Problem: "step must be approve, paid or reject"}
	}
	if p.Status != from {
		return p, refuse("payout_state", "payout %s is %s; it must be %s to %s", p.ID, p.Status, from, step)
	}
	t := store.Txn{Kind: "payout." + string(step), UserID: adminID, ChannelID: p.ChannelID, Amount: p.Amount, Ref: p.ID,
		Memo: memo(map[string]any{"payout": p.ID, "note": note}), Entries: es}
	_, err = s.post(ctx, store.Posting{Txn: t, Idem: key, Apply: store.PayoutTransition(p.ID, from, to, note)})
	if errors.Is(err, store.ErrStateChanged) {
		return p, refuse("payout_state", "payout %s changed meanwhile; reload", p.ID)
	}
	if err != nil {
		return p, err
	}
	return s.cfg.Store.PayoutByID(ctx, p.ID)
}

// Sources are the kinds of income a creator earns.
var Sources = []string{"gift", "tip", "subscription", "ad"}

// EarningsDay is one day of a creator's income by source.
type EarningsDay struct {
	Date    string           `json:"date"`
	Amounts map[string]int64 `json:"amounts"`
}

// Earnings is a creator's money: balances and income by day.
type Earnings struct {
	Balance  int64            `json:"balance"`
	Pending  int64            `json:"pending"`
	Approved int64            `json:"approved"`
	Paid     int64            `json:"paid"`
	Totals   map[string]int64 `json:"totals"`
	Days     []EarningsDay    `json:"days"`
}

// EarningsStore reads income for reports.
type EarningsStore interface {
	AccountIncome(ctx context.Context, accountID string, from time.Time) ([]store.SourceDay, error)
	PaidOut(ctx context.Context, channelID string) (int64, error)
}

// EarningsOf reports a channel's earnings over the last days days; every
// day is listed, zero or not, so charts need no gaps filled.
func (s *Service) EarningsOf(ctx context.Context, channelID string, days int) (Earnings, error) {
	es, ok := s.cfg.Store.(EarningsStore)
	if !ok {
		return Earnings{}, errors.New("money: the store cannot report earnings")
	}
	var e Earnings
	var err error
	if e.Balance, err = s.cfg.Store.Balance(ctx, earningsAccount(channelID).ID); err != nil {
		return e, err
	}
	if e.Pending, err = s.cfg.Store.Balance(ctx, payoutPendingAccount(channelID).ID); err != nil {
		return e, err
	}
	if e.Approved, err = s.cfg.Store.Balance(ctx, payoutApprovedAccount(channelID).ID); err != nil {
		return e, err
	}
	if e.Paid, err = es.PaidOut(ctx, channelID); err != nil {
		return e, err
	}
	from := dayStart(s.now()).AddDate(0, 0, -(days - 1))
	income, err := es.AccountIncome(ctx, earningsAccount(channelID).ID, from)
	if err != nil {
		return e, err
	}
	e.Totals, e.Days = fillDays(income, from, days, Sources)
	return e, nil
}

// Revenue reports the platform's revenue by source per day (coins), and
// coin sales (fiat minor units) as "sales".
func (s *Service) Revenue(ctx context.Context, currency string, days int) (map[string]int64, []EarningsDay, error) {
	es, ok := s.cfg.Store.(EarningsStore)
	if !ok {
		return nil, nil, errors.New("money: the store cannot report revenue")
	}
	from := dayStart(s.now()).AddDate(0, 0, -(days - 1))
	income, err := es.AccountIncome(ctx, platformAccount("revenue").ID, from)
	if err != nil {
		return nil, nil, err
	}
	sales, err := es.AccountIncome(ctx, salesAccount(currency).ID, from)
	if err != nil {
		return nil, nil, err
	}
	// Sales are credits of clearing, i.e. negative entries on the sales account.
	for _, d := range sales {
		m := map[string]int64{"sales": -(d.Amounts["purchase"] + d.Amounts["refund"] + d.Amounts["chargeback"])}
		income = append(income, store.SourceDay{Day: d.Day, Amounts: m})
	}
	totals, out := fillDays(income, from, days, append(append([]string(nil), Sources...), "sales"))
	return totals, out, nil
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func fillDays(income []store.SourceDay, from time.Time, days int, sources []string) (map[string]int64, []EarningsDay) {
	totals := map[string]int64{}
	byDay := map[string]map[string]int64{}
	for _, d := range income {
		key := d.Day.Format("2006-01-02")
		m := byDay[key]
		if m == nil {
			m = map[string]int64{}
			byDay[key] = m
		}
		for k, v := range d.Amounts {
			m[k] += v
		}
	}
	out := make([]EarningsDay, 0, days)
	for i := range days {
		key := from.AddDate(0, 0, i).Format("2006-01-02")
		d := EarningsDay{Date: key, Amounts: map[string]int64{}}
		for _, src := range sources {
			v := byDay[key][src]
			d.Amounts[src] = v
			totals[src] += v
		}
		out = append(out, d)
	}
	for _, src := range sources {
		totals[src] += 0
	}
	return totals, out
}

// MarshalJSON flattens a day: {"date": ..., "gift": 10, ...}.
func (d EarningsDay) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(d.Amounts)+1)
	for k, v := range d.Amounts {
		m[k] = v
	}
	m["date"] = d.Date
	return json.Marshal(m)
}
