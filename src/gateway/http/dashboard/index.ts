import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyAuthenticator } from '../../core/accounts.js';
import { homeSummary } from '../../core/dashboard_home.js';
import { csrfTokensEqual, loadSession, signIn, signOut } from '../../core/operators.js';
import type { OperatorDeps } from '../../core/operators.js';
import { ApiError } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { registerApiKeyPages } from './api_keys.js';
import { registerBalancePages } from './balance.js';
import { registerCheckoutPages } from './checkout.js';
import { registerDevelopersPages } from './developers.js';
import { registerDisputePages } from './disputes.js';
import type { DashboardKit } from './kit.js';
import { locationOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { registerPaymentPages } from './payments.js';
import {
  clearSessionCookie, DASHBOARD_PATH, formField, LOGIN_CSRF_COOKIE, LOGIN_PATH, LOGOUT_PATH, loginCsrfOf, SESSION_COOKIE, sessionOf,
  setSessionCookie, submittedLoginCsrf,
} from './session.js';
import type { CookieSettings } from './session.js';
import { DASHBOARD_TEXT } from './text.js';
import { homePage, loginPage, messagePage } from './views.js';
import type { PageLocation } from './views.js';

export interface DashboardOptions {
  /** ZHIFU_PUBLIC_URL: cookies are Secure when it is https. */
  publicUrl: string;
  /** The API's key authenticator, so keys revoked on the API keys page stop working at once. */
  authenticator: ApiKeyAuthenticator;
}

/** The dashboard's areas, each a module of pages (see kit.ts). */
const PAGE_MODULES: readonly ((scope: FastifyInstance, kit: DashboardKit) => void)[] = [
  registerPaymentPages,
  registerCheckoutPages,
  registerDisputePages,
  registerBalancePages,
  registerApiKeyPages,
  registerDevelopersPages,
];

/**
 * The merchant dashboard (api.md §8): server-rendered pages under /dashboard, signed in with an
 * operator's e-mail and password (core/operators.ts). Every route here declares `auth: 'none'`
 * for the API-key hook and is guarded instead by the session hooks below: pages other than the
 * sign-in page need a live session, and every POST needs its CSRF token.
 */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions): void {
  const settings: CookieSettings = { secure: options.publicUrl.startsWith('https://') };
  void app.register(async (scope) => {
    await scope.register(fastifyCookie);
    const deps: OperatorDeps = { database: scope.core.database, clock: scope.core.clock, ids: scope.core.ids };
    const kit: DashboardKit = { core: scope.core, operators: deps, publicUrl: options.publicUrl, authenticator: options.authenticator };
    scope.decorateRequest('operatorSession', null);
    scope.decorateRequest('dashboardLivemode', false);

    scope.addHook('onRequest', async (req) => {
      const token = req.cookies[SESSION_COOKIE];
      req.operatorSession = token === undefined ? null : await loadSession(deps, token);
    });

    // Sign-in is open; everything else needs a session, a permitted mode, and on POST its CSRF token.
    scope.addHook('preHandler', async (req, reply) => {
      if (isLoginRoute(req)) return;
      const location = locationOf(req, reply);
      const t = DASHBOARD_TEXT[location.lang];
      const session = req.operatorSession;
      if (session === null) {
        if (req.method === 'POST') return refuseCsrf(reply, location, null);
        return reply.redirect(`${LOGIN_PATH}${location.lang === 'en' ? '?lang=en' : ''}`, 303);
      }
      if (req.method === 'POST' && !csrfTokensEqual(session.csrfToken, formField(req.body, 'csrf_token'))) return refuseCsrf(reply, location, session);
      const live = queryParam(req.query, 'mode') === 'live';
      if (live && !session.operator.liveAccess) {
        return sendDashboardPage(reply, 403, messagePage(location, t.forbiddenTitle, t.liveForbiddenText, { href: DASHBOARD_PATH, label: t.backHome }, session));
      }
      req.dashboardLivemode = live;
    });

    // Pages answer errors as pages: a refused request (bad query, body) with its 4xx and reason, anything else as a 500.
    scope.setErrorHandler(async (error, req, reply) => {
      const location = locationOf(req, reply);
      const t = DASHBOARD_TEXT[location.lang];
      const status = error instanceof ApiError ? error.status : (error as { statusCode?: number }).statusCode;
      const code = status !== undefined && status >= 400 && status < 500 ? status : 500;
      if (code === 500) req.log.error({ err: error }, 'dashboard request failed');
      else req.log.info({ err: error }, 'dashboard request refused');
      const text = code === 500 ? t.errorText : (error as Error).message;
      return sendDashboardPage(reply, code, messagePage(location, t.errorTitle, text, { href: DASHBOARD_PATH, label: t.backHome }, null));
    });

    scope.get(LOGIN_PATH, routeAuth('none'), async (req, reply) => {
      if (req.operatorSession !== null) return reply.redirect(DASHBOARD_PATH, 303);
      const location = locationOf(req, reply);
      return sendDashboardPage(reply, 200, loginPage(location, { csrfToken: loginCsrfOf(req, reply, settings), email: '', error: false }));
    });

    scope.post(LOGIN_PATH, routeAuth('none'), async (req, reply) => {
      const location = locationOf(req, reply);
      const t = DASHBOARD_TEXT[location.lang];
      const expected = submittedLoginCsrf(req);
      if (expected === undefined || !csrfTokensEqual(expected, formField(req.body, 'csrf_token'))) return refuseCsrf(reply, location, null, LOGIN_PATH);
      const email = formField(req.body, 'email');
      const result = await signIn(deps, email, formField(req.body, 'password'), req.ip);
      if (result.kind === 'rate_limited') {
        return sendDashboardPage(reply, 429, messagePage(location, t.rateLimitedTitle, t.rateLimitedText, { href: LOGIN_PATH, label: t.backToSignIn }, null));
      }
      // Unknown e-mail and wrong password: one answer, so the page does not tell which addresses exist.
      if (result.kind === 'invalid') return sendDashboardPage(reply, 401, loginPage(location, { csrfToken: expected, email: email.slice(0, 254), error: true }));
      setSessionCookie(reply, settings, result.token);
      void reply.clearCookie(LOGIN_CSRF_COOKIE, { path: LOGIN_PATH });
      return reply.redirect(DASHBOARD_PATH, 303);
    });

    scope.post(LOGOUT_PATH, routeAuth('none'), async (req, reply) => {
      await signOut(deps, sessionOf(req), req.ip);
      clearSessionCookie(reply, settings);
      return reply.redirect(LOGIN_PATH, 303);
    });

    scope.get(DASHBOARD_PATH, routeAuth('none'), async (req, reply) => {
      const session = sessionOf(req);
      const summary = await homeSummary(deps.database, session.operator.accountId, req.dashboardLivemode, deps.clock.now());
      return sendDashboardPage(reply, 200, homePage(locationOf(req, reply), session, summary));
    });

    // One module per area registers its pages here, all behind the guard above.
    for (const register of PAGE_MODULES) register(scope, kit);
  });
}

function isLoginRoute(req: FastifyRequest): boolean {
  return req.routeOptions.url === LOGIN_PATH;
}

function refuseCsrf(reply: FastifyReply, location: PageLocation, session: Parameters<typeof messagePage>[4], back = DASHBOARD_PATH): FastifyReply {
  const t = DASHBOARD_TEXT[location.lang];
  return sendDashboardPage(reply, 403, messagePage(location, t.forbiddenTitle, t.csrfText, { href: back, label: back === LOGIN_PATH ? t.backToSignIn : t.backHome }, session));
}
