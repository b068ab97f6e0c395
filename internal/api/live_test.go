package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/livetest"
)

func requireFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skipf("ffmpeg is not installed (apt-get install -y ffmpeg): %v", err)
	}
}

// hookReceiver is a real webhook endpoint on loopback.
type hookReceiver struct {
	mu     sync.Mutex
	bodies map[string][]byte // by event
	sigs   map[string]string
}

func newHookReceiver(t *testing.T) (*hookReceiver, string) {
	h := &hookReceiver{bodies: map[string][]byte{}, sigs: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies[r.Header.Get("X-Livehouse-Event")] = b
		h.sigs[r.Header.Get("X-Livehouse-Event")] = r.Header.Get(channel.SignatureHeader)
		h.mu.Unlock()
		w.WriteHeader(204)
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL + "/hook"
}

func (h *hookReceiver) got(event string) ([]byte, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bodies[event], h.sigs[event]
}

// TestGoingLiveNotifiesFollowersAndSuspensionEndsTheStreamAtOnce drives the
// whole platform with a real ffmpeg publisher: a creator makes a channel and
// a webhook, a viewer follows, the stream goes live (directory, follower
// notification, signed webhook, heartbeat viewer counts), then an admin
// suspends the creator: the stream ends at once, the key is refused, and
// the broadcast keeps its peak viewers.
func TestGoingLiveNotifiesFollowersAndSuspensionEndsTheStreamAtOnce(t *testing.T) {
	requireFFmpeg(t)
	baseChildren := childProcesses(t)
	ts := start(t, "")
	defer func() {
		ts.stop()
		waitFor(t, 5*time.Second, "ffmpeg processes to exit", func() bool { return len(childProcesses(t)) <= len(baseChildren) })
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	creator := ts.signUp(t, "creator@example.com")
	key := creator.createChannel(t, "on-air", "music")
	want(t, creator.do(t, req{method: "PATCH", path: "/api/v1/channels/on-air", body: map[string]any{"title": "Live jazz", "tags": []string{"jazz"}}}), 200)
	hooks, hookURL := newHookReceiver(t)
	hook := want(t, creator.do(t, req{method: "POST", path: "/api/v1/channels/on-air/webhooks",
		body: map[string]any{"url": hookURL, "events": []string{"live", "offline"}}}), 201).json(t)
	secret := hook["secret"].(string)
	ts.secret(secret)
	if list := want(t, creator.get(t, "/api/v1/channels/on-air/webhooks"), 200); strings.Contains(string(list.body), secret) {
		t.Error("the webhook list reveals the secret")
	}
	fan := ts.signUp(t, "fan@example.com")
	want(t, fan.do(t, req{method: "PUT", path: "/api/v1/channels/on-air/follow"}), 204)
	admin := ts.admin(t, "admin@example.com")

	rtmp := "rtmp://" + ts.srv.RTMPAddr() + "/live/"
	pub, err := livetest.Publish(ctx, "", livetest.Source{Width: 640, Height: 360, FPS: 30}, rtmp+key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Kill()
	anon := ts.anon()
	waitFor(t, 20*time.Second, "the channel to be live in the directory", func() bool {
		items := want(t, anon.get(t, "/api/v1/channels?live=true&category=music"), 200).json(t)["items"].([]any)
		return len(items) == 1 && items[0].(map[string]any)["live"] == true
	})
	card := want(t, anon.get(t, "/api/v1/channels?live=true"), 200).json(t)["items"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(card["thumbnail_url"].(string), "/thumbnails/on-air.jpg") || card["started_at"] == nil {
		t.Errorf("live card = %v", card)
	}
	cats := want(t, anon.get(t, "/api/v1/categories"), 200).json(t)["items"].([]any)
	for _, c := range cats {
		if m := c.(map[string]any); (m["slug"] == "music") != (m["live_count"] == 1.0) {
			t.Errorf("category %v", m)
		}
	}

	// Three players send heartbeats; one sends twice.
	for _, id := range []string{"player-one", "player-two", "player-three", "player-one"} {
		want(t, anon.do(t, req{method: "POST", path: "/api/v1/channels/on-air/heartbeat", body: `{"viewer_id":"` + id + `"}`, contentType: "text/plain"}), 204)
	}
	if v := want(t, anon.get(t, "/api/v1/channels/on-air"), 200).json(t)["viewers"]; v != 3.0 {
		t.Errorf("viewers = %v, want 3", v)
	}
	waitFor(t, 5*time.Second, "the directory to show 3 viewers", func() bool {
		items := want(t, anon.get(t, "/api/v1/channels?live=true"), 200).json(t)["items"].([]any)
		return items[0].(map[string]any)["viewers"] == 3.0
	})

	// An ad break: impressions count only for players whose heartbeats are
	// counted on the channel, not for ids a script makes up.
	want(t, admin.do(t, req{method: "POST", path: "/api/v1/admin/ads", body: map[string]any{
		"name": "spring", "kind": "image", "url": "data:image/png;base64,iVBORw0KGgo=", "cpm": 1000, "categories": []string{"music"}}}), 201)
	brk := want(t, creator.do(t, req{method: "POST", path: "/api/v1/channels/on-air/ad-breaks", body: map[string]any{"duration": 30}}), 201).json(t)
	brkID, _ := brk["id"].(string)
	if brkID == "" {
		t.Fatalf("ad break = %v", brk)
	}
	impression := func(viewer string) response {
		return anon.do(t, req{method: "POST", path: "/api/v1/ad-breaks/" + brkID + "/impressions", body: map[string]string{"viewer_id": viewer}})
	}
	if r := impression("made-up-viewer"); r.status != 409 || r.errCode() != "not_watching" {
		t.Errorf("impression from an id that sends no heartbeats: %s, want 409 not_watching", r)
	}
	want(t, impression("player-two"), 204)

	// The follower is notified; the webhook fires, signed.
	waitFor(t, 5*time.Second, "the follower's notification", func() bool {
		m := want(t, fan.get(t, "/api/v1/me/notifications"), 200).json(t)
		items := m["items"].([]any)
		return len(items) == 1 && m["unread"] == 1.0 && items[0].(map[string]any)["channel"].(map[string]any)["live"] == true
	})
	waitFor(t, 5*time.Second, "the live webhook", func() bool { b, _ := hooks.got("live"); return b != nil })
	body, sig := hooks.got("live")
	if sig != channel.Sign(secret, body) {
		t.Errorf("live webhook signature %q does not match the body", sig)
	}
	var payload channel.Payload
	if err := json.Unmarshal(body, &payload); err != nil || payload.Channel.Slug != "on-air" || payload.Channel.Title != "Live jazz" {
		t.Errorf("live payload %s: %v", body, err)
	}
	if h := want(t, creator.get(t, "/api/v1/channels/on-air/health"), 200).json(t); h["state"] != "live" {
		t.Errorf("health = %v", h)
	}

	// The admin suspends the creator: the stream is off the air when the
	// answer arrives.
	owner := creator.user["id"].(string)
	asked := time.Now()
	want(t, admin.do(t, req{method: "PATCH", path: "/api/v1/admin/users/" + owner, body: map[string]string{"status": "suspended"}}), 200)
	took := time.Since(asked)
	if r := anon.get(t, "/hls/on-air/index.m3u8"); r.status != 404 {
		t.Errorf("playlist right after the suspension: %d, want 404", r.status)
	}
	if took > 3*time.Second {
		t.Errorf("suspension took %v", took)
	}
	ch := want(t, admin.get(t, "/api/v1/channels/on-air"), 200).json(t)
	if ch["live"] != false {
		t.Errorf("channel still live: %v", ch)
	}
	if r := anon.get(t, "/api/v1/channels/on-air"); r.status != 404 {
		t.Errorf("the public still sees a suspended owner's channel: %d", r.status)
	}
	if r := creator.get(t, "/api/v1/auth/me"); r.status != 403 {
		t.Errorf("suspended creator's session: %s, want 403", r)
	}
	bs := want(t, admin.get(t, "/api/v1/channels/on-air/broadcasts"), 200).json(t)["items"].([]any)
	if len(bs) != 1 {
		t.Fatalf("broadcasts = %v", bs)
	}
	b := bs[0].(map[string]any)
	if b["live"] != false || b["peak_viewers"] != 3.0 || !strings.Contains(b["end_reason"].(string), "suspended") {
		t.Errorf("broadcast = %v, want ended by the suspension with peak 3", b)
	}
	waitFor(t, 5*time.Second, "the offline webhook", func() bool { b, _ := hooks.got("offline"); return b != nil })
	offline, _ := hooks.got("offline")
	if err := json.Unmarshal(offline, &payload); err != nil || payload.Broadcast.PeakViewers == nil || *payload.Broadcast.PeakViewers != 3 {
		t.Errorf("offline payload %s", offline)
	}

	// The key is refused while the owner is suspended.
	pub.Kill()
	again, err := livetest.Publish(ctx, "", livetest.Source{Width: 640, Height: 360, FPS: 30, Duration: 5}, rtmp+key)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-again.Done():
	case <-time.After(10 * time.Second):
		again.Kill()
		t.Error("a suspended owner's key was not refused")
	}
	if r := anon.get(t, "/hls/on-air/index.m3u8"); r.status != 404 {
		t.Errorf("playlist after the refused publish: %d", r.status)
	}
	if !strings.Contains(ts.logs.String(), "the owner of channel on-air is suspended") {
		t.Error("the store did not refuse the key with its reason")
	}

	// Reinstated, the creator can sign in again and the channel is visible.
	want(t, admin.do(t, req{method: "PATCH", path: "/api/v1/admin/users/" + owner, body: map[string]string{"status": "active"}}), 200)
	want(t, creator.get(t, "/api/v1/auth/me"), 200)
	want(t, anon.get(t, "/api/v1/channels/on-air"), 200)
}

// childProcesses lists the live child processes of this test binary.
func childProcesses(t *testing.T) []string {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	me := strconv.Itoa(os.Getpid())
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == me && fields[0] != "Z" {
			out = append(out, f)
		}
	}
	return out
}

func TestLadderSavedByAnAdminAppliesToTheNextBroadcast(t *testing.T) {
	requireFFmpeg(t)
	ts := start(t, "") // starts with a passthrough-only ladder
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	admin := ts.admin(t, "ops@example.com")
	key := admin.createChannel(t, "laddered", "other")
	want(t, admin.do(t, req{method: "PUT", path: "/api/v1/admin/settings", body: map[string]any{"ladder": map[string]any{
		"encoder": "libx264", "preset": "ultrafast", "renditions": []any{
			map[string]any{"name": "source", "passthrough": true},
			map[string]any{"name": "144p", "height": 144, "video_kbps": 200, "max_fps": 15},
		}}}}), 200)
	pub, err := livetest.Publish(ctx, "", livetest.Source{Width: 320, Height: 240, FPS: 15}, "rtmp://"+ts.srv.RTMPAddr()+"/live/"+key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Kill()
	lt := &livetest.Server{Server: ts.srv, HTTP: ts.base}
	vs, err := lt.WaitMultivariant(ctx, "laddered", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !strings.Contains(vs[1].URI+vs[0].URI, "144p/") {
		t.Errorf("variants = %+v, want source and 144p", vs)
	}
	h := want(t, admin.get(t, "/api/v1/channels/laddered/health"), 200).json(t)
	if ladder := h["ladder"].([]any); len(ladder) != 2 {
		t.Errorf("health ladder = %v", ladder)
	}
}

// TestSignedInViewersBehindOneAddressAreEachCounted: anonymous players from
// one address count as a household (5), but signed-in viewers behind the
// same address, as at an office all-hands, each count, up to a household
// of their own devices.
func TestSignedInViewersBehindOneAddressAreEachCounted(t *testing.T) {
	requireFFmpeg(t)
	ts := start(t, "")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	creator := ts.signUp(t, "allhands@example.com")
	key := creator.createChannel(t, "all-hands", "networking")
	pub, err := livetest.Publish(ctx, "", livetest.Source{Width: 320, Height: 240, FPS: 15}, "rtmp://"+ts.srv.RTMPAddr()+"/live/"+key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Kill()
	anon := ts.anon()
	waitFor(t, 20*time.Second, "the channel to be live", func() bool {
		return want(t, anon.get(t, "/api/v1/channels/all-hands"), 200).json(t)["live"] == true
	})
	beat := func(c *client, id string) {
		want(t, c.do(t, req{method: "POST", path: "/api/v1/channels/all-hands/heartbeat", body: `{"viewer_id":"` + id + `"}`, contentType: "text/plain"}), 204)
	}
	for i := range 8 {
		beat(anon, fmt.Sprintf("anon-player-%d", i))
	}
	staff := make([]*client, 4)
	for i := range staff {
		staff[i] = ts.signUp(t, fmt.Sprintf("staff%d@example.com", i))
		beat(staff[i], fmt.Sprintf("staff-player-%d", i))
	}
	for i := range 8 { // one account's many tabs are still one household
		beat(staff[0], fmt.Sprintf("staff0-tab-%d", i))
	}
	if v := want(t, anon.get(t, "/api/v1/channels/all-hands"), 200).json(t)["viewers"]; v != 5.0+4+4 {
		t.Errorf("viewers = %v, want 5 anonymous + 4 signed-in + 4 more tabs of one account", v)
	}
}
