package live

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/media"
	"github.com/livehouse/livehouse/internal/store"
	"github.com/livehouse/livehouse/internal/transcode"
)

// memStore is an in-memory Store with one channel per key.
type memStore struct {
	mu       sync.Mutex
	channels map[string]store.Channel // by key
	sessions map[string]store.Session
	n        int
	// endHold, when set, holds EndSession until it is closed, after
	// telling ending; it stands for a slow database during a teardown.
	endHold chan struct{}
	ending  chan struct{}
}

func newMemStore(slugs ...string) *memStore {
	s := &memStore{channels: map[string]store.Channel{}, sessions: map[string]store.Session{}}
	for i, slug := range slugs {
		s.channels["key-"+slug] = store.Channel{ID: fmt.Sprintf("ch%d", i+1), Slug: slug}
	}
	return s
}

func (s *memStore) ChannelByKey(_ context.Context, key string) (store.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[key]
	if !ok {
		return store.Channel{}, store.ErrNotFound
	}
	return ch, nil
}

func (s *memStore) ListChannels(context.Context) ([]store.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Channel
	for _, ch := range s.channels {
		out = append(out, ch)
	}
	return out, nil
}

func (s *memStore) StartSession(_ context.Context, channelID, broadcastID, ladder string, at time.Time) (store.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	sess := store.Session{ID: fmt.Sprintf("s%d", s.n), ChannelID: channelID, BroadcastID: broadcastID, StartedAt: at, Ladder: ladder}
	s.sessions[sess.ID] = sess
	return sess, nil
}

func (s *memStore) EndSession(_ context.Context, id string, at time.Time, reason string) error {
	s.mu.Lock()
	hold, ending := s.endHold, s.ending
	s.mu.Unlock()
	if hold != nil {
		ending <- struct{}{}
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	sess.EndedAt, sess.EndReason = at, reason
	s.sessions[id] = sess
	return nil
}

type testRig struct {
	m      *Manager
	origin *hls.Origin
	store  *memStore
	srv    *httptest.Server
}

// startManager runs a Manager over a real origin served on loopback, with
// channel "chan" whose key is "key-chan".
func startManager(t *testing.T, cfg Config) *testRig {
	t.Helper()
	r := &testRig{origin: hls.NewOrigin(nil), store: newMemStore("chan", "other")}
	cfg.Store, cfg.Origin = r.store, r.origin
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Ladder.Renditions == nil {
		cfg.Ladder = transcode.DefaultLadder()
	}
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = "/nonexistent/ffmpeg" // no transcoding unless a test asks
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	r.srv = httptest.NewServer(r.origin)
	t.Cleanup(func() {
		m.Close()
		r.srv.Close()
		r.origin.Close()
	})
	return r
}

var testAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// testTracks has a real x264 parameter set, so init segments are valid;
// the size given is what the ladder plans for.
func testTracks(width, height int) media.Tracks {
	return media.Tracks{
		Video: &media.H264{SPS: mustHex("6742c01eda0280bfe5c044000003000400000300f03c58ba80"), PPS: mustHex("68ce0fc8"),
			Width: width, Height: height, FPS: 30},
		Audio: &media.AAC{Config: []byte{0x11, 0x90}, SampleRate: 48000, Channels: 2},
	}
}

// feed writes n frames of a synthetic 30 fps stream with a key frame every
// second, starting at frame first, into p.
func feed(p *Publication, first, n int) {
	for i := first; i < first+n; i++ {
		pts := int64(i) * 3000
		key := i%30 == 0
		nalu := []byte{0x41, 0x9a, byte(i)}
		if key {
			nalu = []byte{0x65, 0x88, byte(i)}
		}
		p.Write(&media.Unit{Kind: media.KindVideo, PTS: pts, DTS: pts, Key: key, NTP: time.Now(), Payload: [][]byte{nalu}})
	}
}

// goLive publishes channel "chan" with a 640x360 source and feeds it ten
// frames, so its broadcast is on the air.
func (r *testRig) goLive(t *testing.T) *Publication {
	t.Helper()
	p, err := r.m.Publish(context.Background(), "key-chan", testAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Begin(testTracks(640, 360)); err != nil {
		t.Fatal(err)
	}
	feed(p, 0, 10)
	return p
}

func (r *testRig) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get(r.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
