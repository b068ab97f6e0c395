package realtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// pollState is an open poll on this node: its live tally is the store's
// count at load plus every accepted vote since, from all nodes. The final
// result is counted by the store.
type pollState struct {
	view    PollView
	changed bool
}

func newPollState(p store.Poll, counts []int64) *pollState {
	ps := &pollState{view: PollView{ID: p.ID, Question: p.Question, Options: p.Options, Counts: counts,
		OpenedAt: p.OpenedAt.UnixMilli(), ClosesAt: p.ClosesAt.UnixMilli()}}
	for _, n := range counts {
		ps.view.Total += n
	}
	return ps
}

func (p *pollState) add(deltas []int64) {
	if len(p.view.Counts) < len(p.view.Options) {
		p.view.Counts = append(p.view.Counts, make([]int64, len(p.view.Options)-len(p.view.Counts))...)
	}
	for i, d := range deltas {
		if i < len(p.view.Counts) {
			p.view.Counts[i] += d
			p.view.Total += d
		}
	}
	p.changed = true
}

func (p *pollState) snapshot() PollView {
	v := p.view
	v.Counts = append([]int64(nil), v.Counts...)
	if len(v.Counts) < len(v.Options) {
		v.Counts = append(v.Counts, make([]int64, len(v.Options)-len(v.Counts))...)
	}
	return v
}

func (r *room) openPoll(ctx context.Context, c *client, cmd Command) error {
	if !c.moderator() {
		return refuse("forbidden", "only the broadcaster and moderators can open polls")
	}
	q, err := cleanText("question", cmd.Question, 200)
	if err != nil {
		return err
	}
	if len(cmd.Options) < 2 || len(cmd.Options) > 5 {
		return refuse("bad_poll", "a poll has 2 to 5 options")
	}
	opts := make([]string, len(cmd.Options))
	for i, o := range cmd.Options {
		if opts[i], err = cleanText("option", o, 80); err != nil {
			return err
		}
	}
	secs := cmd.Seconds
	if secs == 0 {
		secs = 60
	}
	if secs < 10 || secs > 3600 {
		return refuse("bad_poll", "seconds must be 10 to 3600")
	}
	r.mu.Lock()
	open := len(r.polls)
	r.mu.Unlock()
	if open > 0 {
		return refuse("poll_open", "a poll is open already; close it first")
	}
	wall, media, bid := r.stamp(ctx, 0)
	now := time.UnixMilli(wall)
	p, err := r.hub.cfg.Store.CreatePoll(ctx, store.Poll{ChannelID: r.ch.ID, BroadcastID: bid, Question: q, Options: opts,
		OpenedBy: c.member.User.ID, OpenedAt: now, ClosesAt: now.Add(time.Duration(secs) * time.Second), MediaMS: media})
	if err != nil {
		return err
	}
	if err := r.hub.cfg.Store.AddAudit(ctx, store.AuditEntry{ChannelID: r.ch.ID, ActorID: c.member.User.ID, Action: "poll.open", Target: p.ID, Detail: q}); err != nil {
		return fmt.Errorf("audit poll.open: %w", err)
	}
	view := newPollState(p, make([]int64, len(opts))).view
	seq, err := r.append(ctx, Event{Kind: KindPollOpen, At: wall, MediaMS: media, BroadcastID: bid, ID: p.ID, Poll: &view,
		Actor: c.member.User.DisplayName}, c.member.User.ID)
	if err != nil {
		return err
	}
	c.reply(ackFrame{Type: KindAck, Ref: cmd.Ref, Seq: seq, ID: p.ID})
	return nil
}

// voteReq is one vote waiting for the room's next batch.
type voteReq struct {
	c      *client
	ref    string
	pollID string
	vote   store.Vote
}

func (r *room) vote(ctx context.Context, c *client, cmd Command) error {
	if !c.signedIn() {
		return refuse("sign_in_required", "sign in to vote")
	}
	if err := r.banned(ctx, c); err != nil {
		return err
	}
	if err := r.limitIn(c, "vote:"); err != nil {
		return err
	}
	r.mu.Lock()
	p := r.polls[cmd.PollID]
	var options int
	var closes int64
	if p != nil {
		options, closes = len(p.view.Options), p.view.ClosesAt
	}
	r.mu.Unlock()
	switch {
	case p == nil || time.Now().UnixMilli() >= closes:
		return refuse("poll_closed", "that poll is not open")
	case cmd.Option == nil || *cmd.Option < 0 || *cmd.Option >= options:
		return refuse("bad_option", "option must be the index of one of the poll's options")
	}
	_, media, _ := r.stamp(ctx, cmd.At)
	req := voteReq{c: c, ref: cmd.Ref, pollID: cmd.PollID, vote: store.Vote{UserID: c.member.User.ID, Option: *cmd.Option, MediaMS: media}}
	select {
	case r.votes <- req:
		return nil
	default:
		return refuseRetry("room_busy", "votes are arriving faster than they can be counted; try again", time.Second)
	}
}

// voteLoop writes votes in batches: one transaction for all the votes that
// arrive within 50 ms, so a 10,000-voter poll costs a few hundred commits.
func (r *room) voteLoop() {
	defer r.wg.Done()
	for {
		var first voteReq
		select {
		case <-r.ctx.Done():
			return
		case first = <-r.votes:
		}
		reqs := []voteReq{first}
		deadline := time.After(50 * time.Millisecond)
	gather:
		for len(reqs) < 2000 {
			select {
			case v := <-r.votes:
				reqs = append(reqs, v)
			case <-deadline:
				break gather
			}
		}
		byPoll := map[string][]voteReq{}
		for _, v := range reqs {
			byPoll[v.pollID] = append(byPoll[v.pollID], v)
		}
		for id, vs := range byPoll {
			r.countVotes(id, vs)
		}
	}
}

func (r *room) countVotes(pollID string, reqs []voteReq) {
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	votes := make([]store.Vote, len(reqs))
	for i, v := range reqs {
		votes[i] = v.vote
	}
	accepted, err := r.hub.cfg.Store.AddVotes(ctx, pollID, votes)
	if err != nil {
		r.hub.log.Warn("realtime: votes not stored", "room", r.ch.Slug, "poll", pollID, "votes", len(votes), "err", err)
		for _, v := range reqs {
			v.c.fail(v.ref, "unavailable", "your vote did not go through; vote again", time.Second)
		}
		return
	}
	ok := map[string]bool{}
	deltas := []int64{}
	media := int64(-1)
	for _, v := range accepted {
		ok[v.UserID] = true
		for len(deltas) <= v.Option {
			deltas = append(deltas, 0)
		}
		deltas[v.Option]++
		media = max(media, v.MediaMS)
	}
	r.mu.Lock()
	_, open := r.polls[pollID]
	if len(accepted) > 0 {
		w := r.voteAgg[pollID]
		if w == nil {
			w = &voteWindow{media: -1}
			r.voteAgg[pollID] = w
		}
		w.add(deltas, media)
	}
	r.mu.Unlock()
	for _, v := range reqs {
		switch {
		case ok[v.vote.UserID]:
			delete(ok, v.vote.UserID) // the same account twice in one batch
			v.c.reply(ackFrame{Type: KindAck, Ref: v.ref, ID: pollID})
		case !open:
			v.c.fail(v.ref, "poll_closed", "the poll closed before your vote arrived", 0)
		default:
			v.c.fail(v.ref, "already_voted", "you have voted in this poll already", 0)
		}
	}
	if len(accepted) > 0 {
		r.publishTransient(transientEnvelope{Type: "poll.votes", PollID: pollID, Deltas: deltas})
	}
}

// voteWindow is what one node counted for a poll since its last
// poll.votes event: votes per option, and the latest voter's media time.
type voteWindow struct {
	deltas []int64
	media  int64
}

func (w *voteWindow) add(deltas []int64, media int64) {
	for len(w.deltas) < len(deltas) {
		w.deltas = append(w.deltas, 0)
	}
	for i, d := range deltas {
		w.deltas[i] += d
	}
	w.media = max(w.media, media)
}

// flushVotes stores this node's counted votes of the last window as one
// poll.votes event per poll, on the stream clock: the broadcast's replay
// shows the votes where viewers cast them, at one event per window.
func (r *room) flushVotes() {
	r.mu.Lock()
	if len(r.voteAgg) == 0 {
		r.mu.Unlock()
		return
	}
	agg := r.voteAgg
	r.voteAgg = map[string]*voteWindow{}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	wall, media, bid := r.stamp(ctx, 0)
	for id, w := range agg {
		m := media
		if bid != "" && w.media >= 0 {
			m = w.media // the voters' playhead, not the live edge
		}
		if _, err := r.append(ctx, Event{Kind: KindPollVotes, At: wall, MediaMS: m, BroadcastID: bid, ID: id, Deltas: w.deltas}, ""); err != nil && r.ctx.Err() == nil {
			r.hub.log.Warn("realtime: poll votes not stored for the replay", "room", r.ch.Slug, "poll", id, "err", err)
		}
	}
}

// tickPolls sends changed tallies and closes polls whose time is up. Any
// node may close a poll; the store lets exactly one of them do it.
func (r *room) tickPolls() {
	now := time.Now().UnixMilli()
	var tallies []PollView
	var due []string
	r.mu.Lock()
	for id, p := range r.polls {
		if p.changed {
			p.changed = false
			tallies = append(tallies, p.snapshot())
		}
		if now >= p.view.ClosesAt {
			due = append(due, id)
		}
	}
	if len(tallies) > 0 {
		frame := make([]any, 0, len(tallies))
		for _, t := range tallies {
			frame = append(frame, map[string]any{"type": KindPollTally, "poll": t})
		}
		r.fanLocked(fanJob{full: transient(frame)})
	}
	r.mu.Unlock()
	for _, id := range due {
		if err := r.closePoll(id, Actor{}); err != nil && r.ctx.Err() == nil {
			r.hub.log.Warn("realtime: closing poll", "room", r.ch.Slug, "poll", id, "err", err)
		}
	}
}

func (r *room) closePollCmd(ctx context.Context, c *client, cmd Command) error {
	if !c.moderator() {
		return refuse("forbidden", "only the broadcaster and moderators can close polls")
	}
	r.mu.Lock()
	_, open := r.polls[cmd.PollID]
	r.mu.Unlock()
	if !open {
		return refuse("poll_closed", "that poll is not open")
	}
	if err := r.closePoll(cmd.PollID, Actor{UserID: c.member.User.ID, Name: c.member.User.DisplayName}); err != nil {
		return err
	}
	c.reply(ackFrame{Type: KindAck, Ref: cmd.Ref, ID: cmd.PollID})
	return nil
}

// closePoll closes the poll in the store and, if this call closed it,
// announces the exact final tally. A moderator's close (actor named; a
// timed close has none) goes to the audit log.
func (r *room) closePoll(id string, actor Actor) error {
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	st := r.hub.cfg.Store
	// Votes still in this node's batch are counted first.
	time.Sleep(60 * time.Millisecond)
	won, err := st.ClosePoll(ctx, id, time.Now())
	if err != nil || !won {
		if !won {
			r.mu.Lock()
			if p := r.polls[id]; p != nil && time.Now().UnixMilli() > p.view.ClosesAt+10_000 {
				delete(r.polls, id) // closed elsewhere and its event was missed
			}
			r.mu.Unlock()
		}
		return err
	}
	p, err := st.PollByID(ctx, id)
	if err != nil {
		return err
	}
	counts, err := st.PollTally(ctx, id, len(p.Options))
	if err != nil {
		return err
	}
	if actor.UserID != "" {
		if err := st.AddAudit(ctx, store.AuditEntry{ChannelID: r.ch.ID, ActorID: actor.UserID, Action: "poll.close", Target: id, Detail: p.Question}); err != nil {
			return fmt.Errorf("audit poll.close: %w", err)
		}
	}
	view := newPollState(p, counts).view
	view.Closed = true
	wall, media, bid := r.stamp(ctx, 0)
	_, err = r.append(ctx, Event{Kind: KindPollClose, At: wall, MediaMS: media, BroadcastID: bid, ID: id, Poll: &view, Actor: actor.Name}, p.OpenedBy)
	return err
}

// ask submits a question; it waits for a moderator's approval.
func (r *room) ask(ctx context.Context, c *client, cmd Command) error {
	if !c.signedIn() {
		return refuse("sign_in_required", "sign in to ask a question")
	}
	text, err := cleanText("question", cmd.Text, 300)
	if err != nil {
		return err
	}
	if err := r.banned(ctx, c); err != nil {
		return err
	}
	if err := r.limit(c); err != nil {
		return err
	}
	wall, media, bid := r.stamp(ctx, cmd.At)
	q, err := r.hub.cfg.Store.CreateQuestion(ctx, store.Question{ChannelID: r.ch.ID, BroadcastID: bid, UserID: c.member.User.ID, Text: text, MediaMS: media})
	if err != nil {
		return err
	}
	seq, err := r.append(ctx, r.questionEvent(q, wall, media, bid, c.user, c.badges()), c.member.User.ID)
	if err != nil {
		return err
	}
	c.reply(ackFrame{Type: KindAck, Ref: cmd.Ref, Seq: seq, ID: q.ID})
	return nil
}

func (r *room) questionEvent(q store.Question, wall, media int64, bid string, author User, badges []string) Event {
	author.Badges = badges
	return Event{Kind: KindQuestion, At: wall, MediaMS: media, BroadcastID: bid, ID: q.ID,
		Question: &QAView{ID: q.ID, User: &author, Text: q.Text, State: q.State, Pinned: q.Pinned, Votes: q.Votes, MediaMS: q.MediaMS}}
}

func (r *room) upvote(ctx context.Context, c *client, cmd Command) error {
	if !c.signedIn() {
		return refuse("sign_in_required", "sign in to upvote")
	}
	if err := r.banned(ctx, c); err != nil {
		return err
	}
	if err := r.limit(c); err != nil {
		return err
	}
	st := r.hub.cfg.Store
	q, err := st.QuestionByID(ctx, r.ch.ID, cmd.ID)
	if err != nil {
		return notFoundAs(err, "no such question")
	}
	if q.State != store.QuestionApproved && q.State != store.QuestionAnswered && !c.moderator() {
		return refuse("not_open", "that question is not open for votes")
	}
	before := q.Votes
	if q, err = st.UpvoteQuestion(ctx, r.ch.ID, cmd.ID, c.member.User.ID); err != nil {
		return notFoundAs(err, "no such question")
	}
	if q.Votes == before {
		return refuse("already_voted", "you have upvoted this question already")
	}
	return r.announceQuestion(ctx, c, cmd.Ref, q)
}

func (r *room) moderateQuestion(ctx context.Context, c *client, cmd Command) error {
	if !c.moderator() {
		return refuse("forbidden", "only the broadcaster and moderators can moderate questions")
	}
	st := r.hub.cfg.Store
	q, err := st.QuestionByID(ctx, r.ch.ID, cmd.ID)
	if err != nil {
		return notFoundAs(err, "no such question")
	}
	state, pinned := q.State, q.Pinned
	if cmd.State != "" {
		state = cmd.State
	}
	if cmd.Pinned != nil {
		pinned = *cmd.Pinned
	}
	if q, err = st.UpdateQuestion(ctx, r.ch.ID, cmd.ID, state, pinned); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return refuse("bad_state", "state must be pending, approved, answered or dismissed")
		}
		return err
	}
	if err := st.AddAudit(ctx, store.AuditEntry{ChannelID: r.ch.ID, ActorID: c.member.User.ID, Action: "qa." + state, Target: q.ID}); err != nil {
		return fmt.Errorf("audit qa.%s: %w", state, err)
	}
	return r.announceQuestion(ctx, c, cmd.Ref, q)
}

func (r *room) announceQuestion(ctx context.Context, c *client, ref string, q store.Question) error {
	wall, media, bid := r.stamp(ctx, 0)
	author := User{ID: q.UserID, Name: r.nameOf(ctx, q.UserID)}
	seq, err := r.append(ctx, r.questionEvent(q, wall, media, bid, author, nil), c.member.User.ID)
	if err != nil {
		return err
	}
	c.reply(ackFrame{Type: KindAck, Ref: ref, Seq: seq, ID: q.ID})
	return nil
}

// nameOf returns a user's display name: from a connected client, else the store.
func (r *room) nameOf(ctx context.Context, userID string) string {
	r.mu.Lock()
	for c := range r.clients {
		if c.signedIn() && c.member.User.ID == userID {
			r.mu.Unlock()
			return c.member.User.DisplayName
		}
	}
	r.mu.Unlock()
	if u, err := r.hub.cfg.Store.UserByID(ctx, userID); err == nil {
		return u.DisplayName
	}
	return ""
}

// validReaction reports whether e is one of the reactions viewers can send.
func validReaction(e string) bool {
	switch e {
	case "❤️", "🔥", "😂", "👏", "😮", "🎉", "👍", "💯":
		return true
	}
	return false
}

func (r *room) react(ctx context.Context, c *client, cmd Command) error {
	if !validReaction(cmd.Emoji) {
		return refuse("bad_reaction", "unknown reaction; use one of ❤️ 🔥 😂 👏 😮 🎉 👍 💯")
	}
	if !c.tapAllowed() {
		return refuseRetry("rate_limited", "slow down: at most 10 reactions a second", 100*time.Millisecond)
	}
	if err := r.banned(ctx, c); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	r.mu.Lock()
	r.reactions[cmd.Emoji]++
	if cmd.At > 0 && cmd.At <= now+1000 && cmd.At >= now-60_000 { // as stamp believes a playhead
		r.reactLag[0] += max(0, now-cmd.At)
		r.reactLag[1]++
	}
	r.mu.Unlock()
	return nil
}

// flushReactions sends this node's reaction counts of the last window as
// one event: a 10,000-viewer room costs one event per window, not one per
// tap. It is stamped on the stream clock at the tappers' mean playhead.
func (r *room) flushReactions() {
	r.mu.Lock()
	if len(r.reactions) == 0 {
		r.mu.Unlock()
		return
	}
	counts := r.reactions
	r.reactions = map[string]int64{}
	lag := r.reactLag
	r.reactLag = [2]int64{}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	at := int64(0) // the live edge, unless the tappers' players said where they were
	if lag[1] > 0 {
		at = time.Now().UnixMilli() - lag[0]/lag[1]
	}
	wall, media, bid := r.stamp(ctx, at)
	if _, err := r.append(ctx, Event{Kind: KindReactions, At: wall, MediaMS: media, BroadcastID: bid, Counts: counts}, ""); err != nil && r.ctx.Err() == nil {
		r.hub.log.Warn("realtime: reactions not stored", "room", r.ch.Slug, "err", err)
	}
}
