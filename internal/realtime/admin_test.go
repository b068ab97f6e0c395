package realtime

import (
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
