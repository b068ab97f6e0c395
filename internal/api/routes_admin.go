package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/livehouse/livehouse/internal/store"
	"github.com/livehouse/livehouse/internal/transcode"
)

// SettingLadder names the stored transcoding ladder (JSON).
const SettingLadder = "ladder"

func (a *API) adminUsers(w http.ResponseWriter, r *http.Request) error {
	pg, err := pageParams(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxSearch {
		return errBadRequest("q", "search text must be at most %d characters", maxSearch)
	}
	us, next, err := a.cfg.Store.ListUsers(r.Context(), store.UserQuery{Search: q, Page: pg})
	if err != nil {
		return err
	}
	out := make([]UserView, 0, len(us))
	for _, u := range us {
		out = append(out, userView(u))
	}
	writeJSON(w, http.StatusOK, page[UserView]{Items: out, NextCursor: next})
	return nil
}

// adminUpdateUser changes a user's role or status. Suspending or banning
// takes the user's channels off the air at once; banning also signs the
// user out everywhere and revokes their API tokens.
func (a *API) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Role   *string `json:"role"`
		Status *string `json:"status"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if id == principal(r).User.ID && (in.Role != nil && *in.Role != store.RoleAdmin || in.Status != nil && *in.Status != store.StatusActive) {
		return errBadRequest("", "admins cannot demote, suspend or ban themselves; ask another admin")
	}
	ctx, cancel := background(r.Context())
	defer cancel()
	u, err := a.cfg.Store.UpdateUser(ctx, id, store.UserPatch{Role: in.Role, Status: in.Status})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no user " + id)
	}
	if err != nil {
		return err
	}
	a.cfg.Accounts.ForgetUser(u.ID)
	a.spendChans.clear() // the user may own channels
	if u.Status != store.StatusActive && a.cfg.Rooms != nil {
		// Its open chat sockets drop; a reconnect is anonymous.
		if err := a.cfg.Rooms.KickUser(ctx, u.ID); err != nil {
			a.log.Warn("chat sockets of a "+u.Status+" user not closed on every node", "user_id", u.ID, "err", err)
		}
	}
	if u.Status != store.StatusActive {
		chs, err := a.cfg.Store.ChannelsOf(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			if a.cfg.Live.Kick(ch.ID, "owner "+u.Status+" by an admin") {
				a.log.Warn("broadcast ended: its owner was "+u.Status, "channel", ch.Slug, "user_id", u.ID)
			}
		}
	}
	if u.Status == store.StatusBanned {
		if err := errors.Join(a.cfg.Store.DeleteUserAuthSessions(ctx, u.ID), a.cfg.Store.DeleteUserAPITokens(ctx, u.ID)); err != nil {
			return err
		}
	}
	a.log.Info("admin changed a user", "admin_id", principal(r).User.ID, "user_id", u.ID, "role", u.Role, "status", u.Status)
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}

func (a *API) adminChannels(w http.ResponseWriter, r *http.Request) error {
	pg, err := pageParams(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxSearch {
		return errBadRequest("q", "search text must be at most %d characters", maxSearch)
	}
	ls, next, err := a.cfg.Store.Directory(r.Context(), store.DirectoryQuery{Search: q, Moderation: true, Page: pg})
	if err != nil {
		return err
	}
	out := make([]AdminChannelView, 0, len(ls))
	owners := map[string]*OwnerView{}
	for _, l := range ls {
		v := AdminChannelView{CardView: cardView(l), Status: moderation(l.Suspended), CreatedAt: l.CreatedAt}
		if l.OwnerID != "" {
			if _, ok := owners[l.OwnerID]; !ok {
				if u, err := a.cfg.Store.UserByID(r.Context(), l.OwnerID); err == nil {
					owners[l.OwnerID] = &OwnerView{ID: u.ID, DisplayName: u.DisplayName, Email: u.Email}
				}
			}
			v.Owner = owners[l.OwnerID]
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, page[AdminChannelView]{Items: out, NextCursor: next})
	return nil
}

func moderation(suspended bool) string {
	if suspended {
		return "suspended"
	}
	return "active"
}

// adminUpdateChannel suspends or reinstates a channel. Suspending takes it
// off the air at once and refuses its stream key.
func (a *API) adminUpdateChannel(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Status != "active" && in.Status != "suspended" {
		return errBadRequest("status", "status must be \"active\" or \"suspended\"")
	}
	ctx, cancel := background(r.Context())
	defer cancel()
	suspend := in.Status == "suspended"
	if err := a.cfg.Store.SetSuspended(ctx, ch.ID, suspend); err != nil {
		return err
	}
	a.spendChans.clear()
	if suspend && a.cfg.Live.Kick(ch.ID, "channel suspended by an admin") {
		a.log.Warn("broadcast ended: channel suspended", "channel", ch.Slug)
	}
	if suspend && a.cfg.Rooms != nil {
		// The chat endpoint refuses a suspended channel; its open sockets close.
		if err := a.cfg.Rooms.CloseRoom(ctx, ch.ID); err != nil {
			a.log.Warn("chat of a suspended channel not closed on every node", "channel", ch.Slug, "err", err)
		}
	}
	a.log.Info("admin changed a channel", "admin_id", principal(r).User.ID, "channel", ch.Slug, "status", in.Status)
	l, err := a.cfg.Store.ListingOf(ctx, ch.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AdminChannelView{CardView: cardView(l), Status: moderation(l.Suspended), CreatedAt: l.CreatedAt})
	return nil
}

type settingsView struct {
	Ladder transcode.Ladder `json:"ladder"`
}

func (a *API) adminSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, settingsView{Ladder: a.cfg.Live.Ladder()})
	return nil
}

// adminPutSettings validates and stores the settings; the ladder applies to
// broadcasts that start afterwards, and survives restarts.
func (a *API) adminPutSettings(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Ladder json.RawMessage `json:"ladder"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if len(in.Ladder) == 0 {
		return errBadRequest("ladder", "ladder is required; see docs/OPERATIONS.md for its shape")
	}
	l, err := transcode.ParseLadder(in.Ladder)
	if err != nil {
		return errBadRequest("ladder", "%s", err.Error())
	}
	canonical, err := json.Marshal(l)
	if err != nil {
		return err
	}
	ctx, cancel := background(r.Context())
	defer cancel()
	if err := a.cfg.Store.PutSetting(ctx, SettingLadder, string(canonical)); err != nil {
		return err
	}
	if err := a.cfg.Live.SetLadder(l); err != nil {
		return errBadRequest("ladder", "%s", err.Error())
	}
	a.log.Info("admin changed the transcoding ladder", "admin_id", principal(r).User.ID)
	writeJSON(w, http.StatusOK, settingsView{Ladder: l})
	return nil
}
