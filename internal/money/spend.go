package money

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
)

// Spender is who spends: the signed-in user as chat shows them.
type Spender struct {
	User    store.User
	IsAdmin bool
	IP      string
}

// SpendResult answers a gift or a tip; replays answer the same.
type SpendResult struct {
	TxnID    string `json:"txn_id"`
	Coins    int64  `json:"coins"`
	Balance  int64  `json:"balance"`
	Replayed bool   `json:"-"`
}

// GiftRequest sends count of a catalog gift to a channel.
type GiftRequest struct {
	From    Spender
	Channel store.Channel
	GiftID  string
	Count   int64
	At      int64 // the sender's playhead (unix ms), for the stream clock
	IdemKey string
}

// TipRequest sends coins with a message to a channel.
type TipRequest struct {
	From    Spender
	Channel store.Channel
	Amount  int64
	Message string
	At      int64
	IdemKey string
}

// canSpendOn checks the rules every spend on a channel shares.
func (s *Service) canSpendOn(ctx context.Context, from Spender, ch store.Channel, what string) error {
	if ch.Suspended {
		return refuse("channel_suspended", "this channel is suspended; it cannot receive %s", what)
	}
	if ch.OwnerID != "" && ch.OwnerID == from.User.ID {
		return refuse("self_gift", "you cannot send %s to your own channel", what)
	}
	if ch.OwnerID != "" {
		status := ch.OwnerStatus // read with the channel, when it was
		if status == "" {
			owner, err := s.cfg.Store.UserByID(ctx, ch.OwnerID)
			if err != nil {
				return err
			}
			status = owner.Status
		}
		if status != store.StatusActive {
			return refuse("channel_suspended", "this channel's owner is suspended; it cannot receive %s", what)
		}
	}
	return nil // what the spender owes is checked in the posting: owesNothing
}

// owesNothing guards a spend: a user who owes coins from a reversed
// purchase (a negative receivable) cannot spend until it is settled.
func owesNothing(userID string) *store.Guard {
	return &store.Guard{AccountID: receivableAccount(userID).ID, Min: 0}
}

func (s *Service) broadcastOf(ctx context.Context, channelID string) string {
	if s.cfg.Clock == nil {
		return ""
	}
	id, _, ok := s.cfg.Clock.Broadcast(ctx, channelID)
	if !ok {
		return ""
	}
	return id
}

// spendResult renders the stored answer of a spend.
func spendResult(wallet string) func(t store.Txn, bal map[string]int64) string {
	return func(t store.Txn, bal map[string]int64) string {
		b, _ := json.Marshal(SpendResult{TxnID: t.ID, Coins: t.Amount, Balance: bal[wallet]})
		return string(b)
	}
}

func replayed(p store.Posted) (SpendResult, error) {
	var r SpendResult
	if err := json.Unmarshal([]byte(p.Result), &r); err != nil {
		return r, fmt.Errorf("stored result: %w", err)
	}
	r.Replayed = p.Replayed
	return r, nil
}

// insufficient turns an overdrawn wallet into a refusal that says what to do.
func insufficient(err error, need int64) error {
	var ie *store.InsufficientError
	if errors.As(err, &ie) {
		return refuse("insufficient_coins", "you have %d coins and this needs %d; buy coins first", ie.Balance, need)
	}
	var ge *store.GuardError
	if errors.As(err, &ge) {
		return refuse("receivable_outstanding", "you owe %d coins from a reversed purchase; buy coins to settle it before spending", -ge.Balance)
	}
	return err
}

// Gift debits the sender, credits the creator their share and the
// platform the rest, then shows the gift in chat and as an alert.
func (s *Service) Gift(ctx context.Context, req GiftRequest) (SpendResult, error) {
	if req.Count == 0 {
		req.Count = 1
	}
	if req.Count < 1 || req.Count > 100 {
		return SpendResult{}, &store.FieldError{Field: "count", Problem: "count must be 1 to 100"}
	}
	g, err := s.gift(ctx, req.GiftID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !g.Active) {
		return SpendResult{}, &store.FieldError{Field: "gift_id", Problem: "no such gift in the catalog; see GET /api/v1/gifts"}
	}
	if err != nil {
		return SpendResult{}, err
	}
	if err := s.canSpendOn(ctx, req.From, req.Channel, "gifts"); err != nil {
		return SpendResult{}, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return SpendResult{}, err
	}
	coins := g.Price * req.Count
	creator, platform := split(coins, st.GiftShareBPS)
	wallet := walletAccount(req.From.User.ID)
	t := store.Txn{Kind: "gift", UserID: req.From.User.ID, ChannelID: req.Channel.ID, BroadcastID: s.broadcastOf(ctx, req.Channel.ID),
		Amount: coins, Ref: g.ID, Memo: memo(map[string]any{"gift": g.ID, "name": g.Name, "count": req.Count, "share_bps": st.GiftShareBPS}),
		Entries: entries(
			store.Entry{Account: wallet, Amount: -coins},
			store.Entry{Account: earningsAccount(req.Channel.ID), Amount: creator},
			store.Entry{Account: platformAccount("revenue"), Amount: platform},
		)}
	p, err := s.postPaid(ctx, req.Channel, store.Posting{Txn: t, Guard: owesNothing(req.From.User.ID),
		Idem:   idem(req.From.User.ID, req.IdemKey, "gift", req.Channel.ID, req.GiftID, req.Count),
		Result: spendResult(wallet.ID)},
		realtime.Announcement{Kind: realtime.KindGift, User: chatUser(req.From), At: req.At, UserID: req.From.User.ID,
			Money: &realtime.MoneyView{Gift: &realtime.GiftView{ID: g.ID, Name: g.Name, Image: g.Image, Tier: g.Tier}, Count: req.Count, Coins: coins}})
	if err != nil {
		return SpendResult{}, insufficient(err, coins)
	}
	return replayed(p)
}

// Tip sends coins with a message that passes the chat's filters.
func (s *Service) Tip(ctx context.Context, req TipRequest) (SpendResult, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return SpendResult{}, err
	}
	if req.Amount < st.TipMin || req.Amount > st.TipMax {
		return SpendResult{}, &store.FieldError{Field: "amount", Problem: fmt.Sprintf("amount must be a whole number of coins from %d to %d", st.TipMin, st.TipMax)}
	}
	if err := s.canSpendOn(ctx, req.From, req.Channel, "tips"); err != nil {
		return SpendResult{}, err
	}
	text := req.Message
	if s.cfg.Rooms != nil {
		u := req.From.User
		text, err = s.cfg.Rooms.CheckText(ctx, roomOf(req.Channel), realtime.Member{User: &u, IsAdmin: req.From.IsAdmin, IP: req.From.IP}, req.Message)
		if err != nil {
			return SpendResult{}, err
		}
	}
	creator, platform := split(req.Amount, st.TipShareBPS)
	wallet := walletAccount(req.From.User.ID)
	t := store.Txn{Kind: "tip", UserID: req.From.User.ID, ChannelID: req.Channel.ID, BroadcastID: s.broadcastOf(ctx, req.Channel.ID),
		Amount: req.Amount, Memo: memo(map[string]any{"message": text, "share_bps": st.TipShareBPS}),
		Entries: entries(
			store.Entry{Account: wallet, Amount: -req.Amount},
			store.Entry{Account: earningsAccount(req.Channel.ID), Amount: creator},
			store.Entry{Account: platformAccount("revenue"), Amount: platform},
		)}
	p, err := s.postPaid(ctx, req.Channel, store.Posting{Txn: t, Guard: owesNothing(req.From.User.ID),
		Idem:   idem(req.From.User.ID, req.IdemKey, "tip", req.Channel.ID, req.Amount, req.Message),
		Result: spendResult(wallet.ID)},
		realtime.Announcement{Kind: realtime.KindTip, User: chatUser(req.From), Text: text, At: req.At,
			UserID: req.From.User.ID, Money: &realtime.MoneyView{Coins: req.Amount}})
	if err != nil {
		return SpendResult{}, insufficient(err, req.Amount)
	}
	return replayed(p)
}

func chatUser(f Spender) *realtime.User {
	return &realtime.User{ID: f.User.ID, Name: f.User.DisplayName}
}

func roomOf(ch store.Channel) realtime.Channel {
	return realtime.Channel{ID: ch.ID, Slug: ch.Slug, OwnerID: ch.OwnerID}
}

// postPaid posts a payment with its room event: the event is prepared
// first and written in the posting's transaction, then delivered to the
// room. A room that cannot prepare the event is logged and the money
// moves without it: a payment never fails for its alert.
func (s *Service) postPaid(ctx context.Context, ch store.Channel, p store.Posting, a realtime.Announcement) (store.Posted, error) {
	if s.cfg.Rooms == nil {
		return s.post(ctx, p)
	}
	room := roomOf(ch)
	paid, err := s.cfg.Rooms.Prepare(ctx, room, a)
	if err != nil {
		s.log.Warn("money: paid event not shown in chat", "channel", ch.Slug, "kind", a.Kind, "err", err)
		return s.post(ctx, p)
	}
	p.Event = &paid.Event
	posted, err := s.post(ctx, p)
	if err != nil || posted.Event.Seq == 0 {
		s.cfg.Rooms.Withdraw(room, paid)
		return posted, err
	}
	s.cfg.Rooms.Deliver(context.WithoutCancel(ctx), room, posted.Event)
	return posted, nil
}

// announce puts an event that moves no money in the channel's room; a
// room that cannot take it is logged.
func (s *Service) announce(ctx context.Context, ch store.Channel, a realtime.Announcement) {
	if s.cfg.Rooms == nil {
		return
	}
	if _, err := s.cfg.Rooms.Announce(context.WithoutCancel(ctx), roomOf(ch), a); err != nil {
		s.log.Warn("money: paid event not shown in chat", "channel", ch.Slug, "kind", a.Kind, "err", err)
	}
}

// giftTTL is how long the service trusts a catalog entry it read: an
// admin's change to a gift reaches senders within it.
const giftTTL = 5 * time.Second

type cachedGift struct {
	g  store.Gift
	at time.Time
}

// gift reads a catalog gift, from a short cache: every gift of a burst
// names one of a handful of catalog entries.
func (s *Service) gift(ctx context.Context, id string) (store.Gift, error) {
	s.giftMu.Lock()
	c, ok := s.gifts[id]
	s.giftMu.Unlock()
	if ok && time.Since(c.at) < giftTTL {
		return c.g, nil
	}
	g, err := s.cfg.Store.Gift(ctx, id)
	if err != nil {
		return g, err
	}
	s.giftMu.Lock()
	if len(s.gifts) > 1000 { // only catalog gifts get here; bound it all the same
		clear(s.gifts)
	}
	s.gifts[id] = cachedGift{g, time.Now()}
	s.giftMu.Unlock()
	return g, nil
}
