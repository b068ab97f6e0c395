package bus

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

type pubsub interface {
	Publish(ctx context.Context, subject string, data []byte) error
	Subscribe(subject string, h Handler) (func(), error)
}

// collector gathers what a subscription receives.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) handle(b []byte) {
	c.mu.Lock()
	c.got = append(c.got, string(b))
	c.mu.Unlock()
}

func (c *collector) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := append([]string(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkBus(t *testing.T, a, b pubsub, subject string) {
	t.Helper()
	var one, two collector
	u1, err := a.Subscribe(subject, one.handle)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := b.Subscribe(subject, two.handle)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := b.(interface{ Flush(context.Context) error }); ok {
		f.Flush(t.Context()) // the subscription is registered at the server
	}
	var other collector
	u3, _ := a.Subscribe(subject+".other", other.handle)
	defer u3()
	for i := 0; i < 100; i++ {
		if err := a.Publish(t.Context(), subject, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]*collector{"same node": &one, "other node": &two} {
		got := c.wait(t, 100)
		if len(got) != 100 {
			t.Fatalf("%s got %d of 100", name, len(got))
		}
		for i, g := range got {
			if g != fmt.Sprint(i) {
				t.Fatalf("%s: message %d is %q: out of publish order", name, i, g)
			}
		}
	}
	if len(other.got) != 0 {
		t.Errorf("another subject received %v", other.got)
	}
	u1()
	u2()
	a.Publish(t.Context(), subject, []byte("after"))
	time.Sleep(50 * time.Millisecond)
	if n := len(one.wait(t, 0)); n != 100 {
		t.Errorf("an unsubscribed handler still receives: %d", n)
	}
}

func TestLocalDeliversToEverySubscriberInOrder(t *testing.T) {
	b := NewLocal()
	checkBus(t, b, b, "room.1")
}

func TestNATSDeliversAcrossConnectionsInOrder(t *testing.T) {
	url := os.Getenv("LIVEHOUSE_TEST_NATS_URL")
	if url == "" {
		t.Skip("NATS leg skipped: LIVEHOUSE_TEST_NATS_URL is not set (.ci/run sets it)")
	}
	a, err := DialNATS(t.Context(), url, "test a", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := DialNATS(t.Context(), url, "test b", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkBus(t, a, b, fmt.Sprintf("livehouse.test.%d", time.Now().UnixNano()))
}

func TestDialNATSToNothingFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := DialNATS(ctx, "nats://127.0.0.1:1", "nowhere", nil); err == nil {
		t.Fatal("dialing a closed port succeeded")
	}
}
