import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { API_FAULT_KINDS, FAULT_TARGETS, NOTIFICATION_FAULT_KINDS } from '../store/faults.js';

/**
 * Request bodies of the control API. Every field is checked and unknown fields are refused, so a
 * typo in a test script fails loudly instead of being ignored.
 */
const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false });

export const FAULT_COUNT_MAX = 1000;
export const FAULT_DELAY_MS_MAX = 120_000;

export const walletPaySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['outcome'],
  properties: {
    codeValue: { type: 'string', minLength: 1, maxLength: 128 },
    paymentId: { type: 'string', minLength: 1, maxLength: 64 },
    outcome: { enum: ['success', 'decline'] },
    shopper: { type: 'string', minLength: 1, maxLength: 64 },
    resultCode: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

export const faultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['target', 'kind'],
  properties: {
    target: { enum: [...FAULT_TARGETS] },
    kind: { enum: [...API_FAULT_KINDS, ...NOTIFICATION_FAULT_KINDS] },
    count: { type: 'integer', minimum: 1, maximum: FAULT_COUNT_MAX },
    delayMs: { type: 'integer', minimum: 0, maximum: FAULT_DELAY_MS_MAX },
  },
} as const;

export const DUE_IN_DAYS_MAX = 365;

export const openDisputeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: ['retrieval', 'escalation'] },
    amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    reasonCode: { type: 'string', pattern: '^[A-Z0-9_]{1,64}$' },
    reasonMessage: { type: 'string', minLength: 1, maxLength: 256 },
    dueInDays: { type: 'number', minimum: -DUE_IN_DAYS_MAX, maximum: DUE_IN_DAYS_MAX },
    disputeRequestId: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

export const judgeDisputeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['outcome'],
  properties: { outcome: { enum: ['won', 'lost', 'closed'] } },
} as const;

export const resendDisputeSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { paymentRequestId: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export interface FieldError {
  message: string;
  param?: string;
}

export type BodyValidator = (body: unknown) => FieldError | null;

export function bodyValidator(schema: object): BodyValidator {
  const validate: ValidateFunction = ajv.compile(schema);
  return (body) => (validate(body) ? null : describe(validate.errors?.[0]));
}

function describe(error: ErrorObject | undefined): FieldError {
  if (!error) return { message: 'request body is invalid' };
  const at = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  switch (error.keyword) {
    case 'required':
      return { param: String(error.params.missingProperty), message: `${String(error.params.missingProperty)} is required` };
    case 'additionalProperties':
      return { param: String(error.params.additionalProperty), message: `unknown field ${String(error.params.additionalProperty)}` };
    case 'enum':
      return { param: at, message: `${at} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}` };
    default:
      return at ? { param: at, message: `${at} ${error.message ?? 'is invalid'}` } : { message: `request body ${error.message ?? 'is invalid'}` };
  }
}
