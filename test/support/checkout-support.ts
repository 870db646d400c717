import { api, type ApiResponse, type TestGateway } from './gateway-server.js';

/** The seed's "跳转收银台" request, with the English keys of api.md §6 (values exactly as the seed's). */
export function seedSessionRequest(): Record<string, unknown> {
  return {
    cancel_url: 'www.baidu.com',
    mode: 'payment',
    success_url: 'https://wooshpay.com/',
    payment_method_types: ['alipay'],
    line_items: [
      {
        price_data: {
          currency: 'CNY',
          unit_amount: 100000,
          active: true,
          product_data: { name: 'taiwan fengli' },
          billing_scheme: 'testscheme',
          lookup_key: 'test_lookup_key',
        },
        quantity: 1,
      },
    ],
  };
}

/** One inline line item of `unitAmount` in `currency`. */
export function inlineItem(name: string, unitAmount: number, quantity = 1, currency = 'CNY'): Record<string, unknown> {
  return { price_data: { currency, unit_amount: unitAmount, product_data: { name } }, quantity };
}

export function createSession(gateway: TestGateway, body: Record<string, unknown>, key = gateway.secretKey): Promise<ApiResponse> {
  return api(gateway, 'POST', '/v1/checkout/sessions', { key, json: body });
}

/** A Checkout Session as the merchant's secret key retrieves it. */
export async function retrieveSession(gateway: TestGateway, id: string): Promise<ApiResponse['body']> {
  return (await api(gateway, 'GET', `/v1/checkout/sessions/${id}`, { key: gateway.secretKey })).body;
}

/** The hosted page's path and query from a session's `url` (its host is ZHIFU_PUBLIC_URL). */
export function pagePathOf(sessionUrl: string): string {
  const url = new URL(sessionUrl);
  return url.pathname + url.search;
}

export const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Browser context options of the two devices the hosted page tells apart (a laptop, an iPhone). */
export const DESKTOP_DEVICE = { viewport: { width: 1280, height: 900 } };
export const IPHONE_DEVICE = { viewport: { width: 390, height: 844 }, userAgent: IPHONE_UA, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const ANDROID_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';
export const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

/** GETs the hosted page as a browser with this User-Agent would. */
export async function openPage(gateway: Pick<TestGateway, 'url'>, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers; location: string | null }> {
  const response = await fetch(gateway.url + path, { headers: { 'user-agent': DESKTOP_UA, ...headers }, redirect: 'manual' });
  return { status: response.status, text: await response.text(), headers: response.headers, location: response.headers.get('location') };
}
