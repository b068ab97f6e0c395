package channel

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

// receiver is a real HTTP endpoint on loopback that records deliveries and
// answers with the statuses it is given, in turn.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	got      []*http.Request
	bodies   [][]byte
	statuses []int
	delay    time.Duration
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		rc.bodies = append(rc.bodies, body)
		status := 204
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		delay := rc.delay
		rc.mu.Unlock()
		time.Sleep(delay)
		if status == 302 {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setup makes a channel with one webhook to url and queues one live event.
func setup(t *testing.T, st *store.Store, url string) (store.Webhook, string) {
	t.Helper()
	ctx := t.Context()
	ch, _, _ := st.CreateChannel(ctx, "hooked")
	w, secret, err := st.CreateWebhook(ctx, ch.ID, url, []string{"live", "offline"})
	if err != nil {
		t.Fatal(err)
	}
	return w, secret
}

func runWebhooks(t *testing.T, cfg WebhooksConfig) *Webhooks {
	t.Helper()
	w := NewWebhooks(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func TestDeliveriesAreSignedRetriedWithBackoffAndRecorded(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t, 500, 302, 200)
	hook, secret := setup(t, st, rc.srv.URL+"/hook?x=1")
	ev := NewEvents(EventsConfig{Store: st, Viewers: NewViewers(ViewersConfig{Store: st})})
	ch, _ := st.ChannelBySlug(t.Context(), "hooked")
	ev.BroadcastStarted(live.BroadcastInfo{ChannelID: ch.ID, Slug: "hooked", BroadcastID: "bc9", StartedAt: time.Now()})
	ev.Flush(t.Context())
	runWebhooks(t, WebhooksConfig{Store: st, AllowPrivate: true, Poll: 20 * time.Millisecond,
		Backoff: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}})
	waitUntil(t, "three attempts", func() bool { return rc.count() == 3 })
	time.Sleep(100 * time.Millisecond)
	if n := rc.count(); n != 3 {
		t.Errorf("%d attempts; a 200 must end the retries", n)
	}
	rc.mu.Lock()
	for i, r := range rc.got {
		body := rc.bodies[i]
		if got := r.Header.Get(SignatureHeader); got != Sign(secret, body) || !strings.HasPrefix(got, "sha256=") {
			t.Errorf("attempt %d signature %q, want HMAC-SHA256 of the body", i, got)
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Livehouse-Event") != "live" || r.URL.RawQuery != "x=1" {
			t.Errorf("attempt %d headers %v query %q", i, r.Header, r.URL.RawQuery)
		}
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil || p.Event != "live" || p.Channel.Slug != "hooked" ||
			p.Broadcast.ID != "bc9" || p.ID != r.Header.Get("X-Livehouse-Delivery") {
			t.Errorf("payload %s: %v", body, err)
		}
	}
	rc.mu.Unlock()
	waitUntil(t, "the delivery to be recorded", func() bool {
		ds, _ := st.Deliveries(t.Context(), hook.ID, 10)
		return len(ds) == 1 && ds[0].State == store.DeliveryDelivered
	})
	ds, _ := st.Deliveries(t.Context(), hook.ID, 10)
	if ds[0].Attempts != 3 || ds[0].LastStatus != 200 {
		t.Errorf("delivery = %+v, want 3 attempts ending in 200 (a redirect is a failure, not followed)", ds[0])
	}
}

func TestDeliveriesGiveUpAfterTheLastRetryAndTimeOutSlowReceivers(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t, 200, 200)
	rc.delay = 400 * time.Millisecond
	hook, _ := setup(t, st, rc.srv.URL)
	ch, _ := st.ChannelBySlug(t.Context(), "hooked")
	st.EnqueueDeliveries(t.Context(), ch.ID, "live", func(string) []byte { return []byte(`{}`) })
	runWebhooks(t, WebhooksConfig{Store: st, AllowPrivate: true, Poll: 20 * time.Millisecond,
		Timeout: 100 * time.Millisecond, Backoff: []time.Duration{10 * time.Millisecond}})
	waitUntil(t, "the delivery to fail for good", func() bool {
		ds, _ := st.Deliveries(t.Context(), hook.ID, 10)
		return len(ds) == 1 && ds[0].State == store.DeliveryFailed
	})
	ds, _ := st.Deliveries(t.Context(), hook.ID, 10)
	if ds[0].Attempts != 2 || ds[0].LastStatus != 0 || ds[0].LastError == "" || strings.Contains(ds[0].LastError, rc.srv.URL) {
		t.Errorf("delivery = %+v; want 2 timed-out attempts, an error without the URL", ds[0])
	}
}

func TestWebhooksRefuseLoopbackAndPrivateAddressesUnlessAllowed(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t)
	hook, _ := setup(t, st, rc.srv.URL)
	ch, _ := st.ChannelBySlug(t.Context(), "hooked")
	st.EnqueueDeliveries(t.Context(), ch.ID, "live", func(string) []byte { return []byte(`{}`) })
	runWebhooks(t, WebhooksConfig{Store: st, Poll: 20 * time.Millisecond, Backoff: []time.Duration{}})
	waitUntil(t, "the delivery to be refused", func() bool {
		ds, _ := st.Deliveries(t.Context(), hook.ID, 10)
		return len(ds) == 1 && ds[0].State == store.DeliveryFailed
	})
	ds, _ := st.Deliveries(t.Context(), hook.ID, 10)
	if rc.count() != 0 || !strings.Contains(ds[0].LastError, "loopback, private") {
		t.Errorf("receiver got %d requests; delivery %+v", rc.count(), ds[0])
	}
	for addr, refused := range map[string]bool{
		"127.0.0.1:80": true, "10.1.2.3:443": true, "192.168.0.1:80": true, "169.254.169.254:80": true,
		"[::1]:80": true, "[fd00::1]:80": true, "100.64.0.1:80": true, "0.0.0.0:80": true,
		"93.184.216.34:443": false, "[2606:4700::1111]:443": false,
	} {
		if err := refusePrivate("tcp", addr, nil); (err != nil) != refused {
			t.Errorf("refusePrivate(%s) = %v, want refused=%v", addr, err, refused)
		}
	}
}
