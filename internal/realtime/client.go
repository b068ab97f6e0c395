package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// maxFrame bounds what a client may send in one frame.
const maxFrame = 8 << 10

// junkRate and junkBurst bound the pings and malformed or unknown frames
// one connection may send: past the burst, one a second. A client that
// keeps sending them is disconnected (1008) with the reason.
const (
	junkRate  = 1
	junkBurst = 20
)

// client is one WebSocket connection in a room.
type client struct {
	room   *room
	conn   *websocket.Conn
	member Member
	user   User         // the identity shown on its messages
	sub    atomic.Bool  // subscribes to the channel (set again when a sub event names the user)
	subAt  atomic.Int64 // when sub was last read (unix ms)
	taps   *rate.Limiter
	junk   *rate.Limiter // pings and frames refused as malformed
	// joinIdx and slot are set when it joins: the first fan-out job it
	// gets, and its group for big-room batching.
	joinIdx int64
	slot    int

	ctx     context.Context // set by setup before the client joins
	cancel  context.CancelFunc
	writers sync.WaitGroup // drain and close goroutines

	mu      sync.Mutex
	queue   [][]byte
	queued  int
	writing bool
	closed  bool
}

func newClient(r *room, conn *websocket.Conn, m Member) *client {
	c := &client{room: r, conn: conn, member: m, taps: rate.NewLimiter(10, 20), junk: rate.NewLimiter(junkRate, junkBurst)}
	if m.User != nil {
		c.user = User{ID: m.User.ID, Name: m.User.DisplayName}
	} else {
		b := make([]byte, 3)
		rand.Read(b) // never fails (Go 1.24+)
		c.user = User{ID: "", Name: "guest-" + hex.EncodeToString(b), Badges: []string{"guest"}}
	}
	return c
}

// signedIn reports whether the client has an account.
func (c *client) signedIn() bool { return c.member.User != nil }

// moderator reports whether the client may moderate: the broadcaster, an
// appointed moderator or an admin. Called with the room's lock held or not.
func (c *client) moderator() bool {
	if !c.signedIn() {
		return false
	}
	if c.member.IsAdmin || c.member.User.ID == c.room.ch.OwnerID {
		return true
	}
	return c.room.isMod(c.member.User.ID)
}

// badges returns the client's badges now.
func (c *client) badges() []string {
	if !c.signedIn() {
		return []string{"guest"}
	}
	id := c.member.User.ID
	var b []string
	r := c.room
	if id == r.ch.OwnerID {
		b = append(b, "broadcaster")
	} else if r.isMod(id) {
		b = append(b, "moderator")
	}
	if r.isVIP(id) {
		b = append(b, "vip")
	}
	if c.sub.Load() {
		b = append(b, "subscriber")
	}
	return b
}

// enqueue queues a frame; a client whose queue overflows is disconnected
// so that it delays nobody. Safe under the room's lock: it never blocks.
// A writer goroutine runs only while frames wait, so an idle connection
// costs no second stack.
func (c *client) enqueue(frame []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	// A client is behind when frames already wait and this one would take
	// the queue over its bound. One frame into an empty queue never is: a
	// burst can make a single batch big, and a reader that keeps up must
	// not be dropped for it.
	if c.queued > 0 && c.queued+len(frame) > c.room.hub.cfg.QueueBytes {
		c.mu.Unlock()
		c.room.hub.slowDropped.Add(1)
		c.room.hub.log.Info("realtime: slow consumer disconnected", "room", c.room.ch.Slug, "user", c.user.Name)
		c.kick(websocket.StatusPolicyViolation, "slow consumer: you fell too far behind; reconnect with your last seq")
		return
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	start := !c.writing
	c.writing = true
	if start {
		c.writers.Add(1)
	}
	c.mu.Unlock()
	if start {
		go c.drain()
	}
}

// kick closes the connection with a reason. It does not block.
func (c *client) kick(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue, c.queued = nil, 0
	c.writers.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.writers.Done()
		t := time.AfterFunc(time.Second, func() { c.conn.CloseNow() })
		c.conn.Close(code, reason)
		t.Stop()
	}()
}

// setup joins the room: the welcome, then the room's frames.
func (c *client) setup(ctx context.Context, since int64) {
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.conn.SetReadLimit(maxFrame)
	c.refreshSub(c.ctx)
	c.room.join(c, since)
}

// refreshSub reads the client's subscriber status again once the last
// reading is SubscriberCheck old. Only senders call it, so an idle
// connection costs no queries.
func (c *client) refreshSub(ctx context.Context) {
	subs := c.room.hub.cfg.Subscriptions
	if !c.signedIn() || subs == nil {
		return
	}
	now := time.Now().UnixMilli()
	last := c.subAt.Load()
	if (last != 0 && now-last < c.room.hub.cfg.SubscriberCheck.Milliseconds()) || !c.subAt.CompareAndSwap(last, now) {
		return
	}
	c.sub.Store(subs.IsSubscriber(ctx, c.room.ch.ID, c.member.User.ID))
}

// run reads commands until the connection ends; frames are written by drain.
func (c *client) run() error {
	defer c.cancel()
	err := c.readLoop(c.ctx)
	c.room.leave(c) // kicks: the close handshake ends any write in flight
	c.cancel()
	c.writers.Wait()
	return err
}

// drain writes queued frames, merged into one frame, until none wait.
func (c *client) drain() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		frames := c.queue
		c.queue, c.queued = nil, 0
		if len(frames) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		// No deadline per write (a timer each would cost a tenth of a
		// big room's CPU), and no cancellable context either: with one,
		// coder/websocket arms a context.AfterFunc per write, 7 % of a big
		// room's CPU. A client that stops reading fills its queue, and the
		// kick that follows closes the socket under the write; leaving
		// and the hub's close kick too.
		err := c.conn.Write(context.Background(), websocket.MessageText, merge(frames))
		if err != nil {
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			c.kick(websocket.StatusGoingAway, "write failed")
			return
		}
	}
}

// merge joins JSON-array frames into one array.
func merge(frames [][]byte) []byte {
	if len(frames) == 1 {
		return frames[0]
	}
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	b := make([]byte, 0, size)
	b = append(b, '[')
	n := 0
	for _, f := range frames {
		inner := f[1 : len(f)-1]
		if len(inner) == 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, inner...)
		n++
	}
	return append(b, ']')
}

func (c *client) readLoop(ctx context.Context) error {
	for {
		typ, data, err := c.conn.Read(ctx)
		if err != nil {
			// The client left, the hub closed, or the frame was over the
			// read limit: coder/websocket has answered that with 1009.
			return nil
		}
		c.frame(ctx, typ, data)
	}
}

// frame decodes one frame from the client and runs its command.
func (c *client) frame(ctx context.Context, typ websocket.MessageType, data []byte) {
	if typ != websocket.MessageText {
		c.reply(errorFrame{Type: KindError, Code: "bad_frame", Message: "send JSON text frames, not binary"})
		c.junkFrame()
		return
	}
	if !utf8.Valid(data) {
		// json.Unmarshal would quietly turn the bad bytes into U+FFFD.
		c.reply(errorFrame{Type: KindError, Code: "bad_text", Message: "the frame is not valid UTF-8; text frames must be"})
		c.junkFrame()
		return
	}
	var cmd Command
	if err := json.Unmarshal(data, &cmd); err != nil {
		c.reply(errorFrame{Type: KindError, Code: "bad_json", Message: "the frame is not a JSON command object: " + trimErr(err)})
		c.junkFrame()
		return
	}
	c.room.handle(ctx, c, cmd)
}

func trimErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// reply sends one transient frame to this client only.
func (c *client) reply(v any) {
	b := transient(v)
	c.enqueue(append(append([]byte{'['}, b...), ']'))
}

func (c *client) fail(ref, code, msg string, retry time.Duration) {
	c.reply(errorFrame{Type: KindError, Ref: ref, Code: code, Message: msg, RetryMS: retry.Milliseconds()})
}

// junkFrame spends the connection's budget for a ping or a malformed
// frame. Once it is gone the client is disconnected, the close reason
// saying why; it
// reports whether the client may go on.
func (c *client) junkFrame() bool {
	if c.junk.Allow() {
		return true
	}
	c.kick(websocket.StatusPolicyViolation, "too many malformed, unknown or ping frames")
	return false
}

// tapAllowed bounds one client's reaction taps.
func (c *client) tapAllowed() bool { return c.taps.Allow() }
