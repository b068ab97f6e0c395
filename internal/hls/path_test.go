package hls

import (
	"strings"
	"testing"
)

func TestOriginPathsAreParsedOnlyInTheirCanonicalSpelling(t *testing.T) {
	for path, want := range map[string]bool{
		"/hls/chan/index.m3u8":               true,
		"/hls/chan/b1/source/index.m3u8":     true,
		"/hls/chan/b1/source/part12.3.m4s":   true,
		"/hls/chan/b1/source/seg0.m4s":       true,
		"/hls/chan/b1/source/init1.mp4":      true,
		"/hls/chan/b1/source/part012.3.m4s":  false,
		"/hls/chan/b1/source/part12.+3.m4s":  false,
		"/hls/chan/b1/source/part12.m4s":     false,
		"/hls/chan/b1/source/seg-1.m4s":      false,
		"/hls/chan/b1/source/init.mp4":       false,
		"/hls/chan/b1/source/init01.mp4":     false,
		"/hls//index.m3u8":                   false,
		"/hls/chan/b1//index.m3u8":           false,
		"/hls/chan/b1/source/x/index.m3u8":   false,
		"/hls/chan/b1/source/other.m3u8":     false,
		"/hls/chan/b1/source/seg1.m4s.extra": false,
	} {
		if _, ok := parseOriginPath(path); ok != want {
			t.Errorf("parseOriginPath(%q) ok = %v, want %v", path, ok, want)
		}
	}
}

func FuzzOriginPath(f *testing.F) {
	for _, s := range []string{"/hls/chan/index.m3u8", "/hls/c/b/r/index.m3u8", "/hls/c/b/r/part1.2.m4s",
		"/hls/c/b/r/seg18446744073709551615.m4s", "/hls/c/b/r/init3.mp4", "/hls/c/b/r/part.m4s", "/hls/c/b/r/initmp4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, ok := parseOriginPath(path)
		if !ok {
			return
		}
		// What is accepted renders back to the very same path: one URL per object.
		got := "/hls/" + p.slug + "/index.m3u8"
		if p.rendition != "" {
			got = "/hls/" + strings.Join([]string{p.slug, p.broadcast, p.rendition, p.file.String()}, "/")
		}
		if got != path {
			t.Fatalf("parseOriginPath(%q) = %+v, which renders as %q", path, p, got)
		}
		if p.file.part < 0 || p.file.init < 0 {
			t.Fatalf("negative index in %+v", p)
		}
	})
}
