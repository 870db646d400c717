import { invalidRequest } from '../errors.js';
import { LIST_LIMIT_DEFAULT } from '../store/pagination.js';
import type { CreatedFilter, Cursor, ListWindow } from '../store/pagination.js';

/** List parameters of api.md §1 after HTTP validation. */
export interface ListParams {
  limit?: number | null;
  created?: CreatedFilter | number | null;
  starting_after?: string | null;
  ending_before?: string | null;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/**
 * Turns list parameters into a keyset window, resolving the cursor object within the caller's
 * scope (`findCursor` only sees the caller's own objects, so another account's id is "no such").
 */
export async function listWindow(params: ListParams, kind: string, findCursor: (id: string) => Promise<Cursor | undefined>): Promise<ListWindow> {
  if (params.starting_after != null && params.ending_before != null) {
    throw invalidRequest('parameter_invalid', 'You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');
  }
  const created: CreatedFilter = typeof params.created === 'number' ? { gte: params.created, lte: params.created } : (params.created ?? {});
  const window: ListWindow = { limit: params.limit ?? LIST_LIMIT_DEFAULT, created, cursor: null };
  const [param, direction] = params.starting_after != null ? (['starting_after', 'after'] as const) : (['ending_before', 'before'] as const);
  const cursorId = params.starting_after ?? params.ending_before;
  if (cursorId == null) return window;
  const at = await findCursor(cursorId);
  if (at === undefined) throw invalidRequest('resource_missing', `No such ${kind}: '${cursorId}'`, param);
  return { ...window, cursor: { direction, at } };
}
