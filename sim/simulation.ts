import { setTimeout as sleep } from 'node:timers/promises';
import { checkSettled, checkStep, type Violation } from './invariants.js';
import { Prng, prngFor } from './prng.js';
import { SimStack, withTimeout } from './stack.js';

export interface SimulationOptions {
  seed: number;
  steps: number;
  /** `postgres://…` runs the gateway on a fresh schema of it; absent: SQLite in a temp dir. */
  databaseUrl?: string;
  /** Real milliseconds the connector waits for Alipay+ (timeout faults wait longer than this). */
  clientTimeoutMs?: number;
  /** Settle and compare with Alipay+ every this many steps (and always at the end). */
  settleEvery?: number;
  /** Keep the temp dir (databases, gateway log) even when the run passes. */
  keepFiles?: boolean;
  /** Go on after a step that broke an invariant (collect every violation of the run). */
  keepGoing?: boolean;
  /** Progress lines (each step as it runs). */
  log?: (line: string) => void;
}

export interface SimulationResult {
  seed: number;
  steps: number;
  stepsRun: number;
  crashes: number;
  faults: number;
  violations: Violation[];
  /** The step at which the first violation was seen (null: none). */
  failedAtStep: number | null;
  /** One line per step: what it did and what it got. */
  stepLog: string[];
  /** Where the databases and the gateway log are (kept when the run failed). */
  dir: string;
}

/** A merchant API call the simulation may have to retry after a crash, with its Idempotency-Key. */
interface ApiCall {
  label: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  idempotencyKey?: string;
}

type Reply = { ok: true; status: number; body: any; text: string } | { ok: false; error: string }; // eslint-disable-line @typescript-eslint/no-explicit-any -- API JSON

const CURRENCIES = ['CNY', 'GBP', 'USD', 'EUR', 'HKD'] as const;
const TERMINALS = ['WEB', 'WAP', 'APP'] as const;
const SHOPPERS = ['alice', 'henry', 'bob', 'carol'] as const;
const API_FAULT_TARGETS = ['pay', 'inquiryPayment', 'cancelPayment', 'refund', 'responseRetrieval', 'responseEscalation'] as const;
const API_FAULT_KINDS = ['unknown', 'timeout', 'bad_signature'] as const;
const NOTIFICATION_FAULT_KINDS = ['drop', 'duplicate', 'delay', 'out_of_order'] as const;
/** Dispute calls to the gateway (initiate, result) can also arrive signed with a key that does not verify. */
const DISPUTE_NOTIFICATION_FAULT_KINDS = [...NOTIFICATION_FAULT_KINDS, 'bad_signature'] as const;
const DISPUTE_REASON_CODES = ['TRANSACTION_INFORMATION_REQUEST', 'FRAUD', 'GOODS_NOT_RECEIVED', 'GOODS_NOT_AS_DESCRIBED', 'DUPLICATE_TRANSACTION', 'UNRECOGNIZED_TRANSACTION'] as const;
/** Response windows: most pass within a run's clock advances and settling, some never do. */
const DISPUTE_DUE_IN_DAYS = [0.005, 0.01, 0.05, 0.5, 20] as const;
const EVIDENCE_FIELDS = ['product_description', 'customer_name', 'receipt', 'shipping_tracking_number', 'uncategorized_text', 'refund_policy'] as const;
const MINUTE = 60_000;
/** How far a retry after a crash may wait (simulated time) for a dead request's key before it counts as stuck. */
export const RECOVERY_WAIT_MS = 2 * MINUTE;
const RECOVERY_WAIT_STEP_MS = 10_000;
/** Real milliseconds waited per recovery step (12 steps: 3 s in all). */
const RECOVERY_REAL_WAIT_STEP_MS = 250;
/** Real time any one HTTP call may take before the simulation gives up on it. */
const HTTP_TIMEOUT_MS = 30_000;

const STEP_WEIGHTS = {
  create: 4,
  createConfirm: 14,
  confirm: 6,
  cancel: 4,
  refundFull: 4,
  refundPartial: 6,
  refundConcurrent: 4,
  checkoutSession: 3,
  expireSession: 2,
  webhookEndpoint: 2,
  shopperPay: 20,
  shopperDecline: 4,
  shopperAbandon: 2,
  disputeOpen: 9,
  disputeRespond: 6,
  disputeJudge: 5,
  fault: 9,
  advanceClock: 7,
  workerPass: 9,
  notifierPass: 8,
  webhookPass: 2,
  crash: 6,
};
type StepKind = keyof typeof STEP_WEIGHTS;
/** Steps a crash may interrupt: merchant calls and the background work that runs beside them. */
const BURST_KINDS = [
  'createConfirm', 'confirm', 'cancel', 'refundFull', 'refundPartial', 'refundConcurrent', 'checkoutSession', 'shopperPay', 'workerPass', 'notifierPass',
  'disputeOpen', 'disputeRespond', 'disputeJudge',
] as const satisfies readonly StepKind[];

type BurstKind = (typeof BURST_KINDS)[number];
/** Burst operations that send a merchant call with an Idempotency-Key (the others send none). */
export const KEYED_BURST_KINDS: readonly BurstKind[] = ['createConfirm', 'confirm', 'cancel', 'refundFull', 'refundPartial', 'refundConcurrent', 'checkoutSession', 'disputeRespond'];

/** What step `step` of `seed` does, decided by the seed alone (never by the state the run reached). */
export type StepPlan = { kind: Exclude<StepKind, 'crash'> } | { kind: 'crash'; burst: BurstKind[]; target: number; atCommit: number };

/**
 * The plan of a step: its kind and, for a crash, the burst it interrupts and where (after the
 * `atCommit`-th commit of operation `target`). Pure, so tools can read a seed's plan without running it.
 */
export function planStep(seed: number, step: number): StepPlan {
  const rng = prngFor(seed, step, -1);
  const kind = rng.weighted(STEP_WEIGHTS);
  if (kind !== 'crash') return { kind };
  const n = rng.int(1, 4);
  const burst: BurstKind[] = [];
  for (let i = 0; i < n; i++) burst.push(rng.pick(BURST_KINDS));
  return { kind, burst, target: rng.int(0, n - 1), atCommit: rng.int(1, 3) };
}

/**
 * One seeded run: `steps` random steps against the gateway and the sandbox, the invariants
 * checked after each; stops at the first step that breaks one.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const sim = new Simulation(options);
  return sim.run();
}

class Simulation {
  private stepRng: Prng;
  private readonly stack: SimStack;
  private readonly stepLog: string[] = [];
  private readonly log: (line: string) => void;
  private faults = 0;
  private keySeq = 0;
  private webhookReceiver: import('node:http').Server | null = null;
  private webhookUrl = '';
  private webhookFailing = false;
  /** Calls cut by a crash, to retry with their key once the gateway is back. */
  private interrupted: ApiCall[] = [];
  private recoveryViolations: Violation[] = [];

  constructor(private readonly options: SimulationOptions) {
    this.stepRng = new Prng(options.seed);
    this.stack = new SimStack({ ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}), clientTimeoutMs: options.clientTimeoutMs ?? 400, workers: 2 });
    this.log = options.log ?? (() => undefined);
  }

  async run(): Promise<SimulationResult> {
    const violations: Violation[] = [];
    let failedAtStep: number | null = null;
    let stepsRun = 0;
    await this.stack.start();
    await this.startWebhookReceiver();
    try {
      const settleEvery = this.options.settleEvery ?? 50;
      for (let step = 1; step <= this.options.steps; step++) {
        const plan = planStep(this.options.seed, step);
        this.stepRng = prngFor(this.options.seed, step, 0);
        const line = await this.runStep(step, plan);
        stepsRun = step;
        this.note(`#${step} ${line}`);
        const found = [...this.recoveryViolations.splice(0), ...(await checkStep(this.stack))];
        if (found.length === 0 && (step % settleEvery === 0 || step === this.options.steps)) {
          this.note(`#${step} settle: ${await this.settle()}`);
          found.push(...(await checkSettled(this.stack)), ...(await checkStep(this.stack)));
        }
        if (found.length > 0) {
          for (const violation of found) this.note(`#${step} VIOLATION [${violation.invariant}] ${violation.detail}`);
          violations.push(...found);
          failedAtStep ??= step;
          if (this.options.keepGoing !== true) break;
        }
      }
    } catch (error) {
      violations.push({ invariant: 'no_server_error', detail: `the simulation itself failed: ${(error as Error).stack ?? String(error)} ${String((error as { cause?: unknown }).cause ?? "")}` });
      failedAtStep = stepsRun + 1;
    } finally {
      this.webhookReceiver?.closeAllConnections();
      this.webhookReceiver?.close();
      await this.stack.stop(this.options.keepFiles === true || violations.length > 0);
    }
    return {
      seed: this.options.seed, steps: this.options.steps, stepsRun, crashes: this.stack.crashes, faults: this.faults,
      violations, failedAtStep, stepLog: this.stepLog, dir: this.stack.dir,
    };
  }

  private note(line: string): void {
    this.stepLog.push(line);
    this.log(line);
  }

  // ---------------------------------------------------------------- steps

  /**
   * The generator for the running operation: each operation of a step has its own (derived from
   * seed, step and its place in the step), so concurrent operations draw independently of timing.
   */
  private get rng(): Prng {
    return this.stack.context.getStore()?.rng ?? this.stepRng;
  }

  private async runStep(step: number, plan: StepPlan): Promise<string> {
    if (plan.kind === 'crash') return this.crashStep(step, plan);
    const kind = plan.kind;
    return `${kind}: ${await this.stack.context.run({ op: `s${step}`, rng: prngFor(this.options.seed, step, 1) }, () => this.execute(kind))}`;
  }

  private async execute(kind: Exclude<StepKind, 'crash'>): Promise<string> {
    switch (kind) {
      case 'create':
        return this.send({ label: 'create', method: 'POST', path: '/v1/payment_intents', body: this.intentBody(false), idempotencyKey: this.newKey() });
      case 'createConfirm':
        return this.send({ label: 'create+confirm', method: 'POST', path: '/v1/payment_intents', body: this.intentBody(true), idempotencyKey: this.newKey() });
      case 'confirm': {
        const intent = await this.pickIntent(['requires_payment_method', 'requires_confirmation']);
        if (intent === null) return 'no PaymentIntent to confirm';
        const full = this.intentBody(true);
        const body = { payment_method_data: full.payment_method_data, payment_method_options: full.payment_method_options, return_url: full.return_url };
        return this.send({ label: `confirm ${intent}`, method: 'POST', path: `/v1/payment_intents/${intent}/confirm`, body, idempotencyKey: this.newKey() });
      }
      case 'cancel': {
        const intent = await this.pickIntent(['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing']);
        if (intent === null) return 'no PaymentIntent to cancel';
        return this.send({ label: `cancel ${intent}`, method: 'POST', path: `/v1/payment_intents/${intent}/cancel`, body: {}, idempotencyKey: this.newKey() });
      }
      case 'refundFull':
      case 'refundPartial': {
        const intent = await this.pickIntent(['succeeded']);
        if (intent === null) return 'no succeeded PaymentIntent to refund';
        return this.send(this.refundCall(intent, kind === 'refundFull' ? null : await this.partialAmount(intent)));
      }
      case 'refundConcurrent': {
        const intent = await this.pickIntent(['succeeded']);
        if (intent === null) return 'no succeeded PaymentIntent to refund';
        const n = this.rng.int(2, 3);
        const calls: ApiCall[] = [];
        for (let i = 0; i < n; i++) calls.push(this.refundCall(intent, this.rng.chance(0.2) ? null : await this.partialAmount(intent)));
        const results = await Promise.all(calls.map((call) => this.send(call)));
        return `${n} at once: ${results.join(' | ')}`;
      }
      case 'checkoutSession':
        return this.checkoutSession();
      case 'expireSession': {
        const rows = await this.stack.database.db.selectFrom('checkout_sessions').select('id').where('status', '=', 'open').orderBy('id').execute();
        if (rows.length === 0) return 'no open session';
        const id = this.rng.pick(rows).id;
        return this.send({ label: `expire ${id}`, method: 'POST', path: `/v1/checkout/sessions/${id}/expire`, body: {}, idempotencyKey: this.newKey() });
      }
      case 'webhookEndpoint':
        return this.webhookEndpoint();
      case 'shopperPay':
      case 'shopperDecline':
        return this.shopper(kind === 'shopperPay' ? 'success' : 'decline');
      case 'shopperAbandon': {
        const attempt = await this.pickAttempt();
        return attempt === null ? 'nobody at a cashier' : `shopper walks away from ${attempt.payment_request_id}`;
      }
      case 'disputeOpen':
        return this.disputeOpen();
      case 'disputeRespond':
        return this.disputeRespond();
      case 'disputeJudge':
        return this.disputeJudge();
      case 'fault':
        return this.fault();
      case 'advanceClock': {
        const ms = this.rng.pick([1_000, 10_000, 30_000, MINUTE, 2 * MINUTE, 5 * MINUTE, 15 * MINUTE]);
        this.stack.clock.advance(ms);
        return `+${ms / 1000} s`;
      }
      case 'workerPass':
        return this.workerPass();
      case 'notifierPass': {
        const sent = await withTimeout(this.stack.sandbox.notifier.tick(), HTTP_TIMEOUT_MS, 'a notifier pass');
        return `${sent} notification(s) due`;
      }
      case 'webhookPass': {
        this.webhookFailing = this.rng.chance(0.3);
        const n = await withTimeout(this.stack.running.webhooks.runOnce(), HTTP_TIMEOUT_MS, 'a webhook pass');
        return `${n} delivery attempt(s)${this.webhookFailing ? ' (receiver answering 500)' : ''}`;
      }
    }
  }

  /**
   * A crash at a random commit inside a burst of concurrent work (merchant calls, worker and
   * notifier passes); if the burst commits less than that, the crash comes after it. Then the
   * gateway restarts on the same database, and every call the crash cut is retried with its key.
   */
  private async crashStep(step: number, plan: Extract<StepPlan, { kind: 'crash' }>): Promise<string> {
    const { burst: kinds, target, atCommit } = plan;
    const ops = kinds.map((_kind, i) => `s${step}-op${i}`);
    let crashed = false;
    const crash = new Promise<void>((resolve) => this.stack.armCrash(ops[target] as string, atCommit, () => {
      crashed = true;
      resolve();
    }));
    const burst = Promise.allSettled(kinds.map((kind, i) => this.stack.context.run({ op: ops[i] as string, rng: prngFor(this.options.seed, step, 2 + i) }, () => this.execute(kind))));
    // Worker passes of the dead process never end (their commits are parked): wait for the crash or the burst.
    await Promise.race([crash, burst]);
    if (!crashed) this.stack.crashNow();
    // The calls cut by the crash fail at once (connections closed); background passes are abandoned.
    const outcomes = await Promise.race([burst, sleep(3_000).then(() => null)]);
    await this.stack.restart();
    const retried = await this.recover(step);
    const what = outcomes === null ? 'burst abandoned' : outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : `error ${String(outcome.reason)}`)).join(' | ');
    return `crash ${crashed ? `after commit ${atCommit} of ${kinds[target]}` : 'after the burst'} during [${kinds.join(', ')}]: ${what}; restarted; ${retried}`;
  }

  /**
   * Retries every call the crash cut, with its Idempotency-Key and parameters. While the key is
   * `idempotency_key_in_use` the simulation waits (moving the clock) up to RECOVERY_WAIT_MS: the
   * request that holds it is dead, so a key still in use after that is stuck.
   */
  private async recover(step: number): Promise<string> {
    const calls = this.interrupted.splice(0);
    const lines: string[] = [];
    for (const call of calls) {
      let waited = 0;
      for (;;) {
        const reply = await this.http(call);
        if (!reply.ok) {
          this.recoveryViolations.push({ invariant: 'no_stuck_idempotency_key', detail: `step ${step}: retry of ${call.label} (key ${call.idempotencyKey}) failed: ${reply.error}` });
          lines.push(`${call.label}: ${reply.error}`);
          break;
        }
        if (reply.status === 409 && reply.body?.error?.code === 'idempotency_key_in_use') {
          if (waited >= RECOVERY_WAIT_MS) {
            this.recoveryViolations.push({
              invariant: 'no_stuck_idempotency_key',
              detail: `step ${step}: key ${call.idempotencyKey} of ${call.label} still answers 409 idempotency_key_in_use ${waited / 1000} s after its request died`,
            });
            lines.push(`${call.label}: STUCK 409`);
            break;
          }
          // Both clocks move: the gateway keeps time by the injected clock, but give real time too.
          this.stack.clock.advance(RECOVERY_WAIT_STEP_MS);
          waited += RECOVERY_WAIT_STEP_MS;
          await sleep(RECOVERY_REAL_WAIT_STEP_MS);
          continue;
        }
        if (reply.status >= 500) {
          this.recoveryViolations.push({ invariant: 'no_stuck_idempotency_key', detail: `step ${step}: retry of ${call.label} (key ${call.idempotencyKey}) answered ${reply.status}: ${reply.text.slice(0, 300)}` });
        }
        lines.push(`${call.label} → ${summarize(reply)}${waited > 0 ? ` after ${waited / 1000} s` : ''}`);
        break;
      }
    }
    return calls.length === 0 ? 'nothing to retry' : `retried ${calls.length}: ${lines.join(' | ')}`;
  }

  /** Clears the faults, then moves the clock and runs workers and notifier until nothing is open. */
  private async settle(): Promise<string> {
    await fetch(`${this.stack.sandboxUrl}/sandbox/v1/faults`, { method: 'DELETE' });
    const advances = [30_000, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, 60 * MINUTE, 2 * 60 * MINUTE, 4 * 60 * MINUTE, 8 * 60 * MINUTE, 16 * 60 * MINUTE];
    let quiet = 0;
    let rounds = 0;
    let advanced = 0;
    for (let i = 0; rounds < 40; i++, rounds++) {
      const ms = advances[Math.min(i, advances.length - 1)] as number;
      this.stack.clock.advance(ms);
      advanced += ms;
      await withTimeout(this.stack.sandbox.notifier.tick(), HTTP_TIMEOUT_MS, 'a notifier pass while settling');
      await withTimeout(Promise.all(this.stack.workers.map((worker) => worker.runOnce())), HTTP_TIMEOUT_MS * 4, 'a worker pass while settling');
      this.webhookFailing = false;
      await withTimeout(this.stack.running.webhooks.runOnce(), HTTP_TIMEOUT_MS, 'a webhook pass while settling');
      const open = await this.openWork();
      if (open === 0) quiet += 1;
      else quiet = 0;
      // `delay` and `out_of_order` faults hold a send for real milliseconds while settling moves the
      // clock by hours a round: give held sends real time to go out before the next round.
      if (open > 0) await sleep(25);
      if (quiet >= 2) break;
    }
    return `${rounds + 1} round(s), clock +${Math.round(advanced / MINUTE)} min, ${await this.openWork()} open item(s)`;
  }

  private async openWork(): Promise<number> {
    const db = this.stack.database.db;
    const attempts = await db.selectFrom('payment_attempts').select('id').where('status', 'in', ['sending', 'pending', 'canceling']).execute();
    const refunds = await db.selectFrom('refunds').select('id').where('status', '=', 'pending').execute();
    // A response to Alipay+ not yet answered, or a dispute past its deadline the worker has not closed.
    const responses = await db.selectFrom('disputes').select('id').where('response_state', '=', 'sending').execute();
    const overdue = await db.selectFrom('disputes').select('id').where('status', 'in', ['needs_response', 'warning_needs_response']).where('due_by', '<', this.stack.clock.now()).execute();
    const notifications = this.stack.sandbox.context.db.prepare("SELECT count(*) AS n FROM notifications WHERE status = 'pending'").get() as { n: number };
    return attempts.length + refunds.length + responses.length + overdue.length + notifications.n;
  }

  // ---------------------------------------------------------------- merchant calls

  private newKey(): string {
    this.keySeq += 1;
    return `sim-${this.options.seed}-${this.keySeq}`;
  }

  private intentBody(confirm: boolean): Record<string, unknown> {
    const terminal = this.rng.pick(TERMINALS);
    const body: Record<string, unknown> = {
      amount: this.rng.pick([1, 2, 99, 100, 2_000, 12_345, 99_999, 1_000_000]),
      currency: this.rng.pick(CURRENCIES),
      payment_method_types: ['alipay'],
      payment_method_data: { type: 'alipay' },
      payment_method_options: { alipay: { client_ip: '192.168.0.1', terminal_type: terminal, ...(terminal === 'WEB' ? {} : { os_type: this.rng.pick(['IOS', 'ANDROID']) }) } },
      return_url: 'https://shop.example/return',
      // `confirm` in the metadata lets the settled check find a confirm: true create left unconfirmed.
      metadata: { sim: String(this.options.seed), ...(confirm ? { confirm: 'true' } : {}) },
    };
    if (confirm) body.confirm = true;
    return body;
  }

  private refundCall(intent: string, amount: number | null): ApiCall {
    const body: Record<string, unknown> = { payment_intent: intent };
    if (amount !== null) body.amount = amount;
    if (this.rng.chance(0.3)) body.reason = this.rng.pick(['duplicate', 'fraudulent', 'requested_by_customer']);
    return { label: `refund ${intent} ${amount ?? 'rest'}`, method: 'POST', path: '/v1/refunds', body, idempotencyKey: this.newKey() };
  }

  /** A partial amount of what the PaymentIntent received; sometimes more than is left, to be refused. */
  private async partialAmount(intent: string): Promise<number> {
    const row = await this.stack.database.db.selectFrom('payment_intents').select('amount').where('id', '=', intent).executeTakeFirst();
    const total = row?.amount ?? 1;
    return Math.max(1, Math.min(total, this.rng.int(1, Math.max(1, Math.ceil(total / 2)))));
  }

  private async pickIntent(statuses: string[]): Promise<string | null> {
    const rows = await this.stack.database.db.selectFrom('payment_intents').select('id').where('status', 'in', statuses).where('checkout_session', 'is', null).orderBy('id').execute();
    return rows.length === 0 ? null : this.rng.pick(rows).id;
  }

  /**
   * A payment a shopper could be looking at: mostly one of the newest still open at Alipay+ (the
   * shopper just got its code), sometimes any the gateway ever started (a stale code).
   */
  private async pickAttempt(): Promise<{ payment_request_id: string; external_payment_id: string } | null> {
    const open = this.stack.sandbox.context.db
      .prepare("SELECT payment_id, payment_request_id FROM payments WHERE status = 'PROCESSING' ORDER BY created_at DESC, payment_id LIMIT 4")
      .all() as { payment_id: string; payment_request_id: string }[];
    if (open.length > 0 && this.rng.chance(0.85)) {
      const row = this.rng.pick(open);
      return { payment_request_id: row.payment_request_id, external_payment_id: row.payment_id };
    }
    const rows = await this.stack.database.db.selectFrom('payment_attempts').select(['payment_request_id', 'external_payment_id']).where('external_payment_id', 'is not', null).orderBy('payment_request_id').execute();
    if (rows.length === 0) return null;
    const row = this.rng.pick(rows);
    return { payment_request_id: row.payment_request_id, external_payment_id: row.external_payment_id as string };
  }

  private async shopper(outcome: 'success' | 'decline'): Promise<string> {
    const attempt = await this.pickAttempt();
    if (attempt === null) return 'nobody at a cashier';
    // Most who press Pay can pay; bob (too little balance) and carol (risk) are declined by the wallet.
    const shopper = outcome === 'success' && this.rng.chance(0.7) ? this.rng.pick(['alice', 'henry'] as const) : this.rng.pick(SHOPPERS);
    const response = await fetch(`${this.stack.sandboxUrl}/sandbox/v1/wallet/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paymentId: attempt.external_payment_id, outcome, shopper }),
    });
    const body = (await response.json()) as { payment?: { status: string }; error?: { code: string } };
    return `${shopper} presses ${outcome === 'success' ? 'Pay' : 'Decline'} on ${attempt.payment_request_id}: ${response.status} ${body.payment?.status ?? body.error?.code ?? ''}`;
  }

  private async fault(): Promise<string> {
    const notification = this.rng.chance(0.35);
    const disputeCall = notification && this.rng.chance(0.35);
    const target = notification ? (disputeCall ? 'disputeNotification' : 'notifyPayment') : this.rng.pick(API_FAULT_TARGETS);
    const kind = notification ? this.rng.pick(disputeCall ? DISPUTE_NOTIFICATION_FAULT_KINDS : NOTIFICATION_FAULT_KINDS) : this.rng.pick(API_FAULT_KINDS);
    const count = this.rng.int(1, 3);
    const timeoutMs = this.options.clientTimeoutMs ?? 400;
    const delayMs = kind === 'timeout' ? timeoutMs + 200 : kind === 'delay' ? this.rng.int(50, 400) : undefined;
    const response = await fetch(`${this.stack.sandboxUrl}/sandbox/v1/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target, kind, count, ...(delayMs === undefined ? {} : { delayMs }) }),
    });
    if (response.status !== 201) throw new Error(`adding a fault: HTTP ${response.status} ${await response.text()}`);
    this.faults += 1;
    return `${target} ${kind} ×${count}${delayMs === undefined ? '' : ` (${delayMs} ms)`}`;
  }

  // ---------------------------------------------------------------- disputes

  /** The sandbox's control API, as JSON; a 5xx is a defect (the sandbox plays Alipay+ and must answer). */
  private async control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- control API JSON
    const response = await this.stack.networkCall(() => fetch(`${this.stack.sandboxUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    }));
    const text = await response.text();
    if (response.status >= 500) this.recoveryViolations.push({ invariant: 'no_server_error', detail: `sandbox ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}` });
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed };
  }

  /**
   * Alipay+ raises a dispute on a paid payment (the shopper asked their wallet): a retrieval or an
   * escalation of all that is disputable or of some amount (sometimes more than is left, which
   * the sandbox refuses), with a response window that may pass during the run.
   */
  private async disputeOpen(): Promise<string> {
    const rows = await this.stack.database.db.selectFrom('charges').select(['id', 'transaction_id', 'amount_captured', 'amount_refund_reserved', 'amount_dispute_reserved']).where('status', '=', 'succeeded').orderBy('id').execute();
    if (rows.length === 0) return 'no paid charge to dispute';
    // Mostly a charge with something left to dispute; sometimes any (the sandbox must refuse what does not fit).
    const open = rows.filter((row) => row.amount_captured - row.amount_refund_reserved - row.amount_dispute_reserved > 0);
    const charge = this.rng.pick(open.length > 0 && this.rng.chance(0.8) ? open : rows);
    const escalation = this.rng.chance(0.55);
    const body: Record<string, unknown> = {
      type: escalation ? 'escalation' : 'retrieval',
      reasonCode: this.rng.pick(DISPUTE_REASON_CODES),
      dueInDays: this.rng.pick(DISPUTE_DUE_IN_DAYS),
    };
    if (escalation && this.rng.chance(0.4)) body.amount = this.rng.int(1, Math.max(1, charge.amount_captured));
    const opened = await this.control('POST', `/sandbox/v1/payments/${charge.transaction_id}/disputes`, body);
    const what = `${body.type}${body.amount === undefined ? '' : ` ${String(body.amount)}`} of ${charge.id} (due in ${String(body.dueInDays)} d)`;
    if (opened.status !== 201) return `${what}: ${opened.status} ${opened.body?.error?.code ?? ''}`;
    const first = opened.body.deliveries?.[0];
    return `${what}: ${opened.body.disputeId} ${opened.body.state}, delivery ${first?.ackStatus ?? first?.error ?? 'none'} ${first?.ackCode ?? ''}`.trim();
  }

  /** The merchant answers an open dispute: submits evidence, stages it, or accepts (close). */
  private async disputeRespond(): Promise<string> {
    const rows = await this.stack.database.db.selectFrom('disputes').select(['id', 'status']).where('status', 'in', ['needs_response', 'warning_needs_response']).orderBy('id').execute();
    if (rows.length === 0) return 'no dispute awaiting a response';
    const dispute = this.rng.pick(rows);
    const action = this.rng.weighted({ submit: 6, stage: 2, close: 2, metadata: 1 });
    if (action === 'close') return this.send({ label: `close ${dispute.id}`, method: 'POST', path: `/v1/disputes/${dispute.id}/close`, body: {}, idempotencyKey: this.newKey() });
    if (action === 'metadata') return this.send({ label: `tag ${dispute.id}`, method: 'POST', path: `/v1/disputes/${dispute.id}`, body: { metadata: { sim: String(this.options.seed) } }, idempotencyKey: this.newKey() });
    const evidence: Record<string, string> = {};
    for (const field of EVIDENCE_FIELDS) if (this.rng.chance(0.4)) evidence[field] = `${field} of ${dispute.id}`;
    const body = { evidence, submit: action === 'submit' };
    return this.send({ label: `${action} ${dispute.id} (${Object.keys(evidence).length} field(s))`, method: 'POST', path: `/v1/disputes/${dispute.id}`, body, idempotencyKey: this.newKey() });
  }

  /**
   * Alipay+ decides a case (an escalation won or lost, a retrieval closed), or sends an initiate
   * call again with its same disputeRequestId (which must change nothing).
   */
  private async disputeJudge(): Promise<string> {
    const rows = this.stack.sandbox.context.db
      .prepare("SELECT dispute_id, type FROM disputes WHERE state IN ('OPEN', 'RESPONDED') ORDER BY dispute_id")
      .all() as { dispute_id: string; type: 'RETRIEVAL' | 'ESCALATION' }[];
    if (rows.length === 0) return 'no case to judge';
    const dispute = this.rng.pick(rows);
    if (this.rng.chance(0.2)) {
      const resent = await this.control('POST', `/sandbox/v1/disputes/${dispute.dispute_id}/resend`, {});
      const last = resent.body?.deliveries?.at(-1);
      return `resend ${dispute.dispute_id}: ${resent.status} ${last?.ackStatus ?? resent.body?.error?.code ?? ''} ${last?.ackCode ?? ''}`.trim();
    }
    const outcome = dispute.type === 'RETRIEVAL' ? 'closed' : this.rng.pick(['won', 'lost'] as const);
    const judged = await this.control('POST', `/sandbox/v1/disputes/${dispute.dispute_id}/judge`, { outcome });
    const last = judged.body?.deliveries?.at(-1);
    return `judge ${dispute.dispute_id} ${outcome}: ${judged.status} ${judged.body?.state ?? judged.body?.error?.code ?? ''}, delivery ${last?.ackStatus ?? last?.error ?? 'none'}`;
  }

  private async checkoutSession(): Promise<string> {
    const body = {
      mode: 'payment',
      success_url: 'https://shop.example/success?cs={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://shop.example/cancel',
      line_items: [{ price_data: { currency: this.rng.pick(CURRENCIES), unit_amount: this.rng.pick([1, 500, 8_800]), product_data: { name: 'Tea' } }, quantity: this.rng.int(1, 3) }],
    };
    const created = await this.send({ label: 'checkout session', method: 'POST', path: '/v1/checkout/sessions', body, idempotencyKey: this.newKey() });
    const row = await this.stack.database.db.selectFrom('checkout_sessions').select(['id', 'url']).where('status', '=', 'open').orderBy('id', 'desc').executeTakeFirst();
    if (row === undefined || !this.rng.chance(0.8)) return created;
    // The shopper opens the hosted page: that confirms the session's PaymentIntent.
    const page = new URL(row.url);
    try {
      const response = await this.stack.request('GET', `${page.pathname}${page.search}`, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0', 'x-sim-op': this.stack.context.getStore()?.op ?? 'other' }, undefined, HTTP_TIMEOUT_MS);
      return `${created}; page ${row.id} → ${response.status}`;
    } catch (error) {
      return `${created}; page ${row.id} → ${(error as Error).message}`;
    }
  }

  private async webhookEndpoint(): Promise<string> {
    const rows = await this.stack.database.db.selectFrom('webhook_endpoints').select('id').orderBy('id').execute();
    const action = rows.length === 0 ? 'create' : this.rng.pick(['create', 'disable', 'enable', 'delete'] as const);
    if (action === 'create') {
      return this.send({ label: 'webhook endpoint', method: 'POST', path: '/v1/webhook_endpoints', body: { url: this.webhookUrl, enabled_events: ['*'] }, idempotencyKey: this.newKey() });
    }
    const id = this.rng.pick(rows).id;
    if (action === 'delete') return this.send({ label: `delete ${id}`, method: 'DELETE', path: `/v1/webhook_endpoints/${id}` });
    return this.send({ label: `${action} ${id}`, method: 'POST', path: `/v1/webhook_endpoints/${id}`, body: { disabled: action === 'disable' }, idempotencyKey: this.newKey() });
  }

  /**
   * Both workers at once; sometimes the clock jumps mid-pass (a slow pass, as when checks take
   * long in production), which is when a lease that does not cover the whole check shows.
   */
  private async workerPass(): Promise<string> {
    const workers = this.stack.workers;
    const jump = this.rng.chance(0.3) ? this.rng.pick([30_000, 2 * MINUTE + 1_000, 5 * MINUTE]) : 0;
    const first = workers[0]!.runOnce();
    let second: Promise<string[]>;
    if (jump > 0) {
      await sleep(this.rng.int(1, 30));
      this.stack.clock.advance(jump);
      second = Promise.all(workers.slice(1).map((worker) => worker.runOnce())).then((all) => all.flat());
    } else {
      second = Promise.all(workers.slice(1).map((worker) => worker.runOnce())).then((all) => all.flat());
    }
    const [a, b] = await withTimeout(Promise.all([first, second]), HTTP_TIMEOUT_MS * 4, 'a worker pass');
    return `w1 checked ${a.length}, w2 checked ${b.length}${jump > 0 ? ` (clock +${jump / 1000} s mid-pass)` : ''}`;
  }

  private async startWebhookReceiver(): Promise<void> {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(this.webhookFailing ? 500 : 200);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as import('node:net').AddressInfo;
    this.webhookUrl = `http://127.0.0.1:${address.port}/hooks`;
    this.webhookReceiver = server;
  }

  /** Sends a merchant call; one cut by a crash is remembered for the retry after the restart. */
  private async send(call: ApiCall): Promise<string> {
    if (this.stack.down) {
      if (call.idempotencyKey !== undefined) this.interrupted.push(call);
      return `${call.label}: gateway down`;
    }
    const reply = await this.http(call);
    if (!reply.ok) {
      if (call.idempotencyKey !== undefined && this.stack.down) this.interrupted.push(call);
      return `${call.label}: ${reply.error}`;
    }
    if (reply.status >= 500) {
      // A 5xx outside a crash is a defect in its own right; record it as a failed call.
      this.recoveryViolations.push({ invariant: 'no_server_error', detail: `${call.label} answered ${reply.status}: ${reply.text.slice(0, 300)}` });
    }
    return `${call.label} → ${summarize(reply)}`;
  }

  private async http(call: ApiCall): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.stack.secretKey}`, 'x-sim-op': this.stack.context.getStore()?.op ?? 'other' };
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await this.stack.request(call.method, call.path, headers, call.body === undefined ? undefined : JSON.stringify(call.body), HTTP_TIMEOUT_MS);
      const text = response.text;
      let body: unknown = null;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        body = null;
      }
      return { ok: true, status: response.status, body, text };
    } catch (error) {
      const code = (error as { code?: string }).code;
      return { ok: false, error: `connection failed${code ? ` (${code})` : ''}: ${(error as Error).message}` };
    }
  }
}

function summarize(reply: Extract<Reply, { ok: true }>): string {
  const body = reply.body as { id?: string; status?: string; error?: { code?: string; type?: string } } | null;
  if (body?.error) return `${reply.status} ${body.error.code ?? body.error.type ?? ''}`;
  return `${reply.status} ${body?.id ?? ''} ${body?.status ?? ''}`.trim();
}
