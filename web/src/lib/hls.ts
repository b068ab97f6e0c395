// hls.js (the light build: no subtitles, alternate audio or DRM, none of
// which Livehouse streams carry) is loaded on demand, so pages without video
// do not pay for it. Calling loadHls early overlaps the download with the API.
import type HlsType from 'hls.js';

export type Hls = HlsType;
export type HlsClass = typeof HlsType;

let pending: Promise<HlsClass> | undefined;

export function loadHls(): Promise<HlsClass> {
  pending ??= import('hls.js/light').then((m) => m.default as unknown as HlsClass);
  return pending;
}

/** hasMSE reports whether hls.js can play here; otherwise Safari's native HLS is tried. */
export function hasMSE(): boolean {
  return typeof window !== 'undefined' && ('MediaSource' in window || 'ManagedMediaSource' in window);
}
