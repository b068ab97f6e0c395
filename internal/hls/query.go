package hls

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// Directives are the LL-HLS delivery directives of a playlist request.
type Directives struct {
	// Block is true when the request names a media sequence number to wait for.
	Block   bool
	MSN     uint64
	HasPart bool
	Part    uint64
	// Skip is true for a delta update request (_HLS_skip=YES or v2).
	Skip bool
}

// ErrBadDirective is wrapped by every error of ParseDirectives.
var ErrBadDirective = errors.New("bad delivery directive")

const maxDirectiveValue = 1 << 53

// ParseDirectives reads _HLS_msn, _HLS_part and _HLS_skip from a query.
// Unknown parameters are ignored, as the spec requires of servers.
func ParseDirectives(q url.Values) (Directives, error) {
	var d Directives
	if v, ok := q["_HLS_msn"]; ok {
		n, err := parseDirectiveUint(v)
		if err != nil {
			return d, fmt.Errorf("%w: _HLS_msn: %w", ErrBadDirective, err)
		}
		d.Block, d.MSN = true, n
	}
	if v, ok := q["_HLS_part"]; ok {
		if !d.Block {
			return d, fmt.Errorf("%w: _HLS_part requires _HLS_msn", ErrBadDirective)
		}
		n, err := parseDirectiveUint(v)
		if err != nil {
			return d, fmt.Errorf("%w: _HLS_part: %w", ErrBadDirective, err)
		}
		d.HasPart, d.Part = true, n
	}
	if v, ok := q["_HLS_skip"]; ok {
		if len(v) != 1 || (v[0] != "YES" && v[0] != "v2") {
			return d, fmt.Errorf("%w: _HLS_skip must be YES or v2", ErrBadDirective)
		}
		d.Skip = true
	}
	return d, nil
}

func parseDirectiveUint(v []string) (uint64, error) {
	if len(v) != 1 {
		return 0, errors.New("given more than once")
	}
	if len(v[0]) == 0 || len(v[0]) > 16 {
		return 0, errors.New("not a decimal integer")
	}
	n, err := strconv.ParseUint(v[0], 10, 64)
	if err != nil || n > maxDirectiveValue {
		return 0, errors.New("not a decimal integer")
	}
	return n, nil
}
