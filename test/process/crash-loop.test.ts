import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCrashStack, sleep } from '../support/crash-stack.js';
import { balanceMatches, eventsMatchState, gatewayMatchesSandbox, keysMatchObjects, moneyInvariants, tally, unsettled } from '../support/crash-invariants.js';
import { LoadDriver, seededRandom, STRANDED_AFTER_MS, type KeyRecord } from '../support/crash-load.js';
import { ON_POSTGRES } from '../support/gateway-server.js';

/**
 * issue 9: `kill -9` of the real gateway process under payment and refund load. The sandbox runs
 * as its own process and keeps going; the gateway is killed at seeded random moments and started
 * again on the same database and port, and every request that got no answer is retried with its
 * Idempotency-Key. Afterwards every key must answer (replaying the same object), and money must be
 * exactly where the network says it is.
 *
 * ZHIFU_CRASH_SEED (default 9), ZHIFU_CRASH_COUNT (default 6), ZHIFU_CRASH_CLIENTS (default 6)
 * make longer runs; the CI configuration is the default.
 */
const SEED = Number(process.env.ZHIFU_CRASH_SEED ?? 9);
const CRASHES = Number(process.env.ZHIFU_CRASH_COUNT ?? 6);
const CLIENTS = Number(process.env.ZHIFU_CRASH_CLIENTS ?? 6);
/** Time between a (re)start and the next kill, drawn from the seed. */
const UP_MS = { min: 1_500, max: 4_000 };
/** How long the gateway stays dead. */
const DOWN_MS = { min: 50, max: 1_000 };
/** Load goes on this long after the last restart, so the last crash's requests are retried against a live gateway. */
const LOAD_AFTER_LAST_CRASH_MS = 4_000;
/**
 * The worker's longest wait before it looks at an attempt the request path left mid-send
 * (SENDING_CHECK_DELAY_MS, 60 s) plus a few inquiries: all of it must be settled by then.
 */
const SETTLE_MAX_MS = 80_000;

test(`kill -9 loop: ${CRASHES} crashes under payment and refund load keep money safe and every key answering (seed ${SEED}, ${ON_POSTGRES ? 'PostgreSQL' : 'SQLite'})`, { timeout: 300_000 }, async () => {
  const started = Date.now();
  const stack = await startCrashStack();
  try {
    const driver = new LoadDriver(stack, SEED);
    const load = driver.run(CLIENTS);
    const random = seededRandom(SEED);
    const between = (range: { min: number; max: number }) => range.min + Math.floor(random() * (range.max - range.min));
    const afterRestart: string[] = [];
    let crashes = 0;
    try {
      for (let i = 0; i < CRASHES; i++) {
        await sleep(between(UP_MS));
        await stack.killGateway();
        crashes++;
        await sleep(between(DOWN_MS));
        await stack.startGateway();
        // What holds at every committed moment must hold right after a crash.
        afterRestart.push(...(await moneyInvariants(stack)).map((violation) => `after crash ${crashes}: ${violation}`));
      }
      await sleep(LOAD_AFTER_LAST_CRASH_MS);
    } finally {
      driver.stopping = true;
      await load;
    }
    const loadEnded = Date.now();

    // Settle: the worker finishes what the crashes left open, and takes up what the shoppers did
    // last (inquiry every 2 s, or the sandbox's notification) — bounded.
    const settleChecks = async () => [...(await unsettled(stack)), ...(await gatewayMatchesSandbox(stack))];
    let open = await settleChecks();
    while (open.length > 0 && Date.now() - loadEnded < SETTLE_MAX_MS) {
      await sleep(1_000);
      open = await settleChecks();
    }
    const settledInMs = Date.now() - loadEnded;

    // Every key once more: an answered key replays its answer; a stranded one must answer now.
    const replayMismatches: string[] = [];
    let strandedAtEnd = 0;
    const resendAll = async (records: KeyRecord[]) => {
      for (const record of records) {
        const again = await driver.resend(record);
        if (record.answer === null) {
          if (again === null || (again.status === 409 && again.code === 'idempotency_key_in_use')) strandedAtEnd++;
          else record.answer = again; // answered late: its object is checked below like any other
          continue;
        }
        if (record.answer.status !== 200) {
          // A refusal commits nothing, so its key is released (api.md §1) and the resend runs afresh:
          // it may be refused for another reason now, but it must answer.
          if (again === null || again.status >= 500 || (again.status === 409 && again.code === 'idempotency_key_in_use')) {
            replayMismatches.push(`key ${record.key} (${record.kind}) first answered ${JSON.stringify(record.answer)}, now ${JSON.stringify(again)}`);
          }
          continue;
        }
        if (again === null || again.status !== record.answer.status || again.id !== record.answer.id || !again.replayed) {
          replayMismatches.push(`key ${record.key} (${record.kind}) first answered ${JSON.stringify(record.answer)}, now ${JSON.stringify(again)}`);
        }
      }
    };
    const lanes = 4;
    await Promise.all(Array.from({ length: lanes }, (_unused, lane) => resendAll(driver.keys.filter((_record, i) => i % lanes === lane))));

    const retried = driver.keys.filter((record) => record.retried);
    const stranded = driver.keys.filter((record) => record.stranded);
    const recovered = retried.filter((record) => !record.stranded && record.answer !== null);
    const checks = {
      'money after each restart': afterRestart,
      'still unsettled after the settle wait': await unsettled(stack),
      'money at the end': await moneyInvariants(stack),
      'gateway = sandbox': await gatewayMatchesSandbox(stack),
      'events': await eventsMatchState(stack),
      'balance': await balanceMatches(stack),
      'keys vs objects': await keysMatchObjects(stack, driver.keys),
      'replays': replayMismatches,
      'unexpected answers': driver.stats.unexpected,
    };
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const summary = [
      `crash loop (seed ${SEED}, ${ON_POSTGRES ? 'PostgreSQL' : 'SQLite'}, ${seconds} s): ${crashes} crashes, ${driver.stats.stories} payment stories,`,
      `${driver.stats.requests} POSTs (${driver.stats.retries} re-sends after ${driver.stats.transportErrors} sends with no answer and ${driver.stats.conflicts} × 409 in use), settled ${(settledInMs / 1000).toFixed(1)} s after the load,`,
      `${driver.keys.length} keys, ${retried.length} retried, ${recovered.length} recovered, ${stranded.length} stranded (409 for > ${STRANDED_AFTER_MS / 1000} s after restart), ${strandedAtEnd} still stranded at the end,`,
      `${driver.stats.shopperPays} paid and ${driver.stats.shopperDeclines} declined in the wallet; checked ${await tally(stack)}.`,
      ...Object.entries(checks).map(([name, violations]) => `  ${name}: ${violations.length === 0 ? 'ok' : `${violations.length} violations, e.g. ${violations.slice(0, 5).join(' | ')}`}`),
    ].join('\n');
    console.log(summary);

    assert.ok(crashes >= Math.min(CRASHES, 5), `only ${crashes} crashes`);
    assert.ok(driver.stats.shopperPays > 0 && driver.keys.some((record) => record.kind === 'refund' && record.answer?.status === 200), `the load made no payments or refunds:\n${summary}`);
    for (const [name, violations] of Object.entries(checks)) assert.deepEqual(violations, [], `${name}:\n${summary}`);
    // Every retried key answers, within the request timeout once the gateway is up: none stranded.
    assert.deepEqual(
      stranded.map((record) => `${record.kind} ${record.key} ${record.paymentIntent ?? ''}`),
      [],
      `${stranded.length} of ${retried.length} retried keys answered 409 idempotency_key_in_use for > ${STRANDED_AFTER_MS / 1000} s after the restart:\n${summary}`,
    );
    assert.equal(strandedAtEnd, 0, `keys still stranded at the end:\n${summary}`);
  } catch (error) {
    console.log(`gateway log tail:\n${stack.gatewayLogTail()}`);
    throw error;
  } finally {
    await stack.stop();
  }
});
