package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/live"
	"github.com/livehouse/livehouse/internal/store"
)

func heartbeatRouter(t *testing.T) (http.Handler, *channel.Viewers) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "lh.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v := channel.NewViewers(channel.ViewersConfig{Store: st})
	return NewRouter(Config{Origin: http.NotFoundHandler(), Viewers: v, Metrics: prometheus.NewRegistry()}), v
}

func beat(h http.Handler, slug, viewerID, peer string, xff ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/api/v1/channels/"+slug+"/heartbeat", strings.NewReader(`{"viewer_id":"`+viewerID+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = peer
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHeartbeatsCountAHouseholdPerNetworkNotEveryMadeUpID(t *testing.T) {
	h, v := heartbeatRouter(t)
	v.Start(live.BroadcastInfo{Slug: "on-air", BroadcastID: "b"})
	for i := range 50 {
		if w := beat(h, "on-air", fmt.Sprintf("phantom-%03d", i), "198.51.100.7:4000"); w.Code != http.StatusNoContent {
			t.Fatalf("heartbeat %d: %d %s", i, w.Code, w.Body)
		}
	}
	for i := range 3 { // one IPv6 /64, several addresses
		beat(h, "on-air", fmt.Sprintf("v6-viewer-%d", i), fmt.Sprintf("[2001:db8:1:2::%d]:4000", i+1))
	}
	if n, _ := v.Count("on-air"); n != 5+3 {
		t.Errorf("viewers = %d, want 5 from the flooding address + 3 from the IPv6 network", n)
	}
}

func TestHeartbeatForAChannelNotLiveIs404(t *testing.T) {
	h, _ := heartbeatRouter(t)
	w := beat(h, "off-air", "viewer-0001", "198.51.100.7:4000")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("heartbeat off the air: %d %s, want 404 with an error object", w.Code, w.Body)
	}
}
