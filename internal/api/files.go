package api

import (
	"net/http"
	"path/filepath"

	"github.com/livehouse/livehouse/internal/channel"
	"github.com/livehouse/livehouse/internal/store"
)

func (a *API) thumbnail(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	slug := file[:max(0, len(file)-len(".jpg"))]
	if filepath.Ext(file) != ".jpg" || store.ValidateSlug(slug) != nil || a.cfg.ThumbnailDir == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=5")
	w.Header().Set("Content-Type", "image/jpeg")
	http.ServeFile(w, r, filepath.Join(a.cfg.ThumbnailDir, slug+".jpg"))
}

// avatar serves an uploaded avatar.
func (a *API) avatar(w http.ResponseWriter, r *http.Request) {
	serveUpload(w, r, a.cfg.Avatars.Dir)
}

// serveUpload serves an uploaded image (avatar or emote) from dir. Names
// are random per upload, so the files are immutable; the sandbox CSP keeps
// a browser from treating one as a document even if it were opened directly.
func serveUpload(w http.ResponseWriter, r *http.Request, dir string) {
	file := r.PathValue("file")
	if !channel.ValidAvatarName(file) || dir == "" {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Type", channel.ContentType(file))
	http.ServeFile(w, r, filepath.Join(dir, file))
}
