import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient, RoomState } from './chat';

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
