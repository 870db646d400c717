import { createHmac } from 'node:crypto';

/**
 * Webhook signatures (api.md §5), the scheme Stripe's `constructEvent` verifies:
 * `v1 = hex(HMAC-SHA256(key = the whole "whsec_…" string, "<t>.<exact body bytes>"))`, sent as
 * `t=<unix seconds>,v1=<hex>` in both Wooshpay-Signature and Stripe-Signature. `t` is the time of
 * the attempt, not of the event, so a retry days later still passes a 5-minute tolerance.
 *
 * Test vector: secret "whsec_test_vector_secret", t 1700000000, body `{"id":"evt_1"}` →
 * v1 = badac81e2c6f6428bad5ac0b02c605d3b7d54bf37b9377c4a358c1119ffccb5c
 */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
}

export function signatureHeader(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${webhookSignature(secret, timestampSeconds, body)}`;
}
