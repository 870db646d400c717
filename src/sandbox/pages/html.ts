import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { PAGE_STYLESHEET } from './styles.js';

/**
 * HTML building blocks of the sandbox's pages. Merchant names, order descriptions and anything
 * from a request are untrusted, so interpolation escapes by default: only `SafeHtml` (markup we
 * built ourselves) is inserted as is.
 */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in element content and in quoted attribute values. */
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

/** Template tag: the literal parts are markup, every interpolated value is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

export interface Page {
  title: string;
  body: SafeHtml;
  /** Inline script, trusted code only; it runs under the page's CSP nonce. */
  script?: string;
}

/** The common document: viewport for phones, the stylesheet, a header with the sandbox's name. */
export function layout(page: Page, nonce: string): string {
  const script = page.script ? html`<script nonce="${nonce}">${new SafeHtml(page.script)}</script>` : '';
  return html`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · 支付宝沙箱 Alipay+ sandbox</title>
<style>${new SafeHtml(PAGE_STYLESHEET)}</style>
</head>
<body>
<header class="topbar"><span class="logo">支</span><span>支付宝 Alipay <small>沙箱 Sandbox</small></span></header>
<main class="container">${page.body}</main>
${script}
</body>
</html>
`.markup;
}

/**
 * Sends a page. The CSP only lets our own nonce-tagged script run, so even markup that slipped
 * past escaping could not execute; redirects after a form post are not restricted (form-action
 * is left out) because Pay ends on the merchant's site.
 */
export function sendPage(reply: FastifyReply, statusCode: number, page: Page): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'`;
  return reply
    .code(statusCode)
    .headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': csp })
    .send(layout(page, nonce));
}

/** The merchant's redirect URL, only if it is http(s): a `javascript:` URL must never become a link. */
export function safeHttpUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const protocol = new URL(url).protocol;
    return protocol === 'http:' || protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** One value of a query string parameter (the first, if repeated); undefined when absent or empty. */
export function queryParam(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/** A page that only says what went wrong (unknown order, bad input), with a way on. */
export function messagePage(title: string, message: string, next: SafeHtml = html`<a class="link" href="/wallet">打开沙箱钱包 Open the sandbox wallet</a>`): Page {
  return { title, body: html`<section class="card state state-failed"><h2>${title}</h2><p>${message}</p><p>${next}</p></section>` };
}
