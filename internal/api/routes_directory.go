package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

// maxSearch bounds ?q= in characters.
const maxSearch = 100

func (a *API) categories(w http.ResponseWriter, r *http.Request) error {
	counts, err := a.cfg.Store.LiveCounts(r.Context())
	if err != nil {
		return err
	}
	type categoryView struct {
		Slug      string `json:"slug"`
		Name      string `json:"name"`
		LiveCount int    `json:"live_count"`
	}
	var out []categoryView
	for _, c := range store.Categories() {
		out = append(out, categoryView{Slug: c.Slug, Name: c.Name, LiveCount: counts[c.Slug]})
	}
	writeJSON(w, http.StatusOK, page[categoryView]{Items: out})
	return nil
}

// directoryQuery reads the directory's query parameters.
func (a *API) directoryQuery(r *http.Request) (store.DirectoryQuery, error) {
	q := r.URL.Query()
	var dq store.DirectoryQuery
	var err error
	if dq.Page, err = pageParams(r); err != nil {
		return dq, err
	}
	if dq.LiveOnly, err = boolParam(r, "live"); err != nil {
		return dq, err
	}
	if c := q.Get("category"); c != "" {
		if !store.IsCategory(c) {
			return dq, errBadRequest("category", "%q is not a category; see %s/categories", c, apiPrefix)
		}
		dq.Category = c
	}
	if t := q.Get("tag"); t != "" {
		if dq.Tag, err = store.NormalizeTag(t); err != nil {
			return dq, errBadRequest("tag", "tags are 1 to %d letters, digits or '-'", store.MaxTagLen)
		}
	}
	search := strings.TrimSpace(q.Get("q"))
	if !utf8.ValidString(search) || utf8.RuneCountInString(search) > maxSearch {
		return dq, errBadRequest("q", "search text must be valid UTF-8 of at most %d characters", maxSearch)
	}
	dq.Search = search
	following, err := boolParam(r, "following")
	if err != nil {
		return dq, err
	}
	if following {
		p := principal(r)
		if p == nil {
			return dq, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "sign in to see the channels you follow"}
		}
		dq.FollowedBy = p.User.ID
	}
	return dq, nil
}

func (a *API) directory(w http.ResponseWriter, r *http.Request) error {
	dq, err := a.directoryQuery(r)
	if err != nil {
		return err
	}
	ls, next, err := a.cfg.Store.Directory(r.Context(), dq)
	if err != nil {
		return err
	}
	out := make([]CardView, 0, len(ls))
	for _, l := range ls {
		out = append(out, cardView(l))
	}
	writeJSON(w, http.StatusOK, page[CardView]{Items: out, NextCursor: next})
	return nil
}

// channelAccess is what a handler needs to do with a channel.
type channelAccess int

const (
	readChannel  channelAccess = iota // anyone; suspended channels only for the owner and admins
	ownerOnly                         // the owner
	ownerOrAdmin                      // the owner or an admin
	// spendTarget is readChannel for gifts and tips, read through a cache
	// of a second (spendCache): a burst of gifts reads the channel once.
	spendTarget
)

// loadChannel reads the {slug} channel and checks the caller may use it.
func (a *API) loadChannel(r *http.Request, need channelAccess) (store.Channel, error) {
	slug := r.PathValue("slug")
	if err := store.ValidateSlug(slug); err != nil {
		return store.Channel{}, errBadRequest("slug", "%s", err.Error())
	}
	lookup := a.cfg.Store.ChannelBySlug
	if need == spendTarget {
		lookup = a.spendChans.lookup(a.cfg.Store.ChannelBySlug)
	}
	if ch, ok := r.Context().Value(loadedChannelKey{}).(store.Channel); ok && ch.Slug == slug {
		lookup = func(context.Context, string) (store.Channel, error) { return ch, nil } // read by wrap
	}
	ch, err := lookup(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return store.Channel{}, notFound("no channel " + slug)
	}
	if err != nil {
		return store.Channel{}, err
	}
	p := principal(r)
	isOwner := p != nil && ch.OwnerID != "" && p.User.ID == ch.OwnerID
	isAdmin := p != nil && p.User.Role == store.RoleAdmin
	switch need {
	case ownerOnly:
		if !isOwner {
			return ch, errNotOwner // the channel, for authorizeChannel's moderator check
		}
	case ownerOrAdmin:
		if !isOwner && !isAdmin {
			return ch, errNotOwner // the channel, for authorizeChannel's moderator check
		}
	default:
		if !isOwner && !isAdmin && !a.visible(r, ch) {
			return store.Channel{}, notFound("no channel " + slug)
		}
	}
	return ch, nil
}

// visible reports whether the public may see the channel: it is not
// suspended and its owner is active.
func (a *API) visible(r *http.Request, ch store.Channel) bool {
	if ch.Suspended {
		return false
	}
	if ch.OwnerID == "" {
		return true
	}
	if ch.OwnerStatus != "" {
		return ch.OwnerStatus == store.StatusActive
	}
	u, err := a.cfg.Store.UserByID(r.Context(), ch.OwnerID)
	return err == nil && u.Status == store.StatusActive
}

func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	v, err := a.channelView(r, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// channelView builds a channel's page: live state from the live manager
// (authoritative on this node), figures from the store.
func (a *API) channelView(r *http.Request, ch store.Channel) (ChannelView, error) {
	ctx := r.Context()
	l, err := a.cfg.Store.ListingOf(ctx, ch.ID)
	if err != nil {
		return ChannelView{}, err
	}
	v := ChannelView{CardView: cardView(l), Bio: ch.Profile.Bio, PlaybackURL: "/hls/" + ch.Slug + "/index.m3u8",
		CreatedAt: ch.CreatedAt}
	if st, ok := a.cfg.Live.StatusOf(ch.Slug); ok {
		started := st.StartedAt
		v.Live, v.Status, v.StartedAt = true, &st, &started
		v.ThumbnailURL = thumbnailURL(ch.Slug, st.BroadcastID)
		if n, ok := a.cfg.Viewers.Count(ch.Slug); ok {
			v.Viewers = n
		}
	} else {
		v.Live, v.Viewers, v.StartedAt, v.ThumbnailURL = false, 0, nil, ""
		if last, err := a.cfg.Store.LastEndedSession(ctx, ch.ID); err == nil {
			b := broadcastView(last, now())
			v.LastBroadcast = &b
			if a.thumbnailExists(ch.Slug) {
				v.ThumbnailURL = thumbnailURL(ch.Slug, last.BroadcastID)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return ChannelView{}, err
		}
	}
	if v.Followers, err = a.cfg.Store.FollowerCount(ctx, ch.ID); err != nil {
		return ChannelView{}, err
	}
	if ch.OwnerID != "" {
		if u, err := a.cfg.Store.UserByID(ctx, ch.OwnerID); err == nil {
			v.Owner = &OwnerView{ID: u.ID, DisplayName: u.DisplayName}
		}
	}
	if p := principal(r); p != nil {
		following, err := a.cfg.Store.IsFollowing(ctx, p.User.ID, ch.ID)
		if err != nil {
			return ChannelView{}, err
		}
		v.Following = &following
		if p.User.ID == ch.OwnerID || p.User.Role == store.RoleAdmin {
			suspended := ch.Suspended
			v.Suspended, v.RTMPURL = &suspended, a.rtmpURL()
		}
	}
	return v, nil
}

func (a *API) myChannels(w http.ResponseWriter, r *http.Request) error {
	chs, err := a.cfg.Store.ChannelsOf(r.Context(), principal(r).User.ID)
	if err != nil {
		return err
	}
	out := make([]ChannelView, 0, len(chs))
	for _, ch := range chs {
		v, err := a.channelView(r, ch)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, page[ChannelView]{Items: out})
	return nil
}

// listLive is the video core's monitoring listing of broadcasts on the air.
// It is every broadcast on this node, in one page.
func (a *API) listLive(w http.ResponseWriter, r *http.Request) error {
	st := a.cfg.Live.Status()
	if st == nil {
		st = []live.Status{}
	}
	writeJSON(w, http.StatusOK, page[live.Status]{Items: st})
	return nil
}

// listSessions is the video core's public broadcast history, kept for
// tools built on it; GET /channels/{slug}/broadcasts is the paginated,
// owner-only listing with viewer figures.
func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	pg, err := pageParams(r)
	if err != nil {
		return err
	}
	ss, next, err := a.cfg.Store.ListSessionsPage(r.Context(), ch.ID, pg)
	if err != nil {
		return err
	}
	type sessionView struct {
		BroadcastID string          `json:"broadcast_id"`
		StartedAt   any             `json:"started_at"`
		EndedAt     any             `json:"ended_at,omitempty"`
		EndReason   string          `json:"end_reason,omitempty"`
		Ladder      json.RawMessage `json:"ladder"`
	}
	out := make([]sessionView, 0, len(ss))
	for _, s := range ss {
		v := sessionView{BroadcastID: s.BroadcastID, StartedAt: s.StartedAt, EndReason: s.EndReason, Ladder: json.RawMessage(s.Ladder)}
		if !s.EndedAt.IsZero() {
			v.EndedAt = s.EndedAt
		}
		if !json.Valid(v.Ladder) {
			v.Ladder = json.RawMessage("null")
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, page[sessionView]{Items: out, NextCursor: next})
	return nil
}
