package hls

import (
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/media"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// A real 640x360 x264 parameter set, so init segments are valid.
var (
	testSPS = mustHex("6742c01eda0280bfe5c044000003000400000300f03c58ba80")
	testPPS = mustHex("68ce0fc8")
)

func testTracks() media.Tracks {
	return media.Tracks{
		Video: &media.H264{SPS: testSPS, PPS: testPPS, Width: 640, Height: 360},
		Audio: &media.AAC{Config: []byte{0x11, 0x90}, SampleRate: 48000, Channels: 2},
	}
}

// feeder writes a synthetic 30 fps stream with a key frame every gop frames
// into some renditions of a ladder.
type feeder struct {
	t      *testing.T
	rends  []*Rendition
	gop    int
	frame  int
	offset int64 // added to timestamps, to model a transcoder's timeline
	t0     time.Time
	audio  int64
}

func newFeeder(t *testing.T, gop int, rends ...*Rendition) *feeder {
	for _, r := range rends {
		r.Begin(testTracks())
	}
	return &feeder{t: t, rends: rends, gop: gop, t0: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *feeder) frames(n int) {
	for range n {
		pts := int64(f.frame) * 3000
		key := f.frame%f.gop == 0
		nalu := []byte{0x41, 0x9a, byte(f.frame)}
		if key {
			nalu = []byte{0x65, 0x88, byte(f.frame)}
		}
		u := &media.Unit{Kind: media.KindVideo, PTS: pts, DTS: pts, Key: key,
			NTP: f.t0.Add(time.Duration(pts) * time.Second / 90000), Payload: [][]byte{nalu}}
		for _, r := range f.rends {
			r.Write(u)
		}
		// 48 kHz audio: 1024-sample frames, written as video time passes.
		for f.audio*90000/48000 <= pts {
			a := &media.Unit{Kind: media.KindAudio, PTS: f.audio, DTS: f.audio, Payload: [][]byte{{0x21, 0x10}}}
			for _, r := range f.rends {
				r.Write(a)
			}
			f.audio += 1024
		}
		f.frame++
	}
}

func newTestLadder(t *testing.T, names ...string) *Ladder {
	t.Helper()
	l, err := NewLadder("b1", names, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func serve(t *testing.T, l *Ladder) *httptest.Server {
	t.Helper()
	o := NewOrigin(nil)
	t.Cleanup(o.Close)
	o.Publish("chan", l)
	srv := startOrigin(o)
	t.Cleanup(srv.Close)
	return srv
}

// startOrigin serves o as the real server does: media goes out with
// sendfile where it can.
func startOrigin(o *Origin) *httptest.Server {
	srv := httptest.NewUnstartedServer(o)
	srv.Config.ConnContext = ConnContext
	srv.Start()
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestMediaPlaylistHasLowLatencyTags(t *testing.T) {
	l := newTestLadder(t, "source")
	f := newFeeder(t, 30, l.Renditions()...)
	f.frames(75) // 2.5 s: two complete segments and an open one
	srv := serve(t, l)
	res, body := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	for _, want := range []string{
		"#EXT-X-VERSION:9",
		"#EXT-X-TARGETDURATION:2",
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.00000,PART-HOLD-BACK=0.60000",
		"#EXT-X-PART-INF:PART-TARGET=0.20000",
		"#EXT-X-MEDIA-SEQUENCE:0",
		`#EXT-X-MAP:URI="init1.mp4"`,
		"#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.000Z",
		`#EXT-X-PART:DURATION=0.20000,URI="part0.0.m4s",INDEPENDENT=YES`,
		`#EXT-X-PART:DURATION=0.20000,URI="part0.1.m4s"` + "\n",
		"#EXTINF:1.00000,\nseg0.m4s",
		"#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:06.000Z",
		`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part2.`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("playlist lacks %q:\n%s", want, body)
		}
	}
	if got := res.Header.Get("Content-Type"); got != "application/vnd.apple.mpegurl" {
		t.Errorf("Content-Type = %q", got)
	}
	// Every part is at most the part target, as the spec requires.
	for _, m := range regexp.MustCompile(`PART:DURATION=([0-9.]+)`).FindAllStringSubmatch(body, -1) {
		if d, _ := strconv.ParseFloat(m[1], 64); d > 0.2 {
			t.Errorf("part of %v s exceeds PART-TARGET", d)
		}
	}
}

func TestBlockingReloadWaitsForNextPart(t *testing.T) {
	l := newTestLadder(t, "source")
	f := newFeeder(t, 30, l.Renditions()...)
	f.frames(31) // segment 0 complete, segment 1 open with no part
	srv := serve(t, l)

	done := make(chan string, 1)
	go func() {
		_, body := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8?_HLS_msn=1&_HLS_part=0")
		done <- body
	}()
	select {
	case <-done:
		t.Fatal("blocking request answered before the part existed")
	case <-time.After(150 * time.Millisecond):
	}
	f.frames(7)
	select {
	case body := <-done:
		if !strings.Contains(body, `URI="part1.0.m4s"`) {
			t.Fatalf("answer lacks the awaited part:\n%s", body)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocking request not answered after the part appeared")
	}
}

func TestBlockingRequestForPartAfterClosedSegmentGetsPartZeroOfNext(t *testing.T) {
	l := newTestLadder(t, "source")
	f := newFeeder(t, 30, l.Renditions()...)
	f.frames(31) // segment 0 closed with parts 0..4
	srv := serve(t, l)

	done := make(chan *http.Response, 1)
	bodies := make(chan string, 1)
	go func() {
		res, body := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8?_HLS_msn=0&_HLS_part=5")
		done <- res
		bodies <- body
	}()
	select {
	case <-done:
		t.Fatal("answered before part 0 of segment 1 existed")
	case <-time.After(150 * time.Millisecond):
	}
	f.frames(7) // part 1.0 appears; segment 1 is far from closed
	select {
	case res := <-done:
		body := <-bodies
		if !strings.Contains(body, `URI="part1.0.m4s"`) {
			t.Fatalf("answer lacks part1.0:\n%s", body)
		}
		if strings.Contains(body, "seg1.m4s") {
			t.Fatal("server waited for segment 1 to close; the spec says answer at part 0")
		}
		if cc := res.Header.Get("Cache-Control"); cc != cacheBlocking {
			t.Errorf("blocking answer Cache-Control = %q", cc)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("rollover request never answered")
	}
}

func TestBlockingRequestTooFarAheadIsRefused(t *testing.T) {
	l := newTestLadder(t, "source")
	newFeeder(t, 30, l.Renditions()...).frames(40)
	srv := serve(t, l)
	res, body := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8?_HLS_msn=9&_HLS_part=0")
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", res.StatusCode, body)
	}
}

func TestBadDeliveryDirectivesGetClearErrors(t *testing.T) {
	l := newTestLadder(t, "source")
	newFeeder(t, 30, l.Renditions()...).frames(40)
	srv := serve(t, l)
	for _, q := range []string{
		"_HLS_msn=abc", "_HLS_part=1", "_HLS_msn=-1", "_HLS_msn=1&_HLS_msn=2",
		"_HLS_msn=1&_HLS_part=x", "_HLS_skip=NO", "_HLS_msn=99999999999999999999",
	} {
		res, body := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8?"+q)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "_HLS_") {
			t.Errorf("%s: status %d body %q, want 400 naming the directive", q, res.StatusCode, body)
		}
	}
}

func TestDeltaUpdateSkipsOldSegments(t *testing.T) {
	l := newTestLadder(t, "source")
	newFeeder(t, 30, l.Renditions()...).frames(30*17 + 10)
	srv := serve(t, l)
	_, full := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8")
	_, delta := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8?_HLS_skip=YES")
	m := regexp.MustCompile(`#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)`).FindStringSubmatch(delta)
	if m == nil {
		t.Fatalf("delta update has no EXT-X-SKIP:\n%s", delta)
	}
	n, _ := strconv.Atoi(m[1])
	// 17 complete 1 s segments; CAN-SKIP-UNTIL is 12 s, so the oldest 5 go.
	if n != 5 {
		t.Errorf("skipped %d segments, want 5", n)
	}
	for i := range n {
		if strings.Contains(delta, fmt.Sprintf("\nseg%d.m4s", i)) || !strings.Contains(full, fmt.Sprintf("\nseg%d.m4s", i)) {
			t.Errorf("segment %d: skipped wrongly", i)
		}
	}
	if !strings.Contains(delta, "#EXT-X-MAP") {
		t.Error("delta update must keep EXT-X-MAP for the remaining segments")
	}
}

func TestFollowersAlignSegmentsWithLeaderAndReportEachOther(t *testing.T) {
	l := newTestLadder(t, "source", "480p", "360p")
	rs := l.Renditions()
	f := newFeeder(t, 30, rs...)
	f.frames(100)
	srv := serve(t, l)
	var lists []string
	for _, r := range rs {
		_, body := get(t, srv.URL+"/hls/chan/b1/"+r.Name()+"/index.m3u8")
		lists = append(lists, body)
	}
	segs := regexp.MustCompile(`(?m)^#EXT-X-PROGRAM-DATE-TIME:.*\n(?:#EXT-X-PART.*\n)*#EXTINF:.*\nseg\d+\.m4s$`)
	want := segs.FindAllString(lists[0], -1)
	strip := regexp.MustCompile(`#EXT-X-PART.*\n`)
	for i, body := range lists[1:] {
		got := segs.FindAllString(body, -1)
		if len(got) != len(want) {
			t.Fatalf("%s has %d segments, leader %d", rs[i+1].Name(), len(got), len(want))
		}
		for j := range got {
			if strip.ReplaceAllString(got[j], "") != strip.ReplaceAllString(want[j], "") {
				t.Errorf("%s segment %d differs:\n%s\nleader:\n%s", rs[i+1].Name(), j, got[j], want[j])
			}
		}
	}
	if !strings.Contains(lists[0], `#EXT-X-RENDITION-REPORT:URI="../480p/index.m3u8",LAST-MSN=3,LAST-PART=`) ||
		!strings.Contains(lists[0], `#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=3,LAST-PART=`) {
		t.Errorf("leader lacks rendition reports:\n%s", lists[0])
	}
	if strings.Contains(lists[1], `URI="../480p/`) {
		t.Error("a rendition reports itself")
	}
}

func TestFollowerRestartFillsGapsAndMarksDiscontinuity(t *testing.T) {
	l := newTestLadder(t, "source", "480p")
	lead, follow := l.Renditions()[0], l.Renditions()[1]
	f := newFeeder(t, 30, lead, follow)
	f.frames(45)
	// The follower's encoder dies: the leader goes on alone for 2 s.
	f.rends = []*Rendition{lead}
	f.frames(60)
	follow.Begin(testTracks())
	f.rends = []*Rendition{lead, follow}
	f.frames(15) // mid-GOP: the follower waits for the next boundary
	f.frames(60)
	srv := serve(t, l)
	_, body := get(t, srv.URL+"/hls/chan/b1/480p/index.m3u8")
	for _, want := range []string{
		"#EXTINF:1.00000,\nseg0.m4s",
		"#EXT-X-GAP\n#EXTINF:1.00000,\nseg2.m4s",
		"#EXT-X-GAP\n#EXTINF:1.00000,\nseg3.m4s",
		"#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init2.mp4\"",
		"#EXTINF:1.00000,\nseg4.m4s",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("follower playlist lacks %q:\n%s", want, body)
		}
	}
	res, _ := get(t, srv.URL+"/hls/chan/b1/480p/seg2.m4s")
	if res.StatusCode != 404 {
		t.Errorf("gap segment served with status %d", res.StatusCode)
	}
}

func TestReconnectContinuesPlaylistWithDiscontinuityAndEndsWithEndlist(t *testing.T) {
	l := newTestLadder(t, "source")
	r := l.Renditions()[0]
	f := newFeeder(t, 30, r)
	f.frames(45)
	r.Begin(testTracks()) // the encoder reconnected
	f.frame += 30         // the live layer rebases timestamps past the gap
	f.frame -= f.frame % 30
	f.frames(45)
	l.End()
	srv := serve(t, l)
	_, body := get(t, srv.URL+"/hls/chan/b1/source/index.m3u8")
	if !strings.Contains(body, "seg1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init2.mp4\"\n#EXT-X-PROGRAM-DATE-TIME") {
		t.Errorf("no discontinuity after the reconnect:\n%s", body)
	}
	if !strings.HasSuffix(body, "#EXT-X-ENDLIST\n") || strings.Contains(body, "PRELOAD-HINT") {
		t.Errorf("ended playlist must end with EXT-X-ENDLIST and no hint:\n%s", body)
	}
	if c := strings.Count(body, "#EXT-X-MEDIA-SEQUENCE:0"); c != 1 {
		t.Error("media sequence restarted")
	}
}

func TestCachePolicy(t *testing.T) {
	l := newTestLadder(t, "source")
	f := newFeeder(t, 30, l.Renditions()...)
	f.frames(40)
	srv := serve(t, l)
	base := srv.URL + "/hls/chan/b1/source/"
	for _, tc := range []struct {
		path, status, cache, ctype string
	}{
		{"/hls/chan/index.m3u8", "200", "public, max-age=1", contentTypePlaylist},
		{"index.m3u8", "200", cachePlain, contentTypePlaylist},
		{"index.m3u8?_HLS_msn=1&_HLS_part=0", "200", cacheBlocking, contentTypePlaylist},
		{"init1.mp4", "200", cacheImmutable, contentTypeMP4},
		{"seg0.m4s", "200", cacheImmutable, contentTypeMP4},
		{"part0.0.m4s", "200", cacheImmutable, contentTypeMP4},
		{"part1.0.m4s", "200", cacheImmutable, contentTypeMP4},
		{"part7.3.m4s", "404", cacheNotYet, "text/plain; charset=utf-8"},
		{"seg9.m4s", "404", cacheNotYet, "text/plain; charset=utf-8"},
		{"/hls/other/index.m3u8", "404", cacheNotYet, "text/plain; charset=utf-8"},
		{"/hls/chan/b2/source/index.m3u8", "404", cacheNotYet, "text/plain; charset=utf-8"},
	} {
		url := base + tc.path
		if strings.HasPrefix(tc.path, "/") {
			url = srv.URL + tc.path
		}
		res, body := get(t, url)
		if strconv.Itoa(res.StatusCode) != tc.status || res.Header.Get("Cache-Control") != tc.cache ||
			res.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %q %q, want %s %q %q (%s)", tc.path, res.StatusCode,
				res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"), tc.status, tc.cache, tc.ctype, body)
		}
		if res.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s sets a cookie", tc.path)
		}
	}
}

func TestPreloadHintedPartIsHeldUntilItExists(t *testing.T) {
	l := newTestLadder(t, "source")
	f := newFeeder(t, 30, l.Renditions()...)
	f.frames(10) // part 0.0 done, 0.1 being built
	srv := serve(t, l)
	done := make(chan int, 1)
	go func() {
		res, _ := get(t, srv.URL+"/hls/chan/b1/source/part0.1.m4s")
		done <- res.StatusCode
	}()
	time.Sleep(100 * time.Millisecond)
	f.frames(5)
	select {
	case code := <-done:
		if code != 200 {
			t.Fatalf("hinted part answered %d", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("hinted part never answered")
	}
}

func TestMultivariantListsEveryRenditionWithAttributes(t *testing.T) {
	l := newTestLadder(t, "source", "360p")
	f := newFeeder(t, 30, l.Renditions()...)
	f.frames(70)
	srv := serve(t, l)
	_, body := get(t, srv.URL+"/hls/chan/index.m3u8")
	re := regexp.MustCompile(`#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1.42c01e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000\nb1/(source|360p)/index.m3u8`)
	if got := re.FindAllString(body, -1); len(got) != 2 {
		t.Fatalf("want two complete variants:\n%s", body)
	}
}

func FuzzParseDirectives(f *testing.F) {
	for _, s := range []string{"", "_HLS_msn=1", "_HLS_msn=1&_HLS_part=2", "_HLS_skip=YES", "_HLS_part=1", "_HLS_msn=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := urlParseQuery(raw)
		if err != nil {
			return
		}
		d, err := ParseDirectives(q)
		if err != nil {
			return
		}
		if d.HasPart && !d.Block {
			t.Fatal("part without msn accepted")
		}
		if d.MSN > maxDirectiveValue || d.Part > maxDirectiveValue {
			t.Fatal("out-of-range value accepted")
		}
	})
}

func urlParseQuery(raw string) (map[string][]string, error) { return url.ParseQuery(raw) }

func TestMultivariantDoesNotWaitForIdleOrEndedRenditions(t *testing.T) {
	l := newTestLadder(t, "source", "480p", "360p")
	rends := l.Renditions()
	f := newFeeder(t, 30, rends[0])
	f.frames(10)
	rends[1].Idle() // its transcoder cannot run
	rends[2].End()  // its transcoder could not be built
	srv := serve(t, l)
	start := time.Now()
	res, body := get(t, srv.URL+"/hls/chan/index.m3u8")
	if took := time.Since(start); took > time.Second {
		t.Errorf("multivariant took %v; it waited for renditions without a producer", took)
	}
	if res.StatusCode != 200 || !strings.Contains(body, "b1/source/index.m3u8") ||
		strings.Contains(body, "480p") || strings.Contains(body, "360p") {
		t.Fatalf("status %d, want only the source listed:\n%s", res.StatusCode, body)
	}

	// An ended rendition that had media leaves the multivariant while the
	// others go on, and the idle one comes back once it produces again.
	newFeeder(t, 30, rends[1]).frames(10)
	_, body = get(t, srv.URL+"/hls/chan/index.m3u8")
	if !strings.Contains(body, "b1/480p/index.m3u8") {
		t.Errorf("a producing rendition is not listed:\n%s", body)
	}
	rends[1].End()
	_, body = get(t, srv.URL+"/hls/chan/index.m3u8")
	if strings.Contains(body, "480p") {
		t.Errorf("an ended rendition is still listed:\n%s", body)
	}
}

func TestTargetDurationNeverChangesWhenALongSegmentCloses(t *testing.T) {
	var logs strings.Builder
	l, err := NewLadder("b1", []string{"source"}, Config{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rend := l.Renditions()[0]
	var rendered []string
	f := newFeeder(t, 30, rend)
	for range 30 * 3 { // three 1 s segments
		f.frames(1)
		rendered = append(rendered, string(rend.playlist[0]))
	}
	f.gop = 120 // then an encoder sending a key frame every 4 s
	for range 120*2 + 1 {
		f.frames(1)
		rendered = append(rendered, string(rend.playlist[0]))
	}
	if !strings.Contains(rendered[len(rendered)-1], "#EXTINF:4.00000,") {
		t.Fatalf("no 4 s segment closed:\n%s", rendered[len(rendered)-1])
	}
	for _, p := range rendered {
		if p != "" && !strings.Contains(p, "#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.00000,") {
			t.Fatalf("target or skip limit changed:\n%s", p)
		}
	}
	if n := strings.Count(logs.String(), "segment longer than the target duration"); n != 1 {
		t.Errorf("%d warnings about the long segments, want 1:\n%s", n, logs.String())
	}
}

func TestConfigTargetDurationIsWholeSecondsCoveringSegmentMin(t *testing.T) {
	for _, tc := range []struct {
		in       Config
		target   time.Duration
		segments int
	}{
		{Config{}, 2 * time.Second, 18},
		{Config{TargetDuration: 1500 * time.Millisecond}, 2 * time.Second, 18},
		{Config{TargetDuration: time.Second}, time.Second, 12},
		{Config{SegmentMin: 3 * time.Second}, 3 * time.Second, 12},
		{Config{TargetDuration: time.Second, SegmentMin: 1500 * time.Millisecond}, 2 * time.Second, 14},
		{Config{TargetDuration: 4 * time.Second, SegmentMin: 2 * time.Second, SegmentCount: 9}, 4 * time.Second, 9},
	} {
		got := tc.in.withDefaults()
		if got.TargetDuration != tc.target || got.SegmentCount != tc.segments {
			t.Errorf("%+v: target %v, %d segments; want %v, %d", tc.in, got.TargetDuration, got.SegmentCount, tc.target, tc.segments)
		}
	}
}
