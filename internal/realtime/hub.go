package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/store"
)

// Store is what rooms keep in the database.
type Store interface {
	AppendRoomEvents(ctx context.Context, channelID string, evs []store.RoomEvent) ([]store.RoomEvent, error)
	RoomEventsAfter(ctx context.Context, channelID string, after int64, limit int) ([]store.RoomEvent, error)
	RoomEventsBefore(ctx context.Context, channelID string, before int64, limit int) ([]store.RoomEvent, error)
	RoomLastSeq(ctx context.Context, channelID string) (int64, error)
	RoomChatBefore(ctx context.Context, channelID string, limit int) ([]store.RoomEvent, error)
	MarkRoomMessageDeleted(ctx context.Context, channelID string, seq int64) error
	RoomSettings(ctx context.Context, channelID string) (string, error)
	SetRoomSettings(ctx context.Context, channelID, settings string) error
	FollowedAt(ctx context.Context, userID, channelID string) (time.Time, bool, error)
	UserByID(ctx context.Context, id string) (store.User, error)

	Moderators(ctx context.Context, channelID string) ([]string, error)
	AddModerator(ctx context.Context, channelID, userID string) error
	RemoveModerator(ctx context.Context, channelID, userID string) error
	SetBan(ctx context.Context, b store.Ban) error
	RemoveBan(ctx context.Context, channelID, userID string) error
	BanOf(ctx context.Context, channelID, userID string) (store.Ban, bool, error)
	BlockedTerms(ctx context.Context, channelID string) ([]store.BlockedTerm, error)
	HoldMessage(ctx context.Context, h store.HeldMessage) (string, error)
	TakeHeldMessage(ctx context.Context, channelID, id string) (store.HeldMessage, error)
	AddAudit(ctx context.Context, e store.AuditEntry) error

	CreatePoll(ctx context.Context, p store.Poll) (store.Poll, error)
	ClosePoll(ctx context.Context, id string, t time.Time) (bool, error)
	PollByID(ctx context.Context, id string) (store.Poll, error)
	OpenPollIDs(ctx context.Context, channelID string) ([]string, error)
	AddVotes(ctx context.Context, pollID string, votes []store.Vote) ([]store.Vote, error)
	PollTally(ctx context.Context, pollID string, options int) ([]int64, error)

	CreateQuestion(ctx context.Context, q store.Question) (store.Question, error)
	UpvoteQuestion(ctx context.Context, channelID, id, userID string) (store.Question, error)
	UpdateQuestion(ctx context.Context, channelID, id, state string, pinned bool) (store.Question, error)
	QuestionByID(ctx context.Context, channelID, id string) (store.Question, error)
	Questions(ctx context.Context, channelID, broadcastID string, limit int) ([]store.Question, error)

	Emotes(ctx context.Context, channelID string) ([]store.Emote, error)
}

// Bus carries room traffic between nodes.
type Bus interface {
	Publish(ctx context.Context, subject string, data []byte) error
	Subscribe(subject string, h func(data []byte)) (func(), error)
}

// StreamClock tells the broadcast on the air on a channel, for stamping
// events with media time.
type StreamClock interface {
	Broadcast(ctx context.Context, channelID string) (id string, startedAt time.Time, ok bool)
}

// Subscriptions answers whether a user subscribes to a channel (the
// subscriber badge and subscriber-only mode). Nil means nobody does.
type Subscriptions interface {
	IsSubscriber(ctx context.Context, channelID, userID string) bool
}

// Limiter is a token bucket per key.
type Limiter interface {
	Take(key string) (time.Duration, bool)
}

// Config builds a Hub.
type Config struct {
	Store         Store
	Bus           Bus
	Clock         StreamClock
	Subscriptions Subscriptions
	// PerUser and PerIP bound chat commands (messages, votes, questions,
	// reactions) per account and per client address.
	PerUser Limiter
	PerIP   Limiter
	// RoomRate bounds chat messages per second in one room, from everyone
	// together (default 200, bursts of twice that): a flood from many
	// accounts slows that room's posters, never its readers or other rooms.
	RoomRate int
	// History is how many messages a joining client gets (default 100);
	// Retention how many events a room keeps in memory for resuming
	// clients (default 1000), and at least RetentionAge of them (10 min).
	History      int
	Retention    int
	RetentionAge time.Duration
	// QueueBytes bounds what may wait for one client; a client that lets
	// more pile up is a slow consumer and is disconnected (default 1 MiB).
	QueueBytes int
	// Linger batches events into frames: a room flushes at most once per
	// Linger (default 25 ms); the first event after a quiet spell goes at once.
	Linger time.Duration
	// PaidLinger is the shorter wait of a flush holding a paid event (a
	// gift, tip or subscription), whose alert the payer is watching for
	// (default 5 ms).
	PaidLinger time.Duration
	// MaxLinger is the window of a 10,000-client room (default 200 ms);
	// rooms stretch Linger towards it in proportion to their size.
	MaxLinger time.Duration
	// MaxMessage is the longest chat message in characters (default 500).
	MaxMessage int
	// ReactionWindow is how often reaction counts are sent (default 500 ms).
	ReactionWindow time.Duration
	// GapCheck is how often a room checks the store for events the bus
	// lost (default 1 s). Negative turns it off: the in-process bus loses
	// nothing, and gaps seen in the sequence are still filled at once.
	GapCheck time.Duration
	// SubscriberCheck is how long a connection's subscriber status stands
	// before its next message reads it again (default 1 min): a
	// subscription that lapses mid-connection loses its perks within it.
	SubscriberCheck time.Duration
	// MaxSocketsPerClient bounds the sockets one client key (Member.IP: an
	// address, or an IPv6 /64) may hold open on this node at once; more are
	// closed with 1008 and the reason. 0 means no bound.
	MaxSocketsPerClient int
	Logger              *slog.Logger
}

// Hub owns the rooms of one node. It is safe for concurrent use.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	rooms      map[string]*room
	sockets    map[string]int // open sockets per client key, with MaxSocketsPerClient
	unsubTerms func()
	unsubCtl   func()

	// Counters are atomic: deliveries count them from under a room's lock,
	// which must never wait for the hub's.
	delivered, slowDropped, gapsRecovered atomic.Int64
}

// roomOpenTimeout bounds opening a room (bus subscriptions, store reads).
const roomOpenTimeout = 10 * time.Second

// termsSubject carries "a blocked-terms list changed" between nodes: the
// channel's id, or "" for the server-wide list.
const termsSubject = "livehouse.terms"

// controlSubject carries admin actions on open sockets to every node: a
// suspended channel's room closes, a suspended or banned user's sockets
// drop.
const controlSubject = "livehouse.control"

type controlMsg struct {
	Op        string `json:"op"` // close_room | kick_user
	ChannelID string `json:"channel_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
}

// Stats counts a hub's traffic.
type Stats struct {
	Clients       int   `json:"clients"`
	Rooms         int   `json:"rooms"`
	Delivered     int64 `json:"delivered"`
	SlowDropped   int64 `json:"slow_consumers_dropped"`
	GapsRecovered int64 `json:"gaps_recovered"`
}

// New returns a Hub. Close it to disconnect every client.
func New(cfg Config) (*Hub, error) {
	if cfg.Store == nil || cfg.Bus == nil {
		return nil, errors.New("realtime: Store and Bus are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.History, 100)
	def(&cfg.Retention, 1000)
	def(&cfg.QueueBytes, 1<<20)
	def(&cfg.MaxMessage, 500)
	def(&cfg.RoomRate, 200)
	defd(&cfg.RetentionAge, 10*time.Minute)
	defd(&cfg.Linger, 25*time.Millisecond)
	defd(&cfg.MaxLinger, 200*time.Millisecond)
	defd(&cfg.PaidLinger, 5*time.Millisecond)
	defd(&cfg.ReactionWindow, 500*time.Millisecond)
	defd(&cfg.SubscriberCheck, time.Minute)
	if cfg.GapCheck == 0 {
		cfg.GapCheck = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, rooms: map[string]*room{}, sockets: map[string]int{}}
	unsub, err := cfg.Bus.Subscribe(termsSubject, h.onTermsChanged)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("realtime: %w", err)
	}
	h.unsubTerms = unsub
	if h.unsubCtl, err = cfg.Bus.Subscribe(controlSubject, h.onControl); err != nil {
		unsub()
		cancel()
		return nil, fmt.Errorf("realtime: %w", err)
	}
	return h, nil
}

// CloseRoom disconnects every client of the channel's room on every node,
// for a channel an admin suspended (its chat endpoint refuses reconnects).
func (h *Hub) CloseRoom(ctx context.Context, channelID string) error {
	return h.control(ctx, controlMsg{Op: "close_room", ChannelID: channelID})
}

// KickUser disconnects every socket of the user, in every room on every
// node, for an account an admin suspended or banned.
func (h *Hub) KickUser(ctx context.Context, userID string) error {
	return h.control(ctx, controlMsg{Op: "kick_user", UserID: userID})
}

func (h *Hub) control(ctx context.Context, m controlMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("realtime: encode %s: %w", m.Op, err)
	}
	// This node acts at once, whatever the bus does; its echo finds nothing.
	h.onControl(b)
	if err := h.cfg.Bus.Publish(ctx, controlSubject, b); err != nil {
		return fmt.Errorf("realtime: publish %s: %w", m.Op, err)
	}
	return nil
}

func (h *Hub) onControl(data []byte) {
	var m controlMsg
	if err := json.Unmarshal(data, &m); err != nil {
		h.log.Warn("realtime: dropped a malformed control message", "err", err)
		return
	}
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.rooms))
	for id, r := range h.rooms {
		if m.Op == "kick_user" || id == m.ChannelID {
			rooms = append(rooms, r)
		}
	}
	h.mu.Unlock()
	for _, r := range rooms {
		switch m.Op {
		case "close_room":
			r.closeAll(websocket.StatusPolicyViolation, "this channel is suspended; its chat is closed")
		case "kick_user":
			if m.UserID != "" {
				r.kickUser(m.UserID, websocket.StatusPolicyViolation, "an admin suspended or banned your account")
			}
		}
	}
}

// TermsChanged tells every node that a channel's blocked terms (or, for
// channelID "", the server-wide ones) changed, so rooms read them again
// before the next message instead of when their cache expires.
func (h *Hub) TermsChanged(ctx context.Context, channelID string) {
	if err := h.cfg.Bus.Publish(ctx, termsSubject, []byte(channelID)); err != nil {
		h.log.Warn("realtime: blocked-terms change not published; other nodes see it within 10 s", "err", err)
	}
}

func (h *Hub) onTermsChanged(data []byte) {
	id := string(data)
	h.mu.Lock()
	var rs []*room
	for rid, r := range h.rooms {
		if id == "" || rid == id {
			rs = append(rs, r)
		}
	}
	h.mu.Unlock()
	for _, r := range rs {
		r.invalidateTerms()
	}
}

// Close disconnects every client and stops every room.
func (h *Hub) Close() error {
	h.mu.Lock()
	h.cancel() // under mu: Attach adds to wg only before this
	h.mu.Unlock()
	h.unsubTerms()
	h.unsubCtl()
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		r.closeAll(websocket.StatusGoingAway, "server shutting down")
	}
	h.wg.Wait()
	return nil
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	s := Stats{Rooms: len(rooms), Delivered: h.delivered.Load(), SlowDropped: h.slowDropped.Load(), GapsRecovered: h.gapsRecovered.Load()}
	for _, r := range rooms {
		s.Clients += r.clientCount()
	}
	return s
}

// Channel names the room a client joins.
type Channel struct {
	ID      string
	Slug    string
	OwnerID string
}

// Member is who joins: User is nil for an anonymous viewer.
type Member struct {
	User    *store.User
	IsAdmin bool
	IP      string
}

// Serve runs one client connection in the channel's room until it ends:
// the client leaves, the server closes, or the client misbehaves beyond
// the rules. since > 0 resumes after that sequence number.
func (h *Hub) Serve(ctx context.Context, conn *websocket.Conn, ch Channel, m Member, since int64) error {
	// Opening the room and building the welcome run deep call chains
	// (queries, JSON). They run on a goroutine of their own, so the stack of
	// this one, which then only waits in Read for the connection's life,
	// stays small: an idle connection's cost is mostly its stack.
	var c *client
	var err error
	onSide(func() {
		var r *room
		if r, err = h.room(ctx, ch); err != nil {
			return
		}
		c = newClient(r, conn, m)
		c.setup(ctx, since)
	})
	if err != nil {
		conn.Close(websocket.StatusTryAgainLater, "chat is unavailable right now; reconnect in a few seconds")
		return err
	}
	defer h.release(c.room)
	return c.run()
}

// onSide runs fn on another goroutine and waits for it.
func onSide(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// Attach serves the connection in the room on a goroutine of the hub's
// own and returns at once. The HTTP handler that accepted the socket can
// then return, freeing its stack and request: an idle chat connection costs
// one small goroutine. Close waits for every attached connection to end.
func (h *Hub) Attach(conn *websocket.Conn, ch Channel, m Member, since int64) {
	h.mu.Lock()
	if h.ctx.Err() != nil {
		h.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	key, limit := m.IP, h.cfg.MaxSocketsPerClient
	counted := limit > 0 && key != ""
	if counted && h.sockets[key] >= limit {
		h.mu.Unlock()
		conn.Close(websocket.StatusPolicyViolation, "too many chat connections from your network; close some first")
		return
	}
	if counted {
		h.sockets[key]++
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		if counted {
			defer func() {
				h.mu.Lock()
				if h.sockets[key]--; h.sockets[key] <= 0 {
					delete(h.sockets, key)
				}
				h.mu.Unlock()
			}()
		}
		if err := h.Serve(h.ctx, conn, ch, m, since); err != nil {
			h.log.Warn("realtime: connection ended with an error", "room", ch.Slug, "err", err)
		}
	}()
}

// room returns the channel's room on this node, opening it if needed, and
// holds a reference that release gives back. The room opens outside the
// hub's lock, once, while other callers for the same channel wait for it
// (up to ctx): a slow open delays only that channel's callers.
func (h *Hub) room(ctx context.Context, ch Channel) (*room, error) {
	h.mu.Lock()
	if h.ctx.Err() != nil {
		h.mu.Unlock()
		return nil, errors.New("realtime: hub closed")
	}
	if r := h.rooms[ch.ID]; r != nil {
		r.refs++
		h.mu.Unlock()
		select {
		case <-r.ready:
		case <-ctx.Done():
			h.release(r)
			return nil, fmt.Errorf("open room %s: %w", ch.Slug, ctx.Err())
		}
		if r.openErr != nil { // the failed room is out of the map already
			return nil, fmt.Errorf("open room %s: %w", ch.Slug, r.openErr)
		}
		return r, nil
	}
	r := newRoom(h, ch)
	r.refs = 1
	h.rooms[ch.ID] = r
	h.mu.Unlock()
	octx, cancel := context.WithTimeout(r.ctx, roomOpenTimeout)
	err := r.open(octx)
	cancel()
	if err != nil {
		h.mu.Lock()
		if h.rooms[ch.ID] == r {
			delete(h.rooms, ch.ID)
		}
		h.mu.Unlock()
		r.openErr = err
		close(r.ready)
		return nil, fmt.Errorf("open room %s: %w", ch.Slug, err)
	}
	close(r.ready)
	return r, nil
}

func (h *Hub) release(r *room) {
	h.mu.Lock()
	r.refs--
	last := r.refs == 0 && h.rooms[r.ch.ID] == r
	if last {
		delete(h.rooms, r.ch.ID)
	}
	h.mu.Unlock()
	if last {
		r.stop()
	}
}

// withRoom runs fn with the channel's room on this node, for server-side
// actions such as the REST API's moderation, opening the room if needed.
func (h *Hub) withRoom(ctx context.Context, ch Channel, fn func(r *room) error) error {
	r, err := h.room(ctx, ch)
	if err != nil {
		return err
	}
	defer h.release(r)
	return fn(r)
}

func subject(channelID string) string { return "livehouse.room." + channelID }

// Moderate runs a moderator action for a caller the API has checked is the
// channel's owner, an admin or one of its moderators (mod.add and
// mod.remove: the owner or an admin).
func (h *Hub) Moderate(ctx context.Context, ch Channel, a Actor, cmd Command) (int64, error) {
	var seq int64
	err := h.withRoom(ctx, ch, func(r *room) error {
		var err error
		seq, err = r.moderateAs(ctx, a, cmd)
		return err
	})
	return seq, err
}
