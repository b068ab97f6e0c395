package hls

import (
	"strconv"
	"strings"
)

// fileKind is what a file name under a rendition names.
type fileKind int

const (
	filePlaylist fileKind = iota + 1
	filePart
	fileSegment
	fileInit
)

// mediaFile is a parsed file name under a rendition: index.m3u8,
// part<msn>.<part>.m4s, seg<msn>.m4s or init<id>.mp4.
type mediaFile struct {
	kind fileKind
	msn  uint64
	part int
	init int
}

// originPath is a parsed request path under /hls/: a multivariant playlist
// (file empty) or a file of a rendition.
type originPath struct {
	slug, broadcast, rendition string
	file                       mediaFile
}

// parseOriginPath parses the path of a request to the origin. Only the
// canonical spelling of each name is accepted, so that every object has
// exactly one URL (and one CDN cache entry).
func parseOriginPath(p string) (originPath, bool) {
	rest, ok := strings.CutPrefix(p, "/hls/")
	if !ok {
		return originPath{}, false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] == "index.m3u8":
		return originPath{slug: parts[0]}, true
	case len(parts) == 4 && parts[0] != "" && parts[1] != "" && parts[2] != "":
		f, ok := parseMediaFile(parts[3])
		return originPath{slug: parts[0], broadcast: parts[1], rendition: parts[2], file: f}, ok
	}
	return originPath{}, false
}

func parseMediaFile(name string) (mediaFile, bool) {
	if name == "index.m3u8" {
		return mediaFile{kind: filePlaylist}, true
	}
	if body, ok := cutAffixes(name, "part", ".m4s"); ok {
		msnText, partText, ok := strings.Cut(body, ".")
		msn, ok1 := canonicalUint(msnText)
		p, ok2 := canonicalUint(partText)
		if !ok || !ok1 || !ok2 || p > 1<<20 {
			return mediaFile{}, false
		}
		return mediaFile{kind: filePart, msn: msn, part: int(p)}, true
	}
	if body, ok := cutAffixes(name, "seg", ".m4s"); ok {
		msn, ok := canonicalUint(body)
		return mediaFile{kind: fileSegment, msn: msn}, ok
	}
	if body, ok := cutAffixes(name, "init", ".mp4"); ok {
		id, ok := canonicalUint(body)
		if !ok || id > 1<<30 {
			return mediaFile{}, false
		}
		return mediaFile{kind: fileInit, init: int(id)}, true
	}
	return mediaFile{}, false
}

func cutAffixes(s, prefix, suffix string) (string, bool) {
	if len(s) < len(prefix)+len(suffix) || !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, suffix) {
		return "", false
	}
	return s[len(prefix) : len(s)-len(suffix)], true
}

// canonicalUint parses decimal digits without sign or leading zeros.
func canonicalUint(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// String renders f as the name it was parsed from.
func (f mediaFile) String() string {
	switch f.kind {
	case filePlaylist:
		return "index.m3u8"
	case filePart:
		return "part" + strconv.FormatUint(f.msn, 10) + "." + strconv.Itoa(f.part) + ".m4s"
	case fileSegment:
		return "seg" + strconv.FormatUint(f.msn, 10) + ".m4s"
	case fileInit:
		return "init" + strconv.Itoa(f.init) + ".mp4"
	}
	return ""
}
