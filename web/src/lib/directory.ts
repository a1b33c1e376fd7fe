// Staff pages name customers, providers and sites rather than showing ids: one shared,
// cached list of each (refreshed when something is created).
import { useEffect, useState } from 'react';
import { api } from './api';
import type { Customer, Page, Provider, Site } from './types';

export interface Directory {
  customers: Customer[];
  providers: Provider[];
  sites: Site[];
}

let cached: Directory | null = null;
let loading: Promise<Directory> | null = null;
const listeners = new Set<(d: Directory) => void>();

async function all<T extends { id: string }>(path: string, extra: Record<string, string> = {}): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await api.get<Page<T>>(path, { limit: 100, starting_after: after, ...extra });
    out.push(...page.data);
    if (!page.has_more || !page.data.length) break;
    after = page.data[page.data.length - 1]?.id;
  }
  return out;
}

export function refreshDirectory(): Promise<Directory> {
  loading = (async () => {
    const [customers, providers, sites] = await Promise.all([all<Customer>('/v1/customers'), all<Provider>('/v1/providers'), all<Site>('/v1/sites', { archived: 'all' })]);
    cached = { customers, providers, sites };
    listeners.forEach((fn) => fn(cached as Directory));
    return cached;
  })();
  return loading;
}

export function useDirectory(): Directory | null {
  const [dir, setDir] = useState<Directory | null>(cached);
  useEffect(() => {
    listeners.add(setDir);
    if (!cached && !loading) void refreshDirectory().catch(() => undefined);
    return () => {
      listeners.delete(setDir);
    };
  }, []);
  return dir;
}

export function nameOf(dir: Directory | null, id: string): string {
  if (!dir) return id;
  return dir.customers.find((c) => c.id === id)?.name ?? dir.providers.find((p) => p.id === id)?.name ?? dir.sites.find((s) => s.id === id)?.address ?? id;
}

/** Forget the lists (on sign-out, so the next person starts fresh). */
export function clearDirectory(): void {
  cached = null;
  loading = null;
}

/** The customers as choices of a select, after a "Choose…" that means none yet. */
export function customerOptions(dir: Directory | null): { value: string; label: string }[] {
  return [{ value: '', label: 'Choose…' }, ...(dir?.customers ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.email})` }))];
}
