import type { Executor } from './schema.js';

/** Every memo, so that a work's end can clear what each of them holds for its transaction. */
const memos = new Set<WeakMap<Executor, unknown>>();

/**
 * What a transaction remembers while it runs (core/events.ts: the webhook endpoints it read), kept
 * by its transaction object. A SQLite batch (transaction_batch.ts) runs several works on one
 * transaction object, one after another, so it ends each work with `forgetWork`: nothing a work
 * remembered reaches the next, which reads afresh what the works before it may have changed.
 * Create memos once, at module level: each lives as long as the process.
 */
export class TransactionMemo<T> {
  readonly #values = new WeakMap<Executor, T>();

  constructor() {
    memos.add(this.#values);
  }

  get(tx: Executor): T | undefined {
    return this.#values.get(tx);
  }

  set(tx: Executor, value: T): void {
    this.#values.set(tx, value);
  }
}

/** Clears what every memo holds for `tx`: its work is over. */
export function forgetWork(tx: Executor): void {
  for (const values of memos) values.delete(tx);
}
