// Admin screens: users (role, suspend, ban), channels (suspend), server
// settings including the transcoding ladder, and the money screens
// (pages/AdminMoney.tsx).
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { categoryName } from '../lib/categories';
import { dateTime } from '../lib/format';
import { useAsync, usePaged, useTitle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { useSession, useToasts } from '../lib/session';
import type { AdminChannel, Ladder, LadderRendition, User } from '../lib/types';
import { EmptyState, ErrorState, Field, LiveBadge, MoreButton, Spinner, errorText } from '../components/ui';
import * as I from '../components/icons';
import { AdminMoney, MONEY_TABS } from './AdminMoney';

const TABS: Array<[string, string]> = [['users', 'Users'], ['channels', 'Channels'], ['settings', 'Server settings'], ...MONEY_TABS];
const MONEY = new Set(MONEY_TABS.map(([id]) => id));

export function Admin({ tab }: { tab: string }) {
  useTitle('Admin');
  const { user } = useSession();
  useEffect(() => { if (user === null) navigate('/signin?next=/admin', true); }, [user]);
  if (user === undefined) return <div class="page-loading"><Spinner /></div>;
  if (!user || user.role !== 'admin') {
    return <div class="page"><EmptyState title="Admins only" icon={<I.Shield size={32} />}><p>This area is for the people who run this server.</p></EmptyState></div>;
  }
  return (
    <div class="page">
      <div class="section-head"><h1>Admin</h1></div>
      <nav class="tabs" aria-label="Admin sections">
        {TABS.map(([id, label]) => <a key={id} href={`/admin/${id}`} aria-current={tab === id ? 'page' : undefined}>{label}</a>)}
      </nav>
      {MONEY.has(tab) ? <AdminMoney tab={tab} /> : tab === 'channels' ? <Channels /> : tab === 'settings' ? <Settings /> : <Users me={user} />}
    </div>
  );
}

function StatusPill({ status }: { status?: string }) {
  const s = status ?? 'active';
  return <span class={`status status-${s}`}>{s}</span>;
}

function Users({ me }: { me: User }) {
  const { push } = useToasts();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const list = usePaged<User>((cursor) => api.adminUsers({ q: query, limit: 100, cursor }), [query]);
  const { items: rows, setItems: setRows } = list;
  const update = async (u: User, body: { status?: string; role?: string }) => {
    if (body.status === 'banned' && !confirm(`Ban ${u.display_name}? Their live streams end at once.`)) return;
    try {
      const saved = await api.adminUpdateUser(u.id, body);
      setRows((rs) => rs.map((r) => (r.id === u.id ? { ...r, ...saved } : r)));
      push({ kind: 'success', title: `${u.display_name} updated` });
    } catch (e) {
      push({ kind: 'error', title: 'Update failed', body: errorText(e) });
    }
  };
  return (
    <section class="panel" aria-label="Users">
      <form class="toolbar" role="search" onSubmit={(e) => { e.preventDefault(); setQuery(q.trim()); }}>
        <label class="sr-only" for="au-q">Search users</label>
        <input id="au-q" type="search" placeholder="Search by name or email" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <button class="btn" type="submit"><I.Search size={16} /> Search</button>
      </form>
      {list.error ? <ErrorState error={list.error} retry={list.reload} /> : !list.data ? <Spinner /> : rows.length === 0 ? <EmptyState title="No users match" /> : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">User</th><th scope="col">Email</th><th scope="col">Joined</th><th scope="col">Role</th><th scope="col">Status</th></tr></thead>
            <tbody>
              {rows.map((u) => (
                <tr key={u.id}>
                  <td><strong>{u.display_name}</strong></td>
                  <td class="muted">{u.email}</td>
                  <td class="muted">{dateTime(u.created_at)}</td>
                  <td>
                    <label class="sr-only" for={`role-${u.id}`}>Role of {u.display_name}</label>
                    <select id={`role-${u.id}`} value={u.role} disabled={u.id === me.id} onChange={(e) => update(u, { role: (e.currentTarget as HTMLSelectElement).value })}>
                      <option value="viewer">viewer</option><option value="creator">creator</option><option value="admin">admin</option>
                    </select>
                  </td>
                  <td>
                    <label class="sr-only" for={`status-${u.id}`}>Status of {u.display_name}</label>
                    <select id={`status-${u.id}`} class={`status-select status-${u.status ?? 'active'}`} value={u.status ?? 'active'} disabled={u.id === me.id}
                      onChange={(e) => update(u, { status: (e.currentTarget as HTMLSelectElement).value })}>
                      <option value="active">active</option><option value="suspended">suspended</option><option value="banned">banned</option>
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && list.hasMore && <MoreButton more={list.more} loading={list.loadingMore} error={list.moreError} />}
    </section>
  );
}

function Channels() {
  const { push } = useToasts();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const list = usePaged<AdminChannel>((cursor) => api.adminChannels({ q: query, limit: 100, cursor }), [query]);
  const { items: rows, setItems: setRows } = list;
  const setStatus = async (c: AdminChannel, status: string) => {
    if (status === 'suspended' && !confirm(`Suspend ${c.display_name}? ${c.live ? 'The live stream ends at once and ' : ''}the stream key stops working.`)) return;
    try {
      const saved = await api.adminUpdateChannel(c.slug, { status });
      setRows((rs) => rs.map((r) => (r.slug === c.slug ? { ...r, ...saved, status } : r)));
      push({ kind: 'success', title: `${c.display_name} ${status === 'suspended' ? 'suspended' : 'reinstated'}` });
    } catch (e) {
      push({ kind: 'error', title: 'Update failed', body: errorText(e) });
    }
  };
  return (
    <section class="panel" aria-label="Channels">
      <form class="toolbar" role="search" onSubmit={(e) => { e.preventDefault(); setQuery(q.trim()); }}>
        <label class="sr-only" for="ac-q">Search channels</label>
        <input id="ac-q" type="search" placeholder="Search by name, title or tag" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <button class="btn" type="submit"><I.Search size={16} /> Search</button>
      </form>
      {list.error ? <ErrorState error={list.error} retry={list.reload} /> : !list.data ? <Spinner /> : rows.length === 0 ? <EmptyState title={query ? 'No channels match' : 'No channels yet'} /> : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">Channel</th><th scope="col">Owner</th><th scope="col">Category</th><th scope="col">State</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.slug}>
                  <td><a href={`/c/${encodeURIComponent(c.slug)}`}><strong>{c.display_name}</strong></a> <span class="muted">/{c.slug}</span></td>
                  <td class="muted">{c.owner?.display_name ?? '—'}</td>
                  <td>{categoryName(c.category)}</td>
                  <td>{c.live ? <><LiveBadge small /> {c.viewers}</> : <span class="muted">offline</span>}</td>
                  <td><StatusPill status={c.status} /></td>
                  <td class="actions">
                    {c.status === 'suspended'
                      ? <button type="button" class="btn small" onClick={() => setStatus(c, 'active')}>Reinstate</button>
                      : <button type="button" class="btn small danger" onClick={() => setStatus(c, 'suspended')}>Suspend</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && list.hasMore && <MoreButton more={list.more} loading={list.loadingMore} error={list.moreError} />}
    </section>
  );
}

const ENCODERS = ['libx264', 'h264_nvenc', 'h264_vaapi', 'h264_qsv'];
const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'];

function Settings() {
  const { push } = useToasts();
  const res = useAsync(() => api.adminSettings(), []);
  const [ladder, setLadder] = useState<Ladder | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string>('');
  useEffect(() => { if (res.data) setLadder(res.data.ladder); }, [res.data]);
  if (res.error) return <ErrorState error={res.error} retry={res.reload} />;
  if (!ladder) return <Spinner />;
  const setRow = (i: number, patch: Partial<LadderRendition>) =>
    setLadder({ ...ladder, renditions: ladder.renditions.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const num = (e: Event) => Number((e.currentTarget as HTMLInputElement).value) || 0;
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr('');
    try {
      const saved = await api.adminSaveSettings({ ladder });
      setLadder(saved.ladder ?? ladder);
      push({ kind: 'success', title: 'Settings saved', body: 'They apply to broadcasts that start from now on.' });
    } catch (e) {
      setErr(e instanceof ApiError ? e.message : errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel form" onSubmit={save} aria-labelledby="ladder-h">
      <h2 id="ladder-h">Transcoding ladder</h2>
      <p class="muted">The source is passed through untouched; scaled renditions are encoded on this server and never upscaled. Changes apply to broadcasts that start after saving.</p>
      {err && <p class="form-error" role="alert">{err}</p>}
      <div class="row2">
        <Field id="ld-encoder" label="Encoder">
          <select id="ld-encoder" value={ladder.encoder ?? 'libx264'} onChange={(e) => setLadder({ ...ladder, encoder: (e.currentTarget as HTMLSelectElement).value })}>
            {ENCODERS.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        </Field>
        <Field id="ld-preset" label="Preset">
          <select id="ld-preset" value={ladder.preset ?? 'superfast'} onChange={(e) => setLadder({ ...ladder, preset: (e.currentTarget as HTMLSelectElement).value })}>
            {PRESETS.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        </Field>
      </div>
      <div class="table-wrap">
        <table class="table ladder">
          <thead><tr><th scope="col">Name</th><th scope="col">Height</th><th scope="col">Video kb/s</th><th scope="col">Max fps</th><th scope="col">Passthrough</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
          <tbody>
            {ladder.renditions.map((r, i) => (
              <tr key={i}>
                <td><input aria-label={`Rendition ${i + 1} name`} value={r.name} pattern="[a-z0-9_-]{1,32}" onInput={(e) => setRow(i, { name: (e.currentTarget as HTMLInputElement).value })} /></td>
                <td><input aria-label={`Rendition ${i + 1} height`} type="number" min="0" step="2" value={r.height ?? 0} disabled={r.passthrough} onInput={(e) => setRow(i, { height: num(e) })} /></td>
                <td><input aria-label={`Rendition ${i + 1} video bitrate`} type="number" min="0" step="100" value={r.video_kbps ?? 0} onInput={(e) => setRow(i, { video_kbps: num(e) })} /></td>
                <td><input aria-label={`Rendition ${i + 1} max fps`} type="number" min="0" step="1" value={r.max_fps ?? 0} disabled={r.passthrough} onInput={(e) => setRow(i, { max_fps: num(e) })} /></td>
                <td><input aria-label={`Rendition ${i + 1} passthrough`} type="checkbox" checked={!!r.passthrough} onChange={(e) => setRow(i, { passthrough: (e.currentTarget as HTMLInputElement).checked })} /></td>
                <td><button type="button" class="icon-btn small" aria-label={`Remove rendition ${r.name || i + 1}`} onClick={() => setLadder({ ...ladder, renditions: ladder.renditions.filter((_, j) => j !== i) })}><I.Close size={16} /></button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="form-actions">
        <button type="button" class="btn ghost" onClick={() => setLadder({ ...ladder, renditions: [...ladder.renditions, { name: '240p', height: 240, video_kbps: 400, max_fps: 30 }] })}>Add rendition</button>
        <span class="spacer" />
        <button type="submit" class="btn primary" disabled={busy}>{busy ? <Spinner label="Saving" /> : 'Save settings'}</button>
      </div>
    </form>
  );
}
