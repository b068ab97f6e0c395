// The money API (docs/MONEY.md): coins, orders, gifts, tips, subscriptions,
// ads, earnings and the admin ledger. Every request that moves value goes
// through an Action, which sends an Idempotency-Key naming one user action:
// a retry of the same action (same request) sends the same key, so the
// server moves the money once; a changed request is a new action.
import { api, ApiError, type Query } from './api';
import { coins, isImageURL, moneyText } from './chat';
import { randomId } from './format';
import type {
  AdBreak, AdCreative, AdSchedule, CoinPack, Earnings, Gift, GiftSent, LedgerAccount, LedgerTxn, LedgerVerify,
  Leaderboard, MonetizationSettings, MoneyView, Order, PaymentProvider, Payout, Revenue, Subscription, Tier, TipSent,
  Wallet, WalletTxn,
} from './types';

const enc = encodeURIComponent;

/** newKey makes an Idempotency-Key: 8–128 of [A-Za-z0-9_-]. */
export function newKey(): string {
  // crypto.randomUUID needs a secure context; a LAN address over http is not one.
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : randomId();
}

type MoneyMethod = 'POST' | 'PUT' | 'DELETE';

/**
 * Action is one user action that moves money. Its key is kept until the
 * action succeeds, so retrying the same request (after a network error, a
 * 5xx, or a refusal such as insufficient coins, which records nothing)
 * reuses it; a different request body starts a new action with a new key.
 */
export class Action {
  private key = '';
  private sig = '';

  /** keyFor returns the key for this request: the pending one on a retry, a new one otherwise. */
  keyFor(method: string, path: string, body: unknown): string {
    const sig = `${method} ${path} ${JSON.stringify(body ?? null)}`;
    if (!this.key || sig !== this.sig) {
      this.key = newKey();
      this.sig = sig;
    }
    return this.key;
  }

  /** done ends the action: the next request is a new action. */
  done(): void {
    this.key = '';
    this.sig = '';
  }

  async run<T>(method: MoneyMethod, path: string, body?: unknown): Promise<T> {
    const key = this.keyFor(method, path, body);
    try {
      const out = await api.money<T>(method, path, body, key);
      this.done();
      return out;
    } catch (e) {
      // The key was already used for a different request (this cannot
      // happen with keyFor, but another tab may share nothing): start over.
      if (e instanceof ApiError && e.code === 'idempotency_conflict') this.done();
      throw e;
    }
  }
}

/** items reads a list answer: {items:[…]} or a bare array. */
export function items<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  const d = data as { items?: unknown } | undefined;
  return Array.isArray(d?.items) ? (d.items as T[]) : [];
}

/** Paged is one page of a list answer {items, next_cursor}; next is "" after the last page. */
export interface Paged<T> { items: T[]; next: string }

function paged<T>(data: unknown): Paged<T> {
  const d = (data ?? {}) as { next_cursor?: string };
  return { items: items<T>(data), next: String(d.next_cursor ?? '') };
}

// Wallet and coins
export const coinPacks = async () => items<CoinPack>(await api.get('/coin-packs'));
export const providers = async () => ((await api.get<{ providers?: PaymentProvider[] }>('/payments/providers')).providers ?? []);
export const myWallet = () => api.get<Wallet>('/me/wallet');
export const walletTxns = async (cursor?: string) => paged<WalletTxn>(await api.get('/me/wallet/transactions', { cursor }));
export const order = (id: string) => api.get<Order>(`/payments/orders/${enc(id)}`);
export const buy = (a: Action, body: { pack_id: string; provider: string; card?: string }) => a.run<Order>('POST', '/payments/orders', body);
export const confirmOrder = (a: Action, id: string, code: string) => a.run<Order>('POST', `/payments/orders/${enc(id)}/confirm`, { code });
export const mySubscriptions = async () => items<Subscription>(await api.get('/me/subscriptions'));

// Gifts, tips, leaderboard
export const gifts = async () => items<Gift>(await api.get('/gifts'));
export const sendGift = (a: Action, slug: string, gift_id: string, count: number) =>
  a.run<GiftSent>('POST', `/channels/${enc(slug)}/gifts`, { gift_id, count });
export const sendTip = (a: Action, slug: string, amount: number, message: string) =>
  a.run<TipSent>('POST', `/channels/${enc(slug)}/tips`, { amount, message });
export const leaderboard = (slug: string, period: 'broadcast' | 'week') =>
  api.get<Leaderboard>(`/channels/${enc(slug)}/leaderboard`, { period });

// Subscriptions
export const tiers = async (slug: string) => items<Tier>(await api.get(`/channels/${enc(slug)}/tiers`));
export const saveTiers = async (slug: string, list: Tier[]) => items<Tier>(await api.put(`/channels/${enc(slug)}/tiers`, { items: list }));
export const subscription = (slug: string) => api.get<Subscription>(`/channels/${enc(slug)}/subscription`);
export const subscribe = (a: Action, slug: string, tier: number) => a.run<Subscription>('POST', `/channels/${enc(slug)}/subscription`, { tier });
export const unsubscribe = (a: Action, slug: string) => a.run<Subscription>('DELETE', `/channels/${enc(slug)}/subscription`);
export const giftSub = (a: Action, slug: string, recipient: string, tier: number) =>
  a.run<Subscription>('POST', `/channels/${enc(slug)}/subscription/gift`, { recipient, tier });

// Ads
export const adBreak = (slug: string) => api.get<{ active: boolean; break?: AdBreak | null }>(`/channels/${enc(slug)}/ad-break`);
export const startAdBreak = (a: Action, slug: string, duration: number) => a.run<AdBreak>('POST', `/channels/${enc(slug)}/ad-breaks`, { duration });
export const adBreaks = async (slug: string) => items<AdBreak>(await api.get(`/channels/${enc(slug)}/ad-breaks`));
export const adSchedule = (slug: string) => api.get<AdSchedule>(`/channels/${enc(slug)}/ad-schedule`);
export const saveAdSchedule = (slug: string, s: AdSchedule) => api.put<AdSchedule>(`/channels/${enc(slug)}/ad-schedule`, s);
/** impressionKey is the same for every retry of one viewer's impression of one break. */
export function impressionKey(breakId: string, viewerId: string): string {
  return `imp-${breakId}-${viewerId}`.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 128);
}
export const postImpression = (breakId: string, viewer_id: string) =>
  api.money<void>('POST', `/ad-breaks/${enc(breakId)}/impressions`, { viewer_id }, impressionKey(breakId, viewer_id));

// Earnings and payouts
export const earnings = async (slug: string, days = 30) => normalizeReport(await api.get<Earnings>(`/channels/${enc(slug)}/earnings`, { days }));
export const earningsCSV = (slug: string, days = 30) => `/api/v1/channels/${enc(slug)}/earnings.csv?days=${days}`;
export const payouts = async (slug: string) => items<Payout>(await api.get(`/channels/${enc(slug)}/payouts`));
export const requestPayout = (a: Action, slug: string, amount: number) => a.run<Payout>('POST', `/channels/${enc(slug)}/payouts`, { amount });

// Admin
export const admin = {
  coinPacks: async () => items<CoinPack>(await api.get('/admin/coin-packs')),
  createCoinPack: (a: Action, p: Omit<CoinPack, 'id' | 'active'>) => a.run<CoinPack>('POST', '/admin/coin-packs', p),
  updateCoinPack: (id: string, p: Pick<CoinPack, 'active'>) => api.patch<unknown>(`/admin/coin-packs/${enc(id)}`, p),
  gifts: async () => items<Gift>(await api.get('/admin/gifts')),
  createGift: (a: Action, g: Omit<Gift, 'id' | 'active'>) => a.run<Gift>('POST', '/admin/gifts', g),
  updateGift: (id: string, g: Pick<Gift, 'active'>) => api.patch<unknown>(`/admin/gifts/${enc(id)}`, g),
  ads: async () => items<AdCreative>(await api.get('/admin/ads')),
  createAd: (a: Action, c: Omit<AdCreative, 'id' | 'active'>) => a.run<AdCreative>('POST', '/admin/ads', c),
  updateAd: (id: string, c: Pick<AdCreative, 'active'>) => api.patch<unknown>(`/admin/ads/${enc(id)}`, c),
  settings: () => api.get<MonetizationSettings>('/admin/monetization'),
  saveSettings: (s: MonetizationSettings) => api.put<MonetizationSettings>('/admin/monetization', s),
  payouts: async (status: string) => items<Payout>(await api.get('/admin/payouts', { status })),
  payoutAction: (a: Action, id: string, action: 'approve' | 'paid' | 'reject') => a.run<Payout>('POST', `/admin/payouts/${enc(id)}/${action}`, {}),
  orders: async (status: string) => paged<Order>(await api.get('/admin/orders', { status })),
  orderAction: (a: Action, id: string, action: 'refund' | 'chargeback') => a.run<Order>('POST', `/admin/orders/${enc(id)}/${action}`, {}),
  ledger: async (q: Query) => paged<LedgerTxn>(await api.get('/admin/ledger', q)),
  accounts: async (kind: string) => items<LedgerAccount>(await api.get('/admin/ledger/accounts', { kind })),
  verify: () => api.get<LedgerVerify>('/admin/ledger/verify'),
  revenue: async (days = 30, currency = '') => normalizeReport(await api.get<RevenueReport>('/admin/revenue', { days, currency: currency || undefined })),
};

type Report = { totals: Record<string, number>; days: Array<{ date: string }> };

/** RevenueReport is the platform's revenue, with coin sales in one currency of those sold in. */
export type RevenueReport = Revenue & { currency?: string; currencies?: string[] };

/**
 * normalizeReport reads a report's days either flat ({date, gift, tip, …},
 * docs/MONEY.md) or grouped ({date, amounts: {gift, …}}), and fills missing
 * totals with zero.
 */
export function normalizeReport<T extends Report>(r: T): T {
  const zero = { gift: 0, tip: 0, subscription: 0, ad: 0 };
  const days = (Array.isArray(r.days) ? r.days : []).map((d) => {
    const g = d as { date: string; amounts?: Record<string, number> };
    return { ...zero, ...(g.amounts ?? {}), ...d, amounts: undefined };
  });
  return { ...r, totals: { ...zero, ...(r.totals ?? {}) }, days };
}

// Formatting
const whole = new Intl.NumberFormat('en-US');

export { coins, isImageURL, moneyText };

export function num(n: number): string {
  return whole.format(n);
}

/** currencyDigits is how many decimals a currency's minor unit has: 2 for USD, 0 for JPY, 3 for KWD. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** minorText writes minor units as a decimal string by digits, never through a float: minorText(499, 2) is "4.99". */
export function minorText(minor: number, digits: number): string {
  const neg = minor < 0;
  const d = String(Math.abs(Math.trunc(minor))).padStart(digits + 1, '0');
  const text = digits > 0 ? `${d.slice(0, -digits)}.${d.slice(-digits)}` : d;
  return neg ? `-${text}` : text;
}

/** price formats minor units of a currency: price(499, 'USD') is "$4.99", price(500, 'JPY') "¥500". */
export function price(minor: number, currency = 'USD'): string {
  const digits = currencyDigits(currency);
  const text = minorText(minor, digits);
  try {
    // Intl reads a decimal string exactly (no binary fraction in between).
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(text as unknown as number);
  } catch {
    return `${text} ${currency}`;
  }
}

/**
 * parseMinor reads a typed price ("4.99", "5", "4.9") into the currency's
 * minor units as an integer, from the digits of the string, never through
 * a float; null when it is not a plain positive amount the currency can
 * hold (too many decimals, signs, exponents, separators).
 */
export function parseMinor(text: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const m = /^\s*(\d{1,13})(?:\.(\d*))?\s*$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > digits) return null;
  const n = Number(m[1] + frac.padEnd(digits, '0'));
  return Number.isSafeInteger(n) ? n : null;
}

/** needsCoins reports whether an error is cured by buying coins. */
export function needsCoins(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 'insufficient_coins' || e.code === 'receivable_outstanding');
}

// Alerts: gifts, tips and subscriptions shown over the video and in OBS.

export interface MoneyEvent {
  type: 'gift' | 'tip' | 'sub';
  seq: number;
  user: { id: string; name: string; badges?: string[] };
  text?: string;
  money: MoneyView;
}

export interface Alert {
  /** combo:<combo_id> for gift combos, else the event's seq. */
  id: string;
  kind: MoneyEvent['type'];
  user: MoneyEvent['user'];
  text?: string;
  money: MoneyView;
  /** Gifts sent in this alert (the combo's count). */
  count: number;
  coins: number;
  tier: number;
  until: number;
  /** Grows on every combo update, so the view can replay its pop animation. */
  bumps: number;
}

/** alertTier sizes an alert: the gift's tier, the sub's tier, or the tip's size. */
export function alertTier(ev: MoneyEvent): number {
  if (ev.type === 'gift') return clampTier(ev.money.gift?.tier ?? 1);
  if (ev.type === 'sub') return clampTier(ev.money.tier ?? 1);
  const c = ev.money.coins ?? 0;
  return c >= 1000 ? 3 : c >= 100 ? 2 : 1;
}

function clampTier(t: number): number {
  return Math.min(3, Math.max(1, Math.round(t) || 1));
}

export const ALERT_MS = [0, 5000, 7000, 10000];

/**
 * mergeAlert adds an event to the alerts on screen. A gift that continues a
 * combo (same combo_id) updates that alert's count and keeps it up longer
 * instead of stacking a new one. Expired alerts are dropped, and at most
 * max stay, newest last.
 */
export function mergeAlert(list: Alert[], ev: MoneyEvent, now: number, max = 4): Alert[] {
  const live = list.filter((a) => a.until > now);
  const tier = alertTier(ev);
  const until = now + ALERT_MS[tier];
  const count = ev.type === 'gift' ? Math.max(1, ev.money.count ?? 1) : 1;
  const comboId = ev.type === 'gift' && ev.money.combo_id ? `combo:${ev.money.combo_id}` : '';
  if (comboId) {
    const i = live.findIndex((a) => a.id === comboId);
    if (i >= 0) {
      const old = live[i];
      const next = live.slice();
      next[i] = {
        ...old,
        money: ev.money,
        count: Math.max(old.count + count, ev.money.combo_count ?? 0),
        coins: old.coins + (ev.money.coins ?? 0),
        tier: Math.max(old.tier, tier),
        until: Math.max(old.until, until),
        bumps: old.bumps + 1,
      };
      return next;
    }
  }
  const alert: Alert = {
    id: comboId || `seq:${ev.seq || `${now}-${Math.random()}`}`,
    kind: ev.type, user: ev.user, text: ev.text, money: ev.money,
    count: Math.max(count, ev.money.combo_count ?? 0), coins: ev.money.coins ?? 0, tier, until, bumps: 0,
  };
  return [...live, alert].slice(-max);
}

/** alertTitle is an alert's headline as plain text (rendered as text, never markup). */
export function alertTitle(a: Pick<Alert, 'kind' | 'user' | 'money' | 'count'>): string {
  return moneyText(a.kind, a.user, a.money, a.count);
}
