import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { stashForReveal, takeRevealed } from '../../core/api_key_reveals.js';
import { createApiKey, listApiKeys, parseApiKeyKind, revokeApiKey, rollApiKey } from '../../core/dashboard_api_keys.js';
import type { ApiKeyDeps, IssuedApiKey } from '../../core/dashboard_api_keys.js';
import { ApiError } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { refusedToViewer, auditedAction } from './actions.js';
import { API_KEYS_PATH, apiKeysPage } from './api_keys_views.js';
import type { DashboardKit } from './kit.js';
import { locationOf, scopeOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { formField, sessionOf } from './session.js';
import { modePath, withParam } from './views.js';

/** Developers → API keys: the account's keys in the page's mode; admins create, roll and revoke. */
export function registerApiKeyPages(scope: FastifyInstance, kit: DashboardKit): void {
  const deps: ApiKeyDeps = { database: kit.core.database, clock: kit.core.clock, ids: kit.core.ids, authenticator: kit.authenticator };

  scope.get(API_KEYS_PATH, routeAuth('none'), async (req, reply) => {
    const session = sessionOf(req);
    const dataScope = scopeOf(req);
    const token = queryParam(req.query, 'revealed');
    const revealed = token === undefined ? null : ((await takeRevealed(kit.core, token, session.sessionId)) ?? 'gone');
    const keys = await listApiKeys(deps, dataScope);
    const done = queryParam(req.query, 'done') ?? null;
    const error = queryParam(req.query, 'error') ?? null;
    return sendDashboardPage(reply, 200, apiKeysPage(locationOf(req, reply), session, { livemode: dataScope.livemode, keys, revealed, done, error }));
  });

  /** After an action: back to the list (in the same mode and language), with what to show there. */
  const back = (req: FastifyRequest, reply: FastifyReply, name: string, value: string) => reply.redirect(withParam(modePath(API_KEYS_PATH, req.dashboardLivemode), name, value), 303);
  const reveal = async (req: FastifyRequest, reply: FastifyReply, issued: IssuedApiKey) => back(req, reply, 'revealed', await stashForReveal(kit.core, sessionOf(req).sessionId, issued));
  /** Refusals an operator can fix on the page come back as a notice there; the rest are error pages. */
  const refusedOnPage = (req: FastifyRequest, reply: FastifyReply, error: unknown) => {
    const code = error instanceof ApiError ? error.fields.code : undefined;
    if (code === 'last_secret_key' || code === 'api_key_revoked') return back(req, reply, 'error', code);
    throw error;
  };

  scope.post(`${API_KEYS_PATH}/create`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const kind = parseApiKeyKind(formField(req.body, 'kind'));
    const issued = await auditedAction(kit, req, {
      action: 'api_key.create', objectId: null, detail: { kind },
      run: () => createApiKey(deps, scopeOf(req), kind),
      outcome: (result) => ({ id: result.listing.id, key: result.listing.redacted }),
    });
    return reveal(req, reply, issued);
  });

  scope.post<{ Params: { id: string } }>(`${API_KEYS_PATH}/:id/roll`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    try {
      const issued = await auditedAction(kit, req, {
        action: 'api_key.roll', objectId: req.params.id, detail: {},
        run: () => rollApiKey(deps, scopeOf(req), req.params.id),
        outcome: (result) => ({ id: result.listing.id, key: result.listing.redacted, revoked: result.rolled.id }),
      });
      return await reveal(req, reply, issued);
    } catch (error) {
      return refusedOnPage(req, reply, error);
    }
  });

  scope.post<{ Params: { id: string } }>(`${API_KEYS_PATH}/:id/revoke`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    try {
      await auditedAction(kit, req, {
        action: 'api_key.revoke', objectId: req.params.id, detail: {},
        run: () => revokeApiKey(deps, scopeOf(req), req.params.id),
        outcome: (result) => ({ key: result.redacted }),
      });
      return back(req, reply, 'done', 'revoked');
    } catch (error) {
      return refusedOnPage(req, reply, error);
    }
  });
}
