package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/bus"
	"github.com/livehouse/livehouse/internal/store"
)

// rig is a real hub on a real SQLite store behind a real HTTP server; only
// the sign-in is replaced: the test names the account in the URL.
type rig struct {
	t     *testing.T
	st    *store.Store
	hub   *Hub
	srv   *httptest.Server
	ch    Channel
	mu    sync.Mutex
	users map[string]*store.User
}

func newRig(t *testing.T, mod func(*Config)) *rig {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "lh.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newRigOn(t, st, bus.NewLocal(), "", mod)
}

func newRigOn(t *testing.T, st *store.Store, b Bus, slug string, mod func(*Config)) *rig {
	t.Helper()
	cfg := Config{Store: st, Bus: b, Linger: 5 * time.Millisecond, GapCheck: 200 * time.Millisecond, ReactionWindow: 100 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	hub, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, st: st, hub: hub, users: map[string]*store.User{}}
	ctx := context.Background()
	if slug == "" {
		owner := r.user("owner")
		ch, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "room", OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		r.ch = Channel{ID: ch.ID, Slug: ch.Slug, OwnerID: owner.ID}
	} else {
		ch, err := st.ChannelBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		r.ch = Channel{ID: ch.ID, Slug: ch.Slug, OwnerID: ch.OwnerID}
	}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	// Small socket buffers, like a real network's, so a client that does not
	// read backs up into its queue within kilobytes, not megabytes.
	r.srv.Listener = smallBuffers{r.srv.Listener}
	r.srv.Start()
	t.Cleanup(func() {
		hub.Close()
		r.srv.Close()
	})
	return r
}

func (r *rig) serve(w http.ResponseWriter, req *http.Request) {
	conn, err := websocket.Accept(w, req, nil)
	if err != nil {
		return
	}
	q := req.URL.Query()
	m := Member{IP: q.Get("ip")}
	if m.IP == "" {
		m.IP = "127.0.0.1"
	}
	if name := q.Get("user"); name != "" {
		r.mu.Lock()
		m.User = r.users[name]
		r.mu.Unlock()
	}
	var since int64
	fmt.Sscan(q.Get("since"), &since)
	r.hub.Serve(req.Context(), conn, r.ch, m, since)
}

// user returns the account named name, creating it on first use.
func (r *rig) user(name string) *store.User {
	r.mu.Lock()
	u := r.users[name]
	r.mu.Unlock()
	if u != nil {
		return u
	}
	nu, err := r.st.CreateUser(context.Background(), store.NewUser{Email: name + "@example.com", DisplayName: name, PasswordHash: "x"})
	if err != nil {
		if existing, err2 := r.st.UserByEmail(context.Background(), name+"@example.com"); err2 == nil {
			nu, err = existing, nil
		}
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.users[name] = &nu
	r.mu.Unlock()
	return &nu
}

// ws is a test client: it reads every object of every frame into a channel.
type ws struct {
	t      *testing.T
	conn   *websocket.Conn
	objs   chan map[string]any
	closed chan error
	ref    int
}

func (r *rig) dial(name string, since int64) *ws {
	r.t.Helper()
	return dialURL(r.t, r, name, since, "")
}

func dialURL(t *testing.T, r *rig, name string, since int64, ip string) *ws {
	t.Helper()
	if name != "" {
		r.user(name)
	}
	url := strings.Replace(r.srv.URL, "http", "ws", 1) + fmt.Sprintf("/?user=%s&since=%d&ip=%s", name, since, ip)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(64 << 20)
	c := &ws{t: t, conn: conn, objs: make(chan map[string]any, 100_000), closed: make(chan error, 1)}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				c.closed <- err
				close(c.objs)
				return
			}
			var arr []map[string]any
			if err := json.Unmarshal(data, &arr); err != nil {
				c.closed <- fmt.Errorf("server frame is not a JSON array: %s", data)
				close(c.objs)
				return
			}
			for _, o := range arr {
				c.objs <- o
			}
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

func (c *ws) send(cmd map[string]any) string {
	c.t.Helper()
	c.ref++
	ref := fmt.Sprintf("r%d", c.ref)
	cmd["ref"] = ref
	b, _ := json.Marshal(cmd)
	if err := c.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	return ref
}

// next returns the next object matching pred, within 5 s.
func (c *ws) next(what string, pred func(o map[string]any) bool) map[string]any {
	c.t.Helper()
	return c.nextWithin(what, 5*time.Second, pred)
}

// nextWithin is next with its own deadline, for waits that cover a burst
// of work (the race detector on a 2-core CI machine slows those tenfold).
func (c *ws) nextWithin(what string, wait time.Duration, pred func(o map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case o, ok := <-c.objs:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %s", what)
			}
			if pred(o) {
				return o
			}
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (c *ws) welcome() map[string]any {
	c.t.Helper()
	return c.next("welcome", isType(KindWelcome))
}

// reply waits for the ack or error answering ref.
func (c *ws) reply(ref string) map[string]any {
	c.t.Helper()
	return c.next("reply to "+ref, func(o map[string]any) bool {
		return o["ref"] == ref && (o["type"] == KindAck || o["type"] == KindError)
	})
}

// say sends a chat message and returns its seq.
func (c *ws) say(text string) int64 {
	c.t.Helper()
	rep := c.reply(c.send(map[string]any{"type": "send", "text": text}))
	if rep["type"] != KindAck {
		c.t.Fatalf("send %q: %v", text, rep)
	}
	return int64(rep["seq"].(float64))
}

func isType(t string) func(map[string]any) bool {
	return func(o map[string]any) bool { return o["type"] == t }
}

func chatWith(text string) func(map[string]any) bool {
	return func(o map[string]any) bool { return o["type"] == KindChat && o["text"] == text }
}

func seqOf(o map[string]any) int64 {
	v, _ := o["seq"].(float64)
	return int64(v)
}

func history(w map[string]any) []map[string]any {
	var out []map[string]any
	for _, h := range w["history"].([]any) {
		out = append(out, h.(map[string]any))
	}
	return out
}

type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// dialSlow connects a client whose socket takes almost nothing in and
// which never reads.
func dialSlow(t *testing.T, r *rig, name string) *websocket.Conn {
	t.Helper()
	r.user(name)
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	conn, _, err := websocket.Dial(t.Context(), strings.Replace(r.srv.URL, "http", "ws", 1)+"/?user="+name, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}
