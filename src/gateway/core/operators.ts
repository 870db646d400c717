import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { IdGenerator } from '../ids.js';
import { inTransaction, isUniqueViolation } from '../store/database.js';
import type { Database } from '../store/database.js';
import { findAccountById } from '../store/accounts.js';
import {
  countFailedSignIns, findLiveSession, findOperatorByEmail, findOperatorById, insertAuditEntry, insertOperatorSession, insertOperatorUser,
  listAuditEntries, listOperators, revokeSession, revokeSessionsOfUser, touchSession, updateOperatorPassword, updateOperatorRole,
} from '../store/operators.js';
import type { AuditLogRow, Executor, OperatorRole, OperatorUserRow } from '../store/schema.js';

/**
 * Dashboard operators: users, passwords, sessions, CSRF tokens and the audit log. No HTTP here:
 * the dashboard's routes (http/dashboard/) and the CLI call these.
 */

export interface OperatorDeps {
  database: Database;
  clock: Clock;
  ids: IdGenerator;
}

export const OPERATOR_ROLES: readonly OperatorRole[] = ['admin', 'viewer'];
export const PASSWORD_LENGTH_MIN = 10;
/** scrypt's input is hashed anyway; the cap only stops a megabyte "password" costing CPU. */
export const PASSWORD_LENGTH_MAX = 1024;
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** Failed sign-ins allowed per e-mail and IP within the window before further attempts are refused unchecked. */
export const SIGN_IN_FAILURES_MAX = 5;
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;

/**
 * scrypt cost: N = 2^15, r = 8 (≈32 MiB, tens of ms per check), the parameters OWASP lists for
 * scrypt. Stored per user so a later increase leaves existing hashes verifiable.
 */
interface ScryptParams { N: number; r: number; p: number; keylen: number }
const SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1, keylen: 32 };

/** What the dashboard knows of a signed-in operator (never the hash). */
export interface Operator {
  id: string;
  accountId: string;
  email: string;
  role: OperatorRole;
  liveAccess: boolean;
  created: number;
}

export class OperatorInputError extends Error {
  override name = 'OperatorInputError';
}

function operatorOf(row: OperatorUserRow): Operator {
  return { id: row.id, accountId: row.account_id, email: row.email, role: row.role, liveAccess: row.live_access === 1, created: row.created };
}

/** E-mail addresses compare case-insensitively and without surrounding blanks. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function checkEmail(email: string): string {
  const normalized = normalizeEmail(email);
  if (normalized.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(normalized)) throw new OperatorInputError(`not an e-mail address: ${JSON.stringify(email)}`);
  return normalized;
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD_LENGTH_MIN) throw new OperatorInputError(`the password must be at least ${PASSWORD_LENGTH_MIN} characters`);
  if (password.length > PASSWORD_LENGTH_MAX) throw new OperatorInputError(`the password must be at most ${PASSWORD_LENGTH_MAX} characters`);
}

function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

async function hashPassword(password: string): Promise<Pick<OperatorUserRow, 'password_hash' | 'password_salt' | 'password_params'>> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT_PARAMS);
  return { password_hash: key.toString('base64'), password_salt: salt.toString('base64'), password_params: JSON.stringify(SCRYPT_PARAMS) };
}

async function passwordMatches(row: Pick<OperatorUserRow, 'password_hash' | 'password_salt' | 'password_params'>, password: string): Promise<boolean> {
  const params = JSON.parse(row.password_params) as ScryptParams;
  const expected = Buffer.from(row.password_hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(row.password_salt, 'base64'), params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash no password matches, checked when the e-mail is unknown so that an unknown address
 * costs the same scrypt as a wrong password and the answer's timing does not tell them apart.
 */
let decoy: Promise<Pick<OperatorUserRow, 'password_hash' | 'password_salt' | 'password_params'>> | null = null;
function decoyHash() {
  decoy ??= hashPassword(randomBytes(32).toString('base64'));
  return decoy;
}

export interface NewOperator {
  accountId: string;
  email: string;
  password: string;
  role: OperatorRole;
  liveAccess: boolean;
}

/** Creates an operator; OperatorInputError for a bad e-mail, short password, unknown account or taken e-mail. */
export async function createOperator(deps: OperatorDeps, input: NewOperator): Promise<Operator> {
  const email = checkEmail(input.email);
  checkPassword(input.password);
  if (!OPERATOR_ROLES.includes(input.role)) throw new OperatorInputError(`the role must be admin or viewer, got ${JSON.stringify(input.role)}`);
  if (!(await findAccountById(deps.database.db, input.accountId))) throw new OperatorInputError(`no such account: ${input.accountId}`);
  const now = deps.clock.now();
  const row: OperatorUserRow = {
    id: deps.ids.next('usr'), account_id: input.accountId, email, ...(await hashPassword(input.password)),
    role: input.role, live_access: input.liveAccess ? 1 : 0, created: now, updated: now,
  };
  try {
    await inTransaction(deps.database, async (tx) => {
      await insertOperatorUser(tx, row);
      await appendAudit(tx, deps, { accountId: row.account_id, userId: null, actorEmail: null, action: 'operator.created', objectId: row.id, ip: null, detail: { email, role: row.role, live_access: input.liveAccess } });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new OperatorInputError(`an operator with the e-mail ${email} exists already`);
    throw error;
  }
  return operatorOf(row);
}

export async function listAllOperators(deps: Pick<OperatorDeps, 'database'>): Promise<Operator[]> {
  return (await listOperators(deps.database.db)).map(operatorOf);
}

/**
 * ZHIFU_ADMIN_EMAIL / ZHIFU_ADMIN_PASSWORD at start: creates that admin of `accountId`, or pins an
 * existing one to admin with this password (a reset only when the password differs, so restarts
 * keep sessions). An existing user of another account is refused rather than moved.
 */
export async function pinAdmin(deps: OperatorDeps, accountId: string, email: string, password: string): Promise<{ operator: Operator; change: 'created' | 'reset' | 'unchanged' }> {
  const existing = await findOperatorByEmail(deps.database.db, checkEmail(email));
  if (existing === undefined) return { operator: await createOperator(deps, { accountId, email, password, role: 'admin', liveAccess: true }), change: 'created' };
  if (existing.account_id !== accountId) throw new OperatorInputError(`ZHIFU_ADMIN_EMAIL must be an operator of the default account, but ${existing.email} belongs to ${existing.account_id}`);
  checkPassword(password);
  const now = deps.clock.now();
  const samePassword = await passwordMatches(existing, password);
  const roleChanges = existing.role !== 'admin' || existing.live_access !== 1;
  if (samePassword && !roleChanges) return { operator: operatorOf(existing), change: 'unchanged' };
  const hashed = samePassword ? null : await hashPassword(password);
  await inTransaction(deps.database, async (tx) => {
    if (hashed) {
      await updateOperatorPassword(tx, existing.id, { ...hashed, updated: now });
      await revokeSessionsOfUser(tx, existing.id, now);
    }
    if (roleChanges) await updateOperatorRole(tx, existing.id, { role: 'admin', live_access: 1, updated: now });
    await appendAudit(tx, deps, { accountId, userId: null, actorEmail: null, action: 'operator.pinned', objectId: existing.id, ip: null, detail: { password_reset: hashed !== null, role: 'admin' } });
  });
  const updated = await findOperatorById(deps.database.db, existing.id);
  return { operator: operatorOf(updated ?? existing), change: hashed ? 'reset' : 'unchanged' };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export type SignInResult =
  | { kind: 'signed_in'; operator: Operator; token: string }
  /** Unknown e-mail and wrong password alike: the caller must answer both the same way. */
  | { kind: 'invalid' }
  | { kind: 'rate_limited' };

/**
 * Checks an e-mail and password and opens a session. Failures are counted per e-mail and IP in
 * the audit log itself (so the limit holds across gateway processes and restarts): past
 * SIGN_IN_FAILURES_MAX in SIGN_IN_WINDOW_MS, attempts are refused without checking the password.
 */
export async function signIn(deps: OperatorDeps, emailInput: string, password: string, ip: string): Promise<SignInResult> {
  const email = normalizeEmail(emailInput).slice(0, 254);
  const now = deps.clock.now();
  const failures = await countFailedSignIns(deps.database.db, email, ip, now - SIGN_IN_WINDOW_MS);
  if (failures >= SIGN_IN_FAILURES_MAX) {
    await appendAudit(deps.database.db, deps, { accountId: null, userId: null, actorEmail: email, action: 'sign_in.rate_limited', objectId: null, ip, detail: null });
    return { kind: 'rate_limited' };
  }
  const row = await findOperatorByEmail(deps.database.db, email);
  const matches = password.length <= PASSWORD_LENGTH_MAX && (await passwordMatches(row ?? (await decoyHash()), password)) && row !== undefined;
  if (!matches || row === undefined) {
    await appendAudit(deps.database.db, deps, { accountId: row?.account_id ?? null, userId: row?.id ?? null, actorEmail: email, action: 'sign_in.failed', objectId: null, ip, detail: null });
    return { kind: 'invalid' };
  }
  const token = randomBytes(32).toString('base64url');
  await inTransaction(deps.database, async (tx) => {
    await insertOperatorSession(tx, { id: hashToken(token), user_id: row.id, created: now, expires_at: now + SESSION_IDLE_MS, last_seen: now, csrf_secret: randomBytes(32).toString('base64url'), revoked_at: null });
    await appendAudit(tx, deps, { accountId: row.account_id, userId: row.id, actorEmail: row.email, action: 'sign_in', objectId: null, ip, detail: null });
  });
  return { kind: 'signed_in', operator: operatorOf(row), token };
}

export interface OperatorSession {
  operator: Operator;
  /** The hashed id, for sign-out. */
  sessionId: string;
  /** To be put in every form of this session and checked on every POST (verifyCsrfToken). */
  csrfToken: string;
}

/** Activity moves the idle expiry; writing it at most once a minute keeps page loads read-only. */
const TOUCH_INTERVAL_MS = 60_000;

/** The session of a cookie's token, or null when unknown, revoked or idle past expiry; extends the idle expiry. */
export async function loadSession(deps: OperatorDeps, token: string): Promise<OperatorSession | null> {
  if (token === '' || token.length > 100) return null;
  const now = deps.clock.now();
  const session = await findLiveSession(deps.database.db, hashToken(token), now);
  if (session === undefined) return null;
  const user = await findOperatorById(deps.database.db, session.user_id);
  if (user === undefined) return null;
  if (now - session.last_seen >= TOUCH_INTERVAL_MS) await touchSession(deps.database.db, session.id, now, now + SESSION_IDLE_MS);
  return { operator: operatorOf(user), sessionId: session.id, csrfToken: csrfTokenOf(session.csrf_secret) };
}

function csrfTokenOf(secret: string): string {
  return createHmac('sha256', secret).update('zhifu-dashboard-csrf').digest('base64url');
}

/** Constant-time comparison of a submitted CSRF token with the expected one. */
export function csrfTokensEqual(expected: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(submitted, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Ends the session (its cookie no longer signs in anywhere) and records the sign-out. */
export async function signOut(deps: OperatorDeps, session: OperatorSession, ip: string): Promise<void> {
  await inTransaction(deps.database, async (tx) => {
    await revokeSession(tx, session.sessionId, deps.clock.now());
    await appendAudit(tx, deps, { accountId: session.operator.accountId, userId: session.operator.id, actorEmail: session.operator.email, action: 'sign_out', objectId: null, ip, detail: null });
  });
}

export interface AuditInput {
  accountId: string | null;
  userId: string | null;
  actorEmail: string | null;
  /** Dotted verb: `sign_in`, `sign_in.failed`, `refund.created`, … */
  action: string;
  /** The object acted on (`re_…`, `pi_…`), if any. */
  objectId: string | null;
  livemode?: boolean | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

/**
 * Appends one audit entry. Pass the transaction of the action it records, so the action and its
 * entry commit together (a refund by an operator is never without its "who").
 */
export async function appendAudit(ex: Executor, deps: Pick<OperatorDeps, 'clock' | 'ids'>, entry: AuditInput): Promise<AuditLogRow> {
  const row: AuditLogRow = {
    id: deps.ids.next('aud'), account_id: entry.accountId, user_id: entry.userId, actor_email: entry.actorEmail, action: entry.action,
    object_id: entry.objectId, livemode: entry.livemode === undefined || entry.livemode === null ? null : entry.livemode ? 1 : 0,
    detail: entry.detail === null ? null : JSON.stringify(entry.detail), ip: entry.ip, created: deps.clock.now(),
  };
  await insertAuditEntry(ex, row);
  return row;
}

/** The newest entries of one account (null: every account), newest first. */
export function listAudit(deps: Pick<OperatorDeps, 'database'>, accountId: string | null, limit = 100): Promise<AuditLogRow[]> {
  return listAuditEntries(deps.database.db, accountId, limit);
}
