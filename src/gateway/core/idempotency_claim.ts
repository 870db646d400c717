/* Apart from idempotency.ts so that context.ts (which every service imports) does not import it back. */

/**
 * One request's use of an Idempotency-Key. The key is claimed by the request's first
 * transaction (so a request refused before it changes anything leaves no trace, and the hot path
 * pays no extra commit) and its response is stored by the transaction that produces it.
 */
export interface IdempotencyClaim {
  key: string;
  method: string;
  path: string;
  paramsHash: string;
  /** `req_…` of the claiming request. */
  requestId: string;
  /** The gateway process running it (host, pid, random): named in the claim with its lease. */
  owner: string;
  /** Set when a transaction stored the response; trusted only for responses sent after a commit. */
  storedInTransaction: boolean;
}
