// The server's clock, for countdowns: in sandbox mode the test clock may stand still or
// sit years ahead of the browser's, so deadlines count down from the server's "now".
import { useEffect, useState } from 'react';
import { api } from './api';

interface ServerClock {
  serverMs: number;
  fetchedAt: number;
  frozen: boolean;
}

let current: ServerClock | null = null;
const listeners = new Set<() => void>();

export async function syncServerClock(): Promise<void> {
  try {
    const clock = await api.get<{ now: string; frozen: boolean }>('/v1/test/clock');
    current = { serverMs: Date.parse(clock.now), fetchedAt: Date.now(), frozen: clock.frozen };
  } catch {
    try {
      const health = await api.get<{ time: string }>('/v1/health');
      current = { serverMs: Date.parse(health.time), fetchedAt: Date.now(), frozen: false };
    } catch {
      current = null;
    }
  }
  listeners.forEach((fn) => fn());
}

export function serverNow(): number {
  if (!current) return Date.now();
  return current.frozen ? current.serverMs : current.serverMs + (Date.now() - current.fetchedAt);
}

export function isClockFrozen(): boolean {
  return current?.frozen ?? false;
}

/** Syncs once when a page that shows deadlines mounts; re-renders when it is known. */
export function useServerClock(): void {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const fn = () => setVersion((v) => v + 1);
    listeners.add(fn);
    void syncServerClock();
    return () => {
      listeners.delete(fn);
    };
  }, []);
}
