import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator } from '../core/accounts.js';
import { ApiError } from '../errors.js';

const unauthorized = (message: string) => new ApiError({ status: 401, type: 'invalid_request_error', message });

/** The API key of `Authorization: Basic base64("<key>:")` (WooshPay) or `Bearer <key>` (stripe-node). */
export function apiKeyOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (value === undefined) return null;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return null;
}

/**
 * Authenticates every /v1 request before its body is read: 401 for a missing or unknown key,
 * 403 for a publishable key on a route that does not allow one.
 */
export function installAuth(app: FastifyInstance, authenticator: ApiKeyAuthenticator): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (!req.url.startsWith('/v1/')) return;
    const key = apiKeyOf(req.headers.authorization);
    if (key === null || key === '') {
      throw unauthorized('You did not provide an API key. Provide it as "Authorization: Bearer <secret key>" or with HTTP Basic auth (the key as the user name).');
    }
    const auth = await authenticator.authenticate(key);
    if (auth === null) throw unauthorized(`Invalid API key provided: ${key.slice(0, 8)}****${key.slice(-4)}`);
    if (auth.kind === 'publishable' && req.routeOptions.config.publishableKeyAllowed !== true) {
      throw new ApiError({
        status: 403,
        type: 'invalid_request_error',
        code: 'secret_key_required',
        message: 'This API call cannot be made with a publishable API key. Use a secret API key.',
      });
    }
    req.auth = auth;
  });
}
