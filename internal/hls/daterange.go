package hls

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DateRange is an ad break marked in every rendition's media playlist with
// EXT-X-DATERANGE carrying SCTE-35 (RFC 8216bis §4.4.5.1 and its SCTE-35
// mapping): SCTE35-OUT from the start, and a second tag with the same ID
// and SCTE35-IN once the media reaches the end.
type DateRange struct {
	ID       string
	Class    string
	Start    time.Time
	Duration time.Duration
	SpliceID uint32
}

// SetDateRanges replaces the ladder's marked ranges; playlists rendered
// from now on carry them. A range shows in a playlist once the playlist's
// media reaches its start, and its end tag once the media reaches its
// end, so a playlist for a given media sequence and part always says the
// same: blocking responses stay cacheable.
func (l *Ladder) SetDateRanges(ranges []DateRange) {
	l.mu.Lock()
	l.dateRanges = append([]DateRange(nil), ranges...)
	l.mu.Unlock()
}

func (l *Ladder) currentDateRanges() []DateRange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dateRanges
}

const dateFormat = "2006-01-02T15:04:05.000Z07:00"

// writeDateRangesLocked writes the ranges that the playlist's media, from
// first to last (program date-times), has reached.
func writeDateRanges(b *strings.Builder, ranges []DateRange, first, last time.Time) {
	for _, d := range ranges {
		end := d.Start.Add(d.Duration)
		if last.Before(d.Start) || end.Before(first) {
			continue
		}
		dur := strconv.FormatFloat(d.Duration.Seconds(), 'f', 3, 64)
		b.WriteString(`#EXT-X-DATERANGE:ID="`)
		b.WriteString(d.ID)
		b.WriteString(`",CLASS="`)
		b.WriteString(d.Class)
		b.WriteString(`",START-DATE="`)
		b.WriteString(d.Start.UTC().Format(dateFormat))
		b.WriteString(`",PLANNED-DURATION=`)
		b.WriteString(dur)
		b.WriteString(",SCTE35-OUT=0x")
		b.WriteString(strings.ToUpper(hex.EncodeToString(SpliceInsert(d.SpliceID, true, d.Duration))))
		b.WriteString("\n")
		if !last.Before(end) {
			b.WriteString(`#EXT-X-DATERANGE:ID="`)
			b.WriteString(d.ID)
			b.WriteString(`",START-DATE="`)
			b.WriteString(d.Start.UTC().Format(dateFormat))
			b.WriteString(`",END-DATE="`)
			b.WriteString(end.UTC().Format(dateFormat))
			b.WriteString(`",DURATION=`)
			b.WriteString(dur)
			b.WriteString(",SCTE35-IN=0x")
			b.WriteString(strings.ToUpper(hex.EncodeToString(SpliceInsert(d.SpliceID, false, 0))))
			b.WriteString("\n")
		}
	}
}

// bitWriter packs big-endian bit fields.
type bitWriter struct {
	buf  []byte
	bits int
}

func (w *bitWriter) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.bits%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.buf[len(w.buf)-1] |= 0x80 >> uint(w.bits%8)
		}
		w.bits++
	}
}

// SpliceInsert returns an SCTE-35 splice_info_section holding an
// immediate splice_insert: out of the network (an ad break starts, with
// its duration) or back into it.
func SpliceInsert(eventID uint32, out bool, duration time.Duration) []byte {
	var cmd bitWriter
	cmd.put(uint64(eventID), 32)
	cmd.put(0, 1)    // splice_event_cancel_indicator
	cmd.put(0x7F, 7) // reserved
	cmd.put(boolBit(out), 1)
	cmd.put(1, 1) // program_splice_flag
	hasDur := out && duration > 0
	cmd.put(boolBit(hasDur), 1)
	cmd.put(1, 1) // splice_immediate_flag
	cmd.put(1, 1) // event_id_compliance_flag
	cmd.put(0x7, 3)
	if hasDur {
		cmd.put(1, 1) // auto_return
		cmd.put(0x3F, 6)
		cmd.put(uint64(duration.Milliseconds()*90), 33)
	}
	cmd.put(0, 16) // unique_program_id
	cmd.put(0, 8)  // avail_num
	cmd.put(0, 8)  // avails_expected

	var w bitWriter
	w.put(0xFC, 8) // table_id
	w.put(0, 1)    // section_syntax_indicator
	w.put(0, 1)    // private_indicator
	w.put(3, 2)    // sap_type: not specified
	// section_length: from after this field to the end of the CRC.
	w.put(uint64(11+len(cmd.buf)+2+4), 12)
	w.put(0, 8)  // protocol_version
	w.put(0, 1)  // encrypted_packet
	w.put(0, 6)  // encryption_algorithm
	w.put(0, 33) // pts_adjustment
	w.put(0, 8)  // cw_index
	w.put(0xFFF, 12)
	w.put(uint64(len(cmd.buf)), 12)
	w.put(0x05, 8) // splice_insert
	w.buf = append(w.buf, cmd.buf...)
	w.buf = append(w.buf, 0, 0) // descriptor_loop_length
	return binary.BigEndian.AppendUint32(w.buf, crc32MPEG(w.buf))
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// crc32MPEG is the CRC-32/MPEG-2 of SCTE-35 and MPEG-TS sections.
func crc32MPEG(b []byte) uint32 {
	crc := uint32(0xFFFFFFFF)
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// Splice is a decoded splice_insert.
type Splice struct {
	EventID  uint32
	Out      bool
	Duration time.Duration // 0 without a break_duration
}

// ParseSpliceInsert decodes a splice_info_section carrying a
// splice_insert, checking its length and CRC; for tests and tools that
// read our markers back.
func ParseSpliceInsert(b []byte) (Splice, error) {
	if len(b) < 3 || b[0] != 0xFC {
		return Splice{}, errors.New("scte35: not a splice_info_section")
	}
	n := int(binary.BigEndian.Uint16(b[1:3]) & 0x0FFF)
	if len(b) != 3+n || n < 11+4 {
		return Splice{}, errors.New("scte35: section length does not match")
	}
	if crc32MPEG(b[:len(b)-4]) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return Splice{}, errors.New("scte35: bad CRC")
	}
	if b[4]&0x80 != 0 {
		return Splice{}, errors.New("scte35: encrypted sections are not supported")
	}
	cmdLen := int(binary.BigEndian.Uint16(b[11:13]) & 0x0FFF)
	if b[13] != 0x05 {
		return Splice{}, errors.New("scte35: not a splice_insert")
	}
	cmd := b[14:]
	if cmdLen > len(cmd)-4 || cmdLen < 6 {
		return Splice{}, errors.New("scte35: splice_insert is truncated")
	}
	cmd = cmd[:cmdLen]
	s := Splice{EventID: binary.BigEndian.Uint32(cmd)}
	if cmd[4]&0x80 != 0 {
		return s, nil // cancelled
	}
	flags := cmd[5]
	s.Out = flags&0x80 != 0
	program, hasDur, immediate := flags&0x40 != 0, flags&0x20 != 0, flags&0x10 != 0
	if !program || !immediate {
		return Splice{}, errors.New("scte35: only immediate program splices are supported")
	}
	if hasDur {
		if len(cmd) < 11 {
			return Splice{}, errors.New("scte35: break_duration is truncated")
		}
		d := uint64(cmd[6]&1)<<32 | uint64(binary.BigEndian.Uint32(cmd[7:11]))
		s.Duration = time.Duration(d) * time.Second / 90000
	}
	return s, nil
}
