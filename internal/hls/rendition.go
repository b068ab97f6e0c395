package hls

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/livehouse/livehouse/internal/media"
)

const (
	videoTrackID = 1
	audioTrackID = 2
	// baseOffset keeps fMP4 decode times positive when the first units of a
	// stream carry small negative DTS (B-frames).
	baseOffsetSeconds = 10
)

type part struct {
	data        []byte
	off         int64 // offset of data in the segment's blob
	duration    time.Duration
	independent bool
}

type segment struct {
	msn           uint64
	initID        int
	discontinuity bool
	gap           bool
	pdt           time.Time
	parts         []*part
	complete      bool
	duration      time.Duration
	size          int // bytes of all parts; the segment is served as its parts in order
	frames        int
	blob          *blob // the parts back to back in a memfd, or nil: serve from data
}

// position is the newest part of a rendition, for rendition reports.
type position struct {
	msn  uint64
	part int
	ok   bool
}

// Rendition is the LL-HLS muxer of one rendition: it turns units into fMP4
// parts and segments and serves its media playlist. Begin, Write and End are
// called from one goroutine; the serving methods from any.
type Rendition struct {
	name   string
	ladder *Ladder
	leader bool
	cfg    Config
	log    *slog.Logger

	mu       sync.RWMutex
	changed  chan struct{} // closed and replaced on every new part
	inits    map[int][]byte
	segments []*segment // window, oldest first; the last may be open
	discSeq  uint64     // discontinuity sequence of segments[0]
	ended    bool
	idle     bool // no producer until the next Begin; see Idle
	tracks   media.Tracks
	playlist [2][]byte // rendered without and with _HLS_skip
	target   int       // EXT-X-TARGETDURATION in seconds; never changes

	longWarned atomic.Bool // a segment longer than the target was logged

	last atomic.Pointer[position]

	blobWarned atomic.Bool // memfds unavailable was logged

	w writer // owned by the writing goroutine
}

// writer is the muxing state of the current epoch.
type writer struct {
	epoch       int
	initID      int
	tracks      media.Tracks
	started     bool
	pendingDisc bool
	seq         uint32
	nextMSN     uint64
	hasMSN      bool

	seg          *segment
	segStartPTS  int64
	pending      *media.Unit
	lastDur      int64
	partStartDTS int64
	video        []*fmp4.Sample
	videoBase    int64
	audio        []*fmp4.Sample
	audioBase    int64
	audioRate    int
}

func newRendition(name string, l *Ladder, leader bool) *Rendition {
	r := &Rendition{
		name:    name,
		ladder:  l,
		leader:  leader,
		cfg:     l.cfg,
		log:     l.log.With("rendition", name),
		changed: make(chan struct{}),
		inits:   make(map[int][]byte),
		target:  int(l.cfg.TargetDuration / time.Second),
	}
	r.last.Store(&position{})
	return r
}

// Name returns the rendition's name, which is also its URL path element.
func (r *Rendition) Name() string { return r.name }

// Begin starts a new epoch with tracks: the first one, or one after the
// encoder reconnected or restarted. Timestamps continue on the same timeline;
// the next segment is marked EXT-X-DISCONTINUITY and carries a new EXT-X-MAP.
func (r *Rendition) Begin(tracks media.Tracks) {
	r.finishEpoch()
	init, err := marshalInit(tracks)
	if err != nil {
		r.log.Error("cannot build init segment; rendition paused until the next epoch", "err", err)
		tracks = media.Tracks{}
	}
	w := &r.w
	epoch := w.epoch + 1
	*w = writer{epoch: epoch, initID: epoch, tracks: tracks, seq: w.seq, nextMSN: w.nextMSN, hasMSN: w.hasMSN}
	r.mu.Lock()
	w.pendingDisc = len(r.segments) > 0
	r.idle = false
	r.tracks = tracks
	if init != nil {
		r.inits[epoch] = init
	}
	r.mu.Unlock()
	if tracks.Audio != nil {
		w.audioRate = tracks.Audio.SampleRate
	}
}

// Write adds one unit of the current epoch.
func (r *Rendition) Write(u *media.Unit) {
	if r.w.tracks.Video == nil {
		return
	}
	switch u.Kind {
	case media.KindVideo:
		r.writeVideo(u)
	case media.KindAudio:
		r.writeAudio(u)
	}
}

// End closes the last segment and marks the playlist with EXT-X-ENDLIST.
func (r *Rendition) End() {
	r.finishEpoch()
	r.mu.Lock()
	r.ended = true
	r.renderLocked()
	r.mu.Unlock()
	r.notify()
}

// Idle closes the open part and segment, and marks the rendition as having
// no producer until the next Begin (its transcoder cannot run): the
// multivariant playlist stops waiting for it.
func (r *Rendition) Idle() {
	r.finishEpoch()
	r.mu.Lock()
	r.idle = true
	r.mu.Unlock()
	r.notify()
}

// Flush closes the open part and segment now, because no more units of this
// epoch will come (the encoder left or the transcoder stopped). Units written
// afterwards wait for a key frame.
func (r *Rendition) Flush() { r.finishEpoch() }

func (r *Rendition) writeVideo(u *media.Unit) {
	w := &r.w
	if !w.started {
		if !u.Key {
			return
		}
		msn, pdt, ok := r.segmentStart(u)
		if !ok {
			return
		}
		w.started = true
		r.openSegment(msn, pdt, u)
		w.pending = u
		return
	}
	prev := w.pending
	dur := u.DTS - prev.DTS
	if dur <= 0 {
		r.log.Warn("dropping video unit with non-monotonic timestamp", "dts", u.DTS, "previous", prev.DTS)
		return
	}
	if dur > 10*media.VideoClockRate {
		r.log.Warn("timestamp jump, starting a new epoch", "jump", time.Duration(dur)*time.Second/media.VideoClockRate)
		r.Begin(w.tracks)
		r.writeVideo(u)
		return
	}
	w.lastDur = dur
	r.appendVideo(prev, dur)

	if u.Key {
		if msn, pdt, ok := r.segmentStart(u); ok {
			r.closePart()
			r.closeSegment()
			r.openSegment(msn, pdt, u)
			w.pending = u
			return
		}
	}
	// Close the part before u would push it past the part target.
	partTarget := r.cfg.PartTarget.Nanoseconds() * media.VideoClockRate / int64(time.Second)
	if u.DTS-w.partStartDTS+dur > partTarget+media.VideoClockRate/1000 {
		r.closePart()
	}
	if len(w.video) == 0 {
		w.partStartDTS = u.DTS
	}
	w.pending = u
}

func (r *Rendition) writeAudio(u *media.Unit) {
	w := &r.w
	if !w.started || w.audioRate == 0 || len(u.Payload) == 0 {
		return
	}
	if len(w.audio) == 0 {
		w.audioBase = u.DTS
	}
	w.audio = append(w.audio, &fmp4.Sample{Duration: 1024, Payload: u.Payload[0]})
}

func (r *Rendition) appendVideo(u *media.Unit, dur int64) {
	w := &r.w
	s := &fmp4.Sample{Duration: uint32(dur)}
	if err := s.FillH264(int32(u.PTS-u.DTS), u.Payload); err != nil {
		r.log.Warn("dropping malformed video unit", "err", err)
		return
	}
	if len(w.video) == 0 {
		w.videoBase = u.DTS
		w.partStartDTS = u.DTS
	}
	w.video = append(w.video, s)
}

// segmentStart reports whether the key frame u starts a segment, and which.
// The leader decides; followers start segments where the leader did.
func (r *Rendition) segmentStart(u *media.Unit) (uint64, time.Time, bool) {
	w := &r.w
	if r.leader {
		minTicks := r.cfg.SegmentMin.Nanoseconds() * media.VideoClockRate / int64(time.Second)
		if w.seg != nil && u.PTS-w.segStartPTS < minTicks {
			return 0, time.Time{}, false
		}
		msn := uint64(0)
		if w.hasMSN {
			msn = w.nextMSN
		}
		r.ladder.addBoundary(boundary{msn: msn, pts: u.PTS, pdt: u.NTP})
		return msn, u.NTP, true
	}
	b, ok := r.ladder.boundaryAt(u.PTS)
	if !ok || (w.hasMSN && b.msn < w.nextMSN) {
		return 0, time.Time{}, false
	}
	return b.msn, b.pdt, true
}

func (r *Rendition) openSegment(msn uint64, pdt time.Time, u *media.Unit) {
	w := &r.w
	b, err := newBlob()
	if err != nil && !r.blobWarned.Swap(true) {
		r.log.Warn("cannot keep segments in memory files; serving media without sendfile", "err", err)
	}
	r.mu.Lock()
	if w.hasMSN && msn > w.nextMSN {
		r.addGapsLocked(w.nextMSN, msn)
	}
	w.seg = &segment{msn: msn, initID: w.initID, discontinuity: w.pendingDisc, pdt: pdt, blob: b}
	w.pendingDisc = false
	r.segments = append(r.segments, w.seg)
	r.mu.Unlock()
	w.nextMSN, w.hasMSN = msn+1, true
	w.segStartPTS = u.PTS
	w.partStartDTS = u.DTS
}

// addGapsLocked stands in EXT-X-GAP segments for media sequence numbers the
// leader produced while this rendition had no output (an encoder restart).
func (r *Rendition) addGapsLocked(from, to uint64) {
	for msn := from; msn < to; msn++ {
		d := r.ladder.segmentDuration(msn)
		if d <= 0 {
			d = r.cfg.SegmentMin
		}
		r.segments = append(r.segments, &segment{msn: msn, initID: r.w.initID, gap: true,
			complete: true, duration: d})
	}
	r.w.pendingDisc = true
}

func (r *Rendition) closePart() {
	w := &r.w
	if len(w.video) == 0 {
		return
	}
	var dur int64
	for _, s := range w.video {
		dur += int64(s.Duration)
	}
	p := fmp4.Part{SequenceNumber: w.seq, Tracks: []*fmp4.PartTrack{{
		ID:       videoTrackID,
		BaseTime: uint64(w.videoBase + baseOffsetSeconds*media.VideoClockRate),
		Samples:  w.video,
	}}}
	w.seq++
	if len(w.audio) > 0 && w.audioBase+int64(baseOffsetSeconds*w.audioRate) >= 0 {
		p.Tracks = append(p.Tracks, &fmp4.PartTrack{
			ID:       audioTrackID,
			BaseTime: uint64(w.audioBase + int64(baseOffsetSeconds*w.audioRate)),
			Samples:  w.audio,
		})
	}
	independent := !w.video[0].IsNonSyncSample
	frames := len(w.video)
	w.video, w.audio = nil, nil
	if w.videoBase+baseOffsetSeconds*media.VideoClockRate < 0 {
		return
	}
	// Size the buffer once: growing it by doubling zeroes and copies each
	// part several times, which showed up as the muxer's largest cost.
	size := 1024
	for _, t := range p.Tracks {
		size += 16 * len(t.Samples)
		for _, smp := range t.Samples {
			size += len(smp.Payload)
		}
	}
	var buf seekablebuffer.Buffer
	buf.Grow(size)
	if err := p.Marshal(&buf); err != nil {
		r.log.Warn("cannot write part", "err", err)
		return
	}
	pt := &part{
		data:        buf.Bytes(),
		duration:    time.Duration(dur * int64(time.Second) / media.VideoClockRate),
		independent: independent,
	}
	var blobErr error
	if w.seg.blob != nil {
		pt.off, blobErr = w.seg.blob.append(pt.data)
	}
	r.mu.Lock()
	if blobErr != nil {
		r.log.Warn("cannot write part to its memory file; serving this segment from memory", "err", blobErr)
		w.seg.blob.close()
		w.seg.blob = nil
	}
	w.seg.parts = append(w.seg.parts, pt)
	w.seg.frames += frames
	r.last.Store(&position{msn: w.seg.msn, part: len(w.seg.parts) - 1, ok: true})
	r.renderLocked()
	r.mu.Unlock()
	r.notify()
	r.refreshSiblings()
}

// refreshSiblings re-renders the other renditions' playlists so that their
// rendition reports name this rendition's newest part.
func (r *Rendition) refreshSiblings() {
	for _, sib := range r.ladder.renditions {
		if sib == r {
			continue
		}
		sib.mu.Lock()
		if sib.playlist[0] != nil {
			sib.renderLocked()
		}
		sib.mu.Unlock()
	}
}

func (r *Rendition) closeSegment() {
	w := &r.w
	seg := w.seg
	if seg == nil {
		return
	}
	var size int
	var dur time.Duration
	for _, p := range seg.parts {
		size += len(p.data)
		dur += p.duration
	}
	r.mu.Lock()
	seg.size, seg.duration, seg.complete = size, dur, true
	if len(seg.parts) == 0 {
		// Nothing was produced: drop the empty segment rather than list it.
		r.segments = r.segments[:len(r.segments)-1]
		seg.blob.close()
		seg.blob = nil
		w.nextMSN = seg.msn
		w.pendingDisc = w.pendingDisc || seg.discontinuity
	}
	// The target stays: RFC 8216 forbids changing it. A segment that rounds
	// above it comes from an encoder sending key frames too rarely.
	if t := int((dur + time.Second/2) / time.Second); t > r.target && r.leader && !r.longWarned.Swap(true) {
		r.log.Warn("segment longer than the target duration: the encoder's key frame interval is too long; set it to at most the target",
			"segment", dur, "target", time.Duration(r.target)*time.Second)
	}
	r.trimLocked()
	r.renderLocked()
	r.mu.Unlock()
	w.seg = nil
	r.notify()
}

func (r *Rendition) trimLocked() {
	complete := 0
	for _, s := range r.segments {
		if s.complete {
			complete++
		}
	}
	for complete > r.cfg.SegmentCount {
		r.segments[0].blob.close()
		r.segments = r.segments[1:]
		if r.segments[0].discontinuity {
			r.discSeq++
		}
		complete--
	}
	for id := range r.inits {
		if len(r.segments) > 0 && id < r.segments[0].initID && id != r.w.initID {
			delete(r.inits, id)
		}
	}
}

func (r *Rendition) finishEpoch() {
	w := &r.w
	w.started = false
	if w.seg == nil {
		w.pending = nil
		return
	}
	if w.pending != nil {
		dur := w.lastDur
		if dur <= 0 {
			dur = media.VideoClockRate / 30
		}
		r.appendVideo(w.pending, dur)
		w.pending = nil
	}
	r.closePart()
	r.closeSegment()
}

// release closes the memory files of every segment. The segments stay
// listed and are served from memory until the rendition is dropped.
func (r *Rendition) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.segments {
		s.blob.close()
	}
}

func (r *Rendition) notify() {
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func marshalInit(t media.Tracks) ([]byte, error) {
	if t.Video == nil {
		return nil, fmt.Errorf("no video track")
	}
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{
		ID:        videoTrackID,
		TimeScale: media.VideoClockRate,
		Codec:     &fmp4.CodecH264{SPS: t.Video.SPS, PPS: t.Video.PPS},
	}}}
	if t.Audio != nil {
		var cfg mpeg4audio.AudioSpecificConfig
		if err := cfg.Unmarshal(t.Audio.Config); err != nil {
			return nil, fmt.Errorf("audio config: %w", err)
		}
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{
			ID:        audioTrackID,
			TimeScale: uint32(t.Audio.SampleRate),
			Codec:     &fmp4.CodecMPEG4Audio{Config: cfg},
		})
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
