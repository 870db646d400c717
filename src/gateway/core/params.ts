import type { OsType, TerminalType } from '../connector/types.js';

/**
 * Parameters of the PaymentIntent endpoints after HTTP validation, under their wire names
 * (no renaming layer). `undefined` = not given; `null` = given empty, i.e. unset the field.
 */
export type MetadataUpdate = Record<string, string | null>;

export interface Address {
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  state?: string | null;
  postal_code?: string | null;
  country?: string | null;
}

export interface Shipping {
  name: string;
  phone?: string | null;
  address: Address;
  carrier?: string | null;
  tracking_number?: string | null;
}

export interface BillingDetails {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  address?: Address | null;
}

export interface PaymentMethodData {
  type: 'alipay';
  billing_details?: BillingDetails | null;
  metadata?: MetadataUpdate | null;
}

export interface AlipayOptions {
  client_ip?: string | null;
  terminal_type?: TerminalType | null;
  os_type?: OsType | null;
}

export interface PaymentMethodOptions {
  alipay?: AlipayOptions | null;
}

/** Fields that create, update and confirm share. */
export interface PaymentFields {
  payment_method?: string | null;
  payment_method_data?: PaymentMethodData | null;
  payment_method_options?: PaymentMethodOptions | null;
  return_url?: string | null;
  shipping?: Shipping | null;
  receipt_email?: string | null;
}

export interface MerchantFields extends PaymentFields {
  description?: string | null;
  metadata?: MetadataUpdate | null;
  merchant_order_id?: string | null;
  merchant_user_id?: string | null;
  statement_descriptor?: string | null;
  customer?: string | null;
  payment_method_types?: 'alipay'[] | null;
}

export interface CreatePaymentIntentParams extends MerchantFields {
  /** Smallest currency unit, 1 … 2^53−1. */
  amount: number;
  /** Upper-cased, one of the processing currencies. */
  currency: string;
  confirm?: boolean | null;
  capture_method?: 'automatic' | null;
  confirmation_method?: 'automatic' | null;
}

export interface UpdatePaymentIntentParams extends MerchantFields {
  amount?: number;
  currency?: string;
}

export interface ConfirmPaymentIntentParams extends PaymentFields {
  /** Required with a publishable key. */
  client_secret?: string | null;
}

/** Stripe's cancellation reasons a client may give. */
export const CANCELLATION_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
/** One of Stripe's reasons, or WooshPay's free text (`"customer cancelled"`), kept as given. */
export type CancellationReason = (typeof CANCELLATION_REASONS)[number] | (string & {});

export interface CancelPaymentIntentParams {
  cancellation_reason?: CancellationReason | null;
}
