import type { AlipayPlusGateway } from '../src/gateway/connector/alipayplus/modes.js';
import type { Clock } from '../src/gateway/index.js';

/** Two workers were inside a network call for the same attempt or refund at the same time. */
export interface OverlapViolation {
  /** The paymentRequestId (an attempt) or refundRequestId (a refund) both were working on. */
  row: string;
  first: { worker: string; call: string; startedAtMs: number };
  second: { worker: string; call: string; startedAtMs: number };
}

/**
 * Observes, without changing, the calls every worker makes to the wallet network, to prove the
 * leases: a call for a row while another worker is inside a call for the same row is an overlap.
 * Rows are named by the request ids the gateway derives from its own ids (an attempt's
 * paymentRequestId, a refund's refundRequestId), the same on every retry, or by Alipay+'s
 * disputeRequestId for a dispute response.
 *
 * The simulated clock can jump while a call is in flight, which real time never does that fast;
 * so an overlap counts only when the first call started less than `leaseMs` ago on the clock: a
 * worker must hold its row for a lease from the start of each call it makes (a lease taken when
 * the check starts and renewed while it runs does). Overlaps after that are counted apart.
 */
export class WorkerCallObserver {
  readonly overlaps: OverlapViolation[] = [];
  private readonly inFlight = new Map<string, { worker: string; call: string; startedAtMs: number }[]>();
  calls = 0;
  /** Overlaps where the first call had outlived a lease on the simulated clock (not a defect). */
  overlapsPastLease = 0;

  constructor(private readonly clock: Clock, private readonly leaseMs: number) {}

  /**
   * A view of `real` for one worker: the same object behind an ES Proxy whose connector methods
   * record when a call for a row starts and ends. Everything else passes through untouched.
   */
  wrap(real: AlipayPlusGateway, worker: string): AlipayPlusGateway {
    const observed: Record<string, (...args: unknown[]) => unknown> = {
      confirm: (request) => this.track(worker, 'confirm', rowOfPayment(request), () => real.confirm(request as Parameters<AlipayPlusGateway['confirm']>[0])),
      cancel: (request) => this.track(worker, 'cancel', rowOfPayment(request), () => real.cancel(request as Parameters<AlipayPlusGateway['cancel']>[0])),
      reverse: (request) => this.track(worker, 'reverse', rowOfPayment(request), () => real.reverse(request as Parameters<AlipayPlusGateway['reverse']>[0])),
      refund: (request) => this.track(worker, 'refund', (request as { refundRequestId: string }).refundRequestId, () => real.refund(request as Parameters<AlipayPlusGateway['refund']>[0])),
      inquire: (livemode, expected) => this.track(worker, 'inquire', rowOfPayment(expected), () => real.inquire(livemode as boolean, expected as Parameters<AlipayPlusGateway['inquire']>[1])),
      // A dispute response the worker re-sends (the stored body, the same disputeRequestId each time).
      sendDisputeResponse: (livemode, response) =>
        this.track(worker, 'sendDisputeResponse', rowOfDisputeResponse(response), () => real.sendDisputeResponse(livemode as boolean, response as Parameters<AlipayPlusGateway['sendDisputeResponse']>[1])),
    };
    return new Proxy(real, {
      get(target, property, receiver) {
        if (typeof property === 'string' && property in observed) return observed[property];
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private async track<T>(worker: string, call: string, row: string, run: () => Promise<T>): Promise<T> {
    this.calls += 1;
    const entry = { worker, call, startedAtMs: this.clock.now() };
    const current = this.inFlight.get(row) ?? [];
    for (const other of current) {
      if (other.worker === worker) continue;
      if (entry.startedAtMs - other.startedAtMs < this.leaseMs) this.overlaps.push({ row, first: other, second: entry });
      else this.overlapsPastLease += 1;
    }
    current.push(entry);
    this.inFlight.set(row, current);
    try {
      return await run();
    } finally {
      const left = (this.inFlight.get(row) ?? []).filter((item) => item !== entry);
      if (left.length === 0) this.inFlight.delete(row);
      else this.inFlight.set(row, left);
    }
  }

  /** A crash: calls of the dead process may still be running at the network; they no longer count. */
  forgetWorkers(prefix: string): void {
    for (const [row, entries] of this.inFlight) {
      const left = entries.filter((entry) => !entry.worker.startsWith(prefix));
      if (left.length === 0) this.inFlight.delete(row);
      else this.inFlight.set(row, left);
    }
  }
}

function rowOfPayment(request: unknown): string {
  return (request as { paymentRequestId: string }).paymentRequestId;
}

function rowOfDisputeResponse(response: unknown): string {
  try {
    return (JSON.parse((response as { body: string }).body) as { disputeRequestId: string }).disputeRequestId;
  } catch {
    return 'dispute response';
  }
}
