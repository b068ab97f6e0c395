package realtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/livehouse/livehouse/internal/bus"
	"github.com/livehouse/livehouse/internal/store"
)

// FuzzCleanText: whatever arrives, the text that passes is valid UTF-8,
// trimmed, within the limit and free of control characters.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"hello", "  hi  ", "a\u0007b", "\xff\xfe", "x\u202Ey", "<script>", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := cleanText("message", s, 500)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) || out == "" || utf8.RuneCountInString(out) > 500 {
			t.Fatalf("cleanText(%q) = %q", s, out)
		}
		if _, err := cleanText("message", out, 500); err != nil {
			t.Fatalf("clean output %q refused on a second pass: %v", out, err)
		}
	})
}

// FuzzCommandFrame: any frame either fails to decode or decodes into a
// command whose emote check and wire encoding keep the JSON valid.
func FuzzCommandFrame(f *testing.F) {
	for _, s := range []string{`{"type":"send","text":"hi"}`, `{"type":"poll.vote","option":-1}`, `[]`, `{"type":`, `{"settings":{"vips":["a"]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var cmd Command
		if json.Unmarshal(frame, &cmd) != nil {
			return
		}
		isEmoteOnly(cmd.Text, map[string]bool{"wave": true})
		payload, err := json.Marshal(Event{Kind: KindChat, Text: cmd.Text, Mentions: []string{cmd.Type}})
		if err != nil {
			t.Fatal(err)
		}
		w := wire(42, payload)
		var back Event
		if err := json.Unmarshal(w, &back); err != nil || back.Text != cmd.Text {
			t.Fatalf("wire(%s) = %s: %v", payload, w, err)
		}
		if m := merge([][]byte{batch([]sequenced{{full: w}}, false), []byte("[]"), batch([]sequenced{{full: w}, {full: w}}, false)}); !json.Valid(m) {
			t.Fatalf("merged frames are not JSON: %s", m)
		}
	})
}

// fuzzRoom is an open room on a real store with two connected clients, the
// broadcaster and a viewer, whose sockets a reader drains.
type fuzzRoom struct {
	room          *room
	owner, viewer *client
}

func newFuzzRoom(f *testing.F) *fuzzRoom {
	f.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(f.TempDir(), "lh.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	mk := func(name string) *store.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: name + "@example.com", DisplayName: name, PasswordHash: "x"})
		if err != nil {
			f.Fatal(err)
		}
		return &u
	}
	owner, viewer := mk("owner"), mk("viewer")
	sc, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "fuzz", OwnerID: owner.ID})
	if err != nil {
		f.Fatal(err)
	}
	hub, err := New(Config{Store: st, Bus: bus.NewLocal(), Linger: time.Millisecond, GapCheck: -1, RoomRate: 1 << 20, QueueBytes: 64 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { hub.Close() })
	ch := Channel{ID: sc.ID, Slug: sc.Slug, OwnerID: owner.ID}
	r, err := hub.room(ctx, ch)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { hub.release(r) })
	conns := make(chan *websocket.Conn, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := websocket.Accept(w, req, nil)
		if err != nil {
			return
		}
		conns <- c
		<-req.Context().Done()
	}))
	f.Cleanup(srv.Close)
	join := func(u *store.User) *client {
		cc, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1), nil)
		if err != nil {
			f.Fatal(err)
		}
		cc.SetReadLimit(-1)
		go func() { // the client side reads and forgets
			for {
				if _, _, err := cc.Read(ctx); err != nil {
					return
				}
			}
		}()
		f.Cleanup(func() { cc.CloseNow() })
		c := newClient(r, <-conns, Member{User: u, IP: "127.0.0.1"})
		c.junk = rate.NewLimiter(rate.Inf, 1) // fuzzing sends junk on purpose
		c.setup(ctx, 0)
		return c
	}
	return &fuzzRoom{room: r, owner: join(owner), viewer: join(viewer)}
}

// FuzzClientFrame: any frame, from the broadcaster or a viewer, goes
// through the real decode and command path without bringing the room
// down, and the room still takes a message after it.
func FuzzClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"send","text":"hi"}`, `{"type":"send","text":"x","reply_to":-1}`, `{"type":"poll.open","question":"q","options":["a","b"],"seconds":10}`,
		`{"type":"poll.vote","poll_id":"","option":99}`, `{"type":"qa.ask","text":"why?"}`, `{"type":"qa.moderate","id":"x","state":"answered"}`,
		`{"type":"react","emoji":"🔥"}`, `{"type":"settings","settings":{"slow_seconds":-5,"links":"x"}}`, `{"type":"timeout","user_id":"u","seconds":99999999}`,
		`{"type":"delete","seq":9223372036854775807}`, `{"type":"held.release","id":"h"}`, `{"type":"ping"}`, `{"type":`, "\xff", `[]`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	fr := newFuzzRoom(f)
	f.Fuzz(func(t *testing.T, frame []byte, asOwner bool) {
		c := fr.viewer
		if asOwner {
			c = fr.owner
		}
		c.frame(context.Background(), websocket.MessageText, frame)
		if _, err := fr.room.append(context.Background(), Event{Kind: KindChat, At: time.Now().UnixMilli(), MediaMS: -1, Text: "still up"}, ""); err != nil {
			t.Fatalf("the room after %q: %v", frame, err)
		}
	})
}

// FuzzBusPayload: whatever arrives on a room's bus subjects (a peer of
// another version, a corrupted message), the room decodes it or drops it
// without panicking, and goes on delivering in order.
func FuzzBusPayload(f *testing.F) {
	for _, s := range []string{
		`{"seq":1,"type":"chat","text":"x"}`, `{"seq":-1}`, `{"seq":3,"type":"poll.open","poll":{"id":"p","options":["a"]}}`,
		`{"seq":2,"type":"room.settings","settings":{}}`, `{"seq":4,"type":"qa.question","id":"q","question":{"state":"pending"}}`,
		`{"type":"poll.votes","poll_id":"p","deltas":[1,2,3,4,5,6]}`, `{"type":"frame","frame":{"type":"chat.held"}}`, `{"type":"frame","frame":`, `null`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	fr := newFuzzRoom(f)
	f.Fuzz(func(t *testing.T, data []byte, transient bool) {
		if transient {
			fr.room.onTransient(data)
		} else {
			fr.room.onBus(data)
		}
		fr.room.tickPolls()
		if _, err := fr.room.append(context.Background(), Event{Kind: KindChat, At: time.Now().UnixMilli(), MediaMS: -1, Text: "still up"}, ""); err != nil {
			t.Fatalf("the room after %q: %v", data, err)
		}
	})
}
