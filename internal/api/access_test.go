package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/api"
	"github.com/livehouse/livehouse/internal/server"
	"time"
)

// fill puts real values into a route's {wildcards}.
func fill(path string) string {
	return strings.NewReplacer("{slug}", "owned", "{id}", "nope").Replace(path)
}

func TestProtectedRoutesRefuseCallersWithoutTheRightAccess(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		owner := ts.signUp(t, "owner@example.com")
		owner.createChannel(t, "owned", "music")
		stranger := ts.signUp(t, "stranger@example.com")
		tokenAnswer := want(t, stranger.do(t, req{method: "POST", path: "/api/v1/me/tokens", body: map[string]string{"name": "bot"}}), 201).json(t)
		bot := ts.anon()
		bot.token = tokenAnswer["token"].(string)
		ts.secret(bot.token)
		anon := ts.anon()

		checked := 0
		for _, rt := range api.Routes() {
			path := "/api/v1" + fill(rt.Path)
			r := req{method: rt.Method, path: path, body: map[string]any{}}
			if rt.Method == "GET" || rt.Method == "DELETE" {
				r.body = nil
			}
			name := rt.Method + " " + rt.Path
			if rt.Access == api.Public {
				continue
			}
			checked++
			// Nobody signed in: 401 everywhere.
			if got := anon.do(t, r); got.status != 401 || got.errCode() != "unauthenticated" {
				t.Errorf("%s anonymous: %s, want 401 unauthenticated", name, got)
			}
			// Signed in, but not the owner, not an admin: 403.
			if rt.Owner || rt.OwnerOrAdmin || rt.Moderator || rt.Access == api.AdminOnly {
				if got := stranger.do(t, r); got.status != 403 || got.errCode() != "forbidden" {
					t.Errorf("%s as another user: %s, want 403 forbidden", name, got)
				}
				if got := bot.do(t, r); got.status != 403 {
					t.Errorf("%s with another user's token: %s, want 403", name, got)
				}
			} else if strings.Contains(rt.Path, "{slug}") && rt.Access != api.SessionOnly {
				// A channel route open to every signed-in user: if it refused
				// strangers, it would need a flag (and this test's 403 check).
				if got := stranger.do(t, r); got.status == 403 {
					t.Errorf("%s as another user: %s; the route refuses non-owners but has no Owner/OwnerOrAdmin/Moderator flag", name, got)
				}
			}
			// Token management needs a browser session.
			if rt.Access == api.SessionOnly {
				if got := bot.do(t, r); got.status != 403 || got.errCode() != "forbidden" {
					t.Errorf("%s with an API token: %s, want 403", name, got)
				}
			}
			// A session without its CSRF token cannot change anything.
			if rt.Method != "GET" && !rt.NoCSRF {
				r.noCSRF = true
				if got := owner.do(t, r); got.status != 403 || got.errCode() != "csrf" {
					t.Errorf("%s without X-CSRF-Token: %s, want 403 csrf", name, got)
				}
				r.header = map[string]string{"X-CSRF-Token": stranger.csrf}
				if got := owner.do(t, r); got.status != 403 || got.errCode() != "csrf" {
					t.Errorf("%s with another session's CSRF token: %s, want 403 csrf", name, got)
				}
			}
		}
		if checked < 25 {
			t.Errorf("only %d protected routes checked", checked)
		}
		if got := anon.get(t, "/api/v1/channels?following=true"); got.status != 401 {
			t.Errorf("following listing anonymous: %s, want 401", got)
		}
		// The refusals changed nothing: the channel still exists as created.
		if got := want(t, anon.get(t, "/api/v1/channels/owned"), 200).json(t); got["display_name"] != "Channel owned" {
			t.Errorf("channel after refusals: %v", got)
		}
	})
}

func TestCrossSiteRequestsAreRefusedEvenWithoutASession(t *testing.T) {
	ts := start(t, "")
	c := ts.anon()
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		r := c.do(t, req{method: "POST", path: "/api/v1/auth/signup", header: h,
			body: map[string]string{"email": "victim@example.com", "password": password}})
		if r.status != 403 || r.errCode() != "csrf" {
			t.Errorf("cross-site sign-up with %v: %s, want 403 csrf", h, r)
		}
	}
	// The same-origin request works, so the refusals were not about the body.
	same := c.do(t, req{method: "POST", path: "/api/v1/auth/signup", header: map[string]string{"Origin": ts.base, "Sec-Fetch-Site": "same-origin"},
		body: map[string]string{"email": "victim@example.com", "password": password}})
	want(t, same, 201)
}

func TestSignInAnswersWrongEmailAndWrongPasswordIdentically(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		ts.signUp(t, "real@example.com")
		c := ts.anon()
		signIn := func(email, pw string) response {
			return c.do(t, req{method: "POST", path: "/api/v1/auth/signin", body: map[string]string{"email": email, "password": pw}})
		}
		noUser, badPw := signIn("ghost@example.com", password), signIn("real@example.com", password+"x")
		if noUser.status != 401 || badPw.status != 401 || string(noUser.body) != string(badPw.body) {
			t.Errorf("unknown email: %s\nwrong password: %s\nwant the same 401", noUser, badPw)
		}
		if !strings.Contains(string(badPw.body), "wrong email or password") {
			t.Errorf("message: %s", badPw.body)
		}
		if len(c.http.Jar.Cookies(mustURL(ts.base))) != 0 {
			t.Error("a failed sign-in set a cookie")
		}
		ok := want(t, signIn("REAL@example.com", password), 200)
		setCookie := ok.header.Get("Set-Cookie")
		for _, attr := range []string{"lh_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(setCookie, attr) {
				t.Errorf("session cookie %q lacks %s", setCookie, attr)
			}
		}
		ts.secret(strings.TrimPrefix(strings.Split(setCookie, ";")[0], "lh_session="))
	})
}

func TestSessionCookieIsSecureWhenConfiguredBehindTLS(t *testing.T) {
	ts := start(t, "", func(c *server.Config) { c.SecureCookies = true })
	r := want(t, ts.anon().do(t, req{method: "POST", path: "/api/v1/auth/signup",
		body: map[string]string{"email": "tls@example.com", "password": password}}), 201)
	if !strings.Contains(r.header.Get("Set-Cookie"), "Secure") {
		t.Errorf("Set-Cookie %q is not Secure", r.header.Get("Set-Cookie"))
	}
}

func TestAuthEndpointsAreRateLimitedWithAClear429(t *testing.T) {
	ts := start(t, "", func(c *server.Config) {
		c.AuthLimits = account.RateLimits{
			SignInPerIP:    account.Rate{Burst: 3, Every: time.Hour},
			SignInPerEmail: account.Rate{Burst: 100, Every: time.Hour},
			SignUpPerIP:    account.Rate{Burst: 2, Every: time.Hour},
		}
	})
	c := ts.anon()
	for i := range 3 {
		r := c.do(t, req{method: "POST", path: "/api/v1/auth/signin", body: map[string]string{"email": "x@example.com", "password": "guess" + string(rune('a'+i))}})
		if r.status != 401 {
			t.Fatalf("attempt %d: %s", i+1, r)
		}
	}
	r := c.do(t, req{method: "POST", path: "/api/v1/auth/signin", body: map[string]string{"email": "x@example.com", "password": "guess"}})
	if r.status != 429 || r.errCode() != "rate_limited" || r.header.Get("Retry-After") == "" ||
		!strings.Contains(string(r.body), "try again in") {
		t.Errorf("4th sign-in: %s (Retry-After %q), want 429 rate_limited with Retry-After", r, r.header.Get("Retry-After"))
	}
	for i := range 3 {
		r := c.do(t, req{method: "POST", path: "/api/v1/auth/signup",
			body: map[string]string{"email": "new" + string(rune('a'+i)) + "@example.com", "password": password}})
		if (i < 2 && r.status != 201) || (i == 2 && r.status != 429) {
			t.Errorf("sign-up %d: %s", i+1, r)
		}
	}
}

func TestAPITokensAreShownOnceAndAuthenticateWithoutCSRF(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		user := ts.signUp(t, "robot-owner@example.com")
		user.createChannel(t, "robotic", "games")
		created := want(t, user.do(t, req{method: "POST", path: "/api/v1/me/tokens", body: map[string]string{"name": "deploy"}}), 201).json(t)
		token := created["token"].(string)
		ts.secret(token)
		if !strings.HasPrefix(token, "lht_") {
			t.Errorf("token %.8s… lacks the lht_ prefix", token)
		}
		list := want(t, user.get(t, "/api/v1/me/tokens"), 200)
		if strings.Contains(string(list.body), token) || !strings.Contains(string(list.body), `"deploy"`) {
			t.Errorf("token list must name the token without revealing it: %s", list.body)
		}
		bot := ts.anon()
		bot.token = token
		me := want(t, bot.get(t, "/api/v1/auth/me"), 200).json(t)
		if _, has := me["csrf_token"]; has || me["user"].(map[string]any)["email"] != "robot-owner@example.com" {
			t.Errorf("/auth/me with a token = %v", me)
		}
		want(t, bot.do(t, req{method: "PATCH", path: "/api/v1/channels/robotic", body: map[string]string{"title": "set by CI"}}), 200)
		want(t, bot.do(t, req{method: "PUT", path: "/api/v1/channels/robotic/follow"}), 204)
		id := created["id"].(string)
		want(t, user.do(t, req{method: "DELETE", path: "/api/v1/me/tokens/" + id}), 204)
		if r := bot.get(t, "/api/v1/auth/me"); r.status != 401 {
			t.Errorf("revoked token: %s, want 401", r)
		}
		bad := ts.anon()
		bad.token = "lht_forged"
		if r := bad.get(t, "/api/v1/channels"); r.status != 401 {
			t.Errorf("a forged token on a public route: %s, want 401", r)
		}
		if r := bad.do(t, req{method: "GET", path: "/api/v1/auth/me", header: map[string]string{"Authorization": "Basic abc"}}); r.status != 401 {
			t.Errorf("Basic auth: %s, want 401", r)
		}
	})
}

func TestPasswordChangesAreRateLimitedPerAccount(t *testing.T) {
	ts := start(t, "", func(c *server.Config) {
		unlimited := account.Rate{Burst: -1}
		c.AuthLimits = account.RateLimits{SignInPerIP: unlimited, SignInPerEmail: unlimited, SignUpPerIP: unlimited,
			PasswordChangePerUser: account.Rate{Burst: 2, Every: time.Hour}}
	})
	c := ts.signUp(t, "changer@example.com")
	other := ts.signUp(t, "other@example.com")
	change := func(c *client) response {
		return c.do(t, req{method: "POST", path: "/api/v1/me/password",
			body: map[string]string{"current_password": "not my password", "new_password": "another long password"}})
	}
	for i := range 2 {
		if r := change(c); r.status != 400 {
			t.Fatalf("attempt %d with a wrong current password: %s", i+1, r)
		}
	}
	if r := change(c); r.status != 429 || r.errCode() != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Errorf("3rd attempt: %s, want 429 rate_limited with Retry-After", r)
	}
	if r := change(other); r.status != 400 {
		t.Errorf("another account's attempt: %s, want its own allowance", r)
	}
}

func TestChannelRouteFlagsLetModeratorsAndAdminsDoOnlyTheirShare(t *testing.T) {
	ts := start(t, "")
	owner := ts.signUp(t, "boss@example.com")
	owner.createChannel(t, "flagged-routes", "music")
	mod := ts.signUp(t, "mod@example.com")
	admin := ts.admin(t, "root@example.com")
	want(t, owner.do(t, req{method: "PUT", path: "/api/v1/channels/flagged-routes/moderators/" + mod.user["id"].(string)}), 200)
	base := "/api/v1/channels/flagged-routes"
	// A moderator reads the blocked terms and held messages, but manages neither moderators, emotes nor the audit log.
	want(t, mod.get(t, base+"/blocked-terms"), 200)
	want(t, mod.get(t, base+"/held"), 200)
	want(t, mod.get(t, base+"/moderators"), 200)
	for _, r := range []req{
		{method: "GET", path: base + "/audit"},
		{method: "DELETE", path: base + "/emotes/wave"},
		{method: "PUT", path: base + "/moderators/" + mod.user["id"].(string)},
		{method: "PATCH", path: base, body: map[string]string{"title": "hijacked"}},
	} {
		if got := mod.do(t, r); got.status != 403 || got.errCode() != "forbidden" {
			t.Errorf("%s %s as a moderator: %s, want 403", r.method, r.path, got)
		}
	}
	// An admin may do what OwnerOrAdmin routes allow, not what Owner routes keep to the owner.
	want(t, admin.get(t, base+"/audit"), 200)
	want(t, admin.get(t, base+"/broadcasts"), 200)
	if got := admin.get(t, base+"/webhooks"); got.status != 403 {
		t.Errorf("webhooks as an admin: %s, want 403 (owner only)", got)
	}
	if got := admin.get(t, "/api/v1/channels/no-such-channel/audit"); got.status != 404 {
		t.Errorf("audit of a missing channel: %s, want 404", got)
	}
}

func TestEmoteListsAreCacheableForHalfAMinute(t *testing.T) {
	ts := start(t, "")
	ts.signUp(t, "emoter@example.com").createChannel(t, "emoter", "music")
	r := want(t, ts.anon().get(t, "/api/v1/channels/emoter/emotes"), 200)
	if got := r.header.Get("Cache-Control"); got != "public, max-age=30" {
		t.Errorf("emote list Cache-Control = %q, want public, max-age=30", got)
	}
}

func TestSignUpWithATakenEmailDoesNotSayAnAccountExists(t *testing.T) {
	ts := start(t, "")
	ts.signUp(t, "taken@example.com")
	r := want(t, ts.anon().do(t, req{method: "POST", path: "/api/v1/auth/signup",
		body: map[string]string{"email": "taken@example.com", "password": password}}), 409)
	if msg := string(r.body); strings.Contains(msg, "exists") || !strings.Contains(msg, "sign in") {
		t.Errorf("answer %s: want a generic message that points to sign-in", msg)
	}
}

func TestBroadcastListingsArePagesOfItems(t *testing.T) {
	ts := start(t, "")
	ts.signUp(t, "paged@example.com").createChannel(t, "paged", "music")
	st := ts.srv.Store()
	ch, err := st.ChannelBySlug(t.Context(), "paged")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	for i := range 3 {
		s, err := st.StartSession(t.Context(), ch.ID, fmt.Sprintf("bc-%d", i), `["source"]`, at.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		st.EndSession(t.Context(), s.ID, at.Add(time.Duration(i)*time.Minute+30*time.Second), "done") //nolint:errcheck
	}
	anon := ts.anon()
	first := want(t, anon.get(t, "/api/v1/channels/paged/sessions?limit=2"), 200).json(t)
	cursor, _ := first["next_cursor"].(string)
	if items, _ := first["items"].([]any); len(items) != 2 || cursor == "" {
		t.Fatalf("first page = %v, want 2 items and a cursor", first)
	}
	rest := want(t, anon.get(t, "/api/v1/channels/paged/sessions?limit=2&cursor="+url.QueryEscape(cursor)), 200).json(t)
	if items, _ := rest["items"].([]any); len(items) != 1 || rest["next_cursor"] != nil {
		t.Errorf("second page = %v, want the last item and no cursor", rest)
	}
	if live := want(t, anon.get(t, "/api/v1/live"), 200).json(t); live["items"] == nil {
		t.Errorf("/live = %v, want {items: []}", live)
	}
}
