import type { Result, ResultStatus } from './wire.js';

/**
 * Result codes of Alipay+ (docs/alipayplus.md §8) with the status each one travels with.
 * `REFUND_AMOUNT_EXCEED` and `REFUND_WINDOW_EXCEED` are Zhifu's choice of names, as are the
 * dispute codes `DISPUTE_AMOUNT_EXCEED` (an escalation over the disputable amount) and
 * `RESPONSE_WINDOW_EXCEED` (a dispute response after its `responseDeadline`).
 */
export const RESULT_CODES = {
  SUCCESS: 'S',
  PAYMENT_IN_PROCESS: 'U',
  UNKNOWN_EXCEPTION: 'U',
  REQUEST_TRAFFIC_EXCEED_LIMIT: 'U',
  PARAM_ILLEGAL: 'F',
  PROCESS_FAIL: 'F',
  INVALID_SIGNATURE: 'F',
  INVALID_CLIENT: 'F',
  KEY_NOT_FOUND: 'F',
  ACCESS_DENIED: 'F',
  REPEAT_REQ_INCONSISTENT: 'F',
  ORDER_NOT_EXIST: 'F',
  ORDER_IS_CLOSED: 'F',
  CURRENCY_NOT_SUPPORT: 'F',
  USER_BALANCE_NOT_ENOUGH: 'F',
  USER_AMOUNT_EXCEED_LIMIT: 'F',
  PAYMENT_AMOUNT_EXCEED_LIMIT: 'F',
  USER_NOT_EXIST: 'F',
  USER_STATUS_ABNORMAL: 'F',
  RISK_REJECT: 'F',
  BUSINESS_NOT_SUPPORT: 'F',
  MERCHANT_NOT_REGISTERED: 'F',
  CANCEL_WINDOW_EXCEED: 'F',
  REFUND_AMOUNT_EXCEED: 'F',
  REFUND_WINDOW_EXCEED: 'F',
  DISPUTE_AMOUNT_EXCEED: 'F',
  RESPONSE_WINDOW_EXCEED: 'F',
} as const satisfies Record<string, ResultStatus>;

export type ResultCode = keyof typeof RESULT_CODES;

/** Result codes that mean the shopper or the wallet declined the payment. */
export const DECLINE_CODES: readonly ResultCode[] = [
  'USER_BALANCE_NOT_ENOUGH',
  'USER_AMOUNT_EXCEED_LIMIT',
  'PAYMENT_AMOUNT_EXCEED_LIMIT',
  'USER_NOT_EXIST',
  'USER_STATUS_ABNORMAL',
  'RISK_REJECT',
  'BUSINESS_NOT_SUPPORT',
];

export function isResultCode(code: string): code is ResultCode {
  return Object.prototype.hasOwnProperty.call(RESULT_CODES, code);
}

/** Builds a `Result` whose status is the one the protocol assigns to `code`. */
export function result(code: ResultCode, message?: string): Result {
  return { resultCode: code, resultStatus: RESULT_CODES[code], resultMessage: message ?? defaultMessage(code) };
}

function defaultMessage(code: ResultCode): string {
  return code === 'SUCCESS' ? 'success' : code.toLowerCase().replace(/_/g, ' ');
}

/** Reads a result status off the wire; anything we do not know is `unrecognized`, never a crash. */
export function readResultStatus(value: unknown): ResultStatus | 'unrecognized' {
  return value === 'S' || value === 'F' || value === 'U' ? value : 'unrecognized';
}
