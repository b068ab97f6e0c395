package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/store"
)

// settle waits for the goroutine count to come back to base.
func settle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, want about %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHostileFramesGetClearErrorsAndTheRoomCarriesOn(t *testing.T) {
	r := newRig(t, nil)
	good := r.dial("good", 0)
	good.welcome()
	bad := r.dial("bad", 0)
	bad.welcome()
	raw := func(b []byte) map[string]any {
		t.Helper()
		if err := bad.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		return bad.next("error", isType(KindError))
	}
	cases := []struct {
		name  string
		frame []byte
		code  string
	}{
		{"malformed JSON", []byte(`{"type":"send","text":`), "bad_json"},
		{"not an object", []byte(`[1,2,3]`), "bad_json"},
		{"unknown type", []byte(`{"type":"launch_missiles"}`), "unknown_type"},
		{"invalid UTF-8", append([]byte(`{"type":"send","text":"`), 0xff, 0xfe, '"', '}'), "bad_text"},
		{"oversize message", []byte(`{"type":"send","text":"` + strings.Repeat("x", 501) + `"}`), "too_long"},
		{"empty message", []byte(`{"type":"send","text":"   "}`), "bad_text"},
		{"control characters", []byte(`{"type":"send","text":"a\u0007b"}`), "bad_text"},
		{"direction override", []byte(`{"type":"send","text":"abc\u202Edef"}`), "bad_text"},
		{"vote in no poll", []byte(`{"type":"poll.vote","poll_id":"nope","option":0}`), "poll_closed"},
		{"unknown reaction", []byte(`{"type":"react","emoji":"<script>"}`), "bad_reaction"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := raw(c.frame)
			if e["code"] != c.code || e["message"] == "" {
				t.Errorf("error = %v, want code %q with a message", e, c.code)
			}
		})
	}
	// Binary frames are refused.
	bad.conn.Write(context.Background(), websocket.MessageBinary, []byte{1, 2, 3})
	if e := bad.next("binary error", isType(KindError)); e["code"] != "bad_frame" {
		t.Errorf("binary frame = %v", e)
	}
	// Markup is data: stored and sent verbatim inside JSON strings.
	xss := `<img src=x onerror=alert(1)><script>alert(2)</script>`
	bad.say(xss)
	if got := good.next("markup message", chatWith(xss)); got["text"] != xss {
		t.Errorf("markup changed: %v", got["text"])
	}
	good.say("still fine")
}

func TestAnOversizeFrameClosesOnlyThatConnection(t *testing.T) {
	base := runtime.NumGoroutine()
	r := newRig(t, nil)
	up := runtime.NumGoroutine() // the store's and the HTTP server's
	good := r.dial("good", 0)
	good.welcome()
	bad := r.dial("bad", 0)
	bad.welcome()
	bad.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"send","text":"`+strings.Repeat("x", 20_000)+`"}`))
	select {
	case err := <-bad.closed:
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Errorf("close = %v, want 1009", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an oversize frame did not close the connection")
	}
	good.say("unaffected")
	good.conn.Close(websocket.StatusNormalClosure, "")
	settle(t, up) // with the hub still up: its rooms and clients let go by themselves
	r.hub.Close()
	r.srv.Close()
	settle(t, base)
}

func TestFloodsAreRateLimitedWithoutSlowingOthers(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.PerUser = account.NewLimiter(account.Rate{Burst: 5, Every: time.Second})
		c.PerIP = account.NewLimiter(account.Rate{Burst: 20, Every: time.Second})
	})
	flooder := r.dial("flooder", 0)
	flooder.welcome()
	other := dialURL(t, r, "other", 0, "10.1.1.1")
	other.welcome()
	limited := 0
	for i := 0; i < 20; i++ {
		rep := flooder.reply(flooder.send(map[string]any{"type": "send", "text": fmt.Sprintf("spam %d", i)}))
		if rep["code"] == "rate_limited" {
			limited++
			if rep["retry_ms"] == nil || !strings.Contains(rep["message"].(string), "wait") {
				t.Errorf("rate-limit reply says nothing useful: %v", rep)
			}
		}
	}
	if limited != 15 {
		t.Errorf("%d of 20 refused, want 15 (burst 5)", limited)
	}
	other.say("I can still talk")

	// Many accounts from one network: the per-address budget holds.
	refused := 0
	for i := 0; i < 30; i++ {
		c := dialURL(t, r, fmt.Sprintf("sock%d", i), 0, "10.9.9.9")
		c.welcome()
		if c.reply(c.send(map[string]any{"type": "send", "text": "hi"}))["code"] == "rate_limited" {
			refused++
		}
	}
	if refused != 10 {
		t.Errorf("%d of 30 accounts on one address refused, want 10", refused)
	}
	other.say("and still")
}

func TestASlowConsumerIsDisconnectedAndDelaysNobody(t *testing.T) {
	// The queue bound leaves the fast reader room for the test client's own
	// pace under a flood at full speed; the flood is three times it, so the
	// reader that never reads must overflow.
	r := newRig(t, func(c *Config) { c.QueueBytes, c.RoomRate = 512<<10, 100_000 })
	talker := r.dial("talker", 0)
	talker.welcome()
	fast := r.dial("fast", 0)
	fast.welcome()
	// The slow client never reads: its TCP buffers fill, then its queue.
	dialSlow(t, r, "slow")
	big := strings.Repeat("y", 490)
	start := time.Now()
	for i := 0; i < 3000; i++ {
		talker.send(map[string]any{"type": "send", "text": fmt.Sprintf("%04d %s", i, big)})
	}
	last := fast.nextWithin("the last message", 20*time.Second, func(o map[string]any) bool {
		txt, _ := o["text"].(string)
		return strings.HasPrefix(txt, "2999 ")
	})
	if last == nil || time.Since(start) > 20*time.Second {
		t.Fatalf("fast client starved")
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.hub.Stats().SlowDropped == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if r.hub.Stats().SlowDropped != 1 {
		t.Errorf("slow consumers dropped = %d, want 1", r.hub.Stats().SlowDropped)
	}
}

func TestReconnectStormLeavesNoGoroutinesBehind(t *testing.T) {
	base := runtime.NumGoroutine()
	r := newRig(t, nil)
	up := runtime.NumGoroutine() // the store's and the HTTP server's
	keeper := r.dial("keeper", 0)
	keeper.welcome()
	for i := 0; i < 200; i++ {
		c := r.dial(fmt.Sprintf("storm%d", i%20), 0)
		c.welcome()
		if i%2 == 0 {
			c.conn.CloseNow()
		} else {
			c.conn.Close(websocket.StatusNormalClosure, "bye")
		}
	}
	keeper.say("after the storm")
	deadline := time.Now().Add(5 * time.Second)
	for r.hub.Stats().Clients != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := r.hub.Stats().Clients; n != 1 {
		t.Errorf("clients after the storm = %d, want 1", n)
	}
	keeper.conn.Close(websocket.StatusNormalClosure, "")
	settle(t, up) // with the hub still up: its rooms and clients let go by themselves
	r.hub.Close()
	r.srv.Close()
	settle(t, base)
}

// A flood from many accounts, each within its own budget, spends the
// room's budget: posters get room_busy, readers get every accepted
// message, and another room on the same hub does not notice.
func TestAFloodFromManyAccountsSlowsOnlyThatRoom(t *testing.T) {
	r := newRig(t, func(c *Config) { c.RoomRate = 10 })
	owner2 := r.user("owner2")
	ch2, _, err := r.st.CreateChannelWith(t.Context(), store.NewChannel{Slug: "quiet", OwnerID: owner2.ID})
	if err != nil {
		t.Fatal(err)
	}
	other := &rig{t: t, st: r.st, hub: r.hub, users: map[string]*store.User{}, ch: Channel{ID: ch2.ID, Slug: ch2.Slug, OwnerID: owner2.ID}}
	other.srv = httptest.NewServer(http.HandlerFunc(other.serve))
	t.Cleanup(other.srv.Close)

	reader := r.dial("reader", 0)
	reader.welcome()
	calm := other.dial("calm", 0)
	calm.welcome()
	var floods []*ws
	for i := 0; i < 30; i++ {
		c := r.dial(fmt.Sprintf("flood%d", i), 0)
		c.welcome()
		floods = append(floods, c)
	}
	refs := make([]string, len(floods))
	var accepted []string
	for round := 0; round < 2; round++ {
		for i, c := range floods {
			refs[i] = c.send(map[string]any{"type": "send", "text": fmt.Sprintf("flood %d.%d", i, round)})
		}
		busy := 0
		for i, c := range floods {
			switch rep := c.reply(refs[i]); {
			case rep["code"] == "room_busy":
				busy++
			case rep["type"] == KindAck:
				accepted = append(accepted, fmt.Sprintf("flood %d.%d", i, round))
			default:
				t.Errorf("flood reply = %v", rep)
			}
		}
		if round == 0 && busy == 0 {
			t.Error("60 messages at once from 30 accounts: none refused as room_busy")
		}
		for i := 0; i < 3; i++ {
			if seq := calm.say(fmt.Sprintf("calm %d.%d", round, i)); seq == 0 {
				t.Error("the other room was slowed")
			}
		}
	}
	// The reader misses nothing that was accepted.
	want := map[string]bool{}
	for _, a := range accepted {
		want[a] = true
	}
	for len(want) > 0 {
		m := reader.next("the accepted flood messages", isType(KindChat))
		delete(want, m["text"].(string))
	}
}

func TestClosingTheHubDisconnectsClientsWithGoingAway(t *testing.T) {
	r := newRig(t, nil)
	c := r.dial("a", 0)
	c.welcome()
	r.hub.Close()
	select {
	case err := <-c.closed:
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
			t.Errorf("close = %v, want 1001", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client not disconnected")
	}
}

// A burst can put more into one batch frame than a client's whole queue
// bound; a reader that keeps up (its queue empty) must get it, not be
// dropped as slow.
func TestABatchBiggerThanTheQueueBoundReachesAReaderThatKeepsUp(t *testing.T) {
	r := newRig(t, func(c *Config) { c.QueueBytes, c.RoomRate, c.Linger = 4<<10, 100_000, 200*time.Millisecond })
	talker := r.dial("talker", 0)
	talker.welcome()
	reader := r.dial("reader", 0)
	reader.welcome()
	big := strings.Repeat("z", 400)
	for i := 0; i < 40; i++ { // ≈ 20 KiB inside one 200 ms linger
		talker.send(map[string]any{"type": "send", "text": fmt.Sprintf("%03d %s", i, big)})
	}
	if reader.nextWithin("the last message", 10*time.Second, func(o map[string]any) bool {
		txt, _ := o["text"].(string)
		return strings.HasPrefix(txt, "039 ")
	}) == nil {
		t.Fatal("the reader missed the burst")
	}
	if n := r.hub.Stats().SlowDropped; n != 0 {
		t.Errorf("%d clients dropped as slow for one big batch", n)
	}
}
