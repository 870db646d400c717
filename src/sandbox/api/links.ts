import type { OsType } from '../../alipayplus/index.js';

/**
 * The URLs a pay response sends the shopper to, shaped like the real ones in the seed:
 * WEB gets the cashier page showing the code; WAP/APP get the wallet's H5 page, an app link
 * through the `/p/s/i/` launcher, and the `alipays://` scheme URL.
 */
export const CASHIER_PATH = '/api/open/v1/ac/cashier/self/codevalue/checkout.htm';
export const WALLET_ORDER_PATH = '/wallet/order';
export const APP_LAUNCHER_PATH = '/p/s/i/';
export const ALIPAY_APP_IDENTIFIERS: Record<OsType, string> = { IOS: 'com.alipay.iphoneclient', ANDROID: 'com.eg.android.AlipayGphone' };

export function cashierUrl(base: string, codeValue: string): string {
  return `${base}${CASHIER_PATH}?codeValue=${encodeURIComponent(codeValue)}`;
}

export function walletOrderUrl(base: string, codeValue: string): string {
  return `${base}${WALLET_ORDER_PATH}?codeValue=${encodeURIComponent(codeValue)}`;
}

export function schemeUrl(codeValue: string): string {
  return `alipays://platformapi/startApp?appId=10000007&actionType=route&qrcode=${encodeURIComponent(codeValue)}`;
}

export function walletLinks(base: string, codeValue: string, osType: OsType | undefined) {
  const scheme = schemeUrl(codeValue);
  return {
    normalUrl: walletOrderUrl(base, codeValue),
    applinkUrl: `${base}${APP_LAUNCHER_PATH}?scheme=${encodeURIComponent(scheme)}`,
    schemeUrl: scheme,
    appIdentifier: ALIPAY_APP_IDENTIFIERS[osType ?? 'IOS'],
  };
}

/** Pulls the code value out of anything a shopper may paste: a code, a cashier/wallet/app link, a scheme URL. */
export function codeValueFromLink(input: string): string | null {
  const text = input.trim();
  if (/^[A-Za-z0-9]{8,128}$/.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const direct = url.searchParams.get('codeValue') ?? url.searchParams.get('qrcode');
  if (direct) return direct;
  const scheme = url.searchParams.get('scheme');
  return scheme ? codeValueFromLink(scheme) : null;
}
