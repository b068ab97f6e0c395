package money_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/bus"
	"github.com/livehouse/livehouse/internal/money"
	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
)

// Two nodes (two money services, each with its own chat hub, sharing the
// database and a bus) run one channel's ad break: the break starts once
// however many starts race, picks the best-paying creative that targets
// the channel's category, counts each viewer once and subscribers never,
// is announced ended once, even after a restart, and pays the creator
// floor(impressions × CPM / 1000) coins once, split by the ad share.
func TestAdBreakStartsEndsAndPaysOnceAcrossNodes(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := time.Now().Truncate(time.Second)
		clock := t0
		now := func() time.Time { return clock }
		b := bus.NewLocal()
		node := func() *money.Service {
			hub, err := realtime.New(realtime.Config{Store: st, Bus: b})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = hub.Close() })
			svc, err := money.New(money.Config{Store: st, Rooms: hub, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		}
		nodes := []*money.Service{node(), node()}

		owner, err := st.CreateUser(ctx, store.NewUser{Email: "caster@x.example", DisplayName: "caster", PasswordHash: "x", Role: store.RoleCreator})
		if err != nil {
			t.Fatal(err)
		}
		ch, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "adroom", OwnerID: owner.ID, Profile: store.Profile{Category: "games"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []store.AdCreative{
			{Name: "music only", Kind: "image", URL: "/ads/music.png", CPM: 9000, Categories: []string{"music"}, Active: true},
			{Name: "games", Kind: "image", URL: "/ads/games.png", CPM: 2500, Categories: []string{"games"}, Active: true},
			{Name: "anyone", Kind: "image", URL: "/ads/any.png", CPM: 1000, Active: true},
		} {
			if _, err := st.CreateAdCreative(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		events := func(kind string) int {
			t.Helper()
			evs, err := st.RoomEventsAfter(ctx, ch.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, ev := range evs {
				if ev.Kind == kind {
					n++
				}
			}
			return n
		}
		code := func(err error) string {
			var rf *money.Refusal
			var fe *store.FieldError
			switch {
			case errors.As(err, &rf):
				return rf.Code()
			case errors.As(err, &fe):
				return "field:" + fe.Field
			case err != nil:
				return err.Error()
			}
			return ""
		}
		// race runs fn on 16 goroutines, alternating the two nodes, released
		// together.
		race := func(fn func(svc *money.Service)) {
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i := range 16 {
				wg.Go(func() { <-gate; fn(nodes[i%2]) })
			}
			close(gate)
			wg.Wait()
		}

		for _, d := range []time.Duration{0, 29 * time.Second, 181 * time.Second, 45500 * time.Millisecond, -time.Minute} {
			if _, err := nodes[0].StartBreak(ctx, ch, d); code(err) != "field:duration" {
				t.Errorf("a %v break: %v, want a duration field error", d, err)
			}
		}

		// Sixteen starts race on two nodes: one break.
		var mu sync.Mutex
		var started []money.BreakView
		refused := map[string]int{}
		race(func(svc *money.Service) {
			v, err := svc.StartBreak(ctx, ch, time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused[code(err)]++
				return
			}
			started = append(started, v)
		})
		if len(started) != 1 || refused["break_running"] != 15 {
			t.Fatalf("racing starts: %d started, refused %v; want 1 and 15 break_running", len(started), refused)
		}
		brk := started[0]
		if brk.Creative.Name != "games" || brk.Duration != 60 || !brk.EndsAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("break = %+v, want the games creative (the best CPM targeting games) for 60 s", brk)
		}
		if n := events(realtime.KindAdBreak); n != 1 {
			t.Errorf("%d ad.break events in the room, want 1", n)
		}

		impression := func(svc *money.Service, viewer string, subscriber bool) (bool, string) {
			ok, err := svc.Impression(ctx, money.Impression{BreakID: brk.ID, Viewer: viewer, Network: "198.51.100.7", Subscriber: subscriber})
			return ok, code(err)
		}
		clock = t0.Add(10 * time.Second)
		for _, tc := range []struct {
			node       int
			viewer     string
			subscriber bool
			counted    bool
		}{
			{0, "viewer-1", false, true},
			{1, "viewer-2", false, true},
			{1, "viewer-1", false, false}, // the same viewer on the other node
			{0, "viewer-1", false, false},
			{0, "viewer-4", true, false}, // subscribers see no ads
		} {
			if ok, c := impression(nodes[tc.node], tc.viewer, tc.subscriber); ok != tc.counted || c != "" {
				t.Errorf("impression of %s (subscriber %v) on node %d: counted %v, %q; want %v", tc.viewer, tc.subscriber, tc.node, ok, c, tc.counted)
			}
		}

		if mine, err := st.ClaimAdBreakEnd(ctx, brk.ID, clock); mine || err != nil {
			t.Errorf("claiming the end of a running break: %v, %v; want false", mine, err)
		}

		// The break's time is up: every node's ad clock ticks at once.
		clock = t0.Add(time.Minute)
		race(func(svc *money.Service) { svc.RunAdPass(ctx, false) })
		if n := events(realtime.KindAdEnd); n != 1 {
			t.Errorf("%d ad.end events after both nodes ticked, want 1", n)
		}
		if mine, err := st.ClaimAdBreakEnd(ctx, brk.ID, clock); mine || err != nil {
			t.Errorf("a second claim of the break's end: %v, %v; want false", mine, err)
		}
		if got, _ := st.AdBreakByID(ctx, brk.ID); got.State != store.BreakRunning || got.Credited != 0 {
			t.Errorf("break right after its end = %+v, want running (impressions may still arrive) and unpaid", got)
		}
		// Late impressions count for 5 s after the end, then are refused.
		clock = t0.Add(time.Minute + 2*time.Second)
		if ok, c := impression(nodes[1], "viewer-3", false); !ok || c != "" {
			t.Errorf("an impression 2 s after the end: %v, %q; want counted", ok, c)
		}
		clock = t0.Add(time.Minute + 6*time.Second)
		if ok, c := impression(nodes[0], "viewer-5", false); ok || c != "break_over" {
			t.Errorf("an impression 6 s after the end: %v, %q; want break_over", ok, c)
		}

		earned0, _ := st.Balance(ctx, "earnings:"+ch.ID)
		revenue0, _ := st.Balance(ctx, "platform:revenue")
		race(func(svc *money.Service) { svc.RunAdPass(ctx, false) })
		nodes = append(nodes, node()) // a node restarted after the break
		nodes[2].RunAdPass(ctx, true)
		got, err := st.AdBreakByID(ctx, brk.ID)
		if err != nil {
			t.Fatal(err)
		}
		const coins = 3 * 2500 / 1000 // 7: three impressions at a CPM of 2,500
		set, err := nodes[0].Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		creator := int64(coins * set.AdShareBPS / 10000)
		earned, _ := st.Balance(ctx, "earnings:"+ch.ID)
		revenue, _ := st.Balance(ctx, "platform:revenue")
		if got.State != store.BreakCredited || got.Impressions != 3 || got.Credited != coins {
			t.Errorf("break after the credit = %+v, want credited with 3 impressions and %d coins", got, coins)
		}
		if earned-earned0 != creator || revenue-revenue0 != coins-creator {
			t.Errorf("credit: creator +%d, platform +%d; want +%d and +%d, once", earned-earned0, revenue-revenue0, creator, coins-creator)
		}
		if n := events(realtime.KindAdEnd); n != 1 {
			t.Errorf("%d ad.end events after a restarted node ticked, want 1", n)
		}
		if breaches, err := st.VerifyLedger(ctx); err != nil || len(breaches) != 0 {
			t.Errorf("ledger verify: %v, %v", breaches, err)
		}

		// The next break may start now that this one is over.
		if _, err := nodes[1].StartBreak(ctx, ch, 30*time.Second); err != nil {
			t.Errorf("a break after the last one ended: %v", err)
		}
	})
}

// An impression counts an audience: not the channel's owner watching
// their own break, and no more than a household of viewers from one
// client network, however many viewer ids it makes up.
func TestAdImpressionsCountNeitherTheOwnerNorMoreThanAHouseholdPerNetwork(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSubWorld(t, st)
		if _, err := st.CreateAdCreative(ctx, store.AdCreative{Name: "any", Kind: "image", URL: "/ads/any.png", CPM: 1000, Active: true}); err != nil {
			t.Fatal(err)
		}
		brk, err := w.svc.StartBreak(ctx, w.ch, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		count := func(im money.Impression) bool {
			t.Helper()
			im.BreakID = brk.ID
			ok, err := w.svc.Impression(ctx, im)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if count(money.Impression{Viewer: "user:" + w.owner.ID, UserID: w.owner.ID, Network: "203.0.113.1"}) {
			t.Error("the channel's owner counted as an impression of their own break")
		}
		counted := 0
		for i := range 20 {
			if count(money.Impression{Viewer: fmt.Sprintf("anon:made-up-%02d", i), Network: "2001:db8:1:2::/64"}) {
				counted++
			}
		}
		if counted != money.ImpressionsPerNetwork {
			t.Errorf("20 viewer ids from one network counted %d times, want %d", counted, money.ImpressionsPerNetwork)
		}
		if !count(money.Impression{Viewer: "anon:next-door", Network: "2001:db8:1:3::/64"}) {
			t.Error("a viewer from another network did not count")
		}
		if count(money.Impression{Viewer: "anon:next-door", Network: "2001:db8:1:3::/64"}) {
			t.Error("a viewer counted twice in one break")
		}
		got, err := st.AdBreakByID(ctx, brk.ID)
		if err != nil || got.Impressions != int64(money.ImpressionsPerNetwork+1) {
			t.Errorf("break impressions = %d, %v; want %d", got.Impressions, err, money.ImpressionsPerNetwork+1)
		}
	})
}
