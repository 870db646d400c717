import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyAuthenticator } from '../../core/accounts.js';
import type { CoreDeps } from '../../core/context.js';
import type { OperatorDeps, OperatorSession } from '../../core/operators.js';
import { pageLanguage } from '../../domain/checkout_sessions.js';
import type { PageLanguage } from '../../domain/checkout_sessions.js';
import type { Scope } from '../../store/scope.js';
import { queryParam } from '../pages/html.js';
import { DASHBOARD_PATH, LANG_COOKIE, sessionOf } from './session.js';
import type { PageLocation } from './views.js';

/**
 * What every dashboard page module gets (one module per area: payments, disputes, balance, …):
 * the core's dependencies and the request facts every page needs. Page modules register their
 * routes with `registerXPages(scope, kit)`; the guard in index.ts has already checked the
 * session, the mode and, on POST, the CSRF token before any of their handlers run.
 */
export interface DashboardKit {
  core: CoreDeps;
  operators: OperatorDeps;
  /** ZHIFU_PUBLIC_URL, for links that leave the dashboard (hosted pages, request log URLs). */
  publicUrl: string;
  /** The API's key cache in this process: revoking a key on a page drops it from there too. */
  authenticator: ApiKeyAuthenticator;
}

/** The signed-in operator's data scope: their account, in the mode this request shows. */
export function scopeOf(req: FastifyRequest): Scope {
  return { accountId: sessionOf(req).operator.accountId, livemode: req.dashboardLivemode };
}

/** The operator behind a request, with what a page or an action needs to know about them. */
export function operatorOf(req: FastifyRequest): OperatorSession {
  return sessionOf(req);
}

/**
 * The page's language: `?lang=` (remembered in a cookie for the next pages), then that cookie,
 * then Accept-Language; Chinese by default, like the hosted checkout.
 */
export function locationOf(req: FastifyRequest, reply: FastifyReply): PageLocation {
  const chosen = queryParam(req.query, 'lang');
  // Optional: a request refused before the cookie hook ran (a malformed query) has no parsed cookies.
  const remembered = (req.cookies as Partial<Record<string, string>> | undefined)?.[LANG_COOKIE];
  const lang: PageLanguage = pageLanguage(chosen, remembered === 'zh' || remembered === 'en' ? remembered : null, req.headers['accept-language']);
  if ((chosen === 'zh' || chosen === 'en') && chosen !== remembered) {
    void reply.setCookie(LANG_COOKIE, chosen, { path: DASHBOARD_PATH, sameSite: 'lax', maxAge: 365 * 24 * 3600 });
  }
  return { url: req.url, lang };
}
