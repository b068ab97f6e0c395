package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
)

// Rooms is the realtime layer as the API uses it.
type Rooms interface {
	Attach(conn *websocket.Conn, ch realtime.Channel, m realtime.Member, since int64)
	Moderate(ctx context.Context, ch realtime.Channel, a realtime.Actor, cmd realtime.Command) (int64, error)
	TermsChanged(ctx context.Context, channelID string)
	// CloseRoom and KickUser disconnect open sockets on every node: a
	// suspended channel's room, a suspended or banned user's sockets.
	CloseRoom(ctx context.Context, channelID string) error
	KickUser(ctx context.Context, userID string) error
}

func roomOf(ch store.Channel) realtime.Channel {
	return realtime.Channel{ID: ch.ID, Slug: ch.Slug, OwnerID: ch.OwnerID}
}

// chat upgrades to the room's WebSocket. The Origin check of the upgrade
// stops other sites from riding a viewer's cookie (CSRF for WebSockets).
func (a *API) chat(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Rooms == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "chat is not enabled on this server"}
	}
	ch, err := a.channelBySlug(r)
	if err != nil {
		return err
	}
	if ch.Suspended {
		return &Error{Status: http.StatusForbidden, Code: "suspended", Message: "this channel is suspended; its chat is closed"}
	}
	since := int64(0)
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = strconv.ParseInt(v, 10, 64); err != nil || since < 0 {
			return errBadRequest("since", "since must be the last seq you received (a non-negative integer)")
		}
	}
	key := a.clientKey(r)
	if d, ok := a.chatJoins.Take(key); !ok {
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many chat connections from your network; reconnect with backoff", RetryAfter: d}
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return &Error{Status: http.StatusUpgradeRequired, Code: "upgrade_required", Message: "this endpoint speaks WebSocket; see docs/REALTIME.md"}
	}
	conn, err := websocket.Accept(smallReadBuffer{w}, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil // Accept has answered (403 for a foreign Origin)
	}
	m := realtime.Member{IP: key}
	if p := principal(r); p != nil {
		u := p.User
		m.User, m.IsAdmin = &u, u.Role == store.RoleAdmin
	}
	// The hub serves the socket from here on; this handler returns, so its
	// stack and request are freed.
	a.cfg.Rooms.Attach(conn, roomOf(ch), m, since)
	return nil
}

func (a *API) channelBySlug(r *http.Request) (store.Channel, error) {
	slug := r.PathValue("slug")
	if err := store.ValidateSlug(slug); err != nil {
		return store.Channel{}, errBadRequest("slug", "%s", err.Error())
	}
	ch, err := a.cfg.Store.ChannelBySlug(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return store.Channel{}, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no channel " + slug}
	}
	return ch, err
}

// modChannel loads the channel and checks the caller moderates it.
func (a *API) modChannel(r *http.Request, ownerOnly bool) (store.Channel, *account.Principal, error) {
	ch, err := a.channelBySlug(r)
	if err != nil {
		return ch, nil, err
	}
	p := principal(r)
	if p == nil {
		return ch, nil, errUnauthenticated
	}
	owner := p.User.ID == ch.OwnerID || p.User.Role == store.RoleAdmin
	if owner {
		return ch, p, nil
	}
	if !ownerOnly {
		// Read from the store: asking the realtime hub would open the room.
		mods, err := a.cfg.Store.Moderators(r.Context(), ch.ID)
		if err != nil {
			return ch, nil, err
		}
		if slices.Contains(mods, p.User.ID) {
			return ch, p, nil
		}
	}
	who := "the channel's owner or its moderators"
	if ownerOnly {
		who = "the channel's owner"
	}
	return ch, nil, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only " + who + " can do that"}
}

func (a *API) roomAction(w http.ResponseWriter, r *http.Request, ownerOnly bool, cmd realtime.Command) error {
	if a.cfg.Rooms == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "chat is not enabled on this server"}
	}
	ch, p, err := a.modChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	seq, err := a.cfg.Rooms.Moderate(r.Context(), roomOf(ch), realtime.Actor{UserID: p.User.ID, Name: p.User.DisplayName,
		IsAdmin: p.User.Role == store.RoleAdmin}, cmd)
	if err != nil {
		var rf interface{ Code() string }
		if errors.As(err, &rf) {
			status := http.StatusBadRequest
			switch rf.Code() {
			case "not_found":
				status = http.StatusNotFound
			case "forbidden":
				status = http.StatusForbidden
			}
			return &Error{Status: status, Code: rf.Code(), Message: err.Error()}
		}
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": seq})
	return nil
}

func (a *API) addModerator(w http.ResponseWriter, r *http.Request) error {
	return a.moderatorChange(w, r, "mod.add")
}

func (a *API) removeModerator(w http.ResponseWriter, r *http.Request) error {
	return a.moderatorChange(w, r, "mod.remove")
}

func (a *API) moderatorChange(w http.ResponseWriter, r *http.Request, action string) error {
	id := r.PathValue("user_id")
	u, err := a.cfg.Store.UserByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such user"}
	}
	if err != nil {
		return err
	}
	return a.roomAction(w, r, true, realtime.Command{Type: action, UserID: u.ID})
}

func (a *API) listModerators(w http.ResponseWriter, r *http.Request) error {
	ch, _, err := a.modChannel(r, false)
	if err != nil {
		return err
	}
	ids, err := a.cfg.Store.Moderators(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	type mod struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	out := []mod{}
	for _, id := range ids {
		if u, err := a.cfg.Store.UserByID(r.Context(), id); err == nil {
			out = append(out, mod{ID: u.ID, Name: u.DisplayName})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"moderators": out})
	return nil
}

func (a *API) auditLog(w http.ResponseWriter, r *http.Request) error {
	ch, _, err := a.modChannel(r, true)
	if err != nil {
		return err
	}
	pg, err := pageParams(r)
	if err != nil {
		return err
	}
	entries, next, err := a.cfg.Store.AuditLog(r.Context(), ch.ID, pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page[store.AuditEntry]{Items: entries, NextCursor: next})
	return nil
}

func (a *API) listBlockedTerms(w http.ResponseWriter, r *http.Request) error {
	ch, _, err := a.modChannel(r, false)
	if err != nil {
		return err
	}
	terms, err := a.cfg.Store.BlockedTerms(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	own := []store.BlockedTerm{}
	server := []store.BlockedTerm{}
	for _, t := range terms {
		if t.ChannelID == "" {
			server = append(server, t)
		} else {
			own = append(own, t)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"terms": own, "server_terms": server})
	return nil
}

// auditor is the store's moderator audit log.
type auditor interface {
	AddAudit(ctx context.Context, e store.AuditEntry) error
}

// audit records a moderator action done through the REST API in the
// channel's audit log.
func (a *API) audit(r *http.Request, e store.AuditEntry) error {
	au, ok := a.cfg.Store.(auditor)
	if !ok {
		return nil
	}
	if err := au.AddAudit(r.Context(), e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

func (a *API) putBlockedTerm(w http.ResponseWriter, r *http.Request) error {
	ch, p, err := a.modChannel(r, false)
	if err != nil {
		return err
	}
	var in store.BlockedTerm
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	in.ChannelID = ch.ID
	if err := a.cfg.Store.SetBlockedTerm(r.Context(), in); err != nil {
		return err
	}
	if err := a.audit(r, store.AuditEntry{ChannelID: ch.ID, ActorID: p.User.ID, Action: "term.set", Target: strings.ToLower(strings.TrimSpace(in.Term)), Detail: in.Action}); err != nil {
		return err
	}
	a.termsChanged(r, ch.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteBlockedTerm(w http.ResponseWriter, r *http.Request) error {
	ch, p, err := a.modChannel(r, false)
	if err != nil {
		return err
	}
	term := r.URL.Query().Get("term")
	if err := a.cfg.Store.RemoveBlockedTerm(r.Context(), ch.ID, term); err != nil {
		return err
	}
	if err := a.audit(r, store.AuditEntry{ChannelID: ch.ID, ActorID: p.User.ID, Action: "term.remove", Target: strings.ToLower(strings.TrimSpace(term))}); err != nil {
		return err
	}
	a.termsChanged(r, ch.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) adminBlockedTerms(w http.ResponseWriter, r *http.Request) error {
	terms, err := a.cfg.Store.BlockedTerms(r.Context(), "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"terms": terms})
	return nil
}

func (a *API) adminPutBlockedTerm(w http.ResponseWriter, r *http.Request) error {
	var in store.BlockedTerm
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	in.ChannelID = ""
	if err := a.cfg.Store.SetBlockedTerm(r.Context(), in); err != nil {
		return err
	}
	a.termsChanged(r, "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// broadcastEvents returns a broadcast's room events on the stream clock,
// for replay beside the video: ordered by media time, paged by a cursor.
func (a *API) broadcastEvents(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" || len(id) > 64 {
		return errBadRequest("id", "id must be a broadcast id")
	}
	limit := 500
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errBadRequest("limit", "limit must be 1 to 1000")
		}
		limit = n
	}
	afterMS, afterSeq := int64(-2), int64(0)
	if c := r.URL.Query().Get("cursor"); c != "" {
		ms, seq, ok := strings.Cut(c, ".")
		var err1, err2 error
		afterMS, err1 = strconv.ParseInt(ms, 10, 64)
		afterSeq, err2 = strconv.ParseInt(seq, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return errBadRequest("cursor", "cursor is not a cursor from this listing; start again without one")
		}
	}
	evs, err := a.cfg.Store.BroadcastEvents(r.Context(), id, afterMS, afterSeq, limit)
	if err != nil {
		return err
	}
	out := make([]jsonRaw, 0, len(evs))
	for _, e := range evs {
		if e.Kind == realtime.KindQuestion && strings.Contains(e.Payload, `"state":"pending"`) {
			continue // never shown publicly
		}
		out = append(out, jsonRaw(realtime.Wire(e.Seq, []byte(e.Payload))))
	}
	next := ""
	if len(evs) == limit {
		last := evs[len(evs)-1]
		next = strconv.FormatInt(last.MediaMS, 10) + "." + strconv.FormatInt(last.Seq, 10)
	}
	writeJSON(w, http.StatusOK, page[jsonRaw]{Items: out, NextCursor: next})
	return nil
}

type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }

// MaxEmoteBytes bounds an emote image.
const MaxEmoteBytes = 256 << 10

type emoteView struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

func emoteURL(file string) string { return "/emotes/" + file }

func (a *API) listEmotes(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.channelBySlug(r)
	if err != nil {
		return err
	}
	es, err := a.cfg.Store.Emotes(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	out := make([]emoteView, 0, len(es))
	for _, e := range es {
		out = append(out, emoteView{Name: e.Name, URL: emoteURL(e.File)})
	}
	w.Header().Set("Cache-Control", "public, max-age=30")
	writeJSON(w, http.StatusOK, map[string]any{"emotes": out})
	return nil
}

func (a *API) putEmote(w http.ResponseWriter, r *http.Request) error {
	ch, _, err := a.modChannel(r, true)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if !store.ValidEmoteName(name) {
		return errBadRequest("name", "an emote name is 2 to 32 of A-Z, a-z, 0-9 and _")
	}
	data, unsupported, err := readImage(r, MaxEmoteBytes, "the emote")
	if err != nil {
		return err
	}
	file, err := a.cfg.Emotes.Save(ch.ID, data)
	if errors.Is(err, channel.ErrAvatarType) {
		return unsupported
	}
	if err != nil {
		return err
	}
	ctx, cancel := background(r.Context())
	defer cancel()
	previous, err := a.cfg.Store.SetEmote(ctx, ch.ID, name, file)
	if err != nil {
		a.cfg.Emotes.Remove(file)
		if errors.Is(err, store.ErrLimit) {
			return &Error{Status: http.StatusConflict, Code: "limit", Message: fmt.Sprintf("a channel has at most %d emotes; delete one first", store.MaxEmotes)}
		}
		return err
	}
	if previous != "" {
		a.cfg.Emotes.Remove(previous)
	}
	writeJSON(w, http.StatusOK, emoteView{Name: name, URL: emoteURL(file)})
	return nil
}

func (a *API) deleteEmote(w http.ResponseWriter, r *http.Request) error {
	ch, _, err := a.modChannel(r, true)
	if err != nil {
		return err
	}
	file, err := a.cfg.Store.DeleteEmote(r.Context(), ch.ID, r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such emote"}
	}
	if err != nil {
		return err
	}
	a.cfg.Emotes.Remove(file)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// emote serves an emote image, like avatars.
func (a *API) emote(w http.ResponseWriter, r *http.Request) {
	serveUpload(w, r, a.cfg.Emotes.Dir)
}

// termsChanged makes every room re-read its blocked terms before its next message.
func (a *API) termsChanged(r *http.Request, channelID string) {
	if a.cfg.Rooms != nil {
		a.cfg.Rooms.TermsChanged(r.Context(), channelID)
	}
}

// smallReadBuffer hands the WebSocket a 1 KiB read buffer instead of
// net/http's 4 KiB: clients send small frames, and a room's idle
// connections are its memory. The 4 KiB write buffer stays, so each frame
// still leaves in one write.
type smallReadBuffer struct{ http.ResponseWriter }

func (s smallReadBuffer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent after its request (a client may send its first
	// frame without waiting for the 101) must sit in the new reader's
	// buffer, not behind it: coder/websocket keeps only what is buffered
	// (Peek(Buffered())) and resets the reader onto the bare connection.
	buffered, _ := brw.Reader.Peek(brw.Reader.Buffered()) // cannot fail: it is all buffered
	pending := bytes.Clone(buffered)
	rd := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(pending), conn), max(1024, len(pending)))
	if len(pending) > 0 {
		if _, err := rd.Peek(len(pending)); err != nil { // served from pending alone: never blocks on conn
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(rd, brw.Writer), nil
}

func (s smallReadBuffer) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// heldMessages lists the messages waiting for a moderator's review, for a
// moderator who was not connected when they were held.
func (a *API) heldMessages(w http.ResponseWriter, r *http.Request) error {
	ch, _, err := a.modChannel(r, false)
	if err != nil {
		return err
	}
	hs, err := a.cfg.Store.HeldMessages(r.Context(), ch.ID, store.MaxPageLimit)
	if err != nil {
		return err
	}
	type held struct {
		store.HeldMessage
		Message jsonRaw `json:"message"`
	}
	out := make([]held, 0, len(hs))
	for _, h := range hs {
		out = append(out, held{HeldMessage: h, Message: jsonRaw(h.Payload)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"held": out})
	return nil
}
