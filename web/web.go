// Package web owns the browser UI that the binary serves: the Vite build
// output in dist/ (committed, so building the binary needs no Node), its
// cache and security headers, and the single-page-app fallback that answers
// client routes such as /c/<slug> with index.html.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// contentSecurityPolicy is sent with every UI response. Scripts come only
// from this origin (no inline script); styles from this origin plus the
// inline <style> elements of the built index.html, each allowed by its hash
// (%s); media and images may be blob: because hls.js plays through Media
// Source Extensions.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'%s; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

var inlineStyle = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// policyFor returns the CSP that allows exactly index's inline styles.
func policyFor(index []byte) string {
	var hashes strings.Builder
	for _, m := range inlineStyle.FindAllSubmatch(index, -1) {
		sum := sha256.Sum256(m[1])
		hashes.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
	}
	return fmt.Sprintf(contentSecurityPolicy, hashes.String())
}

// spaRoutes are the path prefixes the UI routes on the client. Other paths
// without a file get index.html with status 404, which the UI renders as
// "not found".
var spaRoutes = []string{"/c/", "/category/", "/tag/", "/search", "/browse", "/following",
	"/signin", "/signup", "/dashboard", "/admin", "/notifications", "/account", "/popout/", "/overlay/"}

// Handler serves the embedded UI.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// The embed directive guarantees the directory; this cannot happen.
		return http.NotFoundHandler()
	}
	return NewHandler(sub)
}

// NewHandler serves a built UI from files: its index.html, assets and the
// gzip copies (name.gz) made at build time.
func NewHandler(files fs.FS) http.Handler {
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		index = []byte("<!doctype html><title>Livehouse</title><p>The web UI is not built: run npm run build in web/.</p>")
	}
	h := &handler{files: files, index: index, csp: policyFor(index)}
	if gz, err := fs.ReadFile(files, "index.html.gz"); err == nil {
		h.indexGzip = gz
	}
	// The viewer page needs the player chunk at once: name it in a Link
	// header so the browser fetches it while it runs the entry script.
	if m, _ := fs.Glob(files, "assets/hls*.js"); len(m) == 1 {
		h.playerPreload = "</" + m[0] + ">; rel=modulepreload"
	}
	return h
}

type handler struct {
	files         fs.FS
	index         []byte
	indexGzip     []byte // index.html.gz from the build, if any
	csp           string
	playerPreload string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Frame-Options", "DENY")
	p := path.Clean("/" + r.URL.Path)
	if p == "/" || p == "/index.html" {
		h.serveIndex(w, r, http.StatusOK)
		return
	}
	name := strings.TrimPrefix(p, "/")
	if st, err := fs.Stat(h.files, name); err == nil && !st.IsDir() {
		h.serveFile(w, r, name)
		return
	}
	if strings.HasPrefix(p, "/assets/") || path.Ext(p) != "" {
		hd.Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	for _, prefix := range spaRoutes {
		if p == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(p, prefix) {
			if prefix == "/c/" && h.playerPreload != "" {
				hd.Set("Link", h.playerPreload)
			}
			h.serveIndex(w, r, http.StatusOK)
			return
		}
	}
	h.serveIndex(w, r, http.StatusNotFound)
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request, status int) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// index.html names the hashed assets of the current build: always revalidate.
	hd.Set("Cache-Control", "no-cache")
	body := h.index
	if h.indexGzip != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body = h.indexGzip
			hd.Set("Content-Encoding", "gzip")
		}
	}
	if status == http.StatusOK {
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(body))
		return
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body) //nolint:errcheck
	}
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	hd := w.Header()
	if strings.HasPrefix(name, "assets/") {
		// Vite puts a content hash in every asset name.
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "public, max-age=3600")
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hd.Set("Content-Type", ctype)
	open := name
	if _, err := fs.Stat(h.files, name+".gz"); err == nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			open = name + ".gz"
			hd.Set("Content-Encoding", "gzip")
		}
	}
	f, err := h.files.Open(open)
	if err != nil {
		http.Error(w, "asset unavailable", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, "asset unavailable", http.StatusInternalServerError)
			return
		}
		rs = bytes.NewReader(data)
	}
	http.ServeContent(w, r, "", time.Time{}, rs)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
