// A small history router: routes are matched on the path, links are plain
// <a href> elements whose same-origin clicks are turned into navigations.
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo(0, 0);
  listeners.forEach((l) => l());
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

/** installLinkHandler turns same-origin link clicks into client navigations. */
export function installLinkHandler(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    const p = a.pathname;
    if (p.startsWith('/api/') || p.startsWith('/hls/') || p.startsWith('/thumbnails/') || p === '/metrics') return;
    e.preventDefault();
    navigate(p + a.search);
  });
}

export interface Match {
  name: string;
  params: Record<string, string>;
}

const routes: Array<[string, RegExp]> = [
  ['home', /^\/$/],
  ['browse', /^\/browse\/?$/],
  ['category', /^\/category\/([^/]+)\/?$/],
  ['tag', /^\/tag\/([^/]+)\/?$/],
  ['search', /^\/search\/?$/],
  ['following', /^\/following\/?$/],
  ['channel', /^\/c\/([^/]+)\/?$/],
  ['signin', /^\/signin\/?$/],
  ['signup', /^\/signup\/?$/],
  ['dashboard', /^\/dashboard(?:\/([^/]+))?\/?$/],
  ['admin', /^\/admin(?:\/([^/]+))?\/?$/],
  ['notifications', /^\/notifications\/?$/],
  ['account', /^\/account\/?$/],
  // The wallet lives under /account so a direct load is a known client route (web.go's spaRoutes).
  ['wallet', /^\/(?:account\/)?wallet\/?$/],
  // No app chrome: the chat in its own window, and OBS browser sources.
  ['popout-chat', /^\/popout\/([^/]+)\/chat\/?$/],
  ['overlay-chat', /^\/overlay\/([^/]+)\/chat\/?$/],
  ['overlay-poll', /^\/overlay\/([^/]+)\/poll\/?$/],
  ['overlay-alerts', /^\/overlay\/([^/]+)\/alerts\/?$/],
];

export function match(path: string): Match {
  for (const [name, re] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    if (m[1] === undefined) return { name, params: {} };
    try {
      return { name, params: { id: decodeURIComponent(m[1]) } };
    } catch {
      return { name: 'notfound', params: {} }; // a malformed escape such as /c/%E0
    }
  }
  return { name: 'notfound', params: {} };
}
