import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient, RoomState } from './chat';
import type { Page } from './types';

export interface Async<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

/**
 * useAsync runs load when deps change and on reload(). A reload keeps the old
 * data on screen until the new answer arrives; answers to stale calls are dropped.
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => n === seq.current && setState({ data, loading: false }),
      (error: Error) => n === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    setState({ loading: true });
    run();
    return () => { seq.current++; };
  }, [run]);
  return { ...state, reload: run };
}

export interface Paged<T, P extends Page<T> = Page<T>> extends Async<P> {
  /** items are the first page and every page loaded since. */
  items: T[];
  setItems: (f: (items: T[]) => T[]) => void;
  /** more loads the next page; hasMore says whether there is one. */
  more: () => void;
  hasMore: boolean;
  loadingMore: boolean;
  moreError?: Error;
}

/**
 * usePaged loads the first page of a cursor-paged list when deps change, and
 * further pages on more(). A failed page keeps what is shown and sets moreError.
 */
export function usePaged<T, P extends Page<T> = Page<T>>(load: (cursor?: string) => Promise<P>, deps: unknown[]): Paged<T, P> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<Error | undefined>();
  const first = useAsync(async () => {
    const p = await load();
    setItems(p.items);
    setCursor(p.next_cursor);
    setMoreError(undefined);
    return p;
  }, deps);
  const gen = useRef(0);
  useEffect(() => { gen.current++; }, [first.data]);
  const more = () => {
    if (!cursor || loadingMore) return;
    const g = gen.current;
    setLoadingMore(true);
    setMoreError(undefined);
    load(cursor).then(
      (p) => { if (g === gen.current) { setItems((xs) => [...xs, ...p.items]); setCursor(p.next_cursor); } },
      (e: Error) => { if (g === gen.current) setMoreError(e); },
    ).finally(() => setLoadingMore(false));
  };
  return { ...first, items, setItems, more, hasMore: !!cursor, loadingMore, moreError };
}

/** useInterval calls fn every ms while the page is visible. */
export function useInterval(fn: () => void, ms: number | null): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const id = setInterval(() => { if (!document.hidden) ref.current(); }, ms);
    return () => clearInterval(id);
  }, [ms]);
}

export function useTitle(title: string): void {
  useEffect(() => { document.title = title ? `${title} · Livehouse` : 'Livehouse'; }, [title]);
}

/** useRoom follows a room client's state (web/src/lib/chat.ts). */
export function useRoom(client: ChatClient): RoomState {
  const [s, setS] = useState(client.state);
  useEffect(() => {
    setS(client.state);
    return client.subscribe(setS);
  }, [client]);
  return s;
}
