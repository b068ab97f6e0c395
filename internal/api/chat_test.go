package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/server"
)

// dialChat opens the room's WebSocket as c (its cookies), with extra headers.
func (c *client) dialChat(t *testing.T, slug string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	for _, ck := range c.http.Jar.Cookies(mustURL(c.ts.base)) {
		header.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, strings.Replace(c.ts.base, "http", "ws", 1)+"/api/v1/channels/"+slug+"/chat",
		&websocket.DialOptions{HTTPHeader: header})
	if conn != nil {
		t.Cleanup(func() { conn.CloseNow() })
	}
	return conn, res, err
}

func readWelcome(t *testing.T, conn *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, data, err := conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(data, &objs); err != nil || len(objs) == 0 || objs[0]["type"] != "welcome" {
		t.Fatalf("first frame = %s", data)
	}
	return objs[0]
}

func TestChatSocketKnowsTheSessionAndRefusesOtherOrigins(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		owner := ts.signUp(t, "host@example.com")
		owner.createChannel(t, "talk", "music")

		conn, _, err := owner.dialChat(t, "talk", nil)
		if err != nil {
			t.Fatal(err)
		}
		if w := readWelcome(t, conn); w["signed_in"] != true || w["can_moderate"] != true {
			t.Errorf("owner welcome = %v", w)
		}
		anon, _, err := ts.anon().dialChat(t, "talk", nil)
		if err != nil {
			t.Fatal(err)
		}
		if w := readWelcome(t, anon); w["signed_in"] != false || w["can_moderate"] != false {
			t.Errorf("anonymous welcome = %v", w)
		}

		// Another site's page cannot ride the viewer's cookie.
		_, res, err := owner.dialChat(t, "talk", http.Header{"Origin": {"https://evil.example"}})
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin upgrade: %v %v, want 403", res, err)
		}
		if r := ts.anon().get(t, "/api/v1/channels/talk/chat"); r.status != http.StatusUpgradeRequired {
			t.Errorf("plain GET = %s, want 426", r)
		}
		if r := ts.anon().get(t, "/api/v1/channels/nope/chat"); r.status != http.StatusNotFound {
			t.Errorf("unknown channel = %s", r)
		}
		if r := ts.anon().get(t, "/api/v1/channels/talk/chat?since=-4"); r.status != http.StatusBadRequest {
			t.Errorf("bad since = %s", r)
		}
	})
}

func TestModerationEndpointsCheckOwnership(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		owner := ts.signUp(t, "own@example.com")
		owner.createChannel(t, "modded", "games")
		other := ts.signUp(t, "other@example.com")
		otherID := other.user["id"].(string)

		if r := ts.anon().do(t, req{method: "PUT", path: "/api/v1/channels/modded/moderators/" + otherID}); r.status != 401 && r.status != 403 {
			t.Errorf("anonymous appoint = %s", r)
		}
		if r := other.do(t, req{method: "PUT", path: "/api/v1/channels/modded/moderators/" + otherID}); r.status != 403 {
			t.Errorf("non-owner appoint = %s", r)
		}
		if r := owner.do(t, req{method: "PUT", path: "/api/v1/channels/modded/moderators/" + otherID, noCSRF: true}); r.status != 403 || r.errCode() != "csrf" {
			t.Errorf("appoint without CSRF = %s", r)
		}
		want(t, owner.do(t, req{method: "PUT", path: "/api/v1/channels/modded/moderators/" + otherID}), 200)
		mods := want(t, owner.get(t, "/api/v1/channels/modded/moderators"), 200).json(t)["moderators"].([]any)
		if len(mods) != 1 || mods[0].(map[string]any)["id"] != otherID {
			t.Errorf("moderators = %v", mods)
		}
		// The new moderator may manage terms but not read the owner's audit log.
		want(t, other.do(t, req{method: "PUT", path: "/api/v1/channels/modded/blocked-terms", body: map[string]string{"term": "Spoiler", "action": "hold"}}), 204)
		if r := other.do(t, req{method: "PUT", path: "/api/v1/channels/modded/blocked-terms", body: map[string]string{"term": "x", "action": "explode"}}); r.status != 400 {
			t.Errorf("bad action = %s", r)
		}
		if held := want(t, other.get(t, "/api/v1/channels/modded/held"), 200).json(t)["held"].([]any); len(held) != 0 {
			t.Errorf("held = %v", held)
		}
		if r := ts.anon().get(t, "/api/v1/channels/modded/held"); r.status != 401 {
			t.Errorf("anonymous held list = %s", r)
		}
		if r := other.get(t, "/api/v1/channels/modded/audit"); r.status != 403 {
			t.Errorf("moderator reads the audit log = %s", r)
		}
		log := want(t, owner.get(t, "/api/v1/channels/modded/audit"), 200).json(t)["items"].([]any)
		// Newest first: the moderator's term change, then the appointment.
		if len(log) != 2 || log[0].(map[string]any)["action"] != "term.set" || log[1].(map[string]any)["action"] != "mod.add" {
			t.Errorf("audit = %v", log)
		}
		terms := want(t, owner.get(t, "/api/v1/channels/modded/blocked-terms"), 200).json(t)["terms"].([]any)
		if len(terms) != 1 || terms[0].(map[string]any)["term"] != "spoiler" {
			t.Errorf("terms = %v", terms)
		}
		if r := owner.do(t, req{method: "PUT", path: "/api/v1/admin/blocked-terms", body: map[string]string{"term": "x", "action": "block"}}); r.status != 403 {
			t.Errorf("non-admin server terms = %s", r)
		}
		if r := ts.anon().get(t, "/api/v1/broadcasts/none/events?cursor=garbage"); r.status != 400 {
			t.Errorf("bad cursor = %s", r)
		}
		if r := want(t, ts.anon().get(t, "/api/v1/broadcasts/none/events"), 200).json(t); len(r["items"].([]any)) != 0 {
			t.Errorf("events of no broadcast = %v", r)
		}
	})
}

func TestEmotesAreCheckedImagesOnlyTheOwnerManages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		owner := ts.signUp(t, "emo@example.com")
		owner.createChannel(t, "emoji", "art")
		other := ts.signUp(t, "nope@example.com")
		png := pngBytes(t, 28, 28)
		put := func(c *client, name string, body []byte, ct string) response {
			return c.do(t, req{method: "PUT", path: "/api/v1/channels/emoji/emotes/" + name, body: body, contentType: ct})
		}
		if r := put(other, "wave", png, "image/png"); r.status != 403 {
			t.Errorf("non-owner upload = %s", r)
		}
		if r := put(owner, "wave", []byte("<svg onload=alert(1)>"), "image/png"); r.status != 415 {
			t.Errorf("not an image = %s", r)
		}
		if r := put(owner, "bad name!", png, "image/png"); r.status != 400 {
			t.Errorf("bad name = %s", r)
		}
		if r := put(owner, "huge", make([]byte, 300<<10), "image/png"); r.status != 413 {
			t.Errorf("oversize = %s", r)
		}
		m := want(t, put(owner, "wave", png, "image/png"), 200).json(t)
		list := want(t, ts.anon().get(t, "/api/v1/channels/emoji/emotes"), 200).json(t)["emotes"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["name"] != "wave" {
			t.Errorf("emotes = %v", list)
		}
		img := ts.anon().get(t, m["url"].(string))
		if img.status != 200 || img.header.Get("Content-Type") != "image/png" || !strings.Contains(img.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("emote image = %d %v", img.status, img.header)
		}
		want(t, owner.do(t, req{method: "DELETE", path: "/api/v1/channels/emoji/emotes/wave"}), 204)
		if r := ts.anon().get(t, m["url"].(string)); r.status != 404 {
			t.Errorf("deleted emote's file still served: %d", r.status)
		}
	})
}

func TestAReconnectStormFromOneNetworkIsRefusedWith429(t *testing.T) {
	ts := start(t, "", func(c *server.Config) { c.ChatJoinLimit = account.Rate{Burst: 5, Every: time.Minute} })
	owner := ts.signUp(t, "storm@example.com")
	owner.createChannel(t, "stormy", "other")
	anon := ts.anon()
	opened, refused := 0, 0
	for i := 0; i < 12; i++ {
		conn, res, err := anon.dialChat(t, "stormy", nil)
		switch {
		case err == nil:
			opened++
			conn.CloseNow()
		case res != nil && res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "":
			refused++
		default:
			t.Fatalf("dial %d: %v %v", i, res, err)
		}
	}
	if opened != 5 || refused != 7 {
		t.Errorf("opened %d, refused %d; want 5 and 7", opened, refused)
	}
	// The server still serves everyone else.
	want(t, owner.get(t, "/api/v1/channels/stormy"), 200)
}
