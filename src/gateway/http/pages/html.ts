import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { PAGE_STYLESHEET } from './styles.js';

/**
 * HTML building blocks of the gateway's hosted pages (the same approach as the sandbox's pages,
 * which the gateway must not import). Product names, merchant names and URLs are untrusted, so
 * interpolation escapes by default: only `SafeHtml` (markup we built) is inserted as is.
 */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string);
}

export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value as string | number);
}

/** Template tag: literal parts are markup, every interpolated value is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

export interface Page {
  title: string;
  lang: 'zh' | 'en';
  /** The language switch, or null on pages that have none. */
  header: SafeHtml;
  body: SafeHtml;
  /** Inline script, trusted code only; it runs under the page's CSP nonce. */
  script?: string;
}

export function layout(page: Page, nonce: string): string {
  const script = page.script ? html`<script nonce="${nonce}">${new SafeHtml(page.script)}</script>` : '';
  return html`<!doctype html>
<html lang="${page.lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${page.title}</title>
<style>${new SafeHtml(PAGE_STYLESHEET)}</style>
</head>
<body>
<header class="topbar"><span class="logo">支</span><span class="brand">${page.lang === 'zh' ? '支付宝付款' : 'Pay with Alipay'} <small>支付宝 Alipay</small></span>${page.header}</header>
<main class="container">${page.body}</main>
${script}
</body>
</html>
`.markup;
}

/**
 * Sends server-rendered HTML with the headers every gateway page carries: never cached, never
 * sniffed, never framed, and only what its own Content-Security-Policy allows.
 */
export function sendHtml(reply: FastifyReply, statusCode: number, markup: string, policy: { csp: string; referrer: 'no-referrer' | 'same-origin' }): FastifyReply {
  return reply
    .code(statusCode)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': policy.referrer,
      'content-security-policy': policy.csp,
    })
    .send(markup);
}

/**
 * Sends a page. The CSP only lets our nonce-tagged script run, so markup that slipped past
 * escaping still could not execute; `no-referrer` keeps the key in the URL from leaking to the
 * merchant's and the wallet's sites.
 */
export function sendPage(reply: FastifyReply, statusCode: number, page: Page): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`;
  return sendHtml(reply, statusCode, layout(page, nonce), { csp, referrer: 'no-referrer' });
}

/** One value of a query string parameter (the first, if repeated); undefined when absent or empty. */
export function queryParam(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}
