package rtmp

import (
	"net/url"
	"strings"
	"testing"
)

func FuzzStreamKeyFromURL(f *testing.F) {
	for _, s := range []string{"rtmp://h/live/key", "rtmp://h/live/", "rtmp://h/other/key", "rtmp://h/live/a/b",
		"rtmp://h:1935/live/k?x=1", "rtmp://h/live/%2Fk", "rtmp:///live/k", "live/k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			u = nil
		}
		key, err := streamKeyFromURL(u)
		if err != nil {
			// Errors never echo what could be a key, whatever the URL held.
			if u != nil {
				_, rest, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
				if len(rest) >= 12 && strings.Contains(err.Error(), rest) {
					t.Fatalf("error %q echoes %q", err, rest)
				}
			}
			return
		}
		if key == "" || strings.Contains(key, "/") || u.Path != "/live/"+key && u.Path != "live/"+key {
			t.Fatalf("streamKeyFromURL(%q) = %q from path %q", raw, key, u.Path)
		}
	})
}
