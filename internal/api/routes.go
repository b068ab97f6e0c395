package api

import "github.com/livehouse/livehouse/internal/channel"

// routes is the whole API under /api/v1. The OpenAPI document must list
// every one of them (a test checks it).
func (a *API) routes() []Route {
	return []Route{
		// Accounts (routes_auth.go)
		{Method: "POST", Path: "/auth/signup", Access: Public, handler: a.signUp},
		{Method: "POST", Path: "/auth/signin", Access: Public, handler: a.signIn},
		{Method: "POST", Path: "/auth/signout", Access: SignedIn, handler: a.signOut},
		{Method: "GET", Path: "/auth/me", Access: SignedIn, handler: a.me},
		{Method: "PATCH", Path: "/me", Access: SignedIn, handler: a.updateMe},
		{Method: "POST", Path: "/me/password", Access: SessionOnly, handler: a.changePassword},
		{Method: "GET", Path: "/me/tokens", Access: SessionOnly, handler: a.listTokens},
		{Method: "POST", Path: "/me/tokens", Access: SessionOnly, handler: a.createToken},
		{Method: "DELETE", Path: "/me/tokens/{id}", Access: SessionOnly, handler: a.deleteToken},
		{Method: "GET", Path: "/me/channels", Access: SignedIn, handler: a.myChannels},

		// Directory (routes_directory.go)
		{Method: "GET", Path: "/categories", Access: Public, handler: a.categories},
		{Method: "GET", Path: "/channels", Access: Public, handler: a.directory},
		{Method: "GET", Path: "/channels/{slug}", Access: Public, handler: a.getChannel},
		{Method: "GET", Path: "/live", Access: Public, handler: a.listLive},
		{Method: "GET", Path: "/channels/{slug}/sessions", Access: Public, handler: a.listSessions},

		// Creators (routes_creator.go)
		{Method: "POST", Path: "/channels", Access: SignedIn, handler: a.createChannel},
		{Method: "PATCH", Path: "/channels/{slug}", Access: SignedIn, OwnerOrAdmin: true, handler: a.updateChannel},
		{Method: "POST", Path: "/channels/{slug}/key", Access: SignedIn, Owner: true, handler: a.rotateKey},
		{Method: "PUT", Path: "/channels/{slug}/avatar", Access: SignedIn, OwnerOrAdmin: true,
			Body: channel.MaxAvatarBytes + 1, handler: a.putAvatar},
		{Method: "GET", Path: "/channels/{slug}/health", Access: SignedIn, OwnerOrAdmin: true, handler: a.health},
		{Method: "GET", Path: "/channels/{slug}/broadcasts", Access: SignedIn, OwnerOrAdmin: true, handler: a.broadcasts},
		{Method: "GET", Path: "/channels/{slug}/webhooks", Access: SignedIn, Owner: true, handler: a.listWebhooks},
		{Method: "POST", Path: "/channels/{slug}/webhooks", Access: SignedIn, Owner: true, handler: a.createWebhook},
		{Method: "DELETE", Path: "/channels/{slug}/webhooks/{id}", Access: SignedIn, Owner: true, handler: a.deleteWebhook},
		{Method: "GET", Path: "/channels/{slug}/webhooks/{id}/deliveries", Access: SignedIn, Owner: true, handler: a.listDeliveries},

		// Viewers (routes_viewers.go)
		{Method: "POST", Path: "/channels/{slug}/heartbeat", Access: Public, NoCSRF: true, handler: a.heartbeat},
		{Method: "PUT", Path: "/channels/{slug}/follow", Access: SignedIn, handler: a.follow},
		{Method: "DELETE", Path: "/channels/{slug}/follow", Access: SignedIn, handler: a.unfollow},
		{Method: "GET", Path: "/me/notifications", Access: SignedIn, handler: a.notifications},
		{Method: "POST", Path: "/me/notifications/read", Access: SignedIn, handler: a.markRead},

		// Realtime (routes_realtime.go; the room protocol is docs/REALTIME.md)
		{Method: "GET", Path: "/channels/{slug}/chat", Access: Public, handler: a.chat},
		{Method: "GET", Path: "/broadcasts/{id}/events", Access: Public, handler: a.broadcastEvents},
		{Method: "GET", Path: "/channels/{slug}/moderators", Access: SignedIn, handler: a.listModerators},
		{Method: "PUT", Path: "/channels/{slug}/moderators/{user_id}", Access: SignedIn, handler: a.addModerator},
		{Method: "DELETE", Path: "/channels/{slug}/moderators/{user_id}", Access: SignedIn, handler: a.removeModerator},
		{Method: "GET", Path: "/channels/{slug}/audit", Access: SignedIn, handler: a.auditLog},
		{Method: "GET", Path: "/channels/{slug}/held", Access: SignedIn, handler: a.heldMessages},
		{Method: "GET", Path: "/channels/{slug}/blocked-terms", Access: SignedIn, handler: a.listBlockedTerms},
		{Method: "PUT", Path: "/channels/{slug}/blocked-terms", Access: SignedIn, handler: a.putBlockedTerm},
		{Method: "DELETE", Path: "/channels/{slug}/blocked-terms", Access: SignedIn, handler: a.deleteBlockedTerm},
		{Method: "GET", Path: "/channels/{slug}/emotes", Access: Public, handler: a.listEmotes},
		{Method: "PUT", Path: "/channels/{slug}/emotes/{name}", Access: SignedIn, Body: MaxEmoteBytes + 1, handler: a.putEmote},
		{Method: "DELETE", Path: "/channels/{slug}/emotes/{name}", Access: SignedIn, handler: a.deleteEmote},
		{Method: "GET", Path: "/admin/blocked-terms", Access: AdminOnly, handler: a.adminBlockedTerms},
		{Method: "PUT", Path: "/admin/blocked-terms", Access: AdminOnly, handler: a.adminPutBlockedTerm},

		// Admin (routes_admin.go)
		{Method: "GET", Path: "/admin/users", Access: AdminOnly, handler: a.adminUsers},
		{Method: "PATCH", Path: "/admin/users/{id}", Access: AdminOnly, handler: a.adminUpdateUser},
		{Method: "GET", Path: "/admin/channels", Access: AdminOnly, handler: a.adminChannels},
		{Method: "PATCH", Path: "/admin/channels/{slug}", Access: AdminOnly, handler: a.adminUpdateChannel},
		{Method: "GET", Path: "/admin/settings", Access: AdminOnly, handler: a.adminSettings},
		{Method: "PUT", Path: "/admin/settings", Access: AdminOnly, handler: a.adminPutSettings},

		// The API's own description (openapi.go)
		{Method: "GET", Path: "/openapi.json", Access: Public, handler: a.openAPI},
	}
}

// Routes lists the API's routes, for tests and documentation checks.
func Routes() []Route {
	return (&API{}).routes()
}
