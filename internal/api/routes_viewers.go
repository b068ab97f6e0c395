package api

import (
	"errors"
	"mime"
	"net/http"
	"regexp"
	"time"

	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/store"
)

var viewerIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// heartbeat counts a player as a viewer for the next 30 s. It needs no
// sign-in and no CSRF token: it changes no one's data, and a forged one can
// do no more than the rate limit allows. text/plain bodies are accepted so
// that players can use navigator.sendBeacon. One network of anonymous
// players, or one signed-in account, counts as at most a household of
// viewers (channel.ViewersConfig.MaxPerNetwork): further ids
// get 204 like the others but are not counted, so a script learns nothing.
// A channel not live on this node gets 404.
func (a *API) heartbeat(w http.ResponseWriter, r *http.Request) error {
	slug := r.PathValue("slug")
	if err := store.ValidateSlug(slug); err != nil {
		return errBadRequest("slug", "%s", err.Error())
	}
	// A signed-in viewer is its own "network": an office or a campus behind
	// one address (an all-hands, a class) counts every signed-in person,
	// while anonymous players from one address count as a household.
	network := a.clientKey(r)
	if p := principal(r); p != nil {
		network = "user:" + p.User.ID
	}
	if d, ok := a.heartbeats.Take(network); !ok {
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many heartbeats from your network; send one every 15 s", RetryAfter: d}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && mt != "text/plain") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "send {\"viewer_id\": \"...\"} as application/json (or text/plain)"}
	}
	var in struct {
		ViewerID string `json:"viewer_id"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	if !viewerIDRE.MatchString(in.ViewerID) {
		return errBadRequest("viewer_id", "viewer_id must be 8 to 64 characters from A-Z, a-z, 0-9, '_' and '-'")
	}
	if err := a.cfg.Viewers.Beat(slug, in.ViewerID, network); errors.Is(err, channel.ErrNotLive) {
		return &Error{Status: http.StatusNotFound, Code: "not_live", Message: "this channel is not live; heartbeats count viewers of live channels"}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) follow(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, readChannel)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.Follow(r.Context(), principal(r).User.ID, ch.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) unfollow(w http.ResponseWriter, r *http.Request) error {
	slug := r.PathValue("slug")
	if err := store.ValidateSlug(slug); err != nil {
		return errBadRequest("slug", "%s", err.Error())
	}
	ch, err := a.cfg.Store.ChannelBySlug(r.Context(), slug)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.Unfollow(r.Context(), principal(r).User.ID, ch.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// NotificationView is one notification with its channel's current card.
type NotificationView struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Channel     CardView  `json:"channel"`
	BroadcastID string    `json:"broadcast_id"`
	CreatedAt   time.Time `json:"created_at"`
	Read        bool      `json:"read"`
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request) error {
	pg, err := pageParams(r)
	if err != nil {
		return err
	}
	ns, next, unread, err := a.cfg.Store.Notifications(r.Context(), principal(r).User.ID, pg)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(ns))
	for _, n := range ns {
		ids = append(ids, n.ChannelID)
	}
	cards := map[string]CardView{}
	if len(ids) > 0 {
		ls, _, err := a.cfg.Store.Directory(r.Context(), store.DirectoryQuery{IDs: ids, Page: store.Page{Limit: store.MaxPageLimit}})
		if err != nil {
			return err
		}
		for _, l := range ls {
			cards[l.ID] = cardView(l)
		}
	}
	out := make([]NotificationView, 0, len(ns))
	for _, n := range ns {
		card, ok := cards[n.ChannelID]
		if !ok {
			continue // the channel is hidden now (suspended)
		}
		out = append(out, NotificationView{ID: n.ID, Kind: n.Kind, Channel: card, BroadcastID: n.BroadcastID,
			CreatedAt: n.CreatedAt, Read: n.Read})
	}
	writeJSON(w, http.StatusOK, struct {
		page[NotificationView]
		Unread int `json:"unread"`
	}{page[NotificationView]{Items: out, NextCursor: next}, unread})
	return nil
}

func (a *API) markRead(w http.ResponseWriter, r *http.Request) error {
	if err := a.cfg.Store.MarkNotificationsRead(r.Context(), principal(r).User.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
