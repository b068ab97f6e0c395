package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/server"
)

// Money tests drive docs/MONEY.md over HTTP: every amount is checked in
// the wallet, in the creator's earnings and in the ledger, and the ledger
// must verify clean after every step.

var keySeq atomic.Int64

// newKey returns a fresh Idempotency-Key.
func newKey() string { return fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), keySeq.Add(1)) }

// decode reads a JSON answer into T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer does not decode into %T (%d): %s", v, r.status, r.body)
	}
	return v
}

// pay posts a money request under an Idempotency-Key.
func (c *client) pay(t *testing.T, path, key string, body any) response {
	t.Helper()
	return c.do(t, req{method: "POST", path: "/api/v1" + path, body: body, header: map[string]string{"Idempotency-Key": key}})
}

type walletView struct {
	Balance    int64  `json:"balance"`
	Receivable int64  `json:"receivable"`
	Currency   string `json:"currency"`
}

func (c *client) wallet(t *testing.T) walletView {
	t.Helper()
	return decode[walletView](t, want(t, c.get(t, "/api/v1/me/wallet"), 200))
}

type orderView struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	PackID      string `json:"pack_id"`
	Coins       int64  `json:"coins"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	Provider    string `json:"provider"`
	Message     string `json:"message"`
	CheckoutURL string `json:"checkout_url"`
	Balance     int64  `json:"balance"`
}

type spendView struct {
	TxnID   string `json:"txn_id"`
	Coins   int64  `json:"coins"`
	Balance int64  `json:"balance"`
}

type subView struct {
	Subscribed bool       `json:"subscribed"`
	Tier       int        `json:"tier"`
	Status     string     `json:"status"`
	Renews     bool       `json:"renews"`
	PeriodEnd  *time.Time `json:"period_end"`
	Months     int        `json:"months"`
	Gifted     bool       `json:"gifted"`
	Balance    *int64     `json:"balance"`
}

type earningsView struct {
	Balance  int64            `json:"balance"`
	Pending  int64            `json:"pending"`
	Approved int64            `json:"approved"`
	Paid     int64            `json:"paid"`
	Totals   map[string]int64 `json:"totals"`
	Days     []map[string]any `json:"days"`
}

func (c *client) earnings(t *testing.T, slug string) earningsView {
	t.Helper()
	return decode[earningsView](t, want(t, c.get(t, "/api/v1/channels/"+slug+"/earnings"), 200))
}

type ledgerTxn struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	UserID    string         `json:"user_id"`
	ChannelID string         `json:"channel_id"`
	Amount    int64          `json:"amount"`
	Memo      map[string]any `json:"memo"`
	Entries   []struct {
		Account  string `json:"account"`
		Currency string `json:"currency"`
		Amount   int64  `json:"amount"`
	} `json:"entries"`
}

// legs maps a transaction's accounts to their amounts.
func (x ledgerTxn) legs() map[string]int64 {
	m := map[string]int64{}
	for _, e := range x.Entries {
		m[e.Account] = e.Amount
	}
	return m
}

// ledgerTxns lists the admin's view of the ledger, newest first.
func ledgerTxns(t *testing.T, admin *client, query string) []ledgerTxn {
	t.Helper()
	return decode[struct {
		Items []ledgerTxn `json:"items"`
	}](t, want(t, admin.get(t, "/api/v1/admin/ledger?"+query), 200)).Items
}

// ledgerState is every account's balance and the ledger's size. Accounts
// at zero are left out: the store's batch path opens the accounts of a
// posting before it checks the floors, so a refused spend may leave its
// accounts behind at zero (nothing moved, and verify stays clean).
type ledgerState struct {
	Balances      map[string]int64
	Txns, Entries int64
}

// ledger reads the ledger through the admin API and fails the test
// unless GET /admin/ledger/verify is clean.
func ledger(t *testing.T, admin *client) ledgerState {
	t.Helper()
	v := decode[struct {
		OK       bool             `json:"ok"`
		Breaches []map[string]any `json:"breaches"`
		Txns     int64            `json:"txns"`
		Entries  int64            `json:"entries"`
	}](t, want(t, admin.get(t, "/api/v1/admin/ledger/verify"), 200))
	if !v.OK || len(v.Breaches) != 0 {
		t.Fatalf("ledger verify: breaches %v", v.Breaches)
	}
	as := decode[struct {
		Items []struct {
			ID      string `json:"id"`
			Balance int64  `json:"balance"`
		} `json:"items"`
	}](t, want(t, admin.get(t, "/api/v1/admin/ledger/accounts"), 200))
	st := ledgerState{Balances: map[string]int64{}, Txns: v.Txns, Entries: v.Entries}
	for _, a := range as.Items {
		if a.Balance != 0 {
			st.Balances[a.ID] = a.Balance
		}
	}
	return st
}

// unmoved fails unless the ledger is as it was.
func unmoved(t *testing.T, what string, before, after ledgerState) {
	t.Helper()
	if !reflect.DeepEqual(before, after) {
		t.Errorf("%s moved money:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// moneyWorld is a server with an admin, a creator with the channel
// "stage" and a viewer.
type moneyWorld struct {
	ts                     *testServer
	admin, creator, viewer *client
	channelID              string
}

func newMoneyWorld(t *testing.T, dsn string, edit ...func(*server.Config)) *moneyWorld {
	t.Helper()
	ts := start(t, dsn, edit...)
	w := &moneyWorld{ts: ts, admin: ts.admin(t, "admin@example.com"), creator: ts.signUp(t, "creator@example.com"),
		viewer: ts.signUp(t, "viewer@example.com")}
	w.creator.createChannel(t, "stage", "music")
	ch, err := ts.srv.Store().ChannelBySlug(t.Context(), "stage") // the API shows no channel ids
	if err != nil {
		t.Fatal(err)
	}
	w.channelID = ch.ID
	return w
}

// packID finds the coin pack of that many coins.
func packID(t *testing.T, c *client, coins int64) string {
	t.Helper()
	packs := decode[struct {
		Items []struct {
			ID    string `json:"id"`
			Coins int64  `json:"coins"`
		} `json:"items"`
	}](t, want(t, c.get(t, "/api/v1/coin-packs"), 200))
	for _, p := range packs.Items {
		if p.Coins == coins {
			return p.ID
		}
	}
	t.Fatalf("no pack of %d coins in %+v", coins, packs.Items)
	return ""
}

// giftID finds a catalog gift by name.
func giftID(t *testing.T, c *client, name string) string {
	t.Helper()
	gs := decode[struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}](t, want(t, c.get(t, "/api/v1/gifts"), 200))
	for _, g := range gs.Items {
		if g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("no gift %q in %+v", name, gs.Items)
	return ""
}

// buy buys the pack of that many coins with the sandbox's good card.
func (c *client) buy(t *testing.T, coins int64) orderView {
	t.Helper()
	o := decode[orderView](t, want(t, c.pay(t, "/payments/orders", newKey(),
		map[string]string{"pack_id": packID(t, c, coins), "provider": "sandbox", "card": payment.CardSucceeds}), 201))
	if o.Status != "paid" || o.Coins != coins {
		t.Fatalf("order %+v, want %d coins paid", o, coins)
	}
	return o
}

func TestSandboxOrdersCreditCoinsOnlyWhenPaid(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		v, admin := w.viewer, w.admin
		pouch := packID(t, v, 550)
		order := func(key, card string) response {
			return v.pay(t, "/payments/orders", key, map[string]string{"pack_id": pouch, "provider": "sandbox", "card": card})
		}

		paid := decode[orderView](t, want(t, order(newKey(), payment.CardSucceeds), 201))
		if paid.Status != "paid" || paid.Coins != 550 || paid.Price != 499 || paid.Currency != "USD" || paid.Balance != 550 || paid.Provider != "sandbox" {
			t.Errorf("paid order = %+v", paid)
		}
		if got := v.wallet(t); got != (walletView{Balance: 550, Currency: "COIN"}) {
			t.Errorf("wallet after a paid order = %+v", got)
		}
		if got := decode[orderView](t, want(t, v.get(t, "/api/v1/payments/orders/"+paid.ID), 200)); got.Status != "paid" || got.Balance != 550 {
			t.Errorf("GET order = %+v", got)
		}
		if r := w.creator.get(t, "/api/v1/payments/orders/"+paid.ID); r.status != 404 {
			t.Errorf("another user reads the order: %s, want 404", r)
		}
		purchases := ledgerTxns(t, admin, "kind=purchase")
		if len(purchases) != 1 {
			t.Fatalf("%d purchase transactions, want 1", len(purchases))
		}
		wantLegs := map[string]int64{"clearing:sandbox:USD": 499, "platform:sales:USD": -499, "platform:issued": -550,
			"wallet:" + v.user["id"].(string): 550}
		if got := purchases[0].legs(); !reflect.DeepEqual(got, wantLegs) {
			t.Errorf("purchase legs = %v, want %v", got, wantLegs)
		}
		before := ledger(t, admin)

		// A declined card: 402, the order is kept as declined, no coins.
		declined := order(newKey(), payment.CardDeclined)
		if declined.status != 402 || declined.errCode() != "card_declined" {
			t.Errorf("declined card: %s, want 402 card_declined", declined)
		}
		unmoved(t, "a declined card", before, ledger(t, admin))

		// A card that needs confirmation: a wrong code declines the order
		// for good; a new order confirmed with the right code is paid.
		pending := decode[orderView](t, want(t, order(newKey(), payment.CardNeedsAction), 201))
		if pending.Status != "requires_action" || pending.Balance != 550 || !strings.Contains(pending.Message, payment.ConfirmCode) {
			t.Errorf("order needing confirmation = %+v", pending)
		}
		unmoved(t, "an order waiting for confirmation", before, ledger(t, admin))
		confirm := func(id, code string) response {
			return v.pay(t, "/payments/orders/"+id+"/confirm", newKey(), map[string]string{"code": code})
		}
		wrongKey := newKey()
		if r := v.pay(t, "/payments/orders/"+pending.ID+"/confirm", wrongKey, map[string]string{"code": "000000"}); r.status != 402 || r.errCode() != "card_declined" {
			t.Errorf("wrong confirmation code: %s, want 402 card_declined", r)
		}
		// The confirmation's key is kept: repeated, it answers the same;
		// reused with another code, it is a conflict.
		if r := v.pay(t, "/payments/orders/"+pending.ID+"/confirm", wrongKey, map[string]string{"code": "000000"}); r.status != 402 || r.errCode() != "card_declined" {
			t.Errorf("the wrong code repeated with its key: %s, want 402 card_declined again", r)
		}
		if r := v.pay(t, "/payments/orders/"+pending.ID+"/confirm", wrongKey, map[string]string{"code": payment.ConfirmCode}); r.status != 422 || r.errCode() != "idempotency_conflict" {
			t.Errorf("the confirmation key reused with another code: %s, want 422 idempotency_conflict", r)
		}
		if r := decode[orderView](t, want(t, confirm(pending.ID, payment.ConfirmCode), 200)); r.Status != "declined" {
			t.Errorf("the right code after a wrong one revived the order: %+v", r)
		}
		unmoved(t, "a declined confirmation", before, ledger(t, admin))

		second := decode[orderView](t, want(t, order(newKey(), payment.CardNeedsAction), 201))
		if r := w.creator.pay(t, "/payments/orders/"+second.ID+"/confirm", newKey(), map[string]string{"code": payment.ConfirmCode}); r.status != 404 {
			t.Errorf("another user confirms the order: %s, want 404", r)
		}
		okKey := newKey()
		ok := decode[orderView](t, want(t, v.pay(t, "/payments/orders/"+second.ID+"/confirm", okKey, map[string]string{"code": payment.ConfirmCode}), 200))
		if ok.Status != "paid" || ok.Balance != 1100 {
			t.Errorf("confirmed order = %+v", ok)
		}
		if r := want(t, v.pay(t, "/payments/orders/"+second.ID+"/confirm", okKey, map[string]string{"code": payment.ConfirmCode}), 200); r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the confirmation repeated with its key: %s, want a replay", r)
		}
		if again := decode[orderView](t, want(t, confirm(second.ID, payment.ConfirmCode), 200)); again.Status != "paid" || again.Balance != 1100 {
			t.Errorf("confirming a paid order again = %+v", again)
		}
		if got := v.wallet(t).Balance; got != 1100 {
			t.Errorf("wallet = %d, want 1100", got)
		}
		after := ledger(t, admin)
		if after.Txns != before.Txns+1 || after.Balances["clearing:sandbox:USD"] != 998 {
			t.Errorf("after the confirmed order: %d transactions (want %d), clearing %d (want 998)", after.Txns, before.Txns+1, after.Balances["clearing:sandbox:USD"])
		}
		statuses := map[string]int{}
		for _, o := range decode[struct {
			Items []orderView `json:"items"`
		}](t, want(t, admin.get(t, "/api/v1/admin/orders"), 200)).Items {
			statuses[o.Status]++
		}
		if !reflect.DeepEqual(statuses, map[string]int{"paid": 2, "declined": 2}) {
			t.Errorf("orders by status = %v", statuses)
		}
	})
}

func TestGiftDebitsTheViewerAndSplitsItsCoinsByTheConfiguredShare(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		settings := want(t, w.admin.get(t, "/api/v1/admin/monetization"), 200).json(t)
		settings["gift_share_bps"] = 6500
		want(t, w.admin.do(t, req{method: "PUT", path: "/api/v1/admin/monetization", body: settings}), 200)
		w.viewer.buy(t, 100)
		rose := giftID(t, w.viewer, "Rose") // 10 coins

		res := decode[spendView](t, want(t, w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": rose, "count": 3}), 201))
		if res.Coins != 30 || res.Balance != 70 || res.TxnID == "" {
			t.Errorf("gift answer = %+v", res)
		}
		if got := w.viewer.wallet(t).Balance; got != 70 {
			t.Errorf("wallet = %d, want 70", got)
		}
		// 65 % of 30 is 19.5: the creator's part rounds down, the platform
		// gets the rest.
		e := w.creator.earnings(t, "stage")
		if e.Balance != 19 || e.Totals["gift"] != 19 || e.Totals["tip"] != 0 || len(e.Days) != 30 {
			t.Errorf("earnings: balance %d, totals %v, %d days; want 19, 19 from gifts, 30 days", e.Balance, e.Totals, len(e.Days))
		}
		if today := e.Days[len(e.Days)-1]; today["gift"] != float64(19) {
			t.Errorf("today's earnings = %v", today)
		}
		gifts := ledgerTxns(t, w.admin, "kind=gift")
		if len(gifts) != 1 || gifts[0].ID != res.TxnID || gifts[0].Amount != 30 || gifts[0].ChannelID != w.channelID {
			t.Fatalf("gift transactions = %+v", gifts)
		}
		wantLegs := map[string]int64{"wallet:" + w.viewer.user["id"].(string): -30, "earnings:" + w.channelID: 19, "platform:revenue": 11}
		if got := gifts[0].legs(); !reflect.DeepEqual(got, wantLegs) {
			t.Errorf("gift legs = %v, want %v", got, wantLegs)
		}
		st := ledger(t, w.admin)
		if st.Balances["platform:revenue"] != 11 || st.Balances["earnings:"+w.channelID] != 19 {
			t.Errorf("accounts = %v", st.Balances)
		}
		txns := decode[struct {
			Items []struct {
				Kind    string `json:"kind"`
				Amount  int64  `json:"amount"`
				Channel string `json:"channel"`
			} `json:"items"`
		}](t, want(t, w.viewer.get(t, "/api/v1/me/wallet/transactions"), 200)).Items
		if len(txns) != 2 || txns[0].Kind != "gift" || txns[0].Amount != -30 || txns[0].Channel != "stage" || txns[1].Kind != "purchase" || txns[1].Amount != 100 {
			t.Errorf("wallet transactions = %+v", txns)
		}
		board := want(t, w.viewer.get(t, "/api/v1/channels/stage/leaderboard?period=week"), 200).json(t)["items"].([]any)
		if len(board) != 1 || board[0].(map[string]any)["coins"] != float64(30) {
			t.Errorf("weekly leaderboard = %v", board)
		}
	})
}

func TestTipCarriesItsMessageAndPaysTheTipShare(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		w.viewer.buy(t, 550)
		res := decode[spendView](t, want(t, w.viewer.pay(t, "/channels/stage/tips", newKey(),
			map[string]any{"amount": 125, "message": "  great set <3  "}), 201))
		if res.Coins != 125 || res.Balance != 425 {
			t.Errorf("tip answer = %+v", res)
		}
		tips := ledgerTxns(t, w.admin, "kind=tip")
		if len(tips) != 1 {
			t.Fatalf("%d tip transactions", len(tips))
		}
		// Default tip share 90 %: 112.5 rounds down to 112.
		wantLegs := map[string]int64{"wallet:" + w.viewer.user["id"].(string): -125, "earnings:" + w.channelID: 112, "platform:revenue": 13}
		if got := tips[0].legs(); !reflect.DeepEqual(got, wantLegs) {
			t.Errorf("tip legs = %v, want %v", got, wantLegs)
		}
		if msg := tips[0].Memo["message"]; msg != "great set <3" {
			t.Errorf("tip message in the ledger = %q", msg)
		}
		if e := w.creator.earnings(t, "stage"); e.Balance != 112 || e.Totals["tip"] != 112 {
			t.Errorf("earnings = %+v", e)
		}
		// A tip without a message is fine too.
		want(t, w.viewer.pay(t, "/channels/stage/tips", newKey(), map[string]any{"amount": 10}), 201)
		if got := w.viewer.wallet(t).Balance; got != 415 {
			t.Errorf("wallet = %d, want 415", got)
		}
		ledger(t, w.admin)
	})
}

func TestCancelledSubscriptionLastsToPeriodEndAndResumesWithoutACharge(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		fan, friend := w.viewer, w.ts.signUp(t, "friend@example.com")
		fan.buy(t, 1200)
		tiers := decode[struct {
			Items []struct{ Tier, Price int64 } `json:"items"`
		}](t, want(t, fan.get(t, "/api/v1/channels/stage/tiers"), 200))
		if len(tiers.Items) != 3 || tiers.Items[0].Price != 499 {
			t.Fatalf("tiers = %+v", tiers)
		}

		sub := decode[subView](t, want(t, fan.pay(t, "/channels/stage/subscription", newKey(), map[string]int{"tier": 1}), 201))
		if !sub.Subscribed || sub.Status != "active" || !sub.Renews || sub.Tier != 1 || sub.Months != 1 || sub.Gifted ||
			sub.Balance == nil || *sub.Balance != 701 || sub.PeriodEnd == nil || sub.PeriodEnd.Before(time.Now().AddDate(0, 1, -1)) {
			t.Errorf("subscription = %+v", sub)
		}
		if e := w.creator.earnings(t, "stage"); e.Balance != 249 || e.Totals["subscription"] != 249 {
			t.Errorf("earnings after a 499 subscription at 50 %% = %+v", e)
		}
		end := *sub.PeriodEnd

		cancelled := decode[subView](t, want(t, fan.do(t, req{method: "DELETE", path: "/api/v1/channels/stage/subscription"}), 200))
		if !cancelled.Subscribed || cancelled.Status != "active" || cancelled.Renews || !cancelled.PeriodEnd.Equal(end) {
			t.Errorf("cancelled subscription = %+v", cancelled)
		}
		if got := decode[subView](t, want(t, fan.get(t, "/api/v1/channels/stage/subscription"), 200)); !got.Subscribed || got.Renews {
			t.Errorf("GET subscription after cancelling = %+v", got)
		}
		before := ledger(t, w.admin)
		resumed := decode[subView](t, want(t, fan.pay(t, "/channels/stage/subscription", newKey(), map[string]int{"tier": 1}), 201))
		if !resumed.Subscribed || !resumed.Renews || resumed.Months != 1 || !resumed.PeriodEnd.Equal(end) || *resumed.Balance != 701 {
			t.Errorf("resumed subscription = %+v", resumed)
		}
		unmoved(t, "resuming a cancelled subscription", before, ledger(t, w.admin))
		if r := fan.pay(t, "/channels/stage/subscription", newKey(), map[string]int{"tier": 1}); r.status != 409 || r.errCode() != "already_subscribed" {
			t.Errorf("subscribing twice: %s, want 409 already_subscribed", r)
		}

		// A gifted month: the gifter pays, the friend subscribes, it does not renew.
		gift := decode[subView](t, want(t, fan.pay(t, "/channels/stage/subscription/gift", newKey(),
			map[string]any{"recipient": friend.user["id"], "tier": 1}), 201))
		if !gift.Subscribed || gift.Renews || !gift.Gifted || *gift.Balance != 202 {
			t.Errorf("gifted subscription = %+v", gift)
		}
		if got := decode[subView](t, want(t, friend.get(t, "/api/v1/channels/stage/subscription"), 200)); !got.Subscribed || !got.Gifted || got.Renews {
			t.Errorf("the friend's subscription = %+v", got)
		}
		mine := want(t, friend.get(t, "/api/v1/me/subscriptions"), 200).json(t)["items"].([]any)
		if len(mine) != 1 || mine[0].(map[string]any)["channel"].(map[string]any)["slug"] != "stage" {
			t.Errorf("the friend's subscriptions = %v", mine)
		}
		if got := friend.wallet(t).Balance; got != 0 {
			t.Errorf("the friend paid %d", got)
		}
		if got := fan.wallet(t).Balance; got != 202 {
			t.Errorf("gifter's wallet = %d, want 202", got)
		}
		subs := ledgerTxns(t, w.admin, "kind=subscription")
		if len(subs) != 2 || subs[0].Memo["gifted_to"] != friend.user["id"] || subs[0].UserID != fan.user["id"] {
			t.Errorf("subscription transactions = %+v", subs)
		}
		if e := w.creator.earnings(t, "stage"); e.Balance != 498 {
			t.Errorf("earnings after two subscriptions = %d, want 498", e.Balance)
		}
		ledger(t, w.admin)
	})
}

func TestPayoutMovesFromEarningsThroughApprovalToPaidInTheLedger(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		w.viewer.buy(t, 6500)
		want(t, w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": giftID(t, w.viewer, "Crown")}), 201)
		if e := w.creator.earnings(t, "stage"); e.Balance != 1750 {
			t.Fatalf("earnings after a 2500-coin crown = %d, want 1750", e.Balance)
		}
		type payoutView struct {
			ID, Channel, Status string
			Amount              int64
		}
		p := decode[payoutView](t, want(t, w.creator.pay(t, "/channels/stage/payouts", newKey(), map[string]int{"amount": 1200}), 201))
		if p.Status != "requested" || p.Amount != 1200 || p.Channel != "stage" {
			t.Errorf("payout = %+v", p)
		}
		check := func(step string, balance, pending, approved, paid int64) {
			t.Helper()
			e := w.creator.earnings(t, "stage")
			if e.Balance != balance || e.Pending != pending || e.Approved != approved || e.Paid != paid {
				t.Errorf("after %s: earnings %+v, want balance %d pending %d approved %d paid %d", step, e, balance, pending, approved, paid)
			}
			ledger(t, w.admin)
		}
		check("the request", 550, 1200, 0, 0)
		queue := decode[struct{ Items []payoutView }](t, want(t, w.admin.get(t, "/api/v1/admin/payouts?status=requested"), 200)).Items
		if len(queue) != 1 || queue[0].ID != p.ID {
			t.Errorf("requested payouts = %+v", queue)
		}
		step := func(name string) response {
			return w.admin.pay(t, "/admin/payouts/"+p.ID+"/"+name, newKey(), nil)
		}
		if r := step("paid"); r.status != 409 || r.errCode() != "payout_state" {
			t.Errorf("paying a payout not approved: %s, want 409 payout_state", r)
		}
		if r := w.admin.do(t, req{method: "POST", path: "/api/v1/admin/payouts/" + p.ID + "/approve"}); r.status != 400 || r.errCode() != "idempotency_key_required" {
			t.Errorf("approving without an Idempotency-Key: %s, want 400 idempotency_key_required", r)
		}
		approveKey := newKey()
		if got := decode[payoutView](t, want(t, w.admin.pay(t, "/admin/payouts/"+p.ID+"/approve", approveKey, nil), 200)); got.Status != "approved" {
			t.Errorf("approved payout = %+v", got)
		}
		check("approval", 550, 0, 1200, 0)
		if r := want(t, w.admin.pay(t, "/admin/payouts/"+p.ID+"/approve", approveKey, nil), 200); r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the approval repeated with its key: %s, want a replay", r)
		}
		check("a repeated approval", 550, 0, 1200, 0)
		if r := step("approve"); r.status != 409 || r.errCode() != "payout_state" {
			t.Errorf("approving twice: %s, want 409 payout_state", r)
		}
		if got := decode[payoutView](t, want(t, w.admin.pay(t, "/admin/payouts/"+p.ID+"/paid", newKey(), map[string]string{"note": "wire 42"}), 200)); got.Status != "paid" {
			t.Errorf("paid payout = %+v", got)
		}
		check("payment", 550, 0, 0, 1200)
		var kinds []string
		for _, x := range ledgerTxns(t, w.admin, "account=payout.approved:"+w.channelID) {
			kinds = append(kinds, x.Kind)
		}
		if want := []string{"payout.paid", "payout.approve"}; !reflect.DeepEqual(kinds, want) {
			t.Errorf("transactions on the approved account = %v, want %v", kinds, want)
		}
		if paid := ledgerTxns(t, w.admin, "kind=payout.paid"); len(paid) != 1 || paid[0].legs()["platform:paid_out"] != 1200 || paid[0].Memo["note"] != "wire 42" {
			t.Errorf("payout.paid = %+v", paid)
		}
		if r := w.creator.pay(t, "/channels/stage/payouts", newKey(), map[string]int{"amount": 1000}); r.status != 402 || r.errCode() != "insufficient_earnings" {
			t.Errorf("a payout above the earnings: %s, want 402 insufficient_earnings", r)
		}
		// A rejected request returns its coins to the earnings.
		want(t, w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": giftID(t, w.viewer, "Crown")}), 201)
		r2 := decode[payoutView](t, want(t, w.creator.pay(t, "/channels/stage/payouts", newKey(), map[string]int{"amount": 2000}), 201))
		want(t, w.admin.pay(t, "/admin/payouts/"+r2.ID+"/reject", newKey(), nil), 200)
		check("a rejection", 2300, 0, 0, 1200)

		csvAnswer := want(t, w.creator.get(t, "/api/v1/channels/stage/earnings.csv?days=7"), 200)
		if ct := csvAnswer.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("CSV Content-Type %q", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(string(csvAnswer.body))).ReadAll()
		if err != nil {
			t.Fatalf("earnings.csv: %v\n%s", err, csvAnswer.body)
		}
		if len(rows) != 8 || strings.Join(rows[0], ",") != "date,gift,tip,subscription,ad,total" {
			t.Fatalf("earnings.csv = %v", rows)
		}
		if today := rows[7]; today[0] != time.Now().UTC().Format("2006-01-02") || today[1] != "3500" || today[5] != "3500" {
			t.Errorf("today's CSV row = %v", today)
		}
		if r := w.viewer.get(t, "/api/v1/channels/stage/earnings.csv"); r.status != 403 {
			t.Errorf("a viewer reads the creator's CSV: %s", r)
		}
	})
}

func TestRefundOfPartlySpentCoinsBooksAReceivableNotANegativeWallet(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		order := w.viewer.buy(t, 100)
		rose := giftID(t, w.viewer, "Rose")
		want(t, w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": rose, "count": 6}), 201)

		if r := w.admin.do(t, req{method: "POST", path: "/api/v1/admin/orders/" + order.ID + "/refund"}); r.status != 400 || r.errCode() != "idempotency_key_required" {
			t.Errorf("a refund without an Idempotency-Key: %s, want 400 idempotency_key_required", r)
		}
		refundKey := newKey()
		refunded := decode[orderView](t, want(t, w.admin.pay(t, "/admin/orders/"+order.ID+"/refund", refundKey, nil), 200))
		if refunded.Status != "refunded" {
			t.Errorf("refunded order = %+v", refunded)
		}
		if got := w.viewer.wallet(t); got.Balance != 0 || got.Receivable != 60 {
			t.Errorf("wallet after refunding 100 coins of which 60 were spent = %+v, want balance 0 receivable 60", got)
		}
		if e := w.creator.earnings(t, "stage"); e.Balance != 42 {
			t.Errorf("the refund took the creator's earnings: %d, want 42", e.Balance)
		}
		st := ledger(t, w.admin)
		uid := w.viewer.user["id"].(string)
		if st.Balances["receivable:"+uid] != -60 || st.Balances["wallet:"+uid] != 0 || st.Balances["clearing:sandbox:USD"] != 0 {
			t.Errorf("accounts after the refund = %v", st.Balances)
		}
		refunds := ledgerTxns(t, w.admin, "kind=refund")
		if len(refunds) != 1 || refunds[0].Memo["from_wallet"] != float64(40) || refunds[0].Memo["receivable"] != float64(60) {
			t.Errorf("refund transactions = %+v", refunds)
		}
		if r := w.admin.pay(t, "/admin/orders/"+order.ID+"/refund", newKey(), nil); r.status != 409 || r.errCode() != "order_not_paid" {
			t.Errorf("refunding twice: %s, want 409 order_not_paid", r)
		}
		unmoved(t, "a second refund", st, ledger(t, w.admin))
		if r := want(t, w.admin.pay(t, "/admin/orders/"+order.ID+"/refund", refundKey, nil), 200); r.header.Get("Idempotent-Replayed") != "true" ||
			decode[orderView](t, r).Status != "refunded" {
			t.Errorf("the refund repeated with its key: %s, want the refunded order, replayed", r)
		}
		unmoved(t, "a repeated refund", st, ledger(t, w.admin))
		// While they owe coins they cannot spend. Their wallet is empty
		// too, and the store's batch path checks the wallet's floor before
		// the receivable guard, so either refusal may answer.
		if r := w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": rose}); r.status != 402 ||
			(r.errCode() != "receivable_outstanding" && r.errCode() != "insufficient_coins") {
			t.Errorf("a gift while owing coins: %s, want 402 receivable_outstanding or insufficient_coins", r)
		}
		unmoved(t, "a gift while owing coins", st, ledger(t, w.admin))

		// The next purchase settles the debt first.
		next := w.viewer.buy(t, 550)
		if next.Balance != 490 {
			t.Errorf("balance after buying 550 while owing 60 = %d, want 490", next.Balance)
		}
		if got := w.viewer.wallet(t); got.Balance != 490 || got.Receivable != 0 {
			t.Errorf("wallet after settling = %+v", got)
		}
		want(t, w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": rose}), 201)
		ledger(t, w.admin)
	})
}

// send is client.do for other goroutines: it reports errors instead of
// failing the test.
func (c *client) send(ctx context.Context, r req) (response, error) {
	js, _ := json.Marshal(r.body)
	hr, err := http.NewRequestWithContext(ctx, r.method, c.ts.base+r.path, strings.NewReader(string(js)))
	if err != nil {
		return response{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("X-CSRF-Token", c.csrf)
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}, err
}

// burst sends n requests at once; key(i) names each one's Idempotency-Key.
func burst(t *testing.T, c *client, n int, path string, body any, key func(i int) string) []response {
	t.Helper()
	out := make([]response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out[i], errs[i] = c.send(t.Context(), req{method: "POST", path: "/api/v1" + path, body: body,
				header: map[string]string{"Idempotency-Key": key(i)}})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestConcurrentGiftsNeverOverdrawTheWalletNorRepeatAKey(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		w.viewer.buy(t, 100)
		body := map[string]any{"gift_id": giftID(t, w.viewer, "Rose")}

		// 20 different gifts of 10 coins race for 100 coins: exactly 10 win.
		byStatus := map[int]int{}
		for _, r := range burst(t, w.viewer, 20, "/channels/stage/gifts", body, func(int) string { return newKey() }) {
			byStatus[r.status]++
			if r.status == 402 && r.errCode() != "insufficient_coins" {
				t.Errorf("refused gift: %s", r)
			}
		}
		if byStatus[201] != 10 || byStatus[402] != 10 {
			t.Errorf("answers by status = %v, want 10 × 201 and 10 × 402", byStatus)
		}
		if got := w.viewer.wallet(t).Balance; got != 0 {
			t.Errorf("wallet = %d, want 0", got)
		}
		if e := w.creator.earnings(t, "stage"); e.Balance != 70 {
			t.Errorf("earnings = %d, want 70", e.Balance)
		}
		ledger(t, w.admin)

		// The same key sent ten times at once moves money once; every
		// answer carries the one transaction.
		w.viewer.buy(t, 100)
		key := newKey()
		created, replayed := 0, 0
		txn := map[string]bool{}
		for _, r := range burst(t, w.viewer, 10, "/channels/stage/gifts", body, func(int) string { return key }) {
			switch {
			case r.status == 201:
				created++
			case r.status == 200 && r.header.Get("Idempotent-Replayed") == "true":
				replayed++
			default:
				t.Errorf("a twin of one gift: %s", r)
				continue
			}
			txn[decode[spendView](t, r).TxnID] = true
		}
		if created != 1 || replayed != 9 || len(txn) != 1 {
			t.Errorf("%d created, %d replayed, %d distinct transactions; want 1, 9, 1", created, replayed, len(txn))
		}
		if got := w.viewer.wallet(t).Balance; got != 90 {
			t.Errorf("wallet after one gift sent ten times = %d, want 90", got)
		}
		ledger(t, w.admin)
	})
}

// A gift's alert is stored with its money and reaches the chat once: the
// same gift repeated grows one combo, a refused gift adds nothing to it,
// and a replayed request shows no second alert.
func TestGiftAlertsReachChatOnceAndGrowOneCombo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn)
		w.viewer.buy(t, 100)
		rose := giftID(t, w.viewer, "Rose") // 10 coins
		conn, _, err := w.creator.dialChat(t, "stage", nil)
		if err != nil {
			t.Fatal(err)
		}
		readWelcome(t, conn)
		first := newKey()
		for _, g := range []struct {
			key    string
			count  int
			status int
		}{
			{first, 3, 201},
			{newKey(), 5, 201},
			{newKey(), 3, 402}, // 20 coins left
			{first, 3, 200},    // a replay
			{newKey(), 2, 201},
		} {
			want(t, w.viewer.pay(t, "/channels/stage/gifts", g.key, map[string]any{"gift_id": rose, "count": g.count}), g.status)
		}
		type alert struct {
			Seq   int64  `json:"seq"`
			Type  string `json:"type"`
			Money struct {
				Count      int64  `json:"count"`
				ComboID    string `json:"combo_id"`
				ComboCount int64  `json:"combo_count"`
			} `json:"money"`
		}
		var got []alert
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		for len(got) < 3 {
			_, data, err := conn.Read(ctx)
			if err != nil {
				t.Fatalf("after %d alerts: %v", len(got), err)
			}
			var frame []alert
			if err := json.Unmarshal(data, &frame); err != nil {
				t.Fatalf("frame %s: %v", data, err)
			}
			for _, a := range frame {
				if a.Type == "gift" {
					got = append(got, a)
				}
			}
		}
		for i, wantCount := range []int64{3, 8, 10} {
			if a := got[i]; a.Money.ComboCount != wantCount || a.Money.ComboID != got[0].Money.ComboID || (i > 0 && a.Seq != got[i-1].Seq+1) {
				t.Errorf("alert %d = %+v, want combo %s at %d, seqs consecutive", i, a, got[0].Money.ComboID, wantCount)
			}
		}
		stored, err := w.ts.srv.Store().RoomEventsAfter(t.Context(), w.channelID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var gifts []int64
		for _, e := range stored {
			if e.Kind == "gift" {
				gifts = append(gifts, e.Seq)
			}
		}
		if len(gifts) != 3 || gifts[0] != got[0].Seq || gifts[2] != got[2].Seq {
			t.Errorf("stored gift events at seqs %v; the chat showed %d, %d, %d", gifts, got[0].Seq, got[1].Seq, got[2].Seq)
		}
		ledger(t, w.admin)
	})
}

// The revenue report gives coin sales in one currency at a time and lists
// the currencies sold in: cents of different currencies never add up.
func TestRevenueReportsCoinSalesPerCurrency(t *testing.T) {
	w := newMoneyWorld(t, "")
	euro := decode[struct {
		ID string `json:"id"`
	}](t, want(t, w.admin.pay(t, "/admin/coin-packs", newKey(), map[string]any{"name": "Euro", "coins": 300, "price": 250, "currency": "EUR"}), 201))
	w.viewer.buy(t, 100) // 99 USD cents
	want(t, w.viewer.pay(t, "/payments/orders", newKey(), map[string]string{"pack_id": euro.ID, "provider": "sandbox", "card": payment.CardSucceeds}), 201)
	type report struct {
		Currency   string           `json:"currency"`
		Currencies []string         `json:"currencies"`
		Totals     map[string]int64 `json:"totals"`
	}
	usd := decode[report](t, want(t, w.admin.get(t, "/api/v1/admin/revenue?days=7"), 200))
	if usd.Currency != "USD" || !reflect.DeepEqual(usd.Currencies, []string{"EUR", "USD"}) || usd.Totals["sales"] != 99 {
		t.Errorf("default revenue report = %+v, want USD sales of 99 and currencies EUR, USD", usd)
	}
	eur := decode[report](t, want(t, w.admin.get(t, "/api/v1/admin/revenue?days=7&currency=EUR"), 200))
	if eur.Currency != "EUR" || eur.Totals["sales"] != 250 {
		t.Errorf("EUR revenue report = %+v, want sales of 250", eur)
	}
	if r := w.admin.get(t, "/api/v1/admin/revenue?currency=dollars"); r.status != 400 {
		t.Errorf("a malformed currency: %s, want 400", r)
	}
}
