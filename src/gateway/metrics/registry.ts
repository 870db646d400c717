import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/*
 * The gateway's Prometheus instruments, one set per gateway instance (tests run many gateways in
 * one process, so nothing goes to prom-client's global registry). This module imports nothing of
 * the gateway: every layer may count into it (checked by `npm run lint`). Only counters and
 * histograms live here — they cost a few map lookups on the hot path; whatever needs the database
 * is a gauge computed when Prometheus scrapes (gauges.ts).
 */

export const METRIC_PREFIX = 'zhifu_';

/** Seconds; from a fast local call to a slow network one (Alipay+ times out at 10 s). */
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type PaymentOutcome = 'succeeded' | 'failed' | 'canceled';
export type WebhookDeliveryOutcome = 'delivered' | 'retrying' | 'failed';

/** One send to Alipay+ as the connector saw it. */
export interface AlipayPlusCall {
  /** The API: pay, inquiryPayment, cancelPayment, refund, responseRetrieval, responseEscalation. */
  api: string;
  livemode: boolean;
  /** `S`, `F`, `U`, or `transport` when no usable answer came. */
  resultStatus: 'S' | 'F' | 'U' | 'transport';
  /** The result code (SUCCESS, PAYMENT_IN_PROCESS, …) or TIMEOUT / CONNECTION_FAILED / HTTP_STATUS / INVALID_RESPONSE. */
  resultCode: string;
  seconds: number;
}

/** Result codes are an enum of the protocol; anything else is folded so a peer cannot grow the label set. */
const RESULT_CODE = /^[A-Z0-9_]{1,64}$/;
const modeLabel = (livemode: boolean) => (livemode ? 'live' : 'test');

/**
 * Process CPU, memory, event-loop lag, GC (prom-client's standard set) describe the process, not a
 * gateway, and each collectDefaultMetrics call enables monitors that are never disabled: they are
 * collected once per process and merged into every gateway's exposition.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX });
  }
  return processRegistry;
}

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: `${METRIC_PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'Time from receiving an HTTP request to answering it, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });

  readonly payments = new Counter({
    name: `${METRIC_PREFIX}payments_total`,
    help: 'Payment attempts that reached a final outcome: succeeded, failed (declined, expired, refused) or canceled.',
    labelNames: ['outcome', 'mode'] as const,
    registers: [this.registry],
  });

  readonly alipayPlusCalls = new Counter({
    name: `${METRIC_PREFIX}alipayplus_calls_total`,
    help: 'Requests sent to Alipay+ (each re-send counts), by API, result status (S/F/U/transport) and result code.',
    labelNames: ['api', 'mode', 'result_status', 'result_code'] as const,
    registers: [this.registry],
  });

  readonly alipayPlusDuration = new Histogram({
    name: `${METRIC_PREFIX}alipayplus_call_duration_seconds`,
    help: 'Time of one request to Alipay+ (signing, network, verification), by API.',
    labelNames: ['api', 'mode'] as const,
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: `${METRIC_PREFIX}webhook_delivery_attempts_total`,
    help: 'Webhook delivery attempts, by outcome: delivered (2xx), retrying (failed, another attempt is scheduled) or failed (the last attempt failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookDuration = new Histogram({
    name: `${METRIC_PREFIX}webhook_delivery_duration_seconds`,
    help: "Time of one webhook delivery attempt, until the receiver's answer or the timeout.",
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });

  readonly requiresAttention = new Counter({
    name: `${METRIC_PREFIX}requires_attention_total`,
    help: 'Payment attempts and refunds this process moved to requires_attention since it started, by object (the open list is zhifu_requires_attention_items).',
    labelNames: ['object'] as const,
    registers: [this.registry],
  });

  readonly workerPasses = new Counter({
    name: `${METRIC_PREFIX}worker_passes_total`,
    help: 'Passes of the background workers, by worker (attempts: the payment attempt worker; webhooks: the webhook delivery worker).',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });

  readonly #withProcessMetrics: boolean;

  constructor(options: { processMetrics?: boolean } = {}) {
    this.#withProcessMetrics = options.processMetrics !== false;
    if (this.#withProcessMetrics) processMetrics();
  }

  /** The onResponse hook: `route` is the route pattern (never the URL, which carries ids). */
  httpAnswered(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status_code: statusCode });
    this.httpDuration.observe({ method, route }, seconds);
  }

  paymentOutcome(outcome: PaymentOutcome, livemode: boolean): void {
    this.payments.inc({ outcome, mode: modeLabel(livemode) });
  }

  alipayPlusCall(call: AlipayPlusCall): void {
    const mode = modeLabel(call.livemode);
    const code = RESULT_CODE.test(call.resultCode) ? call.resultCode : 'OTHER';
    this.alipayPlusCalls.inc({ api: call.api, mode, result_status: call.resultStatus, result_code: code });
    this.alipayPlusDuration.observe({ api: call.api, mode }, call.seconds);
  }

  webhookAttempt(outcome: WebhookDeliveryOutcome, seconds: number): void {
    this.webhookDeliveries.inc({ outcome });
    this.webhookDuration.observe(seconds);
  }

  attention(object: 'payment_attempt' | 'refund'): void {
    this.requiresAttention.inc({ object });
  }

  /** How many rows of `object` this process moved to requires_attention (the counter's current value). */
  async attentionCount(object: 'payment_attempt' | 'refund'): Promise<number> {
    const { values } = await this.requiresAttention.get();
    return values.find((value) => value.labels.object === object)?.value ?? 0;
  }

  workerPass(worker: 'attempts' | 'webhooks'): void {
    this.workerPasses.inc({ worker });
  }

  /** The Prometheus text exposition of everything registered (scrape-time gauges run their queries now). */
  exposition(): Promise<string> {
    return this.#withProcessMetrics ? Registry.merge([this.registry, processMetrics()]).metrics() : this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
