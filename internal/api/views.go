package api

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

// UserView is a user as the API shows it to the user themself and to admins.
type UserView struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

func userView(u store.User) UserView {
	return UserView{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role, Status: u.Status, CreatedAt: u.CreatedAt}
}

// OwnerView is a channel's owner as anyone sees it.
type OwnerView struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email,omitempty"` // admins only
}

// CardView is a channel in a directory listing. Text fields are the
// owner's verbatim input: render them as text, never as HTML.
type CardView struct {
	Slug         string     `json:"slug"`
	DisplayName  string     `json:"display_name"`
	Title        string     `json:"title"`
	Category     string     `json:"category"`
	Tags         []string   `json:"tags"`
	Language     string     `json:"language"`
	Mature       bool       `json:"mature"`
	AvatarURL    string     `json:"avatar_url"`
	Live         bool       `json:"live"`
	Viewers      int        `json:"viewers"`
	ThumbnailURL string     `json:"thumbnail_url"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
}

func cardView(l store.Listing) CardView {
	c := CardView{
		Slug: l.Slug, DisplayName: l.DisplayName, Title: l.Profile.Title, Category: l.Profile.Category,
		Tags: l.Profile.Tags, Language: l.Profile.Language, Mature: l.Profile.Mature, AvatarURL: avatarURL(l.Avatar),
	}
	if c.Tags == nil {
		c.Tags = []string{} // the UI reads tags as a list, never null
	}
	if l.Live {
		started := l.StartedAt
		c.Live, c.Viewers, c.StartedAt = true, l.Viewers, &started
		c.ThumbnailURL = thumbnailURL(l.Slug, l.BroadcastID)
	}
	return c
}

func avatarURL(file string) string {
	if file == "" {
		return ""
	}
	return "/avatars/" + file
}

func thumbnailURL(slug, broadcast string) string {
	return "/thumbnails/" + slug + ".jpg?b=" + url.QueryEscape(broadcast)
}

// ChannelView is one channel's page.
type ChannelView struct {
	CardView
	Bio         string     `json:"bio"`
	Owner       *OwnerView `json:"owner"`
	Followers   int        `json:"followers"`
	PlaybackURL string     `json:"playback_url"`
	CreatedAt   time.Time  `json:"created_at"`
	// Status is the live health block while the channel is on the air.
	Status        *live.Status   `json:"status,omitempty"`
	LastBroadcast *BroadcastView `json:"last_broadcast,omitempty"`
	// Following is set when the caller is signed in.
	Following *bool `json:"following,omitempty"`
	// Suspended and RTMPURL (where to publish; the key is never shown
	// here) are shown to the owner and admins only.
	Suspended *bool  `json:"suspended,omitempty"`
	RTMPURL   string `json:"rtmp_url,omitempty"`
}

// BroadcastView is one past or current broadcast.
type BroadcastView struct {
	BroadcastID string     `json:"broadcast_id"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Live        bool       `json:"live"`
	Viewers     int        `json:"viewers"`
	PeakViewers int        `json:"peak_viewers"`
	AvgViewers  float64    `json:"avg_viewers"`
	EndReason   string     `json:"end_reason,omitempty"`
}

func broadcastView(s store.Session, now time.Time) BroadcastView {
	v := BroadcastView{BroadcastID: s.BroadcastID, StartedAt: s.StartedAt, Live: s.Live(), PeakViewers: s.PeakViewers,
		AvgViewers: float64(int(s.AvgViewers(now)*10+0.5)) / 10, EndReason: s.EndReason}
	if s.Live() {
		v.Viewers = s.Viewers
	} else {
		end := s.EndedAt
		v.EndedAt = &end
	}
	return v
}

// AdminChannelView is a channel in the admin listing.
type AdminChannelView struct {
	CardView
	Owner     *OwnerView `json:"owner"`
	Status    string     `json:"status"` // active | suspended (moderation)
	CreatedAt time.Time  `json:"created_at"`
}

// thumbnailExists reports whether a channel has a thumbnail on disk (the
// last broadcast's, when offline).
func (a *API) thumbnailExists(slug string) bool {
	if a.cfg.ThumbnailDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(a.cfg.ThumbnailDir, slug+".jpg"))
	return err == nil
}

// rawJSON embeds stored JSON text as JSON, or null if it is not valid.
func rawJSON(s string) json.RawMessage {
	if !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}
