// The creator dashboard: create a channel, how to go live (server URL, key
// revealed once, OBS settings), live preview and stream health, stream info
// editable while live, chat moderation, profile and broadcast history, and
// the money panels (pages/DashboardMoney.tsx): earnings and payouts, live
// alerts, subscription tiers and ad breaks.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { CATEGORIES, categoryName } from '../lib/categories';
import { dateTime, duration, parseTags, slugify, uptime, viewersLabel } from '../lib/format';
import { useAsync, useInterval, useRoom, useTitle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { useSession, useToasts } from '../lib/session';
import type { Channel, Emote, LiveStatus, StreamKey } from '../lib/types';
import { Player } from '../components/Player';
import { Avatar, CopyField, EmptyState, ErrorState, Field, LiveBadge, Spinner, errorText } from '../components/ui';
import * as I from '../components/icons';
import { ChatClient, EMOTE_NAME, currentPoll, type ChatError } from '../lib/chat';
import { ChatModeration } from '../components/ChatModeration';
import { AdBreaks, Earnings, LiveAlerts, TierPrices } from './DashboardMoney';

const RTMP_KEY = 'lh-rtmp-url';

const LANGUAGES: Array<[string, string]> = [
  ['', 'Not set'], ['en', 'English'], ['es', 'Español'], ['fr', 'Français'], ['de', 'Deutsch'], ['pt', 'Português'],
  ['it', 'Italiano'], ['nl', 'Nederlands'], ['sv', 'Svenska'], ['pl', 'Polski'], ['tr', 'Türkçe'], ['ru', 'Русский'],
  ['ar', 'العربية'], ['hi', 'हिन्दी'], ['ja', '日本語'], ['ko', '한국어'], ['zh', '中文'],
];

function rtmpURL(ch: Channel, revealed?: StreamKey): string {
  const fromApi = (ch as Channel & { rtmp_url?: string }).rtmp_url;
  return revealed?.rtmp_url || fromApi || localStorage.getItem(RTMP_KEY) || `rtmp://${location.hostname}:1935/live`;
}

export function Dashboard({ slug }: { slug: string }) {
  useTitle('Creator dashboard');
  const { user } = useSession();
  const [revealed, setRevealed] = useState<Record<string, StreamKey>>({});
  const mine = useAsync(() => (user ? api.myChannels().then((p) => p.items) : Promise.resolve([])), [user?.id]);
  useEffect(() => {
    if (user === null) navigate('/signin?next=/dashboard', true);
  }, [user]);
  if (!user || (!mine.data && !mine.error)) return <div class="page-loading"><Spinner /></div>;
  if (mine.error) return <div class="page"><ErrorState error={mine.error} retry={mine.reload} /></div>;
  const channels = mine.data ?? [];
  const creating = slug === 'new' || channels.length === 0;
  if (creating) {
    return (
      <CreateChannel first={channels.length === 0} onCreated={(c) => {
        localStorage.setItem(RTMP_KEY, c.rtmp_url);
        setRevealed((r) => ({ ...r, [c.channel.slug]: { stream_key: c.stream_key, rtmp_url: c.rtmp_url } }));
        mine.reload();
        navigate(`/dashboard/${encodeURIComponent(c.channel.slug)}`, true);
      }} />
    );
  }
  const current = channels.find((c) => c.slug === slug) ?? channels[0];
  return (
    <ChannelDashboard key={current.slug} initial={current} channels={channels} revealed={revealed[current.slug]}
      onReveal={(k) => { localStorage.setItem(RTMP_KEY, k.rtmp_url); setRevealed((r) => ({ ...r, [current.slug]: k })); }} />
  );
}

function CreateChannel({ first, onCreated }: { first: boolean; onCreated: (c: { channel: Channel; stream_key: string; rtmp_url: string }) => void }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [category, setCategory] = useState('');
  const [title, setTitle] = useState('');
  const [tags, setTags] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<{ field?: string; message: string } | null>(null);
  const effectiveSlug = slugEdited ? slug : slugify(name);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!category) { setErr({ field: 'category', message: 'Choose the category that fits your streams best.' }); return; }
    setBusy(true);
    setErr(null);
    try {
      onCreated(await api.createChannel({ slug: effectiveSlug, display_name: name.trim(), category, title: title.trim(), tags: parseTags(tags) }));
    } catch (e) {
      setErr(e instanceof ApiError ? { field: e.field, message: e.message } : { message: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => (err?.field === f ? err.message : undefined);
  return (
    <div class="page narrow">
      <div class="section-head"><h1>{first ? 'Create your channel' : 'New channel'}</h1></div>
      <p class="muted lead">A channel is where you go live. You can change everything except the address later.</p>
      <form class="panel form" onSubmit={submit} noValidate aria-label="Create a channel">
        {err && !err.field && <p class="form-error" role="alert">{err.message}</p>}
        <Field id="cc-name" label="Channel name" error={fe('display_name')}>
          <input id="cc-name" required maxLength={50} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="cc-slug" label="Address" hint={`${location.host}/c/${effectiveSlug || 'your-channel'} — 3 to 40 of a–z, 0–9 and dashes.`} error={fe('slug')}>
          <input id="cc-slug" required pattern="[a-z0-9][a-z0-9-]{1,38}[a-z0-9]" maxLength={40} value={effectiveSlug}
            onInput={(e) => { setSlugEdited(true); setSlug((e.currentTarget as HTMLInputElement).value.toLowerCase()); }} aria-describedby="cc-slug-hint" />
        </Field>
        <Field id="cc-category" label="Category" error={fe('category')}>
          <select id="cc-category" required value={category} onChange={(e) => setCategory((e.currentTarget as HTMLSelectElement).value)}>
            <option value="" disabled>Choose a category</option>
            {CATEGORIES.map((c) => <option key={c.slug} value={c.slug}>{c.name}</option>)}
          </select>
        </Field>
        <Field id="cc-title" label="Stream title (optional)" error={fe('title')}>
          <input id="cc-title" maxLength={140} value={title} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="cc-tags" label="Tags (optional)" hint="Up to 10, separated by commas or spaces." error={fe('tags')}>
          <input id="cc-tags" value={tags} onInput={(e) => setTags((e.currentTarget as HTMLInputElement).value)} aria-describedby="cc-tags-hint" />
        </Field>
        <div class="form-actions">
          <button class="btn primary" type="submit" disabled={busy || !name.trim()}>{busy ? <Spinner label="Creating" /> : 'Create channel'}</button>
        </div>
      </form>
    </div>
  );
}

interface DashProps {
  initial: Channel;
  channels: Channel[];
  revealed?: StreamKey;
  onReveal: (k: StreamKey) => void;
}

function ChannelDashboard({ initial, channels, revealed, onReveal }: DashProps) {
  const [ch, setCh] = useState(initial);
  const [now, setNow] = useState(Date.now());
  const refresh = () => api.channel(ch.slug).then(setCh, () => undefined);
  // One room connection for the dashboard: polls and chat moderation share it.
  const [room] = useState(() => new ChatClient(initial.slug, { emotes: false }));
  useEffect(() => () => room.close(), [room]);
  useInterval(() => { void refresh(); setNow(Date.now()); }, ch.live ? 5_000 : 8_000);
  return (
    <div class="page dash">
      <div class="dash-head">
        <Avatar name={ch.display_name} url={ch.avatar_url} size={56} />
        <div class="dash-title">
          <p class="eyebrow">Creator dashboard</p>
          <h1>{ch.display_name}</h1>
          <p class="muted">
            {ch.live ? <><LiveBadge small /> {viewersLabel(ch.viewers)} · live for {uptime(ch.started_at, now)}</> : <>Offline · {categoryName(ch.category)}</>}
          </p>
        </div>
        <div class="dash-actions">
          {channels.length > 1 && (
            <>
              <label class="sr-only" for="dash-switch">Channel</label>
              <select id="dash-switch" value={ch.slug} onChange={(e) => navigate(`/dashboard/${encodeURIComponent((e.currentTarget as HTMLSelectElement).value)}`)}>
                {channels.map((c) => <option key={c.slug} value={c.slug}>{c.display_name}</option>)}
              </select>
            </>
          )}
          <a class="btn ghost" href="/dashboard/new">New channel</a>
          <a class="btn" href={`/c/${encodeURIComponent(ch.slug)}`}>View channel</a>
        </div>
      </div>
      {(ch as Channel & { suspended?: boolean }).suspended && (
        <p class="notice danger" role="alert">This channel is suspended by an admin: its stream key is refused and it is hidden from the directory.</p>
      )}
      <div class="dash-grid">
        <div class="dash-col">
          <section class="panel" aria-labelledby="preview-h">
            <h2 id="preview-h">Live preview</h2>
            <div class="preview">
              {ch.live ? (
                <Player src={ch.playback_url} compact startMuted label="Live preview" />
              ) : (
                <div class="preview-off">
                  <I.Radio size={32} />
                  <p><strong>You are offline.</strong> Start streaming from OBS with the settings below; your preview shows up here within seconds.</p>
                </div>
              )}
            </div>
          </section>
          <Health slug={ch.slug} live={ch.live} />
          <AdBreaks slug={ch.slug} live={ch.live} client={room} />
        </div>
        <div class="dash-col">
          <StreamInfo ch={ch} onSaved={setCh} />
          <LiveAlerts slug={ch.slug} client={room} />
          <Polls client={room} />
        </div>
      </div>
      <GoLive ch={ch} revealed={revealed} onReveal={onReveal} />
      <Earnings slug={ch.slug} client={room} />
      <TierPrices slug={ch.slug} />
      <ChatModeration slug={ch.slug} client={room} />
      <History slug={ch.slug} live={ch.live} />
      <Profile ch={ch} onSaved={setCh} />
      <Emotes slug={ch.slug} />
      <Webhooks slug={ch.slug} />
    </div>
  );
}

function GoLive({ ch, revealed, onReveal }: { ch: Channel; revealed?: StreamKey; onReveal: (k: StreamKey) => void }) {
  const { push } = useToasts();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const rotate = async () => {
    setBusy(true);
    try {
      onReveal(await api.rotateKey(ch.slug));
      setConfirming(false);
      push({ kind: 'success', title: 'New stream key ready', body: 'The old key no longer works.' });
    } catch (e) {
      push({ kind: 'error', title: 'The key was not rotated', body: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="golive-h">
      <h2 id="golive-h">How to go live</h2>
      <div class="golive">
        <div>
          <CopyField id="rtmp-url" label="Server" value={rtmpURL(ch, revealed)} testid="rtmp-url" />
          {revealed ? (
            <>
              <CopyField id="stream-key" label="Stream key" value={revealed.stream_key} secret testid="stream-key" />
              <p class="notice warn" role="note">This key is shown only now. Copy it into OBS; if you lose it, rotate it for a new one. Anyone with the key can stream to your channel.</p>
            </>
          ) : (
            <div class="field">
              <span class="label">Stream key</span>
              <div class="copy-row"><input class="mono" value="••••••••••••••••••••••••" readOnly aria-label="Stream key (hidden)" /></div>
              <p class="hint">Keys are stored hashed, so we cannot show yours again. Rotate it to get a new one.</p>
            </div>
          )}
          {confirming ? (
            <div class="confirm" role="group" aria-label="Confirm key rotation">
              <p>An encoder using the old key will not be able to connect again. Rotate?</p>
              <button type="button" class="btn danger" onClick={rotate} disabled={busy}>{busy ? <Spinner /> : 'Rotate key'}</button>
              <button type="button" class="btn ghost" onClick={() => setConfirming(false)}>Cancel</button>
            </div>
          ) : (
            <button type="button" class="btn" onClick={() => setConfirming(true)}><I.Refresh size={16} /> {revealed ? 'Rotate again' : 'Reveal a new key'}</button>
          )}
        </div>
        <div>
          <h3>OBS settings</h3>
          <dl class="kv">
            <dt>Service</dt><dd>Custom…</dd>
            <dt>Server and key</dt><dd>As shown on the left</dd>
            <dt>Encoder</dt><dd>x264 or a hardware H.264 encoder</dd>
            <dt>Rate control</dt><dd>CBR, 2 500–6 000 kb/s</dd>
            <dt>Keyframe interval</dt><dd><strong>1 s</strong> (2 s at most)</dd>
            <dt>Profile / tune</dt><dd>main or high / zerolatency</dd>
            <dt>Video</dt><dd>1280×720 or 1920×1080, 30 or 60 fps</dd>
            <dt>Audio</dt><dd>AAC, 48 kHz, 128–160 kb/s</dd>
          </dl>
          <p class="muted small">Viewers get your source quality plus smaller renditions made on the server, so lower-bandwidth viewers can watch too.</p>
        </div>
      </div>
    </section>
  );
}

type Level = 'good' | 'warn' | 'bad';

function Metric({ label, value, level = 'good' }: { label: string; value: string; level?: Level }) {
  return (
    <div class={`metric ${level}`}>
      <span class="metric-label">{label}</span>
      <span class="metric-value">{value}</span>
    </div>
  );
}

function Health({ slug, live }: { slug: string; live: boolean }) {
  const [st, setSt] = useState<LiveStatus | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [notHere, setNotHere] = useState(false);
  const load = () => {
    if (!live) { setSt(null); return; }
    api.health(slug).then(
      (s) => { setSt(s); setErr(null); setNotHere(false); },
      (e) => { setSt(null); const gone = e instanceof ApiError && e.status === 404; setNotHere(gone); setErr(gone ? null : e); },
    );
  };
  useEffect(load, [slug, live]); // eslint-disable-line react-hooks/exhaustive-deps
  useInterval(load, live ? 3_000 : null);
  const body = () => {
    if (!live) return <p class="muted">Stream health appears while you are live: what your encoder sends and how the server keeps up.</p>;
    if (err) return <p class="form-error" role="alert">{errorText(err)} <button type="button" class="btn small" onClick={load}>Try again</button></p>;
    if (notHere) return <p class="muted" role="status">This server is not receiving your stream right now: it may have just ended, or it reaches another server of the cluster. Checking again every few seconds.</p>;
    if (!st) return <Spinner />;
    const ing = st.ingest;
    const tx = st.transcoder;
    const speed = Number(tx?.speed ?? 0);
    const restarts = Number(tx?.restarts ?? 0);
    const dropped = Number(tx?.dropped_frames ?? 0);
    const gop = ing.keyframe_interval_seconds;
    return (
      <>
        <div class="metrics">
          <Metric label="State" value={st.state === 'live' ? 'Receiving' : 'Reconnecting…'} level={st.state === 'live' ? 'good' : 'bad'} />
          <Metric label="Bitrate" value={`${Math.round(ing.bitrate_kbps).toLocaleString()} kb/s`} level={ing.bitrate_kbps > 0 ? 'good' : 'bad'} />
          <Metric label="Frame rate" value={`${ing.fps.toFixed(1)} fps`} level={ing.fps >= 24 ? 'good' : ing.fps > 0 ? 'warn' : 'bad'} />
          <Metric label="Keyframes" value={gop ? `every ${gop.toFixed(1)} s` : '—'} level={!gop || gop <= 2.1 ? 'good' : 'warn'} />
          <Metric label="Resolution" value={ing.width ? `${ing.width}×${ing.height}` : '—'} />
          <Metric label="Codecs" value={[ing.video_codec, ing.audio_codec].filter(Boolean).join(' · ') || '—'} />
          {tx && <Metric label="Transcoder" value={speed ? `${speed.toFixed(2)}× realtime` : 'starting'} level={!speed || speed >= 0.97 ? 'good' : 'warn'} />}
          {tx && <Metric label="Restarts · dropped" value={`${restarts} · ${dropped}`} level={restarts || dropped ? 'warn' : 'good'} />}
        </div>
        {gop > 2.1 && <p class="notice warn">Set your keyframe interval to 1 s: long intervals delay viewers and make quality switches slow.</p>}
        <h3 class="sub">Renditions</h3>
        <ul class="renditions">
          {st.renditions.map((r) => {
            const name = String(r.name ?? '');
            const h = Number(r.height ?? 0);
            const bw = Number(r.bandwidth ?? 0);
            const ready = Boolean(r.ready);
            return (
              <li key={name} class={ready ? 'ok' : 'pending'}>
                <span class="dot" aria-hidden="true" /> <strong>{name}</strong> {h ? `${h}p` : ''} <span class="muted">{bw ? `${Math.round(bw / 1000)} kb/s` : ''}{ready ? '' : ' · starting'}</span>
              </li>
            );
          })}
        </ul>
      </>
    );
  };
  return (
    <section class="panel" aria-labelledby="health-h" data-testid="health">
      <h2 id="health-h">Stream health</h2>
      {body()}
    </section>
  );
}

function StreamInfo({ ch, onSaved }: { ch: Channel; onSaved: (c: Channel) => void }) {
  const { push } = useToasts();
  const [title, setTitle] = useState(ch.title);
  const [category, setCategory] = useState(ch.category);
  const [tags, setTags] = useState(ch.tags.join(', '));
  const [language, setLanguage] = useState(ch.language);
  const [mature, setMature] = useState(ch.mature);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<{ field?: string; message: string } | null>(null);
  const parsed = parseTags(tags);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const saved = await api.updateChannel(ch.slug, { title: title.trim(), category, tags: parsed, language, mature });
      onSaved({ ...ch, ...saved });
      push({ kind: 'success', title: 'Stream info saved', body: ch.live ? 'Viewers see it now.' : undefined });
    } catch (e) {
      setErr(e instanceof ApiError ? { field: e.field, message: e.message } : { message: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => (err?.field === f ? err.message : undefined);
  return (
    <form class="panel form" onSubmit={submit} aria-labelledby="info-h" noValidate>
      <h2 id="info-h">Stream info</h2>
      {ch.live && <p class="notice">You are live: changes reach viewers at once.</p>}
      {err && !err.field && <p class="form-error" role="alert">{err.message}</p>}
      <Field id="si-title" label={`Title (${title.length}/140)`} error={fe('title')}>
        <input id="si-title" maxLength={140} value={title} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />
      </Field>
      <Field id="si-category" label="Category" error={fe('category')}>
        <select id="si-category" value={category} onChange={(e) => setCategory((e.currentTarget as HTMLSelectElement).value)}>
          {CATEGORIES.map((c) => <option key={c.slug} value={c.slug}>{c.name}</option>)}
        </select>
      </Field>
      <Field id="si-tags" label="Tags" hint={`${parsed.length}/10 · letters, digits and dashes; separate with commas.`} error={fe('tags')}>
        <input id="si-tags" value={tags} onInput={(e) => setTags((e.currentTarget as HTMLInputElement).value)} aria-describedby="si-tags-hint" />
      </Field>
      {parsed.length > 0 && <ul class="tags" aria-label="Tags preview">{parsed.map((t) => <li key={t}><span class="tag">{t}</span></li>)}</ul>}
      <div class="row2">
        <Field id="si-lang" label="Language" error={fe('language')}>
          <select id="si-lang" value={language} onChange={(e) => setLanguage((e.currentTarget as HTMLSelectElement).value)}>
            {LANGUAGES.map(([v, n]) => <option key={v} value={v}>{n}</option>)}
          </select>
        </Field>
        <div class="field check">
          <input id="si-mature" type="checkbox" checked={mature} onChange={(e) => setMature((e.currentTarget as HTMLInputElement).checked)} />
          <label for="si-mature">Mature content</label>
        </div>
      </div>
      <div class="form-actions">
        <button class="btn primary" type="submit" disabled={busy}>{busy ? <Spinner label="Saving" /> : 'Save'}</button>
      </div>
    </form>
  );
}

function Profile({ ch, onSaved }: { ch: Channel; onSaved: (c: Channel) => void }) {
  const { push } = useToasts();
  const [name, setName] = useState(ch.display_name);
  const [bio, setBio] = useState(ch.bio);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<{ field?: string; message: string } | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      onSaved({ ...ch, ...(await api.updateChannel(ch.slug, { display_name: name.trim(), bio })) });
      push({ kind: 'success', title: 'Profile saved' });
    } catch (e) {
      setErr(e instanceof ApiError ? { field: e.field, message: e.message } : { message: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  const upload = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    if (!['image/png', 'image/jpeg', 'image/webp'].includes(file.type)) { setErr({ field: 'avatar', message: 'Use a PNG, JPEG or WebP image.' }); return; }
    if (file.size > 1024 * 1024) { setErr({ field: 'avatar', message: 'The image is larger than 1 MB.' }); return; }
    try {
      const r = await api.uploadAvatar(ch.slug, file);
      onSaved({ ...ch, avatar_url: `${r.avatar_url}${r.avatar_url.includes('?') ? '&' : '?'}v=${Date.now()}` });
      push({ kind: 'success', title: 'Avatar updated' });
    } catch (e) {
      setErr({ field: 'avatar', message: errorText(e) });
    }
  };
  const fe = (f: string) => (err?.field === f ? err.message : undefined);
  return (
    <form class="panel form" onSubmit={save} aria-labelledby="profile-h" noValidate>
      <h2 id="profile-h">Channel profile</h2>
      {err && !['display_name', 'bio', 'avatar'].includes(err.field ?? '') && <p class="form-error" role="alert">{err.message}</p>}
      <div class="profile-row">
        <Avatar name={ch.display_name} url={ch.avatar_url} size={72} />
        <div class="field">
          <input id="pf-avatar" class="file-input" type="file" accept="image/png,image/jpeg,image/webp" onChange={upload} aria-describedby="pf-avatar-hint" />
          <label for="pf-avatar" class="btn">Upload avatar</label>
          {fe('avatar') ? <p class="field-error" role="alert">{fe('avatar')}</p> : <p class="hint" id="pf-avatar-hint">PNG, JPEG or WebP, up to 1 MB.</p>}
        </div>
      </div>
      <Field id="pf-name" label="Channel name" error={fe('display_name')}>
        <input id="pf-name" maxLength={50} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      </Field>
      <Field id="pf-bio" label={`Bio (${bio.length}/2000)`} error={fe('bio')}>
        <textarea id="pf-bio" rows={4} maxLength={2000} value={bio} onInput={(e) => setBio((e.currentTarget as HTMLTextAreaElement).value)} />
      </Field>
      <div class="form-actions"><button class="btn primary" type="submit" disabled={busy}>{busy ? <Spinner label="Saving" /> : 'Save profile'}</button></div>
    </form>
  );
}

const EMOTE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const MAX_EMOTE_BYTES = 256 * 1024;
const MAX_EMOTES = 50;

/** emoteNameFrom suggests an emote name from a file name ("Party Cat.png" → "Party_Cat"). */
function emoteNameFrom(file: string): string {
  return file.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 32);
}

/** Emotes manages the channel's chat emotes: the list with delete buttons and the upload form. */
function Emotes({ slug }: { slug: string }) {
  const { push } = useToasts();
  const list = useAsync(() => api.emotes(slug, true).then((r) => r.emotes ?? []), [slug]);
  const [local, setLocal] = useState<Emote[] | null>(null);
  const emotes = local ?? list.data;
  useEffect(() => setLocal(null), [list.data]);
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState('');
  const [err, setErr] = useState<{ field?: 'name' | 'file'; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState('');
  const [fileKey, setFileKey] = useState(0);
  useEffect(() => {
    if (!file) { setPreview(''); return; }
    const u = URL.createObjectURL(file);
    setPreview(u);
    return () => URL.revokeObjectURL(u);
  }, [file]);
  const checkFile = (f: File): string | undefined => {
    if (!EMOTE_TYPES.includes(f.type)) return 'Use a PNG, JPEG or WebP image.';
    if (f.size > MAX_EMOTE_BYTES) return `The image is ${Math.ceil(f.size / 1024)} KB; an emote can be at most 256 KB.`;
    return undefined;
  };
  const pick = (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0] ?? null;
    setErr(null);
    setFile(f);
    if (!f) return;
    const bad = checkFile(f);
    if (bad) { setErr({ field: 'file', message: bad }); return; }
    if (!name.trim()) setName(emoteNameFrom(f.name));
  };
  const upload = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const n = name.trim();
    if (!EMOTE_NAME.test(n)) { setErr({ field: 'name', message: 'Use 2 to 32 letters, digits or underscores (A–Z, a–z, 0–9, _).' }); return; }
    if (!file) { setErr({ field: 'file', message: 'Choose an image file.' }); return; }
    const bad = checkFile(file);
    if (bad) { setErr({ field: 'file', message: bad }); return; }
    setBusy(true);
    try {
      const saved = await api.putEmote(slug, n, file);
      setLocal([...(emotes ?? []).filter((x) => x.name !== saved.name), saved].sort((a, b) => a.name.localeCompare(b.name)));
      // Read the list again past the browser's cached copy, so the channel page shows the new emote at once.
      list.reload();
      setName('');
      setFile(null);
      setFileKey((k) => k + 1);
      push({ kind: 'success', title: `Emote :${saved.name}: saved` });
    } catch (e) {
      const field = e instanceof ApiError && e.field === 'name' ? 'name' : e instanceof ApiError && (e.status === 413 || e.status === 415) ? 'file' : undefined;
      setErr({ field, message: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (n: string) => {
    setDeleting(n);
    try {
      await api.deleteEmote(slug, n);
      setLocal((emotes ?? []).filter((x) => x.name !== n));
      list.reload();
    } catch (e) {
      push({ kind: 'error', title: `:${n}: was not deleted`, body: errorText(e) });
    } finally {
      setDeleting('');
    }
  };
  const full = (emotes?.length ?? 0) >= MAX_EMOTES;
  const fe = (f: 'name' | 'file') => (err?.field === f ? err.message : undefined);
  return (
    <section class="panel" aria-labelledby="emotes-h" data-testid="dash-emotes">
      <h2 id="emotes-h">Emotes</h2>
      <p class="muted">Viewers type <code>:name:</code> in your chat to show an emote, or pick one from the chat's emote button.{emotes && <> {emotes.length}/{MAX_EMOTES} used.</>}</p>
      <form class="emote-form" onSubmit={upload} noValidate aria-label="Upload an emote" data-testid="emote-form">
        <Field id="emote-name" label="Name" hint="2–32 letters, digits or _" error={fe('name')}>
          <input id="emote-name" value={name} maxLength={32} autoComplete="off" spellcheck={false} pattern="[A-Za-z0-9_]{2,32}"
            aria-invalid={!!fe('name')} aria-describedby={fe('name') ? 'emote-name-error' : 'emote-name-hint'}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="emote-file" label="Image" hint="PNG, JPEG or WebP, up to 256 KB" error={fe('file')}>
          <input key={fileKey} id="emote-file" type="file" accept="image/png,image/jpeg,image/webp" onChange={pick}
            aria-invalid={!!fe('file')} aria-describedby={fe('file') ? 'emote-file-error' : 'emote-file-hint'} />
        </Field>
        <div class="emote-preview" aria-hidden="true">{preview && !fe('file') && <img src={preview} alt="" height={28} />}</div>
        <button class="btn primary" type="submit" disabled={busy || full}>{busy ? <Spinner label="Uploading" /> : 'Upload emote'}</button>
      </form>
      {err && !err.field && <p class="form-error" role="alert" data-testid="emote-error">{err.message}</p>}
      {full && <p class="notice warn" role="note">The channel has {MAX_EMOTES} emotes, the most it can have; delete one to add another.</p>}
      {list.error && !emotes ? <ErrorState error={list.error} retry={list.reload} title="The emotes did not load" /> : !emotes ? <Spinner label="Loading emotes" /> : emotes.length === 0 ? (
        <EmptyState title="No emotes yet"><p class="muted">Upload an image above to give your chat its first emote.</p></EmptyState>
      ) : (
        <ul class="emote-list" aria-label="Channel emotes">
          {emotes.map((em) => (
            <li key={em.name} class="emote-item" data-testid="dash-emote" data-emote={em.name}>
              <img src={em.url} alt={`:${em.name}:`} height={28} loading="lazy" />
              <code>:{em.name}:</code>
              <button type="button" class="btn small danger" disabled={deleting === em.name} aria-label={`Delete emote :${em.name}:`} onClick={() => void remove(em.name)}>Delete</button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function History({ slug, live }: { slug: string; live: boolean }) {
  const h = useAsync(() => api.broadcasts(slug, { limit: 20 }).then((p) => p.items), [slug, live]);
  return (
    <section class="panel" aria-labelledby="history-h">
      <h2 id="history-h">Broadcast history</h2>
      {h.error ? <ErrorState error={h.error} retry={h.reload} /> : !h.data ? <Spinner /> : h.data.length === 0 ? (
        <EmptyState title="No broadcasts yet"><p class="muted">Your past streams will be listed here with their audience.</p></EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Peak viewers</th><th scope="col">Average viewers</th><th scope="col">Ended</th></tr></thead>
            <tbody>
              {h.data.map((b) => (
                <tr key={b.broadcast_id}>
                  <td>{dateTime(b.started_at)}</td>
                  <td>{b.ended_at ? duration(Date.parse(b.ended_at) - Date.parse(b.started_at)) : <LiveBadge small />}</td>
                  <td class="num">{b.peak_viewers}</td>
                  <td class="num">{Math.round(b.avg_viewers * 10) / 10}</td>
                  <td class="muted">{b.ended_at ? (b.end_reason || 'ended') : 'on air'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Webhooks({ slug }: { slug: string }) {
  const { push } = useToasts();
  const list = useAsync(() => api.webhooks(slug), [slug]);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['live', 'offline']);
  const [fresh, setFresh] = useState<{ url: string; secret: string } | null>(null);
  const [err, setErr] = useState('');
  const toggle = (ev: string) => setEvents((es) => (es.includes(ev) ? es.filter((x) => x !== ev) : [...es, ev]));
  const add = async (e: Event) => {
    e.preventDefault();
    setErr('');
    try {
      const h = await api.createWebhook(slug, url.trim(), events);
      setFresh({ url: h.url, secret: h.secret });
      setUrl('');
      list.reload();
    } catch (e) {
      setErr(errorText(e));
    }
  };
  const remove = async (id: string) => {
    try {
      await api.deleteWebhook(slug, id);
      list.reload();
    } catch (e) {
      push({ kind: 'error', title: 'The webhook was not deleted', body: errorText(e) });
    }
  };
  return (
    <section class="panel" aria-labelledby="hooks-h">
      <h2 id="hooks-h">Webhooks</h2>
      <p class="muted">We POST a JSON event to your URL when the channel goes live or offline, signed with <code>X-Livehouse-Signature: sha256=…</code> (HMAC of the body with the secret).</p>
      <form class="hook-form" onSubmit={add} noValidate>
        <Field id="hook-url" label="Payload URL" error={err || undefined}>
          <input id="hook-url" type="url" placeholder="https://example.com/hooks/livehouse" value={url} onInput={(e) => setUrl((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <fieldset class="events">
          <legend>Events</legend>
          {['live', 'offline'].map((ev) => (
            <label key={ev} class="check-inline"><input type="checkbox" checked={events.includes(ev)} onChange={() => toggle(ev)} /> {ev === 'live' ? 'Goes live' : 'Goes offline'}</label>
          ))}
        </fieldset>
        <button class="btn" type="submit" disabled={!url.trim() || events.length === 0}>Add webhook</button>
      </form>
      {fresh && (
        <>
          <CopyField id="hook-secret" label={`Signing secret for ${fresh.url}`} value={fresh.secret} secret />
          <p class="notice warn" role="note">The secret is shown only now.</p>
        </>
      )}
      {list.error ? <ErrorState error={list.error} retry={list.reload} /> : !list.data ? <Spinner /> : list.data.items.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Added</th><th scope="col"><span class="sr-only">Delete</span></th></tr></thead>
            <tbody>
              {list.data.items.map((h) => (
                <tr key={h.id}>
                  <td class="mono">{h.url}</td>
                  <td>{h.events.join(', ')}</td>
                  <td class="muted">{dateTime(h.created_at)}</td>
                  <td class="actions"><button type="button" class="btn small danger" aria-label={`Delete webhook ${h.url}`} onClick={() => remove(h.id)}>Delete</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const POLL_DURATIONS: Array<[number, string]> = [[30, '30 seconds'], [60, '1 minute'], [120, '2 minutes'], [300, '5 minutes'], [600, '10 minutes'], [1800, '30 minutes']];

/** Polls opens polls in the channel's chat through the dashboard's own room connection. */
function Polls({ client }: { client: ChatClient }) {
  const s = useRoom(client);
  const [question, setQuestion] = useState('');
  const [options, setOptions] = useState(['', '']);
  const [seconds, setSeconds] = useState(60);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [, tick] = useState(0);
  const poll = currentPoll(s.polls);
  const open = poll && !poll.closed ? poll : undefined;
  useInterval(() => tick((x) => x + 1), open ? 1000 : null);
  const setOption = (i: number, v: string) => setOptions(options.map((o, j) => (j === i ? v : o)));
  const filled = options.map((o) => o.trim()).filter(Boolean);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    if (!question.trim()) { setError('Write the question.'); return; }
    if (filled.length < 2) { setError('Give at least two options.'); return; }
    setBusy(true);
    try {
      await client.command({ type: 'poll.open', question: question.trim(), options: filled, seconds });
      setQuestion('');
      setOptions(['', '']);
    } catch (err) {
      setError((err as ChatError).message);
    } finally {
      setBusy(false);
    }
  };
  const end = (id: string) => void client.command({ type: 'poll.close', poll_id: id }).catch((err: ChatError) => setError(err.message));
  return (
    <section class="panel" aria-labelledby="polls-h" data-testid="dash-polls">
      <h2 id="polls-h">Polls</h2>
      {s.conn !== 'open' && <p class="muted small" role="status">{s.welcomed ? 'Reconnecting to your chat…' : 'Connecting to your chat…'}</p>}
      {poll && (
        <div class="dash-poll" data-testid="dash-poll" data-state={poll.closed ? 'closed' : 'open'}>
          <p><strong>{poll.closed ? 'Last poll' : 'Running now'}:</strong> {poll.question}</p>
          <ul class="dash-poll-list">
            {poll.options.map((o, i) => (
              <li key={i}><span>{o}</span><span class="muted">{poll.counts[i] ?? 0} · {poll.total ? Math.round(((poll.counts[i] ?? 0) / poll.total) * 100) : 0}%</span></li>
            ))}
          </ul>
          <p class="muted small">{poll.total} {poll.total === 1 ? 'vote' : 'votes'}{open && <> · ends in {Math.max(0, Math.ceil((open.closes_at - Date.now()) / 1000))} s</>}</p>
          {open && <button type="button" class="btn small" onClick={() => end(open.id)}>End poll now</button>}
        </div>
      )}
      {s.welcomed && !s.canModerate ? (
        <p class="muted">Only the channel's owner and its moderators can open polls.</p>
      ) : (
        <form class="form poll-form" onSubmit={submit} noValidate aria-label="Open a poll">
          <Field label="Poll question" id="poll-question">
            <input id="poll-question" value={question} maxLength={200} onInput={(e) => setQuestion((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          {options.map((o, i) => (
            <div class="poll-opt-row" key={i}>
              <Field label={`Option ${i + 1}`} id={`poll-opt-${i}`}>
                <input id={`poll-opt-${i}`} value={o} maxLength={80} onInput={(e) => setOption(i, (e.currentTarget as HTMLInputElement).value)} />
              </Field>
              {options.length > 2 && (
                <button type="button" class="icon-btn" aria-label={`Remove option ${i + 1}`} onClick={() => setOptions(options.filter((_, j) => j !== i))}><I.Close size={16} /></button>
              )}
            </div>
          ))}
          {options.length < 5 && <button type="button" class="btn small ghost" onClick={() => setOptions([...options, ''])}>Add option</button>}
          <Field label="Duration" id="poll-duration">
            <select id="poll-duration" value={seconds} onChange={(e) => setSeconds(Number((e.currentTarget as HTMLSelectElement).value))}>
              {POLL_DURATIONS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </select>
          </Field>
          {error && <p class="form-error" role="alert">{error}</p>}
          <button type="submit" class="btn primary" disabled={busy || s.conn !== 'open' || !!open}>{open ? 'A poll is running' : 'Open poll'}</button>
        </form>
      )}
    </section>
  );
}
