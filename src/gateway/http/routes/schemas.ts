import { LIST_LIMIT_MAX } from '../../store/pagination.js';
import { createdFilter, integer, notUnsettable, string } from '../schema.js';

/** Object ids in paths and parameters: prefix + 19 digits, nothing else reaches a query. */
export const objectId = (prefix: string) => string({ max: 64, pattern: new RegExp(`^${prefix}_\\d{19}$`), patternHint: `expected ${prefix}_ followed by 19 digits` });

/** List parameters of api.md §1, shared by every list endpoint. */
export const listShape = {
  limit: notUnsettable(integer({ min: 1, max: LIST_LIMIT_MAX })),
  created: createdFilter(),
  starting_after: string({ max: 64 }),
  ending_before: string({ max: 64 }),
};

/** The list envelope of api.md §1. */
export function listEnvelope(url: string, page: { data: unknown[]; hasMore: boolean }) {
  return { object: 'list', url, has_more: page.hasMore, data: page.data };
}
