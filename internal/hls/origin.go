package hls

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cache-Control values. Media never changes once named, so it is immutable;
// a blocking playlist request names the part it waits for, so its answer may
// be cached too; a plain playlist request changes every part, so it gets a
// max-age under half a part target, which in whole seconds is 0.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheBlocking  = "public, max-age=60"
	cachePlain     = "public, max-age=0"
	cacheNotYet    = "public, max-age=1"
	cacheNever     = "no-store"

	contentTypePlaylist = "application/vnd.apple.mpegurl"
	contentTypeMP4      = "video/mp4"

	// endedLinger keeps an ended broadcast's media addressable, so players
	// reach EXT-X-ENDLIST instead of a 404.
	endedLinger = 2 * time.Minute
)

type originEntry struct {
	slug    string
	ladder  *Ladder
	expires time.Time // zero while live
}

// Origin serves the LL-HLS ladders of every live channel under /hls/.
//
//	/hls/<slug>/index.m3u8                      multivariant playlist
//	/hls/<slug>/<broadcast>/<rendition>/<file>  media playlists, init, segments, parts
type Origin struct {
	log *slog.Logger

	mu      sync.RWMutex
	live    map[string]*Ladder
	ladders map[string]*originEntry
	timers  map[*time.Timer]struct{} // expiries of ended ladders
	// readerFiles is a slot per memfd reader file open: with a bound, a
	// burst of requests over many segments falls back to writing from
	// memory instead of running the process out of file descriptors.
	readerFiles chan struct{}
}

// maxReaderFiles bounds the files the origin opens to send media with
// sendfile; the process's descriptor limit (20,000 here) must leave room
// for the sockets.
const maxReaderFiles = 2048

// NewOrigin returns an empty origin.
func NewOrigin(logger *slog.Logger) *Origin {
	if logger == nil {
		logger = slog.Default()
	}
	return &Origin{log: logger, live: map[string]*Ladder{}, ladders: map[string]*originEntry{},
		timers: map[*time.Timer]struct{}{}, readerFiles: make(chan struct{}, maxReaderFiles)}
}

// Publish makes l the live ladder of slug.
func (o *Origin) Publish(slug string, l *Ladder) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	o.expireLocked(now)
	l.readerFiles = o.readerFiles
	o.live[slug] = l
	o.ladders[l.id] = &originEntry{slug: slug, ladder: l}
}

// Unpublish takes l off the air. Its media stays addressable for a while.
func (o *Origin) Unpublish(slug string, l *Ladder) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.live[slug] == l {
		delete(o.live, slug)
	}
	if e, ok := o.ladders[l.id]; ok {
		e.expires = time.Now().Add(endedLinger)
		// Expire it on time even if no other broadcast starts meanwhile,
		// so its memory files are released.
		var t *time.Timer
		t = time.AfterFunc(endedLinger+time.Second, func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			delete(o.timers, t)
			o.expireLocked(time.Now())
		})
		o.timers[t] = struct{}{}
	}
}

// Close drops every ladder and frees the memory files that hold its media.
func (o *Origin) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for t := range o.timers {
		t.Stop()
	}
	clear(o.timers)
	for id, e := range o.ladders {
		delete(o.ladders, id)
		e.ladder.Release()
	}
	clear(o.live)
}

// expireLocked drops ended ladders whose linger is over.
func (o *Origin) expireLocked(now time.Time) {
	for id, e := range o.ladders {
		if !e.expires.IsZero() && now.After(e.expires) {
			delete(o.ladders, id)
			e.ladder.Release()
		}
	}
}

// Live returns the live ladder of slug, or nil.
func (o *Origin) Live(slug string) *Ladder {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.live[slug]
}

func (o *Origin) ladder(slug, id string) *Ladder {
	o.mu.RLock()
	defer o.mu.RUnlock()
	e, ok := o.ladders[id]
	if !ok || e.slug != slug {
		return nil
	}
	return e.ladder
}

// ServeHTTP implements http.Handler for paths under /hls/.
func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, cacheNever, "only GET and HEAD are served here")
		return
	}
	path, ok := parseOriginPath(r.URL.Path)
	switch {
	case !ok:
		httpError(w, http.StatusNotFound, cacheNotYet, "not found")
	case path.rendition == "":
		o.serveMultivariant(w, r, path.slug)
	default:
		l := o.ladder(path.slug, path.broadcast)
		if l == nil {
			httpError(w, http.StatusNotFound, cacheNotYet, "no such broadcast")
			return
		}
		rend := l.Rendition(path.rendition)
		if rend == nil {
			httpError(w, http.StatusNotFound, cacheNotYet, "no such rendition")
			return
		}
		rend.serveFile(w, r, path.file)
	}
}

func (o *Origin) serveMultivariant(w http.ResponseWriter, r *http.Request, slug string) {
	l := o.Live(slug)
	if l == nil {
		httpError(w, http.StatusNotFound, cacheNotYet, "channel is offline")
		return
	}
	l.WaitReady(r.Context())
	body := l.Multivariant()
	if !strings.Contains(string(body), "#EXT-X-STREAM-INF") {
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, cacheNever, "stream is starting; retry in a second")
		return
	}
	writeBody(w, http.StatusOK, contentTypePlaylist, "public, max-age=1", body)
}

func (rend *Rendition) serveFile(w http.ResponseWriter, r *http.Request, f mediaFile) {
	switch f.kind {
	case filePlaylist:
		rend.servePlaylist(w, r)
	case filePart:
		rend.servePart(w, r, f.msn, f.part)
	case fileSegment:
		rend.serveSegment(w, r, f.msn)
	case fileInit:
		rend.mu.RLock()
		data, ok := rend.inits[f.init]
		rend.mu.RUnlock()
		if !ok {
			httpError(w, http.StatusNotFound, cacheNotYet, "not found")
			return
		}
		writeBody(w, http.StatusOK, contentTypeMP4, cacheImmutable, data)
	}
}

func (rend *Rendition) servePlaylist(w http.ResponseWriter, r *http.Request) {
	var d Directives
	var err error
	if r.URL.RawQuery != "" {
		d, err = ParseDirectives(r.URL.Query())
	}
	if err != nil {
		httpError(w, http.StatusBadRequest, cacheNever, err.Error())
		return
	}
	skip := 0
	if d.Skip {
		skip = 1
	}
	if !d.Block {
		rend.mu.RLock()
		body := rend.playlist[skip]
		rend.mu.RUnlock()
		if body == nil {
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusServiceUnavailable, cacheNever, "rendition is starting; retry in a second")
			return
		}
		writeBody(w, http.StatusOK, contentTypePlaylist, cachePlain, body)
		return
	}

	rend.mu.RLock()
	last, hasLast := rend.lastMSNLocked()
	target := time.Duration(rend.target) * time.Second
	rend.mu.RUnlock()
	if hasLast && d.MSN > last+2 {
		httpError(w, http.StatusBadRequest, cacheNever, "_HLS_msn is more than two segments ahead of the live edge")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*target)
	defer cancel()
	var body []byte
	ok := rend.waitFor(ctx, func() bool {
		if rend.ended || rend.hasLocked(d.MSN, int(min(d.Part, 1<<20)), d.HasPart) {
			body = rend.playlist[skip]
			return true
		}
		return false
	})
	if !ok {
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, cacheNever, "the requested part did not appear in time")
		return
	}
	writeBody(w, http.StatusOK, contentTypePlaylist, cacheBlocking, body)
}

// hasLocked reports whether the playlist holds part p of segment msn (or the
// whole segment when !hasPart). A part index past the last part of a closed
// segment means part 0 of the next segment, as the LL-HLS spec requires.
func (rend *Rendition) hasLocked(msn uint64, p int, hasPart bool) bool {
	for {
		s := rend.segmentLocked(msn)
		if s == nil {
			return len(rend.segments) > 0 && msn < rend.segments[0].msn
		}
		if !hasPart {
			return s.complete
		}
		if p < len(s.parts) {
			return true
		}
		if !s.complete {
			return false
		}
		msn, p = msn+1, 0
	}
}

func (rend *Rendition) segmentLocked(msn uint64) *segment {
	if len(rend.segments) == 0 || msn < rend.segments[0].msn {
		return nil
	}
	i := msn - rend.segments[0].msn
	if i < uint64(len(rend.segments)) && rend.segments[i].msn == msn {
		return rend.segments[i]
	}
	return nil
}

func (rend *Rendition) lastMSNLocked() (uint64, bool) {
	if len(rend.segments) == 0 {
		return 0, false
	}
	return rend.segments[len(rend.segments)-1].msn, true
}

func (rend *Rendition) servePart(w http.ResponseWriter, r *http.Request, msn uint64, p int) {
	var pt *part
	var b *blob
	find := func() bool {
		if s := rend.segmentLocked(msn); s != nil && p < len(s.parts) {
			pt, b = s.parts[p], s.blob
			return true
		}
		return false
	}
	rend.mu.RLock()
	found, soon := find(), rend.isNextPartLocked(msn, p)
	rend.mu.RUnlock()
	if !found && soon {
		// A preload hint: hold the request until the part exists.
		ctx, cancel := context.WithTimeout(r.Context(), 3*rend.cfg.PartTarget+time.Second)
		defer cancel()
		rend.waitFor(ctx, func() bool { return find() || !rend.isNextPartLocked(msn, p) })
		rend.mu.RLock()
		found = find()
		rend.mu.RUnlock()
	}
	if !found {
		httpError(w, http.StatusNotFound, cacheNotYet, "part not available")
		return
	}
	if rend.sendBlob(w, r, b, pt.off, int64(len(pt.data)), pt.data) {
		return
	}
	writeBody(w, http.StatusOK, contentTypeMP4, cacheImmutable, pt.data)
}

// sendBlob serves n bytes of b from off with sendfile when the connection
// allows it, and reports whether it did. head is the range's first bytes.
func (rend *Rendition) sendBlob(w http.ResponseWriter, r *http.Request, b *blob, off, n int64, head []byte) bool {
	if b == nil || n == 0 {
		return false
	}
	raw, ok := canSendfile(w, r)
	if !ok {
		return false
	}
	// Reopen the memfd under the read lock: eviction closes it under the
	// write lock, so its descriptor cannot be reused meanwhile.
	rend.mu.RLock()
	f, err := b.reader(rend.ladder.readerFiles)
	rend.mu.RUnlock()
	if err != nil {
		return false
	}
	sent := sendRange(w, raw, f, off, n, head)
	b.put(f)
	return sent
}

// isNextPartLocked reports whether part p of msn is the part being built.
func (rend *Rendition) isNextPartLocked(msn uint64, p int) bool {
	if rend.ended || len(rend.segments) == 0 {
		return len(rend.segments) == 0 && !rend.ended && p == 0
	}
	s := rend.segments[len(rend.segments)-1]
	if s.complete {
		return msn == s.msn+1 && p == 0
	}
	return (msn == s.msn && p == len(s.parts)) || (msn == s.msn+1 && p == 0)
}

func (rend *Rendition) serveSegment(w http.ResponseWriter, r *http.Request, msn uint64) {
	var parts []*part
	var size int
	var gap bool
	var b *blob
	find := func() bool {
		s := rend.segmentLocked(msn)
		if s != nil && s.complete {
			parts, size, gap, b = s.parts, s.size, s.gap, s.blob
			return true
		}
		return s == nil
	}
	rend.mu.RLock()
	done := find()
	target := time.Duration(rend.target) * time.Second
	rend.mu.RUnlock()
	if !done {
		ctx, cancel := context.WithTimeout(r.Context(), 3*target)
		defer cancel()
		rend.waitFor(ctx, func() bool { return find() || rend.ended })
	}
	if parts == nil || gap {
		httpError(w, http.StatusNotFound, cacheNotYet, "segment not available")
		return
	}
	// A segment is its parts back to back: all of its blob, or the parts
	// written from memory with one writev.
	if rend.sendBlob(w, r, b, 0, int64(size), parts[0].data) { // a listed segment has parts
		return
	}
	bufs := make(net.Buffers, len(parts))
	for i, p := range parts {
		bufs[i] = p.data
	}
	setHeaders(w.Header(), contentTypeMP4, cacheImmutable, size)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		bufs.WriteTo(w) //nolint:errcheck // the client went away; nothing to do
	}
}

func writeBody(w http.ResponseWriter, status int, contentType, cacheControl string, body []byte) {
	setHeaders(w.Header(), contentType, cacheControl, len(body))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client went away; nothing to do
}

// Header values are shared, preallocated slices: setting them costs no
// allocation on the hot path. The keys are already canonical.
func headerValue(v string) []string {
	switch v {
	case contentTypePlaylist:
		return hvPlaylist
	case contentTypeMP4:
		return hvMP4
	case cacheImmutable:
		return hvImmutable
	case cacheBlocking:
		return hvBlocking
	case cachePlain:
		return hvPlain
	}
	return []string{v}
}

var (
	hvPlaylist  = []string{contentTypePlaylist}
	hvMP4       = []string{contentTypeMP4}
	hvImmutable = []string{cacheImmutable}
	hvBlocking  = []string{cacheBlocking}
	hvPlain     = []string{cachePlain}
)

func setHeaders(h http.Header, contentType, cacheControl string, length int) {
	h["Content-Type"] = headerValue(contentType)
	h["Cache-Control"] = headerValue(cacheControl)
	h["Content-Length"] = []string{strconv.Itoa(length)}
}

func httpError(w http.ResponseWriter, status int, cacheControl, msg string) {
	writeBody(w, status, "text/plain; charset=utf-8", cacheControl, []byte(msg+"\n"))
}
