// Cursor pagination over time-ordered ids: newest first, `startingAfter` is the last
// id of the previous page. Fetches limit+1 rows to know whether there is more.
export interface PageRequest {
  limit: number;
  startingAfter?: string | undefined;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
}

export const DEFAULT_PAGE_LIMIT = 10;
export const MAX_PAGE_LIMIT = 100;

export function toPage<T>(rows: T[], limit: number): Page<T> {
  return { data: rows.slice(0, limit), has_more: rows.length > limit };
}
