package hls

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// wantMedia returns every listed part's and complete segment's URL path with
// the bytes the muxer made for it.
func wantMedia(r *Rendition) map[string][]byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	want := map[string][]byte{}
	for _, s := range r.segments {
		if s.gap {
			continue
		}
		var seg []byte
		for i, p := range s.parts {
			want[fmt.Sprintf("part%d.%d.m4s", s.msn, i)] = p.data
			seg = append(seg, p.data...)
		}
		if s.complete {
			want[fmt.Sprintf("seg%d.m4s", s.msn)] = seg
		}
	}
	return want
}

// checkMedia fetches a media file of the test rendition and compares it with
// what the muxer made; gone allows a 404 for a segment evicted meanwhile.
func checkMedia(c *http.Client, base, name string, want []byte, gone bool) error {
	res, err := c.Get(base + "/hls/chan/b1/source/" + name)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || (res.StatusCode == 200 && !bytes.Equal(body, want)) ||
		(res.StatusCode != 200 && !(gone && res.StatusCode == 404)) {
		return fmt.Errorf("%s: %d, %d of %d bytes (%v)", name, res.StatusCode, len(body), len(want), err)
	}
	return nil
}

// TestSendfileServesTheMuxersBytes reads every part and segment over one
// keep-alive connection, with sendfile and without, while the window moves
// and segments are evicted under concurrent readers.
func TestSendfileServesTheMuxersBytes(t *testing.T) {
	l := newTestLadder(t, "source")
	r := l.Renditions()[0]
	f := newFeeder(t, 30, r)
	f.frames(200)
	withSendfile := serve(t, l)
	o := NewOrigin(nil)
	o.Publish("chan", l)
	fromMemory := httptest.NewServer(o)
	t.Cleanup(fromMemory.Close)
	t.Cleanup(o.Close)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	t.Cleanup(client.CloseIdleConnections)
	fetch := func(base, name, method string) (int, []byte, http.Header) {
		req, _ := http.NewRequest(method, base+"/hls/chan/b1/source/"+name, nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body, res.Header
	}
	want := wantMedia(r)
	if len(want) < 20 {
		t.Fatalf("only %d media files to check", len(want))
	}
	for name, data := range want {
		for _, base := range []string{withSendfile.URL, fromMemory.URL} {
			code, body, h := fetch(base, name, http.MethodGet)
			if code != 200 || !bytes.Equal(body, data) {
				t.Fatalf("%s from %s: %d, %d bytes, want 200 and the muxer's %d bytes", name, base, code, len(body), len(data))
			}
			if h.Get("Content-Type") != contentTypeMP4 || h.Get("Cache-Control") != cacheImmutable {
				t.Errorf("%s: headers %v", name, h)
			}
			code, body, h = fetch(base, name, http.MethodHead)
			if code != 200 || len(body) != 0 || h.Get("Content-Length") != fmt.Sprint(len(data)) {
				t.Errorf("HEAD %s: %d, %d bytes, Content-Length %s", name, code, len(body), h.Get("Content-Length"))
			}
		}
	}

	// Readers race the muxer, which keeps evicting segments; every 200
	// must still carry exactly the muxer's bytes.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			defer c.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for name, data := range wantMedia(r) {
					// An evicted segment may answer 404; a 200 must be exact.
					if err := checkMedia(c, withSendfile.URL, name, data, true); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	for range 20 {
		f.frames(30)
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestOriginCloseReleasesMemoryFiles checks that evicted segments and a
// closed origin give back every memory file and reader they opened.
func TestOriginCloseReleasesMemoryFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("memory files are Linux's")
	}
	count := func() int {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(fds)
	}
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond) // let the servers of earlier tests see the closes
	base := count()
	l := newTestLadder(t, "source", "360p")
	o := NewOrigin(nil)
	o.Publish("chan", l)
	srv := startOrigin(o)
	f := newFeeder(t, 30, l.Renditions()...)
	f.frames(30 * 40) // far more segments than the window holds
	for name := range wantMedia(l.Renditions()[0]) {
		res, err := http.Get(srv.URL + "/hls/chan/b1/source/" + name)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body) //nolint:errcheck
		res.Body.Close()
	}
	// Two renditions, a window of segments plus the open one each, and the
	// readers those requests left idle.
	window := 2 * (l.cfg.SegmentCount + 1) * (1 + 1)
	open := count() - base
	t.Logf("%d files open while live (window of %d segments, two renditions)", open, l.cfg.SegmentCount)
	if open > window+8 {
		t.Errorf("%d files open for a window of %d segments: evicted segments leak", open, l.cfg.SegmentCount)
	}
	if open < 2*l.cfg.SegmentCount {
		t.Errorf("%d files open for two renditions' windows of %d segments: segments are not in memory files", open, l.cfg.SegmentCount)
	}
	http.DefaultClient.CloseIdleConnections()
	srv.Close()
	o.Close()
	if n := count(); n != base {
		t.Errorf("%d files open after Close, %d before", n, base)
	}
	// Media is still served, from memory, after its files are released.
	r := l.Renditions()[0]
	rec := httptest.NewRecorder()
	name := ""
	for n := range wantMedia(r) {
		name = n
		break
	}
	o2 := NewOrigin(nil)
	o2.Publish("chan", l)
	o2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hls/chan/b1/source/"+name, nil))
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), wantMedia(r)[name]) {
		t.Errorf("%s after release: %d, %d bytes", name, rec.Code, rec.Body.Len())
	}
}

// TestReaderFileBoundFallsBackToMemory: with every reader-file slot taken,
// requests are served from memory, correctly, and the slots all come back.
func TestReaderFileBoundFallsBackToMemory(t *testing.T) {
	l := newTestLadder(t, "source")
	r := l.Renditions()[0]
	f := newFeeder(t, 30, r)
	f.frames(120)
	o := NewOrigin(nil)
	o.readerFiles = make(chan struct{}, 2)
	o.Publish("chan", l)
	srv := startOrigin(o)
	want := wantMedia(r)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			defer c.CloseIdleConnections()
			for range 3 {
				for name, data := range want {
					if err := checkMedia(c, srv.URL, name, data, false); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(o.readerFiles); n > 2 {
		t.Errorf("%d reader files open over a bound of 2", n)
	}
	srv.Close()
	o.Close()
	if n := len(o.readerFiles); n != 0 {
		t.Errorf("%d reader-file slots still taken after Close", n)
	}
}
