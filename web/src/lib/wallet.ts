// The signed-in user's coin balance, shared by the header chip and every
// view that spends or buys coins (their answers carry the new balance).
// Kept apart from lib/money.ts so the entry bundle carries only this.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import type { Wallet } from './types';

type Listener = (w: Wallet | null | undefined) => void;

let current: Wallet | null | undefined;
let owner = '';
const listeners = new Set<Listener>();

function set(w: Wallet | null | undefined) {
  current = w;
  listeners.forEach((l) => l(w));
}

export const wallet = {
  get: () => current,
  /** setBalance records a balance a money answer reported. */
  setBalance(balance: number | undefined) {
    if (typeof balance !== 'number') return;
    set({ receivable: 0, currency: 'COIN', ...current, balance });
  },
  set,
  /** refresh reads GET /me/wallet; null when there is no wallet to show (signed out, or no money API). */
  async refresh(): Promise<void> {
    try {
      set(await api.get<Wallet>('/me/wallet'));
    } catch {
      set(null);
    }
  },
};

/** useWallet follows the balance of the signed-in user (userId), loading it once per user. */
export function useWallet(userId: string | undefined): Wallet | null | undefined {
  const [w, setW] = useState(current);
  useEffect(() => {
    listeners.add(setW);
    if (!userId) {
      setW(undefined);
    } else if (owner !== userId) {
      owner = userId;
      set(undefined);
      void wallet.refresh();
    } else {
      setW(current);
    }
    return () => { listeners.delete(setW); };
  }, [userId]);
  return userId ? w : undefined;
}
