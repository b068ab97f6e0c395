package api

import (
	"context"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// Store is what the API reads and writes.
type Store interface {
	// Channels
	ChannelBySlug(ctx context.Context, slug string) (store.Channel, error)
	ChannelsOf(ctx context.Context, userID string) ([]store.Channel, error)
	CreateChannelWith(ctx context.Context, nc store.NewChannel) (store.Channel, string, error)
	UpdateProfile(ctx context.Context, channelID string, patch store.ProfilePatch) (store.Channel, error)
	SetAvatar(ctx context.Context, channelID, file string) (string, error)
	SetSuspended(ctx context.Context, channelID string, suspended bool) error
	RotateKey(ctx context.Context, slug string) (string, error)
	Directory(ctx context.Context, q store.DirectoryQuery) ([]store.Listing, string, error)
	ListingOf(ctx context.Context, channelID string) (store.Listing, error)
	LiveCounts(ctx context.Context) (map[string]int, error)
	// Broadcasts
	ListSessions(ctx context.Context, channelID string, limit int) ([]store.Session, error)
	ListSessionsPage(ctx context.Context, channelID string, page store.Page) ([]store.Session, string, error)
	LastEndedSession(ctx context.Context, channelID string) (store.Session, error)
	// Users
	UserByID(ctx context.Context, id string) (store.User, error)
	UpdateUser(ctx context.Context, id string, patch store.UserPatch) (store.User, error)
	ListUsers(ctx context.Context, q store.UserQuery) ([]store.User, string, error)
	DeleteUserAuthSessions(ctx context.Context, userID string) error
	DeleteUserAPITokens(ctx context.Context, userID string) error
	CreateAPIToken(ctx context.Context, userID, name string) (store.APIToken, string, error)
	ListAPITokens(ctx context.Context, userID string) ([]store.APIToken, error)
	DeleteAPIToken(ctx context.Context, userID, tokenID string) error
	// Follows and notifications
	Follow(ctx context.Context, userID, channelID string) error
	Unfollow(ctx context.Context, userID, channelID string) error
	IsFollowing(ctx context.Context, userID, channelID string) (bool, error)
	FollowerCount(ctx context.Context, channelID string) (int, error)
	Notifications(ctx context.Context, userID string, page store.Page) ([]store.Notification, string, int, error)
	MarkNotificationsRead(ctx context.Context, userID string) error
	// Webhooks
	CreateWebhook(ctx context.Context, channelID, rawURL string, events []string) (store.Webhook, string, error)
	Webhooks(ctx context.Context, channelID string) ([]store.Webhook, error)
	DeleteWebhook(ctx context.Context, channelID, id string) error
	DeliveriesPage(ctx context.Context, webhookID string, page store.Page) ([]store.Delivery, string, error)
	// Realtime (moderation lists and the stream-clock replay)
	Moderators(ctx context.Context, channelID string) ([]string, error)
	AuditLog(ctx context.Context, channelID string, page store.Page) ([]store.AuditEntry, string, error)
	BlockedTerms(ctx context.Context, channelID string) ([]store.BlockedTerm, error)
	HeldMessages(ctx context.Context, channelID string, limit int) ([]store.HeldMessage, error)
	SetBlockedTerm(ctx context.Context, t store.BlockedTerm) error
	RemoveBlockedTerm(ctx context.Context, channelID, term string) error
	SetEmote(ctx context.Context, channelID, name, file string) (string, error)
	DeleteEmote(ctx context.Context, channelID, name string) (string, error)
	Emotes(ctx context.Context, channelID string) ([]store.Emote, error)
	BroadcastEvents(ctx context.Context, broadcastID string, afterMediaMS, afterSeq int64, limit int) ([]store.RoomEvent, error)
	// Settings
	Setting(ctx context.Context, name string) (string, error)
	PutSetting(ctx context.Context, name, value string) error
}

var _ Store = (*store.Store)(nil)

// now is the API's clock.
func now() time.Time { return time.Now() }
