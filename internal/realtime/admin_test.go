package realtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/bus"
)

func closedWith(t *testing.T, c *ws, what string) {
	t.Helper()
	select {
	case err := <-c.closed:
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation || !strings.Contains(err.Error(), "admin") && !strings.Contains(err.Error(), "suspended") {
			t.Errorf("%s: close = %v, want 1008 saying why", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still connected", what)
	}
}

// Two nodes on one bus and store: an admin action on node A reaches the
// sockets on node B.
func TestKickUserAndCloseRoomReachEveryNode(t *testing.T) {
	shared := bus.NewLocal()
	a := newRig(t, nil)
	// newRig made its own bus; build both nodes on one.
	nodeA := newRigOn(t, a.st, shared, "room", nil)
	nodeB := newRigOn(t, a.st, shared, "room", nil)
	for _, n := range []string{"target", "bystander"} {
		nodeB.users[n] = nodeA.user(n)
	}

	target := nodeB.dial("target", 0)
	target.welcome()
	bystander := nodeB.dial("bystander", 0)
	bystander.welcome()
	onA := nodeA.dial("target", 0)
	onA.welcome()

	if err := nodeA.hub.KickUser(t.Context(), nodeA.user("target").ID); err != nil {
		t.Fatal(err)
	}
	closedWith(t, target, "the kicked user on node B")
	closedWith(t, onA, "the kicked user on node A")
	bystander.say("still here")

	if err := nodeA.hub.CloseRoom(t.Context(), nodeA.ch.ID); err != nil {
		t.Fatal(err)
	}
	closedWith(t, bystander, "a viewer of the suspended channel on node B")
}

func TestOneNetworkCanHoldOnlySoManySockets(t *testing.T) {
	r := newRig(t, func(c *Config) { c.MaxSocketsPerClient = 3 })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		conn, err := websocket.Accept(w, req, nil)
		if err != nil {
			return
		}
		r.hub.Attach(conn, r.ch, Member{IP: req.URL.Query().Get("ip")}, 0)
	}))
	t.Cleanup(srv.Close)
	dial := func(ip string) *ws {
		t.Helper()
		conn, _, err := websocket.Dial(t.Context(), strings.Replace(srv.URL, "http", "ws", 1)+"/?ip="+ip, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		c := &ws{t: t, conn: conn, objs: make(chan map[string]any, 1000), closed: make(chan error, 1)}
		go func() {
			for {
				_, data, err := conn.Read(context.Background())
				if err != nil {
					c.closed <- err
					close(c.objs)
					return
				}
				var arr []map[string]any
				json.Unmarshal(data, &arr)
				for _, o := range arr {
					c.objs <- o
				}
			}
		}()
		return c
	}
	var open []*ws
	for i := 0; i < 3; i++ {
		c := dial("10.5.5.5")
		c.welcome()
		open = append(open, c)
	}
	extra := dial("10.5.5.5")
	select {
	case err := <-extra.closed:
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation || !strings.Contains(err.Error(), "too many") {
			t.Errorf("a fourth socket: %v, want 1008 saying why", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a fourth socket from one network stayed open")
	}
	dial("10.6.6.6").welcome() // another network is not counted with it
	open[0].conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dial("10.5.5.5")
		select {
		case o := <-c.objs:
			if o["type"] == KindWelcome {
				return // a freed slot is taken again
			}
		case <-c.closed:
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatal("a socket closed, yet its network still cannot connect")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
