package e2e

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/transcode"
)

// The edge test runs a real nginx proxy_cache in front of the origin and many
// LL-HLS players through it, and checks what DESIGN.md promises: about one
// origin request per URL, and players that stay at the live edge.

const (
	edgePlayers = 60
	edgeWatch   = 9 * time.Second
	edgeStagger = time.Second // players join over this long
	// nginx wakes requests waiting on proxy_cache_lock by a 500 ms timer
	// (ngx_http_file_cache.c), not when the lock holder's answer arrives,
	// so a player collapsed behind another's blocking request sees a new
	// part 0–500 ms after the origin answers: a median near 250 ms.
	edgeMedianDelay = 300 * time.Millisecond
	edgeP90Delay    = 600 * time.Millisecond
)

// edgeNginxConf is the edge configuration under test: a plain proxy_cache
// that honours the origin's Cache-Control, with proxy_cache_lock collapsing
// concurrent misses of one URL into one origin request.
const edgeNginxConf = `daemon off;
master_process off;
worker_processes 1;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log info;
events { worker_connections 4096; }
http {
    log_format edge '$msec "$request" $status $upstream_cache_status $request_time';
    access_log {{dir}}/access.log edge;
    client_body_temp_path {{dir}}/client_body;
    proxy_temp_path {{dir}}/proxy_temp;
    fastcgi_temp_path {{dir}}/fastcgi_temp;
    uwsgi_temp_path {{dir}}/uwsgi_temp;
    scgi_temp_path {{dir}}/scgi_temp;
    proxy_cache_path {{dir}}/cache levels=1:2 keys_zone=hls:16m max_size=256m inactive=10m use_temp_path=off;
    # A plain playlist request (no _HLS_msn) changes with every part and is
    # max-age=0 at the origin: pass it straight through, so proxy_cache_lock
    # does not queue players behind an answer it cannot cache.
    map $request_uri $lh_plain_playlist {
        ~^/hls/[^/]+/[^/]+/[^/]+/index\.m3u8(\?_HLS_skip=(YES|v2))?$ 1;
        default 0;
    }
    upstream origin {
        server {{upstream}};
        keepalive 64;
    }
    server {
        listen {{listen}};
        location /hls/ {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering on;
            proxy_read_timeout 15s;
            proxy_cache hls;
            # Blocking playlist requests differ only by query string.
            proxy_cache_key $scheme$host$request_uri;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_lock_age 5s;
            proxy_cache_bypass $lh_plain_playlist;
            proxy_no_cache $lh_plain_playlist;
            # Only for responses without Cache-Control; the origin's wins.
            proxy_cache_valid 404 1s;
            add_header X-Cache-Status $upstream_cache_status always;
        }
    }
}
`

// edgeNginx is an nginx child process.
type edgeNginx struct {
	URL string
	dir string
}

// requireNginx returns the nginx binary, or skips the test.
func requireNginx(t *testing.T) string {
	t.Helper()
	bin := "/usr/sbin/nginx"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("nginx"); err != nil {
			t.Skip("nginx is not installed (apt-get install -y nginx-light); skipping the CDN edge test")
		}
	}
	return bin
}

// startEdgeNginx starts nginx in front of upstream (host:port) and stops it
// at cleanup.
func startEdgeNginx(t *testing.T, ctx context.Context, bin, upstream string) *edgeNginx {
	t.Helper()
	dir := t.TempDir()
	listen := freeLoopbackAddr(t)
	conf := strings.NewReplacer("{{dir}}", dir, "{{upstream}}", upstream, "{{listen}}", listen).Replace(edgeNginxConf)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr := &logBuffer{}
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	n := &edgeNginx{URL: "http://" + listen, dir: dir}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("nginx stderr:\n%s\nnginx error.log:\n%s", stderr.String(), tail(n.errorLog(), 30))
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return n
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("nginx exited at start: %v\n%s%s", err, stderr.String(), n.errorLog())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s: %s", listen, n.errorLog())
		}
	}
}

func (n *edgeNginx) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	return string(b)
}

// freeLoopbackAddr returns a loopback address that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// originCounter is a reverse proxy between the edge and the origin that
// counts the requests reaching the origin, by request URI.
type originCounter struct {
	Addr string
	mu   sync.Mutex
	hits map[string]int
}

func startOriginCounter(t *testing.T, origin string) *originCounter {
	t.Helper()
	target, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true}
	c := &originCounter{hits: map[string]int{}}
	proxy := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		FlushInterval: -1,
		Transport:     transport,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hits[r.URL.RequestURI()]++
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
	})
	c.Addr = ln.Addr().String()
	return c
}

func (c *originCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.hits)
}

// edgeURLKind classifies an /hls/ request URI.
func edgeURLKind(uri string) string {
	path, query, _ := strings.Cut(uri, "?")
	name := path[strings.LastIndexByte(path, '/')+1:]
	switch {
	case name == "index.m3u8" && strings.Count(path, "/") == 3:
		return "multivariant"
	case name == "index.m3u8" && strings.Contains(query, "_HLS_msn="):
		return "blocking playlist"
	case name == "index.m3u8":
		return "plain playlist"
	case strings.HasPrefix(name, "part"):
		return "part"
	case strings.HasPrefix(name, "seg"):
		return "segment"
	case strings.HasPrefix(name, "init"):
		return "init"
	}
	return "other"
}

var edgeKinds = []string{"multivariant", "plain playlist", "blocking playlist", "init", "part", "segment", "other"}

// edgePart names a part: segment msn, part index.
type edgePart struct{ msn, idx int }

func (p edgePart) less(q edgePart) bool {
	return p.msn < q.msn || (p.msn == q.msn && p.idx < q.idx)
}

var (
	edgePartRE = regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="part(\d+)\.(\d+)\.m4s"`)
	edgeMapRE  = regexp.MustCompile(`#EXT-X-MAP:URI="([^"]+)"`)
)

// edgeParts lists the parts of a media playlist, in order.
func edgeParts(playlist string) []edgePart {
	var out []edgePart
	for _, m := range edgePartRE.FindAllStringSubmatch(playlist, -1) {
		msn, _ := strconv.Atoi(m[1])
		idx, _ := strconv.Atoi(m[2])
		out = append(out, edgePart{msn, idx})
	}
	return out
}

// edgeTimeline records when each part of each rendition first appeared at
// the origin, seen by a watcher that asks the origin directly.
type edgeTimeline struct {
	mu    sync.Mutex
	order map[string][]edgePart
	at    map[string]map[edgePart]time.Time
}

func (tl *edgeTimeline) add(rend string, p edgePart, at time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if _, ok := tl.at[rend][p]; ok {
		return
	}
	tl.at[rend][p] = at
	tl.order[rend] = append(tl.order[rend], p)
}

// position returns the index of p among the parts of rend, and the index of
// the newest part that had appeared by t.
func (tl *edgeTimeline) position(rend string, p edgePart, t time.Time) (int, int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	pos, newest := -1, -1
	for i, q := range tl.order[rend] {
		if q == p {
			pos = i
		}
		if !tl.at[rend][q].After(t) {
			newest = i
		}
	}
	return pos, newest
}

func (tl *edgeTimeline) appeared(rend string, p edgePart) (time.Time, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	at, ok := tl.at[rend][p]
	return at, ok
}

// watchOrigin follows a media playlist at the origin with blocking requests
// and records when each part appears.
func watchOrigin(ctx context.Context, client *http.Client, playlistURL, rend string, tl *edgeTimeline) {
	query := ""
	for ctx.Err() == nil {
		code, _, body, err := livetest.Get(ctx, client, playlistURL+query)
		now := time.Now()
		if err != nil || code != http.StatusOK {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		parts := edgeParts(string(body))
		for _, p := range parts {
			tl.add(rend, p, now)
		}
		if len(parts) > 0 {
			last := parts[len(parts)-1]
			query = fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", last.msn, last.idx+1)
		}
	}
}

// edgePlayer is one viewer playing through the edge the way hls.js does in
// low-latency mode: blocking playlist reloads for the part after the last
// one, then the new parts.
type edgePlayer struct {
	id        int
	rendition string
	startup   time.Duration // from joining to the first part downloaded
	requests  map[string]int
	cache     map[string]map[string]int // kind -> X-Cache-Status -> count
	seen      map[edgePart]time.Time    // when a playlist first listed the part
	fetched   map[edgePart]time.Time    // when the part was downloaded
	first     map[edgePart]bool         // listed in the first playlist
	newest    edgePart
	hasNewest bool
	err       error
}

func (p *edgePlayer) get(ctx context.Context, client *http.Client, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	kind := edgeURLKind(req.URL.RequestURI())
	p.requests[kind]++
	if p.cache[kind] == nil {
		p.cache[kind] = map[string]int{}
	}
	p.cache[kind][res.Header.Get("X-Cache-Status")]++
	return res.StatusCode, body, nil
}

func (p *edgePlayer) run(ctx context.Context, client *http.Client, edge, slug string, variants int) {
	joined := time.Now()
	base := edge + "/hls/" + slug + "/"
	code, body, err := p.get(ctx, client, base+"index.m3u8")
	if err != nil || code != http.StatusOK {
		p.err = fmt.Errorf("multivariant: %d %v", code, err)
		return
	}
	vs := livetest.ParseMultivariant(string(body))
	if len(vs) < variants {
		p.err = fmt.Errorf("multivariant lists %d variants, want %d", len(vs), variants)
		return
	}
	v := vs[p.id%len(vs)]
	p.rendition = strings.Split(v.URI, "/")[1]
	playlist := base + v.URI
	dir := playlist[:strings.LastIndexByte(playlist, '/')+1]
	query := ""
	for ctx.Err() == nil {
		code, body, err := p.get(ctx, client, playlist+query)
		now := time.Now()
		if ctx.Err() != nil {
			return
		}
		if err != nil || code != http.StatusOK {
			p.err = fmt.Errorf("playlist %s: %d %v", query, code, err)
			return
		}
		parts := edgeParts(string(body))
		if len(parts) == 0 {
			p.err = fmt.Errorf("playlist %s lists no parts", query)
			return
		}
		if !p.hasNewest {
			// Join at the live edge: the init segment and the newest part.
			if err := p.join(ctx, client, dir, string(body), parts); err != nil {
				p.err = err
				return
			}
			parts = parts[len(parts)-1:]
		}
		if err := p.download(ctx, client, dir, parts, now, joined); err != nil {
			if ctx.Err() == nil {
				p.err = err
			}
			return
		}
		query = fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", p.newest.msn, p.newest.idx+1)
	}
}

// join fetches the init segment of the first playlist and remembers the
// parts it lists, which were there before the player came.
func (p *edgePlayer) join(ctx context.Context, client *http.Client, dir, playlist string, parts []edgePart) error {
	m := edgeMapRE.FindAllStringSubmatch(playlist, -1)
	if m == nil {
		return fmt.Errorf("no EXT-X-MAP")
	}
	if code, _, err := p.get(ctx, client, dir+m[len(m)-1][1]); err != nil || code != http.StatusOK {
		return fmt.Errorf("init: %d %v", code, err)
	}
	for _, q := range parts {
		p.first[q] = true
	}
	return nil
}

// download fetches the parts newer than the newest one the player has,
// listed in a playlist that arrived at listed.
func (p *edgePlayer) download(ctx context.Context, client *http.Client, dir string, parts []edgePart, listed, joined time.Time) error {
	for _, q := range parts {
		if p.hasNewest && !p.newest.less(q) {
			continue
		}
		if _, ok := p.seen[q]; !ok {
			p.seen[q] = listed
		}
		code, _, err := p.get(ctx, client, fmt.Sprintf("%spart%d.%d.m4s", dir, q.msn, q.idx))
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("part %d.%d: %d %v", q.msn, q.idx, code, err)
		}
		if !p.hasNewest {
			p.startup = time.Since(joined)
		}
		p.fetched[q] = time.Now()
		p.newest, p.hasNewest = q, true
	}
	return nil
}

func TestNginxEdgeCollapsesViewersIntoAboutOneOriginRequestPerURL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nginx, ffmpeg and 60 players for about 15 s")
	}
	nginx := requireNginx(t)
	// A light ladder: a 640x360 source passed through plus one 240p rung.
	r := startRig(t, livetest.Options{Ladder: transcode.Ladder{
		Renditions: []transcode.Rendition{
			{Name: "source", Passthrough: true},
			{Name: "240p", Height: 240, VideoKbps: 400, MaxFPS: 30},
		},
		Preset: "ultrafast",
	}})
	counter := startOriginCounter(t, r.srv.HTTP)
	edge := startEdgeNginx(t, r.ctx, nginx, counter.Addr)
	r.publish(livetest.Source{Width: 640, Height: 360})
	vs := r.waitLive(2)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * edgePlayers, DisableCompression: true}}
	direct := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	t.Cleanup(direct.CloseIdleConnections)

	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	tl := &edgeTimeline{order: map[string][]edgePart{}, at: map[string]map[edgePart]time.Time{}}
	var wg sync.WaitGroup
	for _, v := range vs {
		rend := strings.Split(v.URI, "/")[1]
		tl.at[rend] = map[edgePart]time.Time{}
		wg.Go(func() { watchOrigin(ctx, direct, r.srv.HTTP+"/hls/"+rigSlug+"/"+v.URI, rend, tl) })
	}

	players := make([]*edgePlayer, edgePlayers)
	began := time.Now()
	end := began.Add(edgeWatch)
	playCtx, stopPlayers := context.WithDeadline(ctx, end)
	defer stopPlayers()
	var pwg sync.WaitGroup
	for i := range players {
		p := &edgePlayer{id: i, requests: map[string]int{}, cache: map[string]map[string]int{},
			seen: map[edgePart]time.Time{}, fetched: map[edgePart]time.Time{}, first: map[edgePart]bool{}}
		players[i] = p
		pwg.Go(func() {
			select {
			case <-time.After(edgeStagger * time.Duration(i) / edgePlayers):
			case <-playCtx.Done():
				return
			}
			p.run(playCtx, client, edge.URL, rigSlug, len(vs))
		})
	}
	pwg.Wait()
	cancel()
	wg.Wait()
	origin := counter.snapshot()

	checkEdgeOffload(t, players, origin)
	checkEdgeLiveness(t, players, tl, end)
	if n := strings.Count(edge.errorLog(), "cache lock timeout"); n > 0 {
		t.Logf("nginx logged %d cache lock timeouts", n)
	}
}

// checkEdgeOffload checks that the origin saw about one request per URL and
// that nginx answered most player requests from its cache.
func checkEdgeOffload(t *testing.T, players []*edgePlayer, origin map[string]int) {
	t.Helper()
	playerReqs := map[string]int{}
	status := map[string]map[string]int{}
	for _, p := range players {
		if p.err != nil {
			t.Errorf("player %d (%s): %v", p.id, p.rendition, p.err)
		}
		for k, n := range p.requests {
			playerReqs[k] += n
		}
		for k, m := range p.cache {
			if status[k] == nil {
				status[k] = map[string]int{}
			}
			for s, n := range m {
				status[k][s] += n
			}
		}
	}
	originReqs, distinct, worst := map[string]int{}, map[string]int{}, map[string]int{}
	worstURL := map[string]string{}
	for u, n := range origin {
		k := edgeURLKind(u)
		originReqs[k] += n
		distinct[k]++
		if n > worst[k] {
			worst[k], worstURL[k] = n, u
		}
	}
	var totPlayer, totOrigin, totDistinct, totHit int
	t.Logf("%-18s %8s %8s %8s %6s  %s", "kind", "player", "origin", "distinct", "worst", "edge X-Cache-Status")
	for _, k := range edgeKinds {
		if playerReqs[k] == 0 && originReqs[k] == 0 {
			continue
		}
		t.Logf("%-18s %8d %8d %8d %6d  %v", k, playerReqs[k], originReqs[k], distinct[k], worst[k], status[k])
		totPlayer += playerReqs[k]
		totOrigin += originReqs[k]
		totDistinct += distinct[k]
		totHit += status[k]["HIT"]
	}
	t.Logf("players %d, player requests %d, origin requests %d, distinct URLs %d, offload %.1f%%, HIT %.1f%%",
		len(players), totPlayer, totOrigin, totDistinct,
		100*(1-float64(totOrigin)/float64(max(1, totPlayer))), 100*float64(totHit)/float64(max(1, totPlayer)))

	// Media and blocking playlist answers are immutable: one origin request
	// per URL, give or take a lock that aged out.
	for _, k := range []string{"blocking playlist", "part", "init"} {
		if distinct[k] == 0 {
			t.Errorf("no %s request reached the origin", k)
			continue
		}
		if limit := distinct[k]*6/5 + 3; originReqs[k] > limit {
			t.Errorf("%s: %d origin requests for %d distinct URLs, want at most %d", k, originReqs[k], distinct[k], limit)
		}
		if worst[k] > 2 {
			t.Errorf("%s: %s reached the origin %d times, want at most 2", k, worstURL[k], worst[k])
		}
	}
	// A plain playlist request gets "Cache-Control: public, max-age=0",
	// which nginx does not store (max-age=0 makes the response uncacheable),
	// so every player's first playlist request reaches the origin.
	if originReqs["plain playlist"] > len(players) {
		t.Errorf("plain playlist: %d origin requests from %d players, want at most one each",
			originReqs["plain playlist"], len(players))
	}
	cacheable, cacheableDistinct := totOrigin-originReqs["plain playlist"], totDistinct-distinct["plain playlist"]
	if limit := cacheableDistinct*6/5 + 5; cacheable > limit {
		t.Errorf("%d origin requests for %d distinct cacheable URLs, want at most %d", cacheable, cacheableDistinct, limit)
	}
	if hit := float64(totHit) / float64(max(1, totPlayer)); hit < 0.8 {
		t.Errorf("nginx answered %.0f%% of player requests from cache, want at least 80%%", 100*hit)
	}
}

// checkEdgeLiveness checks that players saw each part soon after it
// appeared at the origin and were at the live edge when they stopped.
func checkEdgeLiveness(t *testing.T, players []*edgePlayer, tl *edgeTimeline, end time.Time) {
	t.Helper()
	var seenLag, fetchLag []time.Duration
	var startups []time.Duration
	var behind []int
	for _, p := range players {
		if !p.hasNewest {
			t.Errorf("player %d never downloaded a part", p.id)
			continue
		}
		startups = append(startups, p.startup)
		for q, at := range p.seen {
			if p.first[q] {
				continue
			}
			if origin, ok := tl.appeared(p.rendition, q); ok {
				seenLag = append(seenLag, at.Sub(origin))
				fetchLag = append(fetchLag, p.fetched[q].Sub(origin))
			}
		}
		pos, newest := tl.position(p.rendition, p.newest, end)
		if pos < 0 || newest < 0 {
			t.Errorf("player %d: its newest part %v never appeared at the origin", p.id, p.newest)
			continue
		}
		behind = append(behind, newest-pos)
	}
	if len(seenLag) == 0 {
		t.Fatal("no player saw a new part")
	}
	slices.Sort(seenLag)
	slices.Sort(fetchLag)
	slices.Sort(startups)
	slices.Sort(behind)
	q := func(d []time.Duration, f float64) time.Duration { return d[int(f*float64(len(d)-1))] }
	t.Logf("part listed at the edge after appearing at the origin: median %v, p90 %v, max %v (%d samples)",
		q(seenLag, 0.5).Round(time.Millisecond), q(seenLag, 0.9).Round(time.Millisecond),
		seenLag[len(seenLag)-1].Round(time.Millisecond), len(seenLag))
	t.Logf("part downloaded through the edge after appearing at the origin: median %v, p90 %v, max %v",
		q(fetchLag, 0.5).Round(time.Millisecond), q(fetchLag, 0.9).Round(time.Millisecond),
		fetchLag[len(fetchLag)-1].Round(time.Millisecond))
	if len(startups) > 0 {
		t.Logf("startup (multivariant to first part): median %v, max %v",
			q(startups, 0.5).Round(time.Millisecond), startups[len(startups)-1].Round(time.Millisecond))
	}
	t.Logf("parts behind the origin's newest at the end: median %d, max %d", behind[len(behind)/2], behind[len(behind)-1])
	if m := q(seenLag, 0.5); m > edgeMedianDelay {
		t.Errorf("median delay from origin to edge player %v, want under %v", m, edgeMedianDelay)
	}
	if p := q(seenLag, 0.9); p > edgeP90Delay {
		t.Errorf("p90 delay from origin to edge player %v, want under %v", p, edgeP90Delay)
	}
	if m := behind[len(behind)/2]; m > 2 {
		t.Errorf("median player is %d parts behind the origin at the end, want at most 2", m)
	}
	// A player waiting on the cache lock can trail by 500 ms: 3 parts.
	if m := behind[len(behind)-1]; m > 4 {
		t.Errorf("a player is %d parts behind the origin at the end, want at most 4", m)
	}
}
