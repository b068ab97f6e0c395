// Admin screens for money (docs/MONEY.md): coin packs, the gift catalog,
// ad creatives, monetization settings, the payout queue, orders (refund,
// sandbox chargeback), the ledger with its verify check, and platform revenue.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CATEGORIES } from '../lib/categories';
import { dateTime } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { Action, admin, coins, currencyDigits, minorText, num, parseMinor, price, type Paged } from '../lib/money';
import { useToasts } from '../lib/session';
import type { AdCreative, LedgerTxn, LedgerVerify, MonetizationSettings, Order, Payout } from '../lib/types';
import { BarChart, SOURCE_COLORS } from '../components/BarChart';
import { EmptyState, ErrorState, Field, Spinner, errorText } from '../components/ui';
import { PayoutTable } from './DashboardMoney';
import { GiftImage } from '../components/Chat';
import * as I from '../components/icons';
import './money-pages.css';

export const MONEY_TABS: Array<[string, string]> = [
  ['coin-packs', 'Coin packs'], ['gifts', 'Gifts'], ['ads', 'Ads'], ['monetization', 'Monetization'],
  ['payouts', 'Payouts'], ['orders', 'Orders'], ['ledger', 'Ledger'], ['revenue', 'Revenue'],
];

export function AdminMoney({ tab }: { tab: string }) {
  switch (tab) {
    case 'coin-packs': return <CoinPacks />;
    case 'gifts': return <Gifts />;
    case 'ads': return <Ads />;
    case 'monetization': return <Monetization />;
    case 'payouts': return <Payouts />;
    case 'orders': return <Orders />;
    case 'ledger': return <Ledger />;
    case 'revenue': return <RevenueReport />;
    default: return null;
  }
}

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
const numVal = (e: Event) => Number((e.currentTarget as HTMLInputElement).value);

/** useSave wraps a save: busy while it runs, a toast when it is done, the server's reason when it is not. */
function useSave() {
  const { push } = useToasts();
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const run = async (id: string, fn: () => Promise<unknown>, done: string): Promise<boolean> => {
    setBusy(id);
    setError('');
    try {
      await fn();
      push({ kind: 'success', title: done });
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    } finally {
      setBusy('');
    }
  };
  return { busy, error, run, setError };
}

function ListState<T>({ res, empty, children }: { res: { data?: T[]; error?: Error; reload: () => void }; empty: string; children: (rows: T[]) => ComponentChildren }) {
  if (res.error && !res.data) return <ErrorState error={res.error} retry={res.reload} />;
  if (!res.data) return <Spinner />;
  if (res.data.length === 0) return <EmptyState title={empty} icon={<I.Coin size={32} />} />;
  return <>{children(res.data)}</>;
}

// Coin packs

/** useToggle flips a catalog item's active flag (PATCH {active}), the one change the API makes to it. */
function useToggle(patch: (id: string, active: boolean) => Promise<unknown>, reload: () => void) {
  const s = useSave();
  const toggle = async (id: string, name: string, active: boolean) => {
    if (await s.run(id, () => patch(id, !active), `${name} ${active ? 'deactivated' : 'activated'}`)) reload();
  };
  return { ...s, toggle };
}

function ActiveCell({ active }: { active: boolean }) {
  return <span class={`status status-${active ? 'active' : 'suspended'}`}>{active ? 'active' : 'inactive'}</span>;
}

function CoinPacks() {
  const list = useAsync(admin.coinPacks, []);
  const s = useToggle((id, active) => admin.updateCoinPack(id, { active }), list.reload);
  const create = useRef(new Action()).current;
  const [draft, setDraft] = useState({ name: '', coins: 500, dollars: '4.99', currency: 'USD' });
  const add = async (e: Event) => {
    e.preventDefault();
    const currency = draft.currency.trim().toUpperCase();
    const minor = parseMinor(draft.dollars, currency);
    if (!draft.name.trim() || !(draft.coins > 0) || minor === null || minor <= 0) {
      s.setError(`Give the pack a name, a number of coins and a price such as ${minorText(499, currencyDigits(currency))} (at most ${currencyDigits(currency)} decimals in ${currency || 'its currency'}).`);
      return;
    }
    if (await s.run('new', () => admin.createCoinPack(create, { name: draft.name.trim(), coins: draft.coins, price: minor, currency }), `Coin pack ${draft.name} added`)) {
      setDraft({ ...draft, name: '' });
      list.reload();
    }
  };
  return (
    <section class="panel" aria-labelledby="packs-h" data-testid="admin-coin-packs">
      <h2 id="packs-h">Coin packs</h2>
      <p class="muted">What viewers can buy. The price is charged in the pack's currency; the coins go to the buyer's wallet. A pack that is not on sale stays on past orders.</p>
      {s.error && <p class="form-error" role="alert">{s.error}</p>}
      <ListState res={list} empty="No coin packs yet">
        {(rows) => (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th scope="col">Name</th><th scope="col" class="num">Coins</th><th scope="col" class="num">Price</th><th scope="col">On sale</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.id} data-testid="admin-pack" data-name={p.name} data-active={String(p.active !== false)}>
                    <td><strong>{p.name}</strong></td>
                    <td class="num">{num(p.coins)}</td>
                    <td class="num">{price(p.price, p.currency)}</td>
                    <td><ActiveCell active={p.active !== false} /></td>
                    <td class="actions">
                      <button type="button" class="btn small" disabled={s.busy === p.id} onClick={() => void s.toggle(p.id, p.name, p.active !== false)}
                        aria-label={`${p.active !== false ? 'Stop selling' : 'Sell'} ${p.name}`}>{p.active !== false ? 'Stop selling' : 'Put on sale'}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      <form class="inline-form" onSubmit={add} noValidate aria-label="Add a coin pack">
        <Field id="pack-name" label="Name"><input id="pack-name" value={draft.name} maxLength={60} onInput={(e) => setDraft({ ...draft, name: val(e) })} /></Field>
        <Field id="pack-coins" label="Coins"><input id="pack-coins" type="number" min={1} value={draft.coins} onInput={(e) => setDraft({ ...draft, coins: numVal(e) })} /></Field>
        <Field id="pack-price" label="Price"><input id="pack-price" inputMode="decimal" autoComplete="off" value={draft.dollars} onInput={(e) => setDraft({ ...draft, dollars: val(e) })} /></Field>
        <Field id="pack-currency" label="Currency"><input id="pack-currency" value={draft.currency} maxLength={3} onInput={(e) => setDraft({ ...draft, currency: val(e) })} /></Field>
        <button type="submit" class="btn primary" disabled={s.busy === 'new'}>Add pack</button>
      </form>
    </section>
  );
}

// Gifts

function Gifts() {
  const list = useAsync(admin.gifts, []);
  const s = useToggle((id, active) => admin.updateGift(id, { active }), list.reload);
  const create = useRef(new Action()).current;
  const [draft, setDraft] = useState({ name: '', image: '', price: 10, tier: 1 });
  const add = async (e: Event) => {
    e.preventDefault();
    if (!draft.name.trim() || !(draft.price > 0)) { s.setError('Give the gift a name and a price in coins.'); return; }
    if (await s.run('new', () => admin.createGift(create, { ...draft, name: draft.name.trim(), image: draft.image.trim() }), `Gift ${draft.name} added`)) {
      setDraft({ ...draft, name: '' });
      list.reload();
    }
  };
  return (
    <section class="panel" aria-labelledby="gifts-h" data-testid="admin-gifts">
      <h2 id="gifts-h">Gift catalog</h2>
      <p class="muted">The tier sets the size of the alert over the video: 1 small, 2 medium, 3 big.</p>
      {s.error && <p class="form-error" role="alert">{s.error}</p>}
      <ListState res={list} empty="No gifts yet">
        {(rows) => (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th scope="col">Gift</th><th scope="col" class="num">Price</th><th scope="col" class="num">Tier</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {rows.map((g) => (
                  <tr key={g.id} data-testid="admin-gift" data-name={g.name} data-active={String(g.active !== false)}>
                    <td><span class="gift-cell"><GiftImage image={g.image} size={28} /> <strong>{g.name}</strong></span></td>
                    <td class="num">{coins(g.price)}</td>
                    <td class="num">{g.tier}</td>
                    <td><ActiveCell active={g.active !== false} /></td>
                    <td class="actions">
                      <button type="button" class="btn small" disabled={s.busy === g.id} onClick={() => void s.toggle(g.id, g.name, g.active !== false)}
                        aria-label={`${g.active !== false ? 'Deactivate' : 'Activate'} ${g.name}`}>{g.active !== false ? 'Deactivate' : 'Activate'}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      <form class="inline-form" onSubmit={add} noValidate aria-label="Add a gift">
        <Field id="gift-name" label="Name"><input id="gift-name" value={draft.name} maxLength={40} onInput={(e) => setDraft({ ...draft, name: val(e) })} /></Field>
        <Field id="gift-image" label="Image URL (optional)" hint="A path on this server or a data: image; empty shows 🎁">
          <input id="gift-image" value={draft.image} aria-describedby="gift-image-hint" onInput={(e) => setDraft({ ...draft, image: val(e) })} />
        </Field>
        <Field id="gift-price" label="Price (coins)"><input id="gift-price" type="number" min={1} value={draft.price} onInput={(e) => setDraft({ ...draft, price: numVal(e) })} /></Field>
        <Field id="gift-tier" label="Tier">
          <select id="gift-tier" value={draft.tier} onChange={(e) => setDraft({ ...draft, tier: Number((e.currentTarget as HTMLSelectElement).value) })}>
            <option value={1}>1 · small</option><option value={2}>2 · medium</option><option value={3}>3 · big</option>
          </select>
        </Field>
        <button type="submit" class="btn primary" disabled={s.busy === 'new'}>Add gift</button>
      </form>
    </section>
  );
}

// Ads

function Ads() {
  const list = useAsync(admin.ads, []);
  const s = useSave();
  const create = useRef(new Action()).current;
  const [draft, setDraft] = useState({ name: '', kind: 'image' as AdCreative['kind'], url: '', cpm: 2000, categories: '' });
  const add = async (e: Event) => {
    e.preventDefault();
    if (!draft.name.trim() || !draft.url.trim()) { s.setError('Give the creative a name and the URL of its image or video.'); return; }
    const categories = draft.categories.split(/[\s,]+/).filter(Boolean);
    if (await s.run('new', () => admin.createAd(create, { name: draft.name.trim(), kind: draft.kind, url: draft.url.trim(), cpm: draft.cpm, categories }), `Ad ${draft.name} added`)) {
      setDraft({ ...draft, name: '', url: '' });
      list.reload();
    }
  };
  const toggle = async (c: AdCreative) => {
    if (await s.run(c.id, () => admin.updateAd(c.id, { active: !c.active }), `${c.name} ${c.active ? 'deactivated' : 'activated'}`)) list.reload();
  };
  return (
    <section class="panel" aria-labelledby="ads-admin-h" data-testid="admin-ads">
      <h2 id="ads-admin-h">Ad creatives</h2>
      <p class="muted">Shown to viewers who do not subscribe during ad breaks. The price is in coins per 1,000 impressions (CPM); an empty category list runs on every channel.</p>
      {s.error && <p class="form-error" role="alert">{s.error}</p>}
      <ListState res={list} empty="No ad creatives yet">
        {(rows) => (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">URL</th><th scope="col" class="num">CPM</th><th scope="col">Categories</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id} data-testid="admin-ad" data-active={String(c.active)}>
                    <td><strong>{c.name}</strong></td>
                    <td>{c.kind}</td>
                    <td class="mono ellipsis" title={c.url}>{c.url.length > 60 ? `${c.url.slice(0, 57)}…` : c.url}</td>
                    <td class="num">{num(c.cpm)}</td>
                    <td>{c.categories?.length ? c.categories.join(', ') : <span class="muted">all</span>}</td>
                    <td><span class={`status status-${c.active ? 'active' : 'suspended'}`}>{c.active ? 'active' : 'inactive'}</span></td>
                    <td class="actions"><button type="button" class="btn small" disabled={s.busy === c.id} onClick={() => void toggle(c)}>{c.active ? 'Deactivate' : 'Activate'}</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      <form class="form" onSubmit={add} noValidate aria-label="Add an ad creative" data-testid="ad-form">
        <div class="row2">
          <Field id="ad-name" label="Name"><input id="ad-name" value={draft.name} maxLength={80} onInput={(e) => setDraft({ ...draft, name: val(e) })} /></Field>
          <Field id="ad-kind" label="Kind">
            <select id="ad-kind" value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: (e.currentTarget as HTMLSelectElement).value as AdCreative['kind'] })}>
              <option value="image">Image</option><option value="video">Video</option>
            </select>
          </Field>
        </div>
        <Field id="ad-url" label="Creative URL" hint="A path on this server, or a base64 data: image (at most 2,048 characters). The player's Content-Security-Policy blocks images and video from other sites.">
          <input id="ad-url" value={draft.url} aria-describedby="ad-url-hint" onInput={(e) => setDraft({ ...draft, url: val(e) })} />
        </Field>
        <div class="row2">
          <Field id="ad-cpm" label="CPM (coins per 1,000 impressions)"><input id="ad-cpm" type="number" min={0} value={draft.cpm} onInput={(e) => setDraft({ ...draft, cpm: numVal(e) })} /></Field>
          <Field id="ad-categories" label="Categories (optional)" hint={`Comma-separated, e.g. ${CATEGORIES.slice(0, 3).map((c) => c.slug).join(', ')}`}>
            <input id="ad-categories" value={draft.categories} aria-describedby="ad-categories-hint" onInput={(e) => setDraft({ ...draft, categories: val(e) })} />
          </Field>
        </div>
        <div class="form-actions"><button type="submit" class="btn primary" disabled={s.busy === 'new'}>Add creative</button></div>
      </form>
    </section>
  );
}

// Monetization settings

const SHARES: Array<[keyof MonetizationSettings, string]> = [['gift_share_bps', 'Gifts'], ['tip_share_bps', 'Tips'], ['sub_share_bps', 'Subscriptions'], ['ad_share_bps', 'Ads']];

function Monetization() {
  const res = useAsync(admin.settings, []);
  const s = useSave();
  const [d, setD] = useState<MonetizationSettings | null>(null);
  useEffect(() => { if (res.data) setD(res.data); }, [res.data]);
  if (res.error && !d) return <ErrorState error={res.error} retry={res.reload} />;
  if (!d) return <Spinner />;
  const save = async (e: Event) => {
    e.preventDefault();
    if (SHARES.some(([k]) => d[k] < 0 || d[k] > 10000)) { s.setError('Each share is between 0 and 100 %.'); return; }
    if (d.tip_min > d.tip_max) { s.setError('The smallest tip cannot be more than the largest.'); return; }
    await s.run('save', async () => setD(await admin.saveSettings(d)), 'Monetization settings saved');
  };
  return (
    <form class="panel form" onSubmit={save} noValidate aria-labelledby="mon-h" data-testid="admin-monetization">
      <h2 id="mon-h">Monetization settings</h2>
      <p class="muted">The creator's share of the coins spent on their channel; the platform keeps the rest (the creator's part is rounded down).</p>
      <div class="share-grid">
        {SHARES.map(([k, label]) => (
          <Field key={k} id={`share-${k}`} label={`${label}: creator's share (%)`}>
            <input id={`share-${k}`} type="number" min={0} max={100} step={0.01} value={d[k] / 100}
              onInput={(e) => setD({ ...d, [k]: Math.round(numVal(e) * 100) })} />
          </Field>
        ))}
      </div>
      <div class="share-grid">
        <Field id="tip-min" label="Smallest tip (coins)"><input id="tip-min" type="number" min={1} value={d.tip_min} onInput={(e) => setD({ ...d, tip_min: numVal(e) })} /></Field>
        <Field id="tip-max" label="Largest tip (coins)"><input id="tip-max" type="number" min={1} value={d.tip_max} onInput={(e) => setD({ ...d, tip_max: numVal(e) })} /></Field>
        <Field id="payout-min" label="Smallest payout (coins)"><input id="payout-min" type="number" min={0} value={d.payout_min} onInput={(e) => setD({ ...d, payout_min: numVal(e) })} /></Field>
      </div>
      {s.error && <p class="form-error" role="alert">{s.error}</p>}
      <div class="form-actions"><button type="submit" class="btn primary" disabled={s.busy === 'save'}>{s.busy ? <Spinner label="Saving" /> : 'Save settings'}</button></div>
    </form>
  );
}

// Payouts

function Payouts() {
  const [status, setStatus] = useState('requested');
  const list = useAsync(() => admin.payouts(status), [status]);
  const s = useSave();
  const actions = useRef(new Map<string, Action>()).current;
  const act = async (p: Payout, what: 'approve' | 'paid' | 'reject') => {
    if (what === 'reject' && !confirm(`Reject the payout of ${coins(p.amount)}? The coins go back to the creator's earnings.`)) return;
    const key = `${p.id}:${what}`;
    const a = actions.get(key) ?? new Action();
    actions.set(key, a);
    if (await s.run(p.id, () => admin.payoutAction(a, p.id, what), what === 'approve' ? 'Payout approved' : what === 'paid' ? 'Payout marked paid' : 'Payout rejected')) list.reload();
  };
  return (
    <section class="panel" aria-labelledby="payouts-h" data-testid="admin-payouts">
      <div class="panel-head">
        <h2 id="payouts-h">Payouts</h2>
        <span class="spacer" />
        <label for="payout-status" class="small">Status</label>
        <select id="payout-status" class="compact-select" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
          <option value="requested">Requested</option><option value="approved">Approved</option><option value="paid">Paid</option><option value="rejected">Rejected</option><option value="">All</option>
        </select>
      </div>
      {s.error && <p class="form-error" role="alert">{s.error}</p>}
      <ListState res={list} empty={status ? `No ${status} payouts` : 'No payouts'}>
        {(rows) => (
          <PayoutTable rows={rows} actions={(p) => (
            <span class="row-actions">
              {p.status === 'requested' && <button type="button" class="btn small primary" disabled={s.busy === p.id} onClick={() => void act(p, 'approve')}>Approve</button>}
              {p.status === 'approved' && <button type="button" class="btn small primary" disabled={s.busy === p.id} onClick={() => void act(p, 'paid')}>Mark paid</button>}
              {(p.status === 'requested' || p.status === 'approved') && <button type="button" class="btn small danger" disabled={s.busy === p.id} onClick={() => void act(p, 'reject')}>Reject</button>}
            </span>
          )} />
        )}
      </ListState>
    </section>
  );
}

// Orders

function Orders() {
  const [status, setStatus] = useState('');
  const list = useAsync(() => admin.orders(status), [status]);
  const s = useSave();
  const actions = useRef(new Map<string, Action>()).current;
  const act = async (o: Order, what: 'refund' | 'chargeback') => {
    if (!confirm(what === 'refund'
      ? `Refund this order of ${price(o.price, o.currency)}? Its ${coins(o.coins)} leave the wallet; coins already spent become a receivable.`
      : `Record a chargeback on this sandbox order of ${price(o.price, o.currency)}?`)) return;
    const key = `${o.id}:${what}`;
    const a = actions.get(key) ?? new Action();
    actions.set(key, a);
    if (await s.run(o.id, () => admin.orderAction(a, o.id, what), what === 'refund' ? 'Order refunded' : 'Chargeback recorded')) list.reload();
  };
  const res = { ...list, data: list.data?.items };
  return (
    <section class="panel" aria-labelledby="orders-h" data-testid="admin-orders">
      <div class="panel-head">
        <h2 id="orders-h">Orders</h2>
        <span class="spacer" />
        <label for="order-status" class="small">Status</label>
        <select id="order-status" class="compact-select" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">All</option>
          {['paid', 'requires_action', 'pending', 'declined', 'refunded', 'charged_back'].map((x) => <option key={x} value={x}>{x.replace('_', ' ')}</option>)}
        </select>
      </div>
      {s.error && <p class="form-error" role="alert">{s.error}</p>}
      <ListState res={res} empty="No orders">
        {(rows) => (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th scope="col">When</th><th scope="col">Buyer</th><th scope="col" class="num">Coins</th><th scope="col" class="num">Price</th><th scope="col">Provider</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {rows.map((o) => (
                  <tr key={o.id} data-testid="admin-order" data-status={o.status}>
                    <td class="muted">{dateTime(o.created_at)}</td>
                    <td>{o.user?.display_name ?? o.user?.name ?? o.user?.email ?? o.user_id ?? '—'}</td>
                    <td class="num">{num(o.coins)}</td>
                    <td class="num">{price(o.price, o.currency)}</td>
                    <td>{o.provider}</td>
                    <td><span class={`status status-${o.status}`}>{o.status.replace('_', ' ')}</span></td>
                    <td class="actions">
                      {o.status === 'paid' && (
                        <span class="row-actions">
                          <button type="button" class="btn small danger" disabled={s.busy === o.id} onClick={() => void act(o, 'refund')}>Refund</button>
                          {o.provider === 'sandbox' && <button type="button" class="btn small danger" disabled={s.busy === o.id} onClick={() => void act(o, 'chargeback')}>Chargeback</button>}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
    </section>
  );
}

// Ledger

function Ledger() {
  const [verify, setVerify] = useState<LedgerVerify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState('');
  const check = async () => {
    setVerifying(true);
    setVerifyError('');
    try {
      setVerify(await admin.verify());
    } catch (e) {
      setVerifyError(errorText(e));
    } finally {
      setVerifying(false);
    }
  };
  return (
    <>
      <section class="panel" aria-labelledby="verify-h" data-testid="admin-verify">
        <div class="panel-head">
          <h2 id="verify-h">Ledger check</h2>
          <span class="spacer" />
          <button type="button" class="btn primary" onClick={() => void check()} disabled={verifying} data-testid="verify-ledger">{verifying ? <Spinner label="Checking" /> : 'Verify the ledger'}</button>
        </div>
        <p class="muted">Checks that every transaction balances per currency, that balances equal their entries, that no floored account is negative, and that every idempotency key and paid order has its transaction.</p>
        {verifyError && <p class="form-error" role="alert">{verifyError}</p>}
        {verify && (
          <div class={verify.ok ? 'notice ok' : 'notice danger'} role="status" data-testid="verify-result" data-ok={String(verify.ok)}>
            <strong>{verify.ok ? 'The ledger is consistent.' : `${verify.breaches.length} ${verify.breaches.length === 1 ? 'breach' : 'breaches'} found.`}</strong>
            {' '}{num(verify.accounts)} accounts, {num(verify.txns)} transactions, {num(verify.entries)} entries.
            {verify.breaches.length > 0 && <ul>{verify.breaches.map((b, i) => <li key={i}><code>{b.rule}</code> {b.detail}</li>)}</ul>}
          </div>
        )}
      </section>
      <Accounts />
      <Transactions />
    </>
  );
}

function Accounts() {
  const [kind, setKind] = useState('');
  const list = useAsync(() => admin.accounts(kind), [kind]);
  return (
    <section class="panel" aria-labelledby="accounts-h" data-testid="admin-accounts">
      <div class="panel-head">
        <h2 id="accounts-h">Accounts</h2>
        <span class="spacer" />
        <label for="acct-kind" class="small">Kind</label>
        <select id="acct-kind" class="compact-select" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">All</option>
          {['wallet', 'receivable', 'earnings', 'payout.pending', 'payout.approved', 'platform', 'clearing'].map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
      </div>
      <ListState res={list} empty="No accounts">
        {(rows) => (
          <div class="table-wrap scroll">
            <table class="table">
              <thead><tr><th scope="col">Account</th><th scope="col">Kind</th><th scope="col">Currency</th><th scope="col" class="num">Balance</th></tr></thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.id} data-testid="ledger-account">
                    <td class="mono">{a.id}</td><td>{a.kind}</td><td>{a.currency}</td>
                    <td class={`num ${a.balance < 0 ? 'neg' : ''}`}>{num(a.balance)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
    </section>
  );
}

function Transactions() {
  const [account, setAccount] = useState('');
  const [kind, setKind] = useState('');
  const [q, setQ] = useState({ account: '', kind: '' });
  const first = useAsync(() => admin.ledger(q), [q.account, q.kind]);
  const [more, setMore] = useState<LedgerTxn[]>([]);
  const [next, setNext] = useState('');
  const [err, setErr] = useState('');
  useEffect(() => { if (first.data) { setMore([]); setNext(first.data.next); } }, [first.data]);
  const loadMore = async () => {
    setErr('');
    try {
      const page: Paged<LedgerTxn> = await admin.ledger({ ...q, cursor: next });
      setMore((m) => [...m, ...page.items]);
      setNext(page.next);
    } catch (e) {
      setErr(errorText(e));
    }
  };
  const rows = [...(first.data?.items ?? []), ...more];
  return (
    <section class="panel" aria-labelledby="ledger-h" data-testid="admin-ledger">
      <h2 id="ledger-h">Transactions</h2>
      <form class="inline-form" role="search" onSubmit={(e) => { e.preventDefault(); setQ({ account: account.trim(), kind: kind.trim() }); }}>
        <Field id="ledger-account" label="Account"><input id="ledger-account" placeholder="wallet:<user id>" value={account} onInput={(e) => setAccount(val(e))} /></Field>
        <Field id="ledger-kind" label="Kind"><input id="ledger-kind" placeholder="gift, tip, purchase…" value={kind} onInput={(e) => setKind(val(e))} /></Field>
        <button type="submit" class="btn"><I.Search size={16} /> Filter</button>
      </form>
      {first.error && !first.data ? <ErrorState error={first.error} retry={first.reload} /> : !first.data ? <Spinner /> : rows.length === 0 ? <EmptyState title="No transactions" icon={<I.Coin size={32} />} /> : (
        <>
          <ul class="txn-list">
            {rows.map((t) => (
              <li key={t.id} class="txn" data-testid="ledger-txn" data-kind={t.kind}>
                <div class="txn-head">
                  <strong>{t.kind}</strong>
                  <span class="muted small">{dateTime(t.created_at)}</span>
                  <span class="mono small muted">{t.id}</span>
                  <span class="spacer" />
                  <span class="num">{num(t.amount)}</span>
                </div>
                <table class="table entries">
                  <thead><tr><th scope="col">Account</th><th scope="col">Currency</th><th scope="col" class="num">Amount</th></tr></thead>
                  <tbody>
                    {t.entries.map((e, i) => (
                      <tr key={i}><td class="mono">{e.account}</td><td>{e.currency}</td><td class={`num ${e.amount < 0 ? 'neg' : 'pos'}`}>{e.amount > 0 ? '+' : ''}{num(e.amount)}</td></tr>
                    ))}
                  </tbody>
                </table>
                {t.memo && Object.keys(t.memo).length > 0 && <p class="mono small muted">{JSON.stringify(t.memo)}</p>}
              </li>
            ))}
          </ul>
          {err && <p class="form-error" role="alert">{err}</p>}
          {next && <div class="more"><button type="button" class="btn" onClick={() => void loadMore()}>Load more</button></div>}
        </>
      )}
    </section>
  );
}

// Revenue

function RevenueReport() {
  const [days, setDays] = useState(30);
  const [currency, setCurrency] = useState('');
  const res = useAsync(() => admin.revenue(days, currency), [days, currency]);
  const r = res.data;
  const currencies = r?.currencies ?? [];
  const series = [['gift', 'Gifts'], ['tip', 'Tips'], ['subscription', 'Subscriptions'], ['ad', 'Ads']].map(([key, label]) => ({ key, label, color: SOURCE_COLORS[key] }));
  return (
    <section class="panel" aria-labelledby="rev-h" data-testid="admin-revenue">
      <div class="panel-head">
        <h2 id="rev-h">Platform revenue</h2>
        <span class="spacer" />
        <label class="sr-only" for="rev-days">Period</label>
        <select id="rev-days" class="compact-select" value={days} onChange={(e) => setDays(Number((e.currentTarget as HTMLSelectElement).value))}>
          <option value={7}>Last 7 days</option><option value={30}>Last 30 days</option><option value={90}>Last 90 days</option>
        </select>
        {currencies.length > 1 && (
          <>
            <label class="sr-only" for="rev-currency">Currency of coin sales</label>
            <select id="rev-currency" class="compact-select" value={r?.currency ?? currency} onChange={(e) => setCurrency((e.currentTarget as HTMLSelectElement).value)}>
              {currencies.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </>
        )}
      </div>
      {res.error && !r ? <ErrorState error={res.error} retry={res.reload} /> : !r ? <Spinner /> : (
        <>
          <div class="metrics">
            <div class="metric" data-testid="revenue-sales"><span class="metric-label">Coin sales</span><span class="metric-value">{price(r.totals.sales, r.currency ?? 'USD')}</span></div>
            {series.map((x) => (
              <div key={x.key} class="metric source" data-testid={`revenue-${x.key}`}>
                <span class="metric-label"><span class="swatch" data-source={x.key} aria-hidden="true" /> Platform share of {x.label.toLowerCase()}</span>
                <span class="metric-value">{coins(r.totals[x.key as 'gift'])}</span>
              </div>
            ))}
          </div>
          {r.days.length > 0 ? <BarChart title={`Platform share per day, last ${days} days, in coins`} days={r.days} series={series} /> : <p class="muted">No revenue in this period.</p>}
        </>
      )}
    </section>
  );
}
