import type { FastifyRequest } from 'fastify';
import { invalidRequest } from '../../errors.js';
import { LIST_LIMIT_MAX } from '../../store/pagination.js';
import { queryParam } from '../pages/html.js';

/**
 * An optional filter of a dashboard page's query that must be one of `allowed`: null when absent,
 * else the value, or a 400 naming the parameter and the values it takes (shown as the page).
 */
export function enumQuery<T extends string>(query: unknown, name: string, allowed: readonly T[]): T | null {
  const value = queryParam(query, name);
  if (value === undefined) return null;
  const known = allowed.find((entry) => entry === value);
  if (known === undefined) throw invalidRequest('parameter_invalid', `Invalid ${name} '${value}': use one of ${allowed.join(', ')}.`, name);
  return known;
}

/** `limit=1…100` rows a page (the API's bounds); the page's own size when absent. */
export function listLimitOf(req: FastifyRequest): { limit?: number } {
  const value = queryParam(req.query, 'limit');
  if (value === undefined) return {};
  const limit = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= LIST_LIMIT_MAX)) throw invalidRequest('parameter_invalid', `Invalid limit '${value}': use a whole number from 1 to ${LIST_LIMIT_MAX}.`, 'limit');
  return { limit };
}
