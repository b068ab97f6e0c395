package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func builtFS(t *testing.T) fs.FS {
	t.Helper()
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// entryScript finds the hashed entry script that index.html names.
func entryScript(t *testing.T) string {
	t.Helper()
	index, err := fs.ReadFile(builtFS(t), "index.html")
	if err != nil {
		t.Fatalf("the UI is not built into dist/: %v", err)
	}
	m := regexp.MustCompile(`<script[^>]+src="(/assets/[^"]+\.js)"`).FindSubmatch(index)
	if m == nil {
		t.Fatalf("index.html names no entry script:\n%s", index)
	}
	return string(m[1])
}

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestClientRoutesGetIndexAndUnknownPathsGet404(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path   string
		status int
		html   bool
	}{
		{"/", 200, true},
		{"/index.html", 200, true},
		{"/c/alice", 200, true},
		{"/category/music", 200, true},
		{"/tag/jazz", 200, true},
		{"/search", 200, true},
		{"/browse", 200, true},
		{"/following", 200, true},
		{"/signin", 200, true},
		{"/signup", 200, true},
		{"/dashboard", 200, true},
		{"/dashboard/alice", 200, true},
		{"/admin", 200, true},
		{"/admin/settings", 200, true},
		{"/notifications", 200, true},
		{"/account", 200, true},
		{"/no/such/page", 404, true},
		{"/assets/missing-abc123.js", 404, false},
		{"/robots.txt", 404, false},
		{"/favicon.svg", 200, false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(h, tc.path)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			isHTML := strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html")
			if isHTML != tc.html {
				t.Fatalf("Content-Type %q, want html=%v", rec.Header().Get("Content-Type"), tc.html)
			}
			if tc.html && !strings.Contains(rec.Body.String(), `<div id="app">`) {
				t.Fatalf("body is not the app's index.html:\n%s", rec.Body.String())
			}
		})
	}
}

func TestEveryResponseCarriesAStrictCSP(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/c/alice", "/no/such/page", entryScript(t), "/nope.js"} {
		csp := get(h, path).Header().Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "connect-src 'self'", "media-src 'self' blob:", "object-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline code", path, csp)
		}
	}
}

func TestCSPAllowsExactlyTheInlineStylesOfIndex(t *testing.T) {
	index, _ := fs.ReadFile(builtFS(t), "index.html")
	styles := inlineStyle.FindAllSubmatch(index, -1)
	if len(styles) == 0 {
		t.Fatal("index.html has no inline <style>; the build inlines the entry CSS for the first paint")
	}
	csp := get(Handler(), "/").Header().Get("Content-Security-Policy")
	for _, m := range styles {
		sum := sha256.Sum256(m[1])
		if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
			t.Errorf("CSP %q does not allow the inline style (%s)", csp, want)
		}
	}
	if policyFor([]byte("<style>body{color:red}</style>")) == csp {
		t.Error("a different inline style is allowed by the same policy")
	}
}

func TestIndexHasNoInlineScriptsAndNamesOnlyEmbeddedAssets(t *testing.T) {
	files := builtFS(t)
	index, _ := fs.ReadFile(files, "index.html")
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(index, -1) {
		if !bytes.Contains(tag, []byte("src=")) {
			t.Errorf("inline script in index.html: %s", tag)
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="/([^"]+)"`).FindAllSubmatch(index, -1) {
		if _, err := fs.Stat(files, string(m[1])); err != nil {
			t.Errorf("index.html names %s, which is not embedded", m[1])
		}
	}
}

func TestAssetsAreImmutableAndIndexRevalidates(t *testing.T) {
	h := Handler()
	if cc := get(h, entryScript(t)).Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("asset Cache-Control %q, want immutable", cc)
	}
	if cc := get(h, "/c/alice").Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("index Cache-Control %q, want no-cache", cc)
	}
}

func TestGzipCopyIsServedOnlyToClientsThatAcceptIt(t *testing.T) {
	h := Handler()
	js := entryScript(t)
	plain := get(h, js)
	if plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q without Accept-Encoding", plain.Header().Get("Content-Encoding"))
	}
	if ct := plain.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Fatalf("Content-Type %q for a script", ct)
	}
	for _, ae := range []string{"gzip", "br, gzip, deflate", "gzip;q=1.0"} {
		rec := get(h, js, "Accept-Encoding", ae)
		if v := rec.Header().Get("Vary"); v != "Accept-Encoding" {
			t.Fatalf("Vary %q, want Accept-Encoding", v)
		}
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q, want gzip", ae, rec.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, plain.Body.Bytes()) {
			t.Fatalf("gzip body differs from the plain asset")
		}
	}
	if rec := get(h, js, "Accept-Encoding", "gzip;q=0"); rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("gzip;q=0 still got gzip")
	}
}

func TestHandlerWithoutABuildExplainsHowToBuild(t *testing.T) {
	rec := get(NewHandler(fstest.MapFS{}), "/")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "npm run build") {
		t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
	}
}

func TestViewerPageAsksForThePlayerChunkEarly(t *testing.T) {
	h := Handler()
	link := get(h, "/c/alice").Header().Get("Link")
	m := regexp.MustCompile(`^</(assets/hls[^>]+\.js)>; rel=modulepreload$`).FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("viewer page Link header %q, want a modulepreload of the hls.js chunk", link)
	}
	if _, err := fs.Stat(builtFS(t), m[1]); err != nil {
		t.Fatalf("Link names %s, which is not embedded", m[1])
	}
	if link := get(h, "/").Header().Get("Link"); link != "" {
		t.Fatalf("home page preloads %q; only the viewer page needs the player", link)
	}
}

func TestIndexIsSentGzippedToClientsThatAcceptIt(t *testing.T) {
	h := Handler()
	plain := get(h, "/c/alice")
	rec := get(h, "/c/alice", "Accept-Encoding", "gzip")
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("index Content-Encoding %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if !bytes.Equal(body, plain.Body.Bytes()) {
		t.Fatal("gzip index differs from the plain index")
	}
}
