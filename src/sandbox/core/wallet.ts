import { isResultCode, RESULT_CODES, type ResultCode } from '../../alipayplus/index.js';
import { findShopper, TEST_SHOPPERS, type TestShopper } from '../domain/shoppers.js';
import type { PaymentRow } from '../store/payments.js';
import type { SandboxContext } from './context.js';
import { expireDuePayments, recordShopperDecision } from './outcomes.js';

export type WalletOutcome = 'success' | 'decline';
/** Our choice: a shopper who presses Decline ends the payment as F / PROCESS_FAIL unless told otherwise. */
export const DECLINE_RESULT_CODE_DEFAULT: ResultCode = 'PROCESS_FAIL';

export interface WalletAction {
  paymentId?: string;
  codeValue?: string;
  outcome: WalletOutcome;
  shopperId?: string;
  /** For `decline`: the F result code to end the payment with. */
  resultCode?: string;
}

export type WalletActionResult =
  | { ok: true; payment: PaymentRow; shopper: TestShopper; redirectUrl: string | null }
  | { ok: false; error: 'payment_not_found' | 'shopper_not_found' | 'invalid_result_code' | 'payment_not_in_process'; message: string; payment?: PaymentRow };

/**
 * What the wallet's Pay and Decline buttons do (and the control API's wallet/pay): the chosen
 * test shopper pays — or is declined with their own code (too little balance, risk) — or
 * declines, and the payment's outcome is recorded and notified.
 */
export function actInWallet(ctx: SandboxContext, action: WalletAction): WalletActionResult {
  // Expiries first: a payment whose time has run out is closed (and notified) before the shopper acts on it.
  expireDuePayments(ctx);
  const payment = action.paymentId ? ctx.payments.findByPaymentId(action.paymentId) : action.codeValue ? ctx.payments.findByCodeValue(action.codeValue) : undefined;
  if (!payment) return { ok: false, error: 'payment_not_found', message: 'no payment with that paymentId or codeValue' };
  const shopper = findShopper(action.shopperId);
  if (!shopper) {
    return { ok: false, error: 'shopper_not_found', message: `unknown shopper ${action.shopperId}; one of ${TEST_SHOPPERS.map((s) => s.id).join(', ')}` };
  }
  const declineCode = action.outcome === 'decline' ? action.resultCode ?? DECLINE_RESULT_CODE_DEFAULT : shopper.declineCode;
  if (declineCode !== null && (!isResultCode(declineCode) || RESULT_CODES[declineCode] !== 'F')) {
    return { ok: false, error: 'invalid_result_code', message: `resultCode ${declineCode} is not an F result code of Alipay+` };
  }
  const decision = declineCode === null ? ({ kind: 'paid' } as const) : ({ kind: 'declined', resultCode: declineCode } as const);
  const outcome = recordShopperDecision(ctx, payment, shopper, decision);
  if (!outcome.ok) {
    const current = outcome.payment;
    return { ok: false, error: 'payment_not_in_process', message: `payment is ${current.status}${current.result_code ? ` (${current.result_code})` : ''}, no longer waiting for the shopper`, payment: current };
  }
  return { ok: true, payment: outcome.payment, shopper, redirectUrl: outcome.payment.redirect_url };
}
