// The live player: hls.js in low-latency mode where Media Source Extensions
// exist, Safari's native HLS elsewhere. Automatic quality with a manual
// rendition menu, a go-to-live button, volume, fullscreen and theater mode.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { hasMSE, loadHls, type Hls } from '../lib/hls';
import * as I from './icons';

export interface Rendition {
  index: number;
  name: string;
  height: number;
  width: number;
  bitrate: number;
}

export interface PlayerProps {
  src: string;
  poster?: string;
  /** compact hides theater mode and the latency readout (dashboard preview). */
  compact?: boolean;
  startMuted?: boolean;
  theater?: boolean;
  onTheater?: () => void;
  onPlayingChange?: (playing: boolean) => void;
  /** onFirstFrame fires once, when the first video frame is on screen. */
  onFirstFrame?: () => void;
  /** onTrouble fires when the stream ends or cannot be played; the page rechecks the channel. */
  onTrouble?: (reason: string) => void;
  label?: string;
  /**
   * playhead is filled with a function telling the program date-time (unix
   * ms) of the frame on screen, from hls.js's PROGRAM-DATE-TIME mapping;
   * it answers undefined where the browser plays HLS natively.
   */
  playhead?: { current: (() => number | undefined) | null };
}

type State = 'loading' | 'playing' | 'paused' | 'buffering' | 'error';

const VOLUME_KEY = 'lh-volume';
const MUTED_KEY = 'lh-muted';

/** renditionName reads the rendition's name from its playlist URL: /hls/<slug>/<broadcast>/<name>/index.m3u8. */
export function renditionName(url: string): string {
  const parts = url.split('?')[0].split('/');
  return parts.length >= 2 ? parts[parts.length - 2] : url;
}

export function renditionLabel(r: Rendition): string {
  if (r.name === 'source') return r.height ? `Source · ${r.height}p` : 'Source';
  return r.height ? `${r.height}p` : r.name;
}

function storedVolume(): number {
  const v = Number(localStorage.getItem(VOLUME_KEY));
  return Number.isFinite(v) && v > 0 && v <= 1 ? v : 1;
}

export function Player(p: PlayerProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  useEffect(() => {
    const ref = p.playhead;
    if (!ref) return;
    ref.current = () => {
      const d = hlsRef.current?.playingDate;
      return d && Number.isFinite(d.getTime()) ? d.getTime() : undefined;
    };
    return () => { ref.current = null; };
  }, [p.playhead]);
  const menuRef = useRef<HTMLUListElement>(null);
  const [state, setState] = useState<State>('loading');
  const [mode, setMode] = useState<'hls' | 'native' | ''>('');
  const [error, setError] = useState('');
  const [renditions, setRenditions] = useState<Rendition[]>([]);
  const [manual, setManual] = useState(-1); // -1: automatic
  const [current, setCurrent] = useState(-1); // the level playing now
  const [muted, setMuted] = useState(p.startMuted ?? localStorage.getItem(MUTED_KEY) === '1');
  const [autoMuted, setAutoMuted] = useState(false);
  const [volume, setVolume] = useState(storedVolume);
  const [behind, setBehind] = useState(0);
  const [latency, setLatency] = useState(0);
  const [menu, setMenu] = useState(false);
  const [fullscreen, setFullscreen] = useState(false);
  const onTrouble = useRef(p.onTrouble);
  onTrouble.current = p.onTrouble;
  const onPlaying = useRef(p.onPlayingChange);
  onPlaying.current = p.onPlayingChange;
  const onFirstFrame = useRef(p.onFirstFrame);
  onFirstFrame.current = p.onFirstFrame;

  const play = useCallback(async () => {
    const v = video.current;
    if (!v) return;
    try {
      await v.play();
    } catch (e) {
      // Autoplay with sound was refused: play muted and offer to unmute.
      if ((e as DOMException).name === 'NotAllowedError' && !v.muted) {
        v.muted = true;
        setMuted(true);
        setAutoMuted(true);
        await v.play().catch(() => setState('paused'));
      }
    }
  }, []);

  // Attach the source. A layout effect runs as soon as the video element
  // exists, not after the next paint: startup time is the headline figure.
  useLayoutEffect(() => {
    const v = video.current;
    if (!v) return;
    let cancelled = false;
    let hls: Hls | null = null;
    let networkRetries = 0;
    let releaseStart: (() => void) | null = null;
    setState('loading');
    setError('');
    setRenditions([]);
    setCurrent(-1);
    const native = v.canPlayType('application/vnd.apple.mpegurl') !== '';
    const useNative = () => {
      setMode('native');
      v.src = p.src;
      void play();
    };
    if (!hasMSE() && native) {
      useNative();
    } else {
      loadHls().then((Hls) => {
        if (cancelled) return;
        performance.mark('lh-player-ready');
        if (!Hls.isSupported()) {
          if (native) useNative();
          else { setState('error'); setError('This browser cannot play live video.'); }
          return;
        }
        hls = new Hls({
          lowLatencyMode: true,
          enableWorker: false, // fMP4 needs no transmuxing; the CSP allows no blob: workers
          backBufferLength: 30,
          maxLiveSyncPlaybackRate: 1.5,
          liveDurationInfinity: true,
          startFragPrefetch: true,
          // Ad breaks arrive as room events; DATERANGE cues would make hls.js
          // add a <track src="data:,WEBVTT">, which the CSP's media-src refuses.
          enableDateRangeMetadataCues: false,
          // Debugging aid: extra hls.js settings from localStorage.
          ...(localStorage.getItem('lh-debug') ? (JSON.parse(localStorage.getItem('lh-hls-config') ?? '{}') as object) : {}),
          manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 8000, maxLoadTimeMs: 10000, timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 }, errorRetry: { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 } } },
        });
        hlsRef.current = hls;
        setMode('hls');
        if (localStorage.getItem('lh-debug')) {
          // Timing of every hls.js event, for diagnosing startup.
          for (const ev of Object.values(Hls.Events)) hls.on(ev as typeof Hls.Events.MEDIA_ATTACHED, (_e: unknown, d: unknown) => console.debug(`[hls] ${performance.now().toFixed(0)} ${ev}`, JSON.stringify(d, (k, v) => (k === 'frag' || k === 'details' || k === 'levels' || k === 'networkDetails' || k === 'stats' || k === 'data' || k === 'part' || k === 'loader' ? undefined : v))?.slice(0, 160)));
          ['loadstart', 'loadedmetadata', 'loadeddata', 'canplay', 'playing', 'waiting', 'seeking', 'seeked'].forEach((e) => v.addEventListener(e, () => console.debug(`[video] ${performance.now().toFixed(0)} ${e} t=${v.currentTime.toFixed(2)}`)));
        }
        hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => {
          performance.mark('lh-manifest');
          const list = d.levels.map((l, index) => ({
            index,
            name: renditionName((l as unknown as { uri?: string }).uri ?? l.url[0] ?? ''),
            height: l.height,
            width: l.width,
            bitrate: l.bitrate,
          }));
          setRenditions(list);
          void play();
        });
        // Hold automatic quality on the start level until the first frame
        // shows: an up-switch during startup refetches the current segment
        // in the new rendition from its start and delays the first frame
        // by half a second. ABR is released as soon as playback runs.
        let startHeld = false;
        hls.once(Hls.Events.LEVEL_SWITCHING, (_e, d) => {
          if (hls && hls.autoLevelEnabled && v.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) {
            hls.autoLevelCapping = d.level;
            startHeld = true;
          }
        });
        releaseStart = () => {
          if (startHeld && hls) hls.autoLevelCapping = -1;
          startHeld = false;
        };
        v.addEventListener('playing', releaseStart, { once: true });
        hls.on(Hls.Events.LEVEL_SWITCHED, (_e, d) => setCurrent(d.level));
        hls.once(Hls.Events.FRAG_BUFFERED, () => performance.mark('lh-first-media'));
        hls.on(Hls.Events.ERROR, (_e, d) => {
          if (!d.fatal || !hls) return;
          if (d.type === Hls.ErrorTypes.MEDIA_ERROR) {
            hls.recoverMediaError();
          } else if (d.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries < 2 && d.details !== Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
            networkRetries++;
            setTimeout(() => hls?.startLoad(), 1000);
          } else {
            setState('error');
            setError('The stream cannot be loaded right now.');
            onTrouble.current?.(d.details);
          }
        });
        hls.loadSource(p.src);
        hls.attachMedia(v);
      }, () => {
        setState('error');
        setError('The player failed to load. Reload the page to try again.');
      });
    }
    return () => {
      cancelled = true;
      if (releaseStart) v.removeEventListener('playing', releaseStart);
      hls?.destroy();
      hlsRef.current = null;
      v.removeAttribute('src');
      v.load();
    };
  }, [p.src, play]);

  // Media element events.
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    const on = (ev: string, fn: () => void) => { v.addEventListener(ev, fn); return () => v.removeEventListener(ev, fn); };
    let first = true;
    const offs = [
      on('playing', () => {
        if (!performance.getEntriesByName('lh-playing').length) performance.mark('lh-playing');
        setState('playing');
        onPlaying.current?.(true);
        if (first && 'requestVideoFrameCallback' in v) {
          first = false;
          v.requestVideoFrameCallback(() => { performance.mark('lh-first-frame'); onFirstFrame.current?.(); });
        } else if (first) {
          first = false;
          onFirstFrame.current?.();
        }
      }),
      on('pause', () => { setState('paused'); onPlaying.current?.(false); }),
      on('waiting', () => setState((s) => (s === 'loading' ? s : 'buffering'))),
      on('ended', () => { setState('paused'); onPlaying.current?.(false); onTrouble.current?.('ended'); }),
      on('volumechange', () => { setMuted(v.muted); setVolume(v.volume); }),
      on('timeupdate', () => {
        const h = hlsRef.current;
        const edge = h?.liveSyncPosition ?? (v.seekable.length ? v.seekable.end(v.seekable.length - 1) : v.currentTime);
        setBehind(Math.max(0, edge - v.currentTime));
        if (h) setLatency(h.latency);
      }),
      on('error', () => {
        if (mode === 'native') { setState('error'); setError('The stream cannot be played.'); onTrouble.current?.('media'); }
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [mode]);

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    v.muted = muted;
    v.volume = volume;
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const fs = () => setFullscreen(document.fullscreenElement === wrap.current);
    document.addEventListener('fullscreenchange', fs);
    return () => document.removeEventListener('fullscreenchange', fs);
  }, []);

  // Close the quality menu on an outside click.
  useEffect(() => {
    if (!menu) return;
    const close = (e: MouseEvent) => {
      if (!(e.target as Element).closest('.quality')) setMenu(false);
    };
    document.addEventListener('click', close);
    menuRef.current?.querySelector<HTMLElement>('[aria-checked="true"]')?.focus();
    return () => document.removeEventListener('click', close);
  }, [menu]);

  const togglePlay = () => {
    const v = video.current;
    if (!v) return;
    if (v.paused) {
      // Resuming a live stream resumes at the live edge.
      const h = hlsRef.current;
      if (h?.liveSyncPosition && h.liveSyncPosition - v.currentTime > 3) v.currentTime = h.liveSyncPosition;
      void play();
    } else v.pause();
  };
  const toggleMute = () => {
    const v = video.current;
    if (!v) return;
    v.muted = !v.muted;
    if (!v.muted && v.volume === 0) v.volume = 0.5;
    setAutoMuted(false);
    localStorage.setItem(MUTED_KEY, v.muted ? '1' : '0');
  };
  const changeVolume = (x: number) => {
    const v = video.current;
    if (!v) return;
    v.volume = x;
    v.muted = x === 0;
    setAutoMuted(false);
    localStorage.setItem(VOLUME_KEY, String(x));
    localStorage.setItem(MUTED_KEY, v.muted ? '1' : '0');
  };
  const goLive = () => {
    const v = video.current;
    if (!v) return;
    const h = hlsRef.current;
    const edge = h?.liveSyncPosition ?? (v.seekable.length ? v.seekable.end(v.seekable.length - 1) - 1 : null);
    if (edge) v.currentTime = edge;
    if (v.paused) void play();
  };
  const toggleFullscreen = () => {
    const el = wrap.current;
    const v = video.current as (HTMLVideoElement & { webkitEnterFullscreen?: () => void }) | null;
    if (!el) return;
    if (document.fullscreenElement) void document.exitFullscreen();
    else if (el.requestFullscreen) void el.requestFullscreen().catch(() => undefined);
    else v?.webkitEnterFullscreen?.();
  };
  const choose = (level: number) => {
    const h = hlsRef.current;
    setManual(level);
    setMenu(false);
    if (h) h.currentLevel = level; // switches now, flushing what is buffered
  };

  const onKey = (e: KeyboardEvent) => {
    const t = e.target as HTMLElement;
    if (t.tagName === 'INPUT' || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    if (k === 'k' || (k === ' ' && t === wrap.current)) { e.preventDefault(); togglePlay(); }
    else if (k === 'm') toggleMute();
    else if (k === 'f') toggleFullscreen();
    else if (k === 't' && p.onTheater) p.onTheater();
    else if (k === 'l') goLive();
    else if (k === 'escape' && menu) setMenu(false);
  };
  const onMenuKey = (e: KeyboardEvent) => {
    const items = Array.from(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitemradio"]') ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length]?.focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); items[(i - 1 + items.length) % items.length]?.focus(); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); setMenu(false); wrap.current?.querySelector<HTMLElement>('.quality > button')?.focus(); }
  };

  const sorted = [...renditions].sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
  const playingNow = renditions[current];
  const atEdge = behind < 3;
  const paused = state === 'paused';
  const qualityLabel = manual >= 0 && renditions[manual] ? renditionLabel(renditions[manual]) : `Auto${playingNow ? ` (${playingNow.height}p)` : ''}`;

  return (
    <div ref={wrap} class={`player state-${state}${p.compact ? ' compact' : ''}`} tabIndex={0} onKeyDown={onKey}
      role="region" aria-label={p.label ?? 'Video player'}
      data-state={state} data-mode={mode} data-level={playingNow?.name ?? ''} data-manual={manual >= 0 ? renditions[manual]?.name : 'auto'}>
      <video ref={video} poster={p.poster} playsInline autoplay muted={muted} onClick={togglePlay} aria-label="Live video" />
      {(state === 'loading' || state === 'buffering') && <div class="player-center"><span class="spinner big" role="status" aria-label="Loading video" /></div>}
      {state === 'error' && <div class="player-center player-msg" role="alert">{error}</div>}
      {paused && <button type="button" class="player-center big-play" onClick={togglePlay} aria-label="Play"><I.Play size={40} /></button>}
      {autoMuted && muted && state === 'playing' && (
        <button type="button" class="unmute-pill" onClick={toggleMute}><I.Muted size={16} /> Click to unmute</button>
      )}
      <div class="controls">
        <button type="button" class="ctl" onClick={togglePlay} aria-label={paused ? 'Play' : 'Pause'} title={paused ? 'Play (k)' : 'Pause (k)'}>
          {paused ? <I.Play /> : <I.Pause />}
        </button>
        <button type="button" class="ctl" onClick={toggleMute} aria-label={muted ? 'Unmute' : 'Mute'} title={muted ? 'Unmute (m)' : 'Mute (m)'}>
          {muted || volume === 0 ? <I.Muted /> : <I.Volume />}
        </button>
        <input class="volume" type="range" min="0" max="1" step="0.05" value={muted ? 0 : volume} aria-label="Volume"
          onInput={(e) => changeVolume(Number((e.currentTarget as HTMLInputElement).value))} />
        <button type="button" class={atEdge ? 'ctl live-edge at-edge' : 'ctl live-edge'} onClick={goLive}
          aria-label={atEdge ? 'At the live edge' : 'Go to live'} title="Go to live (l)" disabled={atEdge && !paused}>
          <span class="dot" aria-hidden="true" /> {atEdge ? 'LIVE' : 'Go to live'}
        </button>
        <span class="spacer" />
        {!p.compact && mode === 'hls' && latency > 0 && <span class="latency" title="Delay behind the broadcaster">{latency.toFixed(1)} s</span>}
        {mode === 'hls' && renditions.length > 0 && (
          <div class="quality">
            <button type="button" class="ctl" aria-haspopup="menu" aria-expanded={menu} aria-label={`Quality: ${qualityLabel}`}
              title="Quality" onClick={(e) => { e.stopPropagation(); setMenu(!menu); }}>
              <I.Gear /> <span class="ctl-text">{qualityLabel}</span>
            </button>
            {menu && (
              <ul class="menu" role="menu" aria-label="Quality" ref={menuRef} onKeyDown={onMenuKey}>
                <li role="menuitemradio" tabIndex={-1} aria-checked={manual < 0} onClick={() => choose(-1)}
                  onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), choose(-1))}>
                  Auto{manual < 0 && playingNow ? <span class="muted"> · {renditionLabel(playingNow)}</span> : null}
                </li>
                {sorted.map((r) => (
                  <li key={r.index} role="menuitemradio" tabIndex={-1} aria-checked={manual === r.index} data-rendition={r.name}
                    onClick={() => choose(r.index)}
                    onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), choose(r.index))}>
                    {renditionLabel(r)} <span class="muted">{Math.round(r.bitrate / 1000)} kb/s</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        {!p.compact && p.onTheater && (
          <button type="button" class={p.theater ? 'ctl on' : 'ctl'} onClick={p.onTheater} aria-pressed={!!p.theater}
            aria-label="Theater mode" title="Theater mode (t)"><I.Theater /></button>
        )}
        <button type="button" class="ctl" onClick={toggleFullscreen} aria-label={fullscreen ? 'Exit fullscreen' : 'Fullscreen'} title="Fullscreen (f)">
          {fullscreen ? <I.Shrink /> : <I.Expand />}
        </button>
      </div>
    </div>
  );
}
