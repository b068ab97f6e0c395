package hls

import (
	"context"
	"strconv"
	"strings"
	"time"
)

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 5, 64)
}

// renderLocked renders the media playlist, plain and as a delta update.
func (r *Rendition) renderLocked() {
	r.playlist[0] = r.renderPlaylistLocked(false)
	r.playlist[1] = r.renderPlaylistLocked(true)
}

func (r *Rendition) renderPlaylistLocked(skip bool) []byte {
	var b strings.Builder
	b.Grow(256 + 160*len(r.segments))
	target := time.Duration(r.target) * time.Second
	skipUntil := 6 * target
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:")
	b.WriteString(strconv.Itoa(r.target))
	b.WriteString("\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=")
	b.WriteString(seconds(skipUntil))
	b.WriteString(",PART-HOLD-BACK=")
	b.WriteString(seconds(r.cfg.PartHoldBack))
	b.WriteString("\n#EXT-X-PART-INF:PART-TARGET=")
	b.WriteString(seconds(r.cfg.PartTarget))
	b.WriteString("\n")
	if len(r.segments) > 0 {
		b.WriteString("#EXT-X-MEDIA-SEQUENCE:")
		b.WriteString(strconv.FormatUint(r.segments[0].msn, 10))
		b.WriteString("\n")
	}
	if r.discSeq > 0 {
		b.WriteString("#EXT-X-DISCONTINUITY-SEQUENCE:")
		b.WriteString(strconv.FormatUint(r.discSeq, 10))
		b.WriteString("\n")
	}

	// Segment start times, from the end of the playlist backwards.
	var total time.Duration
	for _, s := range r.segments {
		total += r.segmentLength(s)
	}
	skipped := 0
	if skip {
		var start time.Duration
		for _, s := range r.segments {
			if !s.complete || total-start-r.segmentLength(s) < skipUntil {
				break
			}
			start += r.segmentLength(s)
			skipped++
		}
		if skipped > 0 {
			b.WriteString("#EXT-X-SKIP:SKIPPED-SEGMENTS=")
			b.WriteString(strconv.Itoa(skipped))
			b.WriteString("\n")
		}
	}

	if ranges := r.ladder.currentDateRanges(); len(ranges) > 0 && len(r.segments) > 0 {
		var first time.Time
		for _, s := range r.segments {
			if !s.pdt.IsZero() {
				first = s.pdt
				break
			}
		}
		lastSeg := r.segments[len(r.segments)-1]
		if !first.IsZero() && !lastSeg.pdt.IsZero() {
			writeDateRanges(&b, ranges, first, lastSeg.pdt.Add(r.segmentLength(lastSeg)))
		}
	}

	var start time.Duration
	mapID := -1
	for i, s := range r.segments {
		length := r.segmentLength(s)
		if i < skipped {
			start += length
			continue
		}
		if s.discontinuity && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if s.initID != mapID && !s.gap {
			mapID = s.initID
			b.WriteString("#EXT-X-MAP:URI=\"init")
			b.WriteString(strconv.Itoa(mapID))
			b.WriteString(".mp4\"\n")
		}
		if !s.pdt.IsZero() {
			b.WriteString("#EXT-X-PROGRAM-DATE-TIME:")
			b.WriteString(s.pdt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
			b.WriteString("\n")
		}
		// Parts are listed for the last three target durations only.
		if total-start <= 3*target+length {
			for j, p := range s.parts {
				b.WriteString("#EXT-X-PART:DURATION=")
				b.WriteString(seconds(p.duration))
				b.WriteString(",URI=\"")
				writePartName(&b, s.msn, j)
				if p.independent {
					b.WriteString("\",INDEPENDENT=YES\n")
				} else {
					b.WriteString("\"\n")
				}
			}
		}
		if s.complete {
			if s.gap {
				b.WriteString("#EXT-X-GAP\n")
			}
			b.WriteString("#EXTINF:")
			b.WriteString(seconds(length))
			b.WriteString(",\nseg")
			b.WriteString(strconv.FormatUint(s.msn, 10))
			b.WriteString(".m4s\n")
		}
		start += length
	}
	if r.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
		return []byte(b.String())
	}
	if n := len(r.segments); n > 0 {
		s := r.segments[n-1]
		b.WriteString("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"")
		if s.complete {
			writePartName(&b, s.msn+1, 0)
		} else {
			writePartName(&b, s.msn, len(s.parts))
		}
		b.WriteString("\"\n")
	}
	for _, sib := range r.ladder.renditions {
		if sib == r {
			continue
		}
		pos := sib.last.Load()
		if !pos.ok {
			continue
		}
		b.WriteString("#EXT-X-RENDITION-REPORT:URI=\"../")
		b.WriteString(sib.name)
		b.WriteString("/index.m3u8\",LAST-MSN=")
		b.WriteString(strconv.FormatUint(pos.msn, 10))
		b.WriteString(",LAST-PART=")
		b.WriteString(strconv.Itoa(pos.part))
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func writePartName(b *strings.Builder, msn uint64, i int) {
	b.WriteString("part")
	b.WriteString(strconv.FormatUint(msn, 10))
	b.WriteString(".")
	b.WriteString(strconv.Itoa(i))
	b.WriteString(".m4s")
}

func (r *Rendition) segmentLength(s *segment) time.Duration {
	if s.complete {
		return s.duration
	}
	var d time.Duration
	for _, p := range s.parts {
		d += p.duration
	}
	return d
}

// Ended reports whether the rendition ended with EXT-X-ENDLIST.
func (r *Rendition) Ended() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ended
}

func (r *Rendition) hasPartLocked() bool {
	for _, s := range r.segments {
		if len(s.parts) > 0 {
			return true
		}
	}
	return false
}

// waitFor waits until cond, evaluated under the read lock, holds or ctx ends.
func (r *Rendition) waitFor(ctx context.Context, cond func() bool) bool {
	for {
		r.mu.RLock()
		ok, ch := cond(), r.changed
		r.mu.RUnlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (r *Rendition) variantInfo() VariantInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v := VariantInfo{Name: r.name, Codecs: codecsOf(r.tracks), Ready: r.hasPartLocked()}
	if t := r.tracks.Video; t != nil {
		v.Width, v.Height = t.Width, t.Height
	}
	var bytes, frames int
	var dur time.Duration
	for _, s := range r.segments {
		if s.gap {
			continue
		}
		var size int
		for _, p := range s.parts {
			size += len(p.data)
		}
		d := r.segmentLength(s)
		if d <= 0 {
			continue
		}
		if bw := int(float64(size*8) / d.Seconds()); s.complete && bw > v.Bandwidth {
			v.Bandwidth = bw
		}
		bytes += size
		frames += s.frames
		dur += d
	}
	if dur > 0 {
		v.AverageBandwidth = int(float64(bytes*8) / dur.Seconds())
		v.FrameRate = float64(frames) / dur.Seconds()
	}
	if v.Bandwidth < v.AverageBandwidth {
		v.Bandwidth = v.AverageBandwidth
	}
	return v
}
