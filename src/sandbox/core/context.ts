import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { SignedReceiver } from '../../alipayplus/index.js';
import type { Clock } from '../clock.js';
import type { SandboxDatabase } from '../store/database.js';
import type { DisputeRepository } from '../store/disputes.js';
import type { FaultRepository } from '../store/faults.js';
import type { NotificationRepository } from '../store/notifications.js';
import type { PaymentRepository } from '../store/payments.js';
import type { RefundRepository } from '../store/refunds.js';

/** Everything the sandbox's routes and services share; built once by createSandbox. */
export interface SandboxContext {
  db: SandboxDatabase;
  payments: PaymentRepository;
  refunds: RefundRepository;
  notifications: NotificationRepository;
  faults: FaultRepository;
  disputes: DisputeRepository;
  receiver: SignedReceiver;
  /** The sandbox's (Alipay+'s) private key: signs the notifications it sends. */
  privateKey: KeyObject;
  /** The public key of an acquirer we accept, to verify its signed acknowledgements. */
  clientPublicKey(clientId: string): KeyObject | undefined;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Base URL of the sandbox as shoppers' browsers reach it (cashier and wallet links). */
  publicUrl(): string;
  /** Wakes the notifier after a notification was enqueued, so it need not wait for its next poll. */
  wakeNotifier(): void;
  /**
   * Makes the first send of an outbox row just queued and resolves once it is recorded: a control
   * call that opens or judges a dispute answers after the acquirer has had its first chance to act.
   */
  deliverNow(notificationId: number): Promise<void>;
  /** Resolves once every commit made so far is on disk (store/durability.ts); awaited before anything leaves the process. */
  durable(): Promise<void>;
}
