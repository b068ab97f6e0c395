package realtime

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzCleanText: whatever arrives, the text that passes is valid UTF-8,
// trimmed, within the limit and free of control characters.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"hello", "  hi  ", "a\u0007b", "\xff\xfe", "x\u202Ey", "<script>", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := cleanText("message", s, 500)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) || out == "" || utf8.RuneCountInString(out) > 500 {
			t.Fatalf("cleanText(%q) = %q", s, out)
		}
		if _, err := cleanText("message", out, 500); err != nil {
			t.Fatalf("clean output %q refused on a second pass: %v", out, err)
		}
	})
}

// FuzzCommandFrame: any frame either fails to decode or decodes into a
// command whose emote check and wire encoding keep the JSON valid.
func FuzzCommandFrame(f *testing.F) {
	for _, s := range []string{`{"type":"send","text":"hi"}`, `{"type":"poll.vote","option":-1}`, `[]`, `{"type":`, `{"settings":{"vips":["a"]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var cmd Command
		if json.Unmarshal(frame, &cmd) != nil {
			return
		}
		isEmoteOnly(cmd.Text, map[string]bool{"wave": true})
		payload, err := json.Marshal(Event{Kind: KindChat, Text: cmd.Text, Mentions: []string{cmd.Type}})
		if err != nil {
			t.Fatal(err)
		}
		w := wire(42, payload)
		var back Event
		if err := json.Unmarshal(w, &back); err != nil || back.Text != cmd.Text {
			t.Fatalf("wire(%s) = %s: %v", payload, w, err)
		}
		if m := merge([][]byte{batch([]sequenced{{full: w}}, false), []byte("[]"), batch([]sequenced{{full: w}, {full: w}}, false)}); !json.Valid(m) {
			t.Fatalf("merged frames are not JSON: %s", m)
		}
	})
}
