// The viewer page: the player (or the offline state), the channel's
// details and follow button, heartbeats while playing, and room for chat.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { categoryName } from '../lib/categories';
import { ago, compact, dateTime, randomId, uptime, viewersLabel } from '../lib/format';
import { useAsync, useInterval, useTitle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { useSession, useToasts } from '../lib/session';
import type { Channel, User } from '../lib/types';
import type { ChatClient } from '../lib/chat';

import { Player } from '../components/Player';
import { Avatar, EmptyState, ErrorState, LiveBadge, Thumb } from '../components/ui';
import * as I from '../components/icons';

/**
 * playheadOf tells the program date-time (unix ms) of what the video shows
 * now, where hls.js does not: exact where the browser plays HLS itself (getStartDate carries the
 * playlist's PROGRAM-DATE-TIME), else estimated from how far the playhead
 * is behind the live edge. Undefined when the video is not playing live.
 */
function playheadOf(v: HTMLVideoElement | null | undefined): number | undefined {
  if (!v || v.readyState < 2) return undefined;
  const withDate = v as HTMLVideoElement & { getStartDate?: () => Date };
  const start = withDate.getStartDate?.().getTime();
  if (start !== undefined && Number.isFinite(start) && start > 0) return start + v.currentTime * 1000;
  const s = v.seekable;
  if (!s.length) return undefined;
  const behind = s.end(s.length - 1) - v.currentTime;
  return behind >= 0 && behind < 60 ? Date.now() - behind * 1000 : undefined;
}
const HEARTBEAT_MS = 15_000;

/**
 * useHeartbeat tells the API that this page is watching, every 15 s while
 * the video plays. It returns the page's viewer id, which ad impressions use too.
 */
function useHeartbeat(slug: string, playing: boolean): string {
  const viewer = useRef(randomId());
  useEffect(() => {
    if (!playing) return;
    const beat = () => void api.heartbeat(slug, viewer.current).catch(() => undefined);
    beat();
    const id = setInterval(beat, HEARTBEAT_MS);
    return () => clearInterval(id);
  }, [slug, playing]);
  return viewer.current;
}

function FollowButton({ ch, onChange }: { ch: Channel; onChange: (following: boolean) => void }) {
  const { user } = useSession();
  const { push } = useToasts();
  const [busy, setBusy] = useState(false);
  if (user === null) {
    return <a class="btn primary" href={`/signin?next=${encodeURIComponent(`/c/${ch.slug}`)}`}><I.Heart size={16} /> Follow</a>;
  }
  const following = !!ch.following;
  const toggle = async () => {
    setBusy(true);
    try {
      await api.follow(ch.slug, !following);
      onChange(!following);
      if (!following) push({ kind: 'success', title: `You follow ${ch.display_name}`, body: 'You will be told when they go live.' });
    } catch (e) {
      push({ kind: 'error', title: 'Follow failed', body: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" class={following ? 'btn following' : 'btn primary'} onClick={toggle} disabled={busy || !user}
      aria-pressed={following} data-testid="follow">
      <I.Heart size={16} filled={following} /> {following ? 'Following' : 'Follow'}
    </button>
  );
}

function Offline({ ch }: { ch: Channel }) {
  const lb = ch.last_broadcast;
  const thumb = ch.thumbnail_url || `/thumbnails/${encodeURIComponent(ch.slug)}.jpg`;
  return (
    <div class="offline" data-testid="offline">
      <Thumb src={thumb} category={ch.category} />
      <div class="offline-card">
        <span class="pill-dark">Offline</span>
        <h2>{ch.display_name} is offline</h2>
        {lb ? (
          <p>
            Last live {ago(lb.ended_at ?? lb.started_at)}
            {lb.ended_at && <> · {uptime(lb.started_at, Date.parse(lb.ended_at))} long</>}
            {' · '}peak {viewersLabel(lb.peak_viewers)}
          </p>
        ) : (
          <p>No broadcasts yet.</p>
        )}
        {lb && <p class="muted small">{dateTime(lb.started_at)}</p>}
      </div>
    </div>
  );
}

type RoomModule = typeof import('../components/Chat');
let roomModule: RoomModule | undefined;
type MoneyModule = typeof import('../components/Money');
let moneyModule: MoneyModule | undefined;

/** useMoney loads the gifts, tips, subscriptions, alerts and ads (their own chunk) once the channel has loaded. */
function useMoney(ready: boolean): MoneyModule | undefined {
  const [mod, setMod] = useState(moneyModule);
  useEffect(() => {
    if (!ready || mod) return;
    void import('../components/Money').then((m) => { moneyModule = m; setMod(m); });
  }, [ready, mod]);
  return mod;
}

/** useRoom loads the chat code (its own chunk, off the player's critical path) once the channel has loaded, and opens the channel's room. */
function useRoom(slug: string, ready: boolean): { mod?: RoomModule; client?: ChatClient } {
  const [mod, setMod] = useState(roomModule);
  const [client, setClient] = useState<ChatClient | undefined>();
  useEffect(() => {
    if (!ready || mod) return;
    void import('../components/Chat').then((m) => { roomModule = m; setMod(m); });
  }, [ready, mod]);
  useEffect(() => {
    if (!mod || !ready) return;
    const c = new mod.ChatClient(slug);
    setClient(c);
    return () => { c.close(); setClient(undefined); };
  }, [mod, slug, ready]);
  return { mod, client };
}

/** useAfterVideo turns true once ready and either started, or 2.5 s after ready. */
function useAfterVideo(ready: boolean, started: boolean): boolean {
  const [late, setLate] = useState(false);
  useEffect(() => {
    if (!ready || late) return;
    const t = setTimeout(() => setLate(true), 2500);
    return () => clearTimeout(t);
  }, [ready, late]);
  const [on, setOn] = useState(false);
  useEffect(() => { if (ready && (started || late)) setOn(true); }, [ready, started, late]);
  return on;
}

function ChatPlaceholder() {
  return (
    <aside class="chat" aria-label="Chat" aria-busy="true">
      <header class="chat-head"><I.Chat size={18} /> Chat</header>
      <div class="chat-body"><div class="chat-state"><p class="muted">Loading chat…</p></div></div>
    </aside>
  );
}

export function ChannelPage({ slug }: { slug: string }) {
  const { user } = useSession();
  const [theater, setTheater] = useState(() => localStorage.getItem('lh-theater') === '1');
  const [playing, setPlaying] = useState(false);
  const [now, setNow] = useState(Date.now());
  const res = useAsync(() => api.channel(slug), [slug]);
  const [ch, setCh] = useState<Channel | undefined>();
  useEffect(() => { if (res.data) setCh(res.data); }, [res.data]);
  useTitle(ch ? `${ch.display_name}${ch.live ? ' (live)' : ''}` : slug);
  const viewerId = useHeartbeat(slug, playing && !!ch?.live);
  const [tray, setTray] = useState(false);
  // The channel's live state, title and viewer count refresh every 10 s.
  useInterval(() => { res.reload(); setNow(Date.now()); }, 10_000);
  // Chat and the money views load once the video shows its first frame (or
  // the channel is offline, or 2.5 s have passed): their code, rendering and
  // API calls would otherwise share the main thread with the player's startup.
  const [framed, setFramed] = useState(false);
  const extras = useAfterVideo(!!ch, framed || ch?.live === false);
  const room = useRoom(slug, extras);
  const money = useMoney(extras);
  const shell = useRef<HTMLDivElement>(null);
  const playhead = useRef<(() => number | undefined) | null>(null);
  // Messages, votes, questions and reactions carry the viewer's playhead.
  useEffect(() => {
    const c = room.client;
    if (!c) return;
    c.setPlayhead(() => playhead.current?.() ?? playheadOf(shell.current?.querySelector('video')));
    return () => c.setPlayhead(undefined);
  }, [room.client]);

  const toggleTheater = () => {
    localStorage.setItem('lh-theater', theater ? '0' : '1');
    setTheater(!theater);
  };

  if (res.error && !ch) {
    if (res.error instanceof ApiError && res.error.status === 404) {
      return <div class="page"><EmptyState title="This channel does not exist"><a class="btn primary" href="/">See who is live</a></EmptyState></div>;
    }
    return <div class="page"><ErrorState error={res.error} retry={res.reload} title="The channel could not be loaded" /></div>;
  }
  // Until the API answers, the player already loads the channel's usual
  // playback URL, so the video starts one round trip sooner; an offline
  // answer replaces it with the offline card.
  const src = ch?.playback_url ?? `/hls/${encodeURIComponent(slug)}/index.m3u8`;
  return (
    <div class={theater ? 'watch theater' : 'watch'} data-live={ch ? String(ch.live) : undefined}>
      <div class="watch-main">
        <div class="player-shell" ref={shell}>
          {!ch || ch.live ? (
            <Player src={src} theater={theater} onTheater={toggleTheater} playhead={playhead}
              label={`${ch?.display_name ?? slug} live video`}
              onPlayingChange={setPlaying}
              onFirstFrame={() => setFramed(true)}
              onTrouble={() => res.reload()} />
          ) : (
            <Offline ch={ch} />
          )}
          {room.mod && room.client && <room.mod.ReactionLayer client={room.client} />}
          {room.mod && room.client && ch?.live && <room.mod.PlayerPoll client={room.client} />}
          {money && room.client && ch?.live && (
            <>
              <money.AlertLayer client={room.client} />
              <money.AdOverlay slug={slug} client={room.client} viewerId={viewerId} />
            </>
          )}
        </div>
        {ch ? (
          <ChannelDetails ch={ch} now={now} user={user} onFollow={(f) => setCh({ ...ch, following: f, followers: ch.followers + (f ? 1 : -1) })}
            actions={money && <money.MoneyActions ch={ch} tray={tray} setTray={setTray} />}
            below={money && tray && <money.GiftTray slug={slug} onClose={() => setTray(false)} />}
            after={money && room.client && <money.LeaderboardPanel slug={slug} client={room.client} />} />
        ) : (
          <section class="channel-info" aria-busy="true"><div class="channel-row"><span class="avatar avatar-56 shimmer" /><div class="channel-text"><div class="line shimmer" /><div class="line short shimmer" /></div></div></section>
        )}
      </div>
      {ch && (room.mod && room.client ? <room.mod.ChatPanel client={room.client} slug={slug} /> : <ChatPlaceholder />)}
    </div>
  );
}

function ChannelDetails({ ch, now, user, onFollow, actions, below, after }: {
  ch: Channel; now: number; user: User | null | undefined; onFollow: (f: boolean) => void;
  /** Slots for the money views: beside Follow, under the channel row, after About. */
  actions?: ComponentChildren; below?: ComponentChildren; after?: ComponentChildren;
}) {
  const cat = ch.category;
  return (
    <>
        <section class="channel-info" aria-label="About this stream">
          <div class="channel-row">
            <Avatar name={ch.display_name} url={ch.avatar_url} size={56} />
            <div class="channel-text">
              <h1 class="stream-title">{ch.title || (ch.live ? `${ch.display_name} is live` : ch.display_name)}</h1>
              <p class="channel-name">
                <a href={`/c/${encodeURIComponent(ch.slug)}`}>{ch.display_name}</a>
                {cat && <> · <a class="cat-link" href={`/category/${encodeURIComponent(cat)}`}>{categoryName(cat)}</a></>}
              </p>
              {ch.tags.length > 0 && (
                <ul class="tags" aria-label="Tags">
                  {ch.tags.map((t) => <li key={t}><a class="tag" href={`/tag/${encodeURIComponent(t)}`}>{t}</a></li>)}
                </ul>
              )}
            </div>
            <div class="channel-actions">
              {ch.live && (
                <div class="live-stats" data-testid="viewers">
                  <LiveBadge />
                  <span class="viewers"><I.User size={16} /> {compact(ch.viewers)}<span class="sr-only"> viewers</span></span>
                  {ch.started_at && <span class="muted" title="Live for">{uptime(ch.started_at, now)}</span>}
                </div>
              )}
              <FollowButton ch={ch} onChange={onFollow} />
              {actions}
            </div>
          </div>
        </section>
        {below}
        <section class="about" aria-labelledby="about-h">
          <h2 id="about-h">About {ch.display_name}</h2>
          <p class="followers"><strong>{compact(ch.followers)}</strong> {ch.followers === 1 ? 'follower' : 'followers'}{ch.language && <> · {ch.language.toUpperCase()}</>}{ch.mature && <> · <span class="pill-warn">Mature</span></>}</p>
          {ch.bio ? <p class="bio">{ch.bio}</p> : <p class="muted">{ch.display_name} has not written a bio yet.</p>}
          {ch.owner && user?.id === ch.owner.id && (
            <button type="button" class="btn ghost" onClick={() => navigate(`/dashboard/${encodeURIComponent(ch.slug)}`)}>Edit in dashboard</button>
          )}
        </section>
        {after}
    </>
  );
}
