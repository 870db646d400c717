import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * JSON Schemas of the request bodies the sandbox accepts, with Alipay+'s typing rule: scalars
 * are strings, amounts are natural-number strings. A body that fails its schema is answered
 * `F / PARAM_ILLEGAL` naming the first offending field.
 */
// strictRequired is off because `anyOf: [{ required: [...] }]` names properties declared by the parent schema.
const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, coerceTypes: false });

const naturalNumber = { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' } as const;
export const amountSchema = {
  type: 'object',
  required: ['currency', 'value'],
  properties: { currency: { type: 'string', minLength: 3, maxLength: 3 }, value: naturalNumber },
} as const;
const id64 = { type: 'string', minLength: 1, maxLength: 64 } as const;
const url = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' } as const;
const datetime = { type: 'string', maxLength: 64 } as const;

export const payRequestSchema = {
  type: 'object',
  required: ['paymentRequestId', 'paymentAmount', 'order', 'paymentMethod'],
  properties: {
    paymentRequestId: id64,
    paymentAmount: amountSchema,
    order: {
      type: 'object',
      required: ['referenceOrderId', 'orderDescription', 'orderAmount', 'merchant', 'env'],
      properties: {
        referenceOrderId: id64,
        orderDescription: { type: 'string', minLength: 1, maxLength: 256 },
        orderAmount: amountSchema,
        merchant: {
          type: 'object',
          required: ['referenceMerchantId'],
          properties: {
            referenceMerchantId: id64,
            merchantName: { type: 'string', maxLength: 256 },
            merchantMCC: { type: 'string', maxLength: 32 },
            merchantDisplayName: { type: 'string', maxLength: 256 },
          },
        },
        env: {
          type: 'object',
          required: ['terminalType'],
          properties: {
            terminalType: { enum: ['WEB', 'WAP', 'APP', 'MINI_APP'] },
            osType: { enum: ['IOS', 'ANDROID'] },
            clientIp: { type: 'string', maxLength: 64 },
            userAgent: { type: 'string', maxLength: 1024 },
          },
        },
      },
    },
    paymentFactor: { type: 'object', properties: { isCashierPayment: { enum: ['true', 'false'] } } },
    paymentMethod: { type: 'object', required: ['paymentMethodType'], properties: { paymentMethodType: { type: 'string', maxLength: 64 } } },
    paymentNotifyUrl: url,
    paymentRedirectUrl: url,
    paymentExpiryTime: datetime,
    settlementStrategy: { type: 'object', required: ['settlementCurrency'], properties: { settlementCurrency: { type: 'string' } } },
  },
} as const;

const paymentReference = {
  type: 'object',
  properties: { paymentRequestId: id64, paymentId: id64 },
  anyOf: [{ required: ['paymentRequestId'] }, { required: ['paymentId'] }],
} as const;
export const inquiryPaymentRequestSchema = paymentReference;
export const cancelPaymentRequestSchema = paymentReference;

export const refundRequestSchema = {
  type: 'object',
  required: ['refundRequestId', 'refundAmount'],
  properties: {
    refundRequestId: id64,
    paymentId: id64,
    paymentRequestId: id64,
    refundAmount: amountSchema,
    refundReason: { type: 'string', maxLength: 256 },
  },
  anyOf: [{ required: ['paymentRequestId'] }, { required: ['paymentId'] }],
} as const;

const disputeDocuments = {
  type: 'array',
  maxItems: 50,
  items: {
    type: 'object',
    required: ['documentType', 'documentContent'],
    properties: { documentType: { type: 'string', minLength: 1, maxLength: 64 }, documentContent: { type: 'string', maxLength: 20_000 } },
  },
} as const;

export const responseRetrievalRequestSchema = {
  type: 'object',
  required: ['disputeRequestId', 'paymentRequestId', 'responseCode'],
  properties: {
    disputeRequestId: id64,
    paymentRequestId: id64,
    responseCode: { enum: ['0001', '0002', '0003'] },
    otherDocumentation: disputeDocuments,
  },
} as const;

export const responseEscalationRequestSchema = {
  type: 'object',
  required: ['disputeRequestId', 'paymentRequestId', 'refundType'],
  properties: {
    disputeRequestId: id64,
    paymentRequestId: id64,
    refundType: { enum: ['ACCEPT_REFUND', 'ACCEPT_PARTIAL_REFUND', 'REFUSE_REFUND'] },
    refundAmount: amountSchema,
    defenseDocumentation: disputeDocuments,
  },
} as const;

export type WireValidator = (body: unknown) => string | null;

/** Compiles a schema into a function returning null, or a message naming the offending field. */
export function wireValidator(schema: object): WireValidator {
  const validate: ValidateFunction = ajv.compile(schema);
  return (body) => (validate(body) ? null : describe(validate.errors?.[0]));
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'request body is invalid';
  const at = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'required') {
    const field = at ? `${at}.${String(error.params.missingProperty)}` : String(error.params.missingProperty);
    return `${field} is required`;
  }
  if (error.keyword === 'anyOf') return `${at || 'request'}: paymentRequestId or paymentId is required`;
  const detail = error.keyword === 'pattern' && at.endsWith('value') ? 'must be a natural number in minor units, as a string' : error.message ?? 'is invalid';
  return `${at || 'request body'} ${detail}`;
}
