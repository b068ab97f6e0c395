package live

import (
	"context"
	"strings"
	"testing"
)

func TestReconnectDuringTeardownStartsANewBroadcast(t *testing.T) {
	r := startManager(t, Config{})
	r.store.endHold, r.store.ending = make(chan struct{}), make(chan struct{}, 1)
	p, err := r.m.Publish(context.Background(), "key-chan", testAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Begin(testTracks(640, 360)); err != nil {
		t.Fatal(err)
	}
	feed(p, 0, 10)
	first, _ := r.m.StatusOf("chan")

	ended := make(chan struct{})
	go func() {
		defer close(ended)
		p.End(nil) // a clean unpublish: the broadcast ends, slowly
	}()
	<-r.store.ending
	p2, err := r.m.Publish(context.Background(), "key-chan", testAddr)
	if err != nil {
		t.Fatalf("reconnect during the teardown: %v", err)
	}
	if err := p2.Begin(testTracks(640, 360)); err != nil {
		t.Fatal(err)
	}
	feed(p2, 0, 10)
	r.store.mu.Lock()
	hold := r.store.endHold
	r.store.endHold = nil // the new broadcast's eventual end must not wait
	r.store.mu.Unlock()
	close(hold)
	<-ended

	second, ok := r.m.StatusOf("chan")
	if !ok || second.BroadcastID == first.BroadcastID || !r.m.IsLive("ch1") {
		t.Fatalf("after the old teardown: live %v, broadcast %q (old %q)", ok, second.BroadcastID, first.BroadcastID)
	}
	status, body := r.get(t, "/hls/chan/index.m3u8")
	if status != 200 || !strings.Contains(body, second.BroadcastID+"/source/") {
		t.Errorf("multivariant %d does not serve the new broadcast %s:\n%s", status, second.BroadcastID, body)
	}
}
