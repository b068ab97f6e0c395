package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/server"
	"github.com/livehouse/livehouse/internal/store"
)

// Gifts measures the gift path end to end: viewers POST gifts over real
// HTTP at a fixed offered rate (open loop, so a slow server shows as
// latency, not as a politely lower rate), each one a ledger transaction,
// and the creator's chat WebSocket receives the alerts. It reports the
// gifts/s achieved, the API call's latency and the call-to-alert latency,
// then checks that every gift moved money once and the ledger verifies.
func Gifts(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench gifts", flag.ContinueOnError)
	rates := fs.String("rates", "2000", "offered gifts per second, one step per comma-separated rate")
	dur := fs.Duration("duration", 10*time.Second, "length of each step")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured gifts at the first rate before the steps (opens the HTTP connections, fills the pools)")
	users := fs.Int("users", 2000, "viewers sending gifts (each has at most one gift in flight)")
	pg := fs.String("postgres-url", "", "run on PostgreSQL (a fresh schema on this server) instead of SQLite")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the gift steps to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var steps []int
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			return fmt.Errorf("-rates: %q is not a positive rate", f)
		}
		steps = append(steps, r)
	}
	cfg := server.Config{}
	engine := "SQLite"
	if *pg != "" {
		dsn, drop, err := livetest.PostgresSchema(ctx, *pg, "livehouse_bench")
		if err != nil {
			return err
		}
		defer drop()
		cfg.DatabaseURL, engine = dsn, "PostgreSQL"
	}
	srv, stop, err := startRoomServer(ctx, cfg)
	if err != nil {
		return err
	}
	defer stop()
	st := srv.Store()
	fmt.Fprintf(out, "# livehouse bench gifts -rates %s -duration %s -warmup %s -users %d (%s)\n\n", *rates, *dur, *warmup, *users, engine)
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, load average %s at start; server, senders and the alert reader share the CPUs\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAverage())

	owner, ownerTok, err := benchUser(ctx, st, "creator", store.RoleCreator)
	if err != nil {
		return err
	}
	ch, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "giftroom", OwnerID: owner.ID})
	if err != nil {
		return err
	}
	gifts, err := st.Gifts(ctx, true)
	if err != nil || len(gifts) == 0 {
		return fmt.Errorf("no gift in the catalog: %v", err)
	}
	gift := gifts[0]
	for _, g := range gifts {
		if g.Price < gift.Price {
			gift = g
		}
	}
	packs, err := st.CoinPacks(ctx, true)
	if err != nil || len(packs) == 0 {
		return fmt.Errorf("no coin pack: %v", err)
	}
	pack := slices.MaxFunc(packs, func(a, b store.CoinPack) int { return int(a.Coins - b.Coins) })

	t0 := time.Now()
	ids := make([]string, *users)
	toks := make([]string, *users)
	for i := range ids {
		u, tok, err := benchUser(ctx, st, fmt.Sprintf("fan%d", i), store.RoleViewer)
		if err != nil {
			return err
		}
		ids[i], toks[i] = u.ID, tok
	}
	// Every viewer buys the biggest pack with the sandbox's test card,
	// through the same service the API uses (concurrently: group commit).
	var buyErr atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				_, err := srv.Money().Buy(ctx, money.BuyRequest{UserID: ids[i], PackID: pack.ID, Provider: "sandbox",
					Card: "4242424242424242", IdemKey: "bench-buy-" + strconv.Itoa(i)})
				if err != nil {
					buyErr.Store(err)
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := buyErr.Load().(error); err != nil {
		return fmt.Errorf("buy coins: %w", err)
	}
	fmt.Fprintf(out, "%d viewers signed in, each bought %d coins (%.1f s); gift %q costs %d coins\n\n",
		*users, pack.Coins, time.Since(t0).Seconds(), gift.Name, gift.Price)

	base := "http://" + srv.HTTPAddr() + "/api/v1"
	alerts, err := dialChat(ctx, "ws://"+srv.HTTPAddr()+"/api/v1/channels/giftroom/chat", ownerTok)
	if err != nil {
		return err
	}
	defer alerts.CloseNow()
	tr := newAlertTracker()
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	go tr.read(readCtx, alerts)

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}, Timeout: 30 * time.Second}
	fmt.Fprintln(out, "| offered/s | achieved gifts/s | refused | API p50 ms | API p99 ms | alert p50 ms | alert p99 ms | alerts missing |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var sent int64
	var refusals []string
	seq := 0
	if *warmup > 0 {
		res := runGiftStep(ctx, client, base, gift.ID, ids, toks, steps[0], *warmup, tr, &seq)
		sent += res.ok
	}
	for _, rate := range steps {
		res := runGiftStep(ctx, client, base, gift.ID, ids, toks, rate, *dur, tr, &seq)
		sent += res.ok
		fmt.Fprintf(out, "| %d | %.0f | %d | %.1f | %.1f | %.1f | %.1f | %d |\n", rate, res.achieved, res.refused,
			res.api.q(0.5), res.api.q(0.99), res.alert.q(0.5), res.alert.q(0.99), res.missing)
		if res.firstRefusal != "" {
			refusals = append(refusals, fmt.Sprintf("at %d/s the first refusal was: %s", rate, res.firstRefusal))
		}
	}
	for _, r := range refusals {
		fmt.Fprintln(out, "\n"+r)
	}
	stopRead()

	// Every accepted gift moved its coins exactly once, and the ledger holds.
	set, err := srv.Money().Settings(ctx)
	if err != nil {
		return err
	}
	earned, err := st.Balance(ctx, "earnings:"+ch.ID)
	if err != nil {
		return err
	}
	perGift := gift.Price * int64(set.GiftShareBPS) / 10000
	breaches, err := st.VerifyLedger(ctx)
	if err != nil {
		return err
	}
	counts, _ := st.LedgerCounts(ctx)
	fmt.Fprintf(out, "\n%d gifts accepted; creator earnings %d coins (want %d); ledger verify over %d transactions: %d breaches\n",
		sent, earned, sent*perGift, counts.Txns, len(breaches))
	if earned != sent*perGift {
		return fmt.Errorf("creator earnings %d, want %d: money moved wrongly", earned, sent*perGift)
	}
	if len(breaches) > 0 {
		return fmt.Errorf("ledger breach: %s: %s", breaches[0].Rule, breaches[0].Detail)
	}
	return nil
}

type giftStep struct {
	ok, refused, missing int64
	achieved             float64
	firstRefusal         string
	api, alert           *latencies
}

// runGiftStep offers rate gifts/s for d. A viewer sends one gift at a time,
// so its alerts arrive in the order of its calls.
func runGiftStep(ctx context.Context, client *http.Client, base, giftID string, ids, toks []string,
	rate int, d time.Duration, tr *alertTracker, seq *int) giftStep {
	free := make(chan int, len(ids))
	for i := range ids {
		free <- i
	}
	tr.reset()
	res := giftStep{api: &latencies{}, alert: tr.lat}
	var ok, refused atomic.Int64
	var firstRefusal atomic.Value
	var wg sync.WaitGroup
	total := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for n := range total {
		if wait := time.Until(start.Add(time.Duration(n) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		i := <-free
		*seq++
		key := fmt.Sprintf("bench-gift-%d", *seq)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { free <- i }()
			body := `{"gift_id":"` + giftID + `","count":1}`
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/channels/giftroom/gifts", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Cookie", "lh_session="+toks[i])
			req.Header.Set("Idempotency-Key", key)
			req.Header.Set("X-CSRF-Token", account.CSRFToken(toks[i]))
			t := time.Now()
			tr.sent(ids[i], t)
			resp, err := client.Do(req)
			if err != nil {
				tr.unsent(ids[i])
				if refused.Add(1) == 1 {
					firstRefusal.Store(err.Error())
				}
				return
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			res.api.add(time.Since(t))
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
				tr.unsent(ids[i])
				if refused.Add(1) == 1 {
					firstRefusal.Store(fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(b)))
				}
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.ok, res.refused = ok.Load(), refused.Load()
	res.achieved = float64(res.ok) / elapsed.Seconds()
	res.missing = tr.drain(5 * time.Second)
	res.firstRefusal, _ = firstRefusal.Load().(string)
	return res
}

// alertTracker matches each viewer's gift alerts, in order, to its calls.
type alertTracker struct {
	mu      sync.Mutex
	pending map[string][]time.Time
	lat     *latencies
}

func newAlertTracker() *alertTracker {
	return &alertTracker{pending: map[string][]time.Time{}, lat: &latencies{}}
}

func (t *alertTracker) reset() {
	t.mu.Lock()
	t.lat = &latencies{}
	t.mu.Unlock()
}

func (t *alertTracker) sent(user string, at time.Time) {
	t.mu.Lock()
	t.pending[user] = append(t.pending[user], at)
	t.mu.Unlock()
}

// unsent forgets a refused call's entry (its viewer has only that one).
func (t *alertTracker) unsent(user string) {
	t.mu.Lock()
	if q := t.pending[user]; len(q) > 0 {
		t.pending[user] = q[:len(q)-1]
	}
	t.mu.Unlock()
}

func (t *alertTracker) got(user string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.pending[user]
	if len(q) == 0 {
		return
	}
	t.lat.add(at.Sub(q[0]))
	if len(q) == 1 {
		delete(t.pending, user)
	} else {
		t.pending[user] = q[1:]
	}
}

// drain waits up to d for the outstanding alerts and returns how many
// never came.
func (t *alertTracker) drain(d time.Duration) int64 {
	deadline := time.Now().Add(d)
	for {
		t.mu.Lock()
		n := 0
		for _, q := range t.pending {
			n += len(q)
		}
		if n == 0 || time.Now().After(deadline) {
			t.pending = map[string][]time.Time{}
			t.mu.Unlock()
			return int64(n)
		}
		t.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
}

func (t *alertTracker) read(ctx context.Context, c *websocket.Conn) {
	type ev struct {
		Type string `json:"type"`
		User *struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		var evs []ev
		data = bytes.TrimSpace(data)
		if len(data) > 0 && data[0] == '[' {
			if json.Unmarshal(data, &evs) != nil {
				continue
			}
		} else {
			var e ev
			if json.Unmarshal(data, &e) != nil {
				continue
			}
			evs = []ev{e}
		}
		for _, e := range evs {
			if e.Type == "gift" && e.User != nil {
				t.got(e.User.ID, now)
			}
		}
	}
}

// latencies collects durations for quantiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// q returns the qth quantile in milliseconds.
func (l *latencies) q(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return float64(s[min(int(q*float64(len(s))), len(s)-1)].Microseconds()) / 1000
}

// Renewals measures one pass of the subscription scheduler over many
// subscriptions that all fall due at once (the first of the month after a
// launch): each renewal is a ledger transaction and a subscription update.
func Renewals(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench renewals", flag.ContinueOnError)
	subs := fs.Int("subs", 100_000, "subscriptions due")
	broke := fs.Int("broke-percent", 5, "percent of subscribers without the coins, whose subscriptions expire")
	pg := fs.String("postgres-url", "", "run on PostgreSQL (a fresh schema on this server) instead of SQLite")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the renewal pass to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *subs <= 0 || *broke < 0 || *broke > 100 {
		return errors.New("want -subs > 0 and -broke-percent 0..100")
	}
	cfg := server.Config{}
	engine := "SQLite"
	if *pg != "" {
		dsn, drop, err := livetest.PostgresSchema(ctx, *pg, "livehouse_bench")
		if err != nil {
			return err
		}
		defer drop()
		cfg.DatabaseURL, engine = dsn, "PostgreSQL"
	}
	// The server's own scheduler must not race the measured pass.
	cfg.RenewEvery = 24 * time.Hour
	srv, stop, err := startRoomServer(ctx, cfg)
	if err != nil {
		return err
	}
	defer stop()
	st := srv.Store()
	fmt.Fprintf(out, "# livehouse bench renewals -subs %d -broke-percent %d (%s)\n\n", *subs, *broke, engine)
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, load average %s at start\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAverage())
	owner, _, err := benchUser(ctx, st, "creator", store.RoleCreator)
	if err != nil {
		return err
	}
	ch, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "subroom", OwnerID: owner.ID})
	if err != nil {
		return err
	}
	t0 := time.Now()
	due := time.Now().Add(-time.Minute)
	price := int64(499)
	n, err := st.SeedSubscriptions(ctx, store.SubscriptionSeed{ChannelID: ch.ID, Count: *subs, Tier: 1, Price: price,
		PeriodEnd: due, FundedPercent: 100 - *broke, Progress: func(done int) {
			if done%20000 == 0 {
				fmt.Fprintf(out, "seeded %d subscriptions (%.0f s)\n", done, time.Since(t0).Seconds())
			}
		}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d subscribers and subscriptions due, %d%% of wallets funded (%.1f s)\n\n", n, 100-*broke, time.Since(t0).Seconds())

	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	t1 := time.Now()
	res, err := srv.Money().RenewDue(ctx, time.Now())
	if err != nil {
		return err
	}
	took := time.Since(t1)
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Fprintf(out, "one renewal pass: %d renewed, %d expired, %d failed in %.1f s (%.0f subscriptions/s)\n",
		res.Renewed, res.Expired, res.Failed, took.Seconds(), float64(res.Renewed+res.Expired)/took.Seconds())
	again, err := srv.Money().RenewDue(ctx, time.Now())
	if err != nil {
		return err
	}
	breaches, err := st.VerifyLedger(ctx)
	if err != nil {
		return err
	}
	set, err := srv.Money().Settings(ctx)
	if err != nil {
		return err
	}
	earned, err := st.Balance(ctx, "earnings:"+ch.ID)
	if err != nil {
		return err
	}
	want := int64(res.Renewed) * (price * int64(set.SubShareBPS) / 10000)
	fmt.Fprintf(out, "a second pass renews %d (none are due); creator earnings %d coins (want %d); ledger verify: %d breaches\n",
		again.Renewed, earned, want, len(breaches))
	if again.Renewed != 0 || earned != want || len(breaches) > 0 || res.Renewed+res.Expired != n {
		return errors.New("renewals moved money wrongly; see above")
	}
	return nil
}
