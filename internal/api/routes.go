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
		{Method: "GET", Path: "/channels/{slug}/moderators", Access: SignedIn, Moderator: true, handler: a.listModerators},
		{Method: "PUT", Path: "/channels/{slug}/moderators/{user_id}", Access: SignedIn, OwnerOrAdmin: true, handler: a.addModerator},
		{Method: "DELETE", Path: "/channels/{slug}/moderators/{user_id}", Access: SignedIn, OwnerOrAdmin: true, handler: a.removeModerator},
		{Method: "GET", Path: "/channels/{slug}/audit", Access: SignedIn, OwnerOrAdmin: true, handler: a.auditLog},
		{Method: "GET", Path: "/channels/{slug}/held", Access: SignedIn, Moderator: true, handler: a.heldMessages},
		{Method: "GET", Path: "/channels/{slug}/blocked-terms", Access: SignedIn, Moderator: true, handler: a.listBlockedTerms},
		{Method: "PUT", Path: "/channels/{slug}/blocked-terms", Access: SignedIn, Moderator: true, handler: a.putBlockedTerm},
		{Method: "DELETE", Path: "/channels/{slug}/blocked-terms", Access: SignedIn, Moderator: true, handler: a.deleteBlockedTerm},
		{Method: "GET", Path: "/channels/{slug}/emotes", Access: Public, handler: a.listEmotes},
		{Method: "PUT", Path: "/channels/{slug}/emotes/{name}", Access: SignedIn, OwnerOrAdmin: true, Body: MaxEmoteBytes + 1, handler: a.putEmote},
		{Method: "DELETE", Path: "/channels/{slug}/emotes/{name}", Access: SignedIn, OwnerOrAdmin: true, handler: a.deleteEmote},
		{Method: "GET", Path: "/admin/blocked-terms", Access: AdminOnly, handler: a.adminBlockedTerms},
		{Method: "PUT", Path: "/admin/blocked-terms", Access: AdminOnly, handler: a.adminPutBlockedTerm},

		// Money (routes_money.go; docs/MONEY.md)
		{Method: "GET", Path: "/coin-packs", Access: Public, handler: a.coinPacks},
		{Method: "GET", Path: "/payments/providers", Access: Public, handler: a.paymentProviders},
		{Method: "GET", Path: "/me/wallet", Access: SignedIn, handler: a.wallet},
		{Method: "GET", Path: "/me/wallet/transactions", Access: SignedIn, handler: a.walletTxns},
		{Method: "POST", Path: "/payments/orders", Access: SignedIn, handler: a.createOrder},
		{Method: "GET", Path: "/payments/orders/{id}", Access: SignedIn, handler: a.getOrder},
		{Method: "POST", Path: "/payments/orders/{id}/confirm", Access: SignedIn, handler: a.confirmOrder},
		{Method: "POST", Path: "/payments/stripe/webhook", Access: Public, NoCSRF: true, Body: 1 << 20, handler: a.stripeWebhook},
		{Method: "GET", Path: "/gifts", Access: Public, handler: a.gifts},
		{Method: "POST", Path: "/channels/{slug}/gifts", Access: SignedIn, handler: a.sendGift},
		{Method: "POST", Path: "/channels/{slug}/tips", Access: SignedIn, handler: a.sendTip},
		{Method: "GET", Path: "/channels/{slug}/leaderboard", Access: Public, handler: a.leaderboard},
		{Method: "GET", Path: "/channels/{slug}/tiers", Access: Public, handler: a.tiers},
		{Method: "PUT", Path: "/channels/{slug}/tiers", Access: SignedIn, Owner: true, handler: a.putTiers},
		{Method: "GET", Path: "/channels/{slug}/subscription", Access: SignedIn, handler: a.mySubscription},
		{Method: "POST", Path: "/channels/{slug}/subscription", Access: SignedIn, handler: a.subscribe},
		{Method: "DELETE", Path: "/channels/{slug}/subscription", Access: SignedIn, handler: a.cancelSub},
		{Method: "POST", Path: "/channels/{slug}/subscription/gift", Access: SignedIn, handler: a.giftSub},
		{Method: "GET", Path: "/me/subscriptions", Access: SignedIn, handler: a.mySubscriptions},
		{Method: "PUT", Path: "/channels/{slug}/emotes/{name}/subscriber-only", Access: SignedIn, OwnerOrAdmin: true, handler: a.emoteSubscriberOnly},
		{Method: "POST", Path: "/channels/{slug}/ad-breaks", Access: SignedIn, Owner: true, handler: a.startAdBreak},
		{Method: "GET", Path: "/channels/{slug}/ad-breaks", Access: SignedIn, OwnerOrAdmin: true, handler: a.adBreaks},
		{Method: "GET", Path: "/channels/{slug}/ad-break", Access: Public, handler: a.currentAdBreak},
		{Method: "GET", Path: "/channels/{slug}/ad-schedule", Access: SignedIn, OwnerOrAdmin: true, handler: a.adSchedule},
		{Method: "PUT", Path: "/channels/{slug}/ad-schedule", Access: SignedIn, Owner: true, handler: a.putAdSchedule},
		{Method: "POST", Path: "/ad-breaks/{id}/impressions", Access: Public, handler: a.adImpression},
		{Method: "GET", Path: "/channels/{slug}/earnings", Access: SignedIn, OwnerOrAdmin: true, handler: a.earnings},
		{Method: "GET", Path: "/channels/{slug}/earnings.csv", Access: SignedIn, OwnerOrAdmin: true, handler: a.earningsCSV},
		{Method: "GET", Path: "/channels/{slug}/payouts", Access: SignedIn, OwnerOrAdmin: true, handler: a.listPayouts},
		{Method: "POST", Path: "/channels/{slug}/payouts", Access: SignedIn, Owner: true, handler: a.requestPayout},
		{Method: "GET", Path: "/admin/payouts", Access: AdminOnly, handler: a.adminPayouts},
		{Method: "POST", Path: "/admin/payouts/{id}/{step}", Access: AdminOnly, handler: a.adminPayoutStep},
		{Method: "GET", Path: "/admin/coin-packs", Access: AdminOnly, handler: a.adminCoinPacks},
		{Method: "POST", Path: "/admin/coin-packs", Access: AdminOnly, handler: a.adminCreateCoinPack},
		{Method: "PATCH", Path: "/admin/coin-packs/{id}", Access: AdminOnly, handler: a.adminPatchCoinPack},
		{Method: "GET", Path: "/admin/gifts", Access: AdminOnly, handler: a.adminGifts},
		{Method: "POST", Path: "/admin/gifts", Access: AdminOnly, handler: a.adminCreateGift},
		{Method: "PATCH", Path: "/admin/gifts/{id}", Access: AdminOnly, handler: a.adminPatchGift},
		{Method: "GET", Path: "/admin/ads", Access: AdminOnly, handler: a.adminAds},
		{Method: "POST", Path: "/admin/ads", Access: AdminOnly, handler: a.adminCreateAd},
		{Method: "PATCH", Path: "/admin/ads/{id}", Access: AdminOnly, handler: a.adminPatchAd},
		{Method: "GET", Path: "/admin/monetization", Access: AdminOnly, handler: a.adminMonetization},
		{Method: "PUT", Path: "/admin/monetization", Access: AdminOnly, handler: a.adminPutMonetization},
		{Method: "GET", Path: "/admin/orders", Access: AdminOnly, handler: a.adminOrders},
		{Method: "POST", Path: "/admin/orders/{id}/{action}", Access: AdminOnly, handler: a.adminReverseOrder},
		{Method: "GET", Path: "/admin/ledger", Access: AdminOnly, handler: a.adminLedger},
		{Method: "GET", Path: "/admin/ledger/accounts", Access: AdminOnly, handler: a.adminLedgerAccounts},
		{Method: "GET", Path: "/admin/ledger/verify", Access: AdminOnly, handler: a.adminLedgerVerify},
		{Method: "GET", Path: "/admin/revenue", Access: AdminOnly, handler: a.adminRevenue},

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
