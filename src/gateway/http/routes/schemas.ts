import { LIST_LIMIT_MAX } from '../../store/pagination.js';
import { createdFilter, integer, notUnsettable, string } from '../schema.js';

/** The longest id accepted in a path or parameter (Stripe's own ids stay well below it). */
export const OBJECT_ID_LENGTH_MAX = 255;

/**
 * Object ids in paths and parameters. Zhifu's own are prefix + 19 digits; an id with the right
 * prefix but another shape (Stripe's `pi_3NxYz…`, `cs_test_a1B2…`) is well-formed and simply
 * names no object here, so it is looked up like any unknown id and answers what an unknown id
 * answers (404 `resource_missing`, or an empty list for a filter). A wrong prefix or a character
 * no id has (anything but ASCII letters, digits and `_`) is a 400: only these reach a query.
 */
export const objectId = (prefix: string) =>
  string({ max: OBJECT_ID_LENGTH_MAX, pattern: new RegExp(`^${prefix}_[A-Za-z0-9][A-Za-z0-9_]*$`), patternHint: `expected an id starting with ${prefix}_ such as ${prefix}_1666729870215872512` });

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
