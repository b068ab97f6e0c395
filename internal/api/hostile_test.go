package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/store"
)

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHostileInputsGetAClear4xxAndNothingIsStoredHalfway(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		c := ts.signUp(t, "creator@example.com")
		c.createChannel(t, "target", "art")
		before := want(t, c.get(t, "/api/v1/channels/target"), 200).body
		var gifBuf bytes.Buffer
		gif.Encode(&gifBuf, image.NewGray(image.Rect(0, 0, 4, 4)), nil)
		big := strings.Repeat("x", 70<<10)

		cases := []struct {
			name        string
			r           req
			status      int
			code, field string
		}{
			{"truncated JSON", req{method: "PATCH", path: "/api/v1/channels/target", body: `{"title":`, contentType: "application/json"}, 400, "invalid_json", ""},
			{"not JSON", req{method: "PATCH", path: "/api/v1/channels/target", body: `title=x`, contentType: "application/json"}, 400, "invalid_json", ""},
			{"unknown field", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]string{"titel": "typo"}}, 400, "invalid_json", "titel"},
			{"wrong type", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]any{"mature": "yes"}}, 400, "invalid_json", "mature"},
			{"two values", req{method: "PATCH", path: "/api/v1/channels/target", body: `{"title":"a"}{"title":"b"}`, contentType: "application/json"}, 400, "invalid_json", ""},
			{"empty body", req{method: "PATCH", path: "/api/v1/channels/target", body: ``, contentType: "application/json"}, 400, "invalid_json", ""},
			{"form post", req{method: "PATCH", path: "/api/v1/channels/target", body: `title=x`, contentType: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
			{"oversize JSON", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]string{"bio": big}}, 413, "too_large", ""},
			{"eleven tags", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]any{"title": "new", "tags": strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}}, 400, "validation", "tags"},
			{"tag with markup", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]any{"tags": []string{"<b>"}}}, 400, "validation", "tags"},
			{"title too long", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]any{"title": strings.Repeat("t", 141)}}, 400, "validation", "title"},
			{"NUL in title", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]any{"title": "a\u0000b"}}, 400, "validation", "title"},
			{"unknown category", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]any{"category": "'; DROP TABLE channels;--"}}, 400, "validation", "category"},
			{"slug change", req{method: "PATCH", path: "/api/v1/channels/target", body: map[string]any{"slug": "stolen"}}, 400, "validation", "slug"},
			{"bad slug in path", req{method: "GET", path: "/api/v1/channels/" + url.PathEscape("<script>")}, 400, "validation", "slug"},
			{"bad slug on create", req{method: "POST", path: "/api/v1/channels", body: map[string]any{"slug": "Bad Slug!", "display_name": "x", "category": "art"}}, 400, "validation", "slug"},
			{"taken slug", req{method: "POST", path: "/api/v1/channels", body: map[string]any{"slug": "target", "display_name": "x", "category": "art"}}, 409, "conflict", "slug"},
			{"avatar too large", req{method: "PUT", path: "/api/v1/channels/target/avatar", body: make([]byte, 1<<20+1), contentType: "image/png"}, 413, "too_large", ""},
			{"GIF named PNG", req{method: "PUT", path: "/api/v1/channels/target/avatar", body: gifBuf.Bytes(), contentType: "image/png"}, 415, "unsupported_media_type", ""},
			{"HTML named PNG", req{method: "PUT", path: "/api/v1/channels/target/avatar", body: []byte("<html><script>alert(1)</script>"), contentType: "image/png"}, 415, "unsupported_media_type", ""},
			{"SVG", req{method: "PUT", path: "/api/v1/channels/target/avatar", body: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), contentType: "image/svg+xml"}, 415, "unsupported_media_type", ""},
			{"PNG declared as HTML", req{method: "PUT", path: "/api/v1/channels/target/avatar", body: pngBytes(t, 8, 8), contentType: "text/html"}, 415, "unsupported_media_type", ""},
			{"empty avatar", req{method: "PUT", path: "/api/v1/channels/target/avatar", body: []byte{}, contentType: "image/png"}, 400, "bad_request", ""},
			{"limit zero", req{method: "GET", path: "/api/v1/channels?limit=0"}, 400, "validation", "limit"},
			{"limit huge", req{method: "GET", path: "/api/v1/channels?limit=101"}, 400, "validation", "limit"},
			{"limit text", req{method: "GET", path: "/api/v1/channels?limit=ten"}, 400, "validation", "limit"},
			{"forged cursor", req{method: "GET", path: "/api/v1/channels?cursor=eyJyIjoiMSBPUiAxPTEifQ"}, 400, "validation", "cursor"},
			{"unknown category filter", req{method: "GET", path: "/api/v1/channels?category=%27%20OR%201%3D1"}, 400, "validation", "category"},
			{"bad tag filter", req{method: "GET", path: "/api/v1/channels?tag=%25%27"}, 400, "validation", "tag"},
			{"search too long", req{method: "GET", path: "/api/v1/channels?q=" + strings.Repeat("q", 101)}, 400, "validation", "q"},
			{"bad live flag", req{method: "GET", path: "/api/v1/channels?live=maybe"}, 400, "validation", "live"},
			{"bad viewer id", req{method: "POST", path: "/api/v1/channels/target/heartbeat", body: map[string]string{"viewer_id": "<script>"}}, 400, "validation", "viewer_id"},
			{"unknown endpoint", req{method: "GET", path: "/api/v1/wp-admin"}, 404, "not_found", ""},
			{"wrong method", req{method: "DELETE", path: "/api/v1/categories"}, 405, "method_not_allowed", ""},
		}
		for _, tc := range cases {
			r := c.do(t, tc.r)
			var e struct {
				Error struct{ Code, Message, Field string } `json:"error"`
			}
			if err := json.Unmarshal(r.body, &e); err != nil || r.status != tc.status || e.Error.Code != tc.code ||
				e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%s: %s; want %d %s field %q with a message", tc.name, r, tc.status, tc.code, tc.field)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: Content-Type %q", tc.name, ct)
			}
		}
		after := want(t, c.get(t, "/api/v1/channels/target"), 200).body
		if !bytes.Equal(before, after) {
			t.Errorf("refused requests changed the channel:\nbefore %s\nafter  %s", before, after)
		}
		if list := want(t, c.get(t, "/api/v1/me/channels"), 200).json(t)["items"].([]any); len(list) != 1 {
			t.Errorf("%d channels after refusals, want 1", len(list))
		}
		avatars, _ := os.ReadDir(filepath.Join(ts.srv.DataDir(), "avatars"))
		for _, f := range avatars {
			t.Errorf("a refused upload left %s behind", f.Name())
		}
	})
}

func TestMarkupInTextIsStoredVerbatimButNeverServedAsHTML(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		payloads := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `</textarea><svg/onload=alert(1)>`, `{{7*7}} ${7*7}`}
		c := ts.signUp(t, "xss@example.com")
		want(t, c.do(t, req{method: "PATCH", path: "/api/v1/me", body: map[string]string{"display_name": payloads[1]}}), 200)
		c.createChannel(t, "xss", "party")
		want(t, c.do(t, req{method: "PATCH", path: "/api/v1/channels/xss", body: map[string]any{
			"title": payloads[0], "bio": strings.Join(payloads, "\n"), "display_name": payloads[2]}}), 200)
		anon := ts.anon()
		for _, path := range []string{"/api/v1/channels/xss", "/api/v1/channels?q=script", "/api/v1/channels?q=%3Cscript"} {
			r := want(t, anon.get(t, path), 200)
			if bytes.ContainsAny(r.body, "<>") {
				t.Errorf("%s: raw < or > in the JSON: %s", path, r.body)
			}
			h := r.header
			if !strings.HasPrefix(h.Get("Content-Type"), "application/json") || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s headers: %v", path, h)
			}
		}
		ch := want(t, anon.get(t, "/api/v1/channels/xss"), 200).json(t)
		if ch["title"] != payloads[0] || ch["bio"] != strings.Join(payloads, "\n") || ch["display_name"] != payloads[2] ||
			ch["owner"].(map[string]any)["display_name"] != payloads[1] {
			t.Errorf("text not kept verbatim: %v", ch)
		}
		if items := want(t, anon.get(t, "/api/v1/channels?q="+url.QueryEscape("<script>")), 200).json(t)["items"].([]any); len(items) != 1 {
			t.Errorf("searching for the markup found %d channels, want 1", len(items))
		}
	})
}

func TestSearchTreatsSQLMetacharactersAsText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		c := ts.admin(t, "admin@example.com")
		for slug, title := range map[string]string{"pct": "100% live", "und": "snake_case", "quo": "rock 'n' roll", "plain": "nothing special"} {
			c.createChannel(t, slug, "music")
			want(t, c.do(t, req{method: "PATCH", path: "/api/v1/channels/" + slug, body: map[string]string{"title": title}}), 200)
		}
		anon := ts.anon()
		for q, n := range map[string]int{
			"%": 1, "_": 1, "'": 1, `\`: 0, "' OR '1'='1": 0, "%' OR 1=1 --": 0, "\"; DROP TABLE users; --": 0,
			"'; DELETE FROM channels; --": 0, "NOTHING": 1, "channel": 4,
		} {
			r := want(t, anon.get(t, "/api/v1/channels?q="+url.QueryEscape(q)), 200)
			if items := r.json(t)["items"].([]any); len(items) != n {
				t.Errorf("q=%q: %d channels, want %d", q, len(items), n)
			}
		}
		if items := want(t, anon.get(t, "/api/v1/channels"), 200).json(t)["items"].([]any); len(items) != 4 {
			t.Errorf("%d channels after hostile searches, want 4", len(items))
		}
		want(t, c.get(t, "/api/v1/auth/me"), 200) // users table intact
	})
}

func TestAvatarUploadIsServedWithItsSniffedTypeAndReplacesTheOldFile(t *testing.T) {
	ts := start(t, "")
	c := ts.signUp(t, "pic@example.com")
	c.createChannel(t, "pictured", "art")
	first := want(t, c.do(t, req{method: "PUT", path: "/api/v1/channels/pictured/avatar", body: pngBytes(t, 32, 32), contentType: "image/png"}), 200).json(t)
	second := want(t, c.do(t, req{method: "PUT", path: "/api/v1/channels/pictured/avatar", body: pngBytes(t, 16, 16)}), 200).json(t)
	u1, u2 := first["avatar_url"].(string), second["avatar_url"].(string)
	if !strings.HasPrefix(u2, "/avatars/") || u1 == u2 {
		t.Fatalf("avatar urls %q then %q", u1, u2)
	}
	r := want(t, ts.anon().get(t, u2), 200)
	if r.header.Get("Content-Type") != "image/png" || !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") ||
		!bytes.Equal(r.body, pngBytes(t, 16, 16)) {
		t.Errorf("avatar served with %v", r.header)
	}
	if r := ts.anon().get(t, u1); r.status != 404 {
		t.Errorf("the replaced avatar is still served: %d", r.status)
	}
	if ch := want(t, ts.anon().get(t, "/api/v1/channels/pictured"), 200).json(t); ch["avatar_url"] != u2 {
		t.Errorf("channel avatar_url = %v", ch["avatar_url"])
	}
	for _, p := range []string{"/avatars/../livehouse.db", "/avatars/x.png", "/avatars/" + url.PathEscape("../../etc/passwd")} {
		if r := ts.anon().get(t, p); r.status != 404 && r.status != 400 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

func TestDirectoryPagesByCursorWithoutRepeatsOrGaps(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		st := ts.srv.Store()
		for i := range 30 {
			if _, _, err := st.CreateChannelWith(t.Context(), store.NewChannel{Slug: fmt.Sprintf("page-%02d", i),
				Profile: store.Profile{Category: "food", Tags: []string{"paged"}}}); err != nil {
				t.Fatal(err)
			}
		}
		anon := ts.anon()
		seen := map[string]bool{}
		path := "/api/v1/channels?tag=paged&limit=7"
		pages := 0
		for {
			m := want(t, anon.get(t, path), 200).json(t)
			for _, it := range m["items"].([]any) {
				slug := it.(map[string]any)["slug"].(string)
				if seen[slug] {
					t.Errorf("%s listed twice", slug)
				}
				seen[slug] = true
			}
			pages++
			next, ok := m["next_cursor"].(string)
			if !ok {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			path = "/api/v1/channels?tag=paged&limit=7&cursor=" + url.QueryEscape(next)
		}
		if len(seen) != 30 || pages != 5 {
			t.Errorf("%d channels over %d pages, want 30 over 5", len(seen), pages)
		}
		cats := want(t, anon.get(t, "/api/v1/categories"), 200).json(t)["items"].([]any)
		if len(cats) != 21 || cats[0].(map[string]any)["name"] != "Sports" || cats[20].(map[string]any)["slug"] != "wellness" {
			t.Errorf("categories = %v", cats)
		}
	})
}
