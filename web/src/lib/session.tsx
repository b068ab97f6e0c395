// The signed-in session and the app-wide toasts, shared through context.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import type { User } from './types';

export interface Session {
  /** undefined while /auth/me is in flight (or retried), null when signed out. */
  user: User | null | undefined;
  /** error is why /auth/me failed other than "not signed in"; it is retried. */
  error?: Error;
  setUser: (u: User | null) => void;
  signOut: () => Promise<void>;
}

const SessionCtx = createContext<Session>({ user: undefined, setUser: () => {}, signOut: async () => {} });

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wait = 1000;
    const check = () => api.me().then(
      (me) => { setUser(me.user); setError(undefined); },
      (e: Error) => {
        // 401: not signed in; 403: a suspended account. Anything else (the
        // network, a 5xx) says nothing about the session: try again.
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          setUser(null);
          setError(undefined);
          return;
        }
        setError(e);
        timer = setTimeout(check, wait);
        wait = Math.min(wait * 2, 30_000);
      },
    );
    check();
    return () => clearTimeout(timer);
  }, []);
  const signOut = useCallback(async () => {
    await api.signOut().catch(() => undefined);
    setUser(null);
  }, []);
  const value = useMemo(() => ({ user, error, setUser, signOut }), [user, error, signOut]);
  return <SessionCtx.Provider value={value}>{children}</SessionCtx.Provider>;
}

export const useSession = () => useContext(SessionCtx);

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error' | 'live';
  title: string;
  body?: string;
  href?: string;
  action?: string;
}

interface Toasts {
  toasts: Toast[];
  push: (t: Omit<Toast, 'id'>) => void;
  dismiss: (id: number) => void;
}

const ToastCtx = createContext<Toasts>({ toasts: [], push: () => {}, dismiss: () => {} });

export function ToastProvider({ children }: { children: ComponentChildren }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const push = useCallback((t: Omit<Toast, 'id'>) => {
    const id = Date.now() + Math.random();
    setToasts((ts) => [...ts.slice(-3), { ...t, id }]);
    setTimeout(() => dismiss(id), t.kind === 'live' ? 12000 : 5000);
  }, [dismiss]);
  const value = useMemo(() => ({ toasts, push, dismiss }), [toasts, push, dismiss]);
  return <ToastCtx.Provider value={value}>{children}</ToastCtx.Provider>;
}

export const useToasts = () => useContext(ToastCtx);
