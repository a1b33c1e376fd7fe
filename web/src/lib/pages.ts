// Every page of a list endpoint (up to a bound), for lists a page searches and sorts itself.
import { api, type Query } from './api';
import type { Page } from './types';

export async function allPages<T>(path: string, query: Query, idOf: (item: T) => string, maxPages = 20): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let after: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await api.get<Page<T>>(path, { ...query, limit: 100, starting_after: after });
    items.push(...page.data);
    const last = page.data[page.data.length - 1];
    if (!page.has_more || !last) return { items, complete: true };
    after = idOf(last);
  }
  return { items, complete: false };
}
