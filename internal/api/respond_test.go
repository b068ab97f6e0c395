package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriteJSONKeepsAHandlersCacheControlButErrorsAreNeverCached(t *testing.T) {
	w := httptest.NewRecorder()
	writeJSON(w, http.StatusOK, map[string]int{"n": 1})
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("default Cache-Control = %q, want no-store", got)
	}
	w = httptest.NewRecorder()
	w.Header().Set("Cache-Control", "public, max-age=30")
	writeJSON(w, http.StatusOK, map[string]int{"n": 1})
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=30" {
		t.Errorf("preset Cache-Control became %q", got)
	}
	w = httptest.NewRecorder()
	w.Header().Set("Cache-Control", "public, max-age=30")
	writeError(w, notFound("gone"))
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("an error after a public Cache-Control is sent with %q, want no-store", got)
	}
}
