import { writeFileSync } from 'node:fs';
import { api, startTestGateway } from './gateway-server.js';
import { OPENAPI_FILE } from './openapi-file.js';

/**
 * `npm run openapi`: rewrites docs/openapi.json with the document a gateway serves at
 * /openapi.json (generated from the route schemas), so the committed copy follows the routes.
 * test/gateway/openapi.test.ts fails while the committed copy is stale.
 */
const gateway = await startTestGateway();
try {
  const served = await api(gateway, 'GET', '/openapi.json');
  if (served.status !== 200) throw new Error(`GET /openapi.json answered ${served.status}: ${served.text}`);
  writeFileSync(OPENAPI_FILE, `${JSON.stringify(served.body, null, 2)}\n`);
  console.log(`wrote ${OPENAPI_FILE} (${Object.keys((served.body as { paths: object }).paths).length} paths)`);
} finally {
  await gateway.stop();
}
