// Package hls owns Low-Latency HLS delivery: one fMP4/CMAF muxer per
// rendition of a broadcast's ladder, the multivariant playlist that ties the
// ladder together, and the origin HTTP handler with its CDN cache policy.
//
// A Ladder holds the renditions of one broadcast. Its first rendition leads:
// it decides where segments start, and the others start their segments at the
// same key frames with the same media sequence numbers and program date-times,
// so that players switch renditions cleanly.
package hls
