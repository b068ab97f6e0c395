package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/livehouse/livehouse/internal/store"
)

// maxBatchBytes bounds the events one flush puts in a frame: a flood
// flushes early rather than build frames that take a client's whole queue.
const maxBatchBytes = 32 << 10

// sequenced is a room event as this node delivers it.
type sequenced struct {
	seq      int64
	kind     string
	at       time.Time
	full     []byte // {"seq":N,...}
	redacted []byte // what non-moderators get instead, when not nil
	target   int64  // chat.delete
	id       string // message, poll or question id
}

// room is one channel's room on this node. mu guards everything below it.
type room struct {
	hub  *Hub
	ch   Channel
	refs int // guarded by hub.mu
	// ready closes when the room has opened, or failed to (openErr).
	ready    chan struct{}
	openErr  error
	nclients atomic.Int64 // len(clients), for Stats without the room's lock
	ctx      context.Context
	cancel   context.CancelFunc
	unsub    []func()
	wg       sync.WaitGroup
	busy     *rate.Limiter // room-wide chat budget, against floods from many accounts
	votes    chan voteReq

	appendMu sync.Mutex // one append at a time from this node

	// comboMu guards gift combos and the emote cache.
	comboMu    sync.Mutex
	combos     map[string]*combo
	comboSwept time.Time // when stale combos were last forgotten
	emotes     emoteSet
	emotesAt   time.Time

	// stateMu guards mods and settings for readers without mu; writers
	// hold both.
	stateMu sync.RWMutex

	mu         sync.Mutex
	clients    map[*client]struct{}
	ring       []sequenced
	chat       []sequenced // the last chat messages still standing, for the welcome
	next       int64       // the next seq to deliver
	flushed    int64       // the last seq handed to clients
	pending    map[int64]sequenced
	gapTimer   *time.Timer
	deleted    map[int64]bool
	settings   Settings
	mods       map[string]bool
	bans       map[string]*store.Ban // nil value: known not banned
	polls      map[string]*pollState
	questions  map[string]sequenced // the latest event of each question, for the welcome
	qaOrder    []string             // question ids, oldest first (bounds questions)
	lastSent   map[string]time.Time // slow mode
	terms      []store.BlockedTerm
	termsAt    time.Time
	out        []sequenced
	outBytes   int // bytes of the events in out
	lastFlush  time.Time
	flushTimer *time.Timer
	flushAt    time.Time // when flushTimer fires
	reactions  map[string]int64
	reactLag   [2]int64               // the window's taps with a playhead: their total lag behind the wall clock (ms), and count
	voteAgg    map[string]*voteWindow // poll id: votes counted since the last poll.votes event
	list       []*client              // a snapshot of clients for fan-out
	listDirty  bool
	fanQ       []fanJob
	fanWake    chan struct{}
	fanSeq     int64 // the next job's idx
	slotSeq    int   // the next client's group number
}

// newRoom returns a room that open must start.
func newRoom(h *Hub, ch Channel) *room {
	ctx, cancel := context.WithCancel(h.ctx)
	return &room{
		hub: h, ch: ch, ctx: ctx, cancel: cancel, ready: make(chan struct{}),
		busy:    rate.NewLimiter(rate.Limit(h.cfg.RoomRate), 2*h.cfg.RoomRate),
		votes:   make(chan voteReq, 4096),
		clients: map[*client]struct{}{}, pending: map[int64]sequenced{}, deleted: map[int64]bool{},
		mods: map[string]bool{}, bans: map[string]*store.Ban{}, polls: map[string]*pollState{}, questions: map[string]sequenced{},
		lastSent: map[string]time.Time{}, reactions: map[string]int64{}, voteAgg: map[string]*voteWindow{},
		fanWake: make(chan struct{}, 1), combos: map[string]*combo{},
	}
}

// open subscribes the room to the bus, loads it from the store and starts
// its goroutines. On error the room is stopped.
func (r *room) open(ctx context.Context) error {
	h, ch := r.hub, r.ch
	// Subscribe before reading the store, so nothing falls between the two.
	unsub, err := h.cfg.Bus.Subscribe(subject(ch.ID), r.onBus)
	if err != nil {
		r.stop()
		return err
	}
	r.unsub = append(r.unsub, unsub)
	unsubX, err := h.cfg.Bus.Subscribe(subject(ch.ID)+".x", r.onTransient)
	if err != nil {
		r.stop()
		return err
	}
	r.unsub = append(r.unsub, unsubX)
	if err := r.load(ctx); err != nil {
		r.stop()
		return err
	}
	r.wg.Add(3)
	go r.loop()
	go r.voteLoop()
	go r.fanLoop()
	return nil
}

// load fills the room from the store: recent events, settings, moderators
// and open polls.
func (r *room) load(ctx context.Context) error {
	st := r.hub.cfg.Store
	evs, err := st.RoomEventsBefore(ctx, r.ch.ID, 0, r.hub.cfg.Retention)
	if err != nil {
		return err
	}
	last, err := st.RoomLastSeq(ctx, r.ch.ID)
	if err != nil {
		return err
	}
	raw, err := st.RoomSettings(ctx, r.ch.ID)
	if err != nil {
		return err
	}
	mods, err := st.Moderators(ctx, r.ch.ID)
	if err != nil {
		return err
	}
	open, err := st.OpenPollIDs(ctx, r.ch.ID)
	if err != nil {
		return err
	}
	qs, err := r.storedQuestions(ctx)
	if err != nil {
		return err
	}
	chat, err := st.RoomChatBefore(ctx, r.ch.ID, r.hub.cfg.History)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stateMu.Lock()
	r.settings = parseSettings(raw)
	for _, m := range mods {
		r.mods[m] = true
	}
	r.stateMu.Unlock()
	start := last + 1
	if len(evs) > 0 {
		start = evs[0].Seq
	}
	r.next, r.flushed = start, start-1
	for _, e := range chat { // older than the ring: the ring's own come with it
		if e.Seq >= start {
			break
		}
		if s, _, ok := r.decode(e.Seq, wire(e.Seq, []byte(e.Payload))); ok {
			r.chat = append(r.chat, s)
		}
	}
	for _, e := range evs {
		if s, ev, ok := r.decode(e.Seq, wire(e.Seq, []byte(e.Payload))); ok {
			r.acceptLocked(s, ev, false)
		}
	}
	// Events stored after the read above arrive over the bus or the gap check.
	r.out, r.outBytes = nil, 0
	for _, q := range qs { // older than any the ring holds
		if _, ok := r.questions[q.id]; !ok {
			r.rememberQuestionLocked(q)
		}
	}
	r.polls = map[string]*pollState{} // the store knows which are still open
	for _, id := range open {
		p, err := st.PollByID(ctx, id)
		if err != nil {
			continue
		}
		counts, err := st.PollTally(ctx, id, len(p.Options))
		if err != nil {
			continue
		}
		r.polls[id] = newPollState(p, counts)
	}
	return nil
}

// maxQuestions bounds the questions a room remembers for its welcome.
const maxQuestions = 200

// storedQuestions reads the Q&A of the broadcast on the air from the store,
// as question events: a room that opens mid-broadcast shows its joiners
// the questions asked before the ring's events.
func (r *room) storedQuestions(ctx context.Context) ([]sequenced, error) {
	if r.hub.cfg.Clock == nil {
		return nil, nil
	}
	bid, _, ok := r.hub.cfg.Clock.Broadcast(ctx, r.ch.ID)
	if !ok || bid == "" {
		return nil, nil
	}
	st := r.hub.cfg.Store
	qs, err := st.Questions(ctx, r.ch.ID, bid, maxQuestions/2)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]sequenced, 0, len(qs))
	for i := len(qs) - 1; i >= 0; i-- {
		q := qs[i]
		name, ok := names[q.UserID]
		if !ok {
			if u, err := st.UserByID(ctx, q.UserID); err == nil {
				name = u.DisplayName
			}
			names[q.UserID] = name
		}
		ev := r.questionEvent(q, q.CreatedAt.UnixMilli(), q.MediaMS, bid, User{ID: q.UserID, Name: name}, nil)
		payload, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode question %s: %w", q.ID, err)
		}
		if s, _, ok := r.decode(0, wire(0, payload)); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// rememberQuestionLocked keeps a question's latest event for the welcome.
func (r *room) rememberQuestionLocked(s sequenced) {
	if _, ok := r.questions[s.id]; !ok {
		r.qaOrder = append(r.qaOrder, s.id)
		if len(r.qaOrder) > maxQuestions {
			delete(r.questions, r.qaOrder[0])
			r.qaOrder = slices.Delete(r.qaOrder, 0, 1)
		}
	}
	r.questions[s.id] = s
}

func parseSettings(raw string) Settings {
	s := Settings{Links: "allow"}
	_ = json.Unmarshal([]byte(raw), &s) // bad stored settings fall back to defaults
	if s.Links == "" {
		s.Links = "allow"
	}
	return s
}

// stop ends the room's goroutines once its last client has gone.
func (r *room) stop() {
	r.cancel()
	for _, u := range r.unsub {
		u()
	}
	r.wg.Wait()
	r.mu.Lock()
	if r.gapTimer != nil {
		r.gapTimer.Stop()
	}
	if r.flushTimer != nil {
		r.flushTimer.Stop()
	}
	r.mu.Unlock()
}

func (r *room) clientCount() int { return int(r.nclients.Load()) }

func (r *room) closeAll(code websocket.StatusCode, reason string) {
	r.mu.Lock()
	cs := make([]*client, 0, len(r.clients))
	for c := range r.clients {
		cs = append(cs, c)
	}
	r.mu.Unlock()
	for _, c := range cs {
		c.kick(code, reason)
	}
}

// kickUser disconnects the user's clients in this room.
func (r *room) kickUser(userID string, code websocket.StatusCode, reason string) {
	r.mu.Lock()
	var cs []*client
	for c := range r.clients {
		if c.signedIn() && c.member.User.ID == userID {
			cs = append(cs, c)
		}
	}
	r.mu.Unlock()
	for _, c := range cs {
		c.kick(code, reason)
	}
}

// onBus receives a sequenced event from any node, this one included.
func (r *room) onBus(data []byte) {
	var seq struct {
		Seq int64 `json:"seq"`
	}
	if err := json.Unmarshal(data, &seq); err != nil || seq.Seq <= 0 {
		r.hub.log.Warn("realtime: dropped a malformed bus event", "room", r.ch.Slug, "err", err)
		return
	}
	s, ev, ok := r.decode(seq.Seq, bytes.Clone(data))
	if !ok {
		return
	}
	r.mu.Lock()
	r.acceptLocked(s, ev, true)
	r.mu.Unlock()
}

// decode parses a wire event and prepares what clients get.
func (r *room) decode(seq int64, full []byte) (sequenced, *Event, bool) {
	var ev Event
	if err := json.Unmarshal(full, &ev); err != nil {
		r.hub.log.Warn("realtime: undecodable room event", "room", r.ch.Slug, "seq", seq, "err", err)
		return sequenced{}, nil, false
	}
	s := sequenced{seq: seq, kind: ev.Kind, at: time.UnixMilli(ev.At), full: full, target: ev.Target, id: ev.ID}
	if ev.Kind == KindQuestion && ev.Question != nil && ev.Question.State == store.QuestionPending {
		red := ev
		q := *ev.Question
		q.Text, q.User, q.Redacted = "", nil, true
		red.Question, red.User = &q, nil
		b, _ := json.Marshal(red) // Event always marshals
		s.redacted = wire(seq, b)
	}
	return s, &ev, true
}

// acceptLocked delivers events in sequence order, holding back any that
// arrive early until the gap before them is filled.
func (r *room) acceptLocked(s sequenced, ev *Event, send bool) {
	switch {
	case s.seq < r.next:
		return // a duplicate (our own echo, or a refill)
	case s.seq > r.next:
		r.pending[s.seq] = s
		if r.gapTimer == nil {
			r.gapTimer = time.AfterFunc(150*time.Millisecond, r.fillGap)
		}
		return
	}
	r.applyLocked(s, ev, send)
	for {
		p, ok := r.pending[r.next]
		if !ok {
			break
		}
		delete(r.pending, r.next)
		var pev Event
		_ = json.Unmarshal(p.full, &pev) // decoded once already
		r.applyLocked(p, &pev, send)
	}
	if len(r.pending) == 0 && r.gapTimer != nil {
		r.gapTimer.Stop()
		r.gapTimer = nil
	}
}

// applyLocked updates the room's state for one in-order event and queues it.
func (r *room) applyLocked(s sequenced, ev *Event, send bool) {
	r.next = s.seq + 1
	switch ev.Kind {
	case KindDelete:
		r.deleted[ev.Target] = true
		r.chat = slices.DeleteFunc(r.chat, func(m sequenced) bool { return m.seq == ev.Target })
	case KindChat:
		r.chat = append(r.chat, s)
		if h := r.hub.cfg.History; len(r.chat) > 2*h {
			r.chat = slices.Clone(r.chat[len(r.chat)-h:])
		}
	case KindTimeout:
		r.bans[ev.UserID] = &store.Ban{UserID: ev.UserID, Until: time.UnixMilli(ev.Until)}
	case KindBan:
		r.bans[ev.UserID] = &store.Ban{UserID: ev.UserID}
	case KindUnban:
		r.bans[ev.UserID] = nil
	case KindSettings:
		if ev.Settings != nil {
			r.stateMu.Lock()
			r.settings = *ev.Settings
			r.stateMu.Unlock()
		}
	case KindModerator:
		if ev.Added != nil {
			r.stateMu.Lock()
			r.mods[ev.UserID] = *ev.Added
			r.stateMu.Unlock()
		}
	case KindPollOpen:
		if p := ev.Poll; p != nil {
			r.polls[p.ID] = &pollState{view: *p}
		}
	case KindPollClose:
		if p := ev.Poll; p != nil {
			delete(r.polls, p.ID)
		}
	case KindSub:
		if ev.User != nil {
			r.markSubscriberLocked(ev.User.ID)
		}
	case KindQuestion:
		if s.id != "" {
			r.rememberQuestionLocked(s)
		}
	}
	r.ring = append(r.ring, s)
	r.trimLocked()
	if !send {
		r.flushed = s.seq
		return
	}
	r.out = append(r.out, s)
	r.outBytes += len(s.full)
	if r.outBytes >= maxBatchBytes {
		r.flushLocked() // a flood: keep frames bounded rather than wait
		return
	}
	r.scheduleFlushLocked(ev.Kind == KindGift || ev.Kind == KindTip || ev.Kind == KindSub)
}

// trimLocked keeps Retention events, or RetentionAge of them if more.
func (r *room) trimLocked() {
	cfg := r.hub.cfg
	n := len(r.ring) - cfg.Retention
	if n <= 0 {
		return
	}
	cut := time.Now().Add(-cfg.RetentionAge)
	hard := len(r.ring) - 20*cfg.Retention
	i := 0
	for i < n && (i < hard || r.ring[i].at.Before(cut)) {
		delete(r.deleted, r.ring[i].seq)
		i++
	}
	if i > 0 {
		// Reslice rather than copy: a copy per event costs the whole ring
		// when a busy room trims one old event per new one. append moves
		// the live part to a new array when this one fills up.
		clear(r.ring[:i])
		r.ring = r.ring[i:]
	}
}

// scheduleFlushLocked flushes at once after a quiet spell, else when the
// room's Linger has passed since the last flush; paid events (the alert a
// payer waits for) bring the flush forward to PaidLinger.
func (r *room) scheduleFlushLocked(paid bool) {
	if r.slots(len(r.clients)) > 1 {
		// A big room's fan-out already batches: it merges every job that
		// waits for a group's turn into one frame. Lingering here as well
		// would only add up to a Linger to every message.
		r.flushLocked()
		return
	}
	linger := r.hub.cfg.Linger
	if paid {
		linger = min(linger, r.hub.cfg.PaidLinger)
	}
	at := r.lastFlush.Add(linger)
	if r.flushTimer != nil {
		if !at.Before(r.flushAt) || !r.flushTimer.Stop() {
			return // due sooner anyway, or firing now: it flushes what is queued
		}
		r.flushTimer = nil
	}
	wait := time.Until(at)
	if wait <= 0 {
		r.flushLocked()
		return
	}
	r.flushAt = at
	r.flushTimer = time.AfterFunc(wait, func() {
		r.mu.Lock()
		r.flushTimer = nil
		r.flushLocked()
		r.mu.Unlock()
	})
}

// slots is how many groups a room of n clients writes to in turn, one
// group per Linger tick, so that each client gets a frame once per window:
// Linger in small rooms, stretched towards MaxLinger (200 ms) as the room
// grows to 10,000 clients. A frame write per client per window keeps a big
// room affordable; spreading the groups over the window keeps every burst
// of writes short, so a message waits for its group's turn and little more.
func (r *room) slots(n int) int {
	cfg := r.hub.cfg
	l := cfg.Linger
	if big := time.Duration(n) * cfg.MaxLinger / 10_000; big > l {
		l = min(big, cfg.MaxLinger)
	}
	return max(1, int(l/cfg.Linger))
}

// flushLocked sends what is queued as one frame to every client: encoded
// once, shared by all.
func (r *room) flushLocked() {
	if len(r.out) == 0 {
		return
	}
	full, red := batch(r.out, false), []byte(nil)
	for _, s := range r.out {
		if s.redacted != nil {
			red = batch(r.out, true)
			break
		}
	}
	r.flushed = r.out[len(r.out)-1].seq
	n := int64(len(r.out))
	r.out = r.out[:0]
	r.outBytes = 0
	r.lastFlush = time.Now()
	r.fanLocked(fanJob{full: full, redacted: red, events: n})
}

// fanJob is one frame for every client of a snapshot.
type fanJob struct {
	full     []byte
	redacted []byte // for non-moderators, when not nil
	modsOnly bool
	events   int64
	clients  []*client
	idx      int64 // clients that joined later (joinIdx > idx) do not get it
}

// fanLocked hands a frame to the room's fan-out goroutine, which enqueues
// it to each client outside the room's lock: a 10,000-client room must not
// hold up the next event while it writes 10,000 queues. Jobs run in order,
// so every client gets frames in sequence order.
func (r *room) fanLocked(j fanJob) {
	if r.listDirty {
		r.list = make([]*client, 0, len(r.clients))
		for c := range r.clients {
			r.list = append(r.list, c)
		}
		r.listDirty = false
	}
	j.clients = r.list // never mutated: a change makes a new slice
	j.idx = r.fanSeq
	r.fanSeq++
	r.fanQ = append(r.fanQ, j)
	select {
	case r.fanWake <- struct{}{}:
	default:
	}
}

// heldJob waits for the client groups that have not had it yet.
type heldJob struct {
	job  fanJob
	left int
}

func (r *room) fanLoop() {
	defer r.wg.Done()
	tick := time.NewTicker(r.hub.cfg.Linger)
	defer tick.Stop()
	var held []heldJob
	k, cur := 1, 0
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.fanWake:
			r.mu.Lock()
			jobs := r.fanQ
			r.fanQ = nil
			r.mu.Unlock()
			for _, j := range jobs {
				if len(held) == 0 {
					k = r.slots(len(j.clients))
				}
				if k <= 1 {
					r.deliver([]fanJob{j}, j.clients, 0, 1)
					continue
				}
				held = append(held, heldJob{job: j, left: k})
			}
		case <-tick.C:
			if len(held) == 0 {
				continue
			}
			cur = (cur + 1) % k
			jobs := make([]fanJob, len(held))
			for i, h := range held {
				jobs[i] = h.job
			}
			r.deliver(jobs, held[len(held)-1].job.clients, cur, k)
			kept := held[:0]
			for _, h := range held {
				if h.left--; h.left > 0 {
					kept = append(kept, h)
				}
			}
			held = kept
		}
	}
}

// deliver enqueues jobs, merged into one frame, to the clients of group
// slot (of k); a client gets only the jobs made after it joined.
func (r *room) deliver(jobs []fanJob, clients []*client, slot, k int) {
	var forMods, forOthers []byte
	merged := func(from int64, mod bool) []byte {
		frames := make([][]byte, 0, len(jobs))
		for _, j := range jobs {
			switch {
			case j.idx < from:
			case mod:
				frames = append(frames, j.full)
			case j.modsOnly:
			case j.redacted != nil:
				frames = append(frames, j.redacted)
			default:
				frames = append(frames, j.full)
			}
		}
		if len(frames) == 0 {
			return nil
		}
		return merge(frames)
	}
	var events int64
	for _, j := range jobs {
		events += j.events
	}
	n := int64(0)
	for _, c := range clients {
		if c.slot%k != slot {
			continue
		}
		mod := c.moderator()
		var f []byte
		switch {
		case c.joinIdx > jobs[0].idx: // joined while these waited
			f = merged(c.joinIdx, mod)
		case mod:
			if forMods == nil {
				forMods = merged(0, true)
			}
			f = forMods
		default:
			if forOthers == nil {
				forOthers = merged(0, false)
			}
			f = forOthers
		}
		if len(f) > 2 {
			c.enqueue(f)
			n++
		}
	}
	if events > 0 && n > 0 {
		delivered := events * n
		r.hub.delivered.Add(delivered)
	}
}

// batch encodes events as a JSON array.
func batch(evs []sequenced, redact bool) []byte {
	size := 2
	for _, s := range evs {
		size += len(s.full) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, '[')
	for i, s := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		if redact && s.redacted != nil {
			b = append(b, s.redacted...)
		} else {
			b = append(b, s.full...)
		}
	}
	return append(b, ']')
}

// fillGap reads events the bus has not (yet) brought from the store.
func (r *room) fillGap() {
	r.mu.Lock()
	r.gapTimer = nil
	from := r.next - 1
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	evs, err := r.hub.cfg.Store.RoomEventsAfter(ctx, r.ch.ID, from, 1000)
	if err != nil {
		if r.ctx.Err() == nil {
			r.hub.log.Warn("realtime: gap fill failed", "room", r.ch.Slug, "err", err)
		}
		return
	}
	if len(evs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	filled := false
	for _, e := range evs {
		if e.Seq < r.next {
			continue
		}
		if s, ev, ok := r.decode(e.Seq, wire(e.Seq, []byte(e.Payload))); ok {
			filled = true
			r.acceptLocked(s, ev, true)
		}
	}
	if filled {
		r.hub.gapsRecovered.Add(1)
	}
}

// loop runs the room's timers: reaction windows, poll deadlines and tallies,
// and the check for events the bus lost.
func (r *room) loop() {
	defer r.wg.Done()
	cfg := r.hub.cfg
	react := time.NewTicker(cfg.ReactionWindow)
	defer react.Stop()
	tally := time.NewTicker(250 * time.Millisecond)
	defer tally.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	var gapC <-chan time.Time
	if cfg.GapCheck > 0 {
		gaps := time.NewTicker(cfg.GapCheck)
		defer gaps.Stop()
		gapC = gaps.C
	}
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-react.C:
			r.flushReactions()
			r.flushVotes()
		case <-tally.C:
			r.tickPolls()
		case <-gapC:
			r.checkGap()
		case now := <-sweep.C:
			r.sweep(now)
		}
	}
}

// sweepEvery is how often a room forgets what it no longer needs;
// maxBanCache bounds the accounts it remembers as not banned.
const (
	sweepEvery  = time.Minute
	maxBanCache = 10_000
)

// sweep forgets slow-mode marks older than the slow-mode window, lapsed
// timeouts and, once the cache is big, accounts known not to be banned
// (read from the store again on their next message).
func (r *room) sweep(now time.Time) {
	slow := time.Duration(r.currentSettings().SlowSeconds) * time.Second
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, t := range r.lastSent {
		if now.Sub(t) >= slow {
			delete(r.lastSent, k)
		}
	}
	big := len(r.bans) > maxBanCache
	for id, b := range r.bans {
		if b == nil && big || b != nil && !b.Active(now) {
			delete(r.bans, id)
		}
	}
}

func (r *room) checkGap() {
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
	defer cancel()
	last, err := r.hub.cfg.Store.RoomLastSeq(ctx, r.ch.ID)
	if err != nil {
		return
	}
	r.mu.Lock()
	behind := last >= r.next && r.gapTimer == nil
	r.mu.Unlock()
	if behind {
		r.fillGap()
	}
}

// append stores an event, taking the room's next sequence number, and
// publishes it to every node. This node delivers it at once; its echo from
// the bus is dropped as a duplicate.
func (r *room) append(ctx context.Context, ev Event, userID string) (int64, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", ev.Kind, err)
	}
	r.appendMu.Lock()
	defer r.appendMu.Unlock()
	evs, err := r.hub.cfg.Store.AppendRoomEvents(ctx, r.ch.ID, []store.RoomEvent{{
		Kind: ev.Kind, UserID: userID, BroadcastID: ev.BroadcastID, MediaMS: ev.MediaMS,
		CreatedAt: time.UnixMilli(ev.At), Payload: string(payload),
	}})
	if err != nil {
		return 0, err
	}
	seq := evs[0].Seq
	data := wire(seq, payload)
	if s, dev, ok := r.decode(seq, data); ok {
		r.mu.Lock()
		r.acceptLocked(s, dev, true)
		r.mu.Unlock()
	}
	if err := r.hub.cfg.Bus.Publish(ctx, subject(r.ch.ID), data); err != nil {
		// Stored already: other nodes pick it up with their gap check.
		r.hub.log.Warn("realtime: bus publish failed; other nodes will read the event from the store", "room", r.ch.Slug, "seq", seq, "err", err)
	}
	return seq, nil
}

// publishTransient sends a frame that has no sequence number to every
// node's clients (this node's included, through the bus).
func (r *room) publishTransient(v any) {
	if err := r.hub.cfg.Bus.Publish(r.ctx, subject(r.ch.ID)+".x", transient(v)); err != nil && r.ctx.Err() == nil {
		r.hub.log.Warn("realtime: transient publish failed", "room", r.ch.Slug, "err", err)
	}
}

// transientEnvelope is what travels on a room's .x subject.
type transientEnvelope struct {
	Type     string          `json:"type"`
	PollID   string          `json:"poll_id,omitempty"`
	Deltas   []int64         `json:"deltas,omitempty"`
	ModsOnly bool            `json:"mods_only,omitempty"`
	Frame    json.RawMessage `json:"frame,omitempty"`
}

func (r *room) onTransient(data []byte) {
	var env transientEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return
	}
	switch env.Type {
	case "poll.votes":
		r.mu.Lock()
		if p := r.polls[env.PollID]; p != nil {
			p.add(env.Deltas)
		}
		r.mu.Unlock()
	case "frame":
		frame := append(append([]byte{'['}, env.Frame...), ']')
		r.mu.Lock()
		r.fanLocked(fanJob{full: frame, modsOnly: env.ModsOnly})
		r.mu.Unlock()
	}
}

// sendFrame sends one transient frame to every node's clients.
func (r *room) sendFrame(v any, modsOnly bool) {
	r.publishTransient(transientEnvelope{Type: "frame", Frame: transient(v), ModsOnly: modsOnly})
}

// stamp returns the wall and stream clocks for an event: at is the
// client's playhead program date-time (0: the live edge now).
func (r *room) stamp(ctx context.Context, at int64) (wall, media int64, broadcast string) {
	now := time.Now()
	wall = now.UnixMilli()
	media = -1
	if r.hub.cfg.Clock == nil {
		return wall, media, ""
	}
	id, start, ok := r.hub.cfg.Clock.Broadcast(ctx, r.ch.ID)
	if !ok {
		return wall, media, ""
	}
	t := now
	// A playhead is behind the live edge by its latency; believe it within a minute.
	if at > 0 && at <= wall+1000 && at >= wall-60_000 {
		t = time.UnixMilli(at)
	}
	media = max(0, t.Sub(start).Milliseconds())
	return wall, media, id
}
