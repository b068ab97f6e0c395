package hls

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestCRC32MPEGMatchesTheStandardCheckValue(t *testing.T) {
	// CRC-32/MPEG-2's published check value for "123456789".
	if got := crc32MPEG([]byte("123456789")); got != 0x0376E6E7 {
		t.Fatalf("crc32MPEG = %#08x, want 0x0376e6e7", got)
	}
}

func TestSpliceInsertRoundTrips(t *testing.T) {
	tests := []struct {
		id  uint32
		out bool
		d   time.Duration
	}{
		{1, true, 30 * time.Second},
		{7, true, 180 * time.Second},
		{1<<32 - 1, true, 45*time.Second + 500*time.Millisecond},
		{42, false, 0},
	}
	for _, tt := range tests {
		b := SpliceInsert(tt.id, tt.out, tt.d)
		if b[0] != 0xFC {
			t.Errorf("table_id %#x, want 0xfc", b[0])
		}
		got, err := ParseSpliceInsert(b)
		if err != nil {
			t.Errorf("%d: parse %s: %v", tt.id, hex.EncodeToString(b), err)
			continue
		}
		if got != (Splice{EventID: tt.id, Out: tt.out, Duration: tt.d}) {
			t.Errorf("round trip %+v, want %+v", got, tt)
		}
	}
}

func TestParseSpliceInsertRefusesDamagedSections(t *testing.T) {
	good := SpliceInsert(9, true, 60*time.Second)
	flip := append([]byte(nil), good...)
	flip[15] ^= 0x01
	long := append(append([]byte(nil), good...), 0)
	notInsert := append([]byte(nil), good...)
	notInsert[13] = 0x06 // time_signal
	for name, b := range map[string][]byte{
		"empty": nil, "one byte": {0xFC}, "wrong table": append([]byte{0xFD}, good[1:]...),
		"flipped bit": flip, "truncated": good[:len(good)-1], "trailing byte": long, "time_signal": notInsert,
	} {
		if _, err := ParseSpliceInsert(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDateRangeTagsFollowTheMedia(t *testing.T) {
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	d := DateRange{ID: "ad-3", Class: "com.livehouse.ad", Start: start, Duration: 30 * time.Second, SpliceID: 3}
	render := func(first, last time.Time) string {
		var b strings.Builder
		writeDateRanges(&b, []DateRange{d}, first, last)
		return b.String()
	}
	if got := render(start.Add(-time.Minute), start.Add(-time.Second)); got != "" {
		t.Errorf("before the break: %q", got)
	}
	during := render(start.Add(-10*time.Second), start.Add(10*time.Second))
	if !strings.Contains(during, `#EXT-X-DATERANGE:ID="ad-3",CLASS="com.livehouse.ad",START-DATE="2026-12-03T12:00:00.000Z",PLANNED-DURATION=30.000,SCTE35-OUT=0xFC`) ||
		strings.Contains(during, "SCTE35-IN") {
		t.Errorf("during the break:\n%s", during)
	}
	after := render(start.Add(20*time.Second), start.Add(40*time.Second))
	if !strings.Contains(after, "SCTE35-OUT") ||
		!strings.Contains(after, `END-DATE="2026-12-03T12:00:30.000Z",DURATION=30.000,SCTE35-IN=0xFC`) {
		t.Errorf("after the break:\n%s", after)
	}
	// Each marker's bytes decode to what the tag says.
	for _, line := range strings.Split(strings.TrimSpace(after), "\n") {
		i := strings.Index(line, "=0x")
		raw, err := hex.DecodeString(line[i+3:])
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSpliceInsert(raw)
		if err != nil || s.EventID != 3 || s.Out != strings.Contains(line, "SCTE35-OUT") {
			t.Errorf("%s: %+v, %v", line, s, err)
		}
	}
	if got := render(start.Add(time.Hour), start.Add(time.Hour+time.Minute)); got != "" {
		t.Errorf("long after the break: %q", got)
	}
}

// FuzzParseSpliceInsert: hostile bytes never panic, and whatever parses
// re-encodes to a section that parses the same.
func FuzzParseSpliceInsert(f *testing.F) {
	f.Add(SpliceInsert(1, true, 30*time.Second))
	f.Add(SpliceInsert(2, false, 0))
	f.Add([]byte{0xFC, 0x30, 0x11})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpliceInsert(b)
		if err != nil {
			return
		}
		again, err := ParseSpliceInsert(SpliceInsert(s.EventID, s.Out, s.Duration))
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", s, err)
		}
		if again.EventID != s.EventID || again.Out != s.Out {
			t.Fatalf("re-encoded %+v, parsed %+v", s, again)
		}
	})
}
