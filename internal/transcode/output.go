package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mpegtscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/livehouse/livehouse/internal/media"
)

// output converts one rendition's MPEG-TS from ffmpeg back into units on
// the source timeline and hands them to its sink.
type output struct {
	p    *process
	idx  int
	sink Sink

	begun    bool
	startPTS int64 // source PTS (90 kHz) of the epoch's first video frame
	vref     int64 // last video DTS on ffmpeg's timeline, to unwrap 33-bit values
	aref     int64
}

// readOutput reads rendition i until ffmpeg closes its pipe, then drains it.
func (p *process) readOutput(i int) {
	defer p.wg.Done()
	f := p.outs[i]
	defer func() { _, _ = io.Copy(io.Discard, f) }()
	o := &output{p: p, idx: i, sink: p.t.sinks[i], vref: inputOffset, aref: inputOffset}
	r := &mpegts.Reader{R: bufio.NewReaderSize(f, 64<<10)}
	if err := r.Initialize(); err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			p.t.log.Debug("rendition output", "rendition", p.t.rends[i].Name, "err", err)
		}
		return
	}
	select {
	case <-p.tlReady: // output implies input, but make it a happens-before edge
	case <-p.exited:
		return
	}
	for _, tr := range r.Tracks() {
		switch tr.Codec.(type) {
		case *mpegtscodecs.H264:
			r.OnDataH264(tr, o.video)
		case *mpegtscodecs.MPEG4Audio:
			if p.t.audioCfg != nil {
				r.OnDataMPEG4Audio(tr, o.audio)
			}
		}
	}
	r.OnDecodeError(func(err error) {
		p.t.log.Debug("rendition output decode", "rendition", p.t.rends[i].Name, "err", err)
	})
	for {
		if err := r.Read(); err != nil {
			return
		}
	}
}

func (o *output) video(pts, dts int64, au [][]byte) error {
	dts = unwrap(dts, o.vref)
	o.vref = dts
	pts = unwrap(pts, dts)
	au = nonEmpty(au)
	if len(au) == 0 {
		return nil
	}
	key := h264.IsRandomAccess(au)
	tl := o.p.tl
	srcPTS := tl.fromOutput(pts)
	if !o.begun {
		if !key {
			return nil
		}
		tracks, err := o.tracks(au)
		if err != nil {
			o.p.t.log.Warn("rendition output", "rendition", o.p.t.rends[o.idx].Name, "err", err)
			return nil
		}
		o.sink.Begin(tracks)
		o.begun, o.startPTS = true, srcPTS
	}
	o.p.activity()
	o.sink.Write(&media.Unit{
		Kind:    media.KindVideo,
		PTS:     srcPTS,
		DTS:     tl.fromOutput(dts),
		NTP:     o.p.clock.get(media.KindVideo, srcPTS),
		Key:     key,
		Payload: au,
	})
	return nil
}

// tracks describes the epoch's output from its first key frame.
func (o *output) tracks(au [][]byte) (media.Tracks, error) {
	v := &media.H264{FPS: o.p.t.outFPS[o.idx]}
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			v.SPS = n
		case h264.NALUTypePPS:
			v.PPS = n
		}
	}
	if v.SPS == nil || v.PPS == nil {
		return media.Tracks{}, errors.New("key frame without SPS and PPS")
	}
	var sps h264.SPS
	if err := sps.Unmarshal(v.SPS); err != nil {
		return media.Tracks{}, fmt.Errorf("SPS: %w", err)
	}
	v.Width, v.Height = sps.Width(), sps.Height()
	return media.Tracks{Video: v, Audio: o.p.t.cfg.Source.Audio}, nil
}

func (o *output) audio(pts int64, aus [][]byte) error {
	pts = unwrap(pts, o.aref)
	o.aref = pts
	if !o.begun {
		return nil
	}
	src90 := o.p.tl.fromOutput(pts)
	if src90 < o.startPTS { // audio from before the epoch's first frame
		return nil
	}
	rate := int64(o.p.t.cfg.Source.Audio.SampleRate)
	first := rescale(src90, media.VideoClockRate, rate)
	for i, au := range aus {
		ts := first + int64(i)*1024
		o.sink.Write(&media.Unit{
			Kind:    media.KindAudio,
			PTS:     ts,
			DTS:     ts,
			NTP:     o.p.clock.get(media.KindAudio, ts),
			Payload: [][]byte{au},
		})
	}
	return nil
}
