// The dashboard's "Chat moderation" area: the room's settings (sent as a
// `settings` command over the dashboard's own room connection), messages held
// for review, the channel's moderators, blocked terms and the audit log
// (docs/REALTIME.md, docs/API.md "Realtime"). Everything users wrote is text.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';
import type { ChatClient, ChatError, RoomSettings, RoomState } from '../lib/chat';
import { dateTime } from '../lib/format';
import { useAsync, useRoom, type Async } from '../lib/hooks';
import type { AuditEntry, BlockedTerm, Moderator } from '../lib/types';
import { EmptyState, ErrorState, Field, Spinner, errorText } from './ui';
import './moderation.css';

/** useOnChange calls fn when value changes after the first render. */
function useOnChange(value: unknown, fn: () => void, delay = 0) {
  const first = useRef(true);
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    const id = setTimeout(() => ref.current(), delay);
    return () => clearTimeout(id);
  }, [value]); // eslint-disable-line react-hooks/exhaustive-deps
}

interface Props { slug: string; client: ChatClient }

/** ChatModeration is the dashboard panel; the client is the dashboard's room connection. */
export function ChatModeration({ slug, client }: Props) {
  const s = useRoom(client);
  const owner = !!s.you?.badges?.includes('broadcaster');
  const mods = useAsync(() => api.moderators(slug).then((r) => r.moderators ?? []), [slug]);
  useOnChange(s.modActivity, mods.reload, 200);
  const names = nameBook(s, mods.data ?? []);
  const [auditTick, setAuditTick] = useState(0);
  return (
    <section class="panel" aria-labelledby="moderation-h" data-testid="dash-moderation">
      <h2 id="moderation-h">Chat moderation</h2>
      {!s.welcomed ? (
        <p class="muted" role="status"><Spinner label="Connecting to your chat" /> Connecting to your chat…</p>
      ) : !s.canModerate ? (
        <p class="muted">Only the channel's owner and its moderators can moderate this chat.</p>
      ) : (
        <div class="mod-grid">
          <SettingsForm s={s} client={client} />
          <div class="mod-col">
            <HeldMessages s={s} client={client} onHandled={() => setAuditTick((t) => t + 1)} />
            <Moderators slug={slug} owner={owner} list={mods} />
            <BlockedTerms slug={slug} />
          </div>
          {owner && <AuditLog slug={slug} names={names} me={s.you?.id ?? ''} refresh={s.modActivity + auditTick} />}
        </div>
      )}
    </section>
  );
}

/** nameBook names the user ids the dashboard has seen: moderators, chat authors, held messages. */
function nameBook(s: RoomState, mods: Moderator[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.messages) if (m.kind === 'chat' && m.user.id) out[m.user.id] = m.user.name;
  for (const h of s.held) if (h.user?.id) out[h.user.id] = h.user.name;
  for (const m of mods) out[m.id] = m.name;
  if (s.you?.id) out[s.you.id] = s.you.name;
  return out;
}

interface Draft {
  anon: boolean;
  slow: string;
  followersOn: boolean;
  followersMin: string;
  subs: boolean;
  emote: boolean;
  links: string;
  vips: string;
}

function draftOf(set?: RoomSettings): Draft {
  return {
    anon: !!set?.anonymous_can_post,
    slow: String(set?.slow_seconds ?? 0),
    followersOn: set?.followers_only_minutes !== null && set?.followers_only_minutes !== undefined,
    followersMin: String(set?.followers_only_minutes ?? 0),
    subs: !!set?.subscribers_only,
    emote: !!set?.emote_only,
    links: set?.links || 'allow',
    vips: (set?.vips ?? []).join(', '),
  };
}

const WHOLE = /^\s*-?\d+\s*$/;

function SettingsForm({ s, client }: { s: RoomState; client: ChatClient }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(s.settings));
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  // Follow the server's settings (welcome, room.settings) unless the form holds unsaved edits.
  useEffect(() => { if (!dirty) setDraft(draftOf(s.settings)); }, [s.settings]); // eslint-disable-line react-hooks/exhaustive-deps
  const edit = (patch: Partial<Draft>) => { setDraft((d) => ({ ...d, ...patch })); setDirty(true); setSaved(false); setError(''); };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setSaved(false);
    if (!WHOLE.test(draft.slow)) { setError('Slow mode takes a whole number of seconds (0 turns it off).'); return; }
    if (draft.followersOn && !WHOLE.test(draft.followersMin)) { setError('The minimum follow age is a whole number of minutes.'); return; }
    const settings: RoomSettings = {
      anonymous_can_post: draft.anon,
      slow_seconds: Number(draft.slow),
      followers_only_minutes: draft.followersOn ? Number(draft.followersMin) : null,
      subscribers_only: draft.subs,
      emote_only: draft.emote,
      links: draft.links,
      vips: draft.vips.split(/[\s,]+/).filter(Boolean),
    };
    setBusy(true);
    try {
      await client.command({ type: 'settings', settings });
      setDirty(false);
      setSaved(true);
    } catch (err) {
      setError((err as ChatError).message);
    } finally {
      setBusy(false);
    }
  };
  const checkbox = (id: string, label: string, key: 'anon' | 'subs' | 'emote' | 'followersOn', hint?: string) => (
    <div class="mod-check">
      <input id={id} type="checkbox" checked={draft[key]} aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(e) => edit({ [key]: (e.currentTarget as HTMLInputElement).checked } as Partial<Draft>)} />
      <label for={id}>{label}</label>
      {hint && <p class="hint" id={`${id}-hint`}>{hint}</p>}
    </div>
  );
  return (
    <form class="mod-section form" onSubmit={submit} noValidate aria-labelledby="mod-settings-h" data-testid="mod-settings">
      <h3 id="mod-settings-h">Room settings</h3>
      <Field id="mod-slow" label="Slow mode (seconds)" hint="One message per viewer every so many seconds; 0 turns it off. Moderators are exempt.">
        <input id="mod-slow" type="number" inputMode="numeric" min={0} max={3600} step={1} value={draft.slow} aria-describedby="mod-slow-hint"
          onInput={(e) => edit({ slow: (e.currentTarget as HTMLInputElement).value })} />
      </Field>
      {checkbox('mod-followers', 'Followers only', 'followersOn')}
      <Field id="mod-follow-age" label="Minimum follow age (minutes)" hint="How long a viewer must have followed before chatting; 0 lets every follower chat.">
        <input id="mod-follow-age" type="number" inputMode="numeric" min={0} max={129600} step={1} value={draft.followersMin} disabled={!draft.followersOn}
          aria-describedby="mod-follow-age-hint" onInput={(e) => edit({ followersMin: (e.currentTarget as HTMLInputElement).value })} />
      </Field>
      {checkbox('mod-subs', 'Subscribers only', 'subs')}
      {checkbox('mod-emote', 'Emote only', 'emote', 'Messages may hold only emotes and emoji.')}
      {checkbox('mod-anon', 'Anonymous viewers can chat', 'anon', 'Signed-out viewers post as guest-xxxxxx.')}
      <Field id="mod-links" label="Links">
        <select id="mod-links" value={draft.links} onChange={(e) => edit({ links: (e.currentTarget as HTMLSelectElement).value })}>
          <option value="allow">Anyone may post links</option>
          <option value="mods">Only moderators and VIPs</option>
          <option value="block">No links</option>
        </select>
      </Field>
      <Field id="mod-vips" label="VIP user ids" hint="Separated by commas or spaces. VIPs get a badge and may post links when links are limited.">
        <input id="mod-vips" value={draft.vips} autoComplete="off" spellcheck={false} aria-describedby="mod-vips-hint"
          onInput={(e) => edit({ vips: (e.currentTarget as HTMLInputElement).value })} />
      </Field>
      {error && <p class="form-error" role="alert" data-testid="mod-settings-error">{error}</p>}
      <div class="form-actions">
        {saved && <span class="muted small" role="status" data-testid="mod-settings-saved">Chat settings saved.</span>}
        {dirty && !busy && <button type="button" class="btn ghost" onClick={() => { setDraft(draftOf(s.settings)); setDirty(false); setError(''); }}>Discard changes</button>}
        <button type="submit" class="btn primary" disabled={busy || s.conn !== 'open'}>{busy ? <Spinner label="Saving" /> : 'Save chat settings'}</button>
      </div>
    </form>
  );
}

function HeldMessages({ s, client, onHandled }: { s: RoomState; client: ChatClient; onHandled: () => void }) {
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const act = async (type: 'held.release' | 'held.reject', id: string) => {
    setBusy(id);
    setError('');
    try {
      await client.command({ type, id });
      client.dismissHeld(id);
      onHandled();
    } catch (err) {
      const e = err as ChatError;
      if (e.code === 'not_found') client.dismissHeld(id); // another moderator handled it
      setError(e.message);
    } finally {
      setBusy('');
    }
  };
  return (
    <section class="mod-section" aria-labelledby="mod-held-h" data-testid="mod-held">
      <h3 id="mod-held-h">Held for review{s.held.length > 0 && ` (${s.held.length})`}</h3>
      {error && <p class="form-error" role="alert">{error}</p>}
      {s.held.length === 0 ? (
        <p class="muted small">No messages are waiting. Messages with a blocked term set to “hold” show up here while this dashboard is open.</p>
      ) : (
        <ul class="mod-list" aria-label="Messages held for review">
          {s.held.map((h) => (
            <li key={h.id} class="mod-item" data-testid="held-message" data-id={h.id}>
              <div class="mod-item-text">
                <strong>{h.user?.name}</strong>: <span>{h.text}</span>
                <span class="muted small"> · held for “{h.term}”</span>
              </div>
              <div class="mod-item-actions">
                <button type="button" class="btn small" disabled={busy === h.id} aria-label={`Allow ${h.user?.name ?? 'the'}'s message: ${h.text}`}
                  onClick={() => void act('held.release', h.id)}>Allow</button>
                <button type="button" class="btn small danger" disabled={busy === h.id} aria-label={`Reject ${h.user?.name ?? 'the'}'s message: ${h.text}`}
                  onClick={() => void act('held.reject', h.id)}>Reject</button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Moderators({ slug, owner, list }: { slug: string; owner: boolean; list: Async<Moderator[]> }) {
  const [id, setId] = useState('');
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const appoint = async (e: Event) => {
    e.preventDefault();
    const uid = id.trim();
    if (!uid) { setError('Enter the user id of the person to appoint.'); return; }
    setBusy('add');
    setError('');
    try {
      await api.addModerator(slug, uid);
      setId('');
      list.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy('');
    }
  };
  const remove = async (m: Moderator) => {
    setBusy(m.id);
    setError('');
    try {
      await api.removeModerator(slug, m.id);
      list.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy('');
    }
  };
  const mods = list.data;
  return (
    <section class="mod-section" aria-labelledby="mod-mods-h" data-testid="mod-moderators">
      <h3 id="mod-mods-h">Moderators</h3>
      {list.error && !mods ? <ErrorState error={list.error} retry={list.reload} title="The moderators did not load" /> : !mods ? <Spinner label="Loading moderators" /> : mods.length === 0 ? (
        <p class="muted small" data-testid="mod-moderators-empty">No moderators yet.{owner && ' Appoint one from a chat message (Make moderator) or by user id below.'}</p>
      ) : (
        <ul class="mod-list" aria-label="Moderators">
          {mods.map((m) => (
            <li key={m.id} class="mod-item" data-testid="moderator" data-id={m.id}>
              <div class="mod-item-text"><strong>{m.name}</strong> <code class="muted small">{m.id}</code></div>
              {owner && (
                <div class="mod-item-actions">
                  <button type="button" class="btn small danger" disabled={busy === m.id} aria-label={`Remove ${m.name} as moderator`}
                    onClick={() => void remove(m)}>Remove</button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {owner && (
        <form class="mod-inline-form" onSubmit={appoint} noValidate aria-label="Appoint a moderator">
          <Field id="mod-appoint-id" label="User id">
            <input id="mod-appoint-id" value={id} autoComplete="off" spellcheck={false} onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          <button type="submit" class="btn" disabled={busy === 'add' || !id.trim()}>Appoint</button>
        </form>
      )}
      {error && <p class="form-error" role="alert">{error}</p>}
    </section>
  );
}

function BlockedTerms({ slug }: { slug: string }) {
  const list = useAsync(() => api.blockedTerms(slug), [slug]);
  const [term, setTerm] = useState('');
  const [action, setAction] = useState<BlockedTerm['action']>('hold');
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const add = async (e: Event) => {
    e.preventDefault();
    const t = term.trim();
    if (!t) { setError('Enter a word or phrase.'); return; }
    setBusy('add');
    setError('');
    try {
      await api.putBlockedTerm(slug, t, action);
      setTerm('');
      list.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy('');
    }
  };
  const remove = async (t: string) => {
    setBusy(t);
    setError('');
    try {
      await api.deleteBlockedTerm(slug, t);
      list.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy('');
    }
  };
  const terms = list.data?.terms ?? [];
  const server = list.data?.server_terms ?? [];
  return (
    <section class="mod-section" aria-labelledby="mod-terms-h" data-testid="mod-terms">
      <h3 id="mod-terms-h">Blocked terms</h3>
      <form class="mod-inline-form" onSubmit={add} noValidate aria-label="Add a blocked term">
        <Field id="mod-term" label="Word or phrase">
          <input id="mod-term" value={term} maxLength={100} autoComplete="off" onInput={(e) => setTerm((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="mod-term-action" label="Action">
          <select id="mod-term-action" value={action} onChange={(e) => setAction((e.currentTarget as HTMLSelectElement).value as BlockedTerm['action'])}>
            <option value="hold">Hold for review</option>
            <option value="block">Block</option>
          </select>
        </Field>
        <button type="submit" class="btn" disabled={busy === 'add' || !term.trim()}>Add term</button>
      </form>
      {error && <p class="form-error" role="alert">{error}</p>}
      {list.error && !list.data ? <ErrorState error={list.error} retry={list.reload} title="The blocked terms did not load" /> : !list.data ? <Spinner label="Loading blocked terms" /> : (
        <>
          {terms.length === 0 ? (
            <p class="muted small" data-testid="mod-terms-empty">No blocked terms. Matching ignores case; moderators' messages are never blocked or held.</p>
          ) : (
            <ul class="mod-list" aria-label="Channel blocked terms">
              {terms.map((t) => (
                <li key={t.term} class="mod-item" data-testid="blocked-term" data-term={t.term}>
                  <div class="mod-item-text"><code>{t.term}</code> <span class={`mod-tag ${t.action}`}>{t.action === 'hold' ? 'held for review' : 'blocked'}</span></div>
                  <div class="mod-item-actions">
                    <button type="button" class="btn small danger" disabled={busy === t.term} aria-label={`Remove blocked term ${t.term}`}
                      onClick={() => void remove(t.term)}>Remove</button>
                  </div>
                </li>
              ))}
            </ul>
          )}
          {server.length > 0 && (
            <div data-testid="mod-server-terms">
              <p class="muted small">Applied in every room by the server's admins (read-only):</p>
              <ul class="mod-list" aria-label="Server-wide blocked terms">
                {server.map((t) => (
                  <li key={t.term} class="mod-item readonly"><div class="mod-item-text"><code>{t.term}</code> <span class={`mod-tag ${t.action}`}>{t.action === 'hold' ? 'held for review' : 'blocked'}</span></div></li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
    </section>
  );
}

const ACTIONS: Record<string, string> = {
  delete: 'Deleted a message',
  timeout: 'Timed out',
  ban: 'Banned',
  unban: 'Unbanned',
  settings: 'Changed the chat settings',
  'held.release': 'Allowed a held message from',
  'held.reject': 'Rejected a held message from',
  'mod.add': 'Appointed moderator',
  'mod.remove': 'Removed moderator',
};

/** settingsSummary describes a settings audit detail (the settings JSON) in words. */
export function settingsSummary(detail: string): string {
  let set: Partial<RoomSettings>;
  try {
    set = JSON.parse(detail) as Partial<RoomSettings>;
  } catch {
    return detail;
  }
  const parts: string[] = [];
  parts.push(set.slow_seconds ? `slow mode ${set.slow_seconds} s` : 'slow mode off');
  if (set.followers_only_minutes !== null && set.followers_only_minutes !== undefined) parts.push(`followers only (${set.followers_only_minutes} min)`);
  if (set.subscribers_only) parts.push('subscribers only');
  if (set.emote_only) parts.push('emote only');
  if (set.anonymous_can_post) parts.push('anonymous viewers can chat');
  parts.push(`links: ${set.links || 'allow'}`);
  if (set.vips?.length) parts.push(`${set.vips.length} VIP${set.vips.length === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

function AuditLog({ slug, names, me, refresh }: { slug: string; names: Record<string, string>; me: string; refresh: number }) {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const load = async (cursor?: string) => {
    const n = ++seq.current;
    setBusy(true);
    try {
      const page = await api.audit(slug, cursor);
      if (n !== seq.current) return;
      const got = page.items ?? [];
      setEntries((cur) => (cursor ? [...(cur ?? []), ...got.filter((e) => !(cur ?? []).some((x) => x.id === e.id))] : got));
      setNext(page.next_cursor ?? '');
      setError(null);
    } catch (e) {
      if (n === seq.current) setError(e);
    } finally {
      if (n === seq.current) setBusy(false);
    }
  };
  useEffect(() => { void load(); }, [slug]); // eslint-disable-line react-hooks/exhaustive-deps
  // New moderation events: read the newest page again (debounced; a burst reads once).
  useOnChange(refresh, () => void load(), 400);
  const who = (id: string) => (id && id === me ? 'You' : names[id] ?? id);
  const target = (e: AuditEntry) => {
    if (!e.target) return '';
    if (e.action === 'delete') return `#${e.target}`;
    return names[e.target] ?? e.target;
  };
  const detail = (e: AuditEntry) => (e.action === 'settings' && e.detail ? settingsSummary(e.detail) : e.detail ?? '');
  return (
    <section class="mod-section mod-audit" aria-labelledby="mod-audit-h" data-testid="mod-audit">
      <div class="mod-section-head">
        <h3 id="mod-audit-h">Audit log</h3>
        <button type="button" class="btn small ghost" onClick={() => void load()} disabled={busy}>Refresh</button>
      </div>
      {error && !entries ? <ErrorState error={error} retry={() => void load()} title="The audit log did not load" /> : !entries ? <Spinner label="Loading the audit log" /> : entries.length === 0 ? (
        <EmptyState title="No moderator actions yet"><p class="muted">Settings changes, deletions, timeouts, bans, held messages and moderator changes are recorded here.</p></EmptyState>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table" aria-label="Moderator actions, newest first">
              <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Details</th></tr></thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id} data-testid="audit-entry" data-action={e.action}>
                    <td class="muted nowrap">{dateTime(e.created_at)}</td>
                    <td>{who(e.actor_id)}</td>
                    <td>{ACTIONS[e.action] ?? e.action}{target(e) && <> <strong>{target(e)}</strong></>}</td>
                    <td class="muted small">{detail(e)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {error && <p class="form-error" role="alert">{errorText(error)}</p>}
          {next && <button type="button" class="btn small" onClick={() => void load(next)} disabled={busy}>{busy ? <Spinner label="Loading" /> : 'Load more'}</button>}
        </>
      )}
    </section>
  );
}
