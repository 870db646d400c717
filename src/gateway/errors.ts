/**
 * The one error hierarchy of the merchant API. Anything thrown as an ApiError reaches the client
 * as the envelope of api.md §1; anything else is a 500 `api_error` (and is logged).
 */
export type ApiErrorType = 'invalid_request_error' | 'api_error' | 'card_error' | 'idempotency_error';

export interface ApiErrorFields {
  status: number;
  type: ApiErrorType;
  code?: string;
  message: string;
  param?: string;
  declineCode?: string;
  /** The PaymentIntent as the client would retrieve it, for payment failures. */
  paymentIntent?: unknown;
  /** Set when retrying the same request cannot succeed (`Stripe-Should-Retry: false`). */
  shouldRetry?: boolean;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly fields: ApiErrorFields;

  constructor(fields: ApiErrorFields) {
    super(fields.message);
    this.fields = fields;
  }

  get status(): number {
    return this.fields.status;
  }

  /** The `{ error: {...} }` body, with absent fields omitted. */
  toBody(): { error: Record<string, unknown> } {
    const f = this.fields;
    const error: Record<string, unknown> = { type: f.type, message: f.message };
    if (f.code !== undefined) error.code = f.code;
    if (f.param !== undefined) error.param = f.param;
    if (f.declineCode !== undefined) error.decline_code = f.declineCode;
    if (f.paymentIntent !== undefined) error.payment_intent = f.paymentIntent;
    return { error };
  }
}

/** 400 `invalid_request_error` with a Stripe error code. */
export function invalidRequest(code: string, message: string, param?: string): ApiError {
  return new ApiError({ status: 400, type: 'invalid_request_error', code, message, ...(param === undefined ? {} : { param }) });
}

export function parameterMissing(param: string, why = ''): ApiError {
  return invalidRequest('parameter_missing', `Missing required param: ${param}.${why ? ` ${why}` : ''}`, param);
}

export function parameterInvalid(param: string, message: string): ApiError {
  return invalidRequest('parameter_invalid', message, param);
}

/** 404 for a missing object — also for another account's or another mode's object. */
export function resourceMissing(kind: string, id: string, param = 'id'): ApiError {
  return new ApiError({
    status: 404,
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

export function unexpectedState(message: string, paymentIntent?: unknown): ApiError {
  return new ApiError({
    status: 400,
    type: 'invalid_request_error',
    code: 'payment_intent_unexpected_state',
    message,
    ...(paymentIntent === undefined ? {} : { paymentIntent }),
    shouldRetry: false,
  });
}
