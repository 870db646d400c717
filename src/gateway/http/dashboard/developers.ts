import type { FastifyInstance } from 'fastify';
import { registerAuditPages } from './audit.js';
import { registerEventPages } from './events.js';
import type { DashboardKit } from './kit.js';
import { registerLogPages } from './logs.js';
import { registerWebhookPages } from './webhooks.js';

/** The Developers area's pages other than API keys: webhooks, events, request logs, the audit log. */
export function registerDevelopersPages(scope: FastifyInstance, kit: DashboardKit): void {
  registerWebhookPages(scope, kit);
  registerEventPages(scope, kit);
  registerLogPages(scope, kit);
  registerAuditPages(scope, kit);
}
