package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
)

type probePacket struct {
	PTS  float64
	Key  bool
	Kind string
}

type probeResult struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		Profile   string `json:"profile"`
	} `json:"streams"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		PTSTime   string `json:"pts_time"`
		Flags     string `json:"flags"`
	} `json:"packets"`
}

// probe runs ffprobe on data and returns its streams and packets.
func probe(t *testing.T, data []byte) (probeResult, []probePacket) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "media.mp4")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-show_packets",
		"-show_entries", "stream=codec_type,codec_name,width,height,profile:packet=codec_type,pts_time,flags",
		"-of", "json", f).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var res probeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	var pkts []probePacket
	for _, p := range res.Packets {
		pts, _ := strconv.ParseFloat(p.PTSTime, 64)
		pkts = append(pkts, probePacket{PTS: pts, Key: strings.HasPrefix(p.Flags, "K"), Kind: p.CodecType})
	}
	return res, pkts
}

// download concatenates the init segment and segments msns of a rendition.
func (r *rig) download(base string, msns []int) []byte {
	r.t.Helper()
	_, _, playlist := r.get(base + "index.m3u8")
	m := mapRE.FindAllStringSubmatch(playlist, -1)
	if m == nil {
		r.t.Fatalf("no EXT-X-MAP in %s", base)
	}
	var buf bytes.Buffer
	code, h, init := r.get(base + m[len(m)-1][1])
	if code != 200 || h.Get("Content-Type") != "video/mp4" {
		r.t.Fatalf("init: %d %s", code, h.Get("Content-Type"))
	}
	buf.WriteString(init)
	for _, n := range msns {
		code, h, seg := r.get(fmt.Sprintf("%sseg%d.m4s", base, n))
		if code != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") {
			r.t.Fatalf("seg%d: %d %q", n, code, h.Get("Cache-Control"))
		}
		buf.WriteString(seg)
	}
	return buf.Bytes()
}

func TestPublishedStreamPlaysInEveryRendition(t *testing.T) {
	r := startRig(t, livetest.Options{})
	pub := r.publish(livetest.Source{Width: 1280, Height: 720, FPS: 30, GOP: 30})
	variants := r.waitLive(3)

	wantRes := map[string]string{"source": "1280x720", "480p": "854x480", "360p": "640x360"}
	bases := map[string]string{}
	for _, v := range variants {
		name := strings.Split(v.URI, "/")[1]
		if v.Attrs["RESOLUTION"] != wantRes[name] {
			t.Errorf("%s RESOLUTION = %q, want %q", name, v.Attrs["RESOLUTION"], wantRes[name])
		}
		for _, attr := range []string{"BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "FRAME-RATE"} {
			if v.Attrs[attr] == "" {
				t.Errorf("%s lacks %s", name, attr)
			}
		}
		if !strings.HasPrefix(v.Attrs["CODECS"], "avc1.") || !strings.Contains(v.Attrs["CODECS"], "mp4a.40.2") {
			t.Errorf("%s CODECS = %q", name, v.Attrs["CODECS"])
		}
		bases[name] = "/hls/" + rigSlug + "/" + strings.TrimSuffix(v.URI, "index.m3u8")
	}
	if len(bases) != 3 {
		t.Fatalf("renditions %v, want source, 480p, 360p", bases)
	}

	// Wait for four complete segments in every rendition.
	var msns []int
	waitFor(t, 20*time.Second, "four complete segments in every rendition", func() bool {
		msns = nil
		for _, base := range bases {
			_, _, pl := r.get(base + "index.m3u8")
			segs := completeSegments(pl)
			if len(segs) < 4 {
				return false
			}
			if msns == nil || segs[len(segs)-1] < msns[len(msns)-1] {
				msns = segs[len(segs)-4:]
			}
		}
		return true
	})
	for name, base := range bases {
		code, h, pl := r.get(base + "index.m3u8")
		if code != 200 || h.Get("Content-Type") != "application/vnd.apple.mpegurl" {
			t.Fatalf("%s playlist: %d %q", name, code, h.Get("Content-Type"))
		}
		for _, tag := range []string{"#EXT-X-PART-INF:PART-TARGET=0.20000", "CAN-BLOCK-RELOAD=YES", "CAN-SKIP-UNTIL=",
			"PART-HOLD-BACK=", "#EXT-X-PROGRAM-DATE-TIME:", "#EXT-X-PRELOAD-HINT:TYPE=PART", "#EXT-X-RENDITION-REPORT:", "INDEPENDENT=YES"} {
			if !strings.Contains(pl, tag) {
				t.Errorf("%s playlist lacks %s", name, tag)
			}
		}
	}

	// ffprobe every rendition: codec, resolution, continuity, aligned key frames.
	keyframes := map[string][]float64{}
	for name, base := range bases {
		res, pkts := probe(t, r.download(base, msns))
		var sawVideo, sawAudio bool
		for _, s := range res.Streams {
			switch s.CodecType {
			case "video":
				sawVideo = true
				if s.CodecName != "h264" || fmt.Sprintf("%dx%d", s.Width, s.Height) != wantRes[name] {
					t.Errorf("%s video: %s %dx%d", name, s.CodecName, s.Width, s.Height)
				}
			case "audio":
				sawAudio = s.CodecName == "aac"
			}
		}
		if !sawVideo || !sawAudio {
			t.Errorf("%s: video %v, aac audio %v", name, sawVideo, sawAudio)
		}
		checkContinuity(t, name, pkts)
		for _, p := range pkts {
			if p.Kind == "video" && p.Key {
				keyframes[name] = append(keyframes[name], p.PTS)
			}
		}
	}
	for name, ks := range keyframes {
		if fmt.Sprint(ks) != fmt.Sprint(keyframes["source"]) {
			t.Errorf("key frames of %s %v are not aligned with the source's %v", name, ks, keyframes["source"])
		}
	}
	if len(keyframes["source"]) < 4 {
		t.Errorf("source has %d key frames in 4 one-second segments", len(keyframes["source"]))
	}

	checkBlockingReload(t, r, bases["480p"])
	checkHealth(t, r)
	checkThumbnailRefreshes(t, r)

	// The creator stops: the playlists end and the session is recorded.
	if err := pub.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the channel to go offline", func() bool {
		code, _, _ := r.get("/hls/" + rigSlug + "/index.m3u8")
		return code == 404
	})
	for name, base := range bases {
		if _, _, pl := r.get(base + "index.m3u8"); !strings.HasSuffix(pl, "#EXT-X-ENDLIST\n") {
			t.Errorf("%s playlist does not end with EXT-X-ENDLIST after the stream stopped", name)
		}
	}
	_, _, sessions := r.get("/api/v1/channels/" + rigSlug + "/sessions")
	if !strings.Contains(sessions, `"ended_at"`) || !strings.Contains(sessions, `"480p"`) {
		t.Errorf("session not recorded with its end and ladder: %s", sessions)
	}
}

func checkContinuity(t *testing.T, name string, pkts []probePacket) {
	t.Helper()
	last := map[string]float64{}
	maxGap := map[string]float64{"video": 1.5 / 30, "audio": 1.5 * 1024 / 48000}
	var n int
	for _, p := range pkts {
		if prev, ok := last[p.Kind]; ok && p.Kind == "video" {
			// Video packets are in decode order; with no B-frames PTS rises.
			if d := p.PTS - prev; d <= 0 || d > maxGap["video"] {
				n++
				if n < 5 {
					t.Errorf("%s: video gap of %.3f s at %.3f", name, d, p.PTS)
				}
			}
		}
		if prev, ok := last[p.Kind]; ok && p.Kind == "audio" {
			if d := p.PTS - prev; d <= 0 || d > maxGap["audio"] {
				n++
				if n < 5 {
					t.Errorf("%s: audio gap of %.3f s at %.3f", name, d, p.PTS)
				}
			}
		}
		last[p.Kind] = p.PTS
	}
}

// checkBlockingReload checks blocking playlist reload against the live
// stream, including the rule that a request for the part after the last
// part of a segment is answered with part 0 of the next segment.
func checkBlockingReload(t *testing.T, r *rig, base string) {
	t.Helper()
	_, _, pl := r.get(base + "index.m3u8")
	m := hintRE.FindStringSubmatch(pl)
	if m == nil {
		t.Fatalf("no preload hint:\n%s", pl)
	}
	msn, _ := strconv.Atoi(m[1])
	// The next segment's first part: held until it exists.
	start := time.Now()
	code, h, body := r.get(fmt.Sprintf("%sindex.m3u8?_HLS_msn=%d&_HLS_part=0", base, msn+1))
	waited := time.Since(start)
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`URI="part%d.0.m4s"`, msn+1)) {
		t.Fatalf("blocking request: %d\n%s", code, body)
	}
	if h.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("blocking answer Cache-Control %q", h.Get("Cache-Control"))
	}
	if waited < 50*time.Millisecond {
		t.Errorf("blocking request answered in %v; it should have waited for the part", waited)
	}
	// Part 5 of a 1 s segment of 200 ms parts does not exist: it means part 0
	// of the next segment, which must come long before that segment closes.
	next := msn + 2
	start = time.Now()
	code, _, body = r.get(fmt.Sprintf("%sindex.m3u8?_HLS_msn=%d&_HLS_part=5", base, next-1))
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`URI="part%d.0.m4s"`, next)) {
		t.Fatalf("rollover request: %d\n%s", code, body)
	}
	if strings.Contains(body, fmt.Sprintf("\nseg%d.m4s", next)) {
		t.Errorf("rollover answered only after segment %d closed (%v); the spec says at its part 0", next, time.Since(start))
	}
	// Delta update.
	code, _, body = r.get(base + "index.m3u8?_HLS_skip=YES")
	if code != 200 || !strings.Contains(body, "#EXTM3U") {
		t.Errorf("delta update: %d", code)
	}
	// Hostile directives get a clear 400.
	for _, q := range []string{"_HLS_msn=x", "_HLS_part=1", "_HLS_msn=1&_HLS_part=-2", "_HLS_msn=999999"} {
		if code, _, body := r.get(base + "index.m3u8?" + q); code != http.StatusBadRequest || !strings.Contains(body, "_HLS_") {
			t.Errorf("%s: %d %q", q, code, body)
		}
	}
}

func checkHealth(t *testing.T, r *rig) {
	t.Helper()
	var ch struct {
		Live   bool `json:"live"`
		Status struct {
			State     string    `json:"state"`
			StartedAt time.Time `json:"started_at"`
			Thumbnail string    `json:"thumbnail_path"`
			Ingest    struct {
				BitrateKbps float64 `json:"bitrate_kbps"`
				FPS         float64 `json:"fps"`
				Keyint      float64 `json:"keyframe_interval_seconds"`
				VideoCodec  string  `json:"video_codec"`
				AudioCodec  string  `json:"audio_codec"`
				Width       int     `json:"width"`
				Height      int     `json:"height"`
			} `json:"ingest"`
			Transcoder *struct {
				Speed   float64 `json:"speed"`
				Running bool    `json:"running"`
			} `json:"transcoder"`
		} `json:"status"`
	}
	code, _, body := r.get("/api/v1/channels/" + rigSlug)
	if code != 200 {
		t.Fatalf("channel status: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &ch); err != nil {
		t.Fatal(err)
	}
	in := ch.Status.Ingest
	if !ch.Live || ch.Status.State != "live" || ch.Status.StartedAt.IsZero() {
		t.Errorf("state: %s", body)
	}
	if math.Abs(in.FPS-30) > 3 || math.Abs(in.Keyint-1) > 0.05 || in.BitrateKbps <= 0 ||
		in.Width != 1280 || in.Height != 720 || !strings.HasPrefix(in.VideoCodec, "avc1.") || in.AudioCodec != "mp4a.40.2" {
		t.Errorf("ingest health: %+v", in)
	}
	if ch.Status.Transcoder == nil || ch.Status.Transcoder.Speed <= 0 {
		t.Errorf("transcoder health missing: %s", body)
	}
	if strings.Contains(body, r.key) {
		t.Error("the status JSON contains the stream key")
	}
	_, _, metrics := r.get("/metrics")
	for _, want := range []string{
		`livehouse_channel_live{channel="e2e",state="live"} 1`,
		`livehouse_ingest_frames_per_second{channel="e2e"}`,
		`livehouse_transcoder_speed_ratio{channel="e2e"}`,
		`livehouse_channel_live_since_seconds{channel="e2e"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The thumbnail comes from the transcoder's ffmpeg, not a second decode.
	waitFor(t, 15*time.Second, "a thumbnail", func() bool {
		code, h, jpg := r.get(ch.Status.Thumbnail)
		return code == 200 && h.Get("Content-Type") == "image/jpeg" && strings.HasPrefix(jpg, "\xff\xd8") && len(jpg) > 2000
	})
}

// checkThumbnailRefreshes checks that the thumbnail file is rewritten about
// every 10 s (the first one was written when checkHealth returned).
func checkThumbnailRefreshes(t *testing.T, r *rig) {
	t.Helper()
	path := filepath.Join(r.dataDir, "thumbnails", rigSlug+".jpg")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("thumbnail file: %v", err)
	}
	first := st.ModTime()
	var next time.Time
	waitFor(t, time.Until(first.Add(15*time.Second)), "the thumbnail to be refreshed", func() bool {
		st, err := os.Stat(path)
		if err != nil {
			return false
		}
		next = st.ModTime()
		return next.After(first)
	})
	if d := next.Sub(first); d < 7*time.Second || d > 14*time.Second {
		t.Errorf("thumbnail refreshed after %v, want about 10 s", d)
	}
}

// mappedSegment is a complete segment of a media playlist and its init.
type mappedSegment struct {
	msn  int
	init string
}

// aroundDiscontinuity finds the complete segments just before and just after
// the playlist's last EXT-X-DISCONTINUITY.
func aroundDiscontinuity(playlist string) (before, after mappedSegment, ok bool) {
	var init string
	var last mappedSegment
	var hasLast, sawDisc, hasBefore bool
	lines := strings.Split(playlist, "\n")
	for i, l := range lines {
		switch {
		case l == "#EXT-X-DISCONTINUITY":
			before, hasBefore, sawDisc, ok = last, hasLast, true, false
		case mapRE.MatchString(l):
			init = mapRE.FindStringSubmatch(l)[1]
		case segRE.MatchString(l) && (i < 2 || lines[i-2] != "#EXT-X-GAP"):
			n, _ := strconv.Atoi(segRE.FindStringSubmatch(l)[1])
			last, hasLast = mappedSegment{msn: n, init: init}, true
			if sawDisc && !ok {
				after, ok = last, true
			}
		}
	}
	return before, after, ok && hasBefore
}

// downloadWith concatenates a rendition's init segment init and segment msn.
func (r *rig) downloadWith(base, init string, msn int) []byte {
	r.t.Helper()
	code, _, data := r.get(base + init)
	if code != 200 {
		r.t.Fatalf("%s%s: %d", base, init, code)
	}
	code, _, seg := r.get(fmt.Sprintf("%sseg%d.m4s", base, msn))
	if code != 200 {
		r.t.Fatalf("%sseg%d.m4s: %d", base, msn, code)
	}
	return []byte(data + seg)
}

func TestEncoderReconnectContinuesPlaylistsThenGraceEndsThem(t *testing.T) {
	r := startRig(t, livetest.Options{Grace: 3 * time.Second})
	// 480p: the source passes through and 360p is transcoded.
	src := livetest.Source{Width: 854, Height: 480, FPS: 30, GOP: 30}
	first := r.publish(src)
	vs := r.waitLive(2)
	bases := map[string]string{}
	for _, v := range vs {
		bases[strings.Split(v.URI, "/")[1]] = "/hls/" + rigSlug + "/" + strings.TrimSuffix(v.URI, "index.m3u8")
	}
	base := bases["source"]
	if base == "" || bases["360p"] == "" {
		t.Fatalf("want the source and 360p, got %v", vs)
	}
	waitFor(t, 10*time.Second, "two segments in every rendition", func() bool {
		for _, b := range bases {
			if _, _, pl := r.get(b + "index.m3u8"); len(completeSegments(pl)) < 2 {
				return false
			}
		}
		return true
	})
	_, _, before := r.get(base + "index.m3u8")

	// The connection drops (no clean unpublish) and the encoder comes back.
	first.Kill()
	time.Sleep(time.Second)
	second := r.publish(src)
	for name, b := range bases {
		waitFor(t, 15*time.Second, name+" to continue after the reconnect", func() bool {
			_, _, pl := r.get(b + "index.m3u8")
			i := strings.LastIndex(pl, "#EXT-X-DISCONTINUITY\n")
			return i > 0 && len(completeSegments(pl[i:])) >= 2
		})
	}
	vs2 := r.waitLive(2)
	if len(vs2) != len(vs) || vs2[0].URI != vs[0].URI || vs2[1].URI != vs[1].URI {
		t.Errorf("the reconnect changed the playlists from %v to %v; players would have to reload", vs, vs2)
	}
	_, _, after := r.get(base + "index.m3u8")
	segsBefore, segsAfter := completeSegments(before), completeSegments(after)
	if segsAfter[len(segsAfter)-1] <= segsBefore[len(segsBefore)-1] {
		t.Errorf("media sequence did not continue: before %v after %v", segsBefore, segsAfter)
	}
	// Every rendition continues on the same playlist with a new EXT-X-MAP,
	// ffprobe-clean on both sides of the discontinuity.
	for name, b := range bases {
		_, _, pl := r.get(b + "index.m3u8")
		if c := strings.Count(pl, "#EXT-X-MAP:"); c < 2 {
			t.Errorf("%s: after a reconnect the new epoch needs its own EXT-X-MAP:\n%s", name, pl)
		}
		beforeDisc, afterDisc, ok := aroundDiscontinuity(pl)
		if !ok {
			t.Errorf("%s: no complete segment on both sides of the discontinuity:\n%s", name, pl)
			continue
		}
		for _, seg := range []mappedSegment{beforeDisc, afterDisc} {
			wantHeight := map[string]int{"source": 480, "360p": 360}[name]
			res, pkts := probe(t, r.downloadWith(b, seg.init, seg.msn))
			if len(res.Streams) == 0 || res.Streams[0].CodecName != "h264" || res.Streams[0].Height != wantHeight {
				t.Errorf("%s seg%d: streams %+v", name, seg.msn, res.Streams)
			}
			if len(pkts) == 0 || !pkts[0].Key {
				t.Errorf("%s seg%d: %d packets, first not a key frame", name, seg.msn, len(pkts))
			}
		}
	}

	// Now it drops for good: after the grace window the stream ends.
	second.Kill()
	dropped := time.Now()
	waitFor(t, 10*time.Second, "EXT-X-ENDLIST after the grace window", func() bool {
		_, _, pl := r.get(base + "index.m3u8")
		return strings.HasSuffix(pl, "#EXT-X-ENDLIST\n")
	})
	if waited := time.Since(dropped); waited < 2500*time.Millisecond {
		t.Errorf("ended after %v, before the 3 s grace window", waited)
	}
	code, _, _ := r.get("/hls/" + rigSlug + "/index.m3u8")
	if code != 404 {
		t.Errorf("multivariant after end: %d, want 404", code)
	}
	_, _, sessions := r.get("/api/v1/channels/" + rigSlug + "/sessions")
	if strings.Count(sessions, `"broadcast_id"`) != 1 || !strings.Contains(sessions, "grace") {
		t.Errorf("want one session ended by the grace window: %s", sessions)
	}
}

func TestKilledTranscoderRestartsWhilePassthroughContinues(t *testing.T) {
	r := startRig(t, livetest.Options{})
	r.publish(livetest.Source{Width: 854, Height: 480, FPS: 30, GOP: 30})
	vs := r.waitLive(2)
	bases := map[string]string{}
	for _, v := range vs {
		bases[strings.Split(v.URI, "/")[1]] = "/hls/" + rigSlug + "/" + strings.TrimSuffix(v.URI, "index.m3u8")
	}
	pids := transcoderPIDs()
	if len(pids) != 1 {
		t.Fatalf("want one transcoder ffmpeg, found %v", pids)
	}

	// Follow the source rendition's parts with blocking requests while the
	// transcoder is killed; record the largest gap between new parts.
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	type follow struct {
		maxGap time.Duration
		err    error
	}
	followed := make(chan follow, 1)
	go func() {
		var f follow
		defer func() { followed <- f }()
		_, _, pl := r.get(bases["source"] + "index.m3u8")
		m := hintRE.FindStringSubmatch(pl)
		if m == nil {
			f.err = fmt.Errorf("no preload hint in the source playlist:\n%s", pl)
			return
		}
		msn, _ := strconv.Atoi(m[1])
		part, _ := strconv.Atoi(m[2])
		last := time.Now()
		for ctx.Err() == nil {
			url := fmt.Sprintf("%s%sindex.m3u8?_HLS_msn=%d&_HLS_part=%d", r.srv.HTTP, bases["source"], msn, part)
			code, _, body, err := livetest.Get(ctx, http.DefaultClient, url)
			if ctx.Err() != nil {
				return // the test is over
			}
			if err != nil || code != 200 {
				f.err = fmt.Errorf("blocking reload %s: status %d, %v: %s", url, code, err, body)
				return
			}
			if d := time.Since(last); d > f.maxGap {
				f.maxGap = d
			}
			last = time.Now()
			m := hintRE.FindStringSubmatch(string(body))
			if m == nil {
				f.err = fmt.Errorf("no preload hint in the source playlist:\n%s", body)
				return
			}
			msn, _ = strconv.Atoi(m[1])
			part, _ = strconv.Atoi(m[2])
		}
	}()
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	if err := syscallKill(pids[0]); err != nil {
		t.Fatal(err)
	}
	var restartedIn time.Duration
	waitFor(t, 5*time.Second, "a new transcoder", func() bool {
		p := transcoderPIDs()
		if len(p) == 1 && p[0] != pids[0] {
			restartedIn = time.Since(killed)
			return true
		}
		return false
	})
	if restartedIn > 1500*time.Millisecond {
		t.Errorf("transcoder restarted after %v, want about a second", restartedIn)
	}
	// The 360p rendition resumes after a discontinuity.
	waitFor(t, 10*time.Second, "360p to resume after the restart", func() bool {
		_, _, pl := r.get(bases["360p"] + "index.m3u8")
		i := strings.LastIndex(pl, "#EXT-X-DISCONTINUITY\n")
		return i > 0 && len(completeSegments(pl[i:])) >= 1
	})
	time.Sleep(500 * time.Millisecond)
	cancel()
	if f := <-followed; f.err != nil {
		t.Errorf("following the source rendition while the transcoder restarted: %v", f.err)
	} else if f.maxGap > 450*time.Millisecond {
		t.Errorf("the source rendition stalled %v while the transcoder restarted", f.maxGap)
	}
	var st struct {
		Status struct {
			Transcoder struct {
				Restarts int `json:"restarts"`
			} `json:"transcoder"`
		} `json:"status"`
	}
	_, _, body := r.get("/api/v1/channels/" + rigSlug)
	_ = json.Unmarshal([]byte(body), &st)
	if st.Status.Transcoder.Restarts != 1 {
		t.Errorf("transcoder restarts = %d, want 1", st.Status.Transcoder.Restarts)
	}
	t.Logf("transcoder restarted in %v", restartedIn)

}
