package money

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
)

// SubRequest subscribes the sender (or, for a gift, Recipient) to a tier.
type SubRequest struct {
	From      Spender
	Channel   store.Channel
	Tier      int
	Recipient string // a user id: a gifted month; "" subscribes From
	IdemKey   string
}

// SubResult is a subscription as the API shows it.
type SubResult struct {
	Subscription store.Subscription
	Balance      int64
	Replayed     bool
}

// subPeriod is one month from t.
func subPeriod(t time.Time) time.Time { return t.AddDate(0, 1, 0) }

// Subscribe starts, resumes or renews-after-expiry a subscription, or
// gifts a month to another viewer. A current subscription that was
// cancelled resumes renewing without a charge; a current renewing one is
// refused. A gifted month is paid by the gifter and does not renew.
func (s *Service) Subscribe(ctx context.Context, req SubRequest) (SubResult, error) {
	if req.Tier < 1 || req.Tier > 3 {
		return SubResult{}, &store.FieldError{Field: "tier", Problem: "tier must be 1, 2 or 3"}
	}
	subscriber := req.From.User
	gift := req.Recipient != ""
	if gift {
		u, err := s.cfg.Store.UserByID(ctx, req.Recipient)
		if errors.Is(err, store.ErrNotFound) {
			return SubResult{}, &store.FieldError{Field: "recipient", Problem: "no such user"}
		}
		if err != nil {
			return SubResult{}, err
		}
		if u.ID == req.From.User.ID {
			return SubResult{}, &store.FieldError{Field: "recipient", Problem: "gift a subscription to someone else, or subscribe yourself"}
		}
		if u.ID == req.Channel.OwnerID {
			return SubResult{}, refuse("self_gift", "the channel's owner cannot subscribe to their own channel")
		}
		subscriber = u
	}
	if err := s.canSpendOn(ctx, req.From, req.Channel, "subscriptions"); err != nil {
		return SubResult{}, err
	}
	prices, err := s.cfg.Store.TierPrices(ctx, req.Channel.ID)
	if err != nil {
		return SubResult{}, err
	}
	price := prices[req.Tier-1]
	now := s.now()
	cur, err := s.cfg.Store.SubscriptionOf(ctx, req.Channel.ID, subscriber.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return SubResult{}, err
	}
	wallet := walletAccount(req.From.User.ID)
	key := idem(req.From.User.ID, req.IdemKey, "sub", req.Channel.ID, req.Tier, req.Recipient)
	if exists && cur.Current(now) {
		if key != nil {
			// A replay of the request that made this subscription.
			if res, err := s.replaySub(ctx, key, cur); err == nil || !errors.Is(err, errNotReplay) {
				return res, err
			}
		}
		switch {
		case gift:
			return SubResult{}, refuse("already_subscribed", "%s subscribes already until %s", subscriber.DisplayName, cur.PeriodEnd.Format("2 Jan 2006"))
		case cur.Renews:
			return SubResult{}, refuse("already_subscribed", "you subscribe already; it renews on %s", cur.PeriodEnd.Format("2 Jan 2006"))
		case cur.PayerID != subscriber.ID:
			// Resuming would renew on the gifter's wallet.
			return SubResult{}, refuse("already_subscribed", "your subscription is a gift that lasts until %s and does not renew; subscribe yourself once it ends",
				cur.PeriodEnd.Format("2 Jan 2006"))
		}
		if req.Tier != cur.Tier {
			return SubResult{}, &store.FieldError{Field: "tier", Problem: fmt.Sprintf(
				"your cancelled subscription is tier %d until %s: resume it at tier %d; another tier takes a new subscription once it ends",
				cur.Tier, cur.PeriodEnd.Format("2 Jan 2006"), cur.Tier)}
		}
		return s.resume(ctx, req, subscriber.ID, key, cur)
	}
	sub := store.Subscription{ID: store.NewID("sub"), ChannelID: req.Channel.ID, UserID: subscriber.ID, PayerID: req.From.User.ID,
		Tier: req.Tier, Price: price, Status: store.SubActive, Renews: !gift, PeriodEnd: subPeriod(now), Months: 1}
	var expect time.Time
	if exists {
		sub.ID, sub.Months, expect = cur.ID, cur.Months+1, cur.UpdatedAt
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return SubResult{}, err
	}
	creator, platform := split(price, st.SubShareBPS)
	m := map[string]any{"tier": req.Tier, "subscription": sub.ID, "share_bps": st.SubShareBPS}
	if gift {
		m["gifted_to"] = subscriber.ID
	}
	t := store.Txn{Kind: "subscription", UserID: req.From.User.ID, ChannelID: req.Channel.ID, BroadcastID: s.broadcastOf(ctx, req.Channel.ID),
		Amount: price, Ref: sub.ID, Memo: memo(m),
		Entries: entries(
			store.Entry{Account: wallet, Amount: -price},
			store.Entry{Account: earningsAccount(req.Channel.ID), Amount: creator},
			store.Entry{Account: platformAccount("revenue"), Amount: platform},
		)}
	mv := &realtime.MoneyView{Tier: req.Tier, Months: sub.Months, Coins: price}
	if gift {
		mv.GiftedBy = chatUser(req.From)
	}
	p, err := s.postPaid(ctx, req.Channel, store.Posting{Txn: t, Idem: key, Apply: store.PutSubscription(sub, expect), Guard: owesNothing(req.From.User.ID),
		Result: func(_ store.Txn, bal map[string]int64) string { return strconv.FormatInt(bal[wallet.ID], 10) }},
		realtime.Announcement{Kind: realtime.KindSub, UserID: subscriber.ID,
			User: &realtime.User{ID: subscriber.ID, Name: subscriber.DisplayName, Badges: []string{"subscriber"}}, Money: mv})
	if errors.Is(err, store.ErrStateChanged) {
		return SubResult{}, refuse("conflict", "the subscription changed meanwhile; reload and try again")
	}
	if err != nil {
		return SubResult{}, insufficient(err, price)
	}
	got, err := s.cfg.Store.SubscriptionOf(ctx, req.Channel.ID, subscriber.ID)
	if err != nil {
		return SubResult{}, err
	}
	bal, _ := strconv.ParseInt(p.Result, 10, 64)
	if p.Replayed {
		return SubResult{Subscription: got, Balance: bal, Replayed: true}, nil
	}
	return SubResult{Subscription: got, Balance: bal}, nil
}

// resume turns a cancelled subscription's renewal back on, moving no
// money; the key and the answer are stored with it, so a repeat of the
// request (which finds it renewing) answers the same.
func (s *Service) resume(ctx context.Context, req SubRequest, subscriberID string, key *store.Idempotency, cur store.Subscription) (SubResult, error) {
	bal, err := s.cfg.Store.Balance(ctx, walletAccount(req.From.User.ID).ID)
	if err != nil {
		return SubResult{}, err
	}
	sub, err := s.cfg.Store.ResumeRenewal(ctx, req.Channel.ID, subscriberID, key, strconv.FormatInt(bal, 10))
	if errors.Is(err, store.ErrStateChanged) {
		if key != nil { // a concurrent twin of this request won
			if now, err := s.cfg.Store.SubscriptionOf(ctx, req.Channel.ID, subscriberID); err == nil {
				cur = now
			}
			if res, err := s.replaySub(ctx, key, cur); err == nil || !errors.Is(err, errNotReplay) {
				return res, err
			}
		}
		return SubResult{}, refuse("already_subscribed", "you subscribe already; it renews on %s", cur.PeriodEnd.Format("2 Jan 2006"))
	}
	if err != nil {
		return SubResult{}, err
	}
	return SubResult{Subscription: sub, Balance: bal}, nil
}

// replaySub answers a repeated subscribe request with its first result;
// errNotReplay means the key is new.
func (s *Service) replaySub(ctx context.Context, key *store.Idempotency, cur store.Subscription) (SubResult, error) {
	p, ok, err := s.cfg.Store.IdempotentResult(ctx, *key)
	if err != nil {
		return SubResult{}, err
	}
	if !ok {
		return SubResult{}, errNotReplay
	}
	bal, _ := strconv.ParseInt(p.Result, 10, 64)
	return SubResult{Subscription: cur, Balance: bal, Replayed: true}, nil
}

var errNotReplay = errors.New("not a replay")

// Cancel stops renewal; the perks last until the period's end.
func (s *Service) Cancel(ctx context.Context, channelID, userID string) (store.Subscription, error) {
	sub, err := s.cfg.Store.SubscriptionOf(ctx, channelID, userID)
	if err != nil {
		return sub, err
	}
	if !sub.Current(s.now()) {
		return sub, refuse("not_subscribed", "you have no current subscription to cancel")
	}
	return s.cfg.Store.SetRenews(ctx, channelID, userID, false)
}

// RenewStats counts one scheduler pass.
type RenewStats struct {
	Renewed, Expired, Failed int
}

// renewChunk is how many renewals share one database transaction.
const renewChunk = 500

// RenewDue renews every subscription due by now: each renewing one is
// charged a month and moves to its next period; those cancelled, gifted
// or unpaid expire. A renewal is keyed by (subscription, period), so a
// pass that is interrupted and run again, here or on another node,
// charges no period twice.
func (s *Service) RenewDue(ctx context.Context, now time.Time) (RenewStats, error) {
	var st RenewStats
	set, err := s.Settings(ctx)
	if err != nil {
		return st, err
	}
	for {
		due, err := s.cfg.Store.DueSubscriptions(ctx, now, 5000)
		if err != nil {
			return st, err
		}
		if len(due) == 0 {
			return st, nil
		}
		var expire []store.Subscription
		progress := 0
		open := map[string]bool{} // channels that may take subscriptions, this pass
		for start := 0; start < len(due); start += renewChunk {
			chunk := due[start:min(start+renewChunk, len(due))]
			var ps []store.Posting
			var subs []store.Subscription
			for _, sub := range chunk {
				if !sub.Renews {
					expire = append(expire, sub)
					continue
				}
				ok, err := s.renewsOn(ctx, open, sub.ChannelID)
				if err != nil {
					return st, err
				}
				if !ok {
					expire = append(expire, sub) // a suspended channel's subscriptions run out
					continue
				}
				creator, platform := split(sub.Price, set.SubShareBPS)
				next := subPeriod(sub.PeriodEnd)
				if next.Before(now) { // long overdue (server was down): restart from now
					next = subPeriod(now)
				}
				ps = append(ps, store.Posting{
					Txn: store.Txn{Kind: "subscription", UserID: sub.PayerID, ChannelID: sub.ChannelID, Amount: sub.Price, Ref: sub.ID,
						Memo: memo(map[string]any{"tier": sub.Tier, "subscription": sub.ID, "renewal": true, "share_bps": set.SubShareBPS}),
						Entries: entries(
							store.Entry{Account: walletAccount(sub.PayerID), Amount: -sub.Price},
							store.Entry{Account: earningsAccount(sub.ChannelID), Amount: creator},
							store.Entry{Account: platformAccount("revenue"), Amount: platform},
						)},
					Idem:  &store.Idempotency{Scope: "renewal", Key: sub.ID + ":" + strconv.FormatInt(sub.PeriodEnd.UnixMilli(), 10), Hash: "renewal"},
					Apply: store.RenewSubscription(sub.ID, sub.PeriodEnd, next), ApplyAtomic: true,
					Guard: owesNothing(sub.PayerID),
				})
				subs = append(subs, sub)
			}
			if len(ps) == 0 {
				continue
			}
			posted, errs := s.cfg.Store.PostBatch(ctx, ps)
			for i, err := range errs {
				switch {
				case err == nil && posted[i].Replayed:
					progress++ // renewed meanwhile by another pass
				case err == nil:
					st.Renewed++
					progress++
				case errors.Is(err, store.ErrInsufficient), errors.As(err, new(*store.GuardError)):
					expire = append(expire, subs[i]) // unpaid, or the payer owes coins
				case errors.Is(err, store.ErrStateChanged):
					progress++ // renewed meanwhile by another pass
				default:
					st.Failed++
					s.log.Warn("money: renewal failed; it is retried on the next pass", "subscription", subs[i].ID, "err", err)
				}
			}
		}
		if err := s.cfg.Store.ExpireSubscriptions(ctx, expire); err != nil {
			return st, err
		}
		st.Expired += len(expire)
		progress += len(expire)
		if progress == 0 {
			return st, fmt.Errorf("renewals make no progress: %d due failed", st.Failed)
		}
	}
}

// renewsOn reports whether a channel's subscriptions may renew: the
// rules of Subscribe, where a suspended channel, or one whose owner is
// suspended or banned, takes no subscription money. open caches the
// answer for one pass.
func (s *Service) renewsOn(ctx context.Context, open map[string]bool, channelID string) (bool, error) {
	if ok, seen := open[channelID]; seen {
		return ok, nil
	}
	ch, err := s.cfg.Store.ChannelByID(ctx, channelID)
	if errors.Is(err, store.ErrNotFound) {
		open[channelID] = false
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// The owner cannot subscribe to their own channel: From is nobody.
	err = s.canSpendOn(ctx, Spender{}, ch, "subscriptions")
	var rf *Refusal
	if err != nil && !errors.As(err, &rf) {
		return false, err
	}
	open[channelID] = err == nil
	return err == nil, nil
}

func (s *Service) renewLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RenewEvery)
	defer t.Stop()
	for {
		st, err := s.RenewDue(ctx, s.now())
		if err != nil && ctx.Err() == nil {
			s.log.Warn("money: renewal pass failed", "err", err)
		} else if st.Renewed+st.Expired > 0 {
			s.log.Info("money: renewal pass", "renewed", st.Renewed, "expired", st.Expired, "failed", st.Failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SubView is the JSON shape of a subscription for its subscriber.
type SubView struct {
	Subscribed bool       `json:"subscribed"`
	Tier       int        `json:"tier,omitempty"`
	Status     string     `json:"status"`
	Renews     bool       `json:"renews"`
	PeriodEnd  *time.Time `json:"period_end,omitempty"`
	Months     int        `json:"months,omitempty"`
	Gifted     bool       `json:"gifted,omitempty"`
	Balance    *int64     `json:"balance,omitempty"`
}

// ViewOf renders a subscription at now.
func ViewOf(sub store.Subscription, found bool, now time.Time) SubView {
	if !found {
		return SubView{Status: "none"}
	}
	end := sub.PeriodEnd
	status := sub.Status
	if status == store.SubActive && !now.Before(end) {
		status = store.SubExpired
	}
	return SubView{Subscribed: sub.Current(now), Tier: sub.Tier, Status: status, Renews: sub.Renews && sub.Current(now),
		PeriodEnd: &end, Months: sub.Months, Gifted: sub.PayerID != sub.UserID}
}

// MarshalResult renders a SubResult for the API.
func (r SubResult) MarshalJSON() ([]byte, error) {
	v := ViewOf(r.Subscription, true, time.Now())
	v.Balance = &r.Balance
	return json.Marshal(v)
}
