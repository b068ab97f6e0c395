package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/server"
)

func TestSuspendedChannelIsHiddenFromThePublicButNotFromItsOwnerAndAdmins(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		owner := ts.signUp(t, "own@example.com")
		owner.createChannel(t, "flagged", "party")
		admin := ts.admin(t, "mod@example.com")
		r := want(t, admin.do(t, req{method: "PATCH", path: "/api/v1/admin/channels/flagged", body: map[string]string{"status": "suspended"}}), 200).json(t)
		if r["status"] != "suspended" {
			t.Errorf("admin answer %v", r)
		}
		if r := want(t, admin.do(t, req{method: "PATCH", path: "/api/v1/admin/channels/flagged", body: map[string]string{"status": "gone"}}), 400); r.errCode() != "validation" {
			t.Errorf("bad status: %s", r)
		}
		anon := ts.anon()
		if r := anon.get(t, "/api/v1/channels/flagged"); r.status != 404 {
			t.Errorf("public GET of a suspended channel: %d", r.status)
		}
		if items := want(t, anon.get(t, "/api/v1/channels"), 200).json(t)["items"].([]any); len(items) != 0 {
			t.Errorf("directory lists a suspended channel: %v", items)
		}
		if r := anon.do(t, req{method: "POST", path: "/api/v1/channels/flagged/heartbeat", body: map[string]string{"viewer_id": "someone-1"}}); r.status != 404 {
			t.Errorf("heartbeat: %s", r)
		}
		mine := want(t, owner.get(t, "/api/v1/channels/flagged"), 200).json(t)
		if mine["suspended"] != true {
			t.Errorf("owner view = %v", mine)
		}
		list := want(t, admin.get(t, "/api/v1/admin/channels?q=flag"), 200).json(t)["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["status"] != "suspended" ||
			list[0].(map[string]any)["owner"].(map[string]any)["email"] != "own@example.com" {
			t.Errorf("admin listing = %v", list)
		}
		users := want(t, admin.get(t, "/api/v1/admin/users?q=own%40"), 200).json(t)["items"].([]any)
		if len(users) != 1 || users[0].(map[string]any)["role"] != "creator" {
			t.Errorf("admin users = %v", users)
		}
		self := admin.user["id"].(string)
		if r := admin.do(t, req{method: "PATCH", path: "/api/v1/admin/users/" + self, body: map[string]string{"role": "viewer"}}); r.status != 400 {
			t.Errorf("an admin demoting themselves: %s, want 400", r)
		}
		if r := admin.do(t, req{method: "PATCH", path: "/api/v1/admin/users/us_nobody", body: map[string]string{"status": "banned"}}); r.status != 404 {
			t.Errorf("unknown user: %s", r)
		}
		// Banning signs the user out everywhere.
		want(t, admin.do(t, req{method: "PATCH", path: "/api/v1/admin/users/" + owner.user["id"].(string), body: map[string]string{"status": "banned"}}), 200)
		want(t, admin.do(t, req{method: "PATCH", path: "/api/v1/admin/users/" + owner.user["id"].(string), body: map[string]string{"status": "active"}}), 200)
		if r := owner.get(t, "/api/v1/auth/me"); r.status != 401 {
			t.Errorf("session after a ban and reinstatement: %s, want 401 (signed out)", r)
		}
	})
}

func TestLadderSettingIsValidatedAppliedAndKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *server.Config) { c.DataDir = dir }
	ts := start(t, "", withDir)
	admin := ts.admin(t, "root@example.com")
	viewer := ts.signUp(t, "v@example.com")
	want(t, viewer.do(t, req{method: "PATCH", path: "/api/v1/channels/none", body: map[string]any{}}), 404)
	for name, body := range map[string]any{
		"unknown encoder": map[string]any{"ladder": map[string]any{"encoder": "x265", "renditions": []any{map[string]any{"name": "source", "passthrough": true}}}},
		"no renditions":   map[string]any{"ladder": map[string]any{"renditions": []any{}}},
		"unknown field":   map[string]any{"ladder": map[string]any{"renditions": []any{map[string]any{"name": "a", "height": 480, "video_kbps": 900, "fps": 30}}}},
		"missing":         map[string]any{},
	} {
		if r := admin.do(t, req{method: "PUT", path: "/api/v1/admin/settings", body: body}); r.status != 400 || !strings.Contains(string(r.body), `"ladder"`) {
			t.Errorf("%s: %s, want 400 on field ladder", name, r)
		}
	}
	ladder := map[string]any{"encoder": "libx264", "preset": "veryfast", "renditions": []any{
		map[string]any{"name": "source", "passthrough": true},
		map[string]any{"name": "240p", "height": 240, "video_kbps": 400, "max_fps": 30},
	}}
	want(t, admin.do(t, req{method: "PUT", path: "/api/v1/admin/settings", body: map[string]any{"ladder": ladder}}), 200)
	if l := ts.srv.Live().Ladder(); l.Preset != "veryfast" || len(l.Renditions) != 2 || l.Renditions[1].Name != "240p" {
		t.Errorf("live ladder = %+v", l)
	}
	c := ts.signUp(t, "keeper@example.com")
	c.createChannel(t, "kept", "home")
	ts.stop()

	again := start(t, "", withDir)
	if l := again.srv.Live().Ladder(); l.Preset != "veryfast" || len(l.Renditions) != 2 {
		t.Errorf("ladder after restart = %+v", l)
	}
	c2 := again.anon()
	want(t, c2.do(t, req{method: "POST", path: "/api/v1/auth/signin", body: map[string]string{"email": "keeper@example.com", "password": password}}), 200)
	if ch := want(t, c2.get(t, "/api/v1/channels/kept"), 200).json(t); ch["category"] != "home" {
		t.Errorf("channel after restart = %v", ch)
	}
	if s := want(t, again.admin(t, "root2@example.com").get(t, "/api/v1/admin/settings"), 200); !strings.Contains(s.String(), "240p") {
		t.Errorf("settings after restart = %s", s)
	}
}

func TestHeartbeatsAreRateLimitedPerNetwork(t *testing.T) {
	ts := start(t, "", func(c *server.Config) { c.HeartbeatLimit = account.Rate{Burst: 3, Every: time.Hour} })
	c := ts.anon()
	for i := range 4 {
		r := c.do(t, req{method: "POST", path: "/api/v1/channels/anything/heartbeat", body: map[string]string{"viewer_id": "viewer-0001"}})
		if i < 3 && r.status != 404 || i == 3 && (r.status != 429 || r.header.Get("Retry-After") == "") {
			t.Errorf("heartbeat %d: %s", i+1, r)
		}
	}
}

func TestNotificationsAreMarkedReadAndChannelsListedForTheirOwner(t *testing.T) {
	ts := start(t, "")
	c := ts.signUp(t, "multi@example.com")
	for _, s := range []string{"one-a", "two-b"} {
		c.createChannel(t, s, "film")
	}
	mine := want(t, c.get(t, "/api/v1/me/channels"), 200).json(t)["items"].([]any)
	if len(mine) != 2 || mine[0].(map[string]any)["slug"] != "one-a" {
		t.Errorf("my channels = %v", mine)
	}
	if me := want(t, c.get(t, "/api/v1/auth/me"), 200).json(t)["user"].(map[string]any); me["role"] != "creator" {
		t.Errorf("role after creating a channel = %v", me["role"])
	}
	want(t, c.do(t, req{method: "POST", path: "/api/v1/me/notifications/read"}), 204)
	if n := want(t, c.get(t, "/api/v1/me/notifications"), 200).json(t); n["unread"] != 0.0 {
		t.Errorf("notifications = %v", n)
	}
	rotated := want(t, c.do(t, req{method: "POST", path: "/api/v1/channels/one-a/key"}), 200).json(t)
	ts.secret(rotated["stream_key"].(string))
	if !strings.HasPrefix(rotated["stream_key"].(string), "live_") || !strings.HasPrefix(rotated["rtmp_url"].(string), "rtmp://127.0.0.1:") {
		t.Errorf("rotated = %v", rotated)
	}
	if _, err := ts.srv.Store().ChannelByKey(t.Context(), rotated["stream_key"].(string)); err != nil {
		t.Errorf("the rotated key is not the store's key: %v", err)
	}
	if r := want(t, c.get(t, "/api/v1/channels/one-a"), 200); strings.Contains(string(r.body), rotated["stream_key"].(string)) ||
		r.json(t)["rtmp_url"] != rotated["rtmp_url"] {
		t.Errorf("the owner's channel page must show the RTMP URL and not the key: %s", r.body)
	}
	if m := want(t, ts.anon().get(t, "/api/v1/channels/one-a"), 200).json(t); m["rtmp_url"] != nil || m["suspended"] != nil {
		t.Errorf("the public channel page shows owner-only fields: %v", m)
	}
}
