import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperatorSession } from '../../core/operators.js';
import { SESSION_IDLE_MS } from '../../core/operators.js';

/** The session cookie: a random 32-byte token; the database keeps only its SHA-256. */
export const SESSION_COOKIE = 'zhifu_session';
/**
 * Before sign-in there is no session to hold a CSRF secret, so the sign-in form is protected by
 * double submit: a random value in this cookie (SameSite=Strict, readable by no script) that the
 * form must repeat. A third-party page can make a browser post the form but cannot know the value.
 */
export const LOGIN_CSRF_COOKIE = 'zhifu_login_csrf';
export const LANG_COOKIE = 'zhifu_dashboard_lang';
export const DASHBOARD_PATH = '/dashboard';
export const LOGIN_PATH = '/dashboard/login';
export const LOGOUT_PATH = '/dashboard/logout';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in operator's session on dashboard routes (null: not signed in). */
    operatorSession: OperatorSession | null;
    /** The data mode a dashboard page shows: `?mode=live` (allowed with live_access) or test. */
    dashboardLivemode: boolean;
  }
}

/** The signed-in operator's session; only on routes behind the dashboard's sign-in guard. */
export function sessionOf(req: FastifyRequest): OperatorSession {
  if (req.operatorSession === null) throw new Error(`dashboard route ${req.url} ran without a session`);
  return req.operatorSession;
}

export interface CookieSettings {
  /** Secure cookies when the public URL is https (a browser would drop them over plain http). */
  secure: boolean;
}

export function setSessionCookie(reply: FastifyReply, settings: CookieSettings, token: string): void {
  void reply.setCookie(SESSION_COOKIE, token, {
    path: DASHBOARD_PATH, httpOnly: true, sameSite: 'lax', secure: settings.secure,
    // The browser may keep it as long as the server would; the server's idle expiry decides.
    maxAge: Math.floor(SESSION_IDLE_MS / 1000),
  });
}

export function clearSessionCookie(reply: FastifyReply, settings: CookieSettings): void {
  void reply.clearCookie(SESSION_COOKIE, { path: DASHBOARD_PATH, httpOnly: true, sameSite: 'lax', secure: settings.secure });
}

const LOGIN_CSRF_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The pre-session CSRF value of this browser, set now if it has none (or a malformed one). */
export function loginCsrfOf(req: FastifyRequest, reply: FastifyReply, settings: CookieSettings): string {
  const existing = req.cookies[LOGIN_CSRF_COOKIE];
  if (existing !== undefined && LOGIN_CSRF_PATTERN.test(existing)) return existing;
  const value = randomBytes(32).toString('base64url');
  void reply.setCookie(LOGIN_CSRF_COOKIE, value, { path: LOGIN_PATH, httpOnly: true, sameSite: 'strict', secure: settings.secure });
  return value;
}

export function submittedLoginCsrf(req: FastifyRequest): string | undefined {
  const value = req.cookies[LOGIN_CSRF_COOKIE];
  return value !== undefined && LOGIN_CSRF_PATTERN.test(value) ? value : undefined;
}

/** A string field of a urlencoded form body ('' when absent or not a string). */
export function formField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}
