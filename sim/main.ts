import { Command, InvalidArgumentError } from 'commander';
import { runSimulation, type SimulationResult } from './simulation.js';

/**
 * `npm run simulate -- --seed N --steps M`: seeded runs of the gateway and the Alipay+ sandbox in
 * one process (see sim/README.md). Exit code 1 when any invariant broke, with the command that
 * replays the failing seed.
 */
function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

const program = new Command()
  .name('simulate')
  .description('Seeded simulation of the gateway and the Alipay+ sandbox, with faults and crashes, checking the money-safety invariants after every step.')
  .option('--seed <n>', 'the (first) seed', integer('--seed', 0), 1)
  .option('--seeds <count>', 'run this many consecutive seeds, starting at --seed', integer('--seeds', 1), 1)
  .option('--steps <m>', 'steps per seed', integer('--steps', 1), 200)
  .option('--database-url <url>', 'postgres://… runs the gateway on a fresh schema of it (default: ZHIFU_TEST_DATABASE_URL, else SQLite in a temp dir)')
  .option('--client-timeout-ms <ms>', "the connector's Alipay+ timeout in real ms (timeout faults wait longer)", integer('--client-timeout-ms', 50), 400)
  .option('--settle-every <k>', 'settle and compare with Alipay+ every k steps (and at the end)', integer('--settle-every', 1), 50)
  .option('--keep-going', 'go on after a step that broke an invariant, collecting every violation', false)
  .option('--keep', 'keep the temp dir (databases, gateway log) of passing runs too', false)
  .option('-v, --verbose', 'print every step as it runs', false);

program.parse();
const opts = program.opts<{ seed: number; seeds: number; steps: number; databaseUrl?: string; clientTimeoutMs: number; settleEvery: number; keepGoing: boolean; keep: boolean; verbose: boolean }>();
const databaseUrl = opts.databaseUrl ?? (process.env.ZHIFU_TEST_DATABASE_URL || undefined);
if (databaseUrl !== undefined && !databaseUrl.startsWith('postgres')) {
  console.error('--database-url must be postgres://… (SQLite is the default)');
  process.exit(2);
}

function replayCommand(result: SimulationResult): string {
  const extra = [
    databaseUrl ? `--database-url ${databaseUrl}` : '',
    opts.clientTimeoutMs !== 400 ? `--client-timeout-ms ${opts.clientTimeoutMs}` : '',
    opts.settleEvery !== 50 ? `--settle-every ${opts.settleEvery}` : '',
    opts.keepGoing ? '--keep-going' : '',
  ].filter(Boolean);
  return ['npm run simulate --', `--seed ${result.seed}`, `--steps ${result.steps}`, ...extra].join(' ');
}

const results: SimulationResult[] = [];
for (let seed = opts.seed; seed < opts.seed + opts.seeds; seed++) {
  const started = Date.now();
  const result = await runSimulation({
    seed, steps: opts.steps, clientTimeoutMs: opts.clientTimeoutMs, settleEvery: opts.settleEvery, keepFiles: opts.keep, keepGoing: opts.keepGoing,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(opts.verbose ? { log: (line: string) => console.log(`  [seed ${seed}] ${line}`) } : {}),
  });
  results.push(result);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.violations.length === 0) {
    console.log(`seed ${seed}: ok — ${result.stepsRun} steps, ${result.crashes} crashes, ${result.faults} faults (${seconds} s)`);
    continue;
  }
  console.log(`seed ${seed}: FAILED at step ${result.failedAtStep} — ${result.violations.length} invariant violation(s) (${seconds} s)`);
  if (!opts.verbose) {
    console.log('  step log:');
    for (const line of result.stepLog) console.log(`    ${line}`);
  }
  console.log('  violations:');
  for (const violation of result.violations) console.log(`    [${violation.invariant}] ${violation.detail}`);
  console.log(`  gateway log and SQLite databases (the PostgreSQL schema is dropped) kept in ${result.dir}`);
  console.log(`  replay: ${replayCommand(result)}`);
}

const failed = results.filter((result) => result.violations.length > 0);
const byInvariant = new Map<string, number>();
for (const result of failed) for (const violation of result.violations) byInvariant.set(violation.invariant, (byInvariant.get(violation.invariant) ?? 0) + 1);
console.log('');
console.log('summary');
console.log(`  database:             ${databaseUrl ? 'PostgreSQL' : 'SQLite'}`);
console.log(`  seeds:                ${results.length} (${opts.seed}..${opts.seed + opts.seeds - 1}), ${failed.length} failed${failed.length ? `: ${failed.map((result) => result.seed).join(', ')}` : ''}`);
console.log(`  steps:                ${results.reduce((sum, result) => sum + result.stepsRun, 0)} run of ${results.length * opts.steps}`);
console.log(`  crashes injected:     ${results.reduce((sum, result) => sum + result.crashes, 0)}`);
console.log(`  faults injected:      ${results.reduce((sum, result) => sum + result.faults, 0)}`);
console.log(`  invariant violations: ${failed.reduce((sum, result) => sum + result.violations.length, 0)}${byInvariant.size ? ` (${[...byInvariant].map(([name, n]) => `${name} ${n}`).join(', ')})` : ''}`);
process.exit(failed.length > 0 ? 1 : 0);
