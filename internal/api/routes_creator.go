package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/store"
)

// channelInput is the body of POST /channels and PATCH /channels/{slug}.
type channelInput struct {
	Slug        *string   `json:"slug"`
	DisplayName *string   `json:"display_name"`
	Category    *string   `json:"category"`
	Title       *string   `json:"title"`
	Tags        *[]string `json:"tags"`
	Language    *string   `json:"language"`
	Mature      *bool     `json:"mature"`
	Bio         *string   `json:"bio"`
}

func (in channelInput) patch() store.ProfilePatch {
	return store.ProfilePatch{DisplayName: in.DisplayName, Category: in.Category, Title: in.Title, Bio: in.Bio,
		Tags: in.Tags, Language: in.Language, Mature: in.Mature}
}

// keyView reveals a stream key, once.
type keyView struct {
	StreamKey string `json:"stream_key"`
	RTMPURL   string `json:"rtmp_url"`
}

func (a *API) createChannel(w http.ResponseWriter, r *http.Request) error {
	var in channelInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	switch {
	case in.Slug == nil:
		return errBadRequest("slug", "slug is required: 3 to 40 characters from a-z, 0-9 and '-'")
	case in.DisplayName == nil:
		return errBadRequest("display_name", "display_name is required")
	case in.Category == nil:
		return errBadRequest("category", "category is required; see %s/categories", apiPrefix)
	}
	p := principal(r)
	profile := in.patch()
	nc := store.NewChannel{Slug: *in.Slug, OwnerID: p.User.ID}
	if p.User.Role != store.RoleAdmin {
		nc.MaxOwned = a.cfg.MaxChannelsPerUser
	}
	nc.Profile = profile.Apply(store.Profile{})
	ch, key, err := a.cfg.Store.CreateChannelWith(r.Context(), nc)
	a.cfg.Accounts.ForgetUser(p.User.ID) // a viewer who creates a channel becomes a creator
	if errors.Is(err, store.ErrTooManyChannels) {
		return &Error{Status: http.StatusConflict, Code: "conflict",
			Message: "you have reached the limit of channels per account"}
	}
	if errors.Is(err, store.ErrExists) {
		return &Error{Status: http.StatusConflict, Code: "conflict", Field: "slug", Message: "this slug is taken; pick another"}
	}
	if err != nil {
		return err
	}
	a.log.Info("channel created by user", "channel", ch.Slug, "user_id", p.User.ID)
	v, err := a.channelView(r, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Channel ChannelView `json:"channel"`
		keyView
	}{v, keyView{StreamKey: key, RTMPURL: a.rtmpURL()}})
	return nil
}

func (a *API) updateChannel(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	var in channelInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Slug != nil && *in.Slug != ch.Slug {
		return errBadRequest("slug", "a channel's slug cannot change")
	}
	ch, err = a.cfg.Store.UpdateProfile(r.Context(), ch.ID, in.patch())
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

func (a *API) rotateKey(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	key, err := a.cfg.Store.RotateKey(r.Context(), ch.Slug)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyView{StreamKey: key, RTMPURL: a.rtmpURL()})
	return nil
}

// putAvatar takes the raw image as the body. Its type is decided by
// content sniffing, whatever the Content-Type says; a declared type that is
// not an image is refused before reading.
func (a *API) putAvatar(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	data, unsupported, err := readImage(r, channel.MaxAvatarBytes, "the avatar")
	if err != nil {
		return err
	}
	name, err := a.cfg.Avatars.Save(ch.ID, data)
	if errors.Is(err, channel.ErrAvatarType) {
		unsupported.Message = err.Error()
		return unsupported
	}
	if err != nil {
		return err
	}
	ctx, cancel := background(r.Context())
	defer cancel()
	previous, err := a.cfg.Store.SetAvatar(ctx, ch.ID, name)
	if err != nil {
		a.cfg.Avatars.Remove(name)
		return err
	}
	if previous != "" {
		a.cfg.Avatars.Remove(previous)
	}
	writeJSON(w, http.StatusOK, map[string]string{"avatar_url": avatarURL(name)})
	return nil
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOrAdmin)
	if err != nil {
		return err
	}
	st, ok := a.cfg.Live.StatusOf(ch.Slug)
	if !ok {
		return notFound("channel " + ch.Slug + " is not live")
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (a *API) broadcasts(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOrAdmin)
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
	t := now()
	out := make([]BroadcastView, 0, len(ss))
	for _, s := range ss {
		out = append(out, broadcastView(s, t))
	}
	writeJSON(w, http.StatusOK, page[BroadcastView]{Items: out, NextCursor: next})
	return nil
}

// WebhookView describes a webhook; Secret appears only when it is created.
type WebhookView struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"secret,omitempty"`
}

func webhookView(h store.Webhook) WebhookView {
	return WebhookView{ID: h.ID, URL: h.URL, Events: h.Events, CreatedAt: h.CreatedAt}
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	hs, err := a.cfg.Store.Webhooks(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	out := make([]WebhookView, 0, len(hs))
	for _, h := range hs {
		out = append(out, webhookView(h))
	}
	writeJSON(w, http.StatusOK, page[WebhookView]{Items: out})
	return nil
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	var in struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	h, secret, err := a.cfg.Store.CreateWebhook(r.Context(), ch.ID, in.URL, in.Events)
	if err != nil {
		return err
	}
	v := webhookView(h)
	v.Secret = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.DeleteWebhook(r.Context(), ch.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.loadChannel(r, ownerOnly)
	if err != nil {
		return err
	}
	hs, err := a.cfg.Store.Webhooks(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	found := false
	for _, h := range hs {
		found = found || h.ID == id
	}
	if !found {
		return notFound("no webhook " + id + " on channel " + ch.Slug)
	}
	pg, err := pageParams(r)
	if err != nil {
		return err
	}
	ds, next, err := a.cfg.Store.DeliveriesPage(r.Context(), id, pg)
	if err != nil {
		return err
	}
	type deliveryView struct {
		ID            string     `json:"id"`
		Event         string     `json:"event"`
		State         string     `json:"state"`
		Attempts      int        `json:"attempts"`
		LastStatus    int        `json:"last_status"`
		LastError     string     `json:"last_error,omitempty"`
		NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
		CreatedAt     time.Time  `json:"created_at"`
		Payload       any        `json:"payload"`
	}
	out := make([]deliveryView, 0, len(ds))
	for _, d := range ds {
		v := deliveryView{ID: d.ID, Event: d.Event, State: d.State, Attempts: d.Attempts, LastStatus: d.LastStatus,
			LastError: d.LastError, CreatedAt: d.CreatedAt, Payload: rawJSON(d.Payload)}
		if d.State == store.DeliveryPending {
			next := d.NextAttemptAt
			v.NextAttemptAt = &next
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, page[deliveryView]{Items: out, NextCursor: next})
	return nil
}

// readImage reads an uploaded PNG, JPEG or WebP body of at most max bytes.
// The returned error for a wrong type is also returned on its own, for the
// caller to fill with what the content check found.
func readImage(r *http.Request, max int64, what string) ([]byte, *Error, error) {
	unsupported := &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: what + " must be a PNG, JPEG or WebP image"}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "image/png" && mt != "image/jpeg" && mt != "image/webp" && mt != "application/octet-stream") {
			return nil, unsupported, unsupported
		}
	}
	tooLarge := &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
		Message: fmt.Sprintf("%s is larger than %d KB", what, max>>10)}
	if r.ContentLength > max {
		return nil, unsupported, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(len(data)) > max {
		return nil, unsupported, tooLarge
	}
	if err != nil {
		return nil, unsupported, &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "cannot read the body"}
	}
	if len(data) == 0 {
		return nil, unsupported, &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "the body is empty; send the image"}
	}
	return data, unsupported, nil
}
