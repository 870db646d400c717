import { sql } from 'kysely';
import type { SqlBool } from 'kysely';
import type { AuditLogRow, Executor } from './schema.js';
import { bool } from './scope.js';

/**
 * One account's audit entries of one mode (and the mode-less ones: sign-ins, sign-outs), newest
 * first, older than `before` when given. Seeks on audit_log_list (account_id, created, id).
 */
export function listAuditPage(ex: Executor, accountId: string, livemode: boolean, before: { created: number; id: string } | null, limit: number): Promise<AuditLogRow[]> {
  let query = ex
    .selectFrom('audit_log')
    .selectAll()
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('livemode', '=', bool(livemode)), eb('livemode', 'is', null)]));
  if (before !== null) query = query.where(sql<SqlBool>`(${sql.ref('created')}, ${sql.ref('id')}) < (${before.created}, ${before.id})`);
  return query.orderBy('created', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export function findAuditEntry(ex: Executor, accountId: string, id: string): Promise<AuditLogRow | undefined> {
  return ex.selectFrom('audit_log').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
}
