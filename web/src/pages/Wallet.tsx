// The wallet: the coin balance, buying coins (the sandbox's test cards, or
// a provider's checkout page), confirming a payment that asks for it, the
// viewer's subscriptions and the wallet's transactions.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { dateTime } from '../lib/format';
import {
  Action, buy, coinPacks, coins, confirmOrder, mySubscriptions, order as loadOrder, price, providers as loadProviders, walletTxns,
  type Paged,
} from '../lib/money';
import { useAsync, useTitle } from '../lib/hooks';
import { navigate, useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { useWallet, wallet } from '../lib/wallet';
import type { CoinPack, Order, PaymentProvider, WalletTxn } from '../lib/types';
import { EmptyState, ErrorState, Field, Spinner, errorText } from '../components/ui';
import * as I from '../components/icons';
import './money-pages.css';

export function WalletPage({ next }: { next: string }) {
  useTitle('Wallet');
  const { user } = useSession();
  const w = useWallet(user?.id);
  useEffect(() => { if (user === null) navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, true); }, [user]);
  useEffect(() => { if (user) void wallet.refresh(); }, [user?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  const [txnsVersion, setTxnsVersion] = useState(0);
  if (!user) return <div class="page-loading"><Spinner /></div>;
  const back = /^\/c\/[^/]+$/.test(next) ? next : '';
  return (
    <div class="page narrow dash wallet-page">
      <div class="section-head">
        <h1>Wallet</h1>
        {back && <a class="btn" href={back} data-testid="wallet-back">Back to the channel</a>}
      </div>
      <section class="panel balance-panel" aria-labelledby="balance-h" data-testid="wallet-balance" data-balance={w?.balance}>
        <h2 id="balance-h" class="eyebrow">Your coins</h2>
        {w === undefined ? <Spinner label="Loading your balance" /> : w === null ? (
          <p class="muted">Your wallet is not available right now. <button type="button" class="btn small" onClick={() => void wallet.refresh()}>Try again</button></p>
        ) : (
          <>
            <p class="balance-big"><I.Coin size={28} /> <span>{coins(w.balance)}</span></p>
            {w.receivable !== 0 && (
              <p class="notice warn" role="note" data-testid="wallet-receivable">
                You owe {coins(Math.abs(w.receivable))} after a refund of coins you had spent. You cannot spend until it is repaid; your next purchase repays it first.
              </p>
            )}
          </>
        )}
      </section>
      <BuyCoins onPaid={() => setTxnsVersion((v) => v + 1)} />
      <Subscriptions />
      <Transactions version={txnsVersion} />
    </div>
  );
}

type Result =
  | { kind: 'paid'; order: Order }
  | { kind: 'declined'; message: string }
  | { kind: 'action'; order: Order }
  | { kind: 'pending'; order: Order }
  | { kind: 'error'; error: unknown };

function BuyCoins({ onPaid }: { onPaid: () => void }) {
  const loc = useLocation();
  const packs = useAsync(coinPacks, []);
  const provs = useAsync(loadProviders, []);
  const [packId, setPackId] = useState('');
  const [provider, setProvider] = useState('');
  const [card, setCard] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const purchase = useRef(new Action()).current;
  const list = (packs.data ?? []).filter((p) => p.active !== false);
  const pack = list.find((p) => p.id === packId) ?? list[0];
  const provList = provs.data ?? [];
  const prov: PaymentProvider | undefined = provList.find((p) => p.id === provider) ?? provList.find((p) => p.id === 'sandbox') ?? provList[0];
  const sandbox = prov?.id === 'sandbox';
  const digits = card.replace(/\D/g, '');

  // Back from a provider's checkout page: /account/wallet?order=<id>.
  const returned = loc.query.get('order') ?? '';
  useEffect(() => {
    if (!returned) return;
    loadOrder(returned).then((o) => show(o), (error) => setResult({ kind: 'error', error }));
  }, [returned]); // eslint-disable-line react-hooks/exhaustive-deps

  const show = (o: Order) => {
    if (typeof o.balance === 'number') wallet.setBalance(o.balance);
    if (o.status === 'paid') { setResult({ kind: 'paid', order: o }); onPaid(); void wallet.refresh(); }
    else if (o.status === 'requires_action') setResult({ kind: 'action', order: o });
    else if (o.status === 'declined') setResult({ kind: 'declined', message: o.message || 'The card was declined.' });
    else setResult({ kind: 'pending', order: o });
  };
  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (!pack || !prov || busy) return;
    if (sandbox && digits.length < 12) { setResult({ kind: 'error', error: new ApiError(400, 'validation', 'Enter a card number: one of the test cards below.', 'card') }); return; }
    setBusy(true);
    setResult(null);
    try {
      const o = await buy(purchase, { pack_id: pack.id, provider: prov.id, ...(sandbox ? { card: digits } : {}) });
      if (o.checkout_url && o.status !== 'paid') {
        location.assign(o.checkout_url);
        return;
      }
      show(o);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'card_declined') setResult({ kind: 'declined', message: err.message });
      else setResult({ kind: 'error', error: err });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = result?.kind === 'error' && result.error instanceof ApiError && result.error.field === 'card' ? result.error.message : undefined;
  return (
    <section class="panel" aria-labelledby="buy-h" data-testid="buy-coins">
      <h2 id="buy-h">Buy coins</h2>
      {packs.error ? <ErrorState error={packs.error} retry={packs.reload} title="The coin packs did not load" />
        : !packs.data ? <Spinner label="Loading coin packs" />
        : list.length === 0 ? <EmptyState title="No coin packs on sale" icon={<I.Coin size={32} />}><p>An admin has not set up coin packs yet.</p></EmptyState>
        : (
          <form class="form" onSubmit={submit} noValidate>
            <fieldset class="pack-grid" disabled={busy || result?.kind === 'action'}>
              <legend>Coin pack</legend>
              {list.map((p: CoinPack) => (
                <label key={p.id} class={`pack${pack?.id === p.id ? ' on' : ''}`} data-testid="coin-pack" data-pack={p.id}>
                  <input type="radio" name="pack" value={p.id} checked={pack?.id === p.id} onChange={() => setPackId(p.id)} />
                  <span class="pack-coins"><I.Coin size={18} /> {coins(p.coins)}</span>
                  <span class="pack-name">{p.name}</span>
                  <span class="pack-price">{price(p.price, p.currency)}</span>
                </label>
              ))}
            </fieldset>
            {provList.length > 1 && (
              <Field id="buy-provider" label="Pay with">
                <select id="buy-provider" value={prov?.id} onChange={(e) => setProvider((e.currentTarget as HTMLSelectElement).value)}>
                  {provList.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
                </select>
              </Field>
            )}
            {provs.error && <p class="form-error" role="alert">The payment providers did not load: {errorText(provs.error)}</p>}
            {sandbox && (
              <>
                <Field id="buy-card" label="Card number" error={fieldError} hint="Sandbox: no real money moves. Use one of the test cards below.">
                  <input id="buy-card" inputMode="numeric" autoComplete="cc-number" maxLength={23} value={card} placeholder="4242 4242 4242 4242"
                    aria-describedby={fieldError ? 'buy-card-error' : 'buy-card-hint'} aria-invalid={!!fieldError}
                    onInput={(e) => setCard((e.currentTarget as HTMLInputElement).value)} />
                </Field>
                {prov?.test_cards && prov.test_cards.length > 0 && (
                  <div class="test-cards" data-testid="test-cards">
                    <span class="muted small">Test cards:</span>
                    <ul>
                      {prov.test_cards.map((c) => (
                        <li key={c.number}>
                          <button type="button" class="chip mono" onClick={() => setCard(c.number)} aria-label={`Use test card ${c.number}, which ${c.outcome}`}>
                            {c.number.replace(/(\d{4})(?=\d)/g, '$1 ')}
                          </button>
                          <span class="muted small"> {c.outcome}</span>
                        </li>
                      ))}
                    </ul>
                  </div>
                )}
              </>
            )}
            {result?.kind !== 'action' && (
              <div class="form-actions">
                <button type="submit" class="btn primary" disabled={busy || !pack || !prov} data-testid="buy-submit">
                  {busy ? <Spinner label="Paying" /> : pack ? `Buy ${coins(pack.coins)} for ${price(pack.price, pack.currency)}` : 'Buy'}
                </button>
              </div>
            )}
          </form>
        )}
      {result && <OrderResult result={result} retry={() => void submit()} onConfirmed={show} onCancel={() => setResult(null)}
        onDeclined={(message) => setResult({ kind: 'declined', message })} />}
    </section>
  );
}

function sentence(s: string): string {
  const t = s.trim();
  if (!t) return '';
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
}

function OrderResult({ result, retry, onConfirmed, onCancel, onDeclined }: {
  result: Result; retry: () => void; onConfirmed: (o: Order) => void; onCancel: () => void; onDeclined: (message: string) => void;
}) {
  switch (result.kind) {
    case 'paid':
      return (
        <p class="notice ok" role="status" data-testid="order-paid">
          <I.Check size={16} /> Payment received: {coins(result.order.coins)} added{typeof result.order.balance === 'number' ? <>. Your balance is {coins(result.order.balance)}</> : null}.
        </p>
      );
    case 'declined':
      return (
        <div class="form-error" role="alert" data-testid="order-declined">
          <strong>Your card was declined.</strong> {sentence(result.message)} No money was taken; buy again with another card.
        </div>
      );
    case 'action':
      return <ConfirmPayment order={result.order} onDone={onConfirmed} onCancel={onCancel} onDeclined={onDeclined} />;
    case 'pending':
      return <p class="notice" role="status" data-testid="order-pending">Your payment is being processed ({result.order.status}). Your coins arrive when it clears.</p>;
    case 'error': {
      const e = result.error;
      if (e instanceof ApiError && e.field === 'card') return null;
      const again = e instanceof ApiError && (e.status === 0 || e.status >= 500);
      return (
        <div class="form-error money-error" role="alert" data-testid="order-error">
          <span>{errorText(e)}</span>
          {again && <button type="button" class="btn small" onClick={retry}><I.Refresh size={14} /> Try again</button>}
        </div>
      );
    }
  }
}

/** ConfirmPayment asks for the bank's code. A wrong code declines the order: the buyer then starts a new purchase. */
function ConfirmPayment({ order, onDone, onCancel, onDeclined }: { order: Order; onDone: (o: Order) => void; onCancel: () => void; onDeclined: (message: string) => void }) {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const confirm = useRef(new Action()).current;
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => { input.current?.focus(); }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!code.trim()) return;
    setBusy(true);
    setError('');
    try {
      onDone(await confirmOrder(confirm, order.id, code.trim()));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'card_declined') onDeclined(err.message);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="confirm-pay" onSubmit={submit} noValidate aria-labelledby="confirm-h" data-testid="order-confirm">
      <h3 id="confirm-h">Confirm your payment</h3>
      <p class="muted">{sentence(order.message || 'your bank asks you to confirm this payment')} In the sandbox the code is <code>123456</code>; a wrong code declines the payment.</p>
      <Field id="confirm-code" label="Confirmation code" error={error || undefined}>
        <input id="confirm-code" ref={input} inputMode="numeric" autoComplete="one-time-code" maxLength={12} value={code}
          aria-describedby={error ? 'confirm-code-error' : undefined} onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)} />
      </Field>
      <div class="form-actions">
        <button type="button" class="btn ghost" onClick={onCancel}>Cancel</button>
        <button type="submit" class="btn primary" disabled={busy || !code.trim()} data-testid="confirm-submit">{busy ? <Spinner label="Confirming" /> : 'Confirm payment'}</button>
      </div>
    </form>
  );
}

function Subscriptions() {
  const list = useAsync(mySubscriptions, []);
  const subs = (list.data ?? []).filter((s) => s.subscribed || s.status === 'active');
  return (
    <section class="panel" aria-labelledby="mysubs-h">
      <h2 id="mysubs-h">Your subscriptions</h2>
      {list.error ? <ErrorState error={list.error} retry={list.reload} title="Your subscriptions did not load" /> : !list.data ? <Spinner /> : subs.length === 0 ? (
        <p class="muted">You do not subscribe to any channel. Subscribe from a channel page to get its badge, its subscriber-only chat and no ads.</p>
      ) : (
        <ul class="sub-list">
          {subs.map((s) => (
            <li key={s.channel?.slug}>
              <a href={`/c/${encodeURIComponent(s.channel?.slug ?? '')}`}><strong>{s.channel?.name ?? s.channel?.slug}</strong></a>
              <span class="muted"> · Tier {s.tier} · {s.renews ? `renews ${dateTime(s.period_end)}` : `ends ${dateTime(s.period_end)}`}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function kindLabel(kind: string): string {
  const k = kind.replace(/[._]/g, ' ');
  return k.charAt(0).toUpperCase() + k.slice(1);
}

function Transactions({ version }: { version: number }) {
  const first = useAsync(() => walletTxns(), [version]);
  const [more, setMore] = useState<WalletTxn[]>([]);
  const [next, setNext] = useState('');
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState('');
  useEffect(() => { if (first.data) { setMore([]); setNext(first.data.next); } }, [first.data]);
  const rows = [...(first.data?.items ?? []), ...more];
  const loadMore = async () => {
    setLoadingMore(true);
    setMoreError('');
    try {
      const page: Paged<WalletTxn> = await walletTxns(next);
      setMore((m) => [...m, ...page.items]);
      setNext(page.next);
    } catch (e) {
      setMoreError(errorText(e));
    } finally {
      setLoadingMore(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="txns-h" data-testid="wallet-txns">
      <h2 id="txns-h">Transactions</h2>
      {first.error && !first.data ? <ErrorState error={first.error} retry={first.reload} title="The transactions did not load" /> : !first.data ? <Spinner label="Loading transactions" /> : rows.length === 0 ? (
        <EmptyState title="No transactions yet" icon={<I.Coin size={32} />}><p>Coins you buy and spend show up here.</p></EmptyState>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Channel</th><th scope="col" class="num">Coins</th></tr></thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.id} data-testid="wallet-txn" data-kind={t.kind} data-amount={t.amount}>
                    <td class="muted">{dateTime(t.created_at)}</td>
                    <td>{kindLabel(t.kind)}</td>
                    <td>{t.channel ? <a href={`/c/${encodeURIComponent(t.channel)}`}>{t.channel}</a> : <span class="muted">—</span>}</td>
                    <td class={`num ${t.amount < 0 ? 'neg' : 'pos'}`}>{t.amount > 0 ? '+' : ''}{t.amount.toLocaleString('en-US')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {moreError && <p class="form-error" role="alert">{moreError}</p>}
          {next && <div class="more"><button type="button" class="btn" disabled={loadingMore} onClick={() => void loadMore()}>{loadingMore ? <Spinner /> : 'Load more'}</button></div>}
        </>
      )}
    </section>
  );
}
