package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/server"
)

// Hostile money requests: each gets a clear 4xx with its documented code,
// and the ledger (every balance, every transaction) stays as it was.

func unlimitedMoney(c *server.Config) { c.MoneyLimit = account.Rate{Burst: -1} }

// refusal is a money request and the answer it must get.
type refusal struct {
	name   string
	as     *client
	path   string // under /api/v1
	body   any    // JSON-encoded unless a string
	header map[string]string
	status int
	code   string
	field  string
}

// send posts the request with a fresh Idempotency-Key unless its header
// says otherwise (an empty map sends none).
func (rf refusal) send(t *testing.T) response {
	t.Helper()
	h := rf.header
	if h == nil {
		h = map[string]string{"Idempotency-Key": newKey()}
	}
	r := req{method: "POST", path: "/api/v1" + rf.path, body: rf.body, header: h}
	if s, ok := rf.body.(string); ok {
		r.body, r.contentType = s, "application/json"
	}
	if ct, ok := h["Content-Type"]; ok {
		r.contentType = ct
	}
	return rf.as.do(t, r)
}

// check sends every refusal and fails unless each got its answer and
// moved nothing, as the admin's ledger tells.
func checkRefusals(t *testing.T, admin *client, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		before := ledger(t, admin)
		r := tc.send(t)
		var e struct {
			Error struct{ Code, Message, Field string } `json:"error"`
		}
		if err := json.Unmarshal(r.body, &e); err != nil || r.status != tc.status || e.Error.Code != tc.code ||
			e.Error.Field != tc.field || e.Error.Message == "" {
			t.Errorf("%s: %s; want %d %s field %q with a message", tc.name, r, tc.status, tc.code, tc.field)
		}
		unmoved(t, tc.name, before, ledger(t, admin))
	}
}

func TestHostileMoneyRequestsGetAClear4xxAndMoveNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn, unlimitedMoney)
		v, creator := w.viewer, w.creator
		v.buy(t, 100)
		rose, crown := giftID(t, v, "Rose"), giftID(t, v, "Crown")
		gift := func(count any) string { return fmt.Sprintf(`{"gift_id":%q,"count":%v}`, rose, count) }
		tip := func(amount any) string { return fmt.Sprintf(`{"amount":%v}`, amount) }
		key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
		const tips, gifts = "/channels/stage/tips", "/channels/stage/gifts"

		checkRefusals(t, w.admin, []refusal{
			// Tip amounts.
			{"negative tip", v, tips, tip(-100), nil, 400, "validation", "amount"},
			{"zero tip", v, tips, tip(0), nil, 400, "validation", "amount"},
			{"tip below tip_min", v, tips, tip(9), nil, 400, "validation", "amount"},
			{"tip above tip_max", v, tips, tip(100001), nil, 400, "validation", "amount"},
			{"fractional tip", v, tips, tip(1.5), nil, 400, "invalid_json", "amount"},
			{"tip of 2^63", v, tips, tip("9223372036854775808"), nil, 400, "invalid_json", "amount"},
			{"tip of -2^63-1", v, tips, tip("-9223372036854775809"), nil, 400, "invalid_json", "amount"},
			{"tip of 1e30", v, tips, tip("1e30"), nil, 400, "invalid_json", "amount"},
			{"tip as a string", v, tips, tip(`"100"`), nil, 400, "invalid_json", "amount"},
			{"tip as an array", v, tips, tip(`[100]`), nil, 400, "invalid_json", "amount"},
			{"tip of null", v, tips, tip("null"), nil, 400, "validation", "amount"},
			{"tip without an amount", v, tips, `{"message":"hi"}`, nil, 400, "validation", "amount"},
			{"tip above the balance", v, tips, tip(101), nil, 402, "insufficient_coins", ""},
			{"tip message too long", v, tips, map[string]any{"amount": 10, "message": strings.Repeat("m", 501)}, nil, 400, "too_long", ""},
			{"tip message with a direction override", v, tips, map[string]any{"amount": 10, "message": "hi \u202e"}, nil, 400, "bad_text", ""},
			{"tip to your own channel", creator, tips, tip(10), nil, 403, "self_gift", ""},

			// Gift counts and ids.
			{"gift count 0", v, gifts, gift(0), nil, 400, "validation", "count"},
			{"gift count -1", v, gifts, gift(-1), nil, 400, "validation", "count"},
			{"gift count 101", v, gifts, gift(101), nil, 400, "validation", "count"},
			{"gift count 2^63-1", v, gifts, gift("9223372036854775807"), nil, 400, "validation", "count"},
			{"gift count 2^63", v, gifts, gift("9223372036854775808"), nil, 400, "invalid_json", "count"},
			{"gift count 1e30", v, gifts, gift("1e30"), nil, 400, "invalid_json", "count"},
			{"gift count 1.5", v, gifts, gift(1.5), nil, 400, "invalid_json", "count"},
			{"gift count as a string", v, gifts, gift(`"1"`), nil, 400, "invalid_json", "count"},
			{"unknown gift", v, gifts, map[string]any{"gift_id": "gift_nope"}, nil, 400, "validation", "gift_id"},
			{"no gift id", v, gifts, map[string]any{"count": 1}, nil, 400, "validation", "gift_id"},
			{"gift above the balance", v, gifts, map[string]any{"gift_id": crown}, nil, 402, "insufficient_coins", ""},
			{"eleven roses for the price of ten", v, gifts, gift(11), nil, 402, "insufficient_coins", ""},
			{"gift to your own channel", creator, gifts, map[string]any{"gift_id": rose}, nil, 403, "self_gift", ""},
			{"gift to no channel", v, "/channels/nowhere/gifts", map[string]any{"gift_id": rose}, nil, 404, "not_found", ""},
			{"gift to a bad slug", v, "/channels/BAD!/gifts", map[string]any{"gift_id": rose}, nil, 400, "validation", "slug"},

			// The Idempotency-Key header.
			{"no Idempotency-Key", v, gifts, map[string]any{"gift_id": rose}, map[string]string{}, 400, "idempotency_key_required", ""},
			{"short Idempotency-Key", v, gifts, map[string]any{"gift_id": rose}, key("short"), 400, "validation", "Idempotency-Key"},
			{"Idempotency-Key with spaces", v, gifts, map[string]any{"gift_id": rose}, key("not a valid key"), 400, "validation", "Idempotency-Key"},
			{"Idempotency-Key with quotes", v, gifts, map[string]any{"gift_id": rose}, key(`key'"OR 1=1--`), 400, "validation", "Idempotency-Key"},
			{"Idempotency-Key of 129 characters", v, gifts, map[string]any{"gift_id": rose}, key(strings.Repeat("k", 129)), 400, "validation", "Idempotency-Key"},
			{"no Idempotency-Key on an order", v, "/payments/orders", map[string]any{"pack_id": packID(t, v, 100), "card": payment.CardSucceeds}, map[string]string{}, 400, "idempotency_key_required", ""},
			{"no Idempotency-Key on a subscription", v, "/channels/stage/subscription", map[string]any{"tier": 1}, map[string]string{}, 400, "idempotency_key_required", ""},
			{"no Idempotency-Key on a payout", creator, "/channels/stage/payouts", map[string]any{"amount": 1000}, map[string]string{}, 400, "idempotency_key_required", ""},

			// Bodies.
			{"truncated JSON", v, gifts, `{"gift_id":`, nil, 400, "invalid_json", ""},
			{"not JSON", v, tips, `amount=100`, nil, 400, "invalid_json", ""},
			{"empty body", v, tips, ``, nil, 400, "invalid_json", ""},
			{"two JSON values", v, tips, tip(10) + tip(10), nil, 400, "invalid_json", ""},
			{"unknown field", v, tips, `{"amount":10,"coins":1000000}`, nil, 400, "invalid_json", "coins"},
			{"a form post", v, tips, `amount=100`, map[string]string{"Idempotency-Key": newKey(), "Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},

			// Coin orders.
			{"unknown pack", v, "/payments/orders", map[string]any{"pack_id": "pack_nope", "card": payment.CardSucceeds}, nil, 400, "validation", "pack_id"},
			{"unknown provider", v, "/payments/orders", map[string]any{"pack_id": packID(t, v, 100), "provider": "paypal"}, nil, 400, "validation", "provider"},
			{"Stripe when it is off", v, "/payments/orders", map[string]any{"pack_id": packID(t, v, 100), "provider": "stripe"}, nil, 400, "validation", "provider"},
			{"declined card", v, "/payments/orders", map[string]any{"pack_id": packID(t, v, 100), "card": payment.CardDeclined}, nil, 402, "card_declined", ""},
			{"a real card number", v, "/payments/orders", map[string]any{"pack_id": packID(t, v, 100), "card": "4111111111111111"}, nil, 402, "card_declined", ""},
			{"no card", v, "/payments/orders", map[string]any{"pack_id": packID(t, v, 100)}, nil, 402, "card_declined", ""},
			{"a price in the order", v, "/payments/orders", map[string]any{"pack_id": packID(t, v, 100), "price": 1}, nil, 400, "invalid_json", "price"},
			{"confirming no order", v, "/payments/orders/ord_nope/confirm", map[string]string{"code": payment.ConfirmCode}, nil, 404, "not_found", ""},

			// Subscriptions.
			{"tier 0", v, "/channels/stage/subscription", map[string]any{"tier": 0}, nil, 400, "validation", "tier"},
			{"tier 4", v, "/channels/stage/subscription", map[string]any{"tier": 4}, nil, 400, "validation", "tier"},
			{"tier as a string", v, "/channels/stage/subscription", `{"tier":"1"}`, nil, 400, "invalid_json", "tier"},
			{"tier above the balance", v, "/channels/stage/subscription", map[string]any{"tier": 1}, nil, 402, "insufficient_coins", ""},
			{"subscribing to your own channel", creator, "/channels/stage/subscription", map[string]any{"tier": 1}, nil, 403, "self_gift", ""},
			{"gift sub without a recipient", v, "/channels/stage/subscription/gift", map[string]any{"tier": 1}, nil, 400, "validation", "recipient"},
			{"gift sub to yourself", v, "/channels/stage/subscription/gift", map[string]any{"tier": 1, "recipient": v.user["id"]}, nil, 400, "validation", "recipient"},
			{"gift sub to nobody", v, "/channels/stage/subscription/gift", map[string]any{"tier": 1, "recipient": "usr_nope"}, nil, 400, "validation", "recipient"},
			{"gift sub to the owner", v, "/channels/stage/subscription/gift", map[string]any{"tier": 1, "recipient": creator.user["id"]}, nil, 403, "self_gift", ""},

			// Payouts.
			{"payout below payout_min", creator, "/channels/stage/payouts", map[string]any{"amount": 999}, nil, 400, "validation", "amount"},
			{"negative payout", creator, "/channels/stage/payouts", map[string]any{"amount": -1000}, nil, 400, "validation", "amount"},
			{"payout of 2^63-1", creator, "/channels/stage/payouts", `{"amount":9223372036854775807}`, nil, 400, "validation", "amount"},
			{"payout above the earnings", creator, "/channels/stage/payouts", map[string]any{"amount": 1000}, nil, 402, "insufficient_earnings", ""},
			{"payout from someone else's channel", v, "/channels/stage/payouts", map[string]any{"amount": 1000}, nil, 403, "forbidden", ""},
		})
		if got := v.wallet(t); got.Balance != 100 || got.Receivable != 0 {
			t.Errorf("wallet after the refusals = %+v, want 100 coins", got)
		}
		// The refusals were about the requests: a good gift goes through.
		want(t, v.pay(t, gifts, newKey(), map[string]any{"gift_id": rose}), 201)
		// An omitted count is one gift.
		if got := v.wallet(t).Balance; got != 90 {
			t.Errorf("wallet after one rose = %d, want 90", got)
		}
	})
}

func TestGiftsToSuspendedChannelsOrFromSuspendedViewersMoveNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn, unlimitedMoney)
		w.viewer.buy(t, 550)
		w.admin.buy(t, 550)
		rose := giftID(t, w.viewer, "Rose")
		moderate := func(path, status string) {
			t.Helper()
			want(t, w.admin.do(t, req{method: "PATCH", path: "/api/v1/admin/" + path, body: map[string]string{"status": status}}), 200)
		}
		spends := func(as *client, status int, code string) []refusal {
			return []refusal{
				{"gift", as, "/channels/stage/gifts", map[string]any{"gift_id": rose}, nil, status, code, ""},
				{"tip", as, "/channels/stage/tips", map[string]any{"amount": 10}, nil, status, code, ""},
				{"subscription", as, "/channels/stage/subscription", map[string]any{"tier": 1}, nil, status, code, ""},
			}
		}

		// A suspended channel is hidden from viewers (404, as every other
		// route answers); an admin, who can still see it, is refused.
		moderate("channels/stage", "suspended")
		checkRefusals(t, w.admin, spends(w.viewer, 404, "not_found"))
		checkRefusals(t, w.admin, spends(w.admin, 403, "channel_suspended"))
		moderate("channels/stage", "active")
		want(t, w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": rose}), 201)

		// So is a channel whose owner is suspended or banned.
		creatorID := w.creator.user["id"].(string)
		for _, status := range []string{"suspended", "banned"} {
			moderate("users/"+creatorID, status)
			checkRefusals(t, w.admin, spends(w.viewer, 404, "not_found"))
			checkRefusals(t, w.admin, spends(w.admin, 403, "channel_suspended"))
		}
		moderate("users/"+creatorID, "active")
		want(t, w.viewer.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": rose}), 201)

		// A suspended viewer cannot spend at all.
		moderate("users/"+w.viewer.user["id"].(string), "suspended")
		checkRefusals(t, w.admin, append(spends(w.viewer, 403, "forbidden"),
			refusal{"order", w.viewer, "/payments/orders", map[string]any{"pack_id": packID(t, w.admin, 100), "card": payment.CardSucceeds}, nil, 403, "forbidden", ""}))
		if got := w.admin.wallet(t).Balance; got != 550 {
			t.Errorf("the admin's wallet = %d, want 550", got)
		}
	})
}

func TestMoneyRequestsNeedASessionWithItsCSRFTokenOrAnAPIToken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn, unlimitedMoney)
		v := w.viewer
		v.buy(t, 100)
		rose := map[string]any{"gift_id": giftID(t, v, "Rose")}
		paths := []string{"/channels/stage/gifts", "/channels/stage/tips", "/payments/orders", "/channels/stage/subscription"}
		before := ledger(t, w.admin)
		for _, path := range paths {
			body := any(rose)
			if strings.HasSuffix(path, "tips") {
				body = map[string]any{"amount": 10}
			}
			for _, tc := range []struct {
				name   string
				as     *client
				r      req
				status int
				code   string
			}{
				{"anonymous", w.ts.anon(), req{}, 401, "unauthenticated"},
				{"no CSRF token", v, req{noCSRF: true}, 403, "csrf"},
				{"another session's CSRF token", v, req{noCSRF: true, header: map[string]string{"X-CSRF-Token": w.creator.csrf}}, 403, "csrf"},
				{"cross-site", v, req{header: map[string]string{"Origin": "https://evil.example"}}, 403, "csrf"},
				{"forged API token", &client{ts: w.ts, http: http.DefaultClient, token: "lht_forged"}, req{}, 401, "unauthenticated"},
			} {
				r := tc.r
				r.method, r.path, r.body = "POST", "/api/v1"+path, body
				if r.header == nil {
					r.header = map[string]string{}
				}
				r.header["Idempotency-Key"] = newKey()
				if got := tc.as.do(t, r); got.status != tc.status || got.errCode() != tc.code {
					t.Errorf("%s %s: %s, want %d %s", path, tc.name, got, tc.status, tc.code)
				}
			}
		}
		unmoved(t, "requests without the right credentials", before, ledger(t, w.admin))

		// An API token needs no CSRF token, and spends its owner's coins.
		tok := want(t, v.do(t, req{method: "POST", path: "/api/v1/me/tokens", body: map[string]string{"name": "tipbot"}}), 201).json(t)["token"].(string)
		w.ts.secret(tok)
		bot := w.ts.anon()
		bot.token = tok
		if got := decode[spendView](t, want(t, bot.pay(t, "/channels/stage/gifts", newKey(), rose), 201)); got.Balance != 90 {
			t.Errorf("gift by API token = %+v", got)
		}
		if got := v.wallet(t).Balance; got != 90 {
			t.Errorf("wallet after the bot's gift = %d, want 90", got)
		}
	})
}

func TestIdempotencyKeyReplaysTheFirstAnswerAndRefusesADifferentRequest(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn, unlimitedMoney)
		v := w.viewer
		rose := giftID(t, v, "Rose")
		sameKey := func(path, k string, body any) (first, again response) {
			t.Helper()
			return v.pay(t, path, k, body), v.pay(t, path, k, body)
		}
		replay := func(what string, first, again response) {
			t.Helper()
			if first.status != 201 || again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.body, again.body) {
				t.Errorf("%s sent twice:\nfirst %s\nagain %s (Idempotent-Replayed %q)\nwant 201, then 200 with the same body",
					what, first, again, again.header.Get("Idempotent-Replayed"))
			}
		}

		// Orders: the key is the order; the pack is credited once.
		orderKey := newKey()
		first, again := sameKey("/payments/orders", orderKey, map[string]string{"pack_id": packID(t, v, 550), "card": payment.CardSucceeds})
		replay("an order", first, again)
		if got := v.wallet(t).Balance; got != 550 {
			t.Errorf("wallet after one order sent twice = %d, want 550", got)
		}
		if r := w.creator.pay(t, "/payments/orders", orderKey, map[string]string{"pack_id": packID(t, v, 100), "card": payment.CardSucceeds}); r.status != 201 {
			t.Errorf("another user's order under the same key: %s, want 201 (keys are per caller)", r)
		}
		st := ledger(t, w.admin)
		if r := v.pay(t, "/payments/orders", orderKey, map[string]string{"pack_id": packID(t, v, 100), "card": payment.CardSucceeds}); r.status != 422 || r.errCode() != "idempotency_conflict" {
			t.Errorf("the order's key for another pack: %s, want 422 idempotency_conflict", r)
		}
		declinedKey := newKey()
		d1, d2 := sameKey("/payments/orders", declinedKey, map[string]string{"pack_id": packID(t, v, 100), "card": payment.CardDeclined})
		if d1.status != 402 || d2.status != 402 || d2.errCode() != "card_declined" {
			t.Errorf("a declined order sent twice: %s, then %s; want 402 card_declined both times", d1, d2)
		}
		unmoved(t, "a conflicting order", st, ledger(t, w.admin))

		// Gifts.
		giftKey := newKey()
		first, again = sameKey("/channels/stage/gifts", giftKey, map[string]any{"gift_id": rose, "count": 2})
		replay("a gift", first, again)
		if got := v.wallet(t).Balance; got != 530 {
			t.Errorf("wallet after one gift of 20 sent twice = %d, want 530", got)
		}
		st = ledger(t, w.admin)
		checkRefusals(t, w.admin, []refusal{
			{"the gift's key with another count", v, "/channels/stage/gifts", map[string]any{"gift_id": rose, "count": 3}, map[string]string{"Idempotency-Key": giftKey}, 422, "idempotency_conflict", ""},
			{"the gift's key for a tip", v, "/channels/stage/tips", map[string]any{"amount": 20}, map[string]string{"Idempotency-Key": giftKey}, 422, "idempotency_conflict", ""},
		})
		if got := ledger(t, w.admin).Txns; got != st.Txns {
			t.Errorf("conflicts wrote %d transactions", got-st.Txns)
		}
		// A refused request records nothing: its key works once it can pay.
		crownKey := newKey()
		crown := map[string]any{"gift_id": giftID(t, v, "Crown")}
		if r := v.pay(t, "/channels/stage/gifts", crownKey, crown); r.status != 402 {
			t.Errorf("a crown with 530 coins: %s, want 402", r)
		}
		v.buy(t, 6500)
		want(t, v.pay(t, "/channels/stage/gifts", crownKey, crown), 201)
		if got := v.wallet(t).Balance; got != 4530 {
			t.Errorf("wallet after the crown = %d, want 4530", got)
		}

		// Tips, subscriptions and payouts.
		first, again = sameKey("/channels/stage/tips", newKey(), map[string]any{"amount": 30, "message": "twice?"})
		replay("a tip", first, again)
		first, again = sameKey("/channels/stage/subscription", newKey(), map[string]any{"tier": 2})
		replay("a subscription", first, again)
		if got := v.wallet(t).Balance; got != 4530-30-999 {
			t.Errorf("wallet after a tip and a subscription sent twice = %d, want %d", got, 4530-30-999)
		}
		c := w.creator
		payoutKey := newKey()
		p1, p2 := c.pay(t, "/channels/stage/payouts", payoutKey, map[string]int{"amount": 1000}), c.pay(t, "/channels/stage/payouts", payoutKey, map[string]int{"amount": 1000})
		if p1.status != 201 || p2.status != 200 || p2.header.Get("Idempotent-Replayed") != "true" || p1.json(t)["id"] != p2.json(t)["id"] {
			t.Errorf("a payout sent twice:\nfirst %s\nagain %s\nwant 201, then 200 replayed with the same payout", p1, p2)
		}
		if e := c.earnings(t, "stage"); e.Pending != 1000 {
			t.Errorf("pending payouts after one request sent twice = %d, want 1000", e.Pending)
		}
		ledger(t, w.admin)
	})
}

func TestMoneyRequestsAreRateLimitedPerAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		w := newMoneyWorld(t, dsn, func(c *server.Config) { c.MoneyLimit = account.Rate{Burst: 6, Every: time.Hour} })
		v := w.viewer
		v.buy(t, 100) // the first of six requests
		rose := map[string]any{"gift_id": giftID(t, v, "Rose")}
		var sent, limited int
		for range 9 {
			r := v.pay(t, "/channels/stage/gifts", newKey(), rose)
			switch {
			case r.status == 201:
				sent++
			case r.status == 429 && r.errCode() == "rate_limited":
				limited++
				if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
					t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
				}
			default:
				t.Errorf("gift: %s", r)
			}
		}
		if sent != 5 || limited != 4 {
			t.Errorf("%d gifts sent and %d limited, want 5 and 4", sent, limited)
		}
		if got := v.wallet(t).Balance; got != 50 {
			t.Errorf("wallet = %d, want 50: only the allowed gifts moved coins", got)
		}
		if st := ledger(t, w.admin); st.Txns != 6 || st.Balances["earnings:"+w.channelID] != 35 {
			t.Errorf("ledger after the burst: %d transactions, earnings %d; want 6 and 35", st.Txns, st.Balances["earnings:"+w.channelID])
		}
		// Other accounts have their own budget.
		other := w.ts.signUp(t, "other@example.com")
		other.buy(t, 100)
		want(t, other.pay(t, "/channels/stage/gifts", newKey(), rose), 201)
		// Admins' money steps (refunds, chargebacks, payouts) share the limit.
		var adminLimited int
		for range 8 {
			r := w.admin.pay(t, "/admin/orders/ord_nope/refund", newKey(), nil)
			if r.status == 429 && r.errCode() == "rate_limited" {
				adminLimited++
			}
		}
		if adminLimited != 2 {
			t.Errorf("%d of 8 admin refunds were rate limited, want 2", adminLimited)
		}
	})
}

// stripeAPI stands in for api.stripe.com: it creates Checkout Sessions.
type stripeAPI struct {
	mu       sync.Mutex
	sessions []url.Values
	keys     []string
}

func newStripeAPI(t *testing.T, secretKey string) (*stripeAPI, string) {
	s := &stripeAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ := r.BasicAuth()
		if r.Method != "POST" || r.URL.Path != "/v1/checkout/sessions" || user != secretKey {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"bad key or path"}}`)
			return
		}
		r.ParseForm()
		s.mu.Lock()
		s.sessions = append(s.sessions, r.PostForm)
		s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
		n := len(s.sessions)
		s.mu.Unlock()
		fmt.Fprintf(w, `{"id":"cs_test_%d","url":"https://checkout.stripe.test/c/pay/cs_test_%d"}`, n, n)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// stripeEvent is a Stripe webhook event about an order.
func stripeEvent(id, typ, orderID string, amount int64, paymentIntent string) []byte {
	obj := map[string]any{"id": "cs_or_ch_" + id, "payment_intent": paymentIntent, "payment_status": "paid", "amount_total": amount, "currency": "usd"}
	if orderID != "" {
		obj["client_reference_id"], obj["metadata"] = orderID, map[string]string{"order_id": orderID}
	}
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "data": map[string]any{"object": obj}})
	return b
}

// stripeRefund is a charge.refunded event: refunded of amount cents of
// the payment intent's charge are refunded so far.
func stripeRefund(id, paymentIntent string, amount, refunded int64, full bool, orderID ...string) []byte {
	obj := map[string]any{"id": "ch_" + id, "object": "charge", "payment_intent": paymentIntent, "amount": amount,
		"amount_refunded": refunded, "refunded": full, "currency": "usd"}
	if len(orderID) > 0 {
		obj["metadata"] = map[string]string{"order_id": orderID[0]}
	}
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": "charge.refunded", "data": map[string]any{"object": obj}})
	return b
}

func TestStripeWebhookCreditsAnOrderOnceAndRefusesForgedStaleOrTamperedDeliveries(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		const secretKey, whsec = "sk_test_x", "whsec_test"
		api, base := newStripeAPI(t, secretKey)
		w := newMoneyWorld(t, dsn, unlimitedMoney, func(c *server.Config) {
			c.Stripe = payment.Stripe{SecretKey: secretKey, WebhookSecret: whsec, APIBase: base,
				SuccessURL: "http://localhost/paid", CancelURL: "http://localhost/cancelled"}
		})
		w.ts.secret(secretKey)
		w.ts.secret(whsec)
		v := w.viewer
		hook := func(body []byte, sig string) response {
			t.Helper()
			h := map[string]string{}
			if sig != "" {
				h["Stripe-Signature"] = sig
			}
			return w.ts.anon().do(t, req{method: "POST", path: "/api/v1/payments/stripe/webhook", body: body, contentType: "application/json", header: h})
		}
		now := time.Now()

		providers := want(t, v.get(t, "/api/v1/payments/providers"), 200)
		if !strings.Contains(string(providers.body), `"stripe"`) {
			t.Errorf("providers = %s", providers.body)
		}
		orderKey := newKey()
		order := decode[orderView](t, want(t, v.pay(t, "/payments/orders", orderKey, map[string]string{"pack_id": packID(t, v, 550), "provider": "stripe"}), 201))
		if order.Status != "pending" || order.Provider != "stripe" || order.CheckoutURL != "https://checkout.stripe.test/c/pay/cs_test_1" || order.Balance != 0 {
			t.Fatalf("Stripe order = %+v", order)
		}
		// A repeated request answers with the same order and the same
		// checkout page, without a second session at Stripe.
		again := decode[orderView](t, want(t, v.pay(t, "/payments/orders", orderKey, map[string]string{"pack_id": packID(t, v, 550), "provider": "stripe"}), 200))
		if again.ID != order.ID || again.Status != "pending" || again.CheckoutURL != order.CheckoutURL || again.Message != order.Message {
			t.Errorf("repeated Stripe order = %+v, want %+v", again, order)
		}
		api.mu.Lock()
		if len(api.sessions) != 1 || api.keys[0] != order.ID || api.sessions[0].Get("client_reference_id") != order.ID ||
			api.sessions[0].Get("metadata[order_id]") != order.ID || api.sessions[0].Get("line_items[0][price_data][unit_amount]") != "499" ||
			api.sessions[0].Get("line_items[0][price_data][currency]") != "usd" {
			t.Errorf("checkout sessions made: %v (keys %v)", api.sessions, api.keys)
		}
		api.mu.Unlock()

		paid := stripeEvent("evt_paid", "checkout.session.completed", order.ID, 499, "pi_1")
		tampered := bytes.Replace(paid, []byte(`"amount_total":499`), []byte(`"amount_total":49900`), 1)
		st := ledger(t, w.admin)
		for _, tc := range []struct {
			name   string
			body   []byte
			sig    string
			status int
			code   string
		}{
			{"no signature", paid, "", 400, "bad_signature"},
			{"signed with another secret", paid, payment.Sign("whsec_forged", paid, now), 400, "bad_signature"},
			{"a signature without a timestamp", paid, strings.Split(payment.Sign(whsec, paid, now), ",")[1], 400, "bad_signature"},
			{"garbage signature", paid, "t=abc,v1=zz", 400, "bad_signature"},
			{"signed six minutes ago", paid, payment.Sign(whsec, paid, now.Add(-6*time.Minute)), 400, "bad_signature"},
			{"signed six minutes ahead", paid, payment.Sign(whsec, paid, now.Add(6*time.Minute)), 400, "bad_signature"},
			{"body changed after signing", tampered, payment.Sign(whsec, paid, now), 400, "bad_signature"},
			{"signed, but not an event", []byte(`{"hello":"world"}`), payment.Sign(whsec, []byte(`{"hello":"world"}`), now), 400, "bad_signature"},
			{"signed, for another amount", tampered, payment.Sign(whsec, tampered, now), 422, "amount_mismatch"},
			{"signed, for no order", stripeEvent("evt_lost", "checkout.session.completed", "ord_nope", 499, "pi_nope"),
				payment.Sign(whsec, stripeEvent("evt_lost", "checkout.session.completed", "ord_nope", 499, "pi_nope"), now), 404, "unknown_order"},
		} {
			if r := hook(tc.body, tc.sig); r.status != tc.status || r.errCode() != tc.code {
				t.Errorf("%s: %s, want %d %s", tc.name, r, tc.status, tc.code)
			}
			unmoved(t, tc.name, st, ledger(t, w.admin))
		}
		if got := v.wallet(t).Balance; got != 0 {
			t.Fatalf("refused deliveries credited %d coins", got)
		}

		// The genuine delivery credits once; redeliveries move nothing.
		sig := payment.Sign(whsec, paid, now)
		if got := want(t, hook(paid, sig), 200).json(t); got["duplicate"] != false || got["action"] != "credited" {
			t.Errorf("first delivery = %v", got)
		}
		if got := v.wallet(t).Balance; got != 550 {
			t.Errorf("wallet after the payment = %d, want 550", got)
		}
		if got := decode[orderView](t, want(t, v.get(t, "/api/v1/payments/orders/"+order.ID), 200)); got.Status != "paid" || got.CheckoutURL != "" {
			t.Errorf("order after the payment = %+v (a paid order offers no checkout page)", got)
		}
		st = ledger(t, w.admin)
		if st.Balances["clearing:stripe:USD"] != 499 {
			t.Errorf("Stripe owes us %d cents, want 499", st.Balances["clearing:stripe:USD"])
		}
		later := stripeEvent("evt_async", "checkout.session.async_payment_succeeded", order.ID, 499, "pi_1")
		for name, d := range map[string]struct {
			body []byte
			sig  string
		}{
			"the same delivery again":       {paid, sig},
			"the same event, signed anew":   {paid, payment.Sign(whsec, paid, now.Add(time.Second))},
			"another event paying it again": {later, payment.Sign(whsec, later, now)},
			"an event Livehouse ignores":    {[]byte(`{"id":"evt_other","type":"customer.created","data":{"object":{}}}`), payment.Sign(whsec, []byte(`{"id":"evt_other","type":"customer.created","data":{"object":{}}}`), now)},
		} {
			if got := want(t, hook(d.body, d.sig), 200).json(t); got["action"] != "none" {
				t.Errorf("%s: %v, want action none", name, got)
			}
			unmoved(t, name, st, ledger(t, w.admin))
		}
		if r := w.admin.pay(t, "/admin/orders/"+order.ID+"/refund", newKey(), nil); r.status != 400 || r.errCode() != "provider_refund" {
			t.Errorf("an admin refund of a Stripe order here: %s, want 400 provider_refund", r)
		}
		unmoved(t, "a refused admin refund", st, ledger(t, w.admin))

		// Stripe's refund reverses the order through the ledger; the coins
		// already spent become a receivable. Charges name the payment
		// intent, not the order.
		want(t, v.pay(t, "/channels/stage/gifts", newKey(), map[string]any{"gift_id": giftID(t, v, "Rocket")}), 201)
		// A partial refund reverses nothing: the order stays paid, noted
		// for an admin to review.
		st = ledger(t, w.admin)
		partial := stripeRefund("evt_partial", "pi_1", 499, 100, false)
		if got := want(t, hook(partial, payment.Sign(whsec, partial, now)), 200).json(t); got["action"] != "review" {
			t.Errorf("partial refund delivery = %v, want action review", got)
		}
		unmoved(t, "a partial refund", st, ledger(t, w.admin))
		if got := decode[orderView](t, want(t, v.get(t, "/api/v1/payments/orders/"+order.ID), 200)); got.Status != "paid" || !strings.Contains(got.Message, "review") {
			t.Errorf("order after a partial refund = %+v, want paid and noted for review", got)
		}
		refund := stripeRefund("evt_refund", "pi_1", 499, 499, true)
		if got := want(t, hook(refund, payment.Sign(whsec, refund, now)), 200).json(t); got["action"] != "refunded" {
			t.Errorf("refund delivery = %v", got)
		}
		if got := v.wallet(t); got.Balance != 0 || got.Receivable != 500 {
			t.Errorf("wallet after Stripe refunded 550 coins of which 500 were spent = %+v", got)
		}
		st = ledger(t, w.admin)
		if st.Balances["clearing:stripe:USD"] != 0 || st.Balances["earnings:"+w.channelID] != 350 {
			t.Errorf("accounts after the refund = %v", st.Balances)
		}
		if got := want(t, hook(refund, payment.Sign(whsec, refund, now)), 200).json(t); got["duplicate"] != true {
			t.Errorf("refund redelivered = %v", got)
		}
		unmoved(t, "a redelivered refund", st, ledger(t, w.admin))
		if got := decode[orderView](t, want(t, v.get(t, "/api/v1/payments/orders/"+order.ID), 200)); got.Status != "refunded" {
			t.Errorf("order after the refund = %+v", got)
		}

		// A dispute of the refunded order moves nothing and is noted for
		// an admin.
		st = ledger(t, w.admin)
		dispute := stripeEvent("evt_dispute", "charge.dispute.created", "", 499, "pi_1")
		if got := want(t, hook(dispute, payment.Sign(whsec, dispute, now)), 200).json(t); got["action"] != "review" {
			t.Errorf("dispute of a refunded order = %v, want action review", got)
		}
		unmoved(t, "a dispute of a refunded order", st, ledger(t, w.admin))
		if got := decode[orderView](t, want(t, v.get(t, "/api/v1/payments/orders/"+order.ID), 200)); got.Status != "refunded" || !strings.Contains(got.Message, "review") {
			t.Errorf("order after a dispute of its refund = %+v, want refunded and noted for review", got)
		}

		// A refund that arrives before its payment's event is refused, so
		// Stripe delivers it again; once the payment is in, it reverses.
		second := decode[orderView](t, want(t, v.pay(t, "/payments/orders", newKey(), map[string]string{"pack_id": packID(t, v, 100), "provider": "stripe"}), 201))
		early := stripeRefund("evt_early_refund", "pi_2", 99, 99, true, second.ID)
		if r := hook(early, payment.Sign(whsec, early, now)); r.status != 409 || r.errCode() != "order_not_paid" {
			t.Errorf("a refund of a pending order: %s, want 409 order_not_paid", r)
		}
		unmoved(t, "a refund of a pending order", st, ledger(t, w.admin))
		paid2 := stripeEvent("evt_paid_2", "checkout.session.completed", second.ID, 99, "pi_2")
		want(t, hook(paid2, payment.Sign(whsec, paid2, now)), 200)
		if got := want(t, hook(early, payment.Sign(whsec, early, now)), 200).json(t); got["action"] != "refunded" || got["duplicate"] != false {
			t.Errorf("the early refund delivered again after the payment = %v, want it to reverse the order", got)
		}
		if got := decode[orderView](t, want(t, v.get(t, "/api/v1/payments/orders/"+second.ID), 200)); got.Status != "refunded" {
			t.Errorf("second order after its refund = %+v", got)
		}
		ledger(t, w.admin)
	})
}

// Creatives and gift images are what the page's Content-Security-Policy
// lets it load: paths on this server, and for images data: URLs. Other
// hosts' URLs, which every browser would block, are refused.
func TestAdCreativesAndGiftImagesMustBeLoadableUnderTheCSP(t *testing.T) {
	w := newMoneyWorld(t, "", unlimitedMoney)
	const png = "data:image/png;base64,iVBORw0KGgo="
	for _, tc := range []struct {
		name, path string
		body       map[string]any
		status     int
	}{
		{"a video creative on this server", "/admin/ads", map[string]any{"name": "v", "kind": "video", "url": "/ads/spring.mp4", "cpm": 100}, 201},
		{"an image creative on this server", "/admin/ads", map[string]any{"name": "i", "kind": "image", "url": "/ads/spring.png", "cpm": 100}, 201},
		{"an image creative as a data URL", "/admin/ads", map[string]any{"name": "d", "kind": "image", "url": png, "cpm": 100}, 201},
		{"a video creative on another host", "/admin/ads", map[string]any{"name": "x", "kind": "video", "url": "https://cdn.example/ad.mp4", "cpm": 100}, 400},
		{"an image creative on another host", "/admin/ads", map[string]any{"name": "x", "kind": "image", "url": "http://cdn.example/ad.png", "cpm": 100}, 400},
		{"a protocol-relative creative", "/admin/ads", map[string]any{"name": "x", "kind": "image", "url": "//cdn.example/ad.png", "cpm": 100}, 400},
		{"a backslash host", "/admin/ads", map[string]any{"name": "x", "kind": "image", "url": "/\\cdn.example/ad.png", "cpm": 100}, 400},
		{"a video creative as a data URL", "/admin/ads", map[string]any{"name": "x", "kind": "video", "url": "data:image/png;base64,AAAA", "cpm": 100}, 400},
		{"a gift image on another host", "/admin/gifts", map[string]any{"name": "x", "image": "https://cdn.example/g.png", "price": 10}, 400},
		{"a gift image as a data URL", "/admin/gifts", map[string]any{"name": "g", "image": png, "price": 10}, 201},
	} {
		r := w.admin.do(t, req{method: "POST", path: "/api/v1" + tc.path, body: tc.body})
		if r.status != tc.status || (tc.status == 400 && r.errCode() != "validation") {
			t.Errorf("%s: %s, want %d", tc.name, r, tc.status)
		}
	}
}
