// Money on the viewer page (docs/MONEY.md): the gift tray, the tip and
// subscribe dialogs, the top-gifters board, the alerts over the video, the
// ad break overlay, and the OBS alerts overlay. Loaded on demand once the
// channel has answered, so the player's first frame never waits for it.
// Everything users wrote is rendered as text.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { ChatClient, MONEY_EVENTS, type RoomEvent } from '../lib/chat';
import {
  Action, adBreak, coins, gifts as loadGifts, giftSub, leaderboard, mergeAlert, needsCoins, postImpression, sendGift, sendTip,
  subscribe, subscription, tiers as loadTiers, unsubscribe, alertTitle, type Alert, type MoneyEvent,
} from '../lib/money';
import { dateTime } from '../lib/format';
import { useAsync, useInterval, useRoom } from '../lib/hooks';
import { useSession, useToasts } from '../lib/session';
import { useWallet, wallet } from '../lib/wallet';
import type { AdBreak, Channel, Gift, Leaderboard, Subscription, Tier } from '../lib/types';
import { GiftImage } from './Chat';
import { Modal } from './Modal';
import { Spinner, errorText } from './ui';
import * as I from './icons';
import './money.css';

export { ChatClient };

const enc = encodeURIComponent;

function buyHref(slug?: string): string {
  return slug ? `/account/wallet?next=${enc(`/c/${slug}`)}` : '/account/wallet';
}

/** retriable says whether trying the same request again may succeed (the same key then guards against a double charge). */
function retriable(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 0 || e.status >= 500 || e.code === 'rate_limited');
}

/** MoneyError shows the server's reason, with a way to buy coins or to try the same action again. */
export function MoneyError({ error, slug, retry, testid = 'money-error' }: { error: unknown; slug?: string; retry?: () => void; testid?: string }) {
  const code = error instanceof ApiError ? error.code : 'error';
  return (
    <div class="form-error money-error" role="alert" data-testid={testid} data-code={code}>
      <span>{errorText(error)}</span>
      {needsCoins(error) && <a class="btn small primary" href={buyHref(slug)} data-testid="buy-coins-link">Buy coins</a>}
      {retry && retriable(error) && <button type="button" class="btn small" onClick={retry}><I.Refresh size={14} /> Try again</button>}
    </div>
  );
}

// Subscriptions: one answer per channel, shared by the subscribe button and the ad overlay.

interface SubState { sub?: Subscription; loading: boolean; error?: unknown }

class SubStore {
  state: SubState = { loading: true };
  private ls = new Set<(s: SubState) => void>();
  private user: string | null | undefined = undefined;
  constructor(readonly slug: string) {}
  set(s: SubState) { this.state = s; this.ls.forEach((l) => l(s)); }
  listen(l: (s: SubState) => void) { this.ls.add(l); return () => { this.ls.delete(l); }; }
  load(user: string | null | undefined, force = false) {
    if (user === undefined) return;
    if (!force && user === this.user) return;
    this.user = user;
    if (user === null) { this.set({ sub: { subscribed: false, tier: 0, status: 'none', renews: false }, loading: false }); return; }
    this.set({ ...this.state, loading: true });
    subscription(this.slug).then(
      (sub) => this.user === user && this.set({ sub, loading: false }),
      (error) => this.user === user && this.set({ loading: false, error, sub: { subscribed: false, tier: 0, status: 'none', renews: false } }),
    );
  }
}
const subStores = new Map<string, SubStore>();

export function isSubscribed(s?: Subscription): boolean {
  return !!s && (s.subscribed || s.status === 'active');
}

/** useSubscription follows the signed-in viewer's subscription to a channel; known is false until it is. */
export function useSubscription(slug: string) {
  const { user } = useSession();
  const store = useMemo(() => {
    let s = subStores.get(slug);
    if (!s) { s = new SubStore(slug); subStores.set(slug, s); }
    return s;
  }, [slug]);
  const [state, setState] = useState(store.state);
  useEffect(() => store.listen(setState), [store]);
  useEffect(() => { store.load(user === undefined ? undefined : user?.id ?? null); setState(store.state); }, [store, user?.id, user === undefined]); // eslint-disable-line react-hooks/exhaustive-deps
  return {
    ...state,
    known: user !== undefined && !state.loading,
    subscribed: isSubscribed(state.sub),
    set: (sub: Subscription) => store.set({ sub, loading: false }),
  };
}

// The buttons beside Follow.

/**
 * MoneyActions are Gift, Tip and Subscribe beside the Follow button; the
 * page shows the gift tray (GiftTray) below the channel row while tray is on.
 */
export function MoneyActions({ ch, tray, setTray }: { ch: Channel; tray: boolean; setTray: (on: boolean) => void }) {
  const { user } = useSession();
  const [open, setOpen] = useState<'' | 'tip' | 'sub'>('');
  if (user === undefined) return null;
  if (ch.owner && user && ch.owner.id === user.id) return null; // no gifts, tips or subs to your own channel
  if (user === null) {
    const next = `/signin?next=${enc(`/c/${ch.slug}`)}`;
    return (
      <div class="money-actions" role="group" aria-label={`Support ${ch.display_name}`}>
        <a class="btn" href={next}><I.Gift size={16} /> Gift</a>
        <a class="btn" href={next}><I.Coin size={16} /> Tip</a>
        <a class="btn" href={next}><I.Star size={16} /> Subscribe</a>
      </div>
    );
  }
  return (
    <>
      <div class="money-actions" role="group" aria-label={`Support ${ch.display_name}`}>
        <button type="button" class={tray ? 'btn on' : 'btn'} aria-expanded={tray} aria-controls="gift-tray" data-testid="gift-open" onClick={() => setTray(!tray)}>
          <I.Gift size={16} /> Gift
        </button>
        <button type="button" class="btn" aria-haspopup="dialog" data-testid="tip-open" onClick={() => setOpen('tip')}><I.Coin size={16} /> Tip</button>
        <SubscribeButton slug={ch.slug} onOpen={() => setOpen('sub')} />
      </div>
      {open === 'tip' && <TipDialog ch={ch} onClose={() => setOpen('')} />}
      {open === 'sub' && <SubscribeDialog ch={ch} onClose={() => setOpen('')} />}
    </>
  );
}

function SubscribeButton({ slug, onOpen }: { slug: string; onOpen: () => void }) {
  const s = useSubscription(slug);
  const on = s.subscribed;
  return (
    <button type="button" class={on ? 'btn following' : 'btn primary'} aria-haspopup="dialog" data-testid="subscribe-open"
      data-subscribed={s.known ? String(on) : undefined} onClick={onOpen}>
      <I.Star size={16} /> {on ? `Subscribed · Tier ${s.sub?.tier ?? 1}` : 'Subscribe'}
    </button>
  );
}

const COUNTS = [1, 5, 10, 50, 100];

interface Failed { gift: Gift; count: number; action: Action; error: unknown }

export function GiftTray({ slug, onClose }: { slug: string; onClose: () => void }) {
  const list = useAsync(loadGifts, []);
  const [count, setCount] = useState(1);
  const [status, setStatus] = useState('');
  const [failed, setFailed] = useState<Failed | null>(null);
  const [sending, setSending] = useState(0);
  const { user } = useSession();
  const w = useWallet(user?.id);
  // Each click is its own action (combos are many quick clicks); a retry of a failed click reuses its key.
  const send = async (gift: Gift, n: number, action = new Action()) => {
    setFailed(null);
    setSending((x) => x + 1);
    try {
      const r = await sendGift(action, slug, gift.id, n);
      wallet.setBalance(r.balance);
      setStatus(`Sent ${gift.name}${n > 1 ? ` ×${n}` : ''}${r.combo_count > 1 ? ` · combo ×${r.combo_count}` : ''} · ${coins(r.coins)}`);
    } catch (error) {
      setStatus('');
      setFailed({ gift, count: n, action, error });
    } finally {
      setSending((x) => x - 1);
    }
  };
  const gifts = (list.data ?? []).filter((g) => g.active !== false);
  return (
    <section class="gift-tray" id="gift-tray" aria-labelledby="gift-tray-h" data-testid="gift-tray"
      onKeyDown={(e) => { if (e.key === 'Escape') { e.stopPropagation(); onClose(); } }}>
      <header class="gift-tray-head">
        <h2 id="gift-tray-h">Send a gift</h2>
        <span class="muted small" data-testid="gift-balance">{w ? <>Balance {coins(w.balance)} · <a href={buyHref(slug)}>Buy coins</a></> : ''}</span>
        <span class="spacer" />
        <label for="gift-count" class="small">Quantity</label>
        <select id="gift-count" value={count} onChange={(e) => setCount(Number((e.currentTarget as HTMLSelectElement).value))}>
          {COUNTS.map((c) => <option key={c} value={c}>×{c}</option>)}
        </select>
        <button type="button" class="icon-btn small" aria-label="Close gifts" onClick={onClose}><I.Close size={16} /></button>
      </header>
      {list.error && !list.data ? <MoneyError error={list.error} retry={list.reload} testid="gifts-error" />
        : !list.data ? <Spinner label="Loading gifts" />
        : gifts.length === 0 ? <p class="muted" role="status">This server has no gifts yet.</p>
        : (
          <ul class="gift-grid" aria-label="Gifts">
            {gifts.map((g) => (
              <li key={g.id}>
                <button type="button" class={`gift-choice tier-${g.tier}`} data-testid="gift-choice" data-gift={g.id}
                  aria-label={`Send ${g.name}${count > 1 ? ` ×${count}` : ''} for ${coins(g.price * count)}`} onClick={() => void send(g, count)}>
                  <GiftImage image={g.image} size={36} />
                  <span class="gift-name">{g.name}</span>
                  <span class="gift-price">{coins(g.price)}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      <p class="small gift-status" role="status" data-testid="gift-status">{sending > 0 ? 'Sending…' : status}</p>
      {failed && <MoneyError error={failed.error} slug={slug} retry={() => void send(failed.gift, failed.count, failed.action)} testid="gift-error" />}
    </section>
  );
}

const TIP_PICKS = [100, 500, 1000, 5000];

function TipDialog({ ch, onClose }: { ch: Channel; onClose: () => void }) {
  const { user } = useSession();
  const { push } = useToasts();
  const w = useWallet(user?.id);
  const action = useRef(new Action()).current;
  const [amount, setAmount] = useState('100');
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const n = Number(amount);
  const valid = Number.isInteger(n) && n > 0;
  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (!valid || busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = await sendTip(action, ch.slug, n, message.trim());
      wallet.setBalance(r.balance);
      push({ kind: 'success', title: `You tipped ${ch.display_name} ${coins(r.coins)}`, body: `Balance: ${coins(r.balance)}` });
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal id="tip-dialog" title={`Tip ${ch.display_name}`} onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <p class="muted small">{w ? <>Your balance: <strong data-testid="tip-balance">{coins(w.balance)}</strong> · <a href={buyHref(ch.slug)}>Buy coins</a></> : 'Tips are paid in coins.'}</p>
        <div class="field">
          <label for="tip-amount">Amount (coins)</label>
          <input id="tip-amount" type="number" inputMode="numeric" min={1} step={1} value={amount} aria-invalid={!valid}
            onInput={(e) => setAmount((e.currentTarget as HTMLInputElement).value)} />
          <div class="chip-row" role="group" aria-label="Quick amounts">
            {TIP_PICKS.map((p) => <button key={p} type="button" class="chip" aria-pressed={n === p} onClick={() => setAmount(String(p))}>{p}</button>)}
          </div>
        </div>
        <div class="field">
          <label for="tip-message">Message (optional)</label>
          <textarea id="tip-message" rows={3} maxLength={300} value={message} aria-describedby="tip-message-hint"
            onInput={(e) => setMessage((e.currentTarget as HTMLTextAreaElement).value)} />
          <p class="hint" id="tip-message-hint">Shown in chat with your tip. The chat's rules apply.</p>
        </div>
        {error !== null && <MoneyError error={error} slug={ch.slug} retry={() => void submit()} testid="tip-error" />}
        <div class="form-actions">
          <button type="button" class="btn ghost" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn primary" disabled={!valid || busy} data-testid="tip-send">
            {busy ? <Spinner label="Sending" /> : valid ? `Tip ${coins(n)}` : 'Tip'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function SubscribeDialog({ ch, onClose }: { ch: Channel; onClose: () => void }) {
  const { user } = useSession();
  const { push } = useToasts();
  const w = useWallet(user?.id);
  const s = useSubscription(ch.slug);
  const list = useAsync(() => loadTiers(ch.slug), [ch.slug]);
  const tiers: Tier[] = (list.data ?? []).slice().sort((a, b) => a.tier - b.tier);
  const [tier, setTier] = useState(1);
  const act = useRef(new Action()).current;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const sub = s.sub;
  const on = s.subscribed;
  const chosen = tiers.find((t) => t.tier === tier) ?? tiers[0];
  const run = async (fn: () => Promise<Subscription>, done: string) => {
    setBusy(true);
    setError(null);
    try {
      const next = await fn();
      s.set(next);
      if (typeof next.balance === 'number') wallet.setBalance(next.balance);
      else void wallet.refresh();
      push({ kind: 'success', title: done });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const start = () => chosen && void run(() => subscribe(act, ch.slug, chosen.tier), `You subscribed to ${ch.display_name}`);
  const resume = () => sub && void run(() => subscribe(act, ch.slug, sub.tier || 1), 'Your subscription renews again');
  const cancel = () => void run(() => unsubscribe(act, ch.slug), 'Renewal cancelled');
  const giftedBy = typeof sub?.gifted_by === 'string' ? sub.gifted_by : sub?.gifted_by?.name ?? (sub?.gifted ? 'another viewer' : undefined);
  return (
    <Modal id="sub-dialog" title={`Subscribe to ${ch.display_name}`} onClose={onClose} wide>
      <p class="muted small">{w && <>Your balance: <strong>{coins(w.balance)}</strong> · <a href={buyHref(ch.slug)}>Buy coins</a> · </>}Subscribers get a badge in chat, subscriber-only chat and emotes, and no ads.</p>
      {!s.known ? <Spinner label="Loading your subscription" /> : on && sub ? (
        <div class="sub-status" data-testid="sub-status" data-tier={sub.tier} data-renews={String(sub.renews)}>
          <p><strong>You are subscribed at Tier {sub.tier}.</strong>{giftedBy && <> Gifted by {giftedBy}.</>}</p>
          <p class="muted">{sub.renews ? `Renews on ${dateTime(sub.period_end)}.` : `Renewal is off: your subscription ends on ${dateTime(sub.period_end)}.`}</p>
          <div class="form-actions">
            {sub.renews
              ? <button type="button" class="btn danger" disabled={busy} onClick={cancel} data-testid="sub-cancel">Cancel renewal</button>
              : !giftedBy && <button type="button" class="btn primary" disabled={busy} onClick={resume} data-testid="sub-resume">Resume renewal</button>}
          </div>
        </div>
      ) : (
        <fieldset class="tier-choice" disabled={busy}>
          <legend>Choose a tier (coins per month)</legend>
          {list.error ? <MoneyError error={list.error} retry={list.reload} /> : !list.data ? <Spinner label="Loading tiers" /> : tiers.map((t) => (
            <label key={t.tier} class={`tier-option${chosen?.tier === t.tier ? ' on' : ''}`}>
              <input type="radio" name="sub-tier" value={t.tier} checked={chosen?.tier === t.tier} onChange={() => setTier(t.tier)} />
              <span class="tier-name">Tier {t.tier}</span>
              <span class="tier-price">{coins(t.price)} / month</span>
            </label>
          ))}
          <div class="form-actions">
            <button type="button" class="btn primary" disabled={busy || !chosen} onClick={start} data-testid="sub-confirm">
              {busy ? <Spinner label="Subscribing" /> : chosen ? `Subscribe for ${coins(chosen.price)}` : 'Subscribe'}
            </button>
          </div>
        </fieldset>
      )}
      {error !== null && <MoneyError error={error} slug={ch.slug} testid="sub-error" />}
      <GiftSubForm ch={ch} tiers={tiers} />
    </Modal>
  );
}

function GiftSubForm({ ch, tiers }: { ch: Channel; tiers: Tier[] }) {
  const { push } = useToasts();
  const act = useRef(new Action()).current;
  const [recipient, setRecipient] = useState('');
  const [tier, setTier] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const chosen = tiers.find((t) => t.tier === tier) ?? tiers[0];
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!recipient.trim() || !chosen) return;
    setBusy(true);
    setError(null);
    try {
      const r = await giftSub(act, ch.slug, recipient.trim(), chosen.tier);
      if (typeof r.balance === 'number') wallet.setBalance(r.balance);
      else void wallet.refresh();
      push({ kind: 'success', title: `You gifted ${recipient.trim()} a Tier ${chosen.tier} sub` });
      setRecipient('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form gift-sub" onSubmit={submit} noValidate aria-labelledby="gift-sub-h" data-testid="gift-sub-form">
      <h3 id="gift-sub-h">Gift a sub</h3>
      <p class="muted small">One month for another viewer, paid from your coins; it does not renew.</p>
      <div class="row2">
        <div class="field">
          <label for="gift-sub-to">Viewer (display name or user id)</label>
          <input id="gift-sub-to" value={recipient} maxLength={64} autoComplete="off" onInput={(e) => setRecipient((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="gift-sub-tier">Tier</label>
          <select id="gift-sub-tier" value={chosen?.tier ?? 1} onChange={(e) => setTier(Number((e.currentTarget as HTMLSelectElement).value))}>
            {tiers.map((t) => <option key={t.tier} value={t.tier}>Tier {t.tier} · {coins(t.price)}</option>)}
          </select>
        </div>
      </div>
      {error !== null && <MoneyError error={error} slug={ch.slug} testid="gift-sub-error" />}
      <div class="form-actions"><button type="submit" class="btn" disabled={busy || !recipient.trim() || !chosen}>{busy ? <Spinner label="Gifting" /> : 'Gift a sub'}</button></div>
    </form>
  );
}

// Top gifters.

export function LeaderboardPanel({ slug, client }: { slug: string; client: ChatClient }) {
  const [period, setPeriod] = useState<Leaderboard['period']>('broadcast');
  const board = useAsync(() => leaderboard(slug, period), [slug, period]);
  const reload = useRef(board.reload);
  reload.current = board.reload;
  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined;
    const off = client.onMoney((ev) => {
      if (ev.type !== 'gift' && ev.type !== 'tip') return;
      clearTimeout(t);
      t = setTimeout(() => reload.current(), 800);
    });
    return () => { off(); clearTimeout(t); };
  }, [client]);
  useInterval(() => board.reload(), 30_000);
  const rows = board.data?.items ?? [];
  const tab = (p: Leaderboard['period'], label: string) => (
    <button type="button" role="tab" aria-selected={period === p} class="chat-tab" data-testid={`board-${p}`} onClick={() => setPeriod(p)}>{label}</button>
  );
  return (
    <section class="about leaderboard" aria-labelledby="board-h" data-testid="leaderboard">
      <div class="board-head">
        <h2 id="board-h">Top gifters</h2>
        <div role="tablist" aria-label="Period" class="chat-tabs">{tab('broadcast', 'This broadcast')}{tab('week', 'This week')}</div>
      </div>
      {board.error && !board.data ? <MoneyError error={board.error} retry={board.reload} testid="board-error" />
        : !board.data ? <Spinner label="Loading the leaderboard" />
        : rows.length === 0 ? <p class="muted" role="status">No gifts yet {period === 'week' ? 'this week' : 'this broadcast'}. Be the first!</p>
        : (
          <ol class="board-list">
            {rows.map((r, i) => (
              <li key={r.user.id} data-testid="board-row" data-user={r.user.name}>
                <span class={`board-rank rank-${i + 1}`}>{i + 1}</span>
                <span class="board-name">{r.user.name}</span>
                <span class="board-coins">{coins(r.coins)}</span>
                <span class="muted small">{r.gifts} {r.gifts === 1 ? 'gift' : 'gifts'}</span>
              </li>
            ))}
          </ol>
        )}
    </section>
  );
}

// Alerts over the video (and in OBS).

function toMoneyEvent(ev: RoomEvent): MoneyEvent | null {
  if (!MONEY_EVENTS.includes(ev.type)) return null;
  const user = (ev.user as MoneyEvent['user'] | undefined) ?? { id: '', name: 'Someone' };
  return { type: ev.type as MoneyEvent['type'], seq: Number(ev.seq ?? 0), user, text: typeof ev.text === 'string' ? ev.text : undefined, money: (ev.money ?? { coins: 0 }) as MoneyEvent['money'] };
}

/** useAlerts collects a room's live gifts, tips and subs into alerts, folding combos. */
export function useAlerts(client: ChatClient): Alert[] {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  useEffect(() => client.onMoney((ev) => {
    const m = toMoneyEvent(ev);
    if (m) setAlerts((list) => mergeAlert(list, m, Date.now()));
  }), [client]);
  useEffect(() => {
    if (alerts.length === 0) return;
    const wait = Math.max(50, Math.min(...alerts.map((a) => a.until)) - Date.now());
    const t = setTimeout(() => setAlerts((list) => list.filter((a) => a.until > Date.now())), wait);
    return () => clearTimeout(t);
  }, [alerts]);
  return alerts;
}

export function AlertCard({ a }: { a: Alert }) {
  return (
    <div class={`alert alert-${a.kind} tier-${a.tier}`} data-testid="alert" data-kind={a.kind} data-count={a.count}
      data-combo={a.money.combo_id || undefined}>
      <span class="alert-icon" aria-hidden="true">
        {a.kind === 'gift' ? <GiftImage image={a.money.gift?.image} size={a.tier * 12 + 28} /> : a.kind === 'tip' ? <I.Coin size={a.tier * 6 + 24} /> : <I.Star size={a.tier * 6 + 24} />}
      </span>
      <span class="alert-text">
        {/* The count has its own badge, which pops on every combo update. */}
        <strong class="alert-title">{alertTitle({ ...a, count: a.kind === 'gift' ? 1 : a.count })}</strong>
        {a.kind === 'tip' && a.text && <span class="alert-msg">{a.text}</span>}
        {a.kind === 'gift' && <span class="alert-coins">{coins(a.coins)}</span>}
      </span>
      {a.kind === 'gift' && a.count > 1 && <span key={a.bumps} class="alert-count" data-testid="alert-count">×{a.count}</span>}
    </div>
  );
}

export function AlertLayer({ client, overlay }: { client: ChatClient; overlay?: boolean }) {
  const alerts = useAlerts(client);
  return (
    <div class={overlay ? 'alert-layer overlay' : 'alert-layer'} aria-live="polite" data-testid="alert-layer">
      {alerts.map((a) => <AlertCard key={a.id} a={a} />)}
    </div>
  );
}

// Ad breaks.

const impressed = new Set<string>();

/** useAdBreak follows the channel's running ad break: the public state on load, then ad.break and ad.end events. */
function useAdBreak(slug: string, client: ChatClient): { brk: AdBreak | null; endAt: number } {
  const [cur, setCur] = useState<{ brk: AdBreak | null; endAt: number }>({ brk: null, endAt: 0 });
  useEffect(() => {
    const show = (b: AdBreak) => {
      const now = Date.now();
      // Trust the server's end, but never longer than the break itself (a slow client clock).
      const left = Math.min(Date.parse(b.ends_at) - now, (b.duration || 180) * 1000);
      if (!(left > 0)) return;
      setCur({ brk: b, endAt: now + left });
    };
    let live = true;
    adBreak(slug).then((r) => { if (live && r.active && r.break) show(r.break); }, () => undefined);
    const off = client.onMoney((ev) => {
      if (ev.type === 'ad.break' && ev.ad) show(ev.ad as AdBreak);
      if (ev.type === 'ad.end') {
        const id = (ev.ad as { id?: string } | undefined)?.id;
        setCur((c) => (!id || c.brk?.id === id ? { brk: null, endAt: 0 } : c));
      }
    });
    return () => { live = false; off(); };
  }, [slug, client]);
  useEffect(() => {
    if (!cur.brk) return;
    const t = setTimeout(() => setCur({ brk: null, endAt: 0 }), Math.max(0, cur.endAt - Date.now()));
    return () => clearTimeout(t);
  }, [cur]);
  return cur;
}

function useTicker(on: boolean, ms = 250): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [on, ms]);
  return now;
}

/**
 * AdOverlay shows an ad break's creative over the player to viewers who do
 * not subscribe, with a countdown, and records their one impression with
 * the player's viewer id (the heartbeat's) once the creative has loaded
 * (an image) or plays (a video): an ad that never appeared was not seen.
 * Subscribers keep watching.
 */
export function AdOverlay({ slug, client, viewerId }: { slug: string; client: ChatClient; viewerId: string }) {
  const { brk, endAt } = useAdBreak(slug, client);
  const sub = useSubscription(slug);
  const now = useTicker(!!brk);
  const [seen, setSeen] = useState('');
  const showing = !!brk && sub.known && !sub.subscribed && seen === brk.id;
  useEffect(() => {
    if (!showing || !brk || impressed.has(brk.id)) return;
    impressed.add(brk.id);
    let tries = 0;
    let t: ReturnType<typeof setTimeout> | undefined;
    const post = () => postImpression(brk.id, viewerId).catch((e) => {
      // The same key on every try: the server counts this viewer once.
      if (retriable(e) && ++tries < 4) t = setTimeout(post, 1000 * 2 ** tries);
    });
    void post();
    return () => clearTimeout(t);
  }, [showing, brk?.id, viewerId]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!brk) return null;
  const left = Math.max(0, Math.ceil((endAt - now) / 1000));
  if (!sub.known) return null;
  if (sub.subscribed) {
    return <div class="ad-free pill-dark" role="status" data-testid="ad-free">Ad break · no ads for subscribers</div>;
  }
  const c = brk.creative;
  const id = brk.id;
  const onSeen = () => setSeen(id);
  return (
    <div class="ad-overlay" role="region" aria-label="Advertisement" data-testid="ad-overlay" data-break={brk.id}>
      <div class="ad-creative">
        {c?.kind === 'video' ? (
          <video src={c.url} autoplay muted playsInline loop aria-label={`Advertisement: ${c.name}`} data-testid="ad-video" onPlaying={onSeen} />
        ) : c?.url ? (
          <img src={c.url} alt={`Advertisement: ${c.name}`} data-testid="ad-image" onLoad={onSeen}
            ref={(el) => { if (el?.complete && el.naturalWidth > 0 && seen !== id) onSeen(); }} />
        ) : (
          <p class="ad-none">Ad break</p>
        )}
      </div>
      <div class="ad-bar">
        <span class="ad-label">Ad</span>
        {c?.name && <span class="ad-name">{c.name}</span>}
        <span class="spacer" />
        <span class="muted small">Subscribers watch without ads</span>
        <span class="ad-countdown" data-testid="ad-countdown" aria-live="off">Stream resumes in {left} s</span>
      </div>
    </div>
  );
}

// OBS browser source: /overlay/<slug>/alerts

/** OverlayAlerts is an OBS browser source: the animated alerts on a transparent page. */
export function OverlayAlerts({ slug }: { slug: string }) {
  useLayoutEffect(() => {
    document.documentElement.classList.add('overlay-mode');
    return () => document.documentElement.classList.remove('overlay-mode');
  }, []);
  const client = useMemo(() => new ChatClient(slug, { emotes: false }), [slug]);
  useEffect(() => () => client.close(), [client]);
  const { conn } = useRoom(client);
  useEffect(() => { document.title = `Alerts · ${slug} · Livehouse`; }, [slug]);
  return (
    <div class="overlay-alerts" data-testid="overlay-alerts" data-conn={conn}>
      <AlertLayer client={client} overlay />
    </div>
  );
}
