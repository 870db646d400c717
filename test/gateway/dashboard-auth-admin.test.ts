import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/gateway/index.js';
import { listAllOperators } from '../../src/gateway/core/operators.js';
import { startTestGateway } from '../support/gateway-server.js';
import { DashboardClient } from '../support/dashboard-client.js';

/** ZHIFU_ADMIN_EMAIL / ZHIFU_ADMIN_PASSWORD (api.md §8): an admin of the default account, created or pinned at every start. */
describe('dashboard admin from the environment', () => {
  it('reads both variables together, and refuses one without the other or a short password', () => {
    assert.deepEqual(loadConfig({ ZHIFU_ADMIN_EMAIL: 'root@shop.test', ZHIFU_ADMIN_PASSWORD: 'ten chars!!' }).admin, { email: 'root@shop.test', password: 'ten chars!!' });
    assert.equal(loadConfig({}).admin, undefined);
    assert.throws(() => loadConfig({ ZHIFU_ADMIN_EMAIL: 'root@shop.test' }), ConfigError);
    assert.throws(() => loadConfig({ ZHIFU_ADMIN_PASSWORD: 'ten chars!!' }), ConfigError);
    assert.throws(() => loadConfig({ ZHIFU_ADMIN_EMAIL: 'root@shop.test', ZHIFU_ADMIN_PASSWORD: 'short' }), /at least 10/);
  });

  it('creates the admin at start, keeps its sessions over a restart with the same password, and pins a new password', async () => {
    const config = { admin: { email: 'root@shop.test', password: 'first password' } };
    const gw = await startTestGateway({ config });
    try {
      const operators = await listAllOperators({ database: gw.database });
      assert.deepEqual(operators.map((o) => [o.email, o.role, o.liveAccess, o.accountId]), [['root@shop.test', 'admin', true, gw.accountId]]);
      const browser = new DashboardClient(gw);
      assert.equal((await browser.signIn('root@shop.test', 'first password')).status, 303);

      await gw.restart();
      assert.equal((await browser.get('/dashboard')).status, 200, 'same password: the session survives the restart');
      assert.equal((await listAllOperators({ database: gw.database })).length, 1);

      config.admin.password = 'second password';
      await gw.restart();
      assert.equal((await browser.get('/dashboard')).status, 303, 'a pinned new password ends the old sessions');
      assert.equal((await new DashboardClient(gw).signIn('root@shop.test', 'first password')).status, 401);
      assert.equal((await new DashboardClient(gw).signIn('root@shop.test', 'second password')).status, 303);
      assert.equal((await listAllOperators({ database: gw.database })).length, 1);
    } finally {
      await gw.stop();
    }
  });
});
