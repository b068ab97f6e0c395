// The application shell: header, routes, toasts and the go-live notifier.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren, ComponentType } from 'preact';
import { api } from './lib/api';
import { useInterval } from './lib/hooks';
import { match, navigate, useLocation } from './lib/router';
import { SessionProvider, ToastProvider, useSession, useToasts } from './lib/session';
import { useWallet } from './lib/wallet';
import * as I from './components/icons';
import { Avatar, Spinner } from './components/ui';
import { Home } from './pages/Home';
import { Browse, CategoryPage, Following, SearchPage, TagPage } from './pages/Directory';
import { ChannelPage } from './pages/Channel';
import { SignIn, SignUp } from './pages/Auth';
import { NotFound } from './pages/NotFound';

// Pages for creators and admins load on demand; viewers never download them.
function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let Loaded: ComponentType<P> | undefined;
  return function Lazy(props: P) {
    const [, force] = useState(0);
    useEffect(() => {
      if (!Loaded) void load().then((c) => { Loaded = c; force((x) => x + 1); });
    }, []);
    return Loaded ? <Loaded {...props} /> : <div class="page-loading"><Spinner /></div>;
  };
}
const Dashboard = lazy(() => import('./pages/Dashboard').then((m) => m.Dashboard));
const Admin = lazy(() => import('./pages/Admin').then((m) => m.Admin));
const Notifications = lazy(() => import('./pages/Notifications').then((m) => m.Notifications));
const Account = lazy(() => import('./pages/Account').then((m) => m.Account));
const PopoutChat = lazy(() => import('./components/Chat').then((m) => m.PopoutChat));
const OverlayChat = lazy(() => import('./components/Chat').then((m) => m.OverlayChat));
const OverlayPoll = lazy(() => import('./components/Chat').then((m) => m.OverlayPoll));
const OverlayAlerts = lazy(() => import('./components/Money').then((m) => m.OverlayAlerts));
const WalletPage = lazy(() => import('./pages/Wallet').then((m) => m.WalletPage));

/** bareRoute renders the pages without app chrome (pop-out chat, OBS overlays), or null. */
function bareRoute(name: string, id: string) {
  switch (name) {
    case 'popout-chat': return <PopoutChat slug={id} key={id} />;
    case 'overlay-chat': return <OverlayChat slug={id} key={id} />;
    case 'overlay-poll': return <OverlayPoll slug={id} key={id} />;
    case 'overlay-alerts': return <OverlayAlerts slug={id} key={id} />;
    default: return null;
  }
}

function Routes() {
  const loc = useLocation();
  const m = match(loc.path);
  const id = m.params.id ?? '';
  switch (m.name) {
    case 'home': return <Home />;
    case 'browse': return <Browse />;
    case 'category': return <CategoryPage slug={id} />;
    case 'tag': return <TagPage tag={id} />;
    case 'search': return <SearchPage q={loc.query.get('q') ?? ''} />;
    case 'following': return <Following />;
    case 'channel': return <ChannelPage slug={id} key={id} />;
    case 'signin': return <SignIn next={loc.query.get('next') ?? '/'} />;
    case 'signup': return <SignUp next={loc.query.get('next') ?? '/dashboard'} />;
    case 'dashboard': return <Dashboard slug={id} />;
    case 'admin': return <Admin tab={id || 'users'} />;
    case 'notifications': return <Notifications />;
    case 'account': return <Account />;
    case 'wallet': return <WalletPage next={loc.query.get('next') ?? ''} />;
    default: return <NotFound />;
  }
}

function UserMenu() {
  const { user, signOut } = useSession();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => { if (!ref.current?.contains(e.target as Node)) setOpen(false); };
    const esc = (e: KeyboardEvent) => { if (e.key === 'Escape') setOpen(false); };
    document.addEventListener('click', close);
    document.addEventListener('keydown', esc);
    return () => { document.removeEventListener('click', close); document.removeEventListener('keydown', esc); };
  }, [open]);
  if (user === undefined) return <span class="user-placeholder" />;
  if (user === null) {
    return (
      <div class="auth-links">
        <a class="btn ghost" href={`/signin?next=${encodeURIComponent(location.pathname)}`}>Sign in</a>
        <a class="btn primary" href="/signup">Sign up</a>
      </div>
    );
  }
  return (
    <div class="user-menu" ref={ref}>
      <button type="button" class="user-btn" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)} aria-label={`Account: ${user.display_name}`}>
        <Avatar name={user.display_name} size={32} />
      </button>
      {open && (
        <div class="dropdown" role="menu" onClick={() => setOpen(false)}>
          <div class="dropdown-head"><strong>{user.display_name}</strong><span class="muted">{user.email}</span></div>
          <a role="menuitem" href="/dashboard"><I.Radio size={16} /> Creator dashboard</a>
          <a role="menuitem" href="/following"><I.Heart size={16} /> Following</a>
          <a role="menuitem" href="/notifications"><I.Bell size={16} /> Notifications</a>
          <a role="menuitem" href="/account/wallet"><I.Coin size={16} /> Wallet and coins</a>
          <a role="menuitem" href="/account"><I.User size={16} /> Account and API tokens</a>
          {user.role === 'admin' && <a role="menuitem" href="/admin"><I.Shield size={16} /> Admin</a>}
          <button role="menuitem" type="button" onClick={() => void signOut().then(() => navigate('/'))}>Sign out</button>
        </div>
      )}
    </div>
  );
}

function SearchBox() {
  const loc = useLocation();
  const [q, setQ] = useState(loc.path === '/search' ? loc.query.get('q') ?? '' : '');
  return (
    <form class="search" role="search" onSubmit={(e) => { e.preventDefault(); if (q.trim()) navigate(`/search?q=${encodeURIComponent(q.trim())}`); }}>
      <label class="sr-only" for="site-search">Search channels</label>
      <input id="site-search" type="search" placeholder="Search channels, titles, tags" value={q} maxLength={100}
        onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      <button type="submit" class="search-btn" aria-label="Search"><I.Search size={18} /></button>
    </form>
  );
}

function Header() {
  const loc = useLocation();
  const { user } = useSession();
  const [unread, setUnread] = useState(0);
  const navLink = (href: string, label: string) => (
    <a href={href} aria-current={loc.path === href ? 'page' : undefined}>{label}</a>
  );
  useNotifier(setUnread);
  return (
    <header class="topbar">
      <a class="skip" href="#main">Skip to content</a>
      <a class="brand" href="/" aria-label="Livehouse home"><I.Logo /><span>Livehouse</span></a>
      <nav class="mainnav" aria-label="Main">
        {navLink('/', 'Live')}
        {navLink('/browse', 'Browse')}
        {user && navLink('/following', 'Following')}
      </nav>
      <SearchBox />
      <div class="topbar-right">
        {user && (
          <a class="icon-btn" href="/notifications" aria-label={unread ? `Notifications, ${unread} unread` : 'Notifications'}>
            <I.Bell />{unread > 0 && <span class="badge-count" aria-hidden="true">{unread > 9 ? '9+' : unread}</span>}
          </a>
        )}
        {user && <WalletChip userId={user.id} />}
        {user && <a class="btn ghost hide-sm" href="/dashboard"><I.Radio size={16} /> Go live</a>}
        <UserMenu />
      </div>
    </header>
  );
}

/** WalletChip shows the signed-in user's coins and leads to the wallet; hidden when the server has no wallet. */
function WalletChip({ userId }: { userId: string }) {
  const w = useWallet(userId);
  if (!w) return null;
  const n = w.balance.toLocaleString('en-US');
  return (
    <a class="wallet-chip" href="/account/wallet" data-testid="wallet-chip" data-balance={w.balance}
      aria-label={`Wallet: ${n} ${w.balance === 1 ? 'coin' : 'coins'}. Buy coins`} title="Your coins · buy coins">
      <I.Coin size={16} /><span>{n}</span>
    </a>
  );
}

/** useNotifier polls the notification list and toasts channels that just went live. */
function useNotifier(setUnread: (n: number) => void) {
  const { user } = useSession();
  const { push } = useToasts();
  const seen = useRef<Set<string> | null>(null);
  const check = () => {
    if (!user) return;
    api.notifications({ limit: 10 }).then((page) => {
      const fresh = page.items.filter((n) => !n.read);
      setUnread(page.unread); // all unread, not only those on this page
      const first = seen.current === null;
      seen.current ??= new Set();
      for (const n of fresh) {
        if (seen.current.has(n.id)) continue;
        seen.current.add(n.id);
        const recent = Date.now() - Date.parse(n.created_at) < 120_000;
        if (n.kind === 'live' && (!first || recent) && location.pathname !== `/c/${n.channel.slug}`) {
          push({ kind: 'live', title: `${n.channel.display_name} is live`, body: n.channel.title, href: `/c/${n.channel.slug}`, action: 'Watch' });
        }
      }
    }, () => undefined);
  };
  useEffect(() => { seen.current = null; setUnread(0); check(); }, [user?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  useInterval(check, user ? 20_000 : null);
}

/** TabBar is the phone navigation, fixed at the bottom of small screens. */
function TabBar() {
  const loc = useLocation();
  const { user } = useSession();
  const tab = (href: string, label: string, icon: ComponentChildren, active: boolean) => (
    <a href={href} aria-current={active ? 'page' : undefined}>{icon}<span>{label}</span></a>
  );
  return (
    <nav class="tabbar" aria-label="Sections">
      {tab('/', 'Live', <I.Radio size={20} />, loc.path === '/')}
      {tab('/browse', 'Browse', <I.Grid size={20} />, loc.path.startsWith('/browse') || loc.path.startsWith('/category'))}
      {tab(user ? '/following' : '/signin?next=/following', 'Following', <I.Heart size={20} />, loc.path === '/following')}
      {tab(user ? '/dashboard' : '/signup', 'Go live', <I.User size={20} />, loc.path.startsWith('/dashboard'))}
    </nav>
  );
}

function Toasts() {
  const { toasts, dismiss } = useToasts();
  return (
    <div class="toasts" aria-live="polite" aria-atomic="false">
      {toasts.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          {t.kind === 'live' && <span class="live-badge small">Live</span>}
          <div class="toast-text"><strong>{t.title}</strong>{t.body && <span>{t.body}</span>}</div>
          {t.href && <a class="btn small primary" href={t.href} onClick={() => dismiss(t.id)}>{t.action ?? 'Open'}</a>}
          <button type="button" class="icon-btn small" onClick={() => dismiss(t.id)} aria-label="Dismiss"><I.Close size={16} /></button>
        </div>
      ))}
    </div>
  );
}

/** SessionNotice says when the sign-in state cannot be checked (the session retries). */
function SessionNotice() {
  const { user, error } = useSession();
  if (user !== undefined || !error) return null;
  return <p class="notice warn session-notice" role="status">Cannot reach the server to check your sign-in ({error.message}); trying again…</p>;
}

function Shell() {
  const loc = useLocation();
  const m = match(loc.path);
  const bare = bareRoute(m.name, m.params.id ?? '');
  if (bare) return <main id="main" class="bare">{bare}</main>;
  return (
    <>
      <Header />
      <SessionNotice />
      <main id="main" tabIndex={-1}><Routes /></main>
      <TabBar />
      <Toasts />
    </>
  );
}

export function App() {
  return (
    <SessionProvider>
      <ToastProvider>
        <Shell />
      </ToastProvider>
    </SessionProvider>
  );
}
