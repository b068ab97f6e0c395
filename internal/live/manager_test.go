package live

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReconnectDuringTeardownStartsANewBroadcast(t *testing.T) {
	r := startManager(t, Config{})
	r.store.endHold, r.store.ending = make(chan struct{}), make(chan struct{}, 1)
	p := r.goLive(t)
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

func TestFailedReconnectsDoNotExtendTheGraceWindow(t *testing.T) {
	const grace = 600 * time.Millisecond
	r := startManager(t, Config{Grace: grace})
	ctx := context.Background()
	p := r.goLive(t)
	dropped := time.Now()
	p.End(errors.New("connection reset"))

	// Two reconnects that never send media: one leaves, one hangs on.
	time.Sleep(grace / 2)
	p2, err := r.m.Publish(ctx, "key-chan", testAddr)
	if err != nil {
		t.Fatal(err)
	}
	p2.End(errors.New("connection reset"))
	p3, err := r.m.Publish(ctx, "key-chan", testAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*grace, "the broadcast to end", func() bool { return !r.m.IsLive("ch1") })
	if took := time.Since(dropped); took > grace+200*time.Millisecond {
		t.Errorf("ended %v after the drop, want the grace window of %v", took, grace)
	}
	if err := p3.Begin(testTracks(640, 360)); !errors.Is(err, ErrClosed) {
		t.Errorf("Begin after the window: %v, want ErrClosed", err)
	}
	p3.End(errors.New("closed"))
}

func TestReconnectThatSendsMediaStartsAFreshGraceWindow(t *testing.T) {
	const grace = 600 * time.Millisecond
	r := startManager(t, Config{Grace: grace})
	ctx := context.Background()
	p := r.goLive(t)
	p.End(errors.New("connection reset"))
	time.Sleep(grace / 2)
	p2, err := r.m.Publish(ctx, "key-chan", testAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Begin(testTracks(640, 360)); err != nil {
		t.Fatal(err)
	}
	feed(p2, 0, 10)
	dropped := time.Now()
	p2.End(errors.New("connection reset"))
	time.Sleep(grace * 3 / 4) // past the first window, within the second
	if !r.m.IsLive("ch1") {
		t.Fatal("the broadcast ended before its second grace window was over")
	}
	waitUntil(t, 2*grace, "the broadcast to end", func() bool { return !r.m.IsLive("ch1") })
	if took := time.Since(dropped); took < grace {
		t.Errorf("ended %v after the second drop, want %v", took, grace)
	}
}

func TestKickClosesThePublication(t *testing.T) {
	r := startManager(t, Config{})
	p := r.goLive(t)
	select {
	case <-p.Done():
		t.Fatal("Done closed while live")
	default:
	}
	if !r.m.Kick("ch1", "terms of service") {
		t.Fatal("Kick found nothing on the air")
	}
	select {
	case <-p.Done():
	case <-time.After(time.Second):
		t.Fatal("a kicked publication's Done stayed open, so its connection would too")
	}
	p.End(errors.New("closed")) // what the ingest does next
	if _, err := r.m.Publish(context.Background(), "key-chan", testAddr); !errors.Is(err, ErrSuspended) {
		t.Errorf("publish right after the kick: %v, want ErrSuspended", err)
	}
}
