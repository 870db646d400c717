import { sql } from 'kysely';
import type { AuditLogRow, Executor, OperatorSessionRow, OperatorUserRow } from './schema.js';

export function insertOperatorUser(ex: Executor, row: OperatorUserRow): Promise<unknown> {
  return ex.insertInto('operator_users').values(row).execute();
}

export function findOperatorByEmail(ex: Executor, email: string): Promise<OperatorUserRow | undefined> {
  return ex.selectFrom('operator_users').selectAll().where('email', '=', email).executeTakeFirst();
}

export function findOperatorById(ex: Executor, id: string): Promise<OperatorUserRow | undefined> {
  return ex.selectFrom('operator_users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listOperators(ex: Executor): Promise<OperatorUserRow[]> {
  return ex.selectFrom('operator_users').selectAll().orderBy('account_id').orderBy('email').execute();
}

export function updateOperatorPassword(ex: Executor, id: string, fields: Pick<OperatorUserRow, 'password_hash' | 'password_salt' | 'password_params' | 'updated'>): Promise<unknown> {
  return ex.updateTable('operator_users').set(fields).where('id', '=', id).execute();
}

export function updateOperatorRole(ex: Executor, id: string, fields: Pick<OperatorUserRow, 'role' | 'live_access' | 'updated'>): Promise<unknown> {
  return ex.updateTable('operator_users').set(fields).where('id', '=', id).execute();
}

export function insertOperatorSession(ex: Executor, row: OperatorSessionRow): Promise<unknown> {
  return ex.insertInto('operator_sessions').values(row).execute();
}

/** The session with this id if it is neither revoked nor past its expiry at `now`. */
export function findLiveSession(ex: Executor, id: string, now: number): Promise<OperatorSessionRow | undefined> {
  return ex.selectFrom('operator_sessions').selectAll().where('id', '=', id).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
}

export function touchSession(ex: Executor, id: string, now: number, expiresAt: number): Promise<unknown> {
  return ex.updateTable('operator_sessions').set({ last_seen: now, expires_at: expiresAt }).where('id', '=', id).execute();
}

export function revokeSession(ex: Executor, id: string, now: number): Promise<unknown> {
  return ex.updateTable('operator_sessions').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/** A password reset ends every session of the user: whoever knew the old password is signed out. */
export function revokeSessionsOfUser(ex: Executor, userId: string, now: number): Promise<unknown> {
  return ex.updateTable('operator_sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

export function insertAuditEntry(ex: Executor, row: AuditLogRow): Promise<unknown> {
  return ex.insertInto('audit_log').values(row).execute();
}

/** Newest first; `accountId` null lists entries of every account (the CLI operator). */
export function listAuditEntries(ex: Executor, accountId: string | null, limit: number): Promise<AuditLogRow[]> {
  let query = ex.selectFrom('audit_log').selectAll();
  if (accountId !== null) query = query.where('account_id', '=', accountId);
  return query.orderBy('created', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Failed sign-ins for this e-mail from this IP after `since` (the rate limit counts the audit log). */
export async function countFailedSignIns(ex: Executor, email: string, ip: string, since: number): Promise<number> {
  const row = await ex.selectFrom('audit_log').select(sql<number>`count(*)`.as('n'))
    .where('action', '=', 'sign_in.failed').where('actor_email', '=', email).where('ip', '=', ip).where('created', '>', since)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
