import { invalidRequest } from '../errors.js';
import { findAuditEntry, listAuditPage } from '../store/dashboard_audit.js';
import type { AuditLogRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';

/** Audit entries per dashboard page. */
export const AUDIT_PAGE_SIZE = 50;

export interface AuditEntry {
  id: string;
  created: number;
  actorEmail: string | null;
  action: string;
  objectId: string | null;
  livemode: boolean | null;
  detail: Record<string, unknown> | null;
  ip: string | null;
}

function entryOf(row: AuditLogRow): AuditEntry {
  return {
    id: row.id, created: Number(row.created), actorEmail: row.actor_email, action: row.action, objectId: row.object_id,
    livemode: row.livemode === null ? null : Number(row.livemode) === 1,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>), ip: row.ip,
  };
}

/**
 * The account's audit log as its operators read it: who did what to which object, when and from
 * where, newest first; this mode's entries and the mode-less ones (sign-in, sign-out). `olderThan`
 * (an entry id of the same account) pages back; another account's id is a 400 like any unknown cursor.
 */
export async function auditPage(deps: Pick<CoreDeps, 'database'>, scope: Scope, olderThan: string | null): Promise<{ entries: AuditEntry[]; hasMore: boolean }> {
  const db = deps.database.db;
  let before: { created: number; id: string } | null = null;
  if (olderThan !== null) {
    const row = await findAuditEntry(db, scope.accountId, olderThan);
    if (row === undefined) throw invalidRequest('resource_missing', `No such audit entry: '${olderThan}'`, 'starting_after');
    before = { created: Number(row.created), id: row.id };
  }
  const rows = await listAuditPage(db, scope.accountId, scope.livemode, before, AUDIT_PAGE_SIZE + 1);
  return { entries: rows.slice(0, AUDIT_PAGE_SIZE).map(entryOf), hasMore: rows.length > AUDIT_PAGE_SIZE };
}
