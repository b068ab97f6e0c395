// The creator dashboard's money panels: earnings (totals, a chart per day,
// CSV export, payouts), the live alerts feed, subscription tier prices, and
// ad breaks (start one, the schedule, the history).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient, MoneyItem } from '../lib/chat';
import { dateTime } from '../lib/format';
import { useAsync, useInterval, useRoom } from '../lib/hooks';
import {
  Action, adBreak, adBreaks, adSchedule, coins, earnings, earningsCSV, moneyText, num, payouts, requestPayout, saveAdSchedule, saveTiers,
  startAdBreak, tiers as loadTiers,
} from '../lib/money';
import { useToasts } from '../lib/session';
import type { AdBreak, AdSchedule, EarningsDay, Payout, Tier } from '../lib/types';
import { CopyField, ErrorState, Field, Spinner, errorText } from '../components/ui';
import { BarChart, SOURCE_COLORS, type Series } from '../components/BarChart';
import * as I from '../components/icons';
import './money-pages.css';

/** useMoneyEvents calls fn (debounced) when the room reports a gift, tip or sub. */
function useMoneyEvents(client: ChatClient, fn: () => void, types = ['gift', 'tip', 'sub'], wait = 1500) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined;
    const off = client.onMoney((ev) => {
      if (!types.includes(ev.type)) return;
      clearTimeout(t);
      t = setTimeout(() => ref.current(), wait);
    });
    return () => { off(); clearTimeout(t); };
  }, [client]); // eslint-disable-line react-hooks/exhaustive-deps
}

const SOURCES: Array<[keyof Omit<EarningsDay, 'date'>, string]> = [['gift', 'Gifts'], ['tip', 'Tips'], ['subscription', 'Subscriptions'], ['ad', 'Ads']];

function Stat({ label, value, testid, tone }: { label: string; value: string; testid?: string; tone?: string }) {
  return (
    <div class={`metric${tone ? ` ${tone}` : ''}`} data-testid={testid}>
      <span class="metric-label">{label}</span>
      <span class="metric-value">{value}</span>
    </div>
  );
}

export function Earnings({ slug, client }: { slug: string; client: ChatClient }) {
  const [days, setDays] = useState(30);
  const res = useAsync(() => earnings(slug, days), [slug, days]);
  const history = useAsync(() => payouts(slug), [slug]);
  useMoneyEvents(client, () => res.reload());
  const e = res.data;
  const series: Series[] = SOURCES.map(([k, label]) => ({ key: k, label, color: SOURCE_COLORS[k] }));
  const total = e ? e.totals.gift + e.totals.tip + e.totals.subscription + e.totals.ad : 0;
  return (
    <section class="panel" aria-labelledby="earn-h" data-testid="dash-earnings">
      <div class="panel-head">
        <h2 id="earn-h">Earnings</h2>
        <span class="spacer" />
        <label class="sr-only" for="earn-days">Period</label>
        <select id="earn-days" class="compact-select" value={days} onChange={(ev) => setDays(Number((ev.currentTarget as HTMLSelectElement).value))}>
          <option value={7}>Last 7 days</option><option value={30}>Last 30 days</option><option value={90}>Last 90 days</option>
        </select>
        <a class="btn small" href={earningsCSV(slug, days)} download={`earnings-${slug}.csv`} data-testid="earnings-csv"><I.Copy size={14} /> Export CSV</a>
      </div>
      {res.error && !e ? <ErrorState error={res.error} retry={res.reload} title="Earnings did not load" /> : !e ? <Spinner label="Loading earnings" /> : (
        <>
          <div class="metrics">
            <Stat label="Available for payout" value={coins(e.balance)} testid="earnings-balance" />
            <Stat label="Payout requested" value={coins(e.pending)} tone={e.pending ? 'warn' : undefined} />
            <Stat label="Approved, to be paid" value={coins(e.approved)} />
            <Stat label="Paid out" value={coins(e.paid)} />
          </div>
          <div class="metrics" data-testid="earnings-totals" data-total={total}>
            {SOURCES.map(([k, label]) => (
              <div key={k} class="metric source" data-testid={`earnings-${k}`} data-coins={e.totals[k]}>
                <span class="metric-label"><span class="swatch" data-source={k} aria-hidden="true" /> {label}</span>
                <span class="metric-value">{coins(e.totals[k])}</span>
              </div>
            ))}
          </div>
          {e.days.length === 0 || total === 0 ? (
            <p class="muted" data-testid="earnings-empty">No earnings in this period yet. Gifts, tips, subscriptions and ads you earn show up here.</p>
          ) : (
            <BarChart title={`Earnings per day, last ${days} days, in coins`} days={e.days} series={series} />
          )}
          <PayoutForm slug={slug} balance={e.balance} onDone={() => { res.reload(); history.reload(); }} />
        </>
      )}
      <h3>Payout history</h3>
      {history.error && !history.data ? <ErrorState error={history.error} retry={history.reload} title="Payouts did not load" /> : !history.data ? <Spinner /> : history.data.length === 0 ? (
        <p class="muted">No payouts yet.</p>
      ) : <PayoutTable rows={history.data} />}
    </section>
  );
}

export function PayoutTable({ rows, actions }: { rows: Payout[]; actions?: (p: Payout) => ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="table">
        <thead><tr><th scope="col">Requested</th>{actions && <th scope="col">Channel</th>}<th scope="col" class="num">Coins</th><th scope="col">Status</th><th scope="col">Updated</th>{actions && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.id} data-testid="payout-row" data-status={p.status}>
              <td class="muted">{dateTime(p.created_at)}</td>
              {actions && <td>{typeof p.channel === 'string' ? p.channel : p.channel?.display_name ?? p.channel?.name ?? p.channel?.slug ?? '—'}</td>}
              <td class="num">{num(p.amount)}</td>
              <td><span class={`status status-${p.status}`}>{p.status}</span></td>
              <td class="muted">{dateTime(p.updated_at)}</td>
              {actions && <td class="actions">{actions(p)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PayoutForm({ slug, balance, onDone }: { slug: string; balance: number; onDone: () => void }) {
  const { push } = useToasts();
  const [amount, setAmount] = useState(String(balance || ''));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const act = useRef(new Action()).current;
  useEffect(() => { setAmount(String(balance || '')); }, [balance]);
  const n = Number(amount);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!Number.isInteger(n) || n <= 0) { setError('Enter a whole number of coins.'); return; }
    setBusy(true);
    setError('');
    try {
      await requestPayout(act, slug, n);
      push({ kind: 'success', title: `Payout of ${coins(n)} requested`, body: 'An admin reviews it before it is paid.' });
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate aria-label="Request a payout" data-testid="payout-form">
      <Field id="payout-amount" label="Request a payout (coins)" error={error || undefined}>
        <input id="payout-amount" type="number" min={1} step={1} value={amount} onInput={(e) => setAmount((e.currentTarget as HTMLInputElement).value)}
          aria-describedby={error ? 'payout-amount-error' : undefined} />
      </Field>
      <button type="submit" class="btn" disabled={busy || balance <= 0}>{busy ? <Spinner /> : 'Request payout'}</button>
    </form>
  );
}

/** LiveAlerts lists the gifts, tips and subs of the channel's room, newest first. */
export function LiveAlerts({ slug, client }: { slug: string; client: ChatClient }) {
  const s = useRoom(client);
  const items = s.messages.filter((m): m is MoneyItem => m.kind === 'money').slice(-50).reverse();
  return (
    <section class="panel" aria-labelledby="alerts-h" data-testid="dash-alerts">
      <h2 id="alerts-h">Live alerts</h2>
      {!s.welcomed ? <p class="muted small" role="status">Connecting to your chat…</p> : items.length === 0 ? (
        <p class="muted" data-testid="dash-alerts-empty">Gifts, tips and subscriptions show up here as they happen.</p>
      ) : (
        <ol class="alert-feed" aria-live="polite">
          {items.map((m) => (
            <li key={m.seq} class={`feed-item feed-${m.type}`} data-testid="dash-alert" data-type={m.type} data-count={m.count}>
              <span class="feed-what">{moneyText(m.type, m.user, m.money, m.count)}</span>
              <span class="feed-coins">{coins(m.coins)}</span>
              {m.type === 'tip' && m.text && <span class="feed-msg">“{m.text}”</span>}
              <span class="muted small">{m.at ? new Date(m.at).toLocaleTimeString() : ''}</span>
            </li>
          ))}
        </ol>
      )}
      <CopyField id="alerts-overlay-url" label="OBS alerts overlay (browser source)" value={`${location.origin}/overlay/${encodeURIComponent(slug)}/alerts`} />
    </section>
  );
}

export function TierPrices({ slug }: { slug: string }) {
  const { push } = useToasts();
  const res = useAsync(() => loadTiers(slug), [slug]);
  const [draft, setDraft] = useState<Tier[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => { if (res.data) setDraft(res.data.slice().sort((a, b) => a.tier - b.tier)); }, [res.data]);
  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft) return;
    if (draft.some((t) => !Number.isInteger(t.price) || t.price <= 0)) { setError('Each price is a whole number of coins above zero.'); return; }
    setBusy(true);
    setError('');
    try {
      const saved = await saveTiers(slug, draft);
      if (saved.length) setDraft(saved.slice().sort((a, b) => a.tier - b.tier));
      push({ kind: 'success', title: 'Tier prices saved', body: 'New subscriptions and renewals use them.' });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="tiers-h" data-testid="dash-tiers">
      <h2 id="tiers-h">Subscription tiers</h2>
      <p class="muted">Monthly prices in coins. Subscribers get a badge, subscriber-only chat and emotes, and no ads.</p>
      {res.error && !draft ? <ErrorState error={res.error} retry={res.reload} title="Tiers did not load" /> : !draft ? <Spinner /> : (
        <form class="form" onSubmit={save} noValidate>
          <div class="tier-grid">
            {draft.map((t, i) => (
              <Field key={t.tier} id={`tier-price-${t.tier}`} label={`Tier ${t.tier} (coins / month)`}>
                <input id={`tier-price-${t.tier}`} type="number" min={1} step={1} value={t.price}
                  onInput={(e) => setDraft(draft.map((x, j) => (j === i ? { ...x, price: Number((e.currentTarget as HTMLInputElement).value) } : x)))} />
              </Field>
            ))}
          </div>
          {error && <p class="form-error" role="alert">{error}</p>}
          <div class="form-actions"><button type="submit" class="btn primary" disabled={busy}>{busy ? <Spinner label="Saving" /> : 'Save prices'}</button></div>
        </form>
      )}
    </section>
  );
}

export function AdBreaks({ slug, live, client }: { slug: string; live: boolean; client: ChatClient }) {
  const { push } = useToasts();
  const current = useAsync(() => adBreak(slug), [slug, live]);
  const history = useAsync(() => adBreaks(slug), [slug]);
  const [running, setRunning] = useState<AdBreak | null>(null);
  const [duration, setDuration] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const act = useRef(new Action()).current;
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const d = current.data; setRunning(d?.active && d.break ? d.break : null); }, [current.data]);
  useEffect(() => client.onMoney((ev) => {
    if (ev.type === 'ad.break' && ev.ad) setRunning(ev.ad as AdBreak);
    if (ev.type === 'ad.end') { setRunning(null); setTimeout(() => history.reload(), 1500); }
  }), [client]); // eslint-disable-line react-hooks/exhaustive-deps
  useInterval(() => {
    setNow(Date.now());
    if (running && Date.parse(running.ends_at) < Date.now() - 3000) { setRunning(null); history.reload(); }
  }, running ? 1000 : null);
  const start = async (e: Event) => {
    e.preventDefault();
    if (duration < 30 || duration > 180) { setError('An ad break lasts 30 to 180 seconds.'); return; }
    setBusy(true);
    setError('');
    try {
      const b = await startAdBreak(act, slug, duration);
      setRunning(b);
      history.reload();
      push({ kind: 'success', title: `Ad break started: ${duration} s`, body: 'Subscribers keep watching without ads.' });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const left = running ? Math.max(0, Math.ceil((Date.parse(running.ends_at) - now) / 1000)) : 0;
  return (
    <section class="panel" aria-labelledby="ads-h" data-testid="dash-ads">
      <h2 id="ads-h">Ad breaks</h2>
      <p class="muted">During a break, viewers who do not subscribe see an ad over your stream; you earn a share of every impression.</p>
      {running ? (
        <p class="notice" role="status" data-testid="ad-running" data-break={running.id}>
          <strong>Ad break running</strong> · {left} s left{running.creative?.name && <> · {running.creative.name}</>}
        </p>
      ) : null}
      <form class="inline-form" onSubmit={start} noValidate aria-label="Start an ad break">
        <Field id="ad-duration" label="Break length (seconds)" hint="30 to 180 s" error={error || undefined}>
          <input id="ad-duration" type="number" min={30} max={180} step={15} value={duration}
            onInput={(e) => setDuration(Number((e.currentTarget as HTMLInputElement).value))} />
        </Field>
        <button type="submit" class="btn primary" disabled={busy || !live || !!running} data-testid="ad-start">
          {busy ? <Spinner label="Starting" /> : running ? 'A break is running' : 'Start ad break'}
        </button>
      </form>
      {!live && <p class="muted small">You can start a break while you are live.</p>}
      <Schedule slug={slug} />
      <h3>Recent breaks</h3>
      {history.error && !history.data ? <ErrorState error={history.error} retry={history.reload} title="Ad breaks did not load" /> : !history.data ? <Spinner /> : history.data.length === 0 ? (
        <p class="muted">No ad breaks yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">Started</th><th scope="col" class="num">Length</th><th scope="col">Ad</th><th scope="col" class="num">Impressions</th><th scope="col" class="num">Credited</th></tr></thead>
            <tbody>
              {history.data.slice(0, 20).map((b) => (
                <tr key={b.id} data-testid="ad-break-row">
                  <td class="muted">{dateTime(b.starts_at)}</td>
                  <td class="num">{b.duration} s</td>
                  <td>{b.creative?.name ?? '—'}</td>
                  <td class="num">{num(b.impressions ?? 0)}</td>
                  <td class="num">{b.credited === undefined ? '—' : coins(b.credited)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Schedule({ slug }: { slug: string }) {
  const { push } = useToasts();
  const res = useAsync(() => adSchedule(slug), [slug]);
  const [draft, setDraft] = useState<AdSchedule | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => { if (res.data) setDraft(res.data); }, [res.data]);
  if (res.error && !draft) return <ErrorState error={res.error} retry={res.reload} title="The ad schedule did not load" />;
  if (!draft) return <Spinner />;
  const save = async (e: Event) => {
    e.preventDefault();
    const every = draft.every_minutes;
    if (every !== 0 && (every < 10 || every > 240)) { setError('Every 10 to 240 minutes, or 0 for no scheduled breaks.'); return; }
    if (draft.duration < 30 || draft.duration > 180) { setError('A break lasts 30 to 180 seconds.'); return; }
    setBusy(true);
    setError('');
    try {
      setDraft(await saveAdSchedule(slug, draft));
      push({ kind: 'success', title: every ? `An ad break every ${every} minutes` : 'Scheduled ad breaks are off' });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={save} noValidate aria-label="Ad schedule" data-testid="ad-schedule">
      <Field id="ad-every" label="Scheduled break every (minutes)" hint="0 turns it off; 10 to 240">
        <input id="ad-every" type="number" min={0} max={240} step={5} value={draft.every_minutes}
          onInput={(e) => setDraft({ ...draft, every_minutes: Number((e.currentTarget as HTMLInputElement).value) })} />
      </Field>
      <Field id="ad-sched-duration" label="Scheduled break length (seconds)">
        <input id="ad-sched-duration" type="number" min={30} max={180} step={15} value={draft.duration}
          onInput={(e) => setDraft({ ...draft, duration: Number((e.currentTarget as HTMLInputElement).value) })} />
      </Field>
      <button type="submit" class="btn" disabled={busy}>{busy ? <Spinner /> : 'Save schedule'}</button>
      {error && <p class="form-error" role="alert">{error}</p>}
    </form>
  );
}
